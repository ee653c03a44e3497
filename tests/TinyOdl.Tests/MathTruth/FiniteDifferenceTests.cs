using TinyOdl.Graph;
using TinyOdl.Passes;
using Xunit.Abstractions;

namespace TinyOdl.Tests.MathTruth;

/// <summary>
/// Finite-difference checks of every backward formula: the float64 reference LOSS (no reference gradient
/// involved) is differentiated by central differences, (L(p + h) - L(p - h)) / 2h with h = 1e-5
/// (truncation and cancellation error both ~1e-10 here), and compared with the gradients the evaluator computed
/// in float32. Tolerance, normwise per tensor: |g - fd| &lt;= 2e-5 * max(|fd|, max_j |fd_j|) + 1e-7 (for the
/// cross-entropy dL/dy the floor max(|sum t|, max |t_i|) replaces max_j |fd_j| when larger: a zero gradient such as
/// equal logits with a uniform target is still measured against the size of its terms).
/// ReLU kinks are avoided: inputs are redrawn until every ReLU pre-activation is at least 1e-2 away from 0.
/// </summary>
public sealed class FiniteDifferenceTests(ITestOutputHelper output)
{
    private const double RTol = 2e-5, ATol = 1e-7;

    private const double H = 1e-5;

    /// <summary>Central difference of f with respect to a[i], restoring a[i].</summary>
    internal static double CentralDifference(Func<double> f, double[] a, int i) => CentralDifference(() => [f()], a, i)[0];

    /// <summary>Central differences of every output of f with respect to a[i], restoring a[i].</summary>
    internal static double[] CentralDifference(Func<double[]> f, double[] a, int i)
    {
        double old = a[i];
        a[i] = old + H;
        var fp = f();
        a[i] = old - H;
        var fm = f();
        a[i] = old;
        return fp.Select((v, j) => (v - fm[j]) / (2 * H)).ToArray();
    }

    internal static double[] Gradient(Func<double> f, double[] a) =>
        Enumerable.Range(0, a.Length).Select(i => CentralDifference(f, a, i)).ToArray();

    /// <summary>Draws (x, t) until all ReLU pre-activations are at least <paramref name="margin"/> away from the kink.</summary>
    private static (float[] X, float[] T) DrawAwayFromKinks(NetSpec net, ReferenceNet reference, Random rng, double margin = 1e-2)
    {
        for (int attempt = 0; attempt < 10_000; attempt++)
        {
            var x = TestData.Uniform(rng, net.In, -1f, 1f);
            var t = net.Target(rng);
            var tr = reference.Forward(TestData.ToDouble(x));
            bool ok = true;
            for (int k = 0; k < reference.Layers.Count && ok; k++)
                if (reference.Layers[k].ReluName is not null && tr.PreActivations[k].Any(z => Math.Abs(z) < margin)) ok = false;
            if (ok) return (x, t);
        }
        throw new InvalidOperationException("no sample away from the ReLU kinks");
    }

    public static IEnumerable<object[]> Nets => NetSpec.Ids;

    /// <summary>Every trainable parameter's gradient (weights: d_fcK_weight; biases: d_fcK) against finite differences.</summary>
    [Theory]
    [MemberData(nameof(Nets))]
    public void Parameter_gradients_match_finite_differences(string id)
    {
        var net = NetSpec.Get(id);
        var init = net.Draw(seed: 51);
        var reference = net.Reference(init);
        var rng = new Random(505);
        var agree = new Agreement($"finite differences, parameters {id}", RTol, ATol);
        var selfCheck = new Agreement($"finite differences vs float64 backprop (reference self-check) {id}", 1e-7, 1e-10);
        for (int s = 0; s < 2; s++)
        {
            var (x, t) = DrawAwayFromKinks(net, reference, rng);
            var run = new EvalRun(net.Build(init, new SgdOptimizer(0.05f)));
            run.TrainStep(x, t);
            var xd = TestData.ToDouble(x);
            var td = TestData.ToDouble(t);
            var (_, analytic) = reference.Backward(xd, td);
            foreach (var name in reference.ParameterNames().Where(reference.IsTrainable))
            {
                var fd = Gradient(() => reference.LossAt(xd, td), reference.Parameter(name));
                string buffer = name.EndsWith("_bias", StringComparison.Ordinal) ? "d_" + name[..^"_bias".Length] : "d_" + name;
                agree.CheckTensor(run.Read(buffer), fd, $"sample {s} {buffer}");
                double norm = fd.Max(Math.Abs);
                for (int i = 0; i < fd.Length; i++) selfCheck.Check(analytic["d_" + name][i], fd[i], $"{name}[{i}]", norm);
            }
        }
        selfCheck.Verify(output);
        agree.Verify(output);
    }

    /// <summary>
    /// dL/dh for a hidden activation h, as the evaluator holds it (d_fcK without ReLU, d_reluK with one), against
    /// finite differences of the loss of the rest of the network as a function of h: checks the Linear input
    /// gradient dx = W^T dy. With a ReLU, d_fcK (= dL/dz) checks ReLU backward too.
    /// </summary>
    [Theory]
    [InlineData("l2-linear-ce-nobias")]
    [InlineData("l3-mse-norelu")]
    [InlineData("l2-relu-mse")]
    [InlineData("l2-relu-ce")]
    [InlineData("l3-relu-ce-mixed")]
    [InlineData("l3-relu-mse-relu-out")]
    [InlineData("l2-frozen-last")]
    [InlineData("l3-frozen-middle")]
    [InlineData("mlp-64-32-10-ce")]
    public void Activation_gradients_match_finite_differences(string id)
    {
        var net = NetSpec.Get(id);
        var init = net.Draw(seed: 52);
        var reference = net.Reference(init);
        var rng = new Random(606);
        var agree = new Agreement($"finite differences, activations {id}", RTol, ATol);
        int checkedInput = 0, checkedRelu = 0;
        for (int s = 0; s < 2; s++)
        {
            var (x, t) = DrawAwayFromKinks(net, reference, rng);
            var run = new EvalRun(net.Build(init, new SgdOptimizer(0.05f)));
            run.TrainStep(x, t);
            var td = TestData.ToDouble(t);
            var tr = reference.Forward(TestData.ToDouble(x));
            for (int k = 0; k < net.Layers.Count - 1; k++)
            {
                // The input of layer k+1 (the output of layer k, after its ReLU if any).
                var l = reference.Layers[k];
                string hName = "d_" + (l.ReluName ?? l.Name);
                if (run.Has(hName))
                {
                    var h = (double[])tr.Inputs[k + 1].Clone();
                    agree.CheckTensor(run.Read(hName), Gradient(() => reference.LossFromLayerInput(k + 1, h, td), h), $"sample {s} {hName}");
                    checkedInput++;
                }
                // The pre-activation z of layer k, through the ReLU.
                if (l.ReluName is not null && run.Has("d_" + l.Name))
                {
                    var z = (double[])tr.PreActivations[k].Clone();
                    int kk = k;
                    agree.CheckTensor(run.Read("d_" + l.Name), Gradient(() => reference.LossFromPreActivation(kk, z, td), z), $"sample {s} d_{l.Name}");
                    checkedRelu++;
                }
            }
            if (reference.Layers[^1].ReluName is { } outRelu)
            {
                var z = (double[])tr.PreActivations[^1].Clone();
                agree.CheckTensor(run.Read("d_" + reference.Layers[^1].Name),
                    Gradient(() => reference.LossFromPreActivation(reference.Layers.Count - 1, z, td), z), $"sample {s} d_{reference.Layers[^1].Name} (through {outRelu})");
                checkedRelu++;
            }
        }
        Assert.True(checkedInput > 0, "no Linear input gradient was checked");
        Assert.Equal(net.Layers.Any(l => l.Relu), checkedRelu > 0);
        agree.Verify(output);
    }

    // ---- Loss gradients, with the prediction set directly: a 1-input Linear layer without bias and x = [1]
    // ---- computes y = W exactly (fma(w, 1, +0) = w), so y can be any float vector.

    private static EvalRun LossProbe(LossKind loss, float[] y) =>
        new(new NetSpec("probe", 1, loss, new LayerSpec(y.Length, Bias: false)).Build(([y], [null]), new SgdOptimizer(0.01f)));

    private void CheckLossGradient(string what, LossKind kind, float[] y, float[] t, Agreement grads, Agreement losses)
    {
        var run = LossProbe(kind, y);
        float loss = run.TrainStep([1f], t);
        var dy = run.Read("d_fc1");
        var yd = TestData.ToDouble(y);
        var td = TestData.ToDouble(t);
        Func<double> f = kind == LossKind.MeanSquaredError
            ? () => Float64Reference.Mse(yd, td)
            : () => Float64Reference.SoftmaxCrossEntropy(yd, td);
        losses.Check(loss, f(), what, NetSpec.LossScale(kind, t));
        // Normwise, with the gradient's natural magnitude as a floor: |dy_i| <= max(|t_i|, |sum t| softmax_i) for CE.
        var fd = Gradient(f, yd);
        double floor = kind == LossKind.MeanSquaredError ? 0 : Math.Max(Math.Abs(t.Sum()), t.Max(v => Math.Abs(v)));
        grads.CheckAll(dy, fd, what, Math.Max(fd.Max(Math.Abs), floor));
    }

    [Fact]
    public void Mse_gradient_matches_finite_differences()
    {
        var grads = new Agreement("finite differences, MSE dL/dy", RTol, ATol);
        var losses = new Agreement("MSE loss value", 1e-5, 1e-7);
        var rng = new Random(707);
        foreach (int n in new[] { 1, 2, 3, 7, 10, 33 })
            for (int s = 0; s < 3; s++)
                CheckLossGradient($"n={n} sample {s}", LossKind.MeanSquaredError,
                    TestData.Uniform(rng, n, -3f, 3f), TestData.Uniform(rng, n, -3f, 3f), grads, losses);
        grads.Verify(output);
        losses.Verify(output);
    }

    public static IEnumerable<object[]> CrossEntropyTargets()
    {
        // name, logits, target
        yield return ["one-hot", new float[] { 0.3f, -1.2f, 2.0f, 0.7f, -0.1f }, new float[] { 0, 0, 1, 0, 0 }];
        yield return ["one-hot on the smallest logit", new float[] { 4.0f, -3.5f, 2.0f, 0.5f }, new float[] { 0, 1, 0, 0 }];
        yield return ["probabilities summing to 1", new float[] { 0.3f, -1.2f, 2.0f, 0.7f, -0.1f }, new float[] { 0.1f, 0.25f, 0.4f, 0.05f, 0.2f }];
        yield return ["label smoothing", new float[] { 1.5f, -0.5f, 0.25f, 3f, -2f, 0f }, new float[] { 0.02f, 0.02f, 0.02f, 0.9f, 0.02f, 0.02f }];
        yield return ["target summing to 0.6", new float[] { 0.3f, -1.2f, 2.0f, 0.7f, -0.1f }, new float[] { 0.1f, 0.0f, 0.3f, 0.2f, 0.0f }];
        yield return ["target summing to 2.5", new float[] { 0.3f, -1.2f, 2.0f, 0.7f, -0.1f }, new float[] { 0.5f, 1.0f, 0.25f, 0.5f, 0.25f }];
        yield return ["target with a negative entry", new float[] { -0.4f, 0.9f, 0.1f }, new float[] { 0.7f, -0.2f, 0.5f }];
        yield return ["all-zero target", new float[] { -0.4f, 0.9f, 0.1f }, new float[] { 0f, 0f, 0f }];
        yield return ["equal logits", new float[] { 0.5f, 0.5f, 0.5f, 0.5f }, new float[] { 0.25f, 0.25f, 0.25f, 0.25f }];
        yield return ["large logit spread", new float[] { 40f, -35f, 12f, 39.5f, -80f }, new float[] { 0.2f, 0.2f, 0.2f, 0.2f, 0.2f }];
        yield return ["large common offset", new float[] { 1001f, 1000f, 999.5f, 1002f }, new float[] { 0, 1, 0, 0 }];
        yield return ["single class", new float[] { 3.5f }, new float[] { 1f }];
        yield return ["two classes", new float[] { -2.25f, 1.75f }, new float[] { 0.3f, 0.7f }];
    }

    [Theory]
    [MemberData(nameof(CrossEntropyTargets))]
    public void Softmax_cross_entropy_gradient_matches_finite_differences(string name, float[] y, float[] t)
    {
        var grads = new Agreement($"finite differences, softmax CE dL/dy ({name})", RTol, ATol);
        var losses = new Agreement($"softmax CE loss value ({name})", 1e-5, 1e-6);
        CheckLossGradient(name, LossKind.SoftmaxCrossEntropy, y, t, grads, losses);
        // The closed form the kernel documents, softmax_i * sum(t) - t_i, is the exact gradient.
        var yd = TestData.ToDouble(y);
        var td = TestData.ToDouble(t);
        var formula = Float64Reference.SoftmaxCrossEntropyGradient(yd, td);
        var fd = Gradient(() => Float64Reference.SoftmaxCrossEntropy(yd, td), yd);
        for (int i = 0; i < fd.Length; i++) Assert.Equal(fd[i], formula[i], 1e-8);
        grads.Verify(output);
        losses.Verify(output);
    }

    [Fact]
    public void Softmax_cross_entropy_random_probability_targets_match_finite_differences()
    {
        var grads = new Agreement("finite differences, softmax CE dL/dy (random soft targets)", RTol, ATol);
        var losses = new Agreement("softmax CE loss value (random soft targets)", 1e-5, 1e-6);
        var rng = new Random(808);
        foreach (int n in new[] { 2, 3, 5, 10, 17 })
            for (int s = 0; s < 4; s++)
            {
                var y = TestData.Uniform(rng, n, -6f, 6f);
                var raw = TestData.Uniform(rng, n, 0f, 1f);
                float sum = s switch { 0 => 1f, 1 => 0.5f, 2 => 3f, _ => 1f };
                double total = raw.Sum(v => (double)v);
                var t = raw.Select(v => (float)(v / total * sum)).ToArray();
                CheckLossGradient($"n={n} sum(t)={sum}", LossKind.SoftmaxCrossEntropy, y, t, grads, losses);
            }
        grads.Verify(output);
        losses.Verify(output);
    }
}
