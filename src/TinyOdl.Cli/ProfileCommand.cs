using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TinyOdl.Codegen;
using TinyOdl.Data;
using TinyOdl.Evaluation;
using TinyOdl.Graph;
using TinyOdl.Targets;

namespace TinyOdl.Cli;

/// <summary>
/// `tinyodl profile model.json`: instructions per layer and pass, measured on the device (QEMU, -icount shift=0)
/// with region counters around every kernel call of the training step, next to the MACs computed from shapes.
/// </summary>
internal static class ProfileCommand
{
    public static Command Create()
    {
        var model = CommonOptions.ModelArgument();
        var board = CommonOptions.BoardOption();
        var backend = CommonOptions.BackendOption();
        var precision = CommonOptions.PrecisionOption();
        var vlen = CommonOptions.VlenOption();
        var update = CommonOptions.UpdateOption();
        var im2col = CommonOptions.Im2colBudgetOption();
        var steps = new Option<int>("--steps", "-n") { Description = "Training steps to average over", DefaultValueFactory = _ => 2 };
        var csv = new Option<string?>("--csv") { Description = "Also write the table as CSV to this file" };
        var cmd = new Command("profile", "Instructions per layer and pass of one training step, measured under QEMU")
        {
            model, board, backend, precision, vlen, update, im2col, steps, csv,
        };
        cmd.SetAction(r => Run(r.GetValue(model)!, r.GetValue(board)!, r.GetValue(vlen), CommonOptions.ParseBackend(r.GetValue(backend)!),
            r.GetValue(precision), r.GetValue(steps), r.GetValue(csv), r.GetValue(update), r.GetValue(im2col)));
        return cmd;
    }

    private sealed record Row(string Region, string Kernel, long Macs, double Instructions);

    private static int Run(string modelPath, string boardName, int? vlen, Backend backend, string? precision, int steps, string? csvPath, string? update, int im2colBudget)
    {
        var (doc, board, compiled, plan, expected) = CommonOptions.PrepareVerify(modelPath, boardName, vlen, precision, steps, update, im2colBudget);
        var dir = Path.Combine(Path.GetTempPath(), $"tinyodl-profile-{Environment.ProcessId}");
        DeviceRun run;
        try
        {
            ProjectWriter.Write(dir, compiled, board, backend, plan, expected, profile: true);
            run = QemuRunner.BuildAndRun(dir, BuildCombo.Default(backend));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
        if (!run.Succeeded) throw new TinyOdlException($"{modelPath}: the profiling run failed with exit status {run.ExitCode}");
        var mismatches = Protocol.Compare(expected, run.Lines);

        var calls = compiled.Program.TrainStep.Calls;
        var regions = run.Lines.Where(l => l.Keyword == "region").ToArray();
        var rows = regions.Select((l, i) =>
        {
            ulong n = ulong.Parse(l.Fields[1], CultureInfo.InvariantCulture);
            ulong total = ulong.Parse(l.Fields[2], CultureInfo.InvariantCulture);
            ulong overhead = ulong.Parse(l.Fields[3], CultureInfo.InvariantCulture);
            double perCall = n == 0 ? 0 : (double)(total - n * overhead) / n;
            return new Row(l.Fields[0], calls[i].Kernel.Name, calls[i].Macs, perCall);
        }).ToArray();
        var stepInstret = run.Lines.Where(l => l.Keyword == "step").Select(l => (double)l.UInt("instret")).Average();

        var precisions = string.Join("/", doc.Model.Nodes.Select(n => n.Precision.Name()).Distinct());
        var table = new Table().Title($"'{Markup.Escape(doc.Model.Name)}' ({precisions}) on {Markup.Escape(board.Name)}{(board.HasVector ? $" VLEN {board.Vlen}" : "")}, {(backend == Backend.C ? "C" : "LLVM IR")} backend: instructions per call under QEMU")
            .AddColumn("Layer / pass").AddColumn("Kernel").AddColumn(new TableColumn("MACs").RightAligned())
            .AddColumn(new TableColumn("Instructions").RightAligned()).AddColumn(new TableColumn("MACs / instruction").RightAligned());
        foreach (var r in rows)
            table.AddRow(Markup.Escape(r.Region), Markup.Escape(r.Kernel), r.Macs == 0 ? "-" : r.Macs.ToString("N0"), r.Instructions.ToString("N0"),
                r.Macs == 0 ? "-" : (r.Macs / r.Instructions).ToString("F3"));
        long macs = rows.Sum(r => r.Macs);
        table.AddRow("[bold]training step (measured without regions' overhead)[/]", "", $"[bold]{macs:N0}[/]", $"[bold]{rows.Sum(r => r.Instructions):N0}[/]",
            $"[bold]{macs / rows.Sum(r => r.Instructions):F3}[/]");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"Whole step with region counters: {stepInstret:N0} instructions; each region pair adds {regions.FirstOrDefault()?.Fields[3] ?? "0"} instructions (subtracted above).");
        AnsiConsole.MarkupLine(mismatches.Count == 0 ? "Bits of the profiled run: [green]identical to the C# evaluator[/]." : $"[red]{mismatches.Count} mismatches against the C# evaluator[/].");

        if (csvPath is not null)
        {
            var lines = new List<string> { "region,kernel,macs,instructions" };
            lines.AddRange(rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Region},{r.Kernel},{r.Macs},{r.Instructions:F0}")));
            File.WriteAllLines(csvPath, lines);
        }
        return mismatches.Count == 0 ? 0 : 1;
    }
}
