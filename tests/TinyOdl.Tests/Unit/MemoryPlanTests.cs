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

    /// <summary>conv -> batch norm -> ReLU (in place) -> conv -> residual add (in place) -> ReLU -> pool -> linear.</summary>
    private static Model Cnn(Precision precision)
    {
        var b = new ModelBuilder("cnn", new Shape(2, 6, 6), seed: 4) { DefaultPrecision = precision };
        var same = new Window2d(6, 6, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1);
        var a = b.Relu("r1", b.BatchNorm("bn1", b.Conv2d("c1", b.Input, 4, same), variance: [0.5f, 2f, 1f, 1.5f]));
        var s = b.Relu("r2", b.Add("sum", a, b.Conv2d("c2", a, 4, same)));
        var y = b.Linear("fc", b.Flatten("flat", b.Pool("pool", s, PoolKind.Max, new Window2d(6, 6, 2, 2, 2, 2))), 3);
        return b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.05f, 0.9f));
    }

    [Theory]
    [InlineData(Precision.Fp32)]
    [InlineData(Precision.Fp16)]
    [InlineData(Precision.Fp16Mixed)]
    public void InPlaceCnnChangesNoBits(Precision precision) => SharedEqualsUnshared(Cnn(precision), steps: 5, seed: 5);

    /// <summary>Trains the model with the shared (in-place) plan and with a slot per tensor: every loss and final parameter bit agree.</summary>
    private static void SharedEqualsUnshared(Model model, int steps, ulong seed)
    {
        var sharedProgram = Pipeline.Compile(model).Program;
        var unsharedProgram = Pipeline.Compile(model, shareMemory: false).Program;
        var shared = new Evaluator(sharedProgram);
        var unshared = new Evaluator(unsharedProgram);
        shared.Init();
        unshared.Init();
        var rng = new SplitMix64(seed);
        for (int step = 0; step < steps; step++)
        {
            var x = Enumerable.Range(0, sharedProgram.InputSize).Select(_ => rng.NextSymmetric(1f)).ToArray();
            var t = new float[sharedProgram.TargetSize];
            t[rng.NextInt(t.Length)] = 1f;
            Assert.Equal(BitConverter.SingleToUInt32Bits(unshared.TrainStep(x, t)), BitConverter.SingleToUInt32Bits(shared.TrainStep(x, t)));
        }
        for (int p = 0; p < unsharedProgram.Parameters.Count; p++)
            Assert.Equal(unshared.ReadBits(unsharedProgram.Parameters[p].Buffer), shared.ReadBits(sharedProgram.Parameters[p].Buffer));
    }

    /// <summary>ReLU's backward reads its output, so a batch norm's output dies at the ReLU and its bytes can hold the ReLU's output.</summary>
    [Fact]
    public void ReluBackwardReadsTheOutputSoItsInputIsNotKept()
    {
        var g = Autodiff.Build(Cnn(Precision.Fp32));
        var relu = g.Ops.OfType<ReluForward>().Single(o => o.Name == "r1");
        var backward = g.Ops.OfType<ReluBackward>().Single(o => o.Name == "r1_backward");
        Assert.Same(relu.Y, backward.X);
        int readers = g.Ops.Count(o => o.Reads.Contains(relu.X));
        Assert.Equal(1, readers);
        Assert.True(relu.IsElementwise);
    }

    public static TheoryData<int, Precision> Models => new()
    {
        { 16, Precision.Fp32 }, { 7, Precision.Fp32 }, { 16, Precision.Fp16 }, { 9, Precision.Fp16Mixed },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void SharingChangesNoBits(int width, Precision precision) => SharedEqualsUnshared(Mlp(width, precision), steps: 20, seed: 3);

    [Fact]
    public void OverlappingLifetimesNeverShareBytesAndTheArenaReachesTheLowerBound()
    {
        var g = Autodiff.Build(Mlp(16));
        var plan = MemoryPlan.Build(g);
        // Half steps: op i reads at 2i, writes at 2i + 1; an element-wise op's inputs may die at its read.
        var end = 2 * g.Ops.Count;
        (int, int) Life(TrainingTensor t)
        {
            if (MemoryPlan.IsPersistent(t)) return (0, end);
            var times = Enumerable.Range(0, g.Ops.Count).SelectMany(i =>
                (g.Ops[i].Reads.Contains(t) ? new[] { 2 * i, g.Ops[i].IsElementwise ? 2 * i : 2 * i + 1 } : [])
                .Concat(g.Ops[i].Writes.Contains(t) ? new[] { 2 * i + 1 } : [])).ToArray();
            return (times.Min(), times.Max());
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
