namespace TinyOdl.Simulation;

/// <summary>
/// The ISA extensions the simulated hart implements beyond RV32I + Zicsr. An instruction of an absent extension
/// decodes to <see cref="Op.Illegal"/>, as on the real (or QEMU's) hart.
/// </summary>
[Flags]
public enum IsaFeatures
{
    None = 0,
    M = 1 << 0,
    A = 1 << 1,
    F = 1 << 2,
    C = 1 << 3,
    Zfh = 1 << 4,
    V = 1 << 5,
    Zvfh = 1 << 6,
    /// <summary>Basic bit manipulation. QEMU 7.2's rv32 CPU has it on by default, so every board does.</summary>
    Zbb = 1 << 7,
}

/// <summary>Board extension names to <see cref="IsaFeatures"/>.</summary>
public static class IsaFeaturesExtensions
{
    public static IsaFeatures FromExtensions(IEnumerable<string> extensions)
    {
        var f = IsaFeatures.Zbb;
        foreach (var e in extensions)
        {
            f |= e.ToLowerInvariant() switch
            {
                "m" => IsaFeatures.M,
                "a" => IsaFeatures.A,
                "f" => IsaFeatures.F,
                "c" => IsaFeatures.C,
                "zfh" => IsaFeatures.Zfh,
                "v" => IsaFeatures.V,
                "zvfh" => IsaFeatures.Zvfh,
                "zbb" => IsaFeatures.Zbb,
                _ => IsaFeatures.None,
            };
        }
        return f;
    }

    /// <summary>misa: MXL = 1 (32-bit) and one bit per single-letter extension (I always).</summary>
    public static uint Misa(this IsaFeatures f)
    {
        uint misa = 0x40000000u | 1u << ('I' - 'A');
        if (f.HasFlag(IsaFeatures.M)) misa |= 1u << ('M' - 'A');
        if (f.HasFlag(IsaFeatures.A)) misa |= 1u << ('A' - 'A');
        if (f.HasFlag(IsaFeatures.F)) misa |= 1u << ('F' - 'A');
        if (f.HasFlag(IsaFeatures.C)) misa |= 1u << ('C' - 'A');
        if (f.HasFlag(IsaFeatures.V)) misa |= 1u << ('V' - 'A');
        return misa;
    }
}
