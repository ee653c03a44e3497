namespace TinyOdl.Simulation;

/// <summary>
/// One retired instruction, as a cycle model or profiler sees it: where it was, where execution continues, what it
/// was (<see cref="Instruction"/>: operation, registers; <see cref="Class"/>), and for vector instructions the
/// vector configuration it ran with (after a vset{i}vl{i}: the new one).
/// </summary>
public readonly struct RetiredInstruction(uint pc, uint nextPc, in Instruction instruction, VectorType vtype, uint vl)
{
    public readonly uint Pc = pc;
    public readonly uint NextPc = nextPc;
    /// <summary>The decoded instruction (a field, so observers can take it by reference).</summary>
    public readonly Instruction Instruction = instruction;
    public readonly VectorType Vtype = vtype;
    public readonly uint Vl = vl;
    public InstructionClass Class => Instruction.Class;
    /// <summary>A branch that jumped (its next pc is not the fall-through one).</summary>
    public bool Taken => NextPc != Pc + Instruction.Length;
    public int Sew => Vtype.SewBits;
    public int LmulEighths => Vtype.LmulEighths;
}

/// <summary>
/// Receives every retired instruction (not the ones that trap). The hook a cycle model plugs into: it needs
/// neither the decoder nor the executor changed. Runs without an observer pay nothing for it.
/// </summary>
public interface IRetireObserver
{
    void Retired(in RetiredInstruction instruction);
}
