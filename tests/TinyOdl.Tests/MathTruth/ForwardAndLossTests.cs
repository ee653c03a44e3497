using TinyOdl.Graph;
using Xunit.Abstractions;

namespace TinyOdl.Tests.MathTruth;

/// <summary>
/// predict() and the loss returned by train_step, evaluator (float32) against the float64 reference.
/// Tolerance: |y - y64| &lt;= 1e-5 * max(|y64|, S) + 1e-6 with S = sum_i |W[o][i] h[i]| + |b[o]| of the last layer
/// (a float32 dot product's error is proportional to S, not to |y|); loss: |L - L64| &lt;= 1e-5 * max(|L64|, s) + 1e-6
/// with s = 0 for MSE and sum |t_i| for cross-entropy (see <see cref="NetSpec.LossScale"/>).
/// </summary>
public sealed class ForwardAndLossTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Nets => NetSpec.Ids;

    [Theory]
    [MemberData(nameof(Nets))]
    public void Predict_matches_float64_forward(string id)
    {
        var net = NetSpec.Get(id);
        var init = net.Draw(seed: 11);
        var run = new EvalRun(net.Build(init, new SgdOptimizer(0.05f)));
        var reference = net.Reference(init);
        var rng = new Random(101);
        var agree = new Agreement($"forward {id}", 1e-5, 1e-6);
        for (int s = 0; s < 8; s++)
        {
            var x = TestData.Uniform(rng, net.In, -1f, 1f);
            var tr = reference.Forward(TestData.ToDouble(x));
            var last = reference.Layers[^1];
            var scale = Float64Reference.LinearMagnitude(last.W, last.B, tr.Inputs[^1], last.Out);
            var y = run.Predict(x);
            for (int o = 0; o < y.Length; o++) agree.Check(y[o], tr.Prediction[o], $"sample {s} y[{o}]", scale[o]);
        }
        agree.Verify(output);
    }

    [Theory]
    [MemberData(nameof(Nets))]
    public void Train_step_returns_the_float64_loss_at_the_current_weights(string id)
    {
        var net = NetSpec.Get(id);
        var init = net.Draw(seed: 12);
        var reference = net.Reference(init);
        var rng = new Random(202);
        var agree = new Agreement($"loss {id}", 1e-5, 1e-6);
        for (int s = 0; s < 6; s++)
        {
            // A fresh program each time: train_step updates the weights after computing the loss.
            var run = new EvalRun(net.Build(init, new SgdOptimizer(0.05f)));
            var x = TestData.Uniform(rng, net.In, -1f, 1f);
            var t = net.Target(rng);
            float loss = run.TrainStep(x, t);
            agree.Check(loss, reference.LossAt(TestData.ToDouble(x), TestData.ToDouble(t)), $"sample {s}", NetSpec.LossScale(net.Loss, t));
            // The loss buffer holds the same value.
            Assert.Equal(loss, run.Read("loss")[0]);
        }
        agree.Verify(output);
    }

    [Fact]
    public void Forward_on_large_and_cancelling_values_stays_within_the_dot_product_bound()
    {
        // Inputs of widely varying magnitude whose products cancel: |y| is small compared with S,
        // so only the S-relative bound is meaningful; it must still hold.
        var net = new NetSpec("cancel", 16, Passes.LossKind.MeanSquaredError, new LayerSpec(4));
        var rng = new Random(5);
        var w = new float[64];
        var x = new float[16];
        for (int i = 0; i < 16; i++) x[i] = (float)Math.ScaleB(rng.NextDouble() + 0.5, rng.Next(-8, 9)) * (i % 2 == 0 ? 1 : -1);
        for (int o = 0; o < 4; o++)
            for (int i = 0; i < 16; i++) w[o * 16 + i] = (float)(rng.NextDouble() + 0.5);
        var b = new float[] { 1e3f, -1e-3f, 0f, 7f };
        var init = (new[] { w }, new float[]?[] { b });
        var run = new EvalRun(net.Build(init, new SgdOptimizer(0.05f)));
        var reference = net.Reference(init);
        var xd = TestData.ToDouble(x);
        var expected = reference.Predict(xd);
        var scale = Float64Reference.LinearMagnitude(reference.Layers[0].W, reference.Layers[0].B, xd, 4);
        var y = run.Predict(x);
        // A chain of 16 fused multiply-adds: |error| <= 17 * 2^-24 * S (a rigorous bound).
        var agree = new Agreement("forward cancelling", 17 * Math.ScaleB(1.0, -24), 0);
        for (int o = 0; o < 4; o++) agree.Check(y[o], expected[o], $"y[{o}]", scale[o]);
        agree.Verify(output);
    }
}
