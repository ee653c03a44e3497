namespace TinyOdl.Simulation;

/// <summary>Synchronous exception codes (mcause with the interrupt bit clear) this machine raises.</summary>
public enum TrapCause : uint
{
    InstructionAddressMisaligned = 0,
    InstructionAccessFault = 1,
    IllegalInstruction = 2,
    Breakpoint = 3,
    LoadAddressMisaligned = 4,
    LoadAccessFault = 5,
    StoreAddressMisaligned = 6,
    StoreAccessFault = 7,
    EnvironmentCallFromM = 11,
}

/// <summary>
/// An exception an instruction raised: cause and mtval (faulting address, or the instruction bits), and whether the
/// instruction still counts in minstret. QEMU 7.2 (with <c>-icount</c>) counts an instruction whose exception it
/// raises from the translated code (ecall, ebreak, an illegal encoding, FP or vector state off, vill, an illegal
/// vector register group) and not one whose exception a helper raises while it runs (memory faults, CSR access, a
/// reserved rounding mode); the simulator does the same, so minstret deltas across traps agree too.
/// </summary>
public readonly record struct Fault(TrapCause Cause, uint Value, bool Counted = false)
{
    /// <summary>An illegal instruction found when decoding or translating it (counted, as QEMU does).</summary>
    public static Fault IllegalEncoding(uint raw) => new(TrapCause.IllegalInstruction, raw, Counted: true);

    /// <summary>An illegal instruction found while executing it (a CSR, a reserved dynamic rounding mode): not counted.</summary>
    public static Fault IllegalAtRun(uint raw) => new(TrapCause.IllegalInstruction, raw);

    public static string Describe(TrapCause cause) => cause switch
    {
        TrapCause.InstructionAddressMisaligned => "instruction address misaligned",
        TrapCause.InstructionAccessFault => "instruction access fault (fetch outside RAM)",
        TrapCause.IllegalInstruction => "illegal instruction",
        TrapCause.Breakpoint => "breakpoint",
        TrapCause.LoadAddressMisaligned => "load address misaligned",
        TrapCause.LoadAccessFault => "load access fault (address outside RAM)",
        TrapCause.StoreAddressMisaligned => "store/AMO address misaligned",
        TrapCause.StoreAccessFault => "store/AMO access fault (address outside RAM)",
        TrapCause.EnvironmentCallFromM => "environment call from M-mode",
        _ => "exception " + (uint)cause,
    };
}
