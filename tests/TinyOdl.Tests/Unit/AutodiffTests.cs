using TinyOdl.Graph;
using TinyOdl.Passes;

namespace TinyOdl.Tests.Unit;

public class AutodiffTests
{
    private static Model Mlp(bool trainFirst = true, bool trainFirstBias = true, float momentum = 0.9f)
    {
        var b = new ModelBuilder("mlp", new Shape(6), seed: 5);
        var h = b.Relu("relu1", b.Linear("fc1", b.Input, 4, trainWeight: trainFirst, trainBias: trainFirstBias));
        var y = b.Linear("fc2", h, 3);
        return b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.1f, momentum));
    }

    private static string[] OpNames(TrainingGraph g) => g.Ops.Select(o => o.Name).ToArray();

    [Fact]
    public void FullTrainingStepWithEachUpdateRightAfterItsLayersBackward()
    {
        var g = Autodiff.Build(Mlp());
        Assert.Equal(
            ["fc1", "relu1", "fc2", "loss", "fc2_weight_gradient", "fc2_input_gradient", "fc2_weight_sgd", "fc2_bias_sgd",
             "relu1_backward", "fc1_weight_gradient", "fc1_weight_sgd", "fc1_bias_sgd"],
            OpNames(g));
        // Forward, then the loss, then backward and updates interleaved.
        Assert.True(g.Ops.TakeWhile(o => o.Phase == Phase.Forward).Count() == 3 && g.Ops[3].Phase == Phase.Loss);
        // No op reads a parameter after its update.
        foreach (var u in g.Ops.OfType<SgdUpdate>())
            Assert.DoesNotContain(g.Ops.SkipWhile(o => o != u).Skip(1), o => o.Reads.Contains(u.Param));
    }

    [Fact]
    public void NoInputGradientForTheFirstLayer()
    {
        var g = Autodiff.Build(Mlp());
        Assert.DoesNotContain(g.Ops, o => o is LinearInputGradient { Name: "fc1_input_gradient" });
        Assert.DoesNotContain(g.Tensors, t => t.Name == "d_input");
    }

    [Fact]
    public void FrozenLayerGetsNoGradientNoStateAndStopsBackpropagation()
    {
        var g = Autodiff.Build(Mlp(trainFirst: false, trainFirstBias: false));
        Assert.Equal(new[] { "fc1", "relu1", "fc2", "loss", "fc2_weight_gradient", "fc2_weight_sgd", "fc2_bias_sgd" }, OpNames(g));
        Assert.DoesNotContain(g.Tensors, t => t.Name is "d_fc1_weight" or "v_fc1_weight" or "d_relu1");
    }

    [Fact]
    public void FrozenWeightWithTrainableBiasStillNeedsTheUpstreamGradient()
    {
        var g = Autodiff.Build(Mlp(trainFirst: false, trainFirstBias: true));
        Assert.Contains("relu1_backward", OpNames(g));
        Assert.Contains("fc1_bias_sgd", OpNames(g));
        Assert.DoesNotContain("fc1_weight_gradient", OpNames(g));
        Assert.DoesNotContain("fc1_weight_sgd", OpNames(g));
    }

    [Fact]
    public void BiasGradientIsTheOutputGradientWithoutACopy()
    {
        var g = Autodiff.Build(Mlp());
        var sgd = g.Ops.OfType<SgdUpdate>().Single(o => o.Name == "fc2_bias_sgd");
        Assert.Equal("d_fc2", sgd.Grad.Name);
    }

    [Fact]
    public void NoMomentumMeansNoOptimizerState()
    {
        var g = Autodiff.Build(Mlp(momentum: 0f));
        Assert.DoesNotContain(g.Tensors, t => t.Role == TensorRole.OptimizerState);
        Assert.All(g.Ops.OfType<SgdUpdate>(), u => Assert.Null(u.Velocity));
    }

    [Fact]
    public void AValueUsedTwiceAccumulatesItsGradient()
    {
        var b = new ModelBuilder("fork", new Shape(3));
        var h = b.Relu("h", b.Linear("fc0", b.Input, 3));
        var a = b.Linear("a", h, 3);
        var c = b.Linear("c", h, 2, trainWeight: false, trainBias: false);
        _ = c;
        var model = b.MseLoss("loss", a).Build(new SgdOptimizer(0.1f));
        var g = Autodiff.Build(model);
        // c does not reach the loss: no gradient flows from it, so h's gradient has a single contribution.
        Assert.DoesNotContain(g.Ops, o => o is GradientAccumulate);
        Assert.Contains(g.Ops, o => o.Name == "a_input_gradient");
    }

    [Fact]
    public void UnsharedMemoryPlanSlotsAreAlignedDisjointAndSumByRole()
    {
        var g = Autodiff.Build(Mlp());
        var plan = MemoryPlan.Build(g, share: false);
        var slots = g.Tensors.Where(t => !t.IsExternal).Select(t => (Start: plan.OffsetOf(t), End: plan.OffsetOf(t) + t.Elements * 4)).OrderBy(s => s.Start).ToArray();
        Assert.All(slots, s => Assert.Equal(0, s.Start % MemoryPlan.Alignment));
        for (int i = 1; i < slots.Length; i++) Assert.True(slots[i].Start >= slots[i - 1].End);
        Assert.True(plan.ArenaBytes >= slots[^1].End);
        Assert.Equal(g.Tensors.Where(t => !t.IsExternal).Sum(t => t.Elements * 4), plan.BytesByRole.Values.Sum());
        Assert.Equal((6 * 4 + 4 + 4 * 3 + 3) * 4, plan.BytesByRole[TensorRole.Parameter]);
    }
}
