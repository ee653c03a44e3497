using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using TinyOdl.Codegen;
using TinyOdl.Targets;

namespace TinyOdl.Cli;

/// <summary>`tinyodl run out/`: build the folder, run it under QEMU, report, and check it against expected.txt.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var folder = new Argument<string>("folder") { Description = "Output folder written by `tinyodl compile`, or a model file (.json) to compile into a temporary folder first" };
        var board = CommonOptions.BoardOption();
        var backend = CommonOptions.BackendOption();
        var precision = CommonOptions.PrecisionOption();
        var vlen = CommonOptions.VlenOption();
        var toolchain = new Option<string?>("--toolchain") { Description = "gcc, clang or llvm (default: the folder's)" };
        toolchain.AcceptOnlyFromAmong("gcc", "clang", "llvm");
        var opt = new Option<string?>("--opt") { Description = "-O0, -O2 or -O3 (default: the folder's)" };
        opt.AcceptOnlyFromAmong("-O0", "-O1", "-O2", "-O3");
        var cmd = new Command("run", "Build an output folder (or compile a model file), run it under QEMU and check it bit for bit against the C# evaluator")
        {
            folder, toolchain, opt, board, backend, precision, vlen,
        };
        cmd.SetAction(r =>
        {
            var target = r.GetValue(folder)!;
            if (!File.Exists(target))
            {
                // --board, --backend, --precision, --vlen describe a compilation: a folder already had one.
                foreach (var o in new Option[] { board, backend, precision, vlen })
                    if (r.GetResult(o) is { Implicit: false })
                        throw TinyOdlException.At(o.Name, $"applies to a model file; '{target}' is an output folder compiled earlier (see its tinyodl.json)");
                return Run(target, r.GetValue(toolchain), r.GetValue(opt));
            }
            var dir = Path.Combine(Path.GetTempPath(), $"tinyodl-run-{Environment.ProcessId}");
            try
            {
                CompileCommand.Generate(target, r.GetValue(board)!, r.GetValue(vlen), CommonOptions.ParseBackend(r.GetValue(backend)!), dir, r.GetValue(precision), 0);
                return Run(dir, r.GetValue(toolchain), r.GetValue(opt));
            }
            finally
            {
                if (Directory.Exists(dir)) Directory.Delete(dir, true);
            }
        });
        return cmd;
    }

    private static int Run(string dir, string? toolchain, string? opt)
    {
        var manifestPath = Path.Combine(dir, ProjectWriter.ManifestName);
        if (!Directory.Exists(dir)) throw TinyOdlException.At(dir, "folder not found");
        if (!File.Exists(manifestPath)) throw TinyOdlException.At(dir, $"not a TinyOdl output folder (no {ProjectWriter.ManifestName})");
        Manifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(manifestPath), new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })
                ?? throw new JsonException("empty");
        }
        catch (JsonException e) { throw TinyOdlException.At(manifestPath, $"invalid manifest ({e.Message})"); }
        foreach (var (field, value) in new[] { ("model", manifest.Model), ("board", manifest.Board), ("backend", manifest.Backend), ("toolchain", manifest.Toolchain), ("opt", manifest.Opt) })
            if (string.IsNullOrEmpty(value)) throw TinyOdlException.At(manifestPath, $"invalid manifest: missing field '{field}'");
        if (!File.Exists(Path.Combine(dir, ProjectWriter.ExpectedName)))
            throw TinyOdlException.At(dir, $"not a complete TinyOdl output folder (no {ProjectWriter.ExpectedName})");
        var tc = toolchain ?? manifest.Toolchain;
        if (manifest.Backend == "llvm" ? tc != "llvm" : tc == "llvm")
            throw TinyOdlException.At("--toolchain", $"'{tc}' cannot build the {manifest.Backend} backend's output");
        if (tc == "gcc" && manifest.GccCannotBuild is { } why)
            throw TinyOdlException.At("--toolchain gcc", $"cannot build '{dir}' ({manifest.Precisions} on {manifest.Board}): {why}");
        var combo = new BuildCombo(tc, opt ?? manifest.Opt, manifest.Backend == "llvm" ? Backend.Llvm : Backend.C);

        AnsiConsole.MarkupLine($"Building and running [bold]{Markup.Escape(manifest.Model)}[/] ({Markup.Escape(manifest.Precisions)}) on {Markup.Escape(manifest.Board)}{(manifest.Vlen > 0 ? $" (VLEN {manifest.Vlen})" : "")} with {Markup.Escape(combo.Name)} (qemu, -icount shift=0)...");
        var run = QemuRunner.BuildAndRun(dir, combo);
        if (!run.Succeeded)
        {
            AnsiConsole.MarkupLine($"[red]program failed[/] with exit status {run.ExitCode}");
            Console.Error.Write(run.Stderr);
            return 1;
        }
        PrintRun(run);

        var expected = Protocol.Parse(File.ReadAllText(Path.Combine(dir, ProjectWriter.ExpectedName)));
        var mismatches = Protocol.Compare(expected, run.Lines);
        int values = expected.Sum(l => l.Fields.Count);
        if (mismatches.Count == 0)
        {
            AnsiConsole.MarkupLine($"Bit-exact against the C# evaluator: [green]yes[/] ({values} fields compared: losses, accuracies, every parameter)");
            return 0;
        }
        AnsiConsole.MarkupLine($"Bit-exact against the C# evaluator: [red]NO[/], {mismatches.Count} mismatches");
        Reports.Mismatches(mismatches);
        return 1;
    }

    private static void PrintRun(DeviceRun run)
    {
        var epochs = run.Lines.Where(l => l.Keyword == "epoch").ToArray();
        if (epochs.Length > 0)
        {
            var t = new Table().AddColumn("Epoch").AddColumn(new TableColumn("Mean loss").RightAligned())
                .AddColumn(new TableColumn("Test accuracy").RightAligned()).AddColumn(new TableColumn("Instructions / step").RightAligned());
            foreach (var e in epochs)
            {
                double n = e.UInt("steps");
                double total = e.UInt("total");
                t.AddRow(e.Fields[0], $"{e.Float("loss_sum") / n:F4}",
                    total == 0 ? "-" : $"{100.0 * e.UInt("correct") / total:F1}% ({e.UInt("correct")}/{e.UInt("total")})",
                    e.UInt("instret_min") == e.UInt("instret_max") ? $"{e.UInt("instret_first"):N0}" : $"{e.UInt("instret_min"):N0} .. {e.UInt("instret_max"):N0}");
            }
            AnsiConsole.Write(t);
            AnsiConsole.MarkupLine($"One training step retires [bold]{epochs[0].UInt("instret_first"):N0}[/] instructions (QEMU -icount shift=0, first step).");
        }
        var steps = run.Lines.Where(l => l.Keyword == "step").ToArray();
        if (steps.Length > 0)
            AnsiConsole.MarkupLine($"{steps.Length} traced steps; first step retires [bold]{steps[0].UInt("instret"):N0}[/] instructions; final loss {steps[^1].Float("loss"):G6}.");
    }
}
