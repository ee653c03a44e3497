namespace TinyOdl.Kernels;

/// <summary>Scalar types of the kernel IR. Precision is always explicit: there are no implicit conversions.</summary>
public enum ScalarType
{
    F32,
    /// <summary>IEEE binary16; every operation on it rounds to binary16 (RISC-V Zfh semantics).</summary>
    F16,
    I32,
    Bool,
}

public static class ScalarTypeExtensions
{
    public static int SizeInBytes(this ScalarType t) => t switch
    {
        ScalarType.F32 or ScalarType.I32 => 4,
        ScalarType.F16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(t), $"{t} has no memory representation"),
    };

    public static bool IsFloat(this ScalarType t) => t is ScalarType.F32 or ScalarType.F16;

    /// <summary>The dtype tag in kernel names: f32, f16.</summary>
    public static string Tag(this ScalarType t) => t switch
    {
        ScalarType.F32 => "f32",
        ScalarType.F16 => "f16",
        ScalarType.I32 => "i32",
        _ => "bool",
    };
}
