using TinyOdl.Graph;
using TinyOdl.Passes;
using Xunit.Abstractions;

namespace TinyOdl.Tests.MathTruth;

/// <summary>The documented mathematical conventions: initial distribution, ReLU'(0) = 0, flattening of input shapes.</summary>
public sealed class ConventionTests(ITestOutputHelper output)
{
    [Fact]
    public void Default_initialisation_is_uniform_on_plus_minus_one_over_sqrt_fan_in()
    {
        // ModelBuilder documents PyTorch's default: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
        const int inF = 50, outF = 400;
        var mb = new ModelBuilder("init", new Shape(inF), seed: 123);
        var y = mb.Linear("fc", mb.Input, outF);
        var model = mb.MseLoss("loss", y).Build(new SgdOptimizer(0.1f));
        double bound = 1 / Math.Sqrt(inF);
        foreach (var p in model.Parameters)
        {
            var v = p.Initial.Select(f => (double)f).ToArray();
            Assert.All(v, x => Assert.InRange(x, -bound, bound));
            int n = v.Length;
            double mean = v.Average();
            double variance = v.Select(x => (x - mean) * (x - mean)).Sum() / (n - 1);
            double sigma = bound / Math.Sqrt(3);
            // Kolmogorov-Smirnov distance to U(-bound, bound).
            var sorted = v.OrderBy(x => x).ToArray();
            double ks = 0;
            for (int i = 0; i < n; i++)
            {
                double cdf = (sorted[i] + bound) / (2 * bound);
                ks = Math.Max(ks, Math.Max(Math.Abs((i + 1.0) / n - cdf), Math.Abs(cdf - (double)i / n)));
            }
            output.WriteLine($"{p.Name}: n={n} mean {mean:E3} (sd of mean {sigma / Math.Sqrt(n):E3}), variance {variance:E4} (expected {sigma * sigma:E4}), KS {ks:E3} (1% critical {1.63 / Math.Sqrt(n):E3})");
            Assert.True(Math.Abs(mean) < 4.5 * sigma / Math.Sqrt(n), $"{p.Name}: mean {mean}");
            // The sample variance of a uniform has relative sd sqrt(0.8 / n).
            Assert.True(Math.Abs(variance / (sigma * sigma) - 1) < 4.5 * Math.Sqrt(0.8 / n), $"{p.Name}: variance {variance}");
            Assert.True(ks < 1.95 / Math.Sqrt(n), $"{p.Name}: KS distance {ks}");
        }
    }

    [Fact]
    public void Relu_gradient_at_exactly_zero_is_zero()
    {
        // z = W x + b with x = 0: every pre-activation is exactly b; units with b = 0 sit on the kink.
        var net = new NetSpec("kink", 3, LossKind.MeanSquaredError, new LayerSpec(4, Relu: true), new LayerSpec(2));
        var w1 = new float[] { 1, 2, 3, -1, -2, -3, 0.5f, 0.5f, 0.5f, 1, -1, 1 };
        var b1 = new float[] { 0f, 0.25f, -0f, -0.25f };
        var w2 = new float[] { 1, 1, 1, 1, -1, 2, -3, 4 };
        var b2 = new float[] { 0.1f, -0.1f };
        var run = new EvalRun(net.Build(([w1, w2], [b1, b2]), new SgdOptimizer(0.01f)));
        run.TrainStep([0f, 0f, 0f], [1f, -1f]);
        var z = run.Read("fc1");
        var h = run.Read("relu1");
        var dh = run.Read("d_relu1");
        var dz = run.Read("d_fc1");
        Assert.Equal(0f, z[0]);
        Assert.NotEqual(0f, dh[0]);                      // a gradient arrives at the kink...
        Assert.Equal(0, BitConverter.SingleToInt32Bits(dz[0]));   // ...and ReLU'(0) = 0 stops it (+0)
        Assert.Equal(0, BitConverter.SingleToInt32Bits(dz[2]));   // z = -0 as well
        Assert.Equal(0, BitConverter.SingleToInt32Bits(h[2]));    // ReLU(-0) = +0
        Assert.Equal(dh[1], dz[1]);                       // z > 0: passes unchanged
        Assert.Equal(0f, dz[3]);                          // z < 0: blocked
    }

    [Fact]
    public void A_multi_dimensional_input_is_flattened_row_major()
    {
        var mb = new ModelBuilder("shape", new Shape(2, 3, 2), seed: 9);
        var y = mb.Linear("fc1", mb.Input, 3);
        var model = mb.MseLoss("loss", y).Build(new SgdOptimizer(0.1f));
        var run = new EvalRun(model);
        var p = model.Parameters;
        var w = TestData.ToDouble(p[0].Initial);
        var b = TestData.ToDouble(p[1].Initial);
        var rng = new Random(3);
        var x = TestData.Uniform(rng, 12, -1f, 1f);
        var expected = Float64Reference.Linear(w, b, TestData.ToDouble(x), 3);
        var scale = Float64Reference.LinearMagnitude(w, b, TestData.ToDouble(x), 3);
        var agree = new Agreement("forward, input shape [2x3x2]", 1e-5, 1e-6);
        var actual = run.Predict(x);
        for (int o = 0; o < 3; o++) agree.Check(actual[o], expected[o], $"y[{o}]", scale[o]);
        agree.Verify(output);
    }
}
