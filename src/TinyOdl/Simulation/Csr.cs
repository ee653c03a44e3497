using System.Globalization;
using TinyOdl.Numerics;

namespace TinyOdl.Simulation;

/// <summary>
/// The control and status registers of a machine-mode-only hart: the floating-point and vector CSRs, the
/// counters (cycle, instret, hpmcounter3..31 and their machine aliases and high halves), and the machine trap
/// setup and handling registers. Numbers and fields: The RISC-V Instruction Set Manual, Volume II (Machine-Level
/// CSRs), "Zicntr"/"Zihpm", and RVV 1.0 "Vector Extension Programmer's Model".
/// </summary>
/// <remarks>
/// There is no timing model, so mcycle counts retired instructions like minstret, as under QEMU's
/// <c>-icount shift=0</c>. A counter read returns the instructions retired before the reading instruction; a write
/// sets the value that instruction leaves behind (the next one reads it plus one), as QEMU does. mhpmcounter3..31
/// count nothing (their events are not implemented) and keep what is written. <c>time</c> is not modelled (illegal).
/// mstatus keeps MIE, MPIE, FS, VS (each only with its extension) and SD; MPP reads as M.
/// </remarks>
public sealed class Csr
{
    public const int Fflags = 0x001, Frm = 0x002, Fcsr = 0x003;
    public const int Vstart = 0x008, Vxsat = 0x009, Vxrm = 0x00A, Vcsr = 0x00F, Vl = 0xC20, Vtype = 0xC21, Vlenb = 0xC22;
    public const int Cycle = 0xC00, Time = 0xC01, Instret = 0xC02, Cycleh = 0xC80, Instreth = 0xC82;
    public const int Mstatus = 0x300, Misa = 0x301, Medeleg = 0x302, Mideleg = 0x303, Mie = 0x304, Mtvec = 0x305, Mcounteren = 0x306;
    public const int Mstatush = 0x310, Mcountinhibit = 0x320, Mscratch = 0x340, Mepc = 0x341, Mcause = 0x342, Mtval = 0x343, Mip = 0x344;
    public const int Mcycle = 0xB00, Minstret = 0xB02, Mcycleh = 0xB80, Minstreth = 0xB82;
    public const int Mvendorid = 0xF11, Marchid = 0xF12, Mimpid = 0xF13, Mhartid = 0xF14, Mconfigptr = 0xF15;

    public const uint MstatusMie = 1u << 3, MstatusMpie = 1u << 7, MstatusMpp = 3u << 11;
    public const uint MstatusVs = 3u << 9, MstatusFs = 3u << 13, MstatusSd = 1u << 31;

    private readonly Hart _hart;
    private uint _mstatus, _mtvec, _mepc, _mcause, _mtval, _mscratch, _mie, _medeleg, _mideleg, _mcounteren, _mcountinhibit;
    private uint _vxsat, _vxrm;
    private readonly Dictionary<int, uint> _plain = new();    // pmp*, mhpmevent*, mhpmcounter* (count nothing)
    private Counter _cycle, _instret;

    public Csr(Hart hart) => _hart = hart;

    /// <summary>A 64-bit counter that follows the retired-instruction count from the last write on.</summary>
    private struct Counter
    {
        public ulong Value, Since;
        public readonly ulong Read(ulong instret, bool inhibited) => inhibited ? Value : Value + (instret - Since);
    }

    /// <summary>The trap vector (mtvec) as last written.</summary>
    public uint TrapVector => _mtvec;

    public bool FpEnabled => (_mstatus & MstatusFs) != 0;
    public bool VectorEnabled => (_mstatus & MstatusVs) != 0;
    public void MarkFpDirty() => _mstatus |= MstatusFs;
    public void MarkVectorDirty() => _mstatus |= MstatusVs;

    private uint Status()
    {
        uint s = _mstatus | MstatusMpp;
        if ((s & MstatusFs) == MstatusFs || (s & MstatusVs) == MstatusVs) s |= MstatusSd;
        return s;
    }

    /// <summary>Trap entry (exceptions only: this machine raises no interrupts): mepc, mcause, mtval, MPIE ← MIE, MIE ← 0.</summary>
    public void EnterTrap(uint pc, uint cause, uint tval)
    {
        _mepc = pc;
        _mcause = cause;
        _mtval = tval;
        _mstatus = (_mstatus & ~(MstatusMie | MstatusMpie)) | ((_mstatus & MstatusMie) != 0 ? MstatusMpie : 0);
    }

    /// <summary>mret: MIE ← MPIE, MPIE ← 1; returns mepc.</summary>
    public uint ReturnFromTrap()
    {
        _mstatus = (_mstatus & ~MstatusMie) | ((_mstatus & MstatusMpie) != 0 ? MstatusMie : 0) | MstatusMpie;
        return _mepc;
    }

    private bool Has(IsaFeatures f) => _hart.Features.HasFlag(f);

    /// <summary>Reads a CSR; false if it does not exist or is not accessible now (illegal instruction).</summary>
    public bool TryRead(int number, out uint value)
    {
        value = 0;
        ulong instret = _hart.Instret;
        bool inhibitCycle = (_mcountinhibit & 1) != 0, inhibitInstret = (_mcountinhibit & 4) != 0;
        switch (number)
        {
            case Fflags or Frm or Fcsr:
                if (!Has(IsaFeatures.F) || !FpEnabled) return false;
                value = number switch { Fflags => (uint)_hart.Fflags, Frm => _hart.Frm, _ => _hart.Frm << 5 | (uint)_hart.Fflags };
                return true;
            case Vstart or Vxsat or Vxrm or Vcsr or Vl or Vtype or Vlenb:
                if (!Has(IsaFeatures.V) || !VectorEnabled) return false;
                value = number switch
                {
                    Vstart => _hart.Vstart,
                    Vxsat => _vxsat,
                    Vxrm => _vxrm,
                    Vcsr => _vxrm << 1 | _vxsat,
                    Vl => _hart.Vl,
                    Vtype => _hart.Vtype.Bits,
                    _ => (uint)_hart.Vlenb,
                };
                return true;
            case Cycle or Mcycle: value = (uint)_cycle.Read(instret, inhibitCycle); return true;
            case Cycleh or Mcycleh: value = (uint)(_cycle.Read(instret, inhibitCycle) >> 32); return true;
            case Instret or Minstret: value = (uint)_instret.Read(instret, inhibitInstret); return true;
            case Instreth or Minstreth: value = (uint)(_instret.Read(instret, inhibitInstret) >> 32); return true;
            case >= 0xC03 and <= 0xC1F or >= 0xC83 and <= 0xC9F:
                value = _plain.GetValueOrDefault(number - 0xC00 + 0xB00);
                return true;
            case Mstatus: value = Status(); return true;
            case Misa: value = _hart.Features.Misa(); return true;
            case Medeleg: value = _medeleg; return true;
            case Mideleg: value = _mideleg; return true;
            case Mie: value = _mie; return true;
            case Mtvec: value = _mtvec; return true;
            case Mcounteren: value = _mcounteren; return true;
            case Mstatush: return true;
            case Mcountinhibit: value = _mcountinhibit; return true;
            case Mscratch: value = _mscratch; return true;
            case Mepc: value = _mepc; return true;
            case Mcause: value = _mcause; return true;
            case Mtval: value = _mtval; return true;
            case Mip: return true;                                 // no interrupt is ever pending
            case Mvendorid or Marchid or Mimpid or Mhartid or Mconfigptr: return true;
            case >= 0x3A0 and <= 0x3A3 or >= 0x3B0 and <= 0x3BF or >= 0x323 and <= 0x33F or >= 0xB03 and <= 0xB1F or >= 0xB83 and <= 0xB9F:
                value = _plain.GetValueOrDefault(number);
                return true;
            default: return false;
        }
    }

    /// <summary>Writes a CSR (it was read successfully); false if it is read-only (illegal instruction).</summary>
    public bool TryWrite(int number, uint value)
    {
        if ((number >> 10) == 3) return false;                 // read-only by number (0xC00-0xFFF)
        ulong instret = _hart.Instret;
        switch (number)
        {
            case Fflags: _hart.Fflags = (ExceptionFlags)(value & 0x1F); MarkFpDirty(); return true;
            case Frm: _hart.Frm = value & 7; MarkFpDirty(); return true;
            case Fcsr: _hart.Fflags = (ExceptionFlags)(value & 0x1F); _hart.Frm = (value >> 5) & 7; MarkFpDirty(); return true;
            case Vstart: _hart.Vstart = value & (uint)(_hart.VlenBits - 1); MarkVectorDirty(); return true;
            case Vxsat: _vxsat = value & 1; MarkVectorDirty(); return true;
            case Vxrm: _vxrm = value & 3; MarkVectorDirty(); return true;
            case Vcsr: _vxsat = value & 1; _vxrm = (value >> 1) & 3; MarkVectorDirty(); return true;
            case Mcycle: SetLow(ref _cycle, instret, (_mcountinhibit & 1) != 0, value); return true;
            case Mcycleh: SetHigh(ref _cycle, instret, (_mcountinhibit & 1) != 0, value); return true;
            case Minstret: SetLow(ref _instret, instret, (_mcountinhibit & 4) != 0, value); return true;
            case Minstreth: SetHigh(ref _instret, instret, (_mcountinhibit & 4) != 0, value); return true;
            case Mstatus:
            {
                uint writable = MstatusMie | MstatusMpie;
                if (Has(IsaFeatures.F)) writable |= MstatusFs;
                if (Has(IsaFeatures.V)) writable |= MstatusVs;
                _mstatus = (_mstatus & ~writable) | (value & writable);
                return true;
            }
            case Misa or Mstatush: return true;                 // WARL, fixed
            case Medeleg: _medeleg = value; return true;
            case Mideleg: _mideleg = value; return true;
            case Mie: _mie = value; return true;
            case Mtvec:
                if ((value & 3) < 2) _mtvec = value;               // direct or vectored; other modes ignored (as QEMU)
                return true;
            case Mcounteren: _mcounteren = value; return true;
            case Mcountinhibit:
            {
                // Freeze or restart cycle (bit 0) and instret (bit 2) at their current values.
                _cycle = Restart(_cycle, instret, (_mcountinhibit & 1) != 0);
                _instret = Restart(_instret, instret, (_mcountinhibit & 4) != 0);
                _mcountinhibit = value & ~2u;
                return true;
            }
            case Mscratch: _mscratch = value; return true;
            case Mepc: _mepc = value & (Has(IsaFeatures.C) ? ~1u : ~3u); return true;
            case Mcause: _mcause = value; return true;
            case Mtval: _mtval = value; return true;
            case Mip: return true;                                // no writable interrupt-pending bits
            default:
                _plain[number] = value;
                return true;
        }
    }

    private static Counter Restart(Counter c, ulong instret, bool inhibited) => new() { Value = c.Read(instret, inhibited), Since = instret };

    private static void SetLow(ref Counter c, ulong instret, bool inhibited, uint value)
    {
        ulong now = c.Read(instret, inhibited);
        c = new Counter { Value = (now & 0xFFFFFFFF00000000UL) | value, Since = instret };
    }

    private static void SetHigh(ref Counter c, ulong instret, bool inhibited, uint value)
    {
        ulong now = c.Read(instret, inhibited);
        c = new Counter { Value = (now & 0xFFFFFFFFUL) | ((ulong)value << 32), Since = instret };
    }

    private static readonly Dictionary<int, string> Names = new()
    {
        [Fflags] = "fflags", [Frm] = "frm", [Fcsr] = "fcsr", [Vstart] = "vstart", [Vxsat] = "vxsat", [Vxrm] = "vxrm", [Vcsr] = "vcsr",
        [Vl] = "vl", [Vtype] = "vtype", [Vlenb] = "vlenb", [Cycle] = "cycle", [Time] = "time", [Instret] = "instret",
        [Cycleh] = "cycleh", [Instreth] = "instreth", [Mstatus] = "mstatus", [Misa] = "misa", [Medeleg] = "medeleg",
        [Mideleg] = "mideleg", [Mie] = "mie", [Mtvec] = "mtvec", [Mcounteren] = "mcounteren", [Mstatush] = "mstatush",
        [Mcountinhibit] = "mcountinhibit", [Mscratch] = "mscratch", [Mepc] = "mepc", [Mcause] = "mcause", [Mtval] = "mtval",
        [Mip] = "mip", [Mcycle] = "mcycle", [Minstret] = "minstret", [Mcycleh] = "mcycleh", [Minstreth] = "minstreth",
        [Mvendorid] = "mvendorid", [Marchid] = "marchid", [Mimpid] = "mimpid", [Mhartid] = "mhartid", [Mconfigptr] = "mconfigptr",
    };

    /// <summary>The CSR's name, or its number in hexadecimal.</summary>
    public static string Name(int number) => Names.TryGetValue(number, out var n) ? n : number switch
    {
        >= 0xB03 and <= 0xB1F => $"mhpmcounter{number - 0xB00}",
        >= 0xB83 and <= 0xB9F => $"mhpmcounter{number - 0xB80}h",
        >= 0xC03 and <= 0xC1F => $"hpmcounter{number - 0xC00}",
        >= 0xC83 and <= 0xC9F => $"hpmcounter{number - 0xC80}h",
        >= 0x323 and <= 0x33F => $"mhpmevent{number - 0x320}",
        _ => "0x" + number.ToString("x3", CultureInfo.InvariantCulture),
    };
}
