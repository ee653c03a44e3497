using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json.Nodes;
using TinyOdl.Targets;
using TinyOdl.Tests.CliTests;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.Simulation.Timing;

using Cli = TinyOdl.Tests.Support.Cli;

/// <summary>
/// `tinyodl profile` end to end: the digits MLP built with region counters runs under QEMU and on the simulator with
/// the board's cycle model; the table, CSV, JSON and PNG agree with each other, the simulator's instruction counts
/// equal QEMU's, and the MAC/clk figures are MACs over modeled cycles.
/// </summary>
public sealed class ProfileCommandTests
{
    [Theory]
    [InlineData("qemu-virt-rv32", "fp32", 1.0)]
    [InlineData("qemu-virt-rv32-zvfh", "fp16", 8.0)]
    public void Profile_reports_cycles_and_mac_per_clock_per_layer_and_pass(string boardName, string precision, double peak)
    {
        using var tmp = new TempDir();
        string json = tmp.File("p.json"), csv = tmp.File("p.csv"), png = tmp.File("p.png");
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "profile", Path.Combine(Repo.Examples, "digits-mlp.json"), "--board", boardName,
            "--precision", precision, "--steps", "1", "--json", json, "--csv", csv, "--png", png);
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        var flat = CliExpect.Flat(r.Stdout);
        Assert.Contains("the simulator retires exactly what QEMU retires", flat);
        Assert.Contains("MAC/clk", flat);

        var doc = JsonNode.Parse(File.ReadAllText(json))!;
        Assert.True(doc["qemu_matches_simulator"]!.GetValue<bool>());
        Assert.True(doc["bit_exact"]!.GetValue<bool>());
        Assert.Equal(peak, doc["peak_macs_per_cycle"]![precision]!.GetValue<double>());
        var rows = doc["rows"]!.AsArray().Select(n => n!).ToArray();
        Assert.Contains(rows, row => row["layer"]!.GetValue<string>() == "fc1" && row["pass"]!.GetValue<string>() == "forward");
        Assert.Contains(rows, row => row["layer"]!.GetValue<string>() == "fc1" && row["pass"]!.GetValue<string>() == "weight gradient");
        Assert.Contains(rows, row => row["layer"]!.GetValue<string>() == "fc2" && row["pass"]!.GetValue<string>() == "input gradient");
        Assert.Contains(rows, row => row["pass"]!.GetValue<string>() == "optimizer");
        foreach (var row in rows)
        {
            double qemu = row["qemu_instructions"]!.GetValue<double>(), sim = row["sim_instructions"]!.GetValue<double>();
            double cycles = row["cycles"]!.GetValue<double>();
            long macs = row["macs"]!.GetValue<long>();
            Assert.Equal(qemu, sim);
            Assert.True(cycles >= sim, $"{row["region"]}: {cycles} cycles for {sim} instructions on a single-issue core");
            Assert.Equal(macs / cycles, row["macs_per_cycle"]!.GetValue<double>(), 9);
            Assert.Equal(macs / cycles / peak, row["peak_share"]!.GetValue<double>(), 9);
        }
        var totals = doc["totals"]!;
        Assert.Equal(rows.Sum(x => x["cycles"]!.GetValue<double>()), totals["cycles"]!.GetValue<double>(), 6);
        Assert.Equal(5056, totals["macs"]!.GetValue<long>());                 // 64x32 + 32x10, forward + weight gradient + (fc2) input gradient
        var step = doc["training_step"]!;
        double stepCycles = step["cycles"]!.GetValue<double>();
        Assert.True(stepCycles >= totals["cycles"]!.GetValue<double>());      // the step also has the calls' glue
        Assert.Equal(stepCycles / Board.Load(boardName).ClockHz, step["seconds"]!.GetValue<double>(), 12);

        // CSV: the first four columns as before (bench/fp16-simd.sh reads them), one line per row.
        var lines = File.ReadAllLines(csv);
        Assert.StartsWith("region,kernel,macs,instructions,", lines[0]);
        Assert.Equal(rows.Length + 1, lines.Length);
        var header = lines[0].Split(',');
        var fc1 = lines[1..].Select(l => l.Split(',')).First(f => f[0] == "fc1");
        Assert.Equal(rows.First(x => x["region"]!.GetValue<string>() == "fc1")["cycles"]!.GetValue<double>(),
            double.Parse(fc1[Array.IndexOf(header, "cycles")], CultureInfo.InvariantCulture), 0);

        // PNG: a real image of a readable size.
        var bytes = File.ReadAllBytes(png);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        Assert.True(BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)) >= 800 && BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)) >= 400);
    }
}
