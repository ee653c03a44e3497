using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TinyOdl.Simulation;

/// <summary>Why a run stopped.</summary>
public enum StopKind
{
    /// <summary>The program exited through semihosting; <see cref="RunOutcome.ExitStatus"/> is its status.</summary>
    Exited,
    /// <summary>The instruction limit was reached (a program that never exits).</summary>
    InstructionLimit,
    /// <summary>A trap the program cannot handle (no trap vector, or the handler itself faults).</summary>
    Trap,
    /// <summary>wfi with no interrupt source: the hart would sleep forever.</summary>
    Halted,
    /// <summary>A semihosting request the simulator cannot serve.</summary>
    SemihostingError,
}

/// <summary>The end of a run: why, the exit status, retired instructions, and for anything but an exit a report.</summary>
public sealed record RunOutcome(StopKind Kind, int ExitStatus, ulong Instret, string? Report);

/// <summary>
/// Runs the hart: fetch through the predecode cache, execute, retire. The integer instructions, jumps, branches,
/// loads and stores are executed inline in one switch (the hot path); floating-point computation goes to
/// <see cref="FloatUnit"/>, vector instructions to <see cref="VectorUnit"/>, CSR instructions to <see cref="Csr"/>.
/// An exception is taken like hardware does (mepc, mcause, mtval, jump to mtvec) so the firmware's handler runs;
/// the run stops only when no handler can run. The first trap taken is reported in <see cref="FirstTrap"/>.
/// </summary>
public sealed class Executor
{
    private readonly Machine _m;
    private readonly Hart _h;
    private readonly VectorUnit _vector;

    public Executor(Machine machine)
    {
        _m = machine;
        _h = machine.Hart;
        _vector = new VectorUnit(machine);
    }

    /// <summary>Description of the first trap taken (handled or not), or null.</summary>
    public string? FirstTrap { get; private set; }

    public RunOutcome Run(ulong maxInstructions, IRetireObserver? observer = null)
    {
        if (observer is null)
        {
            var none = new NoObserver();
            return Run(ref none, maxInstructions);
        }
        var call = new ObserverCall(observer);
        return Run(ref call, maxInstructions);
    }

    private interface IObserve
    {
        void Retired(uint pc, uint next, in Instruction d, Hart h);
    }

    private struct NoObserver : IObserve
    {
        public readonly void Retired(uint pc, uint next, in Instruction d, Hart h) { }
    }

    private readonly struct ObserverCall(IRetireObserver observer) : IObserve
    {
        public void Retired(uint pc, uint next, in Instruction d, Hart h) => observer.Retired(new RetiredInstruction(pc, next, d, h.Vtype, h.Vl));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref uint R(uint[] x, int i) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), i);

    // Fully optimized from the first call: the loop runs once, for the whole program, so tiered compilation would
    // leave it in on-stack-replacement code.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private RunOutcome Run<TObserve>(ref TObserve observer, ulong maxInstructions) where TObserve : struct, IObserve
    {
        var h = _h;
        uint[] x = h.X, f = h.F;
        var ram = _m.Ram;
        byte[] bytes = ram.Bytes;
        ref byte mem = ref MemoryMarshal.GetArrayDataReference(bytes);
        uint ramOrigin = ram.Origin, ramSize = ram.Size;
        var code = _m.Code;
        Instruction[] entries = code.Entries;
        uint codeStart = code.Start, codeSpan = code.End - code.Start;
        // Stores that may touch the code range: RAM offsets [codeStart - 8, code end) (an instruction may start 2 bytes
        // before a written byte).
        uint watchStart = codeStart - ramOrigin - 8, watchSpan = codeSpan + 8;
        bool hasC = h.Features.HasFlag(IsaFeatures.C);
        uint pc = h.Pc;
        ulong n = h.Instret;
        Instruction scratch = default;
        Fault fault = default;

        while (true)
        {
            if (n >= maxInstructions)
            {
                h.Pc = pc;
                h.Instret = n;
                return new RunOutcome(StopKind.InstructionLimit, 124, n,
                    $"instruction limit of {maxInstructions:N0} reached at pc 0x{pc:x8}{Where(pc)}: the program did not exit");
            }
            // Fetch: the predecoded slot (decoded on first use, by the Undecoded case below) or, outside the code
            // range, a fresh decode.
            ref Instruction d = ref scratch;
            uint slot = pc - codeStart;
            if (slot < codeSpan)
            {
                d = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(entries), slot >> 1);
            }
            else if (!TryDecode(pc, out scratch, out fault))
            {
                goto trap;
            }

            uint next = pc + d.Length;
            switch (d.Op)
            {
                // ---------------------------------------------------------------- RV32I computation
                case Op.Lui: R(x, d.Rd) = (uint)d.Imm; break;
                case Op.Auipc: R(x, d.Rd) = pc + (uint)d.Imm; break;
                case Op.Addi: R(x, d.Rd) = R(x, d.Rs1) + (uint)d.Imm; break;
                case Op.Slti: R(x, d.Rd) = (int)R(x, d.Rs1) < d.Imm ? 1u : 0u; break;
                case Op.Sltiu: R(x, d.Rd) = R(x, d.Rs1) < (uint)d.Imm ? 1u : 0u; break;
                case Op.Xori: R(x, d.Rd) = R(x, d.Rs1) ^ (uint)d.Imm; break;
                case Op.Ori: R(x, d.Rd) = R(x, d.Rs1) | (uint)d.Imm; break;
                case Op.Andi: R(x, d.Rd) = R(x, d.Rs1) & (uint)d.Imm; break;
                case Op.Slli: R(x, d.Rd) = R(x, d.Rs1) << d.Imm; break;
                case Op.Srli: R(x, d.Rd) = R(x, d.Rs1) >> d.Imm; break;
                case Op.Srai: R(x, d.Rd) = (uint)((int)R(x, d.Rs1) >> d.Imm); break;
                case Op.Add: R(x, d.Rd) = R(x, d.Rs1) + R(x, d.Rs2); break;
                case Op.Sub: R(x, d.Rd) = R(x, d.Rs1) - R(x, d.Rs2); break;
                case Op.Sll: R(x, d.Rd) = R(x, d.Rs1) << (int)(R(x, d.Rs2) & 31); break;
                case Op.Slt: R(x, d.Rd) = (int)R(x, d.Rs1) < (int)R(x, d.Rs2) ? 1u : 0u; break;
                case Op.Sltu: R(x, d.Rd) = R(x, d.Rs1) < R(x, d.Rs2) ? 1u : 0u; break;
                case Op.Xor: R(x, d.Rd) = R(x, d.Rs1) ^ R(x, d.Rs2); break;
                case Op.Srl: R(x, d.Rd) = R(x, d.Rs1) >> (int)(R(x, d.Rs2) & 31); break;
                case Op.Sra: R(x, d.Rd) = (uint)((int)R(x, d.Rs1) >> (int)(R(x, d.Rs2) & 31)); break;
                case Op.Or: R(x, d.Rd) = R(x, d.Rs1) | R(x, d.Rs2); break;
                case Op.And: R(x, d.Rd) = R(x, d.Rs1) & R(x, d.Rs2); break;

                // ---------------------------------------------------------------- M
                case Op.Mul: R(x, d.Rd) = R(x, d.Rs1) * R(x, d.Rs2); break;
                case Op.Mulh: R(x, d.Rd) = (uint)(((long)(int)R(x, d.Rs1) * (int)R(x, d.Rs2)) >> 32); break;
                case Op.Mulhsu: R(x, d.Rd) = (uint)(((long)(int)R(x, d.Rs1) * (long)R(x, d.Rs2)) >> 32); break;
                case Op.Mulhu: R(x, d.Rd) = (uint)(((ulong)R(x, d.Rs1) * R(x, d.Rs2)) >> 32); break;
                case Op.Div:
                {
                    int a = (int)R(x, d.Rs1), b = (int)R(x, d.Rs2);
                    R(x, d.Rd) = b == 0 ? uint.MaxValue : b == -1 ? (uint)(-(long)a) : (uint)(a / b);
                    break;
                }
                case Op.Divu:
                {
                    uint a = R(x, d.Rs1), b = R(x, d.Rs2);
                    R(x, d.Rd) = b == 0 ? uint.MaxValue : a / b;
                    break;
                }
                case Op.Rem:
                {
                    int a = (int)R(x, d.Rs1), b = (int)R(x, d.Rs2);
                    R(x, d.Rd) = b == 0 ? (uint)a : b == -1 ? 0u : (uint)(a % b);
                    break;
                }
                case Op.Remu:
                {
                    uint a = R(x, d.Rs1), b = R(x, d.Rs2);
                    R(x, d.Rd) = b == 0 ? a : a % b;
                    break;
                }

                // ---------------------------------------------------------------- Zbb
                case Op.Andn: R(x, d.Rd) = R(x, d.Rs1) & ~R(x, d.Rs2); break;
                case Op.Orn: R(x, d.Rd) = R(x, d.Rs1) | ~R(x, d.Rs2); break;
                case Op.Xnor: R(x, d.Rd) = ~(R(x, d.Rs1) ^ R(x, d.Rs2)); break;
                case Op.Clz: R(x, d.Rd) = (uint)BitOperations.LeadingZeroCount(R(x, d.Rs1)); break;
                case Op.Ctz: R(x, d.Rd) = (uint)BitOperations.TrailingZeroCount(R(x, d.Rs1)); break;
                case Op.Cpop: R(x, d.Rd) = (uint)BitOperations.PopCount(R(x, d.Rs1)); break;
                case Op.Max: R(x, d.Rd) = (uint)Math.Max((int)R(x, d.Rs1), (int)R(x, d.Rs2)); break;
                case Op.Maxu: R(x, d.Rd) = Math.Max(R(x, d.Rs1), R(x, d.Rs2)); break;
                case Op.Min: R(x, d.Rd) = (uint)Math.Min((int)R(x, d.Rs1), (int)R(x, d.Rs2)); break;
                case Op.Minu: R(x, d.Rd) = Math.Min(R(x, d.Rs1), R(x, d.Rs2)); break;
                case Op.SextB: R(x, d.Rd) = (uint)(sbyte)R(x, d.Rs1); break;
                case Op.SextH: R(x, d.Rd) = (uint)(short)R(x, d.Rs1); break;
                case Op.ZextH: R(x, d.Rd) = (ushort)R(x, d.Rs1); break;
                case Op.Rol: R(x, d.Rd) = BitOperations.RotateLeft(R(x, d.Rs1), (int)(R(x, d.Rs2) & 31)); break;
                case Op.Ror: R(x, d.Rd) = BitOperations.RotateRight(R(x, d.Rs1), (int)(R(x, d.Rs2) & 31)); break;
                case Op.Rori: R(x, d.Rd) = BitOperations.RotateRight(R(x, d.Rs1), d.Imm); break;
                case Op.OrcB:
                {
                    uint v = R(x, d.Rs1), r = 0;
                    for (int i = 0; i < 32; i += 8)
                        if (((v >> i) & 0xFF) != 0) r |= 0xFFu << i;
                    R(x, d.Rd) = r;
                    break;
                }
                case Op.Rev8: R(x, d.Rd) = BinaryPrimitivesReverse(R(x, d.Rs1)); break;

                // ---------------------------------------------------------------- jumps and branches
                case Op.Jal:
                {
                    uint target = pc + (uint)d.Imm;
                    if (!hasC && (target & 2) != 0) { fault = new(TrapCause.InstructionAddressMisaligned, target, Counted: true); goto trap; }
                    R(x, d.Rd) = next;
                    next = target;
                    break;
                }
                case Op.Jalr:
                {
                    uint target = (R(x, d.Rs1) + (uint)d.Imm) & ~1u;
                    if (!hasC && (target & 2) != 0) { fault = new(TrapCause.InstructionAddressMisaligned, target, Counted: true); goto trap; }
                    R(x, d.Rd) = next;
                    next = target;
                    break;
                }
                case Op.Beq: if (R(x, d.Rs1) == R(x, d.Rs2)) next = pc + (uint)d.Imm; break;
                case Op.Bne: if (R(x, d.Rs1) != R(x, d.Rs2)) next = pc + (uint)d.Imm; break;
                case Op.Blt: if ((int)R(x, d.Rs1) < (int)R(x, d.Rs2)) next = pc + (uint)d.Imm; break;
                case Op.Bge: if ((int)R(x, d.Rs1) >= (int)R(x, d.Rs2)) next = pc + (uint)d.Imm; break;
                case Op.Bltu: if (R(x, d.Rs1) < R(x, d.Rs2)) next = pc + (uint)d.Imm; break;
                case Op.Bgeu: if (R(x, d.Rs1) >= R(x, d.Rs2)) next = pc + (uint)d.Imm; break;

                // ---------------------------------------------------------------- loads and stores
                // o: the offset in RAM; Fits checks that the access lies inside (else an access fault).
                case Op.Lb:
                    if (!Fits(R(x, d.Rs1) + (uint)d.Imm, 1, ramOrigin, ramSize, TrapCause.LoadAccessFault, out uint o, out fault)) goto trap;
                    R(x, d.Rd) = (uint)(sbyte)Unsafe.Add(ref mem, o);
                    break;
                case Op.Lbu:
                    if (!Fits(R(x, d.Rs1) + (uint)d.Imm, 1, ramOrigin, ramSize, TrapCause.LoadAccessFault, out o, out fault)) goto trap;
                    R(x, d.Rd) = Unsafe.Add(ref mem, o);
                    break;
                case Op.Lh:
                    if (!Fits(R(x, d.Rs1) + (uint)d.Imm, 2, ramOrigin, ramSize, TrapCause.LoadAccessFault, out o, out fault)) goto trap;
                    R(x, d.Rd) = (uint)Unsafe.ReadUnaligned<short>(ref Unsafe.Add(ref mem, o));
                    break;
                case Op.Lhu:
                    if (!Fits(R(x, d.Rs1) + (uint)d.Imm, 2, ramOrigin, ramSize, TrapCause.LoadAccessFault, out o, out fault)) goto trap;
                    R(x, d.Rd) = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref mem, o));
                    break;
                case Op.Lw:
                    if (!Fits(R(x, d.Rs1) + (uint)d.Imm, 4, ramOrigin, ramSize, TrapCause.LoadAccessFault, out o, out fault)) goto trap;
                    R(x, d.Rd) = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref mem, o));
                    break;
                case Op.Flw:
                    if (!h.Csr.FpEnabled) goto illegal;
                    if (!Fits(R(x, d.Rs1) + (uint)d.Imm, 4, ramOrigin, ramSize, TrapCause.LoadAccessFault, out o, out fault)) goto trap;
                    R(f, d.Rd) = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref mem, o));
                    h.Csr.MarkFpDirty();
                    break;
                case Op.Flh:
                    if (!h.Csr.FpEnabled) goto illegal;
                    if (!Fits(R(x, d.Rs1) + (uint)d.Imm, 2, ramOrigin, ramSize, TrapCause.LoadAccessFault, out o, out fault)) goto trap;
                    R(f, d.Rd) = 0xFFFF0000u | Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref mem, o));
                    h.Csr.MarkFpDirty();
                    break;
                case Op.Sb:
                    if (!Fits(R(x, d.Rs1) + (uint)d.Imm, 1, ramOrigin, ramSize, TrapCause.StoreAccessFault, out o, out fault)) goto trap;
                    Unsafe.Add(ref mem, o) = (byte)R(x, d.Rs2);
                    if (o - watchStart < watchSpan) code.Invalidate(o + ramOrigin, 1);
                    break;
                case Op.Sh:
                    if (!Fits(R(x, d.Rs1) + (uint)d.Imm, 2, ramOrigin, ramSize, TrapCause.StoreAccessFault, out o, out fault)) goto trap;
                    Unsafe.WriteUnaligned(ref Unsafe.Add(ref mem, o), (ushort)R(x, d.Rs2));
                    if (o - watchStart < watchSpan) code.Invalidate(o + ramOrigin, 2);
                    break;
                case Op.Sw:
                    if (!Fits(R(x, d.Rs1) + (uint)d.Imm, 4, ramOrigin, ramSize, TrapCause.StoreAccessFault, out o, out fault)) goto trap;
                    Unsafe.WriteUnaligned(ref Unsafe.Add(ref mem, o), R(x, d.Rs2));
                    if (o - watchStart < watchSpan) code.Invalidate(o + ramOrigin, 4);
                    break;
                case Op.Fsw:
                    if (!h.Csr.FpEnabled) goto illegal;
                    if (!Fits(R(x, d.Rs1) + (uint)d.Imm, 4, ramOrigin, ramSize, TrapCause.StoreAccessFault, out o, out fault)) goto trap;
                    Unsafe.WriteUnaligned(ref Unsafe.Add(ref mem, o), R(f, d.Rs2));
                    if (o - watchStart < watchSpan) code.Invalidate(o + ramOrigin, 4);
                    break;
                case Op.Fsh:
                    if (!h.Csr.FpEnabled) goto illegal;
                    if (!Fits(R(x, d.Rs1) + (uint)d.Imm, 2, ramOrigin, ramSize, TrapCause.StoreAccessFault, out o, out fault)) goto trap;
                    Unsafe.WriteUnaligned(ref Unsafe.Add(ref mem, o), (ushort)R(f, d.Rs2));
                    if (o - watchStart < watchSpan) code.Invalidate(o + ramOrigin, 2);
                    break;

                // ---------------------------------------------------------------- system
                case Op.Fence: break;
                case Op.FenceI: code.Clear(); break;
                case Op.Ecall: fault = new(TrapCause.EnvironmentCallFromM, 0, Counted: true); goto trap;
                case Op.Ebreak:
                {
                    if (d.Length != 4 || !_m.Semihosting.IsCall(pc)) { fault = new(TrapCause.Breakpoint, 0, Counted: true); goto trap; }
                    h.Instret = n;
                    var outcome = _m.Semihosting.Call(x[10], x[11]);
                    if (outcome.Error is { } error) return Stop(StopKind.SemihostingError, 1, pc, n, error);
                    if (outcome.ExitStatus is { } status)
                    {
                        observer.Retired(pc, next, d, h);
                        return Stop(StopKind.Exited, status, next, n + 1, null);
                    }
                    x[10] = outcome.Result;
                    break;
                }
                case Op.Mret: next = h.Csr.ReturnFromTrap(); break;
                case Op.Wfi:
                    return Stop(StopKind.Halted, 124, pc, n,
                        $"wfi at pc 0x{pc:x8}{Where(pc)}: the hart waits for an interrupt, and this machine has no interrupt source");
                case Op.Csrrw or Op.Csrrs or Op.Csrrc or Op.Csrrwi or Op.Csrrsi or Op.Csrrci:
                    h.Instret = n;
                    if (!ExecuteCsr(d)) { fault = Fault.IllegalAtRun(d.Raw); goto trap; }
                    break;

                // ---------------------------------------------------------------- A
                case >= Op.LrW and <= Op.AmomaxuW:
                    if (!Atomic(d, out fault)) goto trap;
                    break;

                case Op.Undecoded:
                    if (!TryDecode(pc, out d, out fault)) goto trap;
                    continue;                                   // execute the freshly decoded slot
                case Op.Illegal:
                    goto illegal;

                default:
                    if (d.Op >= Op.Vsetvli)
                    {
                        if (!_vector.Execute(d, out fault)) goto trap;
                    }
                    else if (!FloatUnit.Execute(h, d, out fault))
                    {
                        goto trap;
                    }
                    break;
            }
            observer.Retired(pc, next, d, h);
            pc = next;
            n++;
            continue;

        illegal:
            fault = Fault.IllegalEncoding(d.Raw);
        trap:
            {
                var stop = TakeTrap(pc, fault, n, d);
                if (stop is not null) return stop;
                pc = _h.Pc;
                n = _h.Instret;
            }
        }
    }

    /// <summary>Whether the <paramref name="size"/>-byte access at <paramref name="address"/> lies in RAM: its offset, or the access fault.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Fits(uint address, uint size, uint ramOrigin, uint ramSize, TrapCause cause, out uint offset, out Fault fault)
    {
        offset = address - ramOrigin;
        fault = default;
        if (offset <= ramSize - size) return true;
        fault = new Fault(cause, address);
        return false;
    }

    private RunOutcome Stop(StopKind kind, int status, uint pc, ulong n, string? report)
    {
        _h.Pc = pc;
        _h.Instret = n;
        return new RunOutcome(kind, status, n, report);
    }

    private static uint BinaryPrimitivesReverse(uint v) => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v);

    /// <summary>Fetches and decodes the instruction at pc; false (with an instruction access fault) if it is not in RAM.</summary>
    private bool TryDecode(uint pc, out Instruction d, out Fault fault)
    {
        var ram = _m.Ram;
        fault = default;
        if (!ram.Contains(pc, 2))
        {
            d = Decoder.Illegal(0, 2);
            fault = new(TrapCause.InstructionAccessFault, pc);
            return false;
        }
        uint low = ram.Read<ushort>(pc);
        if (Decoder.LengthOf(low) == 4)
        {
            if (!ram.Contains(pc + 2, 2))
            {
                d = Decoder.Illegal(low, 2);
                fault = new(TrapCause.InstructionAccessFault, pc + 2);
                return false;
            }
            low |= (uint)ram.Read<ushort>(pc + 2) << 16;
        }
        d = Decoder.Decode(low, _h.Features);
        return true;
    }

    private bool ExecuteCsr(in Instruction d)
    {
        int number = d.Imm & 0xFFF;
        bool immediate = d.Op >= Op.Csrrwi;
        uint source = immediate ? d.Rs1 : _h.X[d.Rs1];
        if (!_h.Csr.TryRead(number, out uint old)) return false;
        bool write = d.Op is Op.Csrrw or Op.Csrrwi || d.Rs1 != 0;
        if (write)
        {
            uint value = d.Op switch
            {
                Op.Csrrw or Op.Csrrwi => source,
                Op.Csrrs or Op.Csrrsi => old | source,
                _ => old & ~source,
            };
            if (!_h.Csr.TryWrite(number, value)) return false;
        }
        _h.X[d.Rd] = old;
        return true;
    }

    /// <summary>
    /// lr.w, sc.w and the AMOs, with QEMU 7.2's exceptions: a misaligned or unmapped LR or AMO raises the load
    /// exceptions (mcause 4 and 5, also for AMOs, where the specification says 6 and 7), and an SC without a matching
    /// reservation fails (rd = 1) without touching memory, so it raises nothing.
    /// </summary>
    private bool Atomic(in Instruction d, out Fault fault)
    {
        var ram = _m.Ram;
        uint a = _h.X[d.Rs1];
        fault = default;
        if (d.Op == Op.ScW)
        {
            bool ok = _h.Reservation == a && ram.Contains(a, 4);
            _h.Reservation = null;
            if (ok) Store(a, _h.X[d.Rs2]);
            _h.X[d.Rd] = ok ? 0u : 1u;
            return true;
        }
        if ((a & 3) != 0) { fault = new(TrapCause.LoadAddressMisaligned, a); return false; }
        if (!ram.Contains(a, 4)) { fault = new(TrapCause.LoadAccessFault, a); return false; }
        uint old = ram.Read<uint>(a);
        if (d.Op == Op.LrW)
        {
            _h.X[d.Rd] = old;
            _h.Reservation = a;
            return true;
        }
        uint src = _h.X[d.Rs2];
        uint value = d.Op switch
        {
            Op.AmoswapW => src,
            Op.AmoaddW => old + src,
            Op.AmoxorW => old ^ src,
            Op.AmoandW => old & src,
            Op.AmoorW => old | src,
            Op.AmominW => (uint)Math.Min((int)old, (int)src),
            Op.AmomaxW => (uint)Math.Max((int)old, (int)src),
            Op.AmominuW => Math.Min(old, src),
            _ => Math.Max(old, src),
        };
        Store(a, value);
        _h.X[d.Rd] = old;
        return true;
    }

    private void Store(uint a, uint value)
    {
        _m.Ram.Write(a, value);
        _m.Code.Invalidate(a, 4);
    }

    /// <summary>
    /// Takes an exception: mepc/mcause/mtval and a jump to mtvec. Returns a stop outcome instead when no handler can
    /// run: mtvec does not point into RAM, or the exception happened at the handler's own first instruction.
    /// </summary>
    private RunOutcome? TakeTrap(uint pc, Fault fault, ulong n, in Instruction d)
    {
        string what = $"{Fault.Describe(fault.Cause)} (mcause {(uint)fault.Cause}) at pc 0x{pc:x8}{Where(pc)}: " +
            (fault.Cause == TrapCause.InstructionAccessFault ? "no instruction" :
                $"instruction 0x{d.Raw.ToString(d.Length == 2 ? "x4" : "x8")} `{Disassembler.Format(d, pc)}`") +
            $", mtval 0x{fault.Value:x8}";
        FirstTrap ??= what;
        uint handler = _h.Csr.TrapVector & ~3u;
        if (!_m.Ram.Contains(handler, 2) || handler == pc)
        {
            string why = handler == pc ? "the trap handler itself faults" : $"mtvec 0x{_h.Csr.TrapVector:x8} holds no trap handler";
            return Stop(StopKind.Trap, 128 + (int)fault.Cause, pc, n, $"{what}; {why}");
        }
        _h.Csr.EnterTrap(pc, (uint)fault.Cause, fault.Value);
        _h.Pc = handler;
        _h.Instret = fault.Counted ? n + 1 : n;
        return null;
    }

    private string Where(uint pc) => _m.Program?.SymbolAt(pc) is { } s ? $" ({s})" : "";
}
