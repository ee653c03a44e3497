namespace TinyOdl.Kernels;

/// <summary>Scalar types of the kernel IR. Precision is always explicit: there are no implicit conversions.</summary>
public enum ScalarType
{
    F32,
    I32,
    Bool,
}

public static class ScalarTypeExtensions
{
    public static int SizeInBytes(this ScalarType t) => t switch
    {
        ScalarType.F32 or ScalarType.I32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(t), $"{t} has no memory representation"),
    };

    public static bool IsFloat(this ScalarType t) => t == ScalarType.F32;
}
