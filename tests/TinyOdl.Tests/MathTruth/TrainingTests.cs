using TinyOdl.Graph;
using TinyOdl.Passes;
using Xunit.Abstractions;

namespace TinyOdl.Tests.MathTruth;

/// <summary>
/// Several train_steps with PyTorch SGD (plain, momentum, weight decay, both) against the float64 reference
/// trained on the same samples from the same float32 initial values. Rounding differences compound over steps,
/// so the tolerances are looser: each step's loss |L - L64| &lt;= 1e-4 * max(|L64|, s) + 1e-6 (s as in
/// <see cref="NetSpec.LossScale"/>); final parameters and momentum buffers normwise,
/// |w - w64| &lt;= 2e-5 * max(|w64|, max_j |w64_j|) + 1e-6. Frozen parameters must keep their exact bits.
/// </summary>
public sealed class TrainingTests(ITestOutputHelper output)
{
    private const int Steps = 24;

    private static readonly Dictionary<string, SgdOptimizer> Optimizers = new()
    {
        ["sgd"] = new SgdOptimizer(0.05f),
        ["momentum"] = new SgdOptimizer(0.05f, Momentum: 0.9f),
        ["decay"] = new SgdOptimizer(0.1f, WeightDecay: 0.05f),
        ["momentum-decay"] = new SgdOptimizer(0.03f, Momentum: 0.9f, WeightDecay: 0.01f),
    };

    public static IEnumerable<object[]> Cases =>
        from n in NetSpec.All from o in Optimizers.Keys select new object[] { n.Id, o };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Parameters_after_several_steps_match_float64_sgd(string id, string optimizer)
    {
        var net = NetSpec.Get(id);
        var opt = Optimizers[optimizer];
        var init = net.Draw(seed: 31);
        var run = new EvalRun(net.Build(init, opt));
        var reference = net.Reference(init);
        var rng = new Random(404);
        var samples = Enumerable.Range(0, 4).Select(_ => (X: TestData.Uniform(rng, net.In, -1f, 1f), T: net.Target(rng))).ToArray();

        var lossAgree = new Agreement($"training loss {id}/{optimizer}", 1e-4, 1e-6);
        for (int s = 0; s < Steps; s++)
        {
            var (x, t) = samples[s % samples.Length];
            float loss = run.TrainStep(x, t);
            double expected = reference.Step(TestData.ToDouble(x), TestData.ToDouble(t), opt.LearningRate, opt.Momentum, opt.WeightDecay);
            lossAgree.Check(loss, expected, $"step {s}", NetSpec.LossScale(net.Loss, t));
        }

        var paramAgree = new Agreement($"parameters after {Steps} steps {id}/{optimizer}", 2e-5, 1e-6);
        var velocityAgree = new Agreement($"momentum buffers after {Steps} steps {id}/{optimizer}", 2e-5, 1e-6);
        foreach (var p in run.Compiled.Model.Parameters)
        {
            var actual = run.Read(p.Name);
            if (!p.Trainable)
            {
                Assert.Equal(p.Initial.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
                Assert.False(run.Has("v_" + p.Name), $"frozen {p.Name} has a momentum buffer");
                continue;
            }
            paramAgree.CheckTensor(actual, reference.Parameter(p.Name), p.Name);
            if (opt.HasMomentum)
            {
                var layer = reference.Layers.Single(l => p.Name.StartsWith(l.Name + "_", StringComparison.Ordinal));
                var v = p.Name.EndsWith("_weight", StringComparison.Ordinal) ? layer.VW! : layer.VB!;
                velocityAgree.CheckTensor(run.Read("v_" + p.Name), v, "v_" + p.Name);
            }
            else Assert.False(run.Has("v_" + p.Name));
        }
        // predict() with the trained weights.
        var predictAgree = new Agreement($"predict after {Steps} steps {id}/{optimizer}", 2e-5, 1e-6);
        foreach (var (x, _) in samples)
        {
            var y = run.Predict(x);
            var tr = reference.Forward(TestData.ToDouble(x));
            var last = reference.Layers[^1];
            var scale = Float64Reference.LinearMagnitude(last.W, last.B, tr.Inputs[^1], last.Out);
            for (int o = 0; o < y.Length; o++) predictAgree.Check(y[o], tr.Prediction[o], $"y[{o}]", scale[o]);
        }
        lossAgree.Verify(output);
        paramAgree.Verify(output);
        predictAgree.Verify(output);
        if (opt.HasMomentum) velocityAgree.Verify(output);
    }

    [Fact]
    public void One_sgd_step_is_exactly_PyTorch_formula_on_the_evaluator_gradient()
    {
        // Isolates the update from the gradient: w1 = w0 - lr * (g + wd*w0) on the first step (v = g + wd*w0 since
        // v starts at 0), then v2 = mu*v1 + g2 + wd*w1, w2 = w1 - lr*v2; computed in float64 from the evaluator's
        // own gradients and weights, the only difference is float32 rounding of three fused operations.
        var net = NetSpec.Get("l2-relu-mse");
        var opt = new SgdOptimizer(0.125f, Momentum: 0.75f, WeightDecay: 0.0625f);
        var run = new EvalRun(net.Build(net.Draw(seed: 32), opt));
        var rng = new Random(405);
        var agree = new Agreement("sgd update formula", 4 * Math.ScaleB(1.0, -24), 1e-9);
        var names = run.Compiled.Model.Parameters.Select(p => p.Name).ToArray();
        var w = names.ToDictionary(n => n, n => TestData.ToDouble(run.Read(n)));
        var v = names.ToDictionary(n => n, n => new double[w[n].Length]);
        for (int s = 0; s < 3; s++)
        {
            run.TrainStep(TestData.Uniform(rng, net.In, -1f, 1f), net.Target(rng));
            foreach (var n in names)
            {
                var g = TestData.ToDouble(run.Read(GradientBufferOf(run, n)));
                Float64Reference.Sgd(w[n], g, v[n], opt.LearningRate, opt.Momentum, opt.WeightDecay);
                var actualV = run.Read("v_" + n);
                var actualW = run.Read(n);
                // Scale: the magnitudes that enter the rounding of each fused step.
                for (int i = 0; i < w[n].Length; i++)
                {
                    agree.Check(actualV[i], v[n][i], $"step {s} v_{n}[{i}]", Math.Abs(g[i]) + Math.Abs(opt.WeightDecay * w[n][i]) + Math.Abs(opt.Momentum * v[n][i]));
                    agree.Check(actualW[i], w[n][i], $"step {s} {n}[{i}]", Math.Abs(w[n][i]) + Math.Abs(opt.LearningRate * v[n][i]));
                }
                // Continue from the evaluator's state, so errors do not compound across steps.
                w[n] = TestData.ToDouble(actualW);
                v[n] = TestData.ToDouble(actualV);
            }
        }
        agree.Verify(output);
    }

    private static string GradientBufferOf(EvalRun run, string parameter) =>
        run.Compiled.Graph.Ops.OfType<SgdUpdate>().Single(u => u.Param.Name == parameter).Grad.Name;
}
