using TinyOdl.Graph;

namespace TinyOdl.Kernels.Lowering;

/// <summary>The kernel-IR types a precision policy stands for; every lowering is written once against these.</summary>
internal readonly record struct Numerics(ScalarType Storage, ScalarType Accumulate, string Tag)
{
    public static Numerics Of(Precision p) => new(p.Storage().ToScalar(), p.Accumulation().ToScalar(), p.KernelTag());
}

/// <summary>
/// What the target offers the lowering. With <see cref="Vector"/>, independent loops become lanes loops
/// (RVV on the target) and kernel names get the "_rvv" implementation suffix; bits are the same either way.
/// </summary>
public readonly record struct KernelTarget(bool Vector)
{
    public static readonly KernelTarget Scalar = new(false);
    internal string Suffix => Vector ? "_rvv" : "";
}

/// <summary>Parts of kernel names: a name must be a C and LLVM identifier and differ wherever the code does.</summary>
internal static class KernelNames
{
    /// <summary>A float constant baked into a kernel, round-trip exact: 0.001 -> "0p001", -1E-08 -> "m1Em08".</summary>
    public static string Constant(float v) =>
        v.ToString("R", System.Globalization.CultureInfo.InvariantCulture).Replace('.', 'p').Replace('-', 'm').Replace('+', 'p');
}

internal static class DataTypeMapping
{
    public static ScalarType ToScalar(this DataType t) => t switch
    {
        DataType.Float32 => ScalarType.F32,
        DataType.Float16 => ScalarType.F16,
        DataType.Bits32 => ScalarType.I32,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };
}
