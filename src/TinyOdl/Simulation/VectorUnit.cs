using System.Runtime.CompilerServices;

namespace TinyOdl.Simulation;

/// <summary>
/// RVV 1.0 execution: configuration (vset{i}vl{i}), register-group rules and element access here; loads and
/// stores in VectorMemory.cs, integer/mask/permutation instructions in VectorInteger.cs, floating point (through
/// TinyOdl.Numerics) in VectorFloat.cs.
/// </summary>
/// <remarks>
/// Policies, as QEMU 7.2 runs them: vl = min(AVL, VLMAX); tail and masked-off elements are left undisturbed even
/// when vtype says agnostic (QEMU's default); vstart is honoured as the first element and reset to 0 by every
/// instruction. Register groups must be aligned to their EMUL (else illegal). Overlap rules between source and
/// destination groups are not checked: compilers never emit such reserved encodings. Floating point runs at
/// SEW 16 (Zvfh) and 32; SEW 64 floating point is illegal here (no D extension).
/// </remarks>
internal sealed partial class VectorUnit
{
    private readonly Machine _m;
    private readonly Hart _h;
    private readonly byte[] _v;
    private readonly int _vlenb;

    public VectorUnit(Machine machine)
    {
        _m = machine;
        _h = machine.Hart;
        _v = _h.V;
        _vlenb = _h.Vlenb;
    }

    private int Sew => _h.Vtype.SewBytes;
    private int Lmul => _h.Vtype.LmulEighths;
    private int VlMax => _h.Vtype.VlMax(_h.VlenBits);

    public bool Execute(in Instruction d, out Fault fault)
    {
        fault = default;
        if (!_h.Csr.VectorEnabled) return Illegal(d, out fault);
        bool ok;
        switch (OpInfo.ClassOf(d.Op))
        {
            case InstructionClass.VectorConfig:
                ok = SetVl(d);
                break;
            case InstructionClass.VectorLoad or InstructionClass.VectorStore:
                if (d.Op is not (Op.VlreV or Op.VsrV) && _h.Vtype.Illegal) return Illegal(d, out fault);
                if (!Memory(d, out fault)) return false;
                ok = true;
                break;
            default:
                if (_h.Vtype.Illegal && d.Op != Op.VmvNrV) return Illegal(d, out fault);
                if (d.Op >= Op.Vfadd && _h.Csr.FpEnabled && !FloatUnit.TryRounding(_h, 7, out _))
                {
                    fault = Fault.IllegalAtRun(d.Raw);             // frm reserved: found when the instruction runs
                    return false;
                }
                try
                {
                    ok = d.Op >= Op.Vfadd ? Float(d) : Integer(d);
                }
                catch (Exception e) when (e is IndexOutOfRangeException or ArgumentOutOfRangeException)
                {
                    // A register-group combination the checks above let through but the register file cannot hold:
                    // reserved encoding, so an illegal instruction rather than a crash of the simulator.
                    ok = false;
                }
                break;
        }
        if (!ok) return Illegal(d, out fault);
        _h.Vstart = 0;
        _h.Csr.MarkVectorDirty();
        return true;
    }

    /// <summary>An illegal vector instruction: QEMU finds these when translating (state off, vill, register groups, SEW), so it counts.</summary>
    private static bool Illegal(in Instruction d, out Fault fault)
    {
        fault = Fault.IllegalEncoding(d.Raw);
        return false;
    }

    /// <summary>vsetvli, vsetivli, vsetvl (RVV 1.0 "Configuration-Setting Instructions"; AVL encoding as specified).</summary>
    private bool SetVl(in Instruction d)
    {
        uint[] x = _h.X;
        uint vtype = d.Op == Op.Vsetvl ? x[d.Rs2] : (uint)d.Imm;
        bool rdZero = d.Rd == Instruction.ZeroSink;
        uint avl = d.Op == Op.Vsetivli ? d.Rs1
            : d.Rs1 != 0 ? x[d.Rs1]
            : !rdZero ? uint.MaxValue
            : _h.Vl;
        if (!VectorType.Supported(vtype, _m.Config.ElenBits))
        {
            _h.Vtype = new VectorType(VectorType.IllegalBit);
            _h.Vl = 0;
            x[d.Rd] = 0;
            return true;
        }
        var t = new VectorType(vtype);
        _h.Vtype = t;
        _h.Vl = Math.Min(avl, (uint)t.VlMax(_h.VlenBits));
        x[d.Rd] = _h.Vl;
        return true;
    }

    // ---------------------------------------------------------------- register groups and elements

    /// <summary>Whether register <paramref name="reg"/> can start a group of EMUL = <paramref name="emulEighths"/>/8 (1/8 ≤ EMUL ≤ 8).</summary>
    private static bool Group(int reg, int emulEighths)
    {
        if (emulEighths < 1 || emulEighths > 64) return false;
        int regs = Math.Max(1, emulEighths / 8);
        return reg % regs == 0 && reg + regs <= 32;
    }

    /// <summary>Element <paramref name="i"/> of width <paramref name="eew"/> bytes of the group starting at <paramref name="reg"/>, zero-extended.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Get(int reg, int i, int eew)
    {
        ref byte p = ref _v[reg * _vlenb + i * eew];
        return eew switch
        {
            1 => p,
            2 => Unsafe.ReadUnaligned<ushort>(ref p),
            4 => Unsafe.ReadUnaligned<uint>(ref p),
            _ => Unsafe.ReadUnaligned<ulong>(ref p),
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Set(int reg, int i, int eew, ulong value)
    {
        ref byte p = ref _v[reg * _vlenb + i * eew];
        switch (eew)
        {
            case 1: p = (byte)value; break;
            case 2: Unsafe.WriteUnaligned(ref p, (ushort)value); break;
            case 4: Unsafe.WriteUnaligned(ref p, (uint)value); break;
            default: Unsafe.WriteUnaligned(ref p, value); break;
        }
    }

    /// <summary>Bit <paramref name="i"/> of mask register <paramref name="reg"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool MaskBit(int reg, int i) => (_v[reg * _vlenb + (i >> 3)] >> (i & 7) & 1) != 0;

    private void SetMaskBit(int reg, int i, bool value)
    {
        ref byte b = ref _v[reg * _vlenb + (i >> 3)];
        b = value ? (byte)(b | (1 << (i & 7))) : (byte)(b & ~(1 << (i & 7)));
    }

    /// <summary>Whether element i takes part: unmasked, or v0's bit i is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Active(in Instruction d, int i) => !d.Masked || MaskBit(0, i);

    /// <summary>Sign-extends the low <paramref name="bytes"/> bytes of a value.</summary>
    private static long SignExtend(ulong v, int bytes) => bytes >= 8 ? (long)v : (long)(v << (64 - 8 * bytes)) >> (64 - 8 * bytes);

    private static ulong Truncate(ulong v, int bytes) => bytes >= 8 ? v : v & ((1UL << (8 * bytes)) - 1);
}
