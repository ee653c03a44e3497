using System.Globalization;
using ScottPlot;

namespace TinyOdl.Cli;

/// <summary>
/// The profile as a PNG bar chart (ScottPlot): one bar per layer, its height the layer's cycles per training step,
/// stacked by pass (forward, loss, weight gradient, input gradient, backward, optimizer), with each layer's MAC/clk
/// and share of the board's peak written above its bar.
/// </summary>
internal static class ProfileChart
{
    private static readonly string[] PassOrder = ["forward", "loss", "weight gradient", "input gradient", "backward", "optimizer", "other"];

    public static void Write(ProfileReport report, string path)
    {
        var plot = new Plot();
        var layers = report.Rows.Select(r => r.Layer).Distinct().ToArray();
        var passes = PassOrder.Where(p => report.Rows.Any(r => r.Pass == p)).ToArray();
        var palette = new ScottPlot.Palettes.Category10();
        var bars = new List<Bar>();
        double highest = 0;
        for (int i = 0; i < layers.Length; i++)
        {
            var rows = report.Rows.Where(r => r.Layer == layers[i]).ToArray();
            double top = 0;
            foreach (var pass in passes)
            {
                double cycles = rows.Where(r => r.Pass == pass).Sum(r => r.Cycles);
                if (cycles <= 0) continue;
                bars.Add(new Bar { Position = i, ValueBase = top, Value = top + cycles, FillColor = palette.GetColor(Array.IndexOf(PassOrder, pass)), Size = 0.7 });
                top += cycles;
            }
            long macs = rows.Sum(r => r.Macs);
            if (macs > 0)
            {
                double peak = rows.Where(r => r.Macs > 0).Max(r => r.PeakMacsPerCycle);
                double macsPerCycle = macs / top;
                var label = plot.Add.Text(string.Create(CultureInfo.InvariantCulture, $"{macsPerCycle:F3} MAC/clk\n{macsPerCycle / peak:P1} of peak"), i, top);
                label.LabelFontSize = 11;
                label.LabelAlignment = Alignment.LowerCenter;
            }
            highest = Math.Max(highest, top);
        }
        plot.Add.Bars(bars);
        foreach (var pass in passes)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = pass, FillColor = palette.GetColor(Array.IndexOf(PassOrder, pass)) });
        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperRight;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, layers.Length).Select(i => (double)i).ToArray(), layers);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 12;
        plot.Axes.SetLimitsY(0, Math.Max(1, highest) * 1.2);
        plot.YLabel("cycles per training step");
        var step = report.TrainingStep;
        plot.Title(string.Create(CultureInfo.InvariantCulture,
            $"{report.Model} ({report.Precision}) on {report.Board}{(report.Vlen > 0 ? $" VLEN {report.Vlen}" : "")}: cycles per layer, stacked by pass\n" +
            $"training step {step.Cycles:N0} cycles = {ProfileReport.Duration(step.Seconds)} at {step.ClockHz / 1e6:G} MHz, {step.MacsPerCycle:F3} MAC/clk ({step.PeakShare:P1} of peak)"));
        plot.Axes.Title.Label.FontSize = 15;
        int width = Math.Max(900, 9 * layers.Sum(l => Math.Max(10, l.Length + 2)) + 200);
        plot.SavePng(path, width, 560);
    }
}
