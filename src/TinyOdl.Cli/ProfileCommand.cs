using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TinyOdl.Codegen;
using TinyOdl.Data;
using TinyOdl.Graph;
using TinyOdl.Simulation.Timing;
using TinyOdl.Targets;

namespace TinyOdl.Cli;

/// <summary>
/// `tinyodl profile model.json`: per layer and pass of one training step, MACs computed from shapes, instructions
/// measured under QEMU (-icount shift=0) with region counters around every kernel call, and the same ELF run on the
/// built-in simulator with the board's cycle model: instructions (checked equal to QEMU's), cycles, MAC/clk and the
/// share of the board's peak MAC/clk; totals and time per step at the board's clock. Optionally CSV, JSON and a PNG chart.
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
        var csv = new Option<string?>("--csv") { Description = "Also write the rows (one per layer and pass) as CSV to this file" };
        var json = new Option<string?>("--json") { Description = "Also write rows, totals, the training step and the cycle model as JSON to this file" };
        var png = new Option<string?>("--png") { Description = "Also draw cycles per layer, stacked by pass, with MAC/clk, as a PNG bar chart" };
        var mstCompare = new Option<bool>("--mst-compare")
        {
            Description = "Also profile the model with MST compression switched the other way on every binary layer and compare their forward passes",
        };
        var cmd = new Command("profile", "Per layer and pass of one training step: MACs, instructions (QEMU and simulator), cycles (the board's cycle model), MAC/clk and share of peak")
        {
            model, board, backend, precision, vlen, update, im2col, steps, csv, json, png, mstCompare,
        };
        cmd.SetAction(r => Run(new Request(r.GetValue(model)!, r.GetValue(board)!, r.GetValue(vlen), CommonOptions.ParseBackend(r.GetValue(backend)!),
            r.GetValue(precision), r.GetValue(steps), r.GetValue(update), r.GetValue(im2col), r.GetValue(csv), r.GetValue(json), r.GetValue(png), r.GetValue(mstCompare))));
        return cmd;
    }

    private sealed record Request(string Model, string Board, int? Vlen, Backend Backend, string? Precision, int Steps, string? Update,
        int Im2colBudget, string? Csv, string? Json, string? Png, bool MstCompare);

    /// <summary>One profiled build: the report, mismatches against the evaluator, and disagreements between QEMU and the simulator.</summary>
    private sealed record Measurement(ProfileReport Report, int Mismatches, IReadOnlyList<string> Differences);

    private static int Run(Request q)
    {
        foreach (var (option, path) in new[] { ("--csv", q.Csv), ("--json", q.Json), ("--png", q.Png) })
            if (path is not null && Path.GetDirectoryName(Path.GetFullPath(path)) is { } parent && !Directory.Exists(parent))
                throw TinyOdlException.At(option, $"folder '{parent}' does not exist");
        var (doc, board, compiled, plan, expected) = CommonOptions.PrepareVerify(q.Model, q.Board, q.Vlen, q.Precision, q.Steps, q.Update, q.Im2colBudget);
        var boardFile = Path.Combine(board.Directory, "board.json");
        var cycleModel = board.CycleModel ?? throw TinyOdlException.At($"{boardFile}: cycle_model", "missing; the profiler times the program with the board's cycle model (docs/CYCLE_MODEL.md)");
        var peak = board.PeakMacsPerCycle ?? throw TinyOdlException.At($"{boardFile}: peak_macs_per_cycle", "missing; the profiler reports each layer's share of it");
        var binary = doc.Model.Nodes.OfType<BinaryLayerNode>().ToArray();
        if (q.MstCompare && binary.Length == 0) throw TinyOdlException.At("--mst-compare", $"model '{doc.Model.Name}' has no binary layers");

        var m = Measure(q, doc.Model, board, compiled, plan, expected, cycleModel, peak);
        var report = m.Report;
        Print(report, board);
        foreach (var d in m.Differences) AnsiConsole.MarkupLine($"[red]{Markup.Escape(d)}[/]");
        AnsiConsole.MarkupLine(m.Mismatches == 0 ? "Bits of the profiled run: [green]identical to the C# evaluator[/]." : $"[red]{m.Mismatches} mismatches against the C# evaluator[/].");

        if (q.Csv is not null) report.WriteCsv(q.Csv);
        if (q.Json is not null) report.WriteJson(q.Json);
        if (q.Png is not null) ProfileChart.Write(report, q.Png);
        bool ok = m.Mismatches == 0 && m.Differences.Count == 0;
        if (q.MstCompare)
        {
            // The same model with MST switched the other way on every binary layer (same weights, same data).
            var switched = doc.Model.WithNodes(n => n is BinaryLayerNode b ? b with { Mst = b.Mst is null ? new MstOption() : null } : n);
            var other = Pipeline.Compile(switched, board, q.Model, im2colBudgetBytes: q.Im2colBudget);
            Console.Error.WriteLine("profile: profiling the model with MST switched the other way ...");
            var o = Measure(q, switched, board, other, plan, Evaluation.HarnessSimulator.Run(other.Program, plan), cycleModel, peak);
            ok &= o.Mismatches == 0 && o.Differences.Count == 0;
            var (plain, mst) = binary[0].Mst is null ? (report, o.Report) : (o.Report, report);
            PrintMstComparison(binary, plain, mst);
        }
        return ok ? 0 : 1;
    }

    /// <summary>Per binary layer: its forward-pass kernels (binarize, tree, pack, XNOR) plain vs MST, per step.</summary>
    private static void PrintMstComparison(IReadOnlyList<BinaryLayerNode> layers, ProfileReport plain, ProfileReport mst)
    {
        var t = new Table().Title("Binary layers: forward pass plain vs MST (per step, instructions QEMU = simulator, cycles of the board's model)")
            .AddColumn("Layer").AddColumn(new TableColumn("XNOR instr. plain").RightAligned()).AddColumn(new TableColumn("MST").RightAligned())
            .AddColumn(new TableColumn("Cycles plain").RightAligned()).AddColumn(new TableColumn("MST").RightAligned())
            .AddColumn(new TableColumn("Tree check/rebuild instr.").RightAligned()).AddColumn(new TableColumn("Forward total plain").RightAligned())
            .AddColumn(new TableColumn("MST").RightAligned());
        static ProfileRow[] Forward(ProfileReport r, string layer) => r.Rows.Where(x => x.Layer == layer && x.Pass == "forward").ToArray();
        foreach (var layer in layers)
        {
            var (p, s) = (Forward(plain, layer.Name), Forward(mst, layer.Name));
            var (px, sx) = (p.Single(x => x.BitMacs), s.Single(x => x.BitMacs));
            double tree = s.Where(x => x.Kernel.StartsWith("mst_build", StringComparison.Ordinal)).Sum(x => x.QemuInstructions);
            t.AddRow(Markup.Escape(layer.Name), N(px.QemuInstructions), N(sx.QemuInstructions), N(px.Cycles), N(sx.Cycles), N(tree),
                N(p.Sum(x => x.QemuInstructions)), N(s.Sum(x => x.QemuInstructions)));
        }
        AnsiConsole.Write(t);
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Whole step: {N(plain.TrainingStep.Instructions)} instructions plain, {N(mst.TrainingStep.Instructions)} with MST ({N(plain.TrainingStep.Cycles)} vs {N(mst.TrainingStep.Cycles)} cycles). The XNOR kernels' loops depend on shapes only, so random and trained weights cost the same; the tree is rebuilt only in steps that flip a sign (docs/BINARY.md).")));
    }

    private static Measurement Measure(Request q, Model model, Board board, CompiledModel compiled, RunPlan plan, IReadOnlyList<ProtocolLine> expected,
        CycleModelParameters cycleModel, PeakMacs peak)
    {
        var combo = BuildCombo.Default(q.Backend);
        var dir = Path.Combine(Path.GetTempPath(), $"tinyodl-profile-{Environment.ProcessId}");
        DeviceRun run;
        (Simulation.SimulationResult Result, string Stdout, RegionProfiler Profile) sim;
        try
        {
            ProjectWriter.Write(dir, compiled, board, q.Backend, plan, expected, profile: true);
            run = QemuRunner.BuildAndRun(dir, combo);
            if (!run.Succeeded) throw new TinyOdlException($"{q.Model}: the profiling run under QEMU failed with exit status {run.ExitCode}");
            sim = RegionProfiler.Run(Path.Combine(dir, combo.BuildDirectory, "program.elf"), board, cycleModel);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
        var mismatches = Protocol.Compare(expected, run.Lines);
        var simLines = Protocol.Parse(sim.Stdout);
        var differences = CompareWithQemu(run.Lines, simLines, sim.Result, sim.Profile);
        var report = BuildReport(q, model, board, peak, cycleModel, compiled.Program.TrainStep.Calls, run.Lines, sim.Profile, differences.Count == 0, mismatches.Count == 0);
        return new Measurement(report, mismatches.Count, differences);
    }

    /// <summary>
    /// The simulator must retire exactly what QEMU retires: same region lines (calls, minstret totals, marker cost),
    /// same step instret, and the profiler's own region counts must be the firmware's.
    /// </summary>
    private static List<string> CompareWithQemu(IReadOnlyList<ProtocolLine> qemu, IReadOnlyList<ProtocolLine> sim, Simulation.SimulationResult result, RegionProfiler profile)
    {
        var d = new List<string>();
        if (result.ExitStatus != 0 || sim.Count == 0 || sim[^1].Keyword != "done")
        {
            d.Add($"The simulator's run failed (exit status {result.ExitStatus}{(result.Report is null ? "" : $": {result.Report}")}).");
            return d;
        }
        static string[] Lines(IReadOnlyList<ProtocolLine> lines, string keyword) => lines.Where(l => l.Keyword == keyword).Select(l => l.ToString()).ToArray();
        var (qr, sr) = (Lines(qemu, "region"), Lines(sim, "region"));
        for (int i = 0; i < Math.Max(qr.Length, sr.Length); i++)
            if (i >= qr.Length || i >= sr.Length || qr[i] != sr[i])
                d.Add($"Region line {i}: QEMU '{(i < qr.Length ? qr[i] : "-")}', simulator '{(i < sr.Length ? sr[i] : "-")}'.");
        var (qs, ss) = (qemu.Where(l => l.Keyword == "step").ToArray(), sim.Where(l => l.Keyword == "step").ToArray());
        for (int i = 0; i < Math.Min(qs.Length, ss.Length); i++)
            if (qs[i].UInt("instret") != ss[i].UInt("instret"))
                d.Add($"Step {i}: QEMU retired {qs[i].UInt("instret")} instructions, the simulator {ss[i].UInt("instret")}.");
        var firmware = sim.Where(l => l.Keyword == "region").ToArray();
        var measured = profile.Regions;
        if (measured.Count != firmware.Length)
            d.Add($"The simulator saw {measured.Count} regions, the firmware printed {firmware.Length}.");
        for (int i = 0; i < Math.Min(measured.Count, firmware.Length); i++)
            if ((ulong)measured[i].Instructions != ulong.Parse(firmware[i].Fields[2], CultureInfo.InvariantCulture))
                d.Add($"Region {firmware[i].Fields[0]}: the cycle model timed {measured[i].Instructions} instructions, the firmware counted {firmware[i].Fields[2]}.");
        if (profile.OverheadSamples.Count == 0) d.Add("The simulator saw no empty region pair (the markers' cost).");
        else if (firmware.Length > 0 && (ulong)profile.OverheadSamples[0].Instructions != ulong.Parse(firmware[0].Fields[3], CultureInfo.InvariantCulture))
            d.Add($"Markers: the cycle model saw {profile.OverheadSamples[0].Instructions} instructions per pair, the firmware {firmware[0].Fields[3]}.");
        return d;
    }

    private static ProfileReport BuildReport(Request q, Model model, Board board, PeakMacs peak, CycleModelParameters cycleModel,
        IReadOnlyList<Kernels.KernelCall> calls, IReadOnlyList<ProtocolLine> qemu, RegionProfiler profile, bool equal, bool bitExact)
    {
        var regions = qemu.Where(l => l.Keyword == "region").ToArray();
        var (markerInstructions, markerCycles) = profile.OverheadSamples.Count > 0 ? profile.OverheadSamples[0] : (0, 0);
        var precisions = model.Nodes.Select(n => n.Precision).Distinct().ToArray();
        var modelPrecision = precisions.Length == 1 ? precisions[0] : Precision.Fp32;
        var rows = regions.Select((l, i) =>
        {
            string name = l.Fields[0];
            long n = long.Parse(l.Fields[1], CultureInfo.InvariantCulture);
            double qemuTotal = double.Parse(l.Fields[2], CultureInfo.InvariantCulture);
            double overhead = double.Parse(l.Fields[3], CultureInfo.InvariantCulture);
            var timed = i < profile.Regions.Count ? profile.Regions[i] : new RegionTotals(0, 0, 0);
            var layer = ProfileReport.LayerOf(name, model.Nodes);
            var precision = layer?.Precision ?? modelPrecision;
            double PerCall(double total, double cost) => n == 0 ? 0 : (total - n * cost) / n;
            return new ProfileRow(layer?.Name ?? name, ProfileReport.PassName(calls[i].Pass), name, calls[i].Kernel.Name, precision.Name(), calls[i].Macs,
                PerCall(qemuTotal, overhead), PerCall(timed.Instructions, markerInstructions), PerCall(timed.Cycles, markerCycles),
                calls[i].BitMacs ? peak.Binary ?? 0 : ProfileReport.Peak(precision, peak.Fp32, peak.Fp16), calls[i].BitMacs);
        }).ToArray();
        double modelPeak = ProfileReport.Peak(modelPrecision, peak.Fp32, peak.Fp16);
        // MAC/clk totals count float MACs: a 1-bit MAC of a binary layer is not comparable work.
        long macs = rows.Where(r => !r.BitMacs).Sum(r => r.Macs);
        var totals = new ProfileTotals(macs, rows.Sum(r => r.QemuInstructions), rows.Sum(r => r.SimInstructions), rows.Sum(r => r.Cycles), modelPeak);
        var steps = profile.Steps;
        double stepInstructions = steps.Count == 0 ? 0 : steps.Average(s => (double)s.Instructions) - rows.Length * markerInstructions;
        double stepCycles = steps.Count == 0 ? 0 : steps.Average(s => (double)s.Cycles) - rows.Length * markerCycles;
        var step = new ProfileStep(stepInstructions, stepCycles, board.ClockHz, macs, modelPeak);
        return new ProfileReport(model.Name, board.Name, board.HasVector ? board.Vlen : 0, string.Join("/", precisions.Select(p => p.Name())),
            BuildCombo.Default(q.Backend).Name, q.Steps, cycleModel.ToDictionary(), peak.Fp32, peak.Fp16, markerInstructions, markerCycles,
            rows, totals, step, equal, bitExact);
    }

    private static string N(double v) => v.ToString("N0", CultureInfo.InvariantCulture);

    private static string Macs(long macs, double v, string format) => macs == 0 ? "-" : v.ToString(format, CultureInfo.InvariantCulture);

    private static void Print(ProfileReport r, Board board)
    {
        var table = new Table().Title(Markup.Escape(
                $"'{r.Model}' ({r.Precision}) on {r.Board}{(r.Vlen > 0 ? $" VLEN {r.Vlen}" : "")}, {r.Build}: per call, region markers subtracted"))
            .AddColumn("Layer").AddColumn("Pass").AddColumn("Kernel").AddColumn(new TableColumn("MACs").RightAligned())
            .AddColumn(new TableColumn("Instr. (QEMU)").RightAligned()).AddColumn(new TableColumn("Instr. (sim)").RightAligned())
            .AddColumn(new TableColumn("Cycles").RightAligned()).AddColumn(new TableColumn("CPI").RightAligned())
            .AddColumn(new TableColumn("MAC/clk").RightAligned()).AddColumn(new TableColumn("% of peak").RightAligned());
        foreach (var row in r.Rows)
            table.AddRow(Markup.Escape(row.Layer), Markup.Escape(row.Pass), Markup.Escape(row.Kernel),
                row.Macs == 0 ? "-" : row.Macs.ToString("N0", CultureInfo.InvariantCulture) + (row.BitMacs ? " (1-bit)" : ""),
                N(row.QemuInstructions), N(row.SimInstructions), N(row.Cycles), row.CyclesPerInstruction.ToString("F2", CultureInfo.InvariantCulture),
                Macs(row.Macs, row.MacsPerCycle, "F3"), row.PeakMacsPerCycle > 0 ? Macs(row.Macs, 100 * row.PeakShare, "F1") : "-");
        var t = r.Totals;
        table.AddRow("[bold]all regions[/]", "", "", $"[bold]{t.Macs:N0}[/]", $"[bold]{N(t.QemuInstructions)}[/]", $"[bold]{N(t.SimInstructions)}[/]",
            $"[bold]{N(t.Cycles)}[/]", (t.SimInstructions > 0 ? t.Cycles / t.SimInstructions : 0).ToString("F2", CultureInfo.InvariantCulture),
            $"[bold]{Macs(t.Macs, t.MacsPerCycle, "F3")}[/]", $"[bold]{Macs(t.Macs, 100 * t.PeakShare, "F1")}[/]");
        AnsiConsole.Write(table);
        var s = r.TrainingStep;
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Training step (train_step call to return, markers subtracted): {N(s.Instructions)} instructions, {N(s.Cycles)} cycles = {ProfileReport.Duration(s.Seconds)} at {board.ClockHz / 1e6:G} MHz (board clock_hz), {s.MacsPerCycle:F3} MAC/clk, {100 * s.PeakShare:F1} % of peak.")));
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Cycle model: the board's cycle_model (docs/CYCLE_MODEL.md); peak MAC/clk {r.PeakFp32:G} (fp32), {r.PeakFp16:G} (fp16). Each region's begin/end markers cost {r.MarkerInstructions} instructions and {r.MarkerCycles} cycles (the harness's empty pair), subtracted per call; averaged over {r.Steps} step(s).")));
        if (r.Rows.Any(x => x.BitMacs))
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"Binary layers: {r.Rows.Where(x => x.BitMacs).Sum(x => x.Macs):N0} 1-bit MACs (XNOR-popcount) per step, left out of the MAC/clk totals; their % of peak is against the board's binary peak ({(board.PeakMacsPerCycle?.Binary is { } b ? $"{b:G3} 1-bit MACs per cycle" : "not stated")}).")));
        AnsiConsole.MarkupLine(r.QemuMatchesSimulator
            ? "Instructions: [green]the simulator retires exactly what QEMU retires[/] in every region and step."
            : "[red]Instructions: the simulator and QEMU disagree (below).[/]");
    }
}
