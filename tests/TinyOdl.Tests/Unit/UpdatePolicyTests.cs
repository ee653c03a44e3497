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
