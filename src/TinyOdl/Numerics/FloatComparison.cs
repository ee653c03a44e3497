namespace TinyOdl.Numerics;

/// <summary>
/// Comparisons and classification of binary32 values with RISC-V flags ("F" extension, Single-Precision
/// Floating-Point Compare Instructions and Classify Instruction): <c>feq</c> is a quiet comparison (NV only for a
/// signaling NaN), <c>flt</c>/<c>fle</c> are signaling (NV for any NaN); a comparison with a NaN is false.
/// Binary16 operands are compared after the exact <see cref="Binary16.ToSingle(ushort, ref ExceptionFlags)"/>, whose
/// NV for a signaling NaN is the NV the comparison owes anyway.
/// </summary>
public static class FloatComparison
{
    /// <summary>x == y (feq.s): -0 == +0.</summary>
    public static bool Equal(uint x, uint y, ref ExceptionFlags flags)
    {
        if (Binary32.IsNaN(x) || Binary32.IsNaN(y))
        {
            if (Binary32.IsSignalingNaN(x) || Binary32.IsSignalingNaN(y)) flags |= ExceptionFlags.Invalid;
            return false;
        }
        return x == y || ((x | y) & 0x7FFFFFFF) == 0;
    }

    /// <summary>x &lt; y (flt.s).</summary>
    public static bool Less(uint x, uint y, ref ExceptionFlags flags)
    {
        if (Binary32.IsNaN(x) || Binary32.IsNaN(y))
        {
            flags |= ExceptionFlags.Invalid;
            return false;
        }
        return Key(x) < Key(y);
    }

    /// <summary>x ≤ y (fle.s).</summary>
    public static bool LessOrEqual(uint x, uint y, ref ExceptionFlags flags)
    {
        if (Binary32.IsNaN(x) || Binary32.IsNaN(y))
        {
            flags |= ExceptionFlags.Invalid;
            return false;
        }
        return Key(x) <= Key(y);
    }

    /// <summary>Order key with -0 and +0 equal.</summary>
    private static uint Key(uint x) => (x & 0x7FFFFFFF) == 0 ? 0x80000000u : Binary32.OrderKey(x);

    /// <summary>
    /// The fclass mask: bit 0 -∞, 1 negative normal, 2 negative subnormal, 3 -0, 4 +0, 5 positive subnormal,
    /// 6 positive normal, 7 +∞, 8 signaling NaN, 9 quiet NaN.
    /// </summary>
    public static uint Classify(uint x) => Classify(x >> 31 != 0, (x >> 23) & 0xFF, 0xFF, x & 0x7FFFFF, 0x400000);

    /// <summary>The fclass mask of a binary16 value (fclass.h).</summary>
    public static uint Classify(ushort a) => Classify(a >> 15 != 0, (uint)(a >> 10) & 0x1F, 0x1F, (uint)a & 0x3FF, 0x200);

    private static uint Classify(bool negative, uint exp, uint expMax, uint man, uint quiet)
    {
        if (exp == expMax)
        {
            if (man == 0) return negative ? 1u << 0 : 1u << 7;
            return (man & quiet) != 0 ? 1u << 9 : 1u << 8;
        }
        if (exp == 0)
        {
            if (man == 0) return negative ? 1u << 3 : 1u << 4;
            return negative ? 1u << 2 : 1u << 5;
        }
        return negative ? 1u << 1 : 1u << 6;
    }
}
