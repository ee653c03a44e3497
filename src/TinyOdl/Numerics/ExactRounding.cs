using System.Numerics;
using System.Runtime.CompilerServices;

namespace TinyOdl.Numerics;

/// <summary>A binary interchange format: significand precision (with the hidden bit) and exponent width.</summary>
internal interface IBinaryFormat
{
    /// <summary>Significand bits including the implicit leading bit (p).</summary>
    static abstract int Precision { get; }
    /// <summary>Width of the biased exponent field.</summary>
    static abstract int ExponentBits { get; }
}

/// <summary>binary16: p = 11, 5 exponent bits, emax = 15.</summary>
internal readonly struct Binary16Format : IBinaryFormat
{
    public static int Precision => 11;
    public static int ExponentBits => 5;
}

/// <summary>binary32: p = 24, 8 exponent bits, emax = 127.</summary>
internal readonly struct Binary32Format : IBinaryFormat
{
    public static int Precision => 24;
    public static int ExponentBits => 8;
}

/// <summary>
/// The one rounding step shared by every operation. Callers compute the exact result as an integer significand and
/// a power-of-two exponent, <c>(-1)^negative × mag × 2^exp</c>, and round it here exactly once.
/// </summary>
/// <remarks>
/// <para>
/// Exactness contract. <c>mag</c> is either the exact significand, or a "sticky-jammed" one: the true significand
/// lies strictly between <c>mag - 1</c> and <c>mag + 1</c>, <c>mag</c> is odd, and the caller guarantees that
/// <c>mag</c> has at least <c>Precision + 3</c> significant bits. Then every rounding boundary of the target format
/// (representable numbers and the midpoints between them, also the midpoints used by the tininess test, which sit
/// one bit lower) is a multiple of 2 in units of <c>mag</c>'s last bit, and the open interval
/// (<c>mag - 1</c>, <c>mag + 1</c>) around an odd integer contains no even integer: the true value and <c>mag</c>
/// round to the same result in every rounding mode, are both inexact, and have the same leading-bit position, so
/// the flags agree as well. (Jamming: ORing "any discarded bit was 1" into the last kept bit.)
/// </para>
/// <para>
/// Rounding (IEEE 754-2019 clause 4.3, RISC-V "F" extension, Subnormal Arithmetic): the result keeps the bits
/// of weight 2^q and above, q = max(E - (p - 1), emin - (p - 1)) for a leading bit of weight 2^E; the discarded
/// remainder is compared with half a unit of the last place. Tininess is detected after rounding, as RISC-V
/// specifies: the result is tiny when the value rounded to p bits with an unbounded exponent range has a
/// magnitude below 2^emin. Underflow is raised when the result is tiny and inexact. Overflow is detected on the
/// rounded result with an unbounded exponent range.
/// </para>
/// </remarks>
internal static class ExactRounding
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check(RoundingMode rm)
    {
        if ((uint)rm > (uint)RoundingMode.NearestMaxMagnitude) Throw(rm);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Throw(RoundingMode rm) =>
        throw new ArgumentOutOfRangeException(nameof(rm), rm, "not a rounding mode (RISC-V rm 5..7 are reserved or dynamic)");

    /// <summary>Whether a value with kept significand <paramref name="kept"/> and a non-zero discarded part rounds up in magnitude.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Increment(RoundingMode rm, bool negative, ulong kept, ulong rem, ulong half) => rm switch
    {
        RoundingMode.NearestEven => rem > half || (rem == half && (kept & 1) != 0),
        RoundingMode.TowardZero => false,
        RoundingMode.Down => negative,
        RoundingMode.Up => !negative,
        _ => rem >= half,
    };

    /// <summary>Rounds <c>(-1)^negative × mag × 2^exp</c> (mag &gt; 0) to format <typeparamref name="F"/>; returns the encoding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Round<F>(bool negative, ulong mag, int exp, RoundingMode rm, ref ExceptionFlags flags) where F : struct, IBinaryFormat
    {
        int p = F.Precision;
        int emax = (1 << (F.ExponentBits - 1)) - 1;
        int emin = 1 - emax;
        int qmin = emin - (p - 1);                      // weight of the smallest subnormal's bit
        int top = exp + 63 - BitOperations.LeadingZeroCount(mag);   // weight of the leading bit
        int q = Math.Max(top - (p - 1), qmin);          // weight of the result's last bit
        int s = q - exp;                                // bits to discard
        ulong kept;
        if (s <= 0)
        {
            kept = mag << -s;                           // exact: at most p bits
        }
        else
        {
            ulong rem, half;
            if (s < 64) { kept = mag >> s; rem = mag & ((1UL << s) - 1); half = 1UL << (s - 1); }
            else if (s == 64) { kept = 0; rem = mag; half = 1UL << 63; }
            else { kept = 0; rem = 1; half = ulong.MaxValue; }   // below half an ulp: only "non-zero" matters
            if (rem != 0)
            {
                flags |= ExceptionFlags.Inexact;
                if (top < emin && IsTinyAfterRounding(negative, mag, s, top, emin, p, rm))
                    flags |= ExceptionFlags.Underflow;
                if (Increment(rm, negative, kept, rem, half)) kept++;
            }
        }
        // Biased encoding without the sign: for a subnormal (q = qmin) it is the significand itself; for a normal
        // the hidden bit of `kept` adds 1 to the exponent field, and a carry out of the significand (kept = 2^p)
        // moves on to the next binade by itself.
        ulong enc = ((ulong)(q - qmin) << (p - 1)) + kept;
        ulong inf = ((1UL << F.ExponentBits) - 1) << (p - 1);
        if (enc >= inf)
        {
            flags |= ExceptionFlags.Overflow | ExceptionFlags.Inexact;
            bool toInfinity = rm switch
            {
                RoundingMode.TowardZero => false,
                RoundingMode.Down => negative,
                RoundingMode.Up => !negative,
                _ => true,
            };
            enc = toInfinity ? inf : inf - 1;
        }
        uint sign = negative ? 1u << (F.ExponentBits + p - 1) : 0u;
        return sign | (uint)enc;
    }

    /// <summary>
    /// Tininess after rounding for an inexact value whose leading bit is below 2^emin: it is tiny unless its
    /// leading bit has weight 2^(emin-1) and rounding to p bits with unbounded exponent range carries up to 2^emin.
    /// </summary>
    private static bool IsTinyAfterRounding(bool negative, ulong mag, int s, int top, int emin, int p, RoundingMode rm)
    {
        if (top < emin - 1) return true;
        // Unbounded rounding keeps one bit more than the subnormal rounding: s' = s - 1 (< 64, as mag has
        // p + s' bits here).
        int s1 = s - 1;
        if (s1 == 0) return true;                       // exact at p bits: stays below 2^emin
        ulong kept = mag >> s1, rem = mag & ((1UL << s1) - 1), half = 1UL << (s1 - 1);
        if (rem == 0) return true;
        return !(kept == (1UL << p) - 1 && Increment(rm, negative, kept, rem, half));
    }

    /// <summary>Rounds a 128-bit exact significand: reduces it to 62 bits with a jammed sticky bit, then <see cref="Round{F}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Round<F>(bool negative, UInt128 mag, int exp, RoundingMode rm, ref ExceptionFlags flags) where F : struct, IBinaryFormat
    {
        ulong hi = (ulong)(mag >> 64);
        if (hi == 0) return Round<F>(negative, (ulong)mag, exp, rm, ref flags);
        int s = 66 - BitOperations.LeadingZeroCount(hi);          // keeps 62 bits
        ulong m = (ulong)(mag >> s);
        if ((mag & ((UInt128.One << s) - 1)) != UInt128.Zero) m |= 1;
        return Round<F>(negative, m, exp + s, rm, ref flags);
    }

    /// <summary>
    /// The correctly rounded sum of two non-zero exact values <c>(-1)^nx × mx × 2^ex</c> and <c>(-1)^ny × my × 2^ey</c>
    /// (significands below 2^50). Exact in 128 bits when the two fit a 126-bit window; otherwise the smaller one lies
    /// at least 75 bits below the larger one's leading bit and is jammed into a sticky bit (see the class remarks).
    /// An exact zero sum is +0, or -0 when rounding down (IEEE 754 clause 6.3).
    /// </summary>
    public static uint Sum<F>(bool nx, ulong mx, int ex, bool ny, ulong my, int ey, RoundingMode rm, ref ExceptionFlags flags) where F : struct, IBinaryFormat
    {
        if (ex < ey)
        {
            (nx, ny) = (ny, nx);
            (mx, my) = (my, mx);
            (ex, ey) = (ey, ex);
        }
        int d = ex - ey;                                // x has the higher last-bit weight
        int bx = 64 - BitOperations.LeadingZeroCount(mx);
        UInt128 x, y;
        int e;
        if (bx + d <= 125)
        {
            x = (UInt128)mx << d;
            y = my;
            e = ey;
        }
        else
        {
            // x's leading bit goes to bit 124; y (below 2^50) is shifted right by r > 0 with its lost bits jammed.
            // Then x is a multiple of 2^75 and y < 2^51 (with y's leading bit more than 74 bits below x's):
            // no cancellation beyond one bit, and the jam sits far below every rounding boundary.
            int dx = 125 - bx, r = d - dx;
            x = (UInt128)mx << dx;
            ulong yj = r >= 64 ? 1UL : (my >> r) | ((my & ((1UL << r) - 1)) != 0 ? 1UL : 0UL);
            y = yj;
            e = ex - dx;
        }
        UInt128 m;
        bool negative;
        if (nx == ny) { m = x + y; negative = nx; }
        else if (x > y) { m = x - y; negative = nx; }
        else if (y > x) { m = y - x; negative = ny; }
        else return rm == RoundingMode.Down ? 1u << (F.ExponentBits + F.Precision - 1) : 0u;
        return Round<F>(negative, m, e, rm, ref flags);
    }
}
