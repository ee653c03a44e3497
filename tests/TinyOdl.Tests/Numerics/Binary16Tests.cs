using System.Diagnostics;
using TinyOdl.Numerics;
using Xunit.Abstractions;

namespace TinyOdl.Tests.Numerics;

/// <summary>
/// Known cases of <see cref="Binary16"/> / <see cref="Binary32"/>, cross-checks with .NET's own IEEE operations where
/// those are correctly rounded, and a throughput measurement. The bit-for-bit oracle is QEMU
/// (<see cref="ScalarOracleTests"/>, <see cref="VectorOracleTests"/>).
/// </summary>
public sealed class Binary16Tests(ITestOutputHelper output)
{
    private const ExceptionFlags NX = ExceptionFlags.Inexact, UF = ExceptionFlags.Underflow, OF = ExceptionFlags.Overflow,
        DZ = ExceptionFlags.DivideByZero, NV = ExceptionFlags.Invalid, None = ExceptionFlags.None;

    [Fact]
    public void FusedMultiplyAddIsCorrectlyRoundedWhereHalfFmaIsNot()
    {
        // 0x3C01 * 0x3BFF = (1 + 2^-10)(1 - 2^-11) = 1 + 2^-11 - 2^-21, plus 9 * 2^-24: above the midpoint 1 + 2^-11.
        ExceptionFlags f = 0;
        Assert.Equal(0x3C01, Binary16.FMAdd(0x3C01, 0x3BFF, 0x0009, ref f));
        Assert.Equal(NX, f);
        var dotnet = BitConverter.HalfToUInt16Bits(Half.FusedMultiplyAdd(BitConverter.UInt16BitsToHalf(0x3C01), BitConverter.UInt16BitsToHalf(0x3BFF), BitConverter.UInt16BitsToHalf(0x0009)));
        output.WriteLine($"Half.FusedMultiplyAdd gives {dotnet:x4} (correct: 3c01)");
    }

    [Theory]
    [InlineData(0x3C00, 0x1000, RoundingMode.NearestEven, 0x3C00, NX)]          // 1 + 2^-11: tie to even
    [InlineData(0x3C01, 0x1000, RoundingMode.NearestEven, 0x3C02, NX)]          // tie, odd: up
    [InlineData(0x3C00, 0x1000, RoundingMode.NearestMaxMagnitude, 0x3C01, NX)]
    [InlineData(0x3C00, 0x1000, RoundingMode.Up, 0x3C01, NX)]
    [InlineData(0xBC00, 0x9000, RoundingMode.Down, 0xBC01, NX)]
    [InlineData(0xBC00, 0x9000, RoundingMode.TowardZero, 0xBC00, NX)]
    [InlineData(0x7BFF, 0x4C00, RoundingMode.NearestEven, 0x7C00, OF | NX)]     // 65504 + 16 = 65520: tie, rounds to 2^16
    [InlineData(0x7BFF, 0x4800, RoundingMode.NearestEven, 0x7BFF, NX)]          // 65504 + 8
    [InlineData(0x7BFF, 0x4C00, RoundingMode.TowardZero, 0x7BFF, NX)]          // 65520 truncates to 65504: no overflow
    [InlineData(0x7BFF, 0x5000, RoundingMode.TowardZero, 0x7BFF, OF | NX)]     // 65536 exactly: overflow, max finite
    [InlineData(0xFBFF, 0xD000, RoundingMode.Up, 0xFBFF, OF | NX)]
    [InlineData(0xFBFF, 0xCC00, RoundingMode.Down, 0xFC00, OF | NX)]
    [InlineData(0x3C00, 0xBC00, RoundingMode.NearestEven, 0x0000, None)]       // exact cancellation: +0
    [InlineData(0x3C00, 0xBC00, RoundingMode.Down, 0x8000, None)]              // ... -0 when rounding down
    [InlineData(0x8000, 0x8000, RoundingMode.NearestEven, 0x8000, None)]
    [InlineData(0x0000, 0x8000, RoundingMode.Down, 0x8000, None)]
    [InlineData(0x0401, 0x8400, RoundingMode.NearestEven, 0x0001, None)]       // exact subnormal: no UF
    [InlineData(0x7C00, 0xFC00, RoundingMode.NearestEven, 0x7E00, NV)]         // ∞ - ∞
    [InlineData(0x7C01, 0x3C00, RoundingMode.NearestEven, 0x7E00, NV)]         // sNaN
    [InlineData(0xFE01, 0x3C00, RoundingMode.NearestEven, 0x7E00, None)]       // qNaN with payload → canonical
    public void AddCases(int a, int b, RoundingMode rm, int expected, ExceptionFlags flags)
    {
        ExceptionFlags f = 0;
        Assert.Equal(expected.ToString("x4"), Binary16.Add((ushort)a, (ushort)b, ref f, rm).ToString("x4"));
        Assert.Equal(flags, f);
    }

    [Theory]
    [InlineData(0x387FF000u, 0x0400, NX)]        // 2^-14(1 - 2^-12): rounds to 2^-14 even with unbounded exponent → not tiny
    [InlineData(0x387FE000u, 0x0400, UF | NX)]   // 2^-14(1 - 2^-11): exact at 11 bits below 2^-14 → tiny; rounds up to 2^-14
    [InlineData(0x387FC000u, 0x03FF, None)]      // largest subnormal, exact
    [InlineData(0x33000000u, 0x0000, UF | NX)]   // 2^-25: tie between 0 and 2^-24 → 0
    [InlineData(0x33000001u, 0x0001, UF | NX)]
    [InlineData(0x33C00000u, 0x0002, UF | NX)]   // 1.5 × 2^-24: tie → 2 × 2^-24
    [InlineData(0x477FF000u, 0x7C00, OF | NX)]   // 65520: tie → overflow
    [InlineData(0x477FEFFFu, 0x7BFF, NX)]
    [InlineData(0x7F800001u, 0x7E00, NV)]        // sNaN → canonical, NV
    [InlineData(0xFFC00001u, 0x7E00, None)]      // qNaN → canonical
    public void NarrowingCases(uint x, int expected, ExceptionFlags flags)
    {
        ExceptionFlags f = 0;
        Assert.Equal(expected.ToString("x4"), Binary16.FromSingle(x, ref f).ToString("x4"));
        Assert.Equal(flags, f);
    }

    [Fact]
    public void MinMaxFollowMinimumNumberRules()
    {
        ExceptionFlags f = 0;
        Assert.Equal(0x8000, Binary16.Min(0x0000, 0x8000, ref f));
        Assert.Equal(0x0000, Binary16.Max(0x8000, 0x0000, ref f));
        Assert.Equal(0x3C00, Binary16.Min(0x7E00, 0x3C00, ref f));
        Assert.Equal(None, f);
        Assert.Equal(0x3C00, Binary16.Max(0x3C00, 0x7C01, ref f));   // sNaN: the number, but NV
        Assert.Equal(NV, f);
        f = 0;
        Assert.Equal(0x7E00, Binary16.Min(0xFE01, 0x7E55, ref f));
        Assert.Equal(None, f);
    }

    [Fact]
    public void DivisionAndSquareRootSpecialCases()
    {
        ExceptionFlags f = 0;
        Assert.Equal(0xFC00, Binary16.Div(0xBC00, 0x0000, ref f));
        Assert.Equal(DZ, f);
        f = 0;
        Assert.Equal(0x7E00, Binary16.Div(0x0000, 0x8000, ref f));
        Assert.Equal(NV, f);
        f = 0;
        Assert.Equal(0x8000, Binary16.Sqrt(0x8000, ref f));
        Assert.Equal(0x7E00, Binary16.Sqrt(0xBC00, ref f));
        Assert.Equal(NV, f);
        f = 0;
        Assert.Equal(0x7E00, Binary16.FMAdd(0x7C00, 0x0000, 0x7E00, ref f));  // ∞ × 0 + qNaN: NV (RISC-V)
        Assert.Equal(NV, f);
    }

    [Fact]
    public void ReservedRoundingModesAreRejected()
    {
        ExceptionFlags f = 0;
        Assert.Throws<ArgumentOutOfRangeException>(() => Binary16.Add(0, 0, ref f, (RoundingMode)5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Binary32.FMAdd(0, 0, 0, ref f, (RoundingMode)7));
    }

    /// <summary>
    /// .NET's Half +, -, ×, ÷, √ and conversions compute in float and round once more to half; float has
    /// 24 ≥ 2·11 + 2 bits, so that double rounding is innocuous and they are correctly rounded (RNE). Every
    /// binary16 value for the unary operations, a large random sample of pairs for the binary ones.
    /// </summary>
    [Fact]
    public void AgreesWithDotnetHalfWhereThatIsCorrectlyRounded()
    {
        static ushort H(Half h) => BitConverter.HalfToUInt16Bits(h);
        static Half F(ushort b) => BitConverter.UInt16BitsToHalf(b);
        static bool Same(ushort ours, ushort net) => ours == net || (Binary16.IsNaN(ours) && Binary16.IsNaN(net));
        for (int i = 0; i < 65536; i++)
        {
            ushort a = (ushort)i;
            Assert.True(Same(Binary16.Sqrt(a), H(Half.Sqrt(F(a)))), $"sqrt {a:x4}");
            float widened = BitConverter.Int32BitsToSingle((int)Binary16.ToSingle(a));
            Assert.True(float.IsNaN(widened) ? Half.IsNaN(F(a)) : widened.Equals((float)F(a)), $"widen {a:x4}");
        }
        ulong state = OracleGenerator.Seed(7, 7);
        for (int i = 0; i < 500_000; i++)
        {
            var s = OracleGenerator.GenSet(ref state);
            Half a = F(s.A), b = F(s.B);
            Assert.True(Same(Binary16.Add(s.A, s.B), H(a + b)), $"add {s}");
            Assert.True(Same(Binary16.Sub(s.A, s.B), H(a - b)), $"sub {s}");
            Assert.True(Same(Binary16.Mul(s.A, s.B), H(a * b)), $"mul {s}");
            Assert.True(Same(Binary16.Div(s.A, s.B), H(a / b)), $"div {s}");
            Assert.True(Same(Binary16.FromSingle(s.X), H((Half)BitConverter.Int32BitsToSingle((int)s.X))), $"narrow {s}");
            Assert.True(Same(Binary16.FromDouble(BitConverter.Int32BitsToSingle((int)s.X)), Binary16.FromSingle(s.X)), $"from double {s}");
        }
    }

    /// <summary>For non-NaN operands Binary32 agrees with the hardware's float +, × and MathF.FusedMultiplyAdd (RNE).</summary>
    [Fact]
    public void Binary32AgreesWithHardwareFloat()
    {
        static uint U(float f) => (uint)BitConverter.SingleToInt32Bits(f);
        static float F(uint u) => BitConverter.Int32BitsToSingle((int)u);
        ulong state = OracleGenerator.Seed(9, 9);
        for (int i = 0; i < 500_000; i++)
        {
            var s = OracleGenerator.GenSet(ref state);
            float x = F(s.X), y = F(s.Y), z = F(s.Z);
            uint add = Binary32.Add(s.X, s.Y), mul = Binary32.Mul(s.X, s.Y), fma = Binary32.FMAdd(s.X, s.Y, s.Z);
            if (!float.IsNaN(x + y)) Assert.True(add == U(x + y), $"add {s}");
            if (!float.IsNaN(x * y)) Assert.True(mul == U(x * y), $"mul {s}");
            float r = MathF.FusedMultiplyAdd(x, y, z);
            if (!float.IsNaN(r)) Assert.True(fma == U(r), $"fma {s}");
            else Assert.Equal(Binary32.CanonicalNaN, fma);
        }
    }

    /// <summary>
    /// Throughput over the oracle's operand distribution, best of three runs per operation (reported; the bound only
    /// catches pathologies: tests run in Debug and next to the QEMU oracles). Release numbers: docs/BINARY16.md.
    /// </summary>
    [Fact]
    public void ThroughputIsWellUnderAMicrosecondPerOperation()
    {
        const int n = 1 << 18;
        var sets = new OpSet[n];
        ulong state = OracleGenerator.Seed(3, 3);
        for (int i = 0; i < n; i++) sets[i] = OracleGenerator.GenSet(ref state);
        var results = new List<string>();
        double worst = 0;
        foreach (var (name, op) in new (string, Func<OpSet, uint>)[]
        {
            ("add", s => { ExceptionFlags f = 0; return Binary16.Add(s.A, s.B, ref f); }),
            ("mul", s => { ExceptionFlags f = 0; return Binary16.Mul(s.A, s.B, ref f); }),
            ("div", s => { ExceptionFlags f = 0; return Binary16.Div(s.A, s.B, ref f); }),
            ("sqrt", s => { ExceptionFlags f = 0; return Binary16.Sqrt(s.A, ref f); }),
            ("fma", s => { ExceptionFlags f = 0; return Binary16.FMAdd(s.A, s.B, s.C, ref f); }),
            ("f32->f16", s => { ExceptionFlags f = 0; return Binary16.FromSingle(s.X, ref f); }),
            ("f32 fma", s => { ExceptionFlags f = 0; return Binary32.FMAdd(s.X, s.Y, s.Z, ref f); }),
        })
        {
            uint sink = 0;
            double best = double.MaxValue;
            for (int rep = 0; rep < 3; rep++)
            {
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < n; i++) sink ^= op(sets[i]);
                best = Math.Min(best, sw.Elapsed.TotalNanoseconds / n);
            }
            worst = Math.Max(worst, best);
            results.Add($"{name} {best:F1} ns/op (sink {sink & 1})");
        }
        output.WriteLine(string.Join('\n', results));
        Assert.True(worst < 5000, string.Join('\n', results));
    }
}
