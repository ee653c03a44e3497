using System.CommandLine;
using Spectre.Console;
using TinyOdl.Codegen;
using TinyOdl.Data;
using TinyOdl.Evaluation;
using TinyOdl.Graph;
using TinyOdl.Targets;

namespace TinyOdl.Cli;

/// <summary>
/// `tinyodl sweep model.json`: trains the model on-device under QEMU for every (board, precision) pair the
/// boards support, checks each run bit for bit against the C# evaluator, and prints accuracy and instructions
/// per training step side by side: the comparison a TinyML researcher makes before choosing a precision.
/// </summary>
internal static class SweepCommand
{
    public static Command Create()
    {
        var model = CommonOptions.ModelArgument();
        var boards = new Option<string[]>("--boards") { Description = "Boards to try, e.g. qemu-virt-rv32-zvfh:256 for VLEN 256 (default: every board, plus VLEN 256 where offered)", AllowMultipleArgumentsPerToken = true };
        var precisions = new Option<string[]>("--precisions") { Description = "Precisions to try (default: fp32 fp16 fp16-mixed)", AllowMultipleArgumentsPerToken = true };
        var backend = CommonOptions.BackendOption();
        var keep = new Option<string?>("--keep") { Description = "Keep the generated folders under this folder" };
        var cmd = new Command("sweep", "Train on-device for every board and precision, check bits, compare accuracy and instructions per step")
        {
            model, boards, precisions, backend, keep,
        };
        cmd.SetAction(r => Run(r.GetValue(model)!, r.GetValue(boards), r.GetValue(precisions), CommonOptions.ParseBackend(r.GetValue(backend)!), r.GetValue(keep)));
        return cmd;
    }

    private sealed record Case(Board Board, Precision Precision);
    private sealed record Outcome(Case Case, ulong InstretPerStep, double Accuracy, double MeanLoss, int Mismatches, string? Failure);

    private static int Run(string modelPath, string[]? boardNames, string[]? precisionNames, Backend backend, string? keep)
    {
        var precisions = (precisionNames is { Length: > 0 } ? precisionNames : PrecisionExtensions.Names)
            .Select(p => PrecisionExtensions.Parse(p, "--precisions")).ToArray();
        var boards = boardNames is { Length: > 0 } ? boardNames.Select(ParseBoard).ToArray() : DefaultBoards();
        var cases = boards.SelectMany(b => precisions.Where(p => p == Precision.Fp32 || b.Has("zfh")).Select(p => new Case(b, p))).ToArray();
        if (cases.Length == 0) throw TinyOdlException.At("--boards", "no board supports the requested precisions");
        _ = CommonOptions.LoadModel(modelPath, null); // report file errors before any work

        var root = keep ?? Path.Combine(Path.GetTempPath(), $"tinyodl-sweep-{Environment.ProcessId}");
        var outcomes = new Outcome[cases.Length];
        try
        {
            // Two at a time: one evaluator and one QEMU keep a 2-core machine busy.
            Parallel.For(0, cases.Length, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
            {
                var c = cases[i];
                Console.Error.WriteLine($"sweep: {c.Board.Name}{(c.Board.HasVector ? $" (VLEN {c.Board.Vlen})" : "")} {c.Precision.Name()} ...");
                outcomes[i] = RunCase(modelPath, c, backend, Path.Combine(root, $"{c.Board.Name}-{c.Board.Vlen}-{c.Precision.Name()}"));
            });
        }
        finally
        {
            if (keep is null && Directory.Exists(root)) Directory.Delete(root, true);
        }

        var fp32 = outcomes.Where(o => o.Case.Precision == Precision.Fp32 && !o.Case.Board.HasVector && o.Failure is null).Select(o => (double)o.InstretPerStep).FirstOrDefault();
        var table = new Table().Title($"On-device training of '{Markup.Escape(Path.GetFileName(modelPath))}' under QEMU ({(backend == Backend.C ? "C" : "LLVM IR")} backend)")
            .AddColumn("Board").AddColumn("ISA").AddColumn(new TableColumn("VLEN").RightAligned()).AddColumn("Precision")
            .AddColumn(new TableColumn("Instructions / step").RightAligned()).AddColumn(new TableColumn("vs fp32 scalar").RightAligned())
            .AddColumn(new TableColumn("Final mean loss").RightAligned()).AddColumn(new TableColumn("Test accuracy").RightAligned()).AddColumn("Bits vs C# evaluator");
        foreach (var o in outcomes)
        {
            var b = o.Case.Board;
            table.AddRow(Markup.Escape(b.Name), b.March, b.HasVector ? b.Vlen.ToString() : "-", o.Case.Precision.Name(),
                o.Failure is null ? $"{o.InstretPerStep:N0}" : "-",
                o.Failure is null && fp32 > 0 ? $"{fp32 / o.InstretPerStep:F2}x" : "-",
                o.Failure is null ? $"{o.MeanLoss:F4}" : "-",
                o.Failure is null ? $"{o.Accuracy:P1}" : "-",
                o.Failure is not null ? $"[red]{Markup.Escape(o.Failure)}[/]" : o.Mismatches == 0 ? "[green]bit-exact[/]" : $"[red]{o.Mismatches} mismatches[/]");
        }
        AnsiConsole.Write(table);
        bool ok = outcomes.All(o => o.Failure is null && o.Mismatches == 0);
        AnsiConsole.MarkupLine(ok ? "[green]Every run is bit-exact with the C# evaluator.[/]" : "[red]Some runs failed or differ from the evaluator.[/]");
        return ok ? 0 : 1;
    }

    private static Outcome RunCase(string modelPath, Case c, Backend backend, string dir)
    {
        var doc = CommonOptions.LoadModel(modelPath, c.Precision.Name());
        var compiled = Pipeline.Compile(doc.Model, c.Board, modelPath);
        var (train, test) = doc.Training.Load(compiled.Program.InputSize, compiled.Program.OutputSize);
        var plan = RunPlan.Training(train, test, doc.Training.Epochs);
        var expected = HarnessSimulator.Run(compiled.Program, plan);
        ProjectWriter.Write(dir, compiled, c.Board, backend, plan, expected);
        var run = QemuRunner.BuildAndRun(dir, BuildCombo.Default(backend));
        if (!run.Succeeded) return new Outcome(c, 0, 0, 0, 0, $"exit status {run.ExitCode}");
        var last = run.Lines.Last(l => l.Keyword == "epoch");
        var first = run.Lines.First(l => l.Keyword == "epoch");
        return new Outcome(c, first.UInt("instret_first"), (double)last.UInt("correct") / Math.Max(1, last.UInt("total")),
            last.Float("loss_sum") / Math.Max(1.0, last.UInt("steps")), Protocol.Compare(expected, run.Lines).Count, null);
    }

    /// <summary>Every board; vector boards also at each other VLEN they offer.</summary>
    private static Board[] DefaultBoards() =>
        Board.Available().Select(Board.Load)
            .SelectMany(b => b.HasVector ? b.VlenOptions.Select(b.WithVlen) : [b]).ToArray();

    /// <summary>NAME or NAME:VLEN.</summary>
    private static Board ParseBoard(string spec)
    {
        var parts = spec.Split(':', 2);
        if (parts.Length == 1) return Board.Load(parts[0]);
        return int.TryParse(parts[1], out int vlen) ? Board.Load(parts[0]).WithVlen(vlen)
            : throw TinyOdlException.At("--boards", $"'{spec}': expected NAME or NAME:VLEN");
    }
}
