using TinyOdl.Simulation.Timing;
using static TinyOdl.Tests.Simulation.Timing.TimingHarness;

namespace TinyOdl.Tests.Simulation.Timing;

/// <summary>
/// Scalar sequences for <see cref="ScalarTimingTests"/>. Every snippet is assembled without compressed instructions
/// (<c>.option norvc</c>), so every label is word-aligned and only <see cref="JumpSnippets"/> meets the unaligned-target
/// rule on purpose.
/// </summary>
public sealed class ScalarSnippets() : AsmSuite(
[
    ("load_use", ".option norvc\n la a0, scratch\n lw t1, 0(a0)\n addi t2, t1, 1"),
    ("load_independent", ".option norvc\n la a0, scratch\n lw t1, 0(a0)\n addi t2, t0, 1\n addi t3, t1, 1"),
    ("load_use_fp", ".option norvc\n la a0, scratch\n flw fa0, 0(a0)\n fadd.s fa1, fa0, fa0"),
    ("loop", ".option norvc\n li t0, 4\n1: addi t0, t0, -1\n bnez t0, 1b"),
    ("branch_taken", ".option norvc\n li t0, 0\n beqz t0, 1f\n addi t1, t1, 1\n1: addi t2, t2, 1"),
    ("branch_not_taken", ".option norvc\n li t0, 1\n beqz t0, 1f\n addi t1, t1, 1\n1: addi t2, t2, 1"),
    ("jalr_dependent", ".option norvc\n la t0, 1f\n jr t0\n addi t1, t1, 1\n1: addi t2, t2, 1"),
    ("jalr_independent", ".option norvc\n la t0, 1f\n addi t3, t3, 1\n jr t0\n addi t1, t1, 1\n1: addi t2, t2, 1"),
    ("mul_use", ".option norvc\n mul t0, t1, t2\n addi t3, t0, 1"),
    ("mulh_use", ".option norvc\n mulh t0, t1, t2\n addi t3, t0, 1"),
    ("div_use", ".option norvc\n li t2, 3\n div t0, t1, t2\n addi t3, t0, 1"),
    ("csr", ".option norvc\n csrr a0, minstret\n csrr a1, fflags"),
    ("fma_chain", ".option norvc\n fmadd.s fa0, fa1, fa2, fa0\n fmadd.s fa0, fa1, fa2, fa0\n fmadd.s fa0, fa1, fa2, fa0\n fmadd.s fa0, fa1, fa2, fa0"),
    ("fma_interleaved", ".option norvc\n fmadd.s fa0, fa1, fa2, fa0\n fmadd.s fa3, fa1, fa2, fa3\n fmadd.s fa0, fa1, fa2, fa0\n fmadd.s fa3, fa1, fa2, fa3"),
    ("fma_chain_h", ".option norvc\n fmadd.h fa0, fa1, fa2, fa0\n fmadd.h fa0, fa1, fa2, fa0\n fmadd.h fa0, fa1, fa2, fa0\n fmadd.h fa0, fa1, fa2, fa0"),
    ("fma_interleaved_h", ".option norvc\n fmadd.h fa0, fa1, fa2, fa0\n fmadd.h fa3, fa1, fa2, fa3\n fmadd.h fa0, fa1, fa2, fa0\n fmadd.h fa3, fa1, fa2, fa3"),
    ("compare_use", ".option norvc\n flt.s a0, fa1, fa2\n addi a1, a0, 1"),
    ("fdiv_use", ".option norvc\n fdiv.s fa0, fa1, fa2\n fadd.s fa3, fa0, fa1"),
    ("fdiv_hidden", ".option norvc\n fdiv.s fa0, fa1, fa2\n addi t0, t0, 1\n addi t1, t1, 1\n addi t2, t2, 1\n addi t3, t3, 1\n addi t4, t4, 1\n fadd.s fa3, fa0, fa1"),
    ("fdiv_then_fpu", ".option norvc\n fdiv.s fa0, fa1, fa2\n fadd.s fa3, fa4, fa5"),
]);

/// <summary>Jumps to word-aligned and to non-word-aligned targets, laid out by hand.</summary>
public sealed class JumpSnippets() : AsmSuite(
[
    ("jump_aligned", ".option norvc\n j 1f\n nop\n1: addi t1, t1, 1"),
    // The target is a 32-bit instruction at 4k + 6; a c.nop after it realigns what follows.
    ("jump_unaligned", ".option norvc\n j 1f\n .option rvc\n c.nop\n .option norvc\n1: addi t1, t1, 1\n .option rvc\n c.nop\n .option norvc"),
    // The same layout with a compressed target: no extra cycle.
    ("jump_unaligned_rvc", ".option norvc\n j 1f\n .option rvc\n c.nop\n1: c.addi t1, 1\n .option norvc"),
]);

/// <summary>
/// Cycle counts of hand-written sequences, checked against the CV32E40P manual (Pipeline Details: "Cycle counts per
/// instruction type" and "Hazards"): each expected count is the manual's per-instruction cycles plus its penalties,
/// spelled with the preset's parameters named after them. Variants with other parameters show the model is
/// parameterized rather than a constant per instruction.
/// </summary>
public sealed class ScalarTimingTests(ScalarSnippets s, JumpSnippets jumps) : IClassFixture<ScalarSnippets>, IClassFixture<JumpSnippets>
{
    [Fact]
    public void Snippets_start_word_aligned()
    {
        foreach (var name in new[] { "load_use", "loop", "jalr_dependent", "fma_chain", "fdiv_then_fpu" })
            Assert.Equal(0u, s.Label(name) % 4);
        Assert.Equal(0u, jumps.Label("jump_unaligned") % 4);
    }

    [Fact]
    public void A_load_stalls_only_the_instruction_right_after_it_that_uses_its_result()
    {
        // la = auipc + addi (forwarded: no stall), lw, then the consumer.
        var dependent = Time(s, "load_use");
        Assert.Equal(4 * Cv.AluCycles + Cv.LoadUsePenalty, dependent.Cycles);
        Assert.Equal(Cv.LoadUsePenalty, dependent.Stalls(StallKind.Data));

        var independent = Time(s, "load_independent");
        Assert.Equal(5, independent.Instructions);
        Assert.Equal(5 * Cv.AluCycles, independent.Cycles);
        Assert.Equal(0, independent.Stalls(StallKind.Data));

        Assert.Equal(4 + Cv.LoadUsePenalty, Time(s, "load_use_fp").Cycles);

        // A longer load latency: the independent instruction in between hides one cycle of it, not all.
        var slow = Cv with { LoadUsePenalty = 3 };
        Assert.Equal(4 + 3, Time(s, "load_use", slow).Cycles);
        Assert.Equal(5 + 3 - 1, Time(s, "load_independent", slow).Cycles);
    }

    [Fact]
    public void Taken_branches_cost_three_cycles_and_not_taken_ones_one()
    {
        // li; 4 x (addi; bnez): three taken, the last one falls through.
        var loop = Time(s, "loop");
        Assert.Equal(9, loop.Instructions);
        Assert.Equal(1 + 4 * Cv.AluCycles + 3 * Cv.BranchTakenCycles + Cv.BranchNotTakenCycles, loop.Cycles);
        Assert.Equal(3 * (Cv.BranchTakenCycles - 1), loop.Stalls(StallKind.Control));

        Assert.Equal(1 + Cv.BranchTakenCycles + 1, Time(s, "branch_taken").Cycles);             // li, beqz (taken), addi
        Assert.Equal(1 + Cv.BranchNotTakenCycles + 1 + 1, Time(s, "branch_not_taken").Cycles);  // li, beqz, addi, addi
        Assert.Equal(3, Cv.BranchTakenCycles);
        Assert.Equal(1, Cv.BranchNotTakenCycles);
    }

    [Fact]
    public void Jumps_cost_two_cycles_and_one_more_to_an_unaligned_32_bit_target()
    {
        Assert.Equal(Cv.JumpCycles + 1, Time(jumps, "jump_aligned").Cycles);                                   // j, addi
        Assert.Equal(Cv.JumpCycles + Cv.UnalignedTargetPenalty + 1 + 1, Time(jumps, "jump_unaligned").Cycles); // j, addi, c.nop
        Assert.Equal(Cv.JumpCycles + 1, Time(jumps, "jump_unaligned_rvc").Cycles);                             // j, c.addi
        Assert.Equal((2, 1), (Cv.JumpCycles, Cv.UnalignedTargetPenalty));
    }

    [Fact]
    public void A_jalr_right_after_the_instruction_computing_its_target_waits_one_cycle()
    {
        // auipc, addi t0, jr t0 (needs t0 in ID), addi.
        var dependent = Time(s, "jalr_dependent");
        Assert.Equal(4, dependent.Instructions);
        Assert.Equal(3 + Cv.JalrDependencyPenalty + Cv.JumpCycles, dependent.Cycles);
        var independent = Time(s, "jalr_independent");
        Assert.Equal(5, independent.Instructions);
        Assert.Equal(4 + Cv.JumpCycles, independent.Cycles);
    }

    [Fact]
    public void Mul_is_single_cycle_mulh_takes_five_and_div_holds_the_execute_stage()
    {
        Assert.Equal(Cv.MulCycles + 1, Time(s, "mul_use").Cycles);
        Assert.Equal(Cv.MulhCycles + 1, Time(s, "mulh_use").Cycles);
        Assert.Equal((1, 5), (Cv.MulCycles, Cv.MulhCycles));
        var div = Time(s, "div_use");
        Assert.Equal(1 + Cv.DivCycles + 1, div.Cycles);
        Assert.Equal(Cv.DivCycles - 1, div.Stalls(StallKind.MultiCycle));
        Assert.InRange(Cv.DivCycles, 3, 35);                      // the manual's range
        Assert.Equal(1 + 10 + 1, Time(s, "div_use", Cv with { DivCycles = 10 }).Cycles);
    }

    [Fact]
    public void Counter_csrs_take_four_cycles_and_others_one()
    {
        Assert.Equal(Cv.CsrSlowCycles + Cv.CsrCycles, Time(s, "csr").Cycles);
        Assert.Equal((4, 1), (Cv.CsrSlowCycles, Cv.CsrCycles));
    }

    [Fact]
    public void An_fma_chain_stalls_on_every_link_and_interleaved_fmas_do_not()
    {
        // FPU_ADDMUL_LAT = 1: "1..FPU_ADDMUL_LAT + 1" cycles, the maximum when the next instruction uses the result.
        var chain = Time(s, "fma_chain");
        Assert.Equal(4 + 3 * Cv.FpuAddmulLat, chain.Cycles);
        Assert.Equal(3 * Cv.FpuAddmulLat, chain.Stalls(StallKind.Data));
        var interleaved = Time(s, "fma_interleaved");
        Assert.Equal(4, interleaved.Cycles);
        Assert.Equal(0, interleaved.Stalls(StallKind.Data) + interleaved.Stalls(StallKind.Fpu));

        // FP16 goes through its own (assumed equal) latency parameter.
        Assert.Equal(4 + 3 * Cv.Fp16AddmulLat, Time(s, "fma_chain_h").Cycles);
        Assert.Equal(4, Time(s, "fma_interleaved_h").Cycles);
        Assert.Equal(4 + 3 * 3, Time(s, "fma_chain_h", Cv with { Fp16AddmulLat = 3 }).Cycles);
        Assert.Equal(4 + 3, Time(s, "fma_chain", Cv with { Fp16AddmulLat = 3 }).Cycles);   // FP32 unchanged
    }

    [Fact]
    public void With_more_than_one_fpu_pipeline_register_fpu_instructions_no_longer_overlap()
    {
        // openhwgroup/cv32e40p issue 1033: with FPU_*_LAT > 1 each FPU instruction waits for the previous one.
        var lat2 = Cv with { FpuAddmulLat = 2 };
        long chain = Time(s, "fma_chain", lat2).Cycles, interleaved = Time(s, "fma_interleaved", lat2).Cycles;
        Assert.Equal(1 + 3 * (1 + 2), chain);
        Assert.Equal(chain, interleaved);
    }

    [Fact]
    public void Fp_comparisons_have_the_others_latency()
    {
        Assert.Equal(2 + Cv.FpuOthersLat, Time(s, "compare_use").Cycles);
        Assert.Equal(2 + 3, Time(s, "compare_use", Cv with { FpuOthersLat = 3 }).Cycles);
    }

    [Fact]
    public void Fdiv_takes_its_full_latency_only_when_the_result_is_used_at_once()
    {
        // "Single Precision Floating-Point Division and Square-Root: 1..19".
        var use = Time(s, "fdiv_use");
        Assert.Equal(Cv.FpDivSqrtCycles + 1, use.Cycles);
        Assert.Equal(19, Cv.FpDivSqrtCycles);
        // Five independent integer instructions run while the divider works: same total, fewer stall cycles.
        var hidden = Time(s, "fdiv_hidden");
        Assert.Equal(7, hidden.Instructions);
        Assert.Equal(Cv.FpDivSqrtCycles + 1, hidden.Cycles);
        Assert.Equal(use.Stalls(StallKind.Data) - 5, hidden.Stalls(StallKind.Data));
        // Another FPU instruction waits for the iterative divider even without a dependency.
        var fpu = Time(s, "fdiv_then_fpu");
        Assert.Equal(Cv.FpDivSqrtCycles + 1, fpu.Cycles);
        Assert.Equal(Cv.FpDivSqrtCycles - 1, fpu.Stalls(StallKind.Fpu));
    }
}
