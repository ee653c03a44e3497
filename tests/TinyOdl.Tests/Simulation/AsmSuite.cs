using System.Text;
using TinyOdl.Simulation;
using TinyOdl.Targets;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.Simulation;

/// <summary>
/// Hand-written instruction sequences for semantic unit tests, assembled by clang-19 (the installed toolchain) into
/// one bare-metal RV32 ELF per suite: each snippet is a label followed by its instructions and a <c>wfi</c>, which
/// stops the simulator (StopKind.Halted). A 256-byte zeroed <c>scratch</c> buffer is there for memory tests.
/// <see cref="Run"/> loads the ELF into a fresh machine (RV32IMAFC + Zfh + V/Zvfh + Zbb, VLEN 128 unless given,
/// 16 MiB RAM at 0x80000000), turns the FPU and vector unit on, and runs one snippet from its label.
/// </summary>
public class AsmSuite : IDisposable
{
    public const string March = "rv32imafcv_zfh_zvfh_zbb";
    public const IsaFeatures AllFeatures = IsaFeatures.M | IsaFeatures.A | IsaFeatures.F | IsaFeatures.C | IsaFeatures.Zfh
        | IsaFeatures.V | IsaFeatures.Zvfh | IsaFeatures.Zbb;

    private readonly TempDir _tmp = new();

    /// <param name="entry">The snippet the ELF entry point (<c>_start</c>) jumps to; none: <c>_start</c> is a wfi.</param>
    public AsmSuite(IEnumerable<(string Name, string Source)> snippets, string march = March, string? entry = null)
    {
        var text = new StringBuilder($".option norelax\n.text\n.globl _start\n_start:\n    {(entry is null ? "wfi" : "j " + entry)}\n");
        foreach (var (name, source) in snippets)
            text.Append($".globl {name}\n{name}:\n{source}\n    wfi\n");
        text.Append(".data\n.balign 16\n.globl scratch\nscratch:\n    .space 256\n");
        var asm = _tmp.File("suite.S");
        File.WriteAllText(asm, text.ToString());
        Elf = Link(asm, march);
        Program = ElfProgram.Load(Elf);
    }

    public string Elf { get; }

    /// <summary>Assembles and links <paramref name="asm"/> with clang-19 at 0x80000000 (text, then data); returns the ELF path.</summary>
    public static string Link(string asm, string march)
    {
        var elf = Path.ChangeExtension(asm, ".elf");
        var script = Path.ChangeExtension(asm, ".ld");
        File.WriteAllText(script, "ENTRY(_start)\nSECTIONS {\n  . = 0x80000000;\n  .text : { *(.text*) }\n  . = ALIGN(16);\n  .data : { *(.data*) }\n}\n");
        var r = QemuRunner.Exec("clang-19",
            $"--target=riscv32-unknown-elf -march={march} -mabi=ilp32f -nostdlib -fuse-ld=lld -Wl,-T,\"{script}\" -Wl,--no-relax -o \"{elf}\" \"{asm}\"");
        if (r.Code != 0) throw new InvalidOperationException($"clang-19 failed:\n{r.Stdout}{r.Stderr}");
        return elf;
    }
    public ElfProgram Program { get; }

    public static MachineConfig Config(int vlen = 128, IsaFeatures features = AllFeatures) =>
        new("test-rv32", 0x80000000, 16 << 20, features, vlen);

    /// <summary>Runs snippet <paramref name="name"/>; the outcome and the machine to inspect.</summary>
    public (RunOutcome Outcome, Machine Machine, string Stdout) RunRaw(string name, MachineConfig? config = null, ulong maxInstructions = 1_000_000)
    {
        using var stdout = new MemoryStream();
        var machine = new Machine(config ?? Config(), stdout, Stream.Null);
        machine.Load(Program);
        machine.Hart.Pc = Program.Labels[name];
        machine.Hart.Csr.TryWrite(Csr.Mstatus, Csr.MstatusFs | Csr.MstatusVs);
        var outcome = new Executor(machine).Run(maxInstructions);
        return (outcome, machine, Encoding.ASCII.GetString(stdout.ToArray()));
    }

    /// <summary>Runs snippet <paramref name="name"/>, which must end at its wfi; returns the hart.</summary>
    public Hart Run(string name, MachineConfig? config = null)
    {
        var (outcome, machine, _) = RunRaw(name, config);
        Assert.True(outcome.Kind == StopKind.Halted, $"{name}: stopped with {outcome.Kind}: {outcome.Report}");
        return machine.Hart;
    }

    /// <summary>Address of a label (e.g. scratch).</summary>
    public uint Label(string name) => Program.Labels[name];

    /// <summary>A semihosting call as QEMU recognises it (operation in a0 and parameter in a1 set before).</summary>
    public const string SemihostingCall =
        "        .balign 16\n        .option push\n        .option norvc\n        slli zero, zero, 0x1f\n        ebreak\n        srai zero, zero, 7\n        .option pop\n";

    /// <summary>A snippet that prints <paramref name="text"/> (SYS_WRITE0; assembler string syntax) and exits with <paramref name="status"/> (SYS_EXIT_EXTENDED).</summary>
    public static string PrintAndExit(string text, int status) =>
        "        la a1, 91f\n        li a0, 4\n" + SemihostingCall +
        "        la a1, 92f\n        li a0, 0x20\n" + SemihostingCall +
        $"        j .\n        .balign 4\n        91: .asciz \"{text}\"\n        .balign 4\n        92: .word 0x20026, {status}\n";

    /// <summary>Asserts register values by ABI name (integer "a0", floating-point "fa0"), listing every mismatch.</summary>
    public static void Expect(Hart h, params (string Register, uint Value)[] expected)
    {
        var wrong = expected
            .Select(e => (e.Register, e.Value, Actual: Enumerable.Range(0, 32).Any(i => Disassembler.X(i) == e.Register) ? X(h, e.Register) : F(h, e.Register)))
            .Where(e => e.Actual != e.Value)
            .Select(e => $"{e.Register} = 0x{e.Actual:x8}, expected 0x{e.Value:x8}")
            .ToArray();
        Assert.True(wrong.Length == 0, string.Join("\n", wrong));
    }

    /// <summary>Integer register by ABI name ("a0", "t1", ...).</summary>
    public static uint X(Hart h, string abiName) => h.X[Enumerable.Range(0, 32).Single(i => Disassembler.X(i) == abiName)];

    /// <summary>Floating-point register by ABI name ("fa0", ...), raw bits.</summary>
    public static uint F(Hart h, string abiName) => h.F[Enumerable.Range(0, 32).Single(i => Disassembler.F(i) == abiName)];

    public void Dispose()
    {
        _tmp.Dispose();
        GC.SuppressFinalize(this);
    }
}
