using TinyOdl.Simulation;
using TinyOdl.Simulation.Timing;
using static TinyOdl.Tests.Simulation.Timing.TimingHarness;

namespace TinyOdl.Tests.Simulation.Timing;

/// <summary>
/// A hand-written stand-in for a profiling build: a training step with two regions bracketed like the generated
/// code (<c>tinyodl_region_begin/end(id)</c>, each reading minstret like firmware/profile.c), called twice, then
/// the harness's empty pair outside the step.
/// </summary>
public sealed class RegionProgram() : AsmSuite(
[
    ("main", """
        .option norvc
            la sp, scratch + 256
            la s0, scratch
            jal tinyodl_train_step
            jal tinyodl_train_step
            li a0, 0
            jal tinyodl_region_begin
            li a0, 0
            jal tinyodl_region_end
            j 9f

            .type tinyodl_train_step, @function
        tinyodl_train_step:
            addi sp, sp, -16
            sw ra, 12(sp)
            li a0, 0
            jal tinyodl_region_begin
            addi t0, t0, 1          # region 0: three independent ALU instructions
            addi t1, t1, 1
            addi t2, t2, 1
            li a0, 0
            jal tinyodl_region_end
            li a0, 1
            jal tinyodl_region_begin
            lw t3, 0(s0)            # region 1: a load, its use (one stall), a mulh (5 cycles)
            addi t4, t3, 1
            mulh t5, t1, t2
            li a0, 1
            jal tinyodl_region_end
            lw ra, 12(sp)
            addi sp, sp, 16
            ret
            .size tinyodl_train_step, . - tinyodl_train_step

            .type tinyodl_region_begin, @function
        tinyodl_region_begin:
            csrr a1, minstret
            ret
            .size tinyodl_region_begin, . - tinyodl_region_begin

            .type tinyodl_region_end, @function
        tinyodl_region_end:
            csrr a2, minstret
            ret
            .size tinyodl_region_end, . - tinyodl_region_end
        9:
        """),
]);

/// <summary>
/// <see cref="RegionProfiler"/> reads regions where the firmware does (the minstret reads in the markers), assigns
/// the k-th pair of a training step to region k, takes the pair outside the step as the markers' fixed cost, and
/// after subtracting it leaves exactly the instructions and cycles of the region's own code.
/// </summary>
public sealed class RegionProfilerTests(RegionProgram program) : IClassFixture<RegionProgram>
{
    private RegionProfiler Profile()
    {
        using var stdout = new MemoryStream();
        var machine = new Machine(AsmSuite.Config(), stdout, Stream.Null);
        machine.Load(program.Program);
        machine.Hart.Pc = program.Label("main");
        var profiler = new RegionProfiler(program.Program, new InOrderPipelineModel(Cv));
        var outcome = new Executor(machine).Run(10_000, profiler);
        Assert.Equal(StopKind.Halted, outcome.Kind);
        return profiler;
    }

    [Fact]
    public void Regions_minus_the_markers_cost_are_exactly_their_own_code()
    {
        var p = Profile();
        Assert.Equal(2, p.Regions.Count);
        Assert.All(p.Regions, r => Assert.Equal(2, r.Calls));
        var (markerInstructions, markerCycles) = Assert.Single(p.OverheadSamples);
        // The pair: csrr minstret, ret, li a0, jal: what minstret counts between the two reads.
        Assert.Equal(4, markerInstructions);
        Assert.Equal(Cv.CsrSlowCycles + Cv.JumpCycles + Cv.AluCycles + Cv.JumpCycles, markerCycles);

        long PerCall(RegionTotals r, Func<RegionTotals, long> total, long cost) => (total(r) - r.Calls * cost) / r.Calls;
        Assert.Equal(3, PerCall(p.Regions[0], r => r.Instructions, markerInstructions));
        Assert.Equal(3 * Cv.AluCycles, PerCall(p.Regions[0], r => r.Cycles, markerCycles));
        Assert.Equal(3, PerCall(p.Regions[1], r => r.Instructions, markerInstructions));
        Assert.Equal(Cv.LoadStoreCycles + Cv.LoadUsePenalty + Cv.AluCycles + Cv.MulhCycles, PerCall(p.Regions[1], r => r.Cycles, markerCycles));
    }

    [Fact]
    public void Each_training_step_is_timed_from_its_call_to_its_return()
    {
        var p = Profile();
        Assert.Equal(2, p.Steps.Count);
        // jal, addi, sw, 2 x (li, jal, [2 marker instructions], body, li, jal, [2]), lw, addi, ret.
        long instructions = 1 + 2 + 2 * (2 + 2 + 3 + 2 + 2) + 3;
        Assert.All(p.Steps, s => Assert.Equal(instructions, s.Instructions));
        Assert.All(p.Steps, s => Assert.True(s.Cycles > s.Instructions));
    }

    [Fact]
    public void A_program_without_region_markers_is_rejected_by_name()
    {
        using var plain = new AsmSuite([("spin", "j spin")]);
        var e = Assert.Throws<TinyOdlException>(() => new RegionProfiler(plain.Program, new InOrderPipelineModel(Cv)));
        Assert.Contains(RegionProfiler.TrainStep, e.Message);
        Assert.Contains(plain.Elf, e.Message);
    }
}
