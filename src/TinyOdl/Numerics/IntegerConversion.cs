namespace TinyOdl.Numerics;

/// <summary>
/// Conversions between binary32 / binary16 and two's-complement integers of 8 to 32 bits, with RISC-V results and
/// flags ("F" extension, Single-Precision Floating-Point Conversion and Move Instructions; the same rules hold for the
/// narrower integers of RVV's vfcvt/vfwcvt/vfncvt): a value out of range or NaN gives NV and the nearest limit
/// (NaN: the largest value; a negative value rounding below 0 in an unsigned conversion: 0); otherwise an inexact
/// result gives NX. Binary16 operands go through <see cref="Binary16.ToSingle(ushort, ref ExceptionFlags)"/>, which
/// is exact, so one float-to-integer implementation serves both formats.
/// </summary>
public static class IntegerConversion
{
    /// <summary>binary32 → signed integer of <paramref name="bits"/> bits (fcvt.w.s for 32), sign-extended.</summary>
    public static int ToSigned(uint x, int bits, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven)
    {
        long max = (1L << (bits - 1)) - 1, min = -(1L << (bits - 1));
        if (Binary32.IsNaN(x))
        {
            flags |= ExceptionFlags.Invalid;
            return (int)max;
        }
        bool negative = (x >> 31) != 0;
        if (!RoundToInteger(x, rm, out ulong magnitude, out bool inexact) || (negative ? magnitude > (ulong)-min : magnitude > (ulong)max))
        {
            flags |= ExceptionFlags.Invalid;
            return (int)(negative ? min : max);
        }
        if (inexact) flags |= ExceptionFlags.Inexact;
        return (int)(negative ? -(long)magnitude : (long)magnitude);
    }

    /// <summary>binary32 → unsigned integer of <paramref name="bits"/> bits (fcvt.wu.s for 32).</summary>
    public static uint ToUnsigned(uint x, int bits, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven)
    {
        ulong max = bits == 32 ? uint.MaxValue : (1UL << bits) - 1;
        if (Binary32.IsNaN(x))
        {
            flags |= ExceptionFlags.Invalid;
            return (uint)max;
        }
        bool negative = (x >> 31) != 0;
        if (!RoundToInteger(x, rm, out ulong magnitude, out bool inexact) || (negative ? magnitude != 0 : magnitude > max))
        {
            flags |= ExceptionFlags.Invalid;
            return negative ? 0u : (uint)max;
        }
        if (inexact) flags |= ExceptionFlags.Inexact;
        return (uint)magnitude;
    }

    /// <summary>
    /// The magnitude of a non-NaN binary32 value rounded to an integer in the given mode (the sign decides directed
    /// rounding). False when the magnitude is at least 2^40 (infinity included): out of every supported range.
    /// </summary>
    private static bool RoundToInteger(uint x, RoundingMode rm, out ulong magnitude, out bool inexact)
    {
        ExactRounding.Check(rm);
        magnitude = 0;
        inexact = false;
        uint e = (x >> 23) & 0xFF, m = x & 0x7FFFFF;
        bool negative = (x >> 31) != 0;
        if (e == 0xFF) return false;
        if (e == 0 && m == 0) return true;
        ulong significand = e == 0 ? m : m | 0x800000u;
        int exp = e == 0 ? -149 : (int)e - 150;            // value = significand · 2^exp
        if (exp >= 17) return false;                        // ≥ 2^40
        if (exp >= 0)
        {
            magnitude = significand << exp;
            return true;
        }
        int s = -exp;
        ulong kept = s >= 64 ? 0 : significand >> s;
        ulong rem = s >= 64 ? significand : significand & ((1UL << s) - 1);
        if (rem == 0)
        {
            magnitude = kept;
            return true;
        }
        inexact = true;
        // rem / 2^s compared with one half: below, equal or above.
        int half = s > 40 ? -1 : rem.CompareTo(1UL << (s - 1));
        bool up = rm switch
        {
            RoundingMode.NearestEven => half > 0 || (half == 0 && (kept & 1) != 0),
            RoundingMode.TowardZero => false,
            RoundingMode.Down => negative,
            RoundingMode.Up => !negative,
            _ => half >= 0,
        };
        magnitude = up ? kept + 1 : kept;
        return true;
    }

    /// <summary>Signed integer → binary32 (fcvt.s.w), correctly rounded.</summary>
    public static uint SingleFromSigned(long value, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        value == 0 ? 0u : ExactRounding.Round<Binary32Format>(value < 0, value < 0 ? (ulong)-value : (ulong)value, 0, rm, ref flags);

    /// <summary>Unsigned integer → binary32 (fcvt.s.wu), correctly rounded.</summary>
    public static uint SingleFromUnsigned(ulong value, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        value == 0 ? 0u : ExactRounding.Round<Binary32Format>(false, value, 0, rm, ref flags);

    /// <summary>Signed integer → binary16 (fcvt.h.w), correctly rounded (one rounding, not through binary32).</summary>
    public static ushort HalfFromSigned(long value, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        value == 0 ? (ushort)0 : (ushort)ExactRounding.Round<Binary16Format>(value < 0, value < 0 ? (ulong)-value : (ulong)value, 0, rm, ref flags);

    /// <summary>Unsigned integer → binary16 (fcvt.h.wu), correctly rounded.</summary>
    public static ushort HalfFromUnsigned(ulong value, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        value == 0 ? (ushort)0 : (ushort)ExactRounding.Round<Binary16Format>(false, value, 0, rm, ref flags);
}
