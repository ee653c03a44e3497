using TinyOdl.Graph;
using TinyOdl.Passes;

namespace TinyOdl.Tests.Unit;

public class UpdatePolicyTests
{
    private static Model Mlp()
    {
        var b = new ModelBuilder("mlp", new Shape(6), seed: 5);
        var h = b.Relu("r1", b.Linear("fc1", b.Input, 5));
        h = b.Relu("r2", b.Linear("fc2", h, 4));
        return b.SoftmaxCrossEntropy("loss", b.Linear("fc3", h, 3)).Build(new SgdOptimizer(0.1f, 0.9f));
    }

    private static string[] Trainable(Model m) => m.Parameters.Where(p => p.Trainable).Select(p => p.Name).ToArray();

    [Fact]
    public void PoliciesSetTheTrainableFlagsAndKeepTheWeights()
    {
        var m = Mlp();
        Assert.Equal(m.Parameters.Select(p => p.Name), Trainable(UpdatePolicy.Full.Apply(m)));
        Assert.Equal(["fc1_bias", "fc2_bias", "fc3_bias"], Trainable(UpdatePolicy.BiasOnly.Apply(m)));
        Assert.Equal(["fc2_weight", "fc2_bias", "fc3_weight", "fc3_bias"], Trainable(UpdatePolicy.Last(2).Apply(m)));
        var last1 = UpdatePolicy.Last(1).Apply(m);
        Assert.Equal(m.Parameters.Select(p => p.Initial.ToArray()), last1.Parameters.Select(p => p.Initial.ToArray()));
        Assert.Equal(["full", "bias-only", "last-2", "last-1"], UpdatePolicy.All(m).Select(p => p.Name));
    }

    [Fact]
    public void LastLayerTrainingComputesNoGradientBelowIt()
    {
        var g = Autodiff.Build(UpdatePolicy.Last(1).Apply(Mlp()));
        Assert.DoesNotContain(g.Ops, o => o is LinearInputGradient);
        Assert.Equal(["fc3_weight_gradient"], g.Ops.OfType<LinearWeightGradient>().Select(o => o.Name));
        Assert.True(MemoryPlan.Build(g).ArenaBytes < MemoryPlan.Build(Autodiff.Build(Mlp())).ArenaBytes);
    }

    [Fact]
    public void BiasOnlyStillPropagatesGradientsButComputesNoWeightGradients()
    {
        var g = Autodiff.Build(UpdatePolicy.BiasOnly.Apply(Mlp()));
        Assert.Empty(g.Ops.OfType<LinearWeightGradient>());
        Assert.Equal(2, g.Ops.OfType<LinearInputGradient>().Count());
        Assert.Equal(3, g.Ops.OfType<SgdUpdate>().Count());
    }

    /// <summary>conv -> batch norm -> ReLU -> depthwise conv -> ReLU -> global average pool -> linear.</summary>
    private static Model Cnn()
    {
        var b = new ModelBuilder("cnn", new Shape(2, 5, 5), seed: 6);
        var same = new Window2d(5, 5, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1);
        var h = b.Relu("r1", b.BatchNorm("bn1", b.Conv2d("c1", b.Input, 4, same)));
        h = b.Relu("r2", b.Conv2d("dw", h, 4, same, groups: 4));
        var y = b.Linear("fc", b.Flatten("flat", b.GlobalAveragePool("gap", h)), 3);
        return b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.1f, 0.9f));
    }

    [Fact]
    public void CnnPoliciesCoverConvolutionsAndBatchNorms()
    {
        var m = Cnn();
        Assert.Equal(["c1_bias", "bn1_bias", "dw_bias", "fc_bias"], Trainable(UpdatePolicy.BiasOnly.Apply(m)));
        Assert.Equal(["dw_weight", "dw_bias", "fc_weight", "fc_bias"], Trainable(UpdatePolicy.Last(2).Apply(m)));
        Assert.Equal(["full", "bias-only", "last-3", "last-2", "last-1"], UpdatePolicy.All(m).Select(p => p.Name));
        Assert.DoesNotContain(m.Parameters, p => p.Name.EndsWith("_mean", StringComparison.Ordinal) && p.Trainable);
    }

    /// <summary>
    /// With only the last layer trained, nothing below it needs a gradient: no convolution or batch-norm backward op
    /// runs, and every convolutional activation dies in the forward pass (the backward keeps only the head's input).
    /// </summary>
    [Fact]
    public void LastLayerCnnKeepsNoConvolutionActivationsForBackward()
    {
        var g = Autodiff.Build(UpdatePolicy.Last(1).Apply(Cnn()));
        Assert.DoesNotContain(g.Ops, o => o is ConvWeightGradient or ConvInputGradient or ChannelSumGradient or BatchNormScaleGradient or BatchNormInputGradient or PoolBackward);
        var backward = g.Ops.Where(o => o.Phase is Phase.Backward or Phase.Update).ToArray();
        var convActivations = g.Tensors.Where(t => t.Role == TensorRole.Activation && t.Name is "c1" or "bn1" or "r1" or "dw" or "r2").ToArray();
        Assert.Equal(5, convActivations.Length);
        Assert.DoesNotContain(backward, o => o.Reads.Intersect(convActivations).Any());
        var full = MemoryPlan.Build(Autodiff.Build(Cnn()));
        Assert.True(MemoryPlan.Build(g).ArenaBytes < full.ArenaBytes);
    }

    [Theory]
    [InlineData("last-0", "--update: unknown update policy 'last-0'; expected full, bias-only or last-K (K >= 1)")]
    [InlineData("some", "--update: unknown update policy 'some'; expected full, bias-only or last-K (K >= 1)")]
    public void BadNames(string text, string message) =>
        Assert.Equal(message, Assert.Throws<TinyOdlException>(() => UpdatePolicy.Parse(text, "--update")).Message);

    [Fact]
    public void MoreLayersThanTheModelHas() =>
        Assert.Equal("update policy last-4: model 'mlp' has only 3 layers with parameters",
            Assert.Throws<TinyOdlException>(() => UpdatePolicy.Last(4).Apply(Mlp())).Message);
}
