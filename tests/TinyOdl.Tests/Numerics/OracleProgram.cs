using TinyOdl.Targets;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.Numerics;

/// <summary>
/// Lays out an output-like folder for one oracle program (board/ with the qemu-virt-rv32 link.ld and startup.S,
/// a copy of firmware/ and toolchain/flags.mk, the oracle sources, a board.mk for the FP16 ISA and a Makefile
/// including firmware/build.mk with the oracle as HARNESS and no model or dataset), then builds it with clang and
/// runs it under QEMU through build.mk's <c>run</c> target.
/// </summary>
internal sealed class OracleProgram : IDisposable
{
    private readonly TempDir _tmp = new();

    /// <param name="board">The machine the simulator check runs the oracle on (the same ISA as march/qemuCpu).</param>
    public OracleProgram(string harness, string march, string qemuCpu, string extraCflags, Board board)
    {
        _board = board;
        Directory = _tmp.File("out");
        var root = Repo.Root;
        var boardDir = Path.Combine(Directory, "board");
        System.IO.Directory.CreateDirectory(boardDir);
        foreach (var f in new[] { "link.ld", "startup.S" })
            File.Copy(Path.Combine(root, "boards", "qemu-virt-rv32", f), Path.Combine(boardDir, f));
        CopyTree(Path.Combine(root, "firmware"), Path.Combine(Directory, "firmware"));
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "toolchain"));
        File.Copy(Path.Combine(root, "toolchain", "flags.mk"), Path.Combine(Directory, "toolchain", "flags.mk"));
        CopyTree(Path.Combine(root, "tests", "TinyOdl.Tests", "Numerics", "oracle"), Path.Combine(Directory, "oracle"));
        File.WriteAllText(Path.Combine(Directory, "board.mk"),
            $"""
            # FP16 oracle board: qemu-virt-rv32 with Zfh{(march.Contains('v') ? " and V/Zvfh" : "")}
            MARCH = {march}
            MABI = ilp32f
            PICOLIBC_MULTILIB = rv32imafc/ilp32f
            QEMU = qemu-system-riscv32
            QEMU_FLAGS = -M virt -cpu {qemuCpu} -m 128M -bios none
            LINKER_SCRIPT = board/link.ld
            STARTUP = board/startup.S

            """);
        File.WriteAllText(Path.Combine(Directory, "Makefile"),
            $"""
            HARNESS = oracle/{harness}
            DATASET_SRC =
            MODEL_C =
            EXTRA_CFLAGS = -Werror {extraCflags}
            include board.mk
            include firmware/build.mk

            """);
        _baseCflags = "-Werror " + extraCflags;
    }

    private readonly string _baseCflags;
    private readonly Board _board;

    public string Directory { get; }

    /// <summary>Builds with the given extra -D flags (rebuilds when they change) and runs; returns stdout.</summary>
    public string Run(string defines = "")
    {
        var vars = $"TOOLCHAIN=clang OPT=-O2 \"EXTRA_CFLAGS={_baseCflags} {defines}\"";
        var build = QemuRunner.Exec("make", $"-C \"{Directory}\" -s {vars} all");
        if (build.Code != 0 || build.Stderr.Length > 0)
            throw new InvalidOperationException($"oracle build failed:\n{build.Stdout}{build.Stderr}");
        var run = QemuRunner.Run(Directory, new BuildCombo("clang", "-O2", Backend.C), vars, _board);
        if (run.ExitCode != 0 || !run.Stdout.EndsWith("done\n", StringComparison.Ordinal))
            throw new InvalidOperationException($"oracle run failed (exit {run.ExitCode}):\n{Tail(run.Stdout)}{run.Stderr}");
        return run.Stdout;
    }

    private static string Tail(string s) => s.Length > 4000 ? s[^4000..] : s;

    private static void CopyTree(string from, string to)
    {
        System.IO.Directory.CreateDirectory(to);
        foreach (var f in System.IO.Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var d in System.IO.Directory.GetDirectories(from)) CopyTree(d, Path.Combine(to, Path.GetFileName(d)));
    }

    public void Dispose() => _tmp.Dispose();
}
