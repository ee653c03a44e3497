using System.Numerics;
using System.Runtime.CompilerServices;

namespace TinyOdl.Numerics;

/// <summary>
/// IEEE 754 binary32 arithmetic on raw bit patterns with exception flags and RISC-V NaN rules, for the widening
/// FP16 kernels (f32 accumulators of vfwmacc / vfwredosum) and anything else that needs f32 flags. Same method and
/// rules as <see cref="Binary16"/>: exact integer arithmetic, one rounding in <see cref="ExactRounding"/>.
/// </summary>
/// <remarks>
/// For finite non-NaN operands and round-to-nearest-even the results equal .NET's <c>+</c>, <c>-</c>, <c>*</c> and
/// <c>MathF.FusedMultiplyAdd</c> on x64/arm64 (IEEE operations); what this class adds is the flags, the directed
/// rounding modes and RISC-V's canonical NaN.
/// </remarks>
public static class Binary32
{
    public const uint CanonicalNaN = 0x7FC00000;
    public const uint PositiveInfinity = 0x7F800000;
    public const uint NegativeInfinity = 0xFF800000;
    public const uint NegativeZero = 0x80000000;

    private const uint SignBit = 0x80000000, ExpMask = 0x7F800000, ManMask = 0x007FFFFF, QuietBit = 0x00400000;

    public static bool IsNaN(uint x) => (x & 0x7FFFFFFF) > ExpMask;
    public static bool IsSignalingNaN(uint x) => IsNaN(x) && (x & QuietBit) == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Decode(uint x, out int exp)
    {
        uint e = (x >> 23) & 0xFF, m = x & ManMask;
        if (e == 0) { exp = -149; return m; }
        exp = (int)e - 150;
        return m | 0x800000;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint NaNResult(bool signaling, ref ExceptionFlags flags)
    {
        if (signaling) flags |= ExceptionFlags.Invalid;
        return CanonicalNaN;
    }

    /// <summary>x + y (RISC-V fadd.s).</summary>
    public static uint Add(uint x, uint y, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        rm == RoundingMode.NearestEven && HardwareFastPath.TryAdd(x, y, ref flags, out uint fast) ? fast : AddExact(x, y, ref flags, rm);

    /// <summary><see cref="Add"/> on the exact integer path only (no hardware fast path): the reference the fast path is tested against.</summary>
    internal static uint AddExact(uint x, uint y, ref ExceptionFlags flags, RoundingMode rm)
    {
        ExactRounding.Check(rm);
        uint ax = x & 0x7FFFFFFF, ay = y & 0x7FFFFFFF;
        if (ax >= ExpMask || ay >= ExpMask)
        {
            if (ax > ExpMask || ay > ExpMask) return NaNResult(IsSignalingNaN(x) || IsSignalingNaN(y), ref flags);
            if (ax == ExpMask && ay == ExpMask && x != y) return NaNResult(true, ref flags);
            return ax == ExpMask ? x : y;
        }
        if (ax == 0)
        {
            if (ay != 0) return y;
            return x == y ? x : (rm == RoundingMode.Down ? NegativeZero : 0u);
        }
        if (ay == 0) return x;
        ulong mx = Decode(x, out int ex), my = Decode(y, out int ey);
        return ExactRounding.Sum<Binary32Format>((x & SignBit) != 0, mx, ex, (y & SignBit) != 0, my, ey, rm, ref flags);
    }

    /// <summary>x - y (RISC-V fsub.s).</summary>
    public static uint Sub(uint x, uint y, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        Add(x, y ^ SignBit, ref flags, rm);

    /// <summary>x × y (RISC-V fmul.s).</summary>
    public static uint Mul(uint x, uint y, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        rm == RoundingMode.NearestEven && HardwareFastPath.TryMul(x, y, ref flags, out uint fast) ? fast : MulExact(x, y, ref flags, rm);

    /// <summary><see cref="Mul"/> on the exact integer path only (no hardware fast path): the reference the fast path is tested against.</summary>
    internal static uint MulExact(uint x, uint y, ref ExceptionFlags flags, RoundingMode rm)
    {
        ExactRounding.Check(rm);
        uint ax = x & 0x7FFFFFFF, ay = y & 0x7FFFFFFF;
        bool negative = ((x ^ y) & SignBit) != 0;
        if (ax >= ExpMask || ay >= ExpMask)
        {
            if (ax > ExpMask || ay > ExpMask) return NaNResult(IsSignalingNaN(x) || IsSignalingNaN(y), ref flags);
            if (ax == 0 || ay == 0) return NaNResult(true, ref flags);
            return negative ? NegativeInfinity : PositiveInfinity;
        }
        if (ax == 0 || ay == 0) return negative ? NegativeZero : 0u;
        ulong mx = Decode(x, out int ex), my = Decode(y, out int ey);
        return ExactRounding.Round<Binary32Format>(negative, mx * my, ex + ey, rm, ref flags);   // exact 48-bit product
    }

    /// <summary>x × y + z with one rounding (RISC-V fmadd.s).</summary>
    public static uint FMAdd(uint x, uint y, uint z, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        FusedMultiplyAdd(x, y, z, false, false, ref flags, rm);

    /// <summary>x × y - z with one rounding (RISC-V fmsub.s).</summary>
    public static uint FMSub(uint x, uint y, uint z, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        FusedMultiplyAdd(x, y, z, false, true, ref flags, rm);

    /// <summary>-(x × y) + z with one rounding (RISC-V fnmsub.s).</summary>
    public static uint FNMSub(uint x, uint y, uint z, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        FusedMultiplyAdd(x, y, z, true, false, ref flags, rm);

    /// <summary>-(x × y) - z with one rounding (RISC-V fnmadd.s).</summary>
    public static uint FNMAdd(uint x, uint y, uint z, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        FusedMultiplyAdd(x, y, z, true, true, ref flags, rm);

    /// <summary>(±(x × y)) + (±z) with one rounding; the negations apply to the product and the addend (RISC-V).</summary>
    public static uint FusedMultiplyAdd(uint x, uint y, uint z, bool negateProduct, bool negateAddend, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        rm == RoundingMode.NearestEven && 
        HardwareFastPath.TryFusedMultiplyAdd(negateProduct ? x ^ SignBit : x, y, negateAddend ? z ^ SignBit : z, ref flags, out uint fast) ? fast : FusedMultiplyAddExact(x, y, z, negateProduct, negateAddend, ref flags, rm);

    /// <summary><see cref="FusedMultiplyAdd"/> on the exact integer path only (no hardware fast path): the reference the fast path is tested against.</summary>
    internal static uint FusedMultiplyAddExact(uint x, uint y, uint z, bool negateProduct, bool negateAddend, ref ExceptionFlags flags, RoundingMode rm)
    {
        ExactRounding.Check(rm);
        uint ax = x & 0x7FFFFFFF, ay = y & 0x7FFFFFFF, az = z & 0x7FFFFFFF;
        bool np = (((x ^ y) & SignBit) != 0) ^ negateProduct;
        bool nz = ((z & SignBit) != 0) ^ negateAddend;
        if (ax >= ExpMask || ay >= ExpMask || az >= ExpMask)
        {
            bool infTimesZero = (ax == ExpMask && ay == 0) || (ax == 0 && ay == ExpMask);
            if (ax > ExpMask || ay > ExpMask || az > ExpMask || infTimesZero)
                return NaNResult(infTimesZero || IsSignalingNaN(x) || IsSignalingNaN(y) || IsSignalingNaN(z), ref flags);
            if (ax == ExpMask || ay == ExpMask)
            {
                if (az == ExpMask && np != nz) return NaNResult(true, ref flags);
                return np ? NegativeInfinity : PositiveInfinity;
            }
            return nz ? NegativeInfinity : PositiveInfinity;
        }
        if (ax == 0 || ay == 0)
        {
            if (az != 0) return nz ? az | SignBit : az;
            return np == nz ? (np ? NegativeZero : 0u) : (rm == RoundingMode.Down ? NegativeZero : 0u);
        }
        ulong mx = Decode(x, out int ex), my = Decode(y, out int ey);
        if (az == 0) return ExactRounding.Round<Binary32Format>(np, mx * my, ex + ey, rm, ref flags);
        ulong mz = Decode(z, out int ez);
        return ExactRounding.Sum<Binary32Format>(np, mx * my, ex + ey, nz, mz, ez, rm, ref flags);
    }

    /// <summary>x ÷ y (RISC-V fdiv.s).</summary>
    public static uint Div(uint x, uint y, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        rm == RoundingMode.NearestEven && HardwareFastPath.TryDiv(x, y, ref flags, out uint fast) ? fast : DivExact(x, y, ref flags, rm);

    /// <summary><see cref="Div"/> on the exact integer path only (no hardware fast path): the reference the fast path is tested against.</summary>
    internal static uint DivExact(uint x, uint y, ref ExceptionFlags flags, RoundingMode rm)
    {
        ExactRounding.Check(rm);
        uint ax = x & 0x7FFFFFFF, ay = y & 0x7FFFFFFF;
        bool negative = ((x ^ y) & SignBit) != 0;
        if (ax > ExpMask || ay > ExpMask) return NaNResult(IsSignalingNaN(x) || IsSignalingNaN(y), ref flags);
        if (ax == ExpMask)
        {
            if (ay == ExpMask) return NaNResult(true, ref flags);                               // ∞ / ∞
            return negative ? NegativeInfinity : PositiveInfinity;
        }
        if (ay == ExpMask) return negative ? NegativeZero : 0u;
        if (ay == 0)
        {
            if (ax == 0) return NaNResult(true, ref flags);                                     // 0 / 0
            flags |= ExceptionFlags.DivideByZero;
            return negative ? NegativeInfinity : PositiveInfinity;
        }
        if (ax == 0) return negative ? NegativeZero : 0u;
        ulong mx = Normalized(x, out int ex), my = Normalized(y, out int ey);
        // Both significands in [2^23, 2^24): (mx·2^40) / my has 40 or 41 bits; a non-zero remainder is jammed.
        ulong n = mx << 40;
        ulong q = n / my;
        if (q * my != n) q |= 1;
        return ExactRounding.Round<Binary32Format>(negative, q, ex - ey - 40, rm, ref flags);
    }

    /// <summary>√x (RISC-V fsqrt.s); √-0 = -0.</summary>
    public static uint Sqrt(uint x, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        rm == RoundingMode.NearestEven && HardwareFastPath.TrySqrt(x, ref flags, out uint fast) ? fast : SqrtExact(x, ref flags, rm);

    /// <summary><see cref="Sqrt"/> on the exact integer path only (no hardware fast path): the reference the fast path is tested against.</summary>
    internal static uint SqrtExact(uint x, ref ExceptionFlags flags, RoundingMode rm)
    {
        ExactRounding.Check(rm);
        uint ax = x & 0x7FFFFFFF;
        if (ax > ExpMask) return NaNResult(IsSignalingNaN(x), ref flags);
        if (ax == 0) return x;
        if ((x & SignBit) != 0) return NaNResult(true, ref flags);                              // √(negative)
        if (ax == ExpMask) return x;
        ulong m = Normalized(x, out int e);
        if ((e & 1) != 0) { m <<= 1; e--; }
        // m < 2^25; m·2^38 < 2^63 keeps the exponent even; the integer root has at least 30 bits, remainder jammed.
        m <<= 38;
        e -= 38;
        ulong r = Binary16.IntegerSqrt(m);
        if (r * r != m) r |= 1;
        return ExactRounding.Round<Binary32Format>(false, r, e / 2, rm, ref flags);
    }

    /// <summary>Significand of a finite non-zero value shifted into [2^23, 2^24), with the matching exponent.</summary>
    private static ulong Normalized(uint x, out int exp)
    {
        ulong m = Decode(x, out exp);
        int shift = BitOperations.LeadingZeroCount(m) - 40;
        exp -= shift;
        return m << shift;
    }

    /// <summary>Monotonic integer key of a non-NaN value: -∞ &lt; ... &lt; -0 &lt; +0 &lt; ... &lt; +∞.</summary>
    internal static uint OrderKey(uint x) => (x & SignBit) != 0 ? ~x : x | SignBit;

    /// <summary>minimumNumber (RISC-V fmin.s): -0 &lt; +0; one NaN operand yields the other; sNaN raises NV.</summary>
    public static uint Min(uint x, uint y, ref ExceptionFlags flags) => MinimumNumber.Select(x, y, false,
        IsNaN(x), IsNaN(y), IsSignalingNaN(x) || IsSignalingNaN(y), OrderKey(x), OrderKey(y), CanonicalNaN, ref flags);

    /// <summary>maximumNumber (RISC-V fmax.s): -0 &lt; +0; one NaN operand yields the other; sNaN raises NV.</summary>
    public static uint Max(uint x, uint y, ref ExceptionFlags flags) => MinimumNumber.Select(x, y, true,
        IsNaN(x), IsNaN(y), IsSignalingNaN(x) || IsSignalingNaN(y), OrderKey(x), OrderKey(y), CanonicalNaN, ref flags);

    /// <summary>binary16 → binary32 (exact; same as <see cref="Binary16.ToSingle(ushort, ref ExceptionFlags)"/>).</summary>
    public static uint FromHalf(ushort a, ref ExceptionFlags flags) => Binary16.ToSingle(a, ref flags);

    /// <summary>binary32 → binary16 (same as <see cref="Binary16.FromSingle(uint, ref ExceptionFlags, RoundingMode)"/>).</summary>
    public static ushort ToHalf(uint x, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) => Binary16.FromSingle(x, ref flags, rm);

    /// <summary>
    /// One lane of RVV vfwmacc.vv: widen(a) × widen(b) + acc in binary32 with one rounding (the product of two
    /// widened binary16 values is exact in binary32 anyway). An sNaN operand raises NV in the widening.
    /// </summary>
    public static uint WideningMultiplyAdd(ushort a, ushort b, uint acc, ref ExceptionFlags flags, RoundingMode rm = RoundingMode.NearestEven) =>
        FMAdd(Binary16.ToSingle(a, ref flags), Binary16.ToSingle(b, ref flags), acc, ref flags, rm);

    public static uint Add(uint x, uint y) { ExceptionFlags f = 0; return Add(x, y, ref f); }
    public static uint Mul(uint x, uint y) { ExceptionFlags f = 0; return Mul(x, y, ref f); }
    public static uint FMAdd(uint x, uint y, uint z) { ExceptionFlags f = 0; return FMAdd(x, y, z, ref f); }
}
