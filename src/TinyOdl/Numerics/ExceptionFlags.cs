namespace TinyOdl.Numerics;

/// <summary>
/// IEEE 754 exception flags with the bit values of the RISC-V <c>fflags</c> CSR
/// ("F" extension, Floating-Point Control and Status Register: NX=1, UF=2, OF=4, DZ=8, NV=16).
/// The arithmetic in <see cref="Binary16"/> and <see cref="Binary32"/> ORs the flags an operation raises
/// into a caller's variable, like the hardware's accrued flags.
/// </summary>
[Flags]
public enum ExceptionFlags : byte
{
    None = 0,
    /// <summary>NX: the rounded result differs from the exact result (also raised with OF and with UF).</summary>
    Inexact = 1,
    /// <summary>UF: the result is tiny (detected after rounding) and inexact.</summary>
    Underflow = 2,
    /// <summary>OF: the rounded result, with an unbounded exponent range, exceeds the largest finite number.</summary>
    Overflow = 4,
    /// <summary>DZ: a finite non-zero number was divided by zero.</summary>
    DivideByZero = 8,
    /// <summary>NV: invalid operation (the result is the canonical NaN), or a signaling NaN operand.</summary>
    Invalid = 16,
}
