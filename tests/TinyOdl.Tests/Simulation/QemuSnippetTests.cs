using System.Text;
using TinyOdl.Simulation;
using TinyOdl.Targets;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.Simulation;

/// <summary>
/// The semantic unit-test snippets run once more, chained in one program, on QEMU and on the simulator: after each
/// snippet a dump routine prints every x, f and v register and the scratch buffer through semihosting, so QEMU is
/// the oracle for every instruction the snippets use (beyond the hand-worked values the unit tests assert).
/// </summary>
public sealed class QemuSnippetTests
{
    /// <summary>Snippets whose results QEMU and the simulator must agree on (counters, misa and the stop cases differ by design).</summary>
    private static readonly string[] Excluded = ["counters", "no_handler", "forever", "semihosting_exit", "fp_off", "vill"];

    private const string QemuCpu = "rv32,Zfh=true,v=true,vlen=128,elen=64,vext_spec=v1.0";

    /// <summary>Prints "snippet NAME", then x1..x31, f0..f31, v0..v31 and scratch as hexadecimal words, 8 per line.</summary>
    private const string Dump = """
        .text
        .balign 4
        __dump:
            csrw mscratch, t0
            la t0, __save
            sw x1, 4(t0)
            sw x2, 8(t0)
            sw x3, 12(t0)
            sw x4, 16(t0)
            sw x6, 24(t0)
            sw x7, 28(t0)
            sw x8, 32(t0)
            sw x9, 36(t0)
            sw x10, 40(t0)
            sw x11, 44(t0)
            sw x12, 48(t0)
            sw x13, 52(t0)
            sw x14, 56(t0)
            sw x15, 60(t0)
            sw x16, 64(t0)
            sw x17, 68(t0)
            sw x18, 72(t0)
            sw x19, 76(t0)
            sw x20, 80(t0)
            sw x21, 84(t0)
            sw x22, 88(t0)
            sw x23, 92(t0)
            sw x24, 96(t0)
            sw x25, 100(t0)
            sw x26, 104(t0)
            sw x27, 108(t0)
            sw x28, 112(t0)
            sw x29, 116(t0)
            sw x30, 120(t0)
            sw x31, 124(t0)
            csrr t1, mscratch
            sw t1, 20(t0)
            addi t1, t0, 128
            .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
            fsw f\n, (\n * 4)(t1)
            .endr
            vsetvli t2, zero, e8, m8, ta, ma
            addi t1, t0, 256
            vs8r.v v0, (t1)
            addi t1, t1, 128
            vs8r.v v8, (t1)
            addi t1, t1, 128
            vs8r.v v16, (t1)
            addi t1, t1, 128
            vs8r.v v24, (t1)
            csrw fcsr, zero
            mv s11, ra
            mv a1, s10
            li a0, 4
        """ + "\n" + AsmSuite.SemihostingCall + """
            la a2, __save
            li a3, 192
            jal ra, __print
            la a2, scratch
            li a3, 64
            jal ra, __print
            mv ra, s11
            ret
        __print:
            mv s9, ra
        1:  la a4, __line
            li a5, 8
        2:  lw a6, 0(a2)
            li a7, 8
        3:  srli t2, a6, 28
            la t3, __hex
            add t3, t3, t2
            lbu t3, 0(t3)
            sb t3, 0(a4)
            addi a4, a4, 1
            slli a6, a6, 4
            addi a7, a7, -1
            bnez a7, 3b
            li t3, 32
            sb t3, 0(a4)
            addi a4, a4, 1
            addi a2, a2, 4
            addi a5, a5, -1
            bnez a5, 2b
            li t3, 10
            sb t3, 0(a4)
            sb zero, 1(a4)
            la a1, __line
            li a0, 4
        """ + "\n" + AsmSuite.SemihostingCall + """
            addi a3, a3, -8
            bnez a3, 1b
            mv ra, s9
            ret
        .data
        .balign 16
        __save: .space 768
        __line: .space 96
        __hex: .ascii "0123456789abcdef"
        """;

    private static string Program(IReadOnlyList<(string Name, string Source)> snippets)
    {
        var text = new StringBuilder(".option norelax\n.text\n.globl _start\n_start:\n    li t0, 0x6600\n    csrs mstatus, t0\n");
        foreach (var (name, source) in snippets)
        {
            text.Append($"    j {name}\n    .data\n{name}_title: .asciz \"snippet {name}\\n\"\n    .text\n");
            text.Append($"{name}:\n{source}\n    la s10, {name}_title\n    jal ra, __dump\n");
        }
        text.Append(AsmSuite.PrintAndExit("done\\n", 0));
        text.Append(Dump);
        text.Append("\n.data\n.balign 16\n.globl scratch\nscratch:\n    .space 256\n");
        return text.ToString();
    }

    [Fact]
    public void Snippets_leave_the_same_registers_and_memory_as_on_qemu()
    {
        var snippets = IntegerSnippets.Sources.Concat(FloatSnippets.Sources).Concat(VectorSnippets.Sources)
            .Concat(QemuOnlySnippets.Sources).Concat(TrapSnippets.Sources)
            .Where(s => !Excluded.Contains(s.Name)).ToArray();
        using var tmp = new TempDir();
        var asm = tmp.File("chain.S");
        File.WriteAllText(asm, Program(snippets));
        var elf = AsmSuite.Link(asm, AsmSuite.March);

        var qemu = QemuRunner.Exec("qemu-system-riscv32",
            $"-M virt -cpu {QemuCpu} -m 128M -bios none -display none -monitor none -serial none -icount shift=0 " +
            $"-chardev stdio,id=console -semihosting-config enable=on,target=native,chardev=console -kernel \"{elf}\"");
        var board = Board.Load("qemu-virt-rv32-zvfh");
        var (result, stdout, _) = Simulator.RunCaptured(elf, board);

        if (Environment.GetEnvironmentVariable("TINYODL_SNIPPET_DUMPS") is { Length: > 0 } dumps)
        {
            // For debugging a difference: both dumps side by side.
            Directory.CreateDirectory(dumps);
            File.WriteAllText(Path.Combine(dumps, "qemu.txt"), qemu.Stdout);
            File.WriteAllText(Path.Combine(dumps, "sim.txt"), stdout);
        }
        Assert.True(qemu.Code == 0 && qemu.Stdout.EndsWith("done\n", StringComparison.Ordinal), $"QEMU: exit {qemu.Code}\n{qemu.Stderr}");
        Assert.True(result.ExitStatus == 0, $"simulator: {result.Stop} {result.Report}");
        var q = qemu.Stdout.Split('\n');
        var s = stdout.Split('\n');
        for (int i = 0; i < Math.Max(q.Length, s.Length); i++)
        {
            string a = i < q.Length ? q[i] : "(end)", b = i < s.Length ? s[i] : "(end)";
            if (a == b) continue;
            string snippet = q.Take(i).LastOrDefault(l => l.StartsWith("snippet ", StringComparison.Ordinal)) ?? "(before the first snippet)";
            Assert.Fail($"{snippet}: dump line {i + 1} differs (x regs: lines 1-4, f: 5-8, v: 9-24, scratch: 25-32 after the title)\n  QEMU: {a}\n  sim:  {b}");
        }
        Assert.Equal(snippets.Length, s.Count(l => l.StartsWith("snippet ", StringComparison.Ordinal)));
    }
}
