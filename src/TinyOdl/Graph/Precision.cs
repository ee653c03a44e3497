namespace TinyOdl.Graph;

/// <summary>
/// How a layer stores and accumulates its numbers (docs/NUMERICS.md). Set per model, overridable per layer.
/// </summary>
public enum Precision
{
    /// <summary>binary32 storage and accumulation.</summary>
    Fp32,
    /// <summary>binary16 storage and binary16 accumulation (what PULP-TrainLib's FP16 kernels do).</summary>
    Fp16,
    /// <summary>binary16 storage, binary32 accumulation through widening multiply-adds (f16*f16 is exact in f32).</summary>
    Fp16Mixed,
}

public static class PrecisionExtensions
{
    public static DataType Storage(this Precision p) => p == Precision.Fp32 ? DataType.Float32 : DataType.Float16;
    public static DataType Accumulation(this Precision p) => p == Precision.Fp16 ? DataType.Float16 : DataType.Float32;

    /// <summary>The name used in JSON and on the command line.</summary>
    public static string Name(this Precision p) => p switch
    {
        Precision.Fp32 => "fp32",
        Precision.Fp16 => "fp16",
        _ => "fp16-mixed",
    };

    /// <summary>The dtype part of generated kernel names: f32, f16, f16acc32.</summary>
    public static string KernelTag(this Precision p) => p switch
    {
        Precision.Fp32 => "f32",
        Precision.Fp16 => "f16",
        _ => "f16acc32",
    };

    public static readonly string[] Names = ["fp32", "fp16", "fp16-mixed"];

    public static bool TryParse(string name, out Precision p)
    {
        int i = Array.IndexOf(Names, name);
        p = i < 0 ? Precision.Fp32 : (Precision)i;
        return i >= 0;
    }

    /// <summary>Parses a precision name or throws a <see cref="TinyOdlException"/> naming <paramref name="where"/>.</summary>
    public static Precision Parse(string name, string where) =>
        TryParse(name, out var p) ? p : throw TinyOdlException.At(where, $"unknown precision '{name}'; expected one of: {string.Join(", ", Names)}");
}
