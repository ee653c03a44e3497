using System.Globalization;
using TinyOdl.Kernels;
using Xunit.Abstractions;

namespace TinyOdl.Tests.MathTruth;

/// <summary>
/// Accuracy of MathLibrary.Exp (tinyodl_expf) as the evaluator computes it, in ULPs of the float32 result,
/// against Math.Exp in float64. Measured by the sweep below: max 0.931 ULP at x = -71.04746 (0xC28E184D); a one-off
/// run over every 7th float of the domain (75 million) found nothing larger. Asserted: &lt; 1 ULP (faithful
/// rounding) wherever the result is a normal or subnormal float, i.e. for x in [-87.3365479, 88.7228394].
/// </summary>
public sealed class ExpAccuracyTests(ITestOutputHelper output)
{
    private const float ExpMin = -87.3365479f;   // documented: below, exp returns +0
    private const float ExpMax = 88.7228394f;    // documented: above, exp returns +inf
    private const double MaxUlp = 1.0;

    private static readonly Lazy<ScalarProbe> Probe = new(() => new ScalarProbe(MathLibrary.Exp));

    private static float FromBits(long bits) => BitConverter.Int32BitsToSingle((int)bits);
    private static long BitsOf(float x) => BitConverter.SingleToInt32Bits(x);

    /// <summary>x and every float within <paramref name="radius"/> steps of it on the ordered float line (crossing zero).</summary>
    internal static IEnumerable<float> Around(float x, int radius)
    {
        float v = x;
        for (int s = 0; s < radius; s++) v = MathF.BitDecrement(v);
        for (int s = 0; s <= 2 * radius; s++, v = MathF.BitIncrement(v)) yield return v;
    }

    private static IEnumerable<float> Neighbourhood(float x, int radius)
    {
        // Steps the bit pattern of |x| (x must not be within radius floats of 0).
        long b = BitsOf(Math.Abs(x));
        for (long d = -radius; d <= radius; d++)
        {
            long nb = b + d;
            if (nb < 0 || nb > 0x7F7FFFFF) continue;
            yield return x < 0 ? -FromBits(nb) : FromBits(nb);
        }
    }

    [Fact]
    public void Exp_is_faithfully_rounded_over_a_dense_sweep_of_its_domain()
    {
        var xs = new List<float>(3_000_000);
        // (a) Every 307th float with 2^-25 <= |x| and x in [ExpMin, ExpMax] (~1.7 million), plus every 65521st
        //     smaller one (subnormals included) down to 0.
        for (long b = 0x33000000; b <= BitsOf(ExpMax); b += 307) xs.Add(FromBits(b));
        for (long b = 0x33000000; b <= BitsOf(-ExpMin); b += 307) xs.Add(-FromBits(b));
        for (long b = 0; b < 0x33000000; b += 65521) { xs.Add(FromBits(b)); xs.Add(-FromBits(b)); }
        // (b) Every float near the places where the reduction switches k, k = round(x / ln 2): (k + 1/2) ln 2.
        for (int k = -126; k <= 127; k++) xs.AddRange(Neighbourhood((float)((k + 0.5) * Math.Log(2)), 32));
        // (c) Every float near the thresholds: both ends of the domain, the normal/subnormal result boundary, 0, 1.
        foreach (var edge in new[] { ExpMin, ExpMax, (float)Math.Log(Math.ScaleB(1.0, -126)), 1f, -1f })
            xs.AddRange(Neighbourhood(edge, 2048));
        xs.AddRange(Around(0f, 64));
        // (d) Uniform values.
        var rng = new Random(9001);
        for (int i = 0; i < 100_000; i++) xs.Add((float)(-87.3 + 176.0 * rng.NextDouble()));
        xs.RemoveAll(x => !(x >= ExpMin && x <= ExpMax));

        var ys = Probe.Value.Map(xs);
        var all = new UlpStats("exp, all results in [ExpMin, ExpMax]");
        var normal = new UlpStats("exp, normal results (x in [-87.33654, 88.72284))");
        var subnormal = new UlpStats("exp, subnormal results (x in [ExpMin, ln FLT_MIN))");
        bool monotone = true;
        string monotoneBreak = "";
        var order = ScalarProbe.AscendingOrder(xs);
        for (int j = 0; j < order.Length; j++)
        {
            int i = order[j];
            double exact = Math.Exp(xs[i]);
            all.Add(xs[i], ys[i], exact);
            (exact < Math.ScaleB(1.0, -126) ? subnormal : normal).Add(xs[i], ys[i], exact);
            if (j > 0 && ys[i] < ys[order[j - 1]] && monotone)
            {
                monotone = false;
                monotoneBreak = $"exp({Ulp.Describe(xs[order[j - 1]])}) = {ys[order[j - 1]]:R} > exp({Ulp.Describe(xs[i])}) = {ys[i]:R}";
            }
        }
        foreach (var s in new[] { all, normal, subnormal })
        {
            output.WriteLine(s.ToString());
            MathTruthLog.Record(s.ToString());
        }
        output.WriteLine(monotone ? "exp is monotone over the sweep" : "exp is NOT monotone: " + monotoneBreak);
        Assert.True(normal.Max < MaxUlp, normal.ToString());
        Assert.True(subnormal.Max < MaxUlp, subnormal.ToString());
        Assert.True(monotone, monotoneBreak);
    }

    [Fact]
    public void Exp_special_values()
    {
        var p = Probe.Value;
        Assert.Equal(BitsOf(1f), BitsOf(p.Map(0f)));
        Assert.Equal(BitsOf(1f), BitsOf(p.Map(-0f)));
        Assert.Equal(float.PositiveInfinity, p.Map(float.PositiveInfinity));
        Assert.Equal(0, BitsOf(p.Map(float.NegativeInfinity)));          // +0, not -0
        Assert.True(float.IsNaN(p.Map(float.NaN)));
        Assert.True(float.IsNaN(p.Map(BitConverter.UInt32BitsToSingle(0xFFC00001))));   // negative NaN with a payload
        Assert.True(float.IsNaN(p.Map(BitConverter.UInt32BitsToSingle(0x7F800001))));   // signalling NaN
        foreach (var x in new[] { float.Epsilon, -float.Epsilon, FromBits(0x007FFFFF), -FromBits(0x007FFFFF), 1e-30f, -1e-30f })
            Assert.Equal(1f, p.Map(x));
        // exp(1) and exp(-1): within 1 ULP of e and 1/e.
        Assert.True(Ulp.Error(p.Map(1f), Math.E) < MaxUlp);
        Assert.True(Ulp.Error(p.Map(-1f), 1 / Math.E) < MaxUlp);
        // Exact integer powers: exp(k ln 2) for float k ln 2 is close to 2^k.
        for (int k = -125; k <= 127; k += 7)
        {
            float x = (float)(k * Math.Log(2));
            Assert.True(Ulp.Error(p.Map(x), Math.Exp(x)) < MaxUlp, $"exp({x:R})");
        }
    }

    [Fact]
    public void Exp_overflow_threshold()
    {
        var p = Probe.Value;
        // Largest float whose exact exp rounds to a finite float32: exp(x) < 2^128 (1 - 2^-25).
        double limit = Math.Log(Math.ScaleB(2.0 - Math.ScaleB(1.0, -24), 127));
        float lastFinite = (float)limit;
        while (lastFinite > limit) lastFinite = MathF.BitDecrement(lastFinite);
        while (MathF.BitIncrement(lastFinite) <= limit) lastFinite = MathF.BitIncrement(lastFinite);
        float firstInfinite = MathF.BitIncrement(lastFinite);
        float atLast = p.Map(lastFinite);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"exp overflow: last finite x = {Ulp.Describe(lastFinite)} -> {atLast:R} (exact {Math.Exp(lastFinite):R}, {Ulp.Error(atLast, Math.Exp(lastFinite)):F4} ULP); " +
            $"x = {Ulp.Describe(firstInfinite)} -> {p.Map(firstInfinite):R}; ExpMax = {Ulp.Describe(ExpMax)} -> {p.Map(ExpMax):R}"));
        Assert.True(float.IsFinite(atLast) && Ulp.Error(atLast, Math.Exp(lastFinite)) < MaxUlp, $"exp({lastFinite:R}) = {atLast:R}");
        Assert.Equal(float.PositiveInfinity, p.Map(firstInfinite));
        // Every float from there up to ExpMax (where the exact result rounds to +inf) gives +inf, and beyond.
        for (float x = firstInfinite; x <= ExpMax; x = MathF.BitIncrement(x)) Assert.Equal(float.PositiveInfinity, p.Map(x));
        foreach (var x in new[] { MathF.BitIncrement(ExpMax), 89f, 100f, 1e10f, float.MaxValue })
            Assert.Equal(float.PositiveInfinity, p.Map(x));
    }

    [Fact]
    public void Exp_underflow_threshold_flushes_to_plus_zero_below_ExpMin()
    {
        // Documented in docs/NUMERICS.md: x < -87.3365479 returns +0. The exact result there is below FLT_MIN
        // (a subnormal down to x = -103.97, then below half the smallest subnormal), so the absolute error is
        // < FLT_MIN = 2^-126, but it is not faithful rounding in the subnormal range: measure by how much.
        var p = Probe.Value;
        Assert.True(Math.Exp(ExpMin) < Math.ScaleB(1.0, -126), "ExpMin is below ln(FLT_MIN)");
        Assert.True(p.Map(ExpMin) > 0f, "exp(ExpMin) itself is computed (a subnormal)");
        var below = new List<float>();
        for (float x = MathF.BitDecrement(ExpMin); x > -105f; x -= 0.01f) below.Add(x);
        below.AddRange([-88f, -100f, -103.9f, -104f, -1e10f, -float.MaxValue, float.NegativeInfinity]);
        var ys = p.Map(below);
        double worstUlp = 0;
        float worstX = 0;
        for (int i = 0; i < below.Count; i++)
        {
            Assert.Equal(0, BitsOf(ys[i]));                                  // +0
            double exact = Math.Exp(below[i]);
            Assert.True(exact < Math.ScaleB(1.0, -126));
            double e = Ulp.Error(ys[i], exact);
            if (e > worstUlp) { worstUlp = e; worstX = below[i]; }
        }
        var line = string.Create(CultureInfo.InvariantCulture,
            $"exp flush below ExpMin = {Ulp.Describe(ExpMin)} (exp(ExpMin) = {p.Map(ExpMin):R}, exact {Math.Exp(ExpMin):R}): " +
            $"results are +0 where the exact value is a subnormal; worst {worstUlp:F0} subnormal ULP (2^-149) at x = {Ulp.Describe(worstX)}, exact {Math.Exp(worstX):R}");
        output.WriteLine(line);
        MathTruthLog.Record(line);
    }
}
