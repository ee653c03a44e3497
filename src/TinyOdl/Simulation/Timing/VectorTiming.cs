namespace TinyOdl.Simulation.Timing;

/// <summary>
/// The vector unit of <see cref="InOrderPipelineModel"/> (an assumption: CV32E40P has no V extension; see
/// docs/CYCLE_MODEL.md). A decoupled coprocessor in the style of Spatz: the scalar core dispatches a vector instruction
/// in one cycle into a queue of <see cref="CycleModelParameters.VectorQueueDepth"/>; three units, load/store,
/// arithmetic (integer, floating point, reductions) and permutation (slides, moves, mask logic), each take their
/// instructions in order, and instructions of different units overlap when no vector register dependency forbids it.
/// </summary>
/// <remarks>
/// An instruction occupies its unit for <em>beats</em> cycles, one element group per cycle, and its result is ready
/// <em>latency</em> cycles after the last beat entered the pipeline:
/// <list type="bullet">
/// <item>arithmetic: ceil(vl / E) beats with E = lanes x lane bits / W, W the widest element the instruction handles
/// (2·SEW for widening and narrowing operations); latency as the scalar FPU's group for FP (add/multiply/FMA or
/// others, by SEW 16 or 32), <see cref="CycleModelParameters.VectorIntLat"/> or
/// <see cref="CycleModelParameters.VectorIntMulLat"/> for integers;</item>
/// <item>divide and square root: iterative, one element per lane at a time: ceil(vl / lanes) x the scalar cycles;</item>
/// <item>unordered reductions: each of the E element slots accumulates its groups (a dependent chain of the add
/// latency) and then a tree of log2 E adds combines them; ordered FP reductions add one element at a time;</item>
/// <item>unit-stride loads and stores: ceil(vl x EEW / (ports x port bytes)) beats; strided and indexed: ceil(vl /
/// ports) x ceil(EEW / port bytes); whole-register: NFIELDS x VLENB bytes; mask loads: ceil(vl / 8) bytes; load
/// latency <see cref="CycleModelParameters.VectorMemoryLat"/>.</item>
/// </list>
/// A vector instruction starts when it is dispatched (plus <see cref="CycleModelParameters.VectorDispatchCycles"/>),
/// its unit is free, its vector sources are ready (no chaining), and earlier readers of its destination have read it.
/// The scalar core stalls on a full queue, on a scalar result of the vector unit (vmv.x.s, vfmv.f.s, vcpop.m,
/// vfirst.m), and with its own loads after vector stores and stores after any vector memory access (memory ordering).
/// </remarks>
internal sealed class VectorTiming
{
    private enum Unit { Memory, Arithmetic, Permute }

    private readonly CycleModelParameters _p;
    private readonly int _vlenBits;
    private readonly long[] _unitFree = new long[3];
    private readonly long[] _ready = new long[32];
    private readonly long[] _readEnd = new long[32];
    private readonly long[] _starts;
    private long _dispatched;

    public VectorTiming(CycleModelParameters p, int vlenBits)
    {
        _p = p;
        _vlenBits = vlenBits;
        _starts = new long[Math.Max(1, p.VectorQueueDepth)];
    }

    /// <summary>The cycle all vector work issued so far is done (results written, units idle).</summary>
    public long DrainedAt { get; private set; }

    /// <summary>When the last vector store (for scalar loads) or any vector memory access (for scalar stores) has finished.</summary>
    public long StoresDoneAt { get; private set; }
    public long MemoryDoneAt { get; private set; }

    /// <summary>Element groups the vector units worked on (for the stall report).</summary>
    public long Beats { get; private set; }

    /// <summary>The earliest cycle the scalar core can dispatch the next vector instruction (the queue has room).</summary>
    public long DispatchAllowedAt => _dispatched < _starts.Length ? 0 : _starts[_dispatched % _starts.Length];

    /// <summary>
    /// Times a vector instruction dispatched by the scalar core at cycle <paramref name="dispatch"/>; returns the cycle
    /// its result is ready (for a scalar destination: when the scalar core may read it).
    /// </summary>
    public long Execute(in RetiredInstruction r, long dispatch)
    {
        ref readonly var d = ref r.Instruction;
        int sew = Math.Max(8, r.Sew), lmul8 = r.LmulEighths;
        uint vl = r.Vl;
        var (unit, beats, latency, write) = Cost(d, sew, vl, lmul8);

        long start = Math.Max(dispatch + _p.VectorDispatchCycles, _unitFree[(int)unit]);
        // Sources (RAW) and the destination (WAW: after the previous value is written; WAR: after earlier readers).
        Span<(int Reg, int Count)> sources = stackalloc (int, int)[4];
        int n = Sources(d, sew, lmul8, sources);
        for (int i = 0; i < n; i++) start = Math.Max(start, ReadyOf(sources[i]));
        if (write.Count > 0)
            for (int v = write.Reg; v < write.Reg + write.Count && v < 32; v++)
                start = Math.Max(start, Math.Max(_ready[v] - latency, _readEnd[v]));

        long lastBeat = start + beats - 1;
        long ready = lastBeat + latency;
        _unitFree[(int)unit] = start + beats;
        for (int i = 0; i < n; i++)
            for (int v = sources[i].Reg; v < sources[i].Reg + sources[i].Count && v < 32; v++)
                _readEnd[v] = Math.Max(_readEnd[v], lastBeat);
        for (int v = write.Reg; v < write.Reg + write.Count && v < 32; v++)
            _ready[v] = ready;
        if (unit == Unit.Memory)
        {
            MemoryDoneAt = Math.Max(MemoryDoneAt, start + beats);
            if (r.Class == InstructionClass.VectorStore) StoresDoneAt = Math.Max(StoresDoneAt, start + beats);
        }
        _starts[_dispatched % _starts.Length] = start;
        _dispatched++;
        Beats += beats;
        DrainedAt = Math.Max(DrainedAt, Math.Max(ready, start + beats));
        return ready;
    }

    private long ReadyOf((int Reg, int Count) group)
    {
        long t = 0;
        for (int v = group.Reg; v < group.Reg + group.Count && v < 32; v++) t = Math.Max(t, _ready[v]);
        return t;
    }

    /// <summary>Registers in a group of EMUL = LMUL x <paramref name="widthBits"/> / SEW (at least one).</summary>
    private static int Group(int lmul8, int widthBits, int sew) => Math.Max(1, lmul8 * widthBits / (8 * sew));

    private static long Ceil(long a, long b) => (a + b - 1) / b;

    private static bool Widening(Op op) =>
        op is >= Op.Vwaddu and <= Op.Vwmaccsu or >= Op.Vfwadd and <= Op.Vfwnmsac or >= Op.VfwcvtXuFV and <= Op.VfwcvtRtzXFV
            or Op.Vwredsumu or Op.Vwredsum or Op.Vfwredusum or Op.Vfwredosum;

    private static bool Narrowing(Op op) => op is Op.Vnsrl or Op.Vnsra or >= Op.VfncvtXuFW and <= Op.VfncvtRtzXFW;

    /// <summary>Operations whose destination is one mask register.</summary>
    private static bool MaskResult(Op op) =>
        op is >= Op.Vmseq and <= Op.Vmsgt or Op.Vmadc or Op.Vmsbc or >= Op.Vmfeq and <= Op.Vmfge
            or >= Op.VmandnMm and <= Op.VmxnorMm or >= Op.VmsbfM and <= Op.VmsifM;

    /// <summary>Multiply-adds read their destination.</summary>
    private static bool Accumulates(Op op) =>
        op is >= Op.Vmadd and <= Op.Vnmsac or >= Op.Vwmaccu and <= Op.Vwmaccsu or >= Op.Vfmadd and <= Op.Vfnmsac
            or >= Op.Vfwmacc and <= Op.Vfwnmsac;

    private static bool FpAddMulGroup(Op op) =>
        op is Op.Vfadd or Op.Vfsub or Op.Vfrsub or Op.Vfmul or >= Op.Vfwadd and <= Op.VfwsubW or Op.Vfwmul;

    /// <summary>Unit, beats, result latency and destination group of an instruction.</summary>
    private (Unit Unit, long Beats, int Latency, (int Reg, int Count) Write) Cost(in Instruction d, int sew, uint vl, int lmul8)
    {
        var op = d.Op;
        var cls = d.Class;
        int lanes = _p.VectorLanes, vlenb = _vlenBits / 8;
        int width = Widening(op) || Narrowing(op) ? 2 * sew : sew;
        long groups = Math.Max(1, Ceil(vl, _p.VectorElementsPerCycle(width)));
        bool half = sew == 16;
        int fpAdd = _p.FpAddMulLatency(half);
        switch (cls)
        {
            case InstructionClass.VectorLoad or InstructionClass.VectorStore:
            {
                bool load = cls == InstructionClass.VectorLoad;
                int eew = d.Width * 8;
                bool indexed = op is Op.VluxeiV or Op.VloxeiV or Op.VsuxeiV or Op.VsoxeiV;
                int dataBits = indexed ? sew : eew;
                long beats;
                int count;
                switch (op)
                {
                    case Op.VlreV or Op.VsrV:
                        count = Math.Max(1, d.Imm);
                        beats = Ceil((long)count * vlenb, _p.VectorMemoryPorts * _p.VectorPortBytes);
                        break;
                    case Op.VlmV or Op.VsmV:
                        count = 1;
                        beats = Ceil(Ceil(vl, 8), _p.VectorMemoryPorts * _p.VectorPortBytes);
                        break;
                    case Op.VlseV or Op.VsseV or Op.VluxeiV or Op.VloxeiV or Op.VsuxeiV or Op.VsoxeiV:
                        count = Group(lmul8, dataBits, sew);
                        beats = Ceil(vl, _p.VectorMemoryPorts) * Ceil(dataBits / 8, _p.VectorPortBytes);
                        break;
                    default:
                        count = Group(lmul8, dataBits, sew);
                        beats = Ceil(vl * (long)(dataBits / 8), _p.VectorMemoryPorts * _p.VectorPortBytes);
                        break;
                }
                return (Unit.Memory, Math.Max(1, beats), load ? _p.VectorMemoryLat : 1, load ? (d.Rd, count) : (0, 0));
            }
            case InstructionClass.VectorFpDivide:
                return (Unit.Arithmetic, Math.Max(1, Ceil(vl, lanes)) * _p.FpDivSqrt(half), 1, (d.Rd, Group(lmul8, sew, sew)));
            case InstructionClass.VectorIntegerDivide:
                return (Unit.Arithmetic, Math.Max(1, Ceil(vl, lanes)) * _p.DivCycles, 1, (d.Rd, Group(lmul8, sew, sew)));
            case InstructionClass.VectorReduction:
            {
                bool ordered = op is Op.Vfredosum or Op.Vfwredosum;
                bool fp = op >= Op.Vfredusum;
                int add = fp ? (op is Op.Vfredmin or Op.Vfredmax ? _p.FpOtherLatency(half) : fpAdd) : Math.Max(1, _p.VectorIntLat);
                int slots = (int)Math.Min(Math.Max(1, vl), _p.VectorElementsPerCycle(width));
                long beats = ordered ? Math.Max(1, vl) * add : groups * add + (long)Math.Ceiling(Math.Log2(slots)) * add;
                return (Unit.Arithmetic, beats, 1, (d.Rd, 1));
            }
            case InstructionClass.VectorPermute:
            {
                long beats = op switch
                {
                    Op.VmvNrV => Ceil((long)(d.Imm + 1) * _vlenBits, (long)lanes * _p.VectorLaneBits),
                    Op.VmvXS or Op.VmvSX or Op.VfmvFS or Op.VfmvSF or Op.VcpopM or Op.VfirstM => 1,
                    >= Op.VmandnMm and <= Op.VmxnorMm or >= Op.VmsbfM and <= Op.VmsifM => Math.Max(1, Ceil(vl, (long)lanes * _p.VectorLaneBits)),
                    _ => groups,
                };
                int count = op switch
                {
                    Op.VmvNrV => d.Imm + 1,
                    Op.VmvSX or Op.VfmvSF => 1,
                    Op.VmvXS or Op.VfmvFS or Op.VcpopM or Op.VfirstM => 0,
                    _ when MaskResult(op) => 1,
                    _ => Group(lmul8, sew, sew),
                };
                return (Unit.Permute, beats, Math.Max(1, _p.VectorIntLat), (d.Rd, count));
            }
            default:
            {
                int latency = cls switch
                {
                    InstructionClass.VectorFpFusedMultiplyAdd => fpAdd,
                    InstructionClass.VectorFp => FpAddMulGroup(op) ? fpAdd : _p.FpOtherLatency(half),
                    InstructionClass.VectorIntegerMultiply => Math.Max(1, _p.VectorIntMulLat),
                    _ => Math.Max(1, _p.VectorIntLat),
                };
                int count = MaskResult(op) ? 1 : Group(lmul8, Widening(op) ? 2 * sew : sew, sew);
                return (Unit.Arithmetic, groups, latency, (d.Rd, count));
            }
        }
    }

    /// <summary>The vector register groups an instruction reads; returns how many it wrote into <paramref name="into"/>.</summary>
    private static int Sources(in Instruction d, int sew, int lmul8, Span<(int Reg, int Count)> into)
    {
        var op = d.Op;
        int n = 0;
        if (d.Masked) into[n++] = (0, 1);
        switch (d.Class)
        {
            case InstructionClass.VectorLoad:
                if (op is Op.VluxeiV or Op.VloxeiV) into[n++] = (d.Rs2, Group(lmul8, d.Width * 8, sew));
                return n;
            case InstructionClass.VectorStore:
            {
                bool indexed = op is Op.VsuxeiV or Op.VsoxeiV;
                int data = op switch
                {
                    Op.VsrV => Math.Max(1, d.Imm),
                    Op.VsmV => 1,
                    _ => Group(lmul8, indexed ? sew : d.Width * 8, sew),
                };
                into[n++] = (d.Rd, data);
                if (indexed) into[n++] = (d.Rs2, Group(lmul8, d.Width * 8, sew));
                return n;
            }
        }
        bool wide2 = Narrowing(op) || op is Op.VwadduW or Op.VwaddW or Op.VwsubuW or Op.VwsubW or Op.VfwaddW or Op.VfwsubW;
        int group = Group(lmul8, sew, sew);
        switch (op)
        {
            case Op.VmvSX or Op.VfmvSF or Op.VfmvVF or Op.VidV:
                return n;
            case Op.VmvXS or Op.VfmvFS:
                into[n++] = (d.Rs2, 1);
                return n;
            case Op.VcpopM or Op.VfirstM or Op.ViotaM or >= Op.VmsbfM and <= Op.VmsifM:
                into[n++] = (d.Rs2, 1);
                return n;
            case Op.VmvNrV:
                into[n++] = (d.Rs2, d.Imm + 1);
                return n;
            case Op.Vmv:
                if (d.Form == VectorForm.VV) into[n++] = (d.Rs1, group);
                return n;
            case Op.VzextVf2 or Op.VsextVf2:
                into[n++] = (d.Rs2, Math.Max(1, group / 2));
                return n;
            case Op.VzextVf4 or Op.VsextVf4:
                into[n++] = (d.Rs2, Math.Max(1, group / 4));
                return n;
        }
        bool maskOperands = d.Form == VectorForm.MM;
        into[n++] = (d.Rs2, maskOperands ? 1 : wide2 ? Group(lmul8, 2 * sew, sew) : group);
        if (d.Form is VectorForm.VV or VectorForm.WV or VectorForm.MM || op == Op.VcompressVm)
            into[n++] = (d.Rs1, maskOperands || op == Op.VcompressVm ? 1 : group);
        else if (d.Form == VectorForm.VS)
            into[n++] = (d.Rs1, 1);
        if (Accumulates(op)) into[n++] = (d.Rd, Group(lmul8, Widening(op) ? 2 * sew : sew, sew));
        return n;
    }
}
