namespace TinyOdl.Numerics;

/// <summary>
/// The selection rule of RISC-V fmin/fmax (IEEE 754-2019 minimumNumber/maximumNumber), shared by
/// <see cref="Binary16"/> and <see cref="Binary32"/>: -0 &lt; +0 (the callers' order keys say so); a single NaN
/// operand yields the other operand; two NaNs yield the canonical NaN; a signaling NaN raises NV even when the
/// result is a number.
/// </summary>
internal static class MinimumNumber
{
    public static uint Select(uint a, uint b, bool maximum, bool aNaN, bool bNaN, bool signaling, uint keyA, uint keyB, uint canonicalNaN,
        ref ExceptionFlags flags)
    {
        if (signaling) flags |= ExceptionFlags.Invalid;
        if (aNaN) return bNaN ? canonicalNaN : b;
        if (bNaN) return a;
        return (maximum ? keyA >= keyB : keyA <= keyB) ? a : b;
    }
}
