using System.Numerics;
using TinyOdl.Numerics;

namespace TinyOdl.Tests.Numerics;

/// <summary>
/// The hardware fast paths (<see cref="HardwareFastPath"/>) against the exact integer paths they shortcut
/// (<c>Binary16.AddExact</c> …), result and flags, on the oracle's biased operands (subnormals, ties, overflow,
/// cancellation) and on the edge classes, starting from no flags and from NX already set; and the binary32
/// operations the simulator added (div, sqrt, min/max, compares, classify, integer conversions) against .NET's IEEE
/// arithmetic and exact rational checks in every rounding mode.
/// </summary>
public sealed class HardwareFastPathTests
{
    private const int Count = 400_000;

    private static IEnumerable<OpSet> Operands()
    {
        for (int i = 0; i < OracleGenerator.EdgeTriples; i += 7) yield return OracleGenerator.EdgeSet(i);
        ulong state = OracleGenerator.Seed(99, 1);
        for (int i = 0; i < Count; i++) yield return OracleGenerator.GenSet(ref state);
    }

    private delegate uint Operation(in OpSet s, ref ExceptionFlags flags);

    private const RoundingMode Rne = RoundingMode.NearestEven;

    /// <summary>Each public operation (fast path first) and its exact integer path, on the operands of one set.</summary>
    private static readonly (string Name, Operation Fast, Operation Exact)[] Pairs =
    [
        ("f16 add", (in OpSet s, ref ExceptionFlags f) => Binary16.Add(s.A, s.B, ref f), (in OpSet s, ref ExceptionFlags f) => Binary16.AddExact(s.A, s.B, ref f, Rne)),
        ("f16 mul", (in OpSet s, ref ExceptionFlags f) => Binary16.Mul(s.A, s.B, ref f), (in OpSet s, ref ExceptionFlags f) => Binary16.MulExact(s.A, s.B, ref f, Rne)),
        ("f16 div", (in OpSet s, ref ExceptionFlags f) => Binary16.Div(s.A, s.B, ref f), (in OpSet s, ref ExceptionFlags f) => Binary16.DivExact(s.A, s.B, ref f, Rne)),
        ("f16 sqrt", (in OpSet s, ref ExceptionFlags f) => Binary16.Sqrt(s.A, ref f), (in OpSet s, ref ExceptionFlags f) => Binary16.SqrtExact(s.A, ref f, Rne)),
        ("f16 fmsub", (in OpSet s, ref ExceptionFlags f) => Binary16.FusedMultiplyAdd(s.A, s.B, s.C, false, true, ref f),
            (in OpSet s, ref ExceptionFlags f) => Binary16.FusedMultiplyAddExact(s.A, s.B, s.C, false, true, ref f, Rne)),
        ("f32→f16", (in OpSet s, ref ExceptionFlags f) => Binary16.FromSingle(s.X, ref f), (in OpSet s, ref ExceptionFlags f) => Binary16.FromSingleExact(s.X, ref f, Rne)),
        ("f32 add", (in OpSet s, ref ExceptionFlags f) => Binary32.Add(s.X, s.Y, ref f), (in OpSet s, ref ExceptionFlags f) => Binary32.AddExact(s.X, s.Y, ref f, Rne)),
        ("f32 mul", (in OpSet s, ref ExceptionFlags f) => Binary32.Mul(s.X, s.Y, ref f), (in OpSet s, ref ExceptionFlags f) => Binary32.MulExact(s.X, s.Y, ref f, Rne)),
        ("f32 div", (in OpSet s, ref ExceptionFlags f) => Binary32.Div(s.X, s.Y, ref f), (in OpSet s, ref ExceptionFlags f) => Binary32.DivExact(s.X, s.Y, ref f, Rne)),
        ("f32 sqrt", (in OpSet s, ref ExceptionFlags f) => Binary32.Sqrt(s.X, ref f), (in OpSet s, ref ExceptionFlags f) => Binary32.SqrtExact(s.X, ref f, Rne)),
        ("f32 fnmsub", (in OpSet s, ref ExceptionFlags f) => Binary32.FusedMultiplyAdd(s.X, s.Y, s.Z, true, false, ref f),
            (in OpSet s, ref ExceptionFlags f) => Binary32.FusedMultiplyAddExact(s.X, s.Y, s.Z, true, false, ref f, Rne)),
    ];

    [Theory]
    [InlineData(ExceptionFlags.None)]
    [InlineData(ExceptionFlags.Inexact)]
    public void Fast_paths_equal_the_exact_paths(ExceptionFlags initial)
    {
        foreach (var s in Operands())
        {
            foreach (var (name, fast, exact) in Pairs)
            {
                ExceptionFlags f1 = initial, f2 = initial;
                uint r1 = fast(s, ref f1), r2 = exact(s, ref f2);
                if (r1 != r2 || f1 != f2) Assert.Fail($"{name} {s}: fast path {r1:x} {f1}, exact {r2:x} {f2}");
            }
        }
    }

    /// <summary>The exact rational value of a finite binary32 value: numerator · 2^exponent.</summary>
    private static (BigInteger M, int E) Exact(uint x)
    {
        int e = (int)((x >> 23) & 0xFF);
        BigInteger m = e == 0 ? x & 0x7FFFFF : (x & 0x7FFFFF) | 0x800000;
        if ((x >> 31) != 0) m = -m;
        return (m, e == 0 ? -149 : e - 150);
    }

    /// <summary>Compares a·2^ea with b·2^eb exactly.</summary>
    private static int CompareExact((BigInteger M, int E) a, (BigInteger M, int E) b)
    {
        int e = Math.Min(a.E, b.E);
        return (a.M << (a.E - e)).CompareTo(b.M << (b.E - e));
    }

    private static (BigInteger M, int E) Times((BigInteger M, int E) a, (BigInteger M, int E) b) => (a.M * b.M, a.E + b.E);

    private static uint NextUp(uint x) => (x >> 31) == 0 ? x + 1 : x == 0x80000000 ? 1u : x - 1;
    private static uint NextDown(uint x) => (x >> 31) != 0 ? x + 1 : x == 0 ? 0x80000001u : x - 1;

    [Fact]
    public void Binary32_division_and_square_root_are_correctly_rounded_in_every_mode()
    {
        ulong state = OracleGenerator.Seed(98, 2);
        for (int i = 0; i < 60_000; i++)
        {
            var s = OracleGenerator.GenSet(ref state);
            float fx = BitConverter.UInt32BitsToSingle(s.X), fy = BitConverter.UInt32BitsToSingle(s.Y);
            ExceptionFlags f = 0;
            // Round to nearest: .NET's IEEE division and square root (subnormals included) are correctly rounded.
            uint q = Binary32.DivExact(s.X, s.Y, ref f, RoundingMode.NearestEven);
            uint hq = BitConverter.SingleToUInt32Bits(fx / fy);
            Assert.True(float.IsNaN(fx / fy) ? q == Binary32.CanonicalNaN : q == hq, $"div {s}: {q:x8} vs {hq:x8}");
            uint r = Binary32.SqrtExact(s.X, ref f, RoundingMode.NearestEven);
            uint hr = BitConverter.SingleToUInt32Bits(MathF.Sqrt(fx));
            Assert.True(float.IsNaN(MathF.Sqrt(fx)) ? r == Binary32.CanonicalNaN : r == hr, $"sqrt {s}: {r:x8} vs {hr:x8}");
            // Directed modes on finite non-zero quotients and roots: the exact value lies between the result and its
            // neighbour on the far side; inexact exactly when NX.
            if (!float.IsFinite(fx) || !float.IsFinite(fy) || fx == 0 || fy == 0) continue;
            foreach (var rm in new[] { RoundingMode.TowardZero, RoundingMode.Down, RoundingMode.Up })
            {
                ExceptionFlags fd = 0;
                uint d = Binary32.DivExact(s.X, s.Y, ref fd, rm);
                if ((d & 0x7FFFFFFF) >= 0x7F800000 || (d & 0x7FFFFFFF) == 0 || (fd & ExceptionFlags.Overflow) != 0) continue;
                bool up = rm == RoundingMode.Up || (rm == RoundingMode.TowardZero && (d >> 31) != 0);
                // d·y compared with x, sign-adjusted by y's sign: "d ≤ x/y" ⇔ d·y ≤ x when y > 0.
                int sy = fy > 0 ? 1 : -1;
                int c = CompareExact(Times(Exact(d), Exact(s.Y)), Exact(s.X)) * sy;
                int cn = CompareExact(Times(Exact(up ? NextDown(d) : NextUp(d)), Exact(s.Y)), Exact(s.X)) * sy;
                Assert.True(up ? c >= 0 && cn < 0 : c <= 0 && cn > 0, $"div {rm} {s}: {d:x8}");
                Assert.Equal(c != 0, (fd & ExceptionFlags.Inexact) != 0);
            }
            if (fx > 0)
            {
                ExceptionFlags fs = 0;
                uint t = Binary32.SqrtExact(s.X, ref fs, RoundingMode.TowardZero);
                Assert.True(CompareExact(Times(Exact(t), Exact(t)), Exact(s.X)) <= 0 && CompareExact(Times(Exact(t + 1), Exact(t + 1)), Exact(s.X)) > 0, $"sqrt rtz {s}");
            }
        }
    }

    [Fact]
    public void Min_max_compare_and_classify_follow_the_risc_v_rules()
    {
        ExceptionFlags f = 0;
        Assert.Equal(0x80000000u, Binary32.Min(0, 0x80000000, ref f));
        Assert.Equal(0u, Binary32.Max(0x80000000, 0, ref f));
        Assert.Equal(0x3f800000u, Binary32.Min(0x7fc00000, 0x3f800000, ref f));
        Assert.Equal(ExceptionFlags.None, f);
        Assert.Equal(Binary32.CanonicalNaN, Binary32.Max(0x7f800001, 0xffc00001, ref f));
        Assert.Equal(ExceptionFlags.Invalid, f);
        f = 0;
        Assert.True(FloatComparison.Equal(0, 0x80000000, ref f));
        Assert.False(FloatComparison.Equal(0x7fc00000, 0x7fc00000, ref f));
        Assert.Equal(ExceptionFlags.None, f);                                    // feq is quiet
        Assert.False(FloatComparison.Less(0x7fc00000, 0, ref f));
        Assert.Equal(ExceptionFlags.Invalid, f);                                 // flt signals
        ulong state = OracleGenerator.Seed(97, 3);
        for (int i = 0; i < 100_000; i++)
        {
            var s = OracleGenerator.GenSet(ref state);
            float x = BitConverter.UInt32BitsToSingle(s.X), y = BitConverter.UInt32BitsToSingle(s.Y);
            ExceptionFlags g = 0;
            Assert.Equal(x < y, FloatComparison.Less(s.X, s.Y, ref g));
            Assert.Equal(x <= y, FloatComparison.LessOrEqual(s.X, s.Y, ref g));
            Assert.Equal(x == y, FloatComparison.Equal(s.X, s.Y, ref g));
            uint cls = FloatComparison.Classify(s.X);
            Assert.Equal(1, BitOperations.PopCount(cls));
            Assert.Equal(float.IsNaN(x), cls >= 1u << 8);
            Assert.Equal(float.IsSubnormal(x), (cls & 0b100100) != 0);
            uint half = FloatComparison.Classify(s.A);
            Assert.Equal(Binary16.IsNaN(s.A) ? (Binary16.IsSignalingNaN(s.A) ? 1u << 8 : 1u << 9) : 0u, half & 0x300);
            Assert.Equal(Binary16.IsSubnormal(s.A), (half & 0b100100) != 0);
        }
    }

    [Fact]
    public void Integer_conversions_round_like_math_round_and_saturate_with_nv()
    {
        var modes = new (RoundingMode Rm, MidpointRounding Mr)[]
        {
            (RoundingMode.NearestEven, MidpointRounding.ToEven), (RoundingMode.TowardZero, MidpointRounding.ToZero),
            (RoundingMode.Down, MidpointRounding.ToNegativeInfinity), (RoundingMode.Up, MidpointRounding.ToPositiveInfinity),
            (RoundingMode.NearestMaxMagnitude, MidpointRounding.AwayFromZero),
        };
        ulong state = OracleGenerator.Seed(96, 4);
        for (int i = 0; i < 100_000; i++)
        {
            var s = OracleGenerator.GenSet(ref state);
            uint bits = (s.X & 0x807FFFFF) | (((s.X >> 23) & 0x3F) + 100) << 23;   // magnitudes around 2^-27 .. 2^36
            double v = BitConverter.UInt32BitsToSingle(bits);
            foreach (var (rm, mr) in modes)
            {
                double r = Math.Round(v, mr);
                ExceptionFlags f = 0;
                int si = IntegerConversion.ToSigned(bits, 32, ref f, rm);
                if (r > int.MaxValue || r < int.MinValue)
                    Assert.Equal((r > 0 ? int.MaxValue : int.MinValue, ExceptionFlags.Invalid), (si, f));
                else
                    Assert.Equal(((int)r, r != v ? ExceptionFlags.Inexact : ExceptionFlags.None), (si, f));
                f = 0;
                uint ui = IntegerConversion.ToUnsigned(bits, 16, ref f, rm);
                if (r > ushort.MaxValue || r < 0)
                    Assert.Equal((r > 0 ? ushort.MaxValue : 0u, ExceptionFlags.Invalid), (ui, f));
                else
                    Assert.Equal(((uint)r, r != v ? ExceptionFlags.Inexact : ExceptionFlags.None), (ui, f));
            }
            int n = (int)s.Y;
            ExceptionFlags g = 0;
            Assert.Equal(BitConverter.SingleToUInt32Bits(n), IntegerConversion.SingleFromSigned(n, ref g));
            float rounded = n;
            Assert.Equal((long)rounded != n, (g & ExceptionFlags.Inexact) != 0);
            ExceptionFlags h = 0;
            Assert.Equal(Binary16.FromDouble(n, ref h), IntegerConversion.HalfFromSigned(n, ref g));
        }
        ExceptionFlags nan = 0;
        Assert.Equal(int.MaxValue, IntegerConversion.ToSigned(Binary32.CanonicalNaN, 32, ref nan));
        Assert.Equal(uint.MaxValue, IntegerConversion.ToUnsigned(0x7f800001, 32, ref nan));
        Assert.Equal(ExceptionFlags.Invalid, nan);
        ExceptionFlags neg = 0;
        Assert.Equal(0u, IntegerConversion.ToUnsigned(0xbe800000, 32, ref neg));   // -0.25 → 0, inexact only
        Assert.Equal(ExceptionFlags.Inexact, neg);
    }
}
