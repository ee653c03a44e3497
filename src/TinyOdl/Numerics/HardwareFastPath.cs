using System.Runtime.CompilerServices;

namespace TinyOdl.Numerics;

/// <summary>
/// Round-to-nearest-even binary32 operations on the host's IEEE hardware, for the operand ranges where the result
/// and all flags are provably the ones <see cref="ExactRounding"/> would give. Each method returns false (and leaves
/// <c>flags</c> alone) outside that range; the caller then takes the exact integer path. This keeps the simulator's
/// floating-point instructions fast without a second implementation of the rounding rules.
/// </summary>
/// <remarks>
/// <para>
/// .NET computes <c>float</c> operations in binary32 with round-to-nearest-even, no flush-to-zero, and
/// <c>MathF.FusedMultiplyAdd</c> / <c>MathF.Sqrt</c> correctly rounded, so inside the accepted ranges the hardware
/// result <em>is</em> the correctly rounded result. What hardware does not give is the flags. The ranges are chosen
/// so that only NX can be raised (no NaN, no infinity, no overflow, no tininess): the result is finite and at least
/// 2^-125 in magnitude, which is not tiny even before rounding, and every error term below is exactly representable,
/// so NX is decided exactly:
/// </para>
/// <list type="bullet">
/// <item>add: the TwoSum error of <c>s = x + y</c> is exact for finite operands below 2^127 (no intermediate overflow);
/// the sum is inexact iff the error is non-zero. A subnormal or zero sum of two binary32 numbers is always exact.</item>
/// <item>mul: the error <c>x·y − s</c> lies on the grid of the exact product; with biased exponents ex + ey ≥ 151
/// that grid is at least 2^-149, so <c>fma(x, y, −s)</c> computes it exactly.</item>
/// <item>fma: <c>x·y</c> is exact in binary64 (48 bits), and the TwoSum of <c>x·y + z</c> in binary64 gives the exact
/// value as a pair (binary64 never underflows here); the result is exact iff the pair's error is zero and the
/// binary32 result equals its head.</item>
/// <item>div: the remainder <c>x − q·y</c> is exactly representable when q·y's grid is at least 2^-149
/// (eq + ey ≥ 151); the quotient is exact iff it is zero.</item>
/// <item>sqrt: likewise the remainder <c>x − r·r</c> with er ≥ 76.</item>
/// </list>
/// <para>
/// Flags accrue, so once NX is set (in <c>flags</c>, i.e. in fflags) none of these inexactness tests is needed and
/// none is computed: after a program's first inexact operation the binary32 fast paths are the hardware operation
/// and a range check.
/// </para>
/// <para>
/// Binary16 (the <c>*16</c> methods) goes through binary64: every binary16 value is exact in binary64, and so are
/// the sum (at most 41 significant bits) and the product (22 bits) of two of them; a fused multiply-add is taken
/// only when the TwoSum of <c>a·b + c</c> in binary64 shows it exact. Quotient and square root are rounded to
/// binary64 first: rounding twice, to 53 and then to 11 bits, gives the correctly rounded binary16 result because
/// 53 ≥ 2·11 + 2 (the same argument docs/BINARY16.md makes for System.Half), and their binary64 remainder (exact, by
/// fma) tells whether the quotient or root was exact. <see cref="TryRoundToHalf"/> then rounds an exact (or, for
/// ÷ and √, once-rounded) binary64 value whose magnitude is in the binary16 normal range [2^-14, 2^16) and does not
/// round up to infinity: no tininess, no overflow, NX iff bits are discarded; exact sums and products may also be
/// zero or below 2^-15 (<see cref="TryRoundExactToHalf"/>).
/// </para>
/// </remarks>
internal static class HardwareFastPath
{
    /// <summary>Biased exponent field of a binary32 bit pattern.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Exp(uint x) => (x >> 23) & 0xFF;

    /// <summary>Whether the result needs no flag other than NX: finite and at least 2^-125 in magnitude.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Safe(uint r) => Exp(r) - 2 < 253;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float F(uint x) => BitConverter.UInt32BitsToSingle(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Bits(float x) => BitConverter.SingleToUInt32Bits(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryAdd(uint x, uint y, ref ExceptionFlags flags, out uint result)
    {
        result = 0;
        if (Exp(x) >= 254 || Exp(y) >= 254) return false;     // NaN, ∞ or ≥ 2^127
        float a = F(x), b = F(y), s = a + b;
        uint r = Bits(s);
        if (Exp(r) == 255) return false;                     // overflow
        if ((flags & ExceptionFlags.Inexact) == 0)
        {
            float bb = s - a;
            if ((a - (s - bb)) + (b - bb) != 0) flags |= ExceptionFlags.Inexact;
        }
        result = r;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryMul(uint x, uint y, ref ExceptionFlags flags, out uint result)
    {
        result = 0;
        uint ex = Exp(x), ey = Exp(y);
        if (ex - 1 >= 254 || ey - 1 >= 254 || ex + ey < 151) return false;   // both normal, error representable
        float a = F(x), b = F(y), p = a * b;
        uint r = Bits(p);
        if (!Safe(r)) return false;
        if ((flags & ExceptionFlags.Inexact) == 0 && MathF.FusedMultiplyAdd(a, b, -p) != 0) flags |= ExceptionFlags.Inexact;
        result = r;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryFusedMultiplyAdd(uint x, uint y, uint z, ref ExceptionFlags flags, out uint result)
    {
        result = 0;
        if (Exp(x) == 255 || Exp(y) == 255 || Exp(z) == 255) return false;
        float a = F(x), b = F(y), c = F(z);
        float f = MathF.FusedMultiplyAdd(a, b, c);
        uint r = Bits(f);
        if (!Safe(r)) return false;
        if ((flags & ExceptionFlags.Inexact) == 0)
        {
            double p = (double)a * b, dc = c, s = p + dc;
            double pp = s - p;
            if ((p - (s - pp)) + (dc - pp) != 0 || (double)f != s) flags |= ExceptionFlags.Inexact;
        }
        result = r;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryDiv(uint x, uint y, ref ExceptionFlags flags, out uint result)
    {
        result = 0;
        uint ex = Exp(x), ey = Exp(y);
        if (ex - 1 >= 254 || ey - 1 >= 254) return false;      // both normal
        float a = F(x), b = F(y), q = a / b;
        uint r = Bits(q);
        if (!Safe(r) || Exp(r) + ey < 151) return false;
        if ((flags & ExceptionFlags.Inexact) == 0 && MathF.FusedMultiplyAdd(-q, b, a) != 0) flags |= ExceptionFlags.Inexact;
        result = r;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TrySqrt(uint x, ref ExceptionFlags flags, out uint result)
    {
        result = 0;
        if ((x >> 31) != 0 || Exp(x) - 1 >= 254) return false; // positive normal
        float a = F(x), s = MathF.Sqrt(a);
        uint r = Bits(s);
        if (Exp(r) < 76) return false;
        if ((flags & ExceptionFlags.Inexact) == 0 && MathF.FusedMultiplyAdd(-s, s, a) != 0) flags |= ExceptionFlags.Inexact;
        result = r;
        return true;
    }

    // ---------------------------------------------------------------- binary16 through binary64

    /// <summary>The exact binary64 value of a finite binary16 bit pattern.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Wide(uint h)
    {
        uint e = (h >> 10) & 0x1F;
        ulong sign = (ulong)(h >> 15) << 63;
        if (e != 0) return BitConverter.UInt64BitsToDouble(sign | (ulong)(e + 1008) << 52 | (ulong)(h & 0x3FF) << 42);
        double v = (h & 0x3FF) * 5.9604644775390625E-8;          // m · 2^-24, exact
        return sign != 0 ? -v : v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Finite16(uint h) => (h & 0x7C00) != 0x7C00;

    /// <summary>Rounds a binary64 value in [2^-14, 2^16) (either sign) to binary16, ties to even; false outside or on overflow.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRoundToHalf(double v, ref ExceptionFlags flags, out ushort result)
    {
        result = 0;
        ulong bits = BitConverter.DoubleToUInt64Bits(v), mag = bits & 0x7FFF_FFFF_FFFF_FFFF;
        ulong e = mag >> 52;
        if (e - 1009 > 1038 - 1009) return false;               // outside the binary16 normal binades
        ulong x = mag - (1008UL << 52);                          // binary16-biased exponent at bit 52
        ulong rest = x & ((1UL << 42) - 1), h = x >> 42;
        const ulong Half = 1UL << 41;
        if (rest > Half || (rest == Half && (h & 1) != 0)) h++;
        if (h >= 0x7C00) return false;                           // rounds to infinity: overflow, slow path
        if (rest != 0) flags |= ExceptionFlags.Inexact;
        result = (ushort)(h | (bits >> 48 & 0x8000));
        return true;
    }

    /// <summary>
    /// <see cref="TryRoundToHalf"/> for an <em>exact</em> binary64 value, extended to zero (the hardware's signed zero
    /// of the sum or product is IEEE's, also in sign) and to magnitudes below 2^-15: those are tiny whatever the
    /// rounding (even rounded to 11 bits they stay below 2^-14), so the subnormal result m·2^-24 rounds m to an
    /// integer (Math.Round to even is exact on binary64) and an inexact one raises UF and NX.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryRoundExactToHalf(double v, ref ExceptionFlags flags, out ushort result)
    {
        if (TryRoundToHalf(v, ref flags, out result)) return true;
        ulong bits = BitConverter.DoubleToUInt64Bits(v);
        ushort sign = (ushort)(bits >> 48 & 0x8000);
        double a = Math.Abs(v);
        if (a == 0)
        {
            result = sign;
            return true;
        }
        if (a >= 3.0517578125E-05) return false;                 // 2^-15 .. 2^-14 and above: exact path
        double m = a * 16777216.0, r = Math.Round(m, MidpointRounding.ToEven);   // in units of 2^-24, exact scaling
        if (r != m) flags |= ExceptionFlags.Inexact | ExceptionFlags.Underflow;
        result = (ushort)(sign | (ushort)r);
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryAdd16(ushort a, ushort b, ref ExceptionFlags flags, out ushort result)
    {
        result = 0;
        return Finite16(a) && Finite16(b) && TryRoundExactToHalf(Wide(a) + Wide(b), ref flags, out result);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryMul16(ushort a, ushort b, ref ExceptionFlags flags, out ushort result)
    {
        result = 0;
        return Finite16(a) && Finite16(b) && TryRoundExactToHalf(Wide(a) * Wide(b), ref flags, out result);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryFusedMultiplyAdd16(ushort a, ushort b, ushort c, ref ExceptionFlags flags, out ushort result)
    {
        result = 0;
        if (!Finite16(a) || !Finite16(b) || !Finite16(c)) return false;
        double p = Wide(a) * Wide(b), z = Wide(c), s = p + z;
        double pp = s - p;
        if ((p - (s - pp)) + (z - pp) != 0) return false;       // the sum is not exact in binary64
        return TryRoundExactToHalf(s, ref flags, out result);
    }

    public static bool TryDiv16(ushort a, ushort b, ref ExceptionFlags flags, out ushort result)
    {
        result = 0;
        if (!Finite16(a) || !Finite16(b) || (b & 0x7FFF) == 0) return false;
        double x = Wide(a), y = Wide(b), q = x / y;
        return TryRoundOnceRounded(q, Math.FusedMultiplyAdd(-q, y, x), ref flags, out result);
    }

    public static bool TrySqrt16(ushort a, ref ExceptionFlags flags, out ushort result)
    {
        result = 0;
        if (!Finite16(a) || (a & 0x8000) != 0) return false;
        double x = Wide(a), r = Math.Sqrt(x);
        return TryRoundOnceRounded(r, Math.FusedMultiplyAdd(-r, r, x), ref flags, out result);
    }

    /// <summary>Rounds a binary64 quotient or root to binary16; a non-zero binary64 remainder means it was already inexact.</summary>
    private static bool TryRoundOnceRounded(double value, double remainder, ref ExceptionFlags flags, out ushort result)
    {
        var f = flags;
        if (!TryRoundToHalf(value, ref f, out result)) return false;
        if (remainder != 0) f |= ExceptionFlags.Inexact;
        flags = f;
        return true;
    }
}
