using TinyOdl.Simulation.Timing;
using static TinyOdl.Tests.Simulation.Timing.TimingHarness;

namespace TinyOdl.Tests.Simulation.Timing;

/// <summary>
/// The vector unit is an assumption (CV32E40P has none; docs/CYCLE_MODEL.md): lanes x lane bits per cycle. These
/// tests check what that description implies: cycles follow VLEN, SEW and the lane count, dependent instructions
/// wait for each other, independent ones pipeline, and the scalar core stalls only for vector results it reads.
/// </summary>
public sealed class VectorTimingTests(VectorSnippets s) : IClassFixture<VectorSnippets>
{
    /// <summary>Element groups of one VLMAX-long instruction: VLEN / SEW elements at lanes x lane bits / SEW per cycle.</summary>
    private static int Beats(CycleModelParameters p, int vlen, int sew) => vlen / sew / (p.VectorLanes * p.VectorLaneBits / sew);

    [Theory]
    [InlineData(128)]
    [InlineData(256)]
    public void Dependent_fmas_pay_beats_plus_latency_per_link_and_independent_ones_keep_the_lanes_busy(int vlen)
    {
        int beats = Beats(Cv, vlen, 32), latency = Cv.FpAddMulLatency(false);
        // vsetvli, then each link of the chain starts when the previous result is ready...
        var chain = Time(s, "chain_e32", vlen: vlen);
        Assert.Equal(1 + Cv.VectorDispatchCycles + 4 * (beats - 1 + latency), chain.CompletionCycle);
        // ...while independent instructions follow each other beat by beat.
        var independent = Time(s, "independent_e32", vlen: vlen);
        Assert.Equal(1 + Cv.VectorDispatchCycles + 4 * beats - 1 + latency, independent.CompletionCycle);
        Assert.Equal(4 * beats, independent.VectorBeats);
    }

    [Fact]
    public void Twice_the_vlen_doubles_the_work_per_instruction_and_the_cycles_but_not_the_rate()
    {
        var narrow = Time(s, "independent_e32", vlen: 128);
        var wide = Time(s, "independent_e32", vlen: 256);
        Assert.Equal(narrow.Instructions, wide.Instructions);
        Assert.Equal(2 * narrow.VectorBeats, wide.VectorBeats);
        Assert.Equal(4 * (Beats(Cv, 256, 32) - Beats(Cv, 128, 32)), wide.CompletionCycle - narrow.CompletionCycle);
        // MACs per beat: the lanes' peak either way.
        Assert.Equal(Cv.PeakMacsPerCycle(32, vector: true), 4.0 * (256 / 32) / wide.VectorBeats);
        Assert.Equal(Cv.PeakMacsPerCycle(32, vector: true), 4.0 * (128 / 32) / narrow.VectorBeats);
    }

    [Fact]
    public void Half_the_element_width_doubles_the_elements_per_cycle()
    {
        var e32 = Time(s, "independent_e32", vlen: 256);
        var e16 = Time(s, "independent_e16", vlen: 256);
        Assert.Equal(e32.VectorBeats, e16.VectorBeats);                // twice the elements in the same beats
        Assert.Equal(2 * Cv.PeakMacsPerCycle(32, true), Cv.PeakMacsPerCycle(16, true));
    }

    [Fact]
    public void Fewer_lanes_take_proportionally_more_beats()
    {
        var four = Time(s, "independent_e32", vlen: 256);
        var two = Time(s, "independent_e32", Cv with { VectorLanes = 2 }, vlen: 256);
        Assert.Equal(2 * four.VectorBeats, two.VectorBeats);
        Assert.True(two.CompletionCycle > four.CompletionCycle);
    }

    [Fact]
    public void The_scalar_core_waits_only_for_vector_results_it_reads()
    {
        // vfmv.f.s needs the FMA's result (permute unit, 1 beat); fadd.s then needs fa0.
        var m = Time(s, "to_scalar");
        int fma = 1 + Cv.VectorDispatchCycles + Beats(Cv, 128, 32) - 1 + Cv.FpAddMulLatency(false);
        int move = fma + Cv.VectorIntLat;
        Assert.Equal(move + 1, m.Cycles);                              // fadd.s issues when fa0 arrives
        Assert.True(m.Stalls(StallKind.Data) > 0);
    }

    [Fact]
    public void A_full_dispatch_queue_stalls_the_scalar_core()
    {
        var shallow = Time(s, "divides");
        Assert.True(shallow.Stalls(StallKind.Vector) > 0);
        var deep = Time(s, "divides", Cv with { VectorQueueDepth = 8 });
        Assert.Equal(0, deep.Stalls(StallKind.Vector));
        Assert.True(deep.Cycles < shallow.Cycles);
        Assert.Equal(shallow.CompletionCycle, deep.CompletionCycle);    // the divider is the bottleneck either way
        // Divides are iterative, one element per lane at a time: VLMAX 4 over 4 lanes, the scalar divide's cycles each.
        Assert.Equal(6 * ((128 / 32 + Cv.VectorLanes - 1) / Cv.VectorLanes) * Cv.FpDivSqrtCycles, deep.VectorBeats);
    }

    [Fact]
    public void Strided_loads_move_one_element_per_port_and_unit_stride_ones_a_port_width_each()
    {
        var unit = Time(s, "unit_stride", vlen: 256);
        var strided = Time(s, "strided", vlen: 256);
        int elements = 256 / 32;
        Assert.Equal((elements * 4 + Cv.VectorMemoryPorts * Cv.VectorPortBytes - 1) / (Cv.VectorMemoryPorts * Cv.VectorPortBytes), unit.VectorBeats);
        Assert.Equal((elements + Cv.VectorMemoryPorts - 1) / Cv.VectorMemoryPorts, strided.VectorBeats);
        var fewPorts = Time(s, "strided", Cv with { VectorMemoryPorts = 1 }, vlen: 256);
        Assert.Equal(elements, fewPorts.VectorBeats);
    }

    [Fact]
    public void A_scalar_load_after_a_vector_store_waits_for_the_store()
    {
        var m = Time(s, "store_then_load", vlen: 256);
        // m8 at VLEN 256: 8 registers x 32 bytes through 16 bytes per cycle.
        int beats = 8 * 32 / (Cv.VectorMemoryPorts * Cv.VectorPortBytes);
        Assert.Equal(beats, m.VectorBeats);
        Assert.True(m.Stalls(StallKind.Vector) >= beats - 1, $"vector stalls {m.Stalls(StallKind.Vector)}");
    }
}

/// <summary>Vector sequences: VLMAX-long FMAs at SEW 32 and 16, dependent and independent, and long divides.</summary>
public sealed class VectorSnippets() : AsmSuite(
[
    ("chain_e32", "vsetvli t0, zero, e32, m1, ta, ma\n vfmacc.vv v8, v10, v12\n vfmacc.vv v8, v10, v12\n vfmacc.vv v8, v10, v12\n vfmacc.vv v8, v10, v12"),
    ("independent_e32", "vsetvli t0, zero, e32, m1, ta, ma\n vfmacc.vv v4, v10, v12\n vfmacc.vv v8, v10, v12\n vfmacc.vv v16, v10, v12\n vfmacc.vv v24, v10, v12"),
    ("independent_e16", "vsetvli t0, zero, e16, m1, ta, ma\n vfmacc.vv v4, v10, v12\n vfmacc.vv v8, v10, v12\n vfmacc.vv v16, v10, v12\n vfmacc.vv v24, v10, v12"),
    ("to_scalar", "vsetvli t0, zero, e32, m1, ta, ma\n vfmacc.vv v8, v10, v12\n vfmv.f.s fa0, v8\n fadd.s fa1, fa0, fa0"),
    ("divides", "vsetvli t0, zero, e32, m1, ta, ma\n" + string.Join("\n", Enumerable.Range(1, 6).Select(i => $"vfdiv.vv v{2 * i + 12}, v10, v12")) + "\n addi t1, t1, 1"),
    ("unit_stride", "la a0, scratch\n vsetvli t0, zero, e32, m1, ta, ma\n vle32.v v8, (a0)"),
    ("strided", "la a0, scratch\n li t1, 8\n vsetvli t0, zero, e32, m1, ta, ma\n vlse32.v v8, (a0), t1"),
    ("store_then_load", "la a0, scratch\n vsetvli t0, zero, e32, m8, ta, ma\n vse32.v v8, (a0)\n lw t1, 0(a0)"),
]);
