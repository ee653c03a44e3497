using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using TinyOdl.Codegen;
using TinyOdl.Data;
using TinyOdl.Evaluation;
using TinyOdl.Targets;

namespace TinyOdl.Cli;

/// <summary>`tinyodl compile model.json -o out/`: generate a self-contained, buildable training program.</summary>
internal static class CompileCommand
{
    public static Command Create()
    {
        var model = CommonOptions.ModelArgument();
        var board = CommonOptions.BoardOption();
        var backend = CommonOptions.BackendOption();
        var output = new Option<string>("--output", "-o") { Description = "Output folder (replaced if TinyOdl wrote it before)", Required = true };
        var verifySteps = new Option<int>("--verify-steps")
        {
            Description = "Generate a verify-mode program that traces this many single steps instead of training epochs",
        };
        var precision = CommonOptions.PrecisionOption();
        var vlen = CommonOptions.VlenOption();
        var update = CommonOptions.UpdateOption();
        var im2col = CommonOptions.Im2colBudgetOption();
        var cmd = new Command("compile", "Generate training code, data and firmware for a board into an output folder")
        {
            model, board, backend, output, precision, vlen, update, im2col, verifySteps,
        };
        cmd.SetAction(r => Run(r.GetValue(model)!, r.GetValue(board)!, r.GetValue(vlen), CommonOptions.ParseBackend(r.GetValue(backend)!),
            r.GetValue(output)!, r.GetValue(precision), r.GetValue(verifySteps), r.GetValue(update), r.GetValue(im2col)));
        return cmd;
    }

    private static void ReportUnderflow(UnderflowMonitor monitor, float lossScale)
    {
        if (monitor.IsEmpty) return;
        var rows = monitor.Report();
        var t = new Table().Title($"FP16 gradient underflow over the run (C# evaluator, loss scale {lossScale})")
            .AddColumn("Weight gradient").AddColumn(new TableColumn("Nonzero products -> 0").RightAligned()).AddColumn(new TableColumn("-> subnormal").RightAligned());
        foreach (var (name, zero, sub) in rows) t.AddRow(Markup.Escape(name), $"{zero:P2}", $"{sub:P2}");
        AnsiConsole.Write(t);
        if (rows.Any(r => r.ZeroShare > 0.01))
            AnsiConsole.MarkupLine("[yellow]More than 1% of some weight-gradient products underflow to zero: consider \"loss_scale\" in the optimizer (a power of two).[/]");
    }

    private static int Run(string modelPath, string boardName, int? vlen, Backend backend, string outDir, string? precision, int verifySteps, string? update, int im2colBudget)
    {
        Generate(modelPath, boardName, vlen, backend, outDir, precision, verifySteps, update, im2colBudget);
        AnsiConsole.MarkupLine($"Next: [bold]make -C {Markup.Escape(outDir)}[/] and [bold]./tinyodl run {Markup.Escape(outDir)}[/]");
        return 0;
    }

    /// <summary>Compiles a model file into an output folder and prints the compile report (shared with `run model.json`).</summary>
    internal static void Generate(string modelPath, string boardName, int? vlen, Backend backend, string outDir, string? precision, int verifySteps,
        string? update = null, int im2colBudget = Passes.Autodiff.DefaultIm2colBudgetBytes)
    {
        if (verifySteps < 0) throw TinyOdlException.At("--verify-steps", "must be 0 or more");
        if (im2colBudget < 0) throw TinyOdlException.At("--im2col-budget", "must be 0 or more bytes");
        // The file's model, then the chosen sparse-update policy on top (the report compares all policies).
        var original = CommonOptions.LoadModel(modelPath, precision);
        var doc = update is null ? original : original with { Model = Graph.UpdatePolicy.Parse(update, "--update").Apply(original.Model) };
        var board = CommonOptions.LoadBoard(boardName, vlen);
        var sw = Stopwatch.StartNew();
        var compiled = Pipeline.Compile(doc.Model, board, modelPath, im2colBudgetBytes: im2colBudget);
        var compileTime = sw.Elapsed;
        var (train, test) = doc.Training.Load(compiled.Program.InputSize, compiled.Program.OutputSize);
        var plan = verifySteps > 0 ? RunPlan.Verify(train, test, verifySteps) : RunPlan.Training(train, test, doc.Training.Epochs);
        sw.Restart();
        var underflow = new UnderflowMonitor(compiled.Program);
        var expected = HarnessSimulator.Run(compiled.Program, plan, afterStep: underflow.IsEmpty ? null : underflow.AfterStep);
        var evalTime = sw.Elapsed;
        ProjectWriter.Write(outDir, compiled, board, backend, plan, expected);

        Reports.ModelSummary(compiled, board);
        Reports.LayerTable(compiled);
        Reports.BinaryLayers(compiled, expected);
        Reports.PhmLayers(compiled);
        Reports.UpdatePolicies(original.Model, board, update, im2colBudget);
        AnsiConsole.MarkupLine($"Generated [bold]{Markup.Escape(outDir)}[/] ({(backend == Backend.C ? "C" : "LLVM IR")} backend): " +
            $"{compiled.Program.Kernels.Count} kernels, {plan.Train.Count} training and {plan.Test.Count} test samples, " +
            (plan.IsVerify ? $"{plan.TraceSteps} traced steps" : $"{plan.Epochs} epochs"));
        ReportUnderflow(underflow, doc.Model.Optimizer.LossScale);
        AnsiConsole.MarkupLine($"Code generation {compileTime.TotalMilliseconds:F0} ms; expected output from the C# evaluator {evalTime.TotalMilliseconds:F0} ms.");
    }
}
