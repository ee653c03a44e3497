using TinyOdl.Graph;
using TinyOdl.Passes;

namespace TinyOdl.Tests.MathTruth;

/// <summary>
/// What autodiff must (not) emit: no gradient and no update for frozen parameters, no input gradient for the first
/// layer (its input is the model input), nothing upstream of a fully frozen prefix; and frozen values never move.
/// </summary>
public sealed class FrozenAndStructureTests
{
    public static IEnumerable<object[]> Nets => NetSpec.Ids;

    [Theory]
    [MemberData(nameof(Nets))]
    public void First_layer_has_no_input_gradient(string id)
    {
        var net = NetSpec.Get(id);
        var compiled = Pipeline.Compile(net.Build(net.Draw(seed: 41), new SgdOptimizer(0.05f)), shareMemory: false);
        var ops = compiled.Graph.Ops;
        // The first layer's output gradient is d_fc1; an input gradient from it would be dL/d input.
        Assert.DoesNotContain(ops.OfType<LinearInputGradient>(), op => op.DY.Name == "d_fc1" || op.Name.StartsWith("fc1_", StringComparison.Ordinal));
        Assert.DoesNotContain(compiled.Graph.Tensors, t => t.Name == "d_input" || t.Name.StartsWith("d_input_", StringComparison.Ordinal));
        Assert.DoesNotContain(ops, op => op.Writes.Any(w => w.Role == TensorRole.Input));
    }

    [Theory]
    [MemberData(nameof(Nets))]
    public void Frozen_parameters_have_no_gradient_buffer_no_update_and_no_state(string id)
    {
        var net = NetSpec.Get(id);
        var compiled = Pipeline.Compile(net.Build(net.Draw(seed: 42), new SgdOptimizer(0.05f, 0.9f, 0.01f)), shareMemory: false);
        var names = compiled.Program.Buffers.Select(b => b.Name).ToHashSet();
        var updates = compiled.Graph.Ops.OfType<SgdUpdate>().Select(u => u.Param.Name).ToHashSet();
        foreach (var p in compiled.Model.Parameters)
        {
            if (p.Trainable)
            {
                Assert.Contains(p.Name, updates);
                Assert.Contains("v_" + p.Name, names);
                if (p.Name.EndsWith("_weight", StringComparison.Ordinal)) Assert.Contains("d_" + p.Name, names);
            }
            else
            {
                Assert.DoesNotContain(p.Name, updates);
                Assert.DoesNotContain("d_" + p.Name, names);
                Assert.DoesNotContain("v_" + p.Name, names);
                Assert.DoesNotContain(compiled.Graph.Ops.OfType<LinearWeightGradient>(), op => op.DW.Name == "d_" + p.Name);
            }
        }
    }

    [Fact]
    public void A_fully_frozen_first_layer_gets_no_backward_ops_at_all()
    {
        var net = NetSpec.Get("l2-frozen-first");
        var compiled = Pipeline.Compile(net.Build(net.Draw(seed: 43), new SgdOptimizer(0.05f)), shareMemory: false);
        var backward = compiled.Graph.Ops.Where(o => o.Phase == Phase.Backward).ToArray();
        // Only fc2's weight gradient is needed; fc2's bias gradient is d_fc2 (the loss gradient) itself.
        Assert.Equal(["fc2_weight_gradient"], backward.Select(o => o.Name));
        Assert.DoesNotContain(compiled.Graph.Tensors, t => t.Name is "d_relu1" or "d_fc1");
    }

    [Fact]
    public void A_frozen_weight_with_a_trainable_bias_still_gets_the_bias_gradient()
    {
        var net = NetSpec.Get("l2-frozen-first-weight");
        var compiled = Pipeline.Compile(net.Build(net.Draw(seed: 44), new SgdOptimizer(0.05f)), shareMemory: false);
        var ops = compiled.Graph.Ops;
        Assert.DoesNotContain(ops.OfType<LinearWeightGradient>(), o => o.DW.Name == "d_fc1_weight");
        Assert.Contains(ops.OfType<ReluBackward>(), o => o.DX.Name == "d_fc1");
        Assert.Contains(ops.OfType<LinearInputGradient>(), o => o.DX.Name == "d_relu1");
        Assert.Equal("d_fc1", ops.OfType<SgdUpdate>().Single(u => u.Param.Name == "fc1_bias").Grad.Name);
    }

    [Fact]
    public void A_frozen_last_layer_still_propagates_the_gradient_through_its_weights()
    {
        var net = NetSpec.Get("l2-frozen-last");
        var compiled = Pipeline.Compile(net.Build(net.Draw(seed: 45), new SgdOptimizer(0.05f)), shareMemory: false);
        var ops = compiled.Graph.Ops;
        Assert.Contains(ops.OfType<LinearInputGradient>(), o => o.DY.Name == "d_fc2" && o.W.Name == "fc2_weight");
        Assert.DoesNotContain(ops.OfType<SgdUpdate>(), u => u.Param.Name.StartsWith("fc2_", StringComparison.Ordinal));
    }

    [Fact]
    public void Frozen_values_keep_their_bits_while_the_rest_trains()
    {
        var net = NetSpec.Get("l3-frozen-middle");
        var init = net.Draw(seed: 46);
        var run = new EvalRun(net.Build(init, new SgdOptimizer(0.1f, 0.9f, 0.01f)));
        var rng = new Random(7);
        for (int s = 0; s < 30; s++) run.TrainStep(TestData.Uniform(rng, net.In, -1f, 1f), net.Target(rng));
        Assert.Equal(init.W[1], run.Read("fc2_weight"));
        Assert.Equal(init.B[1]!, run.Read("fc2_bias"));
        Assert.Equal(init.B[2]!, run.Read("fc3_bias"));
        Assert.NotEqual(init.W[0], run.Read("fc1_weight"));
        Assert.NotEqual(init.W[2], run.Read("fc3_weight"));
    }
}
