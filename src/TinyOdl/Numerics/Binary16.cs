using System.Runtime.CompilerServices;

namespace TinyOdl.Numerics;

/// <summary>
/// IEEE 754 binary16 arithmetic on raw bit patterns, bit-exact with RISC-V Zfh (and Zvfh lanes): every operation
/// is correctly rounded in the given rounding mode (default round-to-nearest-even) and ORs the exception flags it
/// raises into <c>flags</c>, like the accrued <c>fflags</c> CSR.
/// </summary>
/// <remarks>
/// <para>
/// Method: operands are decoded into integer significands and power-of-two exponents, the exact result is formed in
/// integer arithmetic (64-bit, 128-bit for fused multiply-add), and <see cref="ExactRounding"/> rounds it once.
/// Sum and product are exact integers; quotient and square root are truncated integers whose non-zero remainder is
/// jammed into a sticky bit below at least 13 bits of result, which rounds identically to the exact value.
/// No floating-point hardware arithmetic decides a result (<c>Math.Sqrt</c> only seeds an integer square root that
/// is then corrected with exact integer comparisons). See docs/BINARY16.md.
/// </para>
/// <para>
/// RISC-V rules ("F" extension: NaN Generation and Propagation, Subnormal Arithmetic; "Zfh"): a NaN result is always
/// the canonical NaN <see cref="CanonicalNaN"/> (0x7E00, payloads are not propagated); a signaling NaN operand raises
/// NV; tininess is detected after rounding; fused multiply-add raises NV for ∞ × 0 even when the addend is a quiet
/// NaN; min/max follow the 2019 minimumNumber/maximumNumber rules (-0 &lt; +0, a single NaN operand yields the other
/// operand, two NaNs yield the canonical NaN, a signaling NaN raises NV even when the result is a number).
/// </para>
/// </remarks>
public static class Binary16
{
    public const ushort CanonicalNaN = 0x7E00;
    public const ushort PositiveInfinity = 0x7C00;
    public const ushort NegativeInfinity = 0xFC00;
    public const ushort PositiveZero = 0x0000;
    public const ushort NegativeZero = 0x8000;
    /// <summary>65504.</summary>
    public const ushort MaxValue = 0x7BFF;
    /// <summary>2^-14, the smallest normal number.</summary>
    public const ushort MinNormal = 0x0400;
    /// <summary>2^-24, the smallest subnormal number.</summary>
    public const ushort Epsilon = 0x0001;
    public const ushort One = 0x3C00;

    private const uint SignBit = 0x8000, ExpMask = 0x7C00, ManMask = 0x03FF, QuietBit = 0x0200;

    public static bool IsNaN(ushort a) => (a & 0x7FFF) > ExpMask;
    public static bool IsSignalingNaN(ushort a) => IsNaN(a) && (a & QuietBit) == 0;
    public static bool IsInfinity(ushort a) => (a & 0x7FFF) == ExpMask;
    public static bool IsZero(ushort a) => (a & 0x7FFF) == 0;
    public static bool IsFinite(ushort a) => (a & ExpMask) != ExpMask;
    public static bool IsNegative(ushort a) => (a & SignBit) != 0;
    public static bool IsSubnormal(ushort a) => (a & ExpMask) == 0 && (a & ManMask) != 0;
    public static ushort Negate(ushort a) => (ushort)(a ^ SignBit);
    public static ushort Abs(ushort a) => (ushort)(a & 0x7FFF);

    /// <summary>Significand and exponent of a finite non-zero value: value = mag × 2^exp (mag &lt; 2^11).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Decode(uint a, out int exp)
    {
        uint e = (a >> 10) & 0x1F, m = a & ManMask;
        if (e == 0) { exp = -24; return m; }
        exp = (int)e - 25;
        return m | 0x400;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort Round(bool negative, ulong mag, int exp, RoundingMode rm, ref ExceptionFlags flags) =>
        (ushort)ExactRounding.Round<Binary16Format>(negative, mag, exp, rm, ref flags);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort NaNResult(bool signaling, ref ExceptionFlags flags)
    {
        if (signaling) flags |= ExceptionFlags.Invalid;
        return CanonicalNaN;
    }

    // ---------------------------------------------------------------- add, sub

    /// <summary>a + b (RISC-V fadd.h).</summary>
    public static ushort Add(ushort a, ushort b, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        rm == RoundingMode.NearestEven && HardwareFastPath.TryAdd16(a, b, ref flags, out ushort fast) ? fast : AddExact(a, b, ref flags, rm);

    /// <summary><see cref="Add"/> on the exact integer path only (no hardware fast path): the reference the fast path is tested against.</summary>
    internal static ushort AddExact(ushort a, ushort b, ref ExceptionFlags flags, RoundingMode rm)
    {
        ExactRounding.Check(rm);
        uint ua = a, ub = b, aa = ua & 0x7FFF, ab = ub & 0x7FFF;
        if (aa >= ExpMask || ab >= ExpMask)
        {
            if (aa > ExpMask || ab > ExpMask) return NaNResult(IsSignalingNaN(a) || IsSignalingNaN(b), ref flags);
            if (aa == ExpMask && ab == ExpMask && ua != ub) return NaNResult(true, ref flags);   // ∞ - ∞
            return aa == ExpMask ? a : b;
        }
        if (aa == 0)
        {
            if (ab != 0) return b;
            // (±0) + (±0): the sign of equal signs, else +0 (-0 when rounding down).
            return ua == ub ? a : (rm == RoundingMode.Down ? NegativeZero : PositiveZero);
        }
        if (ab == 0) return a;
        // Both finite non-zero: last-bit weights lie in [2^-24, 2^5], so the aligned significands fit in 41 bits.
        ulong ma = Decode(ua, out int ea), mb = Decode(ub, out int eb);
        int e = Math.Min(ea, eb);
        ma <<= ea - e;
        mb <<= eb - e;
        bool na = (ua & SignBit) != 0, nb = (ub & SignBit) != 0;
        if (na == nb) return Round(na, ma + mb, e, rm, ref flags);
        if (ma > mb) return Round(na, ma - mb, e, rm, ref flags);
        if (mb > ma) return Round(nb, mb - ma, e, rm, ref flags);
        return rm == RoundingMode.Down ? NegativeZero : PositiveZero;       // exact cancellation
    }

    /// <summary>a - b (RISC-V fsub.h).</summary>
    public static ushort Sub(ushort a, ushort b, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        Add(a, (ushort)(b ^ SignBit), ref flags, rm);

    // ---------------------------------------------------------------- mul, div, sqrt

    /// <summary>a × b (RISC-V fmul.h).</summary>
    public static ushort Mul(ushort a, ushort b, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        rm == RoundingMode.NearestEven && HardwareFastPath.TryMul16(a, b, ref flags, out ushort fast) ? fast : MulExact(a, b, ref flags, rm);

    /// <summary><see cref="Mul"/> on the exact integer path only (no hardware fast path): the reference the fast path is tested against.</summary>
    internal static ushort MulExact(ushort a, ushort b, ref ExceptionFlags flags, RoundingMode rm)
    {
        ExactRounding.Check(rm);
        uint ua = a, ub = b, aa = ua & 0x7FFF, ab = ub & 0x7FFF;
        bool negative = ((ua ^ ub) & SignBit) != 0;
        if (aa >= ExpMask || ab >= ExpMask)
        {
            if (aa > ExpMask || ab > ExpMask) return NaNResult(IsSignalingNaN(a) || IsSignalingNaN(b), ref flags);
            if (aa == 0 || ab == 0) return NaNResult(true, ref flags);                          // ∞ × 0
            return negative ? NegativeInfinity : PositiveInfinity;
        }
        if (aa == 0 || ab == 0) return negative ? NegativeZero : PositiveZero;
        ulong ma = Decode(ua, out int ea), mb = Decode(ub, out int eb);
        return Round(negative, ma * mb, ea + eb, rm, ref flags);              // exact 22-bit product
    }

    /// <summary>a ÷ b (RISC-V fdiv.h).</summary>
    public static ushort Div(ushort a, ushort b, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        rm == RoundingMode.NearestEven && HardwareFastPath.TryDiv16(a, b, ref flags, out ushort fast) ? fast : DivExact(a, b, ref flags, rm);

    /// <summary><see cref="Div"/> on the exact integer path only (no hardware fast path): the reference the fast path is tested against.</summary>
    internal static ushort DivExact(ushort a, ushort b, ref ExceptionFlags flags, RoundingMode rm)
    {
        ExactRounding.Check(rm);
        uint ua = a, ub = b, aa = ua & 0x7FFF, ab = ub & 0x7FFF;
        bool negative = ((ua ^ ub) & SignBit) != 0;
        if (aa > ExpMask || ab > ExpMask) return NaNResult(IsSignalingNaN(a) || IsSignalingNaN(b), ref flags);
        if (aa == ExpMask)
        {
            if (ab == ExpMask) return NaNResult(true, ref flags);                               // ∞ / ∞
            return negative ? NegativeInfinity : PositiveInfinity;
        }
        if (ab == ExpMask) return negative ? NegativeZero : PositiveZero;
        if (ab == 0)
        {
            if (aa == 0) return NaNResult(true, ref flags);                                     // 0 / 0
            flags |= ExceptionFlags.DivideByZero;
            return negative ? NegativeInfinity : PositiveInfinity;
        }
        if (aa == 0) return negative ? NegativeZero : PositiveZero;
        ulong ma = Decode(ua, out int ea), mb = Decode(ub, out int eb);
        // (ma·2^40) / mb with ma, mb < 2^11: the quotient has at least 30 bits; a non-zero remainder is jammed.
        ulong n = ma << 40;
        ulong q = n / mb;
        if (q * mb != n) q |= 1;
        return Round(negative, q, ea - eb - 40, rm, ref flags);
    }

    /// <summary>√a (RISC-V fsqrt.h); √-0 = -0.</summary>
    public static ushort Sqrt(ushort a, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        rm == RoundingMode.NearestEven && HardwareFastPath.TrySqrt16(a, ref flags, out ushort fast) ? fast : SqrtExact(a, ref flags, rm);

    /// <summary><see cref="Sqrt"/> on the exact integer path only (no hardware fast path): the reference the fast path is tested against.</summary>
    internal static ushort SqrtExact(ushort a, ref ExceptionFlags flags, RoundingMode rm)
    {
        ExactRounding.Check(rm);
        uint ua = a, aa = ua & 0x7FFF;
        if (aa > ExpMask) return NaNResult(IsSignalingNaN(a), ref flags);
        if (aa == 0) return a;
        if ((ua & SignBit) != 0) return NaNResult(true, ref flags);                             // √(negative)
        if (aa == ExpMask) return a;
        ulong m = Decode(ua, out int e);
        if ((e & 1) != 0) { m <<= 1; e--; }
        // m·2^40 < 2^52: √ of an even power of two times an integer; isqrt has at least 20 bits, remainder jammed.
        m <<= 40;
        e -= 40;
        ulong r = IntegerSqrt(m);
        if (r * r != m) r |= 1;
        return Round(false, r, e / 2, rm, ref flags);
    }

    /// <summary>floor(√n) for n &lt; 2^53: a double estimate (n is exact as a double) corrected with exact integer tests.</summary>
    internal static ulong IntegerSqrt(ulong n)
    {
        ulong r = (ulong)Math.Sqrt(n);
        while (r * r > n) r--;
        while ((r + 1) * (r + 1) <= n) r++;
        return r;
    }

    // ---------------------------------------------------------------- fused multiply-add

    /// <summary>a × b + c with one rounding (RISC-V fmadd.h).</summary>
    public static ushort FMAdd(ushort a, ushort b, ushort c, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        FusedMultiplyAdd(a, b, c, false, false, ref flags, rm);

    /// <summary>a × b - c with one rounding (RISC-V fmsub.h).</summary>
    public static ushort FMSub(ushort a, ushort b, ushort c, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        FusedMultiplyAdd(a, b, c, false, true, ref flags, rm);

    /// <summary>-(a × b) + c with one rounding (RISC-V fnmsub.h).</summary>
    public static ushort FNMSub(ushort a, ushort b, ushort c, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        FusedMultiplyAdd(a, b, c, true, false, ref flags, rm);

    /// <summary>-(a × b) - c with one rounding (RISC-V fnmadd.h).</summary>
    public static ushort FNMAdd(ushort a, ushort b, ushort c, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        FusedMultiplyAdd(a, b, c, true, true, ref flags, rm);

    /// <summary>
    /// (±(a × b)) + (±c) with one rounding. The negations apply to the operands (product and addend), as in the
    /// RISC-V definitions, which matters for the sign of exact zero results.
    /// </summary>
    public static ushort FusedMultiplyAdd(ushort a, ushort b, ushort c, bool negateProduct, bool negateAddend, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        rm == RoundingMode.NearestEven && 
        HardwareFastPath.TryFusedMultiplyAdd16(negateProduct ? (ushort)(a ^ SignBit) : a, b, negateAddend ? (ushort)(c ^ SignBit) : c, ref flags, out ushort fast) ? fast : FusedMultiplyAddExact(a, b, c, negateProduct, negateAddend, ref flags, rm);

    /// <summary><see cref="FusedMultiplyAdd"/> on the exact integer path only (no hardware fast path): the reference the fast path is tested against.</summary>
    internal static ushort FusedMultiplyAddExact(ushort a, ushort b, ushort c, bool negateProduct, bool negateAddend, ref ExceptionFlags flags, RoundingMode rm)
    {
        ExactRounding.Check(rm);
        uint ua = a, ub = b, uc = c, aa = ua & 0x7FFF, ab = ub & 0x7FFF, ac = uc & 0x7FFF;
        bool np = (((ua ^ ub) & SignBit) != 0) ^ negateProduct;
        bool nc = ((uc & SignBit) != 0) ^ negateAddend;
        if (aa >= ExpMask || ab >= ExpMask || ac >= ExpMask)
        {
            bool infTimesZero = (aa == ExpMask && ab == 0) || (aa == 0 && ab == ExpMask);
            if (aa > ExpMask || ab > ExpMask || ac > ExpMask || infTimesZero)
                return NaNResult(infTimesZero || IsSignalingNaN(a) || IsSignalingNaN(b) || IsSignalingNaN(c), ref flags);
            if (aa == ExpMask || ab == ExpMask)
            {
                if (ac == ExpMask && np != nc) return NaNResult(true, ref flags);              // ∞ - ∞
                return np ? NegativeInfinity : PositiveInfinity;
            }
            return nc ? NegativeInfinity : PositiveInfinity;
        }
        if (aa == 0 || ab == 0)
        {
            if (ac != 0) return (ushort)(nc ? ac | SignBit : ac);               // exact: 0 + c
            return np == nc ? (np ? NegativeZero : PositiveZero) : (rm == RoundingMode.Down ? NegativeZero : PositiveZero);
        }
        ulong ma = Decode(ua, out int ea), mb = Decode(ub, out int eb);
        if (ac == 0) return Round(np, ma * mb, ea + eb, rm, ref flags);
        ulong mc = Decode(uc, out int ec);
        // The exact product (22 bits, weight ≥ 2^-48) and c (weight ≤ 2^15) fit the 126-bit window of Sum: exact.
        return (ushort)ExactRounding.Sum<Binary16Format>(np, ma * mb, ea + eb, nc, mc, ec, rm, ref flags);
    }

    // ---------------------------------------------------------------- min, max

    /// <summary>Monotonic integer key of a non-NaN value: -∞ &lt; ... &lt; -0 &lt; +0 &lt; ... &lt; +∞.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint OrderKey(uint a) => (a & SignBit) != 0 ? ~a & 0xFFFF : a | SignBit;

    /// <summary>minimumNumber (RISC-V fmin.h): -0 &lt; +0; one NaN operand yields the other; sNaN raises NV.</summary>
    public static ushort Min(ushort a, ushort b, ref ExceptionFlags flags) => (ushort)MinimumNumber.Select(a, b, false,
        IsNaN(a), IsNaN(b), IsSignalingNaN(a) || IsSignalingNaN(b), OrderKey(a), OrderKey(b), CanonicalNaN, ref flags);

    /// <summary>maximumNumber (RISC-V fmax.h): -0 &lt; +0; one NaN operand yields the other; sNaN raises NV.</summary>
    public static ushort Max(ushort a, ushort b, ref ExceptionFlags flags) => (ushort)MinimumNumber.Select(a, b, true,
        IsNaN(a), IsNaN(b), IsSignalingNaN(a) || IsSignalingNaN(b), OrderKey(a), OrderKey(b), CanonicalNaN, ref flags);

    // ---------------------------------------------------------------- conversions

    /// <summary>binary16 → binary32 bits, exact (RISC-V fcvt.s.h): a NaN gives the canonical 0x7FC00000, sNaN raises NV.</summary>
    public static uint ToSingle(ushort a, ref ExceptionFlags flags)
    {
        uint ua = a, aa = ua & 0x7FFF, sign = (ua & SignBit) << 16;
        if (aa >= ExpMask)
        {
            if (aa == ExpMask) return sign | 0x7F800000;
            if ((ua & QuietBit) == 0) flags |= ExceptionFlags.Invalid;
            return Binary32.CanonicalNaN;
        }
        if (aa == 0) return sign;
        uint e = aa >> 10, m = aa & ManMask;
        if (e == 0)
        {
            // subnormal m·2^-24: normalise so the leading bit becomes the hidden bit.
            int shift = System.Numerics.BitOperations.LeadingZeroCount(m) - 21;    // leading bit to bit 10
            m <<= shift;
            e = (uint)(1 - shift);
            m &= ManMask;
        }
        return sign | ((e + 112) << 23) | (m << 13);
    }

    /// <summary>binary32 bits → binary16, correctly rounded (RISC-V fcvt.h.s): a NaN gives 0x7E00, sNaN raises NV.</summary>
    public static ushort FromSingle(uint x, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        rm == RoundingMode.NearestEven && (x & 0x7F800000) != 0x7F800000 &&
        HardwareFastPath.TryRoundToHalf(BitConverter.UInt32BitsToSingle(x), ref flags, out ushort fast) ? fast : FromSingleExact(x, ref flags, rm);

    /// <summary><see cref="FromSingle"/> on the exact integer path only (no hardware fast path): the reference the fast path is tested against.</summary>
    internal static ushort FromSingleExact(uint x, ref ExceptionFlags flags, RoundingMode rm)
    {
        ExactRounding.Check(rm);
        uint ax = x & 0x7FFFFFFF;
        bool negative = (x & 0x80000000) != 0;
        if (ax >= 0x7F800000)
        {
            if (ax == 0x7F800000) return negative ? NegativeInfinity : PositiveInfinity;
            return NaNResult((x & 0x00400000) == 0, ref flags);
        }
        if (ax == 0) return negative ? NegativeZero : PositiveZero;
        uint e = ax >> 23, m = ax & 0x7FFFFF;
        return e == 0
            ? Round(negative, m, -149, rm, ref flags)
            : Round(negative, m | 0x800000, (int)e - 150, rm, ref flags);
    }

    /// <summary>binary16 → double, exact (NaN → double NaN, payload not kept).</summary>
    public static double ToDouble(ushort a)
    {
        ExceptionFlags ignored = 0;
        return BitConverter.Int32BitsToSingle((int)ToSingle(a, ref ignored));
    }

    /// <summary>double → binary16, correctly rounded (a NaN gives 0x7E00; a signaling NaN raises NV).</summary>
    public static ushort FromDouble(double x, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven)
    {
        ExactRounding.Check(rm);
        ulong bits = (ulong)BitConverter.DoubleToInt64Bits(x), ax = bits & 0x7FFF_FFFF_FFFF_FFFF;
        bool negative = (bits >> 63) != 0;
        if (ax >= 0x7FF0_0000_0000_0000)
        {
            if (ax == 0x7FF0_0000_0000_0000) return negative ? NegativeInfinity : PositiveInfinity;
            return NaNResult((ax & 0x0008_0000_0000_0000) == 0, ref flags);
        }
        if (ax == 0) return negative ? NegativeZero : PositiveZero;
        int e = (int)(ax >> 52);
        ulong m = ax & 0x000F_FFFF_FFFF_FFFF;
        return e == 0 ? Round(negative, m, -1074, rm, ref flags) : Round(negative, m | 0x0010_0000_0000_0000, e - 1075, rm, ref flags);
    }

    // ---------------------------------------------------------------- flag-free overloads (round to nearest even)

    public static ushort Add(ushort a, ushort b) { ExceptionFlags f = 0; return Add(a, b, ref f); }
    public static ushort Sub(ushort a, ushort b) { ExceptionFlags f = 0; return Sub(a, b, ref f); }
    public static ushort Mul(ushort a, ushort b) { ExceptionFlags f = 0; return Mul(a, b, ref f); }
    public static ushort Div(ushort a, ushort b) { ExceptionFlags f = 0; return Div(a, b, ref f); }
    public static ushort Sqrt(ushort a) { ExceptionFlags f = 0; return Sqrt(a, ref f); }
    public static ushort FMAdd(ushort a, ushort b, ushort c) { ExceptionFlags f = 0; return FMAdd(a, b, c, ref f); }
    public static ushort Min(ushort a, ushort b) { ExceptionFlags f = 0; return Min(a, b, ref f); }
    public static ushort Max(ushort a, ushort b) { ExceptionFlags f = 0; return Max(a, b, ref f); }
    public static uint ToSingle(ushort a) { ExceptionFlags f = 0; return ToSingle(a, ref f); }
    public static ushort FromSingle(uint x) { ExceptionFlags f = 0; return FromSingle(x, ref f); }
    public static ushort FromDouble(double x) { ExceptionFlags f = 0; return FromDouble(x, ref f); }
}
