using TinyOdl.Simulation;

namespace TinyOdl.Tests.Simulation;

/// <summary>The CSR and trap snippets, assembled once for <see cref="CsrAndTrapTests"/>.</summary>
public sealed class TrapSnippets() : AsmSuite(Sources)
{
    public static readonly (string Name, string Source)[] Sources =
    [
        ("counters", """
            csrr s0, minstret
            nop
            nop
            csrr s1, minstret
            csrr s2, cycle
            csrr s3, instret
            csrw minstret, zero
            csrr s4, minstret
            csrwi mcountinhibit, 4
            csrr s5, minstret
            nop
            csrr s6, minstret
            csrwi mcountinhibit, 0
            li t0, 1234
            csrw mhpmcounter3, t0
            csrr s7, mhpmcounter3
            csrr s8, misa
            csrr s9, mhartid
            csrr s10, mcycleh
            """),
        ("illegal_with_handler", """
            la t0, 1f
            csrw mtvec, t0
            illegal_at:
            .word 0xffffffff
            li s3, 1
            .balign 4
            1:  csrr s0, mcause
            csrr s1, mepc
            csrr s2, mtval
            """),
        ("load_fault", """
            la t0, 1f
            csrw mtvec, t0
            li t1, 0x100
            lw t2, 0(t1)
            .balign 4
            1:  csrr s0, mcause
            csrr s2, mtval
            """),
        ("misaligned_lr", """
            la t0, 1f
            csrw mtvec, t0
            la t1, scratch + 2
            lr.w t2, (t1)
            .balign 4
            1:  csrr s0, mcause
            csrr s2, mtval
            """),
        ("ecall_mret", """
            la t0, 1f
            csrw mtvec, t0
            li s1, 0
            ecall
            li s1, 7
            j 2f
            .balign 4
            1:  csrr s0, mcause
            csrr t1, mepc
            addi t1, t1, 4
            csrw mepc, t1
            mret
            2:  nop
            """),
        ("fp_off", """
            la t0, 1f
            csrw mtvec, t0
            li t1, 0x6000
            csrc mstatus, t1
            fadd.s fa0, fa0, fa0
            .balign 4
            1:  csrr s0, mcause
            """),
        ("bad_frm", """
            la t0, 1f
            csrw mtvec, t0
            fadd.s fa0, fa0, fa0, rne
            li s1, 1
            fsrmi 5
            fadd.s fa0, fa0, fa0
            .balign 4
            1:  csrr s0, mcause
            """),
        ("vill", """
            la t0, 1f
            csrw mtvec, t0
            vsetvli zero, zero, e64, mf8, ta, ma
            vadd.vv v1, v1, v1
            .balign 4
            1:  csrr s0, mcause
            """),
        ("no_handler", """
            csrw mtvec, zero
            .word 0x0000ffff
            """),
        ("forever", """
            1:  j 1b
            """),
        ("self_modify", """
            li a0, 0
            li t1, 2
            la t0, 2f
            li t2, 0x00550513
            1:
            .option push
            .option norvc
            2:  addi a0, a0, 1
            .option pop
            sw t2, 0(t0)
            addi t1, t1, -1
            bnez t1, 1b
            """),
        ("semihosting_exit", PrintAndExit("hello from the simulator\\n", 7)),
    ];
}

/// <summary>
/// CSRs (counters as QEMU -icount shift=0 shows them, inhibit, misa), traps taken like hardware (mcause, mepc,
/// mtval, jump to mtvec, mret), traps that cannot be handled, the instruction limit, self-modifying code through the
/// predecode cache, and semihosting output and exit.
/// </summary>
public sealed class CsrAndTrapTests(TrapSnippets suite) : IClassFixture<TrapSnippets>
{
    private static uint X(Hart h, string r) => AsmSuite.X(h, r);

    [Fact]
    public void Counters_count_retired_instructions_like_qemu_icount()
    {
        var h = suite.Run("counters");
        Assert.Equal(3u, X(h, "s1") - X(h, "s0"));                  // two nops and the first read
        AsmSuite.Expect(h,
            ("s2", X(h, "s1") + 1),  // mcycle == minstret
            ("s3", X(h, "s1") + 2),
            ("s4", 1u),  // after writing 0, the next read sees 1 (as QEMU)
            ("s6", X(h, "s5")),  // inhibited: frozen
            ("s7", 1234u),
            ("s8", 0x40000000u | 1u << ('I' - 'A') | 1u << ('M' - 'A') | 1u << ('A' - 'A') | 1u << ('F' - 'A') | 1u << ('C' - 'A') | 1u << ('V' - 'A')),
            ("s9", 0u),
            ("s10", 0u));
    }

    [Fact]
    public void Illegal_instruction_traps_to_mtvec_with_mcause_mepc_mtval()
    {
        var h = suite.Run("illegal_with_handler");
        AsmSuite.Expect(h,
            ("s0", 2u),
            ("s2", 0xffffffffu),  // mtval: the instruction bits (as QEMU 7.2)
            ("s3", 0u),
            ("s1", suite.Label("illegal_at")));
    }

    [Theory]
    [InlineData("load_fault", 5u)]
    [InlineData("misaligned_lr", 4u)]
    [InlineData("fp_off", 2u)]
    [InlineData("bad_frm", 2u)]
    [InlineData("vill", 2u)]
    public void Exceptions_have_the_hardware_cause(string snippet, uint mcause)
    {
        var h = suite.Run(snippet);
        Assert.Equal(mcause, X(h, "s0"));
        if (snippet == "load_fault") Assert.Equal(0x100u, X(h, "s2"));
        if (snippet == "misaligned_lr") Assert.Equal(suite.Label("scratch") + 2, X(h, "s2"));
        if (snippet == "bad_frm") Assert.Equal(1u, X(h, "s1"));    // static rne ran; dynamic rm with frm = 5 is illegal
    }

    [Fact]
    public void Ecall_and_mret_return_past_the_call()
    {
        var h = suite.Run("ecall_mret");
        AsmSuite.Expect(h,
            ("s0", 11u),
            ("s1", 7u));
    }

    [Fact]
    public void A_trap_without_a_handler_stops_with_pc_bits_disassembly_and_mcause()
    {
        var (outcome, _, _) = suite.RunRaw("no_handler");
        Assert.Equal(StopKind.Trap, outcome.Kind);
        Assert.Equal(130, outcome.ExitStatus);
        Assert.NotNull(outcome.Report);
        foreach (var fragment in new[] { "illegal instruction", "mcause 2", $"pc 0x{suite.Label("no_handler") + 4:x8}", "0x0000ffff", "mtvec 0x00000000" })
            Assert.Contains(fragment, outcome.Report);
    }

    [Fact]
    public void A_program_that_never_exits_stops_at_the_instruction_limit()
    {
        var (outcome, machine, _) = suite.RunRaw("forever", maxInstructions: 12345);
        Assert.Equal(StopKind.InstructionLimit, outcome.Kind);
        Assert.Equal(124, outcome.ExitStatus);
        Assert.Equal(12345ul, outcome.Instret);
        Assert.Contains("12,345", outcome.Report);
        Assert.Equal(suite.Label("forever"), machine.Hart.Pc);
    }

    [Fact]
    public void Stores_into_code_invalidate_predecoded_instructions()
    {
        var h = suite.Run("self_modify");
        Assert.Equal(6u, X(h, "a0"));                               // addi 1 ran once, then the patched addi 5
    }

    [Fact]
    public void Semihosting_prints_and_exits_with_the_status()
    {
        var (outcome, _, stdout) = suite.RunRaw("semihosting_exit");
        Assert.Equal(StopKind.Exited, outcome.Kind);
        Assert.Equal(7, outcome.ExitStatus);
        Assert.Equal("hello from the simulator\n", stdout);
    }

    [Fact]
    public void Fp_and_vector_instructions_are_illegal_on_a_hart_without_the_extension()
    {
        var config = AsmSuite.Config(features: IsaFeatures.M | IsaFeatures.A | IsaFeatures.C | IsaFeatures.Zbb);
        Assert.Equal(2u, X(suite.Run("fp_off", config), "s0"));
        Assert.Equal(2u, X(suite.Run("vill", config), "s0"));
    }
}
