using System.Text;
using System.Text.Json;
using TinyOdl.Codegen.C;
using TinyOdl.Codegen.Llvm;
using TinyOdl.Data;
using TinyOdl.Graph;
using TinyOdl.Targets;

namespace TinyOdl.Codegen;

/// <summary>
/// Writes a self-contained output folder: generated model, data, the firmware runtime and the board files,
/// a Makefile, and the evaluator's expected output (expected.txt) that `tinyodl run` checks the device against.
/// The folder appears complete or not at all: it is written beside the target and renamed into place.
/// </summary>
public static class ProjectWriter
{
    /// <param name="profile">Count instructions per kernel call (layer x pass) on the device; see firmware/profile.h.</param>
    public static void Write(string outDir, CompiledModel model, Board board, Backend backend, RunPlan plan,
        IReadOnlyList<ProtocolLine> expected, bool profile = false)
    {
        var target = Path.GetFullPath(outDir);
        var parent = Path.GetDirectoryName(target) ?? ".";
        if (File.Exists(target)) throw TinyOdlException.At(outDir, "exists and is a file, not a folder");
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !File.Exists(Path.Combine(target, ManifestName)))
            throw TinyOdlException.At(outDir, "folder is not empty and was not written by TinyOdl; refusing to replace it");
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.tinyodl-{Environment.ProcessId}");
        if (Directory.Exists(staging)) Directory.Delete(staging, true);
        try
        {
            WriteFiles(staging, model, board, backend, plan, expected, profile);
            if (Directory.Exists(target)) Directory.Delete(target, true);
            Directory.Move(staging, target);
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, true);
            throw;
        }
    }

    public const string ManifestName = "tinyodl.json";
    public const string ExpectedName = "expected.txt";

    private static void WriteFiles(string dir, CompiledModel model, Board board, Backend backend, RunPlan plan, IReadOnlyList<ProtocolLine> expected, bool profile)
    {
        var p = model.Program;
        Directory.CreateDirectory(dir);
        // The board's description and the two files it names, under fixed names (boards may share them).
        Directory.CreateDirectory(Path.Combine(dir, "board"));
        File.Copy(Path.Combine(board.Directory, "board.json"), Path.Combine(dir, "board", "board.json"));
        File.Copy(board.LinkerScript, Path.Combine(dir, "board", "link.ld"));
        File.Copy(board.Startup, Path.Combine(dir, "board", "startup.S"));
        CopyFolder(ProductFiles.Firmware, Path.Combine(dir, "firmware"), skip: "tests");
        Directory.CreateDirectory(Path.Combine(dir, "toolchain"));
        File.Copy(ProductFiles.ToolchainFlags, Path.Combine(dir, "toolchain", "flags.mk"));
        File.WriteAllText(Path.Combine(dir, "model.h"), HeaderWriter.EmitHeader(p));
        File.WriteAllText(Path.Combine(dir, "model_info.c"), HeaderWriter.EmitInfo(p, profile));
        if (backend == Backend.C) File.WriteAllText(Path.Combine(dir, "model.c"), CBackend.EmitModel(p, profile));
        else File.WriteAllText(Path.Combine(dir, "model.ll"), LlvmBackend.EmitModel(p, profile));
        File.WriteAllText(Path.Combine(dir, "dataset.h"), DatasetWriter.EmitHeader());
        File.WriteAllText(Path.Combine(dir, "dataset.c"), DatasetWriter.EmitSource(plan, p.InputSize, p.TargetSize));
        File.WriteAllText(Path.Combine(dir, "board.mk"), BoardMakefile(board));
        File.WriteAllText(Path.Combine(dir, "Makefile"), Makefile(p.ModelName, board, backend));
        File.WriteAllText(Path.Combine(dir, ExpectedName), string.Join("\n", expected.Select(l => l.ToString())) + "\n");
        var manifest = new Manifest(p.ModelName, board.Name, backend == Backend.C ? "c" : "llvm", BuildCombo.Default(backend).Toolchain,
            BuildCombo.Default(backend).Opt, p.ArenaBytes, plan.Mode,
            string.Join("/", model.Model.Nodes.Select(n => n.Precision.Name()).Distinct()), board.Vlen,
            BuildCombo.All.First(c => c.Toolchain == "gcc").CannotBuild(p));
        File.WriteAllText(Path.Combine(dir, ManifestName), JsonSerializer.Serialize(manifest, ManifestJson.Options));
    }

    private static string BoardMakefile(Board b) => $"""
        # Generated from boards/{b.Name}/board.json by TinyOdl.
        MARCH = {b.March}
        MABI = {b.Abi}
        PICOLIBC_MULTILIB = {b.PicolibcMultilib}
        QEMU = {b.QemuBinary}
        QEMU_FLAGS = -M {b.QemuMachine} -cpu {b.QemuCpuArgument} {string.Join(" ", b.QemuExtraArgs)}
        LINKER_SCRIPT = board/link.ld
        STARTUP = board/startup.S

        """;

    private static string Makefile(string model, Board board, Backend backend)
    {
        var combo = BuildCombo.Default(backend);
        var sb = new StringBuilder();
        sb.AppendLine($"# Training program for model '{model}' on board '{board.Name}', generated by TinyOdl.");
        sb.AppendLine("#   make            build (default toolchain below)");
        sb.AppendLine("#   make run        run under QEMU; prints the harness protocol (firmware/README.md)");
        sb.AppendLine("#   make TOOLCHAIN=gcc|clang OPT=-O0|-O2|-O3   other compilers for the C backend");
        sb.AppendLine($"TOOLCHAIN ?= {combo.Toolchain}");
        sb.AppendLine($"OPT ?= {combo.Opt}");
        sb.AppendLine("DATASET_SRC = dataset.c model_info.c");
        sb.AppendLine("include board.mk");
        sb.AppendLine("include firmware/build.mk");
        return sb.ToString();
    }

    private static void CopyFolder(string from, string to, string? skip = null)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from))
            File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var d in Directory.GetDirectories(from))
            if (Path.GetFileName(d) != skip && Path.GetFileName(d) is not ("build" or "bin" or "obj"))
                CopyFolder(d, Path.Combine(to, Path.GetFileName(d)), skip);
    }
}

/// <summary>tinyodl.json: what an output folder holds, so `tinyodl run` needs no other input.</summary>
/// <param name="Precisions">The layers' precision policies, e.g. "fp16" or "fp32/fp16".</param>
/// <param name="Vlen">The board's vector length in bits, 0 without a vector unit.</param>
/// <param name="GccCannotBuild">Why GCC 12 cannot build this folder, or null.</param>
public sealed record Manifest(string Model, string Board, string Backend, string Toolchain, string Opt, int ArenaBytes, string Mode,
    string Precisions = "fp32", int Vlen = 0, string? GccCannotBuild = null);

internal static class ManifestJson
{
    public static readonly JsonSerializerOptions Options = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
