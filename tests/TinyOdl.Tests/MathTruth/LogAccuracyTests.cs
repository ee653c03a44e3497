using System.Globalization;
using TinyOdl.Kernels;
using Xunit.Abstractions;

namespace TinyOdl.Tests.MathTruth;

/// <summary>
/// Accuracy of MathLibrary.Log (tinyodl_logf) as the evaluator computes it, in ULPs of the float32 result,
/// against Math.Log in float64, over (0, +inf) including subnormals. Measured: max 1.968 ULP at x = 1.0038618
/// (0x3F807E8B), both by the sweep below and by a one-off exhaustive run over [0.5, 2) (where log is small and
/// its relative error largest; every 31st float of the whole range stayed below 1.92). Asserted: &lt;= 2 ULP.
/// </summary>
public sealed class LogAccuracyTests(ITestOutputHelper output)
{
    private const double MaxUlp = 2.0;
    private static readonly Lazy<ScalarProbe> Probe = new(() => new ScalarProbe(MathLibrary.Log));

    private static float FromBits(long bits) => BitConverter.Int32BitsToSingle((int)bits);
    private static long BitsOf(float x) => BitConverter.SingleToInt32Bits(x);

    /// <summary>Positive floats within <paramref name="radius"/> bit patterns of x.</summary>
    private static IEnumerable<float> Neighbourhood(float x, int radius)
    {
        long b = BitsOf(x);
        for (long nb = Math.Max(1, b - radius); nb <= Math.Min(0x7F7FFFFF, b + radius); nb++) yield return FromBits(nb);
    }

    [Fact]
    public void Log_is_within_two_ulp_over_a_dense_sweep_of_the_positive_floats()
    {
        var xs = new List<float>(3_000_000);
        // (a) Every 1499th positive float, subnormals to FLT_MAX (~1.4 million).
        for (long b = 1; b <= 0x7F7FFFFF; b += 1499) xs.Add(FromBits(b));
        // (b) Every float within 2^17 of 1 (log's result is small there, relative errors are largest).
        xs.AddRange(Neighbourhood(1f, 1 << 17));
        // (c) Every float near the mantissa split point sqrt(2) and its halves, near FLT_MIN (the subnormal
        //     scaling switch), the smallest subnormals and the largest floats.
        foreach (var edge in new[] { 1.41421356f, 0.707106769f, 2.82842708f, 1.17549435e-38f, float.Epsilon, float.MaxValue })
            xs.AddRange(Neighbourhood(edge, 4096));
        // (d) Around every power of two.
        for (int e = -149; e <= 127; e++) xs.AddRange(Neighbourhood((float)Math.ScaleB(1.0, e), 8));
        // (e) Uniform values.
        var rng = new Random(9002);
        for (int i = 0; i < 100_000; i++) xs.Add((float)(1e-3 + 10.0 * rng.NextDouble()));

        var ys = Probe.Value.Map(xs);
        var all = new UlpStats("log, all positive finite x");
        var subnormalInputs = new UlpStats("log, subnormal x");
        var nearOne = new UlpStats("log, x in [1 - 2^-7, 1 + 2^-6]");
        bool monotone = true;
        string monotoneBreak = "";
        var order = ScalarProbe.AscendingOrder(xs);
        for (int j = 0; j < order.Length; j++)
        {
            int i = order[j];
            double exact = Math.Log(xs[i]);
            all.Add(xs[i], ys[i], exact);
            if (xs[i] < 1.17549435e-38f) subnormalInputs.Add(xs[i], ys[i], exact);
            if (xs[i] >= 1 - 1.0 / 128 && xs[i] <= 1 + 1.0 / 64) nearOne.Add(xs[i], ys[i], exact);
            if (j > 0 && ys[i] < ys[order[j - 1]] && monotone)
            {
                monotone = false;
                monotoneBreak = $"log({Ulp.Describe(xs[order[j - 1]])}) = {ys[order[j - 1]]:R} > log({Ulp.Describe(xs[i])}) = {ys[i]:R}";
            }
        }
        foreach (var s in new[] { all, subnormalInputs, nearOne })
        {
            output.WriteLine(s.ToString());
            MathTruthLog.Record(s.ToString());
        }
        output.WriteLine(monotone ? "log is monotone over the sweep" : "log is NOT monotone: " + monotoneBreak);
        Assert.True(all.Max <= MaxUlp, all.ToString());
        Assert.True(monotone, monotoneBreak);
    }

    [Fact]
    public void Log_of_powers_of_two_is_k_ln2()
    {
        var p = Probe.Value;
        var xs = Enumerable.Range(-149, 277).Select(e => (float)Math.ScaleB(1.0, e)).ToArray();
        var ys = p.Map(xs);
        var stats = new UlpStats("log(2^k), k = -149..127");
        for (int i = 0; i < xs.Length; i++) stats.Add(xs[i], ys[i], (i - 149) * Math.Log(2));
        output.WriteLine(stats.ToString());
        Assert.Equal(0, BitsOf(ys[149]));   // log(1) = +0 exactly
        Assert.True(stats.Max <= MaxUlp, stats.ToString());
    }

    [Fact]
    public void Log_special_values()
    {
        var p = Probe.Value;
        const uint canonicalNaN = 0x7FC00000;
        Assert.Equal(0, BitsOf(p.Map(1f)));
        Assert.Equal(float.NegativeInfinity, p.Map(0f));
        Assert.Equal(float.NegativeInfinity, p.Map(-0f));
        Assert.Equal(float.PositiveInfinity, p.Map(float.PositiveInfinity));
        Assert.True(float.IsNaN(p.Map(float.NaN)));
        Assert.True(float.IsNaN(p.Map(BitConverter.UInt32BitsToSingle(0xFFC00001))));
        // Negative inputs: NaN, and the documented canonical NaN 0x7fc00000.
        foreach (var x in new[] { -1f, -0.5f, -float.Epsilon, -FromBits(0x007FFFFF), -1.17549435e-38f, -float.MaxValue, float.NegativeInfinity })
            Assert.Equal(canonicalNaN, BitConverter.SingleToUInt32Bits(p.Map(x)));
        // Extremes of the finite range.
        foreach (var x in new[] { float.Epsilon, FromBits(2), FromBits(0x007FFFFF), 1.17549435e-38f, float.MaxValue, MathF.BitDecrement(1f), MathF.BitIncrement(1f) })
        {
            float y = p.Map(x);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"log({Ulp.Describe(x)}) = {y:R}, exact {Math.Log(x):R}, {Ulp.Error(y, Math.Log(x)):F4} ULP"));
            Assert.True(Ulp.Error(y, Math.Log(x)) <= MaxUlp);
        }
    }

    [Fact]
    public void Log_inverts_exp()
    {
        // A cross-check between the two library functions: log(exp(x)) ~ x for moderate x (error dominated by
        // exp's rounding, amplified by 1/x near 0, so measured absolutely against max(|x|, 1)).
        var exp = new ScalarProbe(MathLibrary.Exp);
        var rng = new Random(9003);
        var xs = Enumerable.Range(0, 20_000).Select(_ => (float)(-80 + 160 * rng.NextDouble())).ToArray();
        var back = Probe.Value.Map(exp.Map(xs));
        double worst = 0;
        for (int i = 0; i < xs.Length; i++)
            worst = Math.Max(worst, Math.Abs(back[i] - xs[i]) / Math.Max(Math.Abs(xs[i]), 1.0));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"max |log(exp(x)) - x| / max(|x|, 1) = {worst:E3}"));
        Assert.True(worst < 4 * Math.ScaleB(1.0, -23), $"log(exp(x)) drifts by {worst:E3}");
    }
}
