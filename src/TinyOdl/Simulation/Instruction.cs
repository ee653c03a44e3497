using System.Runtime.InteropServices;

namespace TinyOdl.Simulation;

/// <summary>
/// One decoded instruction: the operation and its operands, 16 bytes, as the predecode cache stores it.
/// </summary>
/// <remarks>
/// Register fields hold architectural numbers, except that an integer destination x0 is stored as
/// <see cref="ZeroSink"/>: writes go to a scratch slot past x31, so the executor never tests for x0 and x0 reads
/// stay 0. Vector instructions keep vd/vs1(rs1)/vs2 in <see cref="Rd"/>/<see cref="Rs1"/>/<see cref="Rs2"/>, the
/// operand form in <see cref="Rs3"/> and in <see cref="Aux"/> bit 0 "unmasked" (vm) and bits 1..4 the element width
/// in bytes of a memory access. Floating-point instructions keep their rounding-mode field in <see cref="Aux"/>.
/// </remarks>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public struct Instruction
{
    /// <summary>Register index that stands for x0 as a destination.</summary>
    public const byte ZeroSink = 32;

    public Op Op;
    public byte Rd, Rs1, Rs2, Rs3;
    /// <summary>2 (compressed) or 4 bytes.</summary>
    public byte Length;
    public byte Aux;
    public int Imm;
    /// <summary>The instruction bits as fetched (16 bits for a compressed instruction).</summary>
    public uint Raw;

    public readonly InstructionClass Class => OpInfo.ClassOf(Op);

    /// <summary>The rounding-mode field of a floating-point instruction (7 = dynamic, frm).</summary>
    public readonly int RoundingField => Aux;

    /// <summary>Vector instructions: vm = 0, i.e. v0 masks the operation.</summary>
    public readonly bool Masked => (Aux & 1) == 0;

    /// <summary>Vector memory instructions: element width in bytes.</summary>
    public readonly int Width => Aux >> 1;

    public readonly VectorForm Form => (VectorForm)Rs3;

    public override readonly string ToString() => Disassembler.Format(this, 0);
}
