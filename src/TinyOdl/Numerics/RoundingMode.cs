namespace TinyOdl.Numerics;

/// <summary>
/// Rounding-direction attributes, numbered like the RISC-V <c>rm</c> field and <c>frm</c> CSR
/// ("F" extension, rounding mode encoding). Values 5..7 are not rounding modes and are rejected.
/// </summary>
public enum RoundingMode : byte
{
    /// <summary>RNE: round to nearest, ties to even (the IEEE default).</summary>
    NearestEven = 0,
    /// <summary>RTZ: round towards zero.</summary>
    TowardZero = 1,
    /// <summary>RDN: round down, towards negative infinity.</summary>
    Down = 2,
    /// <summary>RUP: round up, towards positive infinity.</summary>
    Up = 3,
    /// <summary>RMM: round to nearest, ties to maximum magnitude.</summary>
    NearestMaxMagnitude = 4,
}
