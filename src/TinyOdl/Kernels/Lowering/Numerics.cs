using TinyOdl.Graph;

namespace TinyOdl.Kernels.Lowering;

/// <summary>The kernel-IR types a precision policy stands for; every lowering is written once against these.</summary>
internal readonly record struct Numerics(ScalarType Storage, ScalarType Accumulate, string Tag)
{
    public static Numerics Of(Precision p) => new(p.Storage().ToScalar(), p.Accumulation().ToScalar(), p.KernelTag());

    /// <summary>Storage-only kernels (ReLU, copies) are named by their storage type.</summary>
    public static Numerics Storing(ScalarType t) => new(t, t, t.Tag());
}

internal static class DataTypeMapping
{
    public static ScalarType ToScalar(this DataType t) => t switch
    {
        DataType.Float32 => ScalarType.F32,
        DataType.Float16 => ScalarType.F16,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };
}
