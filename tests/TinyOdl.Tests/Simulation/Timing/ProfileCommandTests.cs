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

    /// <summary>
    /// A binary model on the Zbb board: 1-bit MACs are reported apart (against the board's binary peak, out of the
    /// float totals), and --mst-compare profiles the MST variant too and prints both forward passes.
    /// </summary>
    [Fact]
    public void Profile_of_binary_layers_counts_one_bit_macs_apart_and_compares_mst()
    {
        using var tmp = new TempDir();
        var model = tmp.File("bnn.json");
        File.WriteAllText(model, """
            {
              "name": "bnn_profile",
              "input": { "shape": [2, 6, 6] },
              "layers": [
                { "name": "conv1", "op": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1 },
                { "name": "bconv", "op": "binary_conv2d", "out_channels": 6, "kernel_size": 3, "padding": 1, "bias": false },
                { "name": "flat", "op": "flatten" },
                { "name": "fc", "op": "linear", "out_features": 3 }
              ],
              "loss": { "op": "softmax_cross_entropy" },
              "optimizer": { "op": "sgd", "learning_rate": 0.05 }
            }
            """);
        string json = tmp.File("p.json");
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "profile", model, "--board", "qemu-virt-rv32-zbb", "--steps", "1", "--json", json, "--mst-compare");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        var flat = CliExpect.Flat(r.Stdout);
        Assert.Contains("1-bit MACs (XNOR-popcount) per step", flat);
        Assert.Contains("forward pass plain vs MST", flat);
        Assert.Contains("with MST", flat);

        var doc = JsonNode.Parse(File.ReadAllText(json))!;
        var rows = doc["rows"]!.AsArray().Select(n => n!).ToArray();
        var xnor = rows.Single(row => row["mac_kind"]!.GetValue<string>() == "1-bit");
        Assert.StartsWith("binary_conv2d_f32_forward_xnor", xnor["kernel"]!.GetValue<string>());
        Assert.Equal(6L * 36 * 4 * 9, xnor["macs"]!.GetValue<long>());
        Assert.Equal(10.667, xnor["peak_macs_per_cycle"]!.GetValue<double>(), 6);
        // Float totals leave the 1-bit MACs out.
        long floatMacs = rows.Where(row => !ReferenceEquals(row, xnor)).Sum(row => row["macs"]!.GetValue<long>());
        Assert.Equal(floatMacs, doc["totals"]!["macs"]!.GetValue<long>());
    }

    [Fact]
    public void Mst_compare_without_binary_layers_is_a_clear_error()
    {
        using var tmp = new TempDir();
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "profile", Path.Combine(Repo.Examples, "digits-mlp.json"), "--mst-compare");
        CliExpect.UserError(r, ["--mst-compare", "has no binary layers"]);
    }
}
