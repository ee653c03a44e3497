namespace TinyOdl.Graph;

/// <summary>Element type of a graph tensor.</summary>
public enum DataType
{
    Float32,
    Float16,
    /// <summary>Bit-packed signs of a binary layer: 32 channels per word, LSB first, bit 1 = -1 (docs/BINARY.md).</summary>
    Bits32,
}

public static class DataTypeExtensions
{
    public static int SizeInBytes(this DataType t) => t switch
    {
        DataType.Float32 or DataType.Bits32 => 4,
        DataType.Float16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    public static string ShortName(this DataType t) => t switch
    {
        DataType.Float32 => "f32",
        DataType.Float16 => "f16",
        DataType.Bits32 => "b32",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };
}
