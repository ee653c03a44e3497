using static TinyOdl.Kernels.Ir;

namespace TinyOdl.Kernels;

/// <summary>
/// exp and log for f32, written once in kernel IR so that C, LLVM IR and the evaluator compute the same bits
/// (libm differs between toolchains). Accuracy against float64 is measured by tests and stated in docs/NUMERICS.md.
/// </summary>
public static class MathLibrary
{
    private const float Ln2Hi = 0.693359375f;        // 355/512: k * Ln2Hi is exact for |k| < 2^15
    private const float Ln2Lo = -2.12194440e-4f;     // ln 2 - Ln2Hi
    private const float Log2E = 1.44269504f;
    private const float ExpMin = -87.3365479f;       // below: e^x < FLT_MIN, returns +0
    private const float ExpMax = 88.7228394f;        // above: e^x overflows, returns +inf
    private static readonly Expr PosInf = F(float.PositiveInfinity);

    public static ScalarFunction Exp { get; } = BuildExp();
    public static ScalarFunction Log { get; } = BuildLog();

    /// <summary>
    /// e^x = 2^k * e^r with k = round(x / ln 2), r = x - k ln 2 (Cody-Waite, two fused steps), |r| &lt;= 0.347,
    /// e^r by its degree-7 Taylor polynomial in Horner form (fused). 2^k is applied as two exact power-of-two
    /// scalings so that k = 128 and k = -126 stay representable; only the last multiply can round.
    /// </summary>
    private static ScalarFunction BuildExp()
    {
        var b = new KernelBuilder();
        var x = b.Parameter("x", ScalarType.F32);
        var xr = Ref(x);
        // Clamping first keeps the float-to-int conversion in range (a NaN clamps to ExpMin and is restored at the end).
        var xc = b.Declare("xc", Select(Gt(xr, F(ExpMin)), xr, F(ExpMin)));
        b.Assign(xc, Select(Lt(Ref(xc), F(ExpMax)), Ref(xc), F(ExpMax)));
        var t = b.Declare("t", Ref(xc) * F(Log2E));
        var k = b.Declare("k", ToInt(Ref(t) + Select(Lt(Ref(t), F(0f)), F(-0.5f), F(0.5f))));
        var kf = b.Declare("kf", ToFloat(Ref(k)));
        var r = b.Declare("r", Fma(Ref(kf), F(-Ln2Hi), Ref(xc)));
        b.Assign(r, Fma(Ref(kf), F(-Ln2Lo), Ref(r)));
        float[] taylor = [1f / 5040f, 1f / 720f, 1f / 120f, 1f / 24f, 1f / 6f, 0.5f, 1f, 1f];
        var p = b.Declare("p", F(taylor[0]));
        foreach (var c in taylor.Skip(1))
            b.Assign(p, Fma(Ref(p), Ref(r), F(c)));
        var k1 = b.Declare("k1", ToInt(Ref(kf) * F(0.5f)));
        var k2 = b.Declare("k2", Ref(k) - Ref(k1));
        var y = b.Declare("y", Ref(p) * FloatFromBits(Shl(Ref(k1) + 127, 23)));
        b.Assign(y, Ref(y) * FloatFromBits(Shl(Ref(k2) + 127, 23)));
        b.Assign(y, Select(Lt(xr, F(ExpMin)), F(0f), Ref(y)));
        b.Assign(y, Select(Gt(xr, F(ExpMax)), PosInf, Ref(y)));
        b.Return(Select(Ne(xr, xr), xr, Ref(y)));
        return b.BuildFunction("tinyodl_expf", ScalarType.F32, x);
    }

    /// <summary>
    /// log x = e ln 2 + log1p(f) with x = 2^e (1 + f), 1 + f in [sqrt(1/2), sqrt(2)); log1p(f) = 2 atanh(s),
    /// s = f / (2 + f), by its odd series up to s^11 (fused Horner). Subnormals are scaled by 2^23 first.
    /// log(+0) = -inf, log(x &lt; 0) = NaN (RISC-V's canonical quiet NaN), log(+inf) = +inf, NaN stays NaN.
    /// </summary>
    private static ScalarFunction BuildLog()
    {
        var b = new KernelBuilder();
        var x = b.Parameter("x", ScalarType.F32);
        var xr = Ref(x);
        var tiny = b.Declare("tiny", Select(Lt(xr, F(1.17549435e-38f)), 1, 0));
        var xs = b.Declare("xs", Select(Eq(Ref(tiny), 1), xr * F(8388608f), xr));
        var bits = b.Declare("bits", BitsOf(Ref(xs)));
        var e = b.Declare("e", LShr(Ref(bits), 23) - 127 - Ref(tiny) * 23);
        var m = b.Declare("m", FloatFromBits(Or(And(Ref(bits), 0x007FFFFF), 0x3F800000)));
        var big = b.Declare("big", Select(Gt(Ref(m), F(1.41421356f)), 1, 0));
        b.Assign(m, Select(Eq(Ref(big), 1), Ref(m) * F(0.5f), Ref(m)));
        b.Assign(e, Ref(e) + Ref(big));
        var f = b.Declare("f", Ref(m) - F(1f));          // exact (Sterbenz)
        var s = b.Declare("s", Ref(f) / (Ref(f) + F(2f)));
        var z = b.Declare("z", Ref(s) * Ref(s));
        float[] series = [1f / 11f, 1f / 9f, 1f / 7f, 1f / 5f, 1f / 3f];
        var q = b.Declare("q", F(series[0]));
        foreach (var c in series.Skip(1))
            b.Assign(q, Fma(Ref(q), Ref(z), F(c)));
        b.Assign(q, Ref(q) * Ref(z));
        var twoS = b.Declare("two_s", Ref(s) + Ref(s));
        var lp = b.Declare("lp", Fma(Ref(twoS), Ref(q), Ref(twoS)));
        var ef = b.Declare("ef", ToFloat(Ref(e)));
        var y = b.Declare("y", Fma(Ref(ef), F(Ln2Hi), Fma(Ref(ef), F(Ln2Lo), Ref(lp))));
        b.Assign(y, Select(Eq(xr, PosInf), xr, Ref(y)));
        b.Assign(y, Select(Eq(xr, F(0f)), F(float.NegativeInfinity), Ref(y)));
        b.Assign(y, Select(Lt(xr, F(0f)), FloatFromBits(0x7FC00000u), Ref(y)));
        b.Return(Select(Ne(xr, xr), xr, Ref(y)));
        return b.BuildFunction("tinyodl_logf", ScalarType.F32, x);
    }
}
