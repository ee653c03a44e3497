namespace TinyOdl.Simulation.Timing;

/// <summary>Where the cycles beyond one per instruction went.</summary>
public enum StallKind
{
    /// <summary>Waiting for a register: load-use, FPU result latency, jalr operand, write-after-write on an outstanding FPU result.</summary>
    Data,
    /// <summary>Taken branches, jumps, fence.i, mret, unaligned non-RVC jump targets.</summary>
    Control,
    /// <summary>Instructions that hold the execute stage: mulh, div, slow CSRs, atomics.</summary>
    MultiCycle,
    /// <summary>The FPU busy with a divide/square root (or not overlapping instructions when FPU_*_LAT &gt; 1).</summary>
    Fpu,
    /// <summary>The vector queue full, a scalar result of the vector unit, scalar memory ordering after vector accesses, counter reads draining the vector unit.</summary>
    Vector,
}

/// <summary>
/// A cycle model for an in-order, single-issue RV32 core, calibrated by default to the OpenHW CV32E40P
/// (<see cref="CycleModelParameters.Cv32e40p"/>), with an optional decoupled vector unit (<see cref="VectorTiming"/>).
/// It is an <see cref="IRetireObserver"/>: plug it into <see cref="SimulationOptions.Observer"/> (or
/// <see cref="Executor.Run"/>) and it times every retired instruction.
/// </summary>
/// <remarks>
/// Each instruction issues at the first cycle when (1) the previous instruction has left the issue slot, (2) every
/// source register is ready (per-register ready cycles for x and f registers; a jalr needs its operand one cycle
/// earlier, in ID), (3) an outstanding FPU result it would overwrite has been written, and (4) the unit it needs is
/// free. It then holds the slot for its cycles (jumps and taken branches include their flush penalty) and its result
/// is ready after its latency. Results are forwarded (ALU, multiplier, FPU with FPU_*_LAT ≤ 1), so an
/// instruction stalls only when a dependent instruction needs a result that is not there yet. Reads of the
/// performance counters (mcycle, minstret, mhpmcounter and their high halves) wait for the vector unit to drain,
/// so that cycles measured between two counter reads include all vector work issued between them.
/// Not modeled: caches (memory answers in one cycle, as the manual's table assumes), bus contention between
/// instruction fetch, scalar and vector data, misaligned accesses, operand-dependent divide latency, interrupts,
/// and the write-port conflicts between the FPU and the load/store unit.
/// </remarks>
public sealed class InOrderPipelineModel : IRetireObserver
{
    private readonly CycleModelParameters _p;
    private readonly VectorTiming? _vector;
    private readonly long[] _x = new long[33];
    private readonly long[] _f = new long[32];
    private readonly long[] _stalls = new long[Enum.GetValues<StallKind>().Length];
    private long _next;
    private long _fpuFree;
    private uint _expectTarget = uint.MaxValue;

    /// <param name="vlenBits">The machine's VLEN, 0 without a vector unit.</param>
    public InOrderPipelineModel(CycleModelParameters parameters, int vlenBits = 0)
    {
        _p = parameters;
        if (vlenBits > 0) _vector = new VectorTiming(parameters, vlenBits);
    }

    public CycleModelParameters Parameters => _p;

    /// <summary>Instructions timed so far.</summary>
    public long Instructions { get; private set; }

    /// <summary>The cycle the next instruction could issue: cycles taken by the instructions so far.</summary>
    public long Cycles => _next;

    /// <summary>When everything issued so far has finished: the scalar pipeline's cycles or the vector unit's last result, whichever is later.</summary>
    public long CompletionCycle => Math.Max(_next, _vector?.DrainedAt ?? 0);

    /// <summary>The cycle the last retired instruction issued.</summary>
    public long LastIssue { get; private set; }

    /// <summary>Element groups the vector unit processed.</summary>
    public long VectorBeats => _vector?.Beats ?? 0;

    /// <summary>Cycles lost to one kind of stall (the issue delays, and the extra cycles of multi-cycle and control-flow instructions).</summary>
    public long Stalls(StallKind kind) => _stalls[(int)kind];

    public void Retired(in RetiredInstruction r)
    {
        ref readonly var d = ref r.Instruction;
        var shape = OperandMap.Of(d.Op);
        long t = _next;

        // A jump or taken branch to a non-word-aligned 32-bit instruction: one more fetch cycle.
        if (_expectTarget != uint.MaxValue)
        {
            if (r.Pc == _expectTarget && d.Length == 4) Stall(ref t, t + _p.UnalignedTargetPenalty, StallKind.Control);
            _expectTarget = uint.MaxValue;
        }

        // Sources.
        int jalr = shape.Kind == TimingKind.JumpRegister ? _p.JalrDependencyPenalty : 0;
        var rs1File = shape.Kind == TimingKind.Vector ? OperandMap.VectorScalarSource(d) : shape.Rs1;
        Stall(ref t, Ready(rs1File, d.Rs1) + jalr, StallKind.Data);
        Stall(ref t, Ready(shape.Rs2, d.Rs2), StallKind.Data);
        Stall(ref t, Ready(shape.Rs3, d.Rs3), StallKind.Data);
        // An outstanding (FPU or multi-cycle) result to the same register is written first.
        Stall(ref t, Ready(shape.Rd, d.Rd) - 1, StallKind.Data);

        int cycles = 1;
        int latency = 1;
        switch (shape.Kind)
        {
            case TimingKind.Alu or TimingKind.VectorConfig or TimingKind.Mul or TimingKind.MulHigh or TimingKind.Div:
                // Results in EX, forwarded; the multi-cycle ones hold EX until done.
                cycles = latency = shape.Kind switch
                {
                    TimingKind.Mul => _p.MulCycles,
                    TimingKind.MulHigh => _p.MulhCycles,
                    TimingKind.Div => _p.DivCycles,
                    _ => _p.AluCycles,
                };
                break;
            case TimingKind.Load or TimingKind.FpLoad:
                if (_vector is not null) Stall(ref t, _vector.StoresDoneAt, StallKind.Vector);
                cycles = _p.LoadStoreCycles;
                latency = cycles + _p.LoadUsePenalty;
                break;
            case TimingKind.Store or TimingKind.FpStore:
                if (_vector is not null) Stall(ref t, _vector.MemoryDoneAt, StallKind.Vector);
                cycles = latency = _p.LoadStoreCycles;
                break;
            case TimingKind.Atomic:
                if (_vector is not null) Stall(ref t, _vector.MemoryDoneAt, StallKind.Vector);
                cycles = _p.AtomicCycles;
                latency = cycles + _p.LoadUsePenalty;
                break;
            case TimingKind.Jump or TimingKind.JumpRegister or TimingKind.TrapReturn:
                cycles = _p.JumpCycles;
                latency = 1;
                Target(r);
                break;
            case TimingKind.Branch:
                cycles = r.Taken ? _p.BranchTakenCycles : _p.BranchNotTakenCycles;
                if (r.Taken) Target(r);
                break;
            case TimingKind.FenceI:
                cycles = _p.FenceICycles;
                Target(r);
                break;
            case TimingKind.Csr:
            {
                int csr = d.Imm & 0xFFF;
                if (IsCounter(csr) && _vector is not null) Stall(ref t, _vector.DrainedAt, StallKind.Vector);
                cycles = latency = IsSlowCsr(csr) ? _p.CsrSlowCycles : _p.CsrCycles;
                break;
            }
            case TimingKind.FpAddMul or TimingKind.FpOther or TimingKind.FpDivSqrt:
            {
                Stall(ref t, _fpuFree, StallKind.Fpu);
                bool divSqrt = shape.Kind == TimingKind.FpDivSqrt;
                latency = divSqrt ? _p.FpDivSqrt(shape.Half)
                    : shape.Kind == TimingKind.FpAddMul ? _p.FpAddMulLatency(shape.Half) : _p.FpOtherLatency(shape.Half);
                // The iterative divider, and any FPU instruction with more than one pipeline register (issue 1033),
                // keep further FPU instructions out until the result is back.
                _fpuFree = divSqrt || latency > 2 ? t + latency : t + 1;
                break;
            }
            case TimingKind.Vector:
            {
                Stall(ref t, _vector?.DispatchAllowedAt ?? 0, StallKind.Vector);
                long ready = _vector?.Execute(r, t) ?? t + 1;
                latency = (int)Math.Max(1, ready - t);
                break;
            }
        }

        // Extra cycles of the instruction itself.
        if (cycles > 1)
        {
            var kind = shape.Kind is TimingKind.Jump or TimingKind.JumpRegister or TimingKind.TrapReturn or TimingKind.Branch or TimingKind.FenceI
                ? StallKind.Control : StallKind.MultiCycle;
            _stalls[(int)kind] += cycles - 1;
        }
        SetReady(shape.Rd, d.Rd, t + latency);
        LastIssue = t;
        _next = t + cycles;
        Instructions++;
    }

    private void Stall(ref long t, long until, StallKind kind)
    {
        if (until <= t) return;
        _stalls[(int)kind] += until - t;
        t = until;
    }

    private void Target(in RetiredInstruction r)
    {
        if ((r.NextPc & 3) != 0) _expectTarget = r.NextPc;
    }

    private long Ready(RegisterFile file, int reg) => file switch
    {
        RegisterFile.X => reg is 0 or > 32 ? 0 : _x[reg],
        RegisterFile.F => _f[reg & 31],
        _ => 0,
    };

    private void SetReady(RegisterFile file, int reg, long cycle)
    {
        if (file == RegisterFile.X) { if (reg is > 0 and < 32) _x[reg] = cycle; }
        else if (file == RegisterFile.F) _f[reg & 31] = cycle;
    }

    /// <summary>mcycle, minstret, mhpmcounter3..31 and their high halves (and the user-mode shadows).</summary>
    private static bool IsCounter(int csr) => csr is >= 0xB00 and <= 0xB1F or >= 0xB80 and <= 0xB9F or >= 0xC00 and <= 0xC1F or >= 0xC80 and <= 0xC9F;

    /// <summary>The CSRs the manual lists at 4 cycles.</summary>
    private static bool IsSlowCsr(int csr) =>
        IsCounter(csr) || csr is Csr.Mstatus or Csr.Mepc or Csr.Mtvec or Csr.Mcause or Csr.Mcountinhibit
            or >= 0x323 and <= 0x33F   // mhpmevent3..31
            or >= 0x7B0 and <= 0x7B3;  // dcsr, dpc, dscratch0, dscratch1
}
