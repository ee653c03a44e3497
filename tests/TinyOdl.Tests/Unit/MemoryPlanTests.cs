using TinyOdl.Evaluation;
using TinyOdl.Graph;
using TinyOdl.Passes;

namespace TinyOdl.Tests.Unit;

/// <summary>
/// The memory planner reuses arena space between tensors whose lifetimes do not overlap. A wrong plan would be
/// invisible to the bit-exactness checks (the evaluator uses the same arena layout), so these tests check the
/// plan itself and compare shared against unshared runs.
/// </summary>
public class MemoryPlanTests
{
    private static Model Mlp(int width, Precision precision = Precision.Fp32, float momentum = 0.9f)
    {
        var b = new ModelBuilder("mlp", new Shape(12), seed: 9) { DefaultPrecision = precision };
        var h = b.Relu("r1", b.Linear("fc1", b.Input, width));
        h = b.Relu("r2", b.Linear("fc2", h, width));
        var y = b.Linear("fc3", h, 5);
        return b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.05f, momentum, 1e-3f));
    }

    public static TheoryData<int, Precision> Models => new()
    {
        { 16, Precision.Fp32 }, { 7, Precision.Fp32 }, { 16, Precision.Fp16 }, { 9, Precision.Fp16Mixed },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void SharingChangesNoBits(int width, Precision precision)
    {
        var model = Mlp(width, precision);
        var shared = new Evaluator(Pipeline.Compile(model).Program);
        var unsharedProgram = Pipeline.Compile(model, shareMemory: false).Program;
        var unshared = new Evaluator(unsharedProgram);
        shared.Init();
        unshared.Init();
        var rng = new SplitMix64(3);
        for (int step = 0; step < 20; step++)
        {
            var x = Enumerable.Range(0, 12).Select(_ => rng.NextSymmetric(1f)).ToArray();
            var t = new float[5];
            t[rng.NextInt(5)] = 1f;
            Assert.Equal(BitConverter.SingleToUInt32Bits(unshared.TrainStep(x, t)), BitConverter.SingleToUInt32Bits(shared.TrainStep(x, t)));
        }
        var sharedProgram = Pipeline.Compile(model).Program;
        for (int p = 0; p < unsharedProgram.Parameters.Count; p++)
            Assert.Equal(unshared.ReadBits(unsharedProgram.Parameters[p].Buffer), shared.ReadBits(sharedProgram.Parameters[p].Buffer));
    }

    [Fact]
    public void OverlappingLifetimesNeverShareBytesAndTheArenaReachesTheLowerBound()
    {
        var g = Autodiff.Build(Mlp(16));
        var plan = MemoryPlan.Build(g);
        var end = g.Ops.Count;
        (int, int) Life(TrainingTensor t)
        {
            if (MemoryPlan.IsPersistent(t)) return (0, end);
            var uses = Enumerable.Range(0, end).Where(i => g.Ops[i].Reads.Concat(g.Ops[i].Writes).Contains(t)).ToArray();
            return (uses.Min(), uses.Max());
        }
        var slots = g.Tensors.Where(t => !t.IsExternal).Select(t => (T: t, Start: (long)plan.OffsetOf(t), End: plan.OffsetOf(t) + t.Bytes, Life: Life(t))).ToArray();
        foreach (var a in slots)
            foreach (var b in slots)
                if (a.T != b.T && a.Life.Item1 <= b.Life.Item2 && b.Life.Item1 <= a.Life.Item2)
                    Assert.True(a.End <= b.Start || b.End <= a.Start, $"{a.T.Name} and {b.T.Name} are live together but overlap in the arena");
        Assert.All(slots, s => Assert.Equal(0, s.Start % MemoryPlan.Alignment));
        Assert.True(plan.ArenaBytes >= plan.LowerBoundBytes);
        Assert.True(plan.ArenaBytes < g.Tensors.Where(t => !t.IsExternal).Sum(t => t.Bytes), "sharing saved nothing");
        Assert.Contains(plan.LiveAtPeak, t => t.Role == TensorRole.Parameter);
    }

    [Fact]
    public void UpdatesRightAfterEachLayerLetWeightGradientsShareMemory()
    {
        var g = Autodiff.Build(Mlp(16));
        var plan = MemoryPlan.Build(g);
        var dw = g.Tensors.Where(t => t.Role == TensorRole.ParameterGradient).ToArray();
        // fc1's and fc2's weight gradients are never live together: at least one pair shares its bytes.
        Assert.Contains(dw, a => dw.Any(b => a != b && plan.OffsetOf(a) == plan.OffsetOf(b)));
    }
}
