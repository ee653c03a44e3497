using TinyOdl.Graph;
using TinyOdl.Passes;
using Xunit.Abstractions;

namespace TinyOdl.Tests.MathTruth;

/// <summary>
/// After one train_step, the arena's gradient buffers against hand-written float64 backpropagation at the
/// pre-update weights: d_fcK_weight = dL/dW, d_fcK = dL/dz (= dL/db), d_reluK = dL/d(ReLU output).
/// Tolerance, normwise per tensor: |g - g64| &lt;= 1e-5 * max(|g64|, max_j |g64_j|) + 1e-7.
/// </summary>
public sealed class GradientTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Nets => NetSpec.Ids;

    [Theory]
    [MemberData(nameof(Nets))]
    public void Gradient_buffers_match_float64_backpropagation(string id)
    {
        var net = NetSpec.Get(id);
        var init = net.Draw(seed: 21);
        var reference = net.Reference(init);
        var rng = new Random(303);
        var agree = new Agreement($"gradients {id}", 1e-5, 1e-7);
        int compared = 0;
        for (int s = 0; s < 4; s++)
        {
            var run = new EvalRun(net.Build(init, new SgdOptimizer(0.05f, 0.9f, 0.01f)));
            var x = TestData.Uniform(rng, net.In, -1f, 1f);
            var t = net.Target(rng);
            run.TrainStep(x, t);
            var (_, grads) = reference.Backward(TestData.ToDouble(x), TestData.ToDouble(t));
            for (int k = 0; k < net.Layers.Count; k++)
            {
                var l = net.Layers[k];
                string fc = $"fc{k + 1}";
                if (l.TrainWeight)
                {
                    agree.CheckTensor(run.Read($"d_{fc}_weight"), grads[$"d_{fc}_weight"], $"sample {s} d_{fc}_weight");
                    compared++;
                }
                if (l.Bias && l.TrainBias)
                    Assert.True(run.Has($"d_{fc}"), $"{fc} has a trainable bias but no d_{fc} buffer holds its gradient");
                foreach (var name in new[] { $"d_{fc}", $"d_relu{k + 1}" })
                    if (run.Has(name))
                    {
                        agree.CheckTensor(run.Read(name), grads[name], $"sample {s} {name}");
                        compared++;
                    }
            }
        }
        Assert.True(compared > 0);
        agree.Verify(output);
    }

    [Theory]
    [MemberData(nameof(Nets))]
    public void Bias_gradient_is_dL_dy_of_the_layer(string id)
    {
        // The bias SGD update must read exactly the buffer holding dL/dz of its layer, the layer's output gradient.
        var net = NetSpec.Get(id);
        var run = new EvalRun(net.Build(net.Draw(seed: 22), new SgdOptimizer(0.05f)));
        for (int k = 0; k < net.Layers.Count; k++)
        {
            var l = net.Layers[k];
            var update = run.Compiled.Graph.Ops.OfType<SgdUpdate>().SingleOrDefault(u => u.Param.Name == $"fc{k + 1}_bias");
            if (!(l.Bias && l.TrainBias))
            {
                Assert.Null(update);
                continue;
            }
            Assert.NotNull(update);
            Assert.Equal($"d_fc{k + 1}", update.Grad.Name);
        }
    }
}
