using CsCheck;
using TinyOdl.Graph;
using TinyOdl.Passes;

namespace TinyOdl.Tests.MathTruth;

/// <summary>
/// CsCheck properties over random shapes and values, each against float64 with a RIGOROUS float32 error bound
/// (u = 2^-24, gamma_n = n u / (1 - n u)), computed from the kernel's own float32 inputs read back from the arena:
/// <list type="bullet">
/// <item>Linear forward: |y - y64| &lt;= gamma_in * (|b| + sum |W x|) (a chain of in fused multiply-adds from b).</item>
/// <item>Weight gradient: |dW - dy x| &lt;= u |dy x| (one rounded product).</item>
/// <item>Input gradient: |dx - W^T dy| &lt;= gamma_out * sum |W dy|.</item>
/// <item>MSE: |dy - 2(y - t)/n| &lt;= (2u + u^2) |2(y - t)/n|; |L - L64| &lt;= gamma_(n+3) L64.</item>
/// <item>SGD (plain): |w1 - (w0 - lr g)| &lt;= u |w0 - lr g| (one fused multiply-add).</item>
/// </list>
/// </summary>
public sealed class PropertyTests
{
    private static readonly double U = Math.ScaleB(1.0, -24);
    private static double Gamma(int n) => n * U / (1 - n * U);
    /// <summary>Half the smallest subnormal doubled: what one rounding into the subnormal range may add in absolute error.</summary>
    private const double Tiny = float.Epsilon;

    public sealed record LinearCase(int In, int Out, bool Bias, int Exponent, float[] W, float[] B, float[] X, float[] T)
    {
        public override string ToString() =>
            $"in={In} out={Out} bias={Bias} x scale=2^{Exponent} W=[{string.Join(",", W)}] b=[{string.Join(",", B)}] x=[{string.Join(",", X)}] t=[{string.Join(",", T)}]";
    }

    private static readonly Gen<LinearCase> Cases =
        from inF in Gen.Int[1, 24]
        from outF in Gen.Int[1, 12]
        from bias in Gen.Bool
        from exponent in Gen.Int[-12, 12]
        from w in Gen.Float[-2f, 2f].Array[outF * inF]
        from b in Gen.Float[-2f, 2f].Array[outF]
        from x in Gen.Float[-1f, 1f].Array[inF]
        from t in Gen.Float[-1f, 1f].Array[outF]
        select new LinearCase(inF, outF, bias, exponent, w, b, x.Select(v => (float)Math.ScaleB(v, exponent)).ToArray(), t);

    private static EvalRun Build(LinearCase c, SgdOptimizer opt) =>
        new(new NetSpec("prop", c.In, LossKind.MeanSquaredError, new LayerSpec(c.Out, Bias: c.Bias))
            .Build(([c.W], [c.Bias ? c.B : null]), opt));

    [Fact]
    public void Linear_forward_is_within_the_dot_product_error_bound()
    {
        Cases.Sample(c =>
        {
            var run = Build(c, new SgdOptimizer(0.01f));
            var w = TestData.ToDouble(c.W);
            var b = c.Bias ? TestData.ToDouble(c.B) : null;
            var x = TestData.ToDouble(c.X);
            var expected = Float64Reference.Linear(w, b, x, c.Out);
            var scale = Float64Reference.LinearMagnitude(w, b, x, c.Out);
            var y = run.Predict(c.X);
            for (int o = 0; o < c.Out; o++)
            {
                double bound = Gamma(c.In) * scale[o] + c.In * Tiny;
                Assert.True(Math.Abs(y[o] - expected[o]) <= bound,
                    $"y[{o}] = {y[o]:R}, exact {expected[o]:R}, error {Math.Abs(y[o] - expected[o]):E3} > bound {bound:E3}");
            }
        }, iter: 300);
    }

    [Fact]
    public void Mse_linear_train_step_kernels_are_within_their_error_bounds()
    {
        Cases.Sample(c =>
        {
            const float lr = 0.0625f;
            var run = Build(c, new SgdOptimizer(lr));
            var w0 = TestData.ToDouble(run.Read("fc1_weight"));
            float loss = run.TrainStep(c.X, c.T);
            var y = TestData.ToDouble(run.Read("fc1"));            // the forward result train_step used
            var dy = TestData.ToDouble(run.Read("d_fc1"));
            var dw = TestData.ToDouble(run.Read("d_fc1_weight"));
            var w1 = TestData.ToDouble(run.Read("fc1_weight"));
            var t = TestData.ToDouble(c.T);
            var x = TestData.ToDouble(c.X);
            int n = c.Out;

            var dyExact = Float64Reference.MseGradient(y, t);
            for (int o = 0; o < n; o++)
                Assert.True(Math.Abs(dy[o] - dyExact[o]) <= (2 * U + U * U) * Math.Abs(dyExact[o]) + Tiny,
                    $"dL/dy[{o}] = {dy[o]:R}, exact {dyExact[o]:R}");
            double lossExact = Float64Reference.Mse(y, t);
            Assert.True(Math.Abs(loss - lossExact) <= Gamma(n + 3) * lossExact + (n + 3) * Tiny, $"loss {loss:R}, exact {lossExact:R}");

            var dwExact = Float64Reference.LinearWeightGradient(dy, x);
            for (int k = 0; k < dw.Length; k++)
            {
                Assert.True(Math.Abs(dw[k] - dwExact[k]) <= U * Math.Abs(dwExact[k]) + Tiny, $"dW[{k}] = {dw[k]:R}, exact {dwExact[k]:R}");
                double w1Exact = w0[k] - (double)lr * dw[k];
                Assert.True(Math.Abs(w1[k] - w1Exact) <= U * Math.Abs(w1Exact) + Tiny, $"W1[{k}] = {w1[k]:R}, exact {w1Exact:R}");
            }
        }, iter: 300);
    }

    [Fact]
    public void Linear_input_gradient_is_within_the_dot_product_error_bound()
    {
        var twoLayer =
            from first in Cases
            from hidden in Gen.Int[1, 12]
            from w2 in Gen.Float[-2f, 2f].Array[first.Out * hidden]
            select (first, hidden, w2);
        twoLayer.Sample(s =>
        {
            var (c, outF, w2) = s;
            // fc1: c.In -> c.Out, fc2: c.Out -> outF; the input gradient of fc2 is d_fc1.
            var net = new NetSpec("prop2", c.In, LossKind.MeanSquaredError, new LayerSpec(c.Out, Bias: c.Bias), new LayerSpec(outF, Bias: false));
            var run = new EvalRun(net.Build(([c.W, w2], [c.Bias ? c.B : null, null]), new SgdOptimizer(0.01f)));
            run.TrainStep(c.X, new float[outF]);
            var dy2 = TestData.ToDouble(run.Read("d_fc2"));
            var dx = run.Read("d_fc1");
            var w = TestData.ToDouble(w2);   // pre-update weights (the gradient is computed before the update)
            var exact = Float64Reference.LinearInputGradient(w, dy2, c.Out);
            for (int i = 0; i < c.Out; i++)
            {
                double mag = 0;
                for (int o = 0; o < outF; o++) mag += Math.Abs(w[o * c.Out + i] * dy2[o]);
                Assert.True(Math.Abs(dx[i] - exact[i]) <= Gamma(outF) * mag + outF * Tiny, $"dx[{i}] = {dx[i]:R}, exact {exact[i]:R}");
            }
        }, iter: 200);
    }

    [Fact]
    public void Softmax_cross_entropy_is_within_a_small_multiple_of_u()
    {
        // Random logits and random nonnegative targets of random total; the bound is (2n + 16) u of the magnitudes
        // involved (exp and log contribute at most 1 and 2 ULP, the sums gamma_n). log s, s = sum exp(y_i - max) in
        // [1, n], carries an ABSOLUTE error of ~(n + 2) u, hence the "1 +" in the loss magnitude: a confident
        // prediction (loss ~1e-4) has a loss with a relative error up to ~u / loss; its gradient is unaffected.
        var gen =
            from n in Gen.Int[2, 16]
            from y in Gen.Float[-12f, 12f].Array[n]
            from t in Gen.Float[0f, 1f].Array[n]
            from total in Gen.Float[0.25f, 3f]
            select (n, y, t.Select(v => v * total / n).ToArray());
        gen.Sample(s =>
        {
            var (n, y, t) = s;
            var run = new EvalRun(new NetSpec("probe", 1, LossKind.SoftmaxCrossEntropy, new LayerSpec(n, Bias: false))
                .Build(([y], [null]), new SgdOptimizer(0.01f)));
            float loss = run.TrainStep([1f], t);
            var dy = run.Read("d_fc1");
            var yd = TestData.ToDouble(y);
            var td = TestData.ToDouble(t);
            double lse = Float64Reference.LogSumExp(yd);
            double tsum = td.Sum();
            var p = Float64Reference.Softmax(yd);
            var g = Float64Reference.SoftmaxCrossEntropyGradient(yd, td);
            double k = (2 * n + 16) * U;
            double lossMag = 0;
            for (int i = 0; i < n; i++) lossMag += Math.Abs(td[i]) * (1 + Math.Abs(lse - yd.Max()) + Math.Abs(yd[i] - yd.Max()));
            double lossExact = Float64Reference.SoftmaxCrossEntropy(yd, td);
            Assert.True(Math.Abs(loss - lossExact) <= k * lossMag + 1e-30, $"loss {loss:R}, exact {lossExact:R}");
            for (int i = 0; i < n; i++)
                Assert.True(Math.Abs(dy[i] - g[i]) <= k * (p[i] * tsum + Math.Abs(td[i])) + 1e-30, $"dy[{i}] = {dy[i]:R}, exact {g[i]:R}");
        }, iter: 300);
    }
}
