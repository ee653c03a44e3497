using System.CommandLine;
using Spectre.Console;
using TinyOdl.Codegen;
using TinyOdl.Data;
using TinyOdl.Evaluation;
using TinyOdl.Graph;
using TinyOdl.Simulation;
using TinyOdl.Targets;

namespace TinyOdl.Cli;

/// <summary>
/// `tinyodl verify model.json`: every toolchain combination builds the model, runs N steps under QEMU, and every
/// loss, updated parameter and prediction must equal the C# evaluator's bits.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var model = CommonOptions.ModelArgument();
        var board = CommonOptions.BoardOption();
        var steps = new Option<int>("--steps", "-n") { Description = "Training steps to trace", DefaultValueFactory = _ => 8 };
        var keep = new Option<string?>("--keep") { Description = "Keep the generated folders under this folder" };
        var precision = CommonOptions.PrecisionOption();
        var vlen = CommonOptions.VlenOption();
        var update = CommonOptions.UpdateOption();
        var im2col = CommonOptions.Im2colBudgetOption();
        var simulator = new Option<bool>("--simulator")
        {
            Description = "Also run every ELF on the built-in simulator: it must print the same output, exit the same way and retire the same instructions as QEMU",
        };
        var cmd = new Command("verify", "Check every toolchain combination bit for bit against the C# evaluator under QEMU")
        {
            model, board, precision, vlen, update, im2col, steps, keep, simulator,
        };
        cmd.SetAction(r => Run(r.GetValue(model)!, r.GetValue(board)!, r.GetValue(vlen), r.GetValue(precision), r.GetValue(steps), r.GetValue(keep), r.GetValue(update),
            r.GetValue(im2col), r.GetValue(simulator)));
        return cmd;
    }

    private static int Run(string modelPath, string boardName, int? vlen, string? precision, int steps, string? keep, string? update, int im2colBudget,
        bool simulator)
    {
        var (doc, board, compiled, plan, expected) = CommonOptions.PrepareVerify(modelPath, boardName, vlen, precision, steps, update, im2colBudget);
        int values = expected.Sum(l => l.Fields.Count);

        var root = keep ?? Path.Combine(Path.GetTempPath(), $"tinyodl-verify-{Environment.ProcessId}");
        var precisions = string.Join("/", doc.Model.Nodes.Select(n => n.Precision.Name()).Distinct());
        var table = new Table().Title($"Bit-exactness of '{Markup.Escape(doc.Model.Name)}' ({precisions}) on {Markup.Escape(board.Name)}{(board.HasVector ? $" VLEN {board.Vlen}" : "")}: {steps} steps, {values} values per run")
            .AddColumn("Toolchain").AddColumn(new TableColumn("Instructions / step").RightAligned()).AddColumn("Result");
        if (simulator) table.AddColumn("Simulator = QEMU");
        int failures = 0;
        try
        {
            foreach (var backend in new[] { Backend.C, Backend.Llvm })
            {
                var dir = Path.Combine(root, backend == Backend.C ? "c" : "llvm");
                ProjectWriter.Write(dir, compiled, board, backend, plan, expected);
                foreach (var combo in BuildCombo.All.Where(c => c.Backend == backend))
                {
                    if (combo.CannotBuild(compiled.Program) is { } why)
                    {
                        table.AddRow([Markup.Escape(combo.Name), "-", $"skipped: {why}", .. simulator ? new[] { "-" } : []]);
                        continue;
                    }
                    Console.Error.WriteLine($"verify: building and running {combo.Name} ...");
                    var run = QemuRunner.BuildAndRun(dir, combo, checkSimulator: false);
                    string agreement = "";
                    if (simulator)
                    {
                        Console.Error.WriteLine($"verify: running {combo.Name} on the simulator ...");
                        var a = QemuCrossCheck.Compare(Path.Combine(dir, combo.BuildDirectory, "program.elf"), board, run.Stdout, run.ExitCode);
                        if (!a.Agrees) failures++;
                        agreement = a.Agrees ? $"[green]yes[/] ({a.Instret:N0} instructions)" : $"[red]NO[/]: {Markup.Escape(a.Difference!)}";
                    }
                    string[] Row(string instructions, string result) => [Markup.Escape(combo.Name), instructions, result, .. simulator ? new[] { agreement } : []];
                    if (!run.Succeeded)
                    {
                        failures++;
                        table.AddRow(Row("-", $"[red]program failed (exit {run.ExitCode})[/]"));
                        continue;
                    }
                    var mismatches = Protocol.Compare(expected, run.Lines);
                    var first = run.Lines.First(l => l.Keyword == "step").UInt("instret");
                    if (mismatches.Count == 0) table.AddRow(Row($"{first:N0}", "[green]bit-exact[/]"));
                    else
                    {
                        failures++;
                        table.AddRow(Row($"{first:N0}", $"[red]{mismatches.Count} mismatches[/]"));
                        AnsiConsole.MarkupLine($"[red]{Markup.Escape(combo.Name)}[/]:");
                        Reports.Mismatches(mismatches);
                    }
                }
            }
        }
        finally
        {
            if (keep is null && Directory.Exists(root)) Directory.Delete(root, true);
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(failures == 0 ? "[green]All toolchains agree with the C# evaluator bit for bit.[/]" : $"[red]{failures} toolchain combination(s) differ.[/]");
        return failures == 0 ? 0 : 1;
    }
}
