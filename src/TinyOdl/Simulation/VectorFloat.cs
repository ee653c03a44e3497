using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TinyOdl.Numerics;

namespace TinyOdl.Simulation;

/// <summary>
/// Vector floating-point instructions (RVV 1.0 "Vector Floating-Point Instructions", "Vector Reduction
/// Operations", Zvfh for SEW 16). Every lane is the scalar operation of <see cref="Binary16"/> / <see cref="Binary32"/>
/// in the dynamic rounding mode (frm), flags ORed over the lanes into fflags; widening operations convert binary16
/// operands exactly with <see cref="Binary16.ToSingle(ushort, ref ExceptionFlags)"/> (an sNaN raises NV there) and
/// compute in binary32; reductions add sequentially in element order, also the "unordered" ones, as QEMU 7.2 does.
/// </summary>
internal sealed partial class VectorUnit
{
    private bool FloatSew(int bytes) => bytes == 4 || (bytes == 2 && _h.Features.HasFlag(IsaFeatures.Zvfh));

    /// <summary>The scalar operand f[rs1] as a SEW-wide value (binary16 unboxed: an improper box reads as the canonical NaN).</summary>
    private ulong ScalarF(int r, int sew) => sew == 2 ? _h.Half(r) : _h.F[r];

    private bool Float(in Instruction d)
    {
        if (!_h.Csr.FpEnabled || !FloatUnit.TryRounding(_h, 7, out var rm)) return false;
        var flags = _h.Fflags;
        bool ok = d.Op switch
        {
            Op.VfmvFS or Op.VfmvSF or Op.Vfslide1up or Op.Vfslide1down => FloatMove(d),
            >= Op.Vfredusum and <= Op.Vfwredosum => FloatReduce(d, rm, ref flags),
            >= Op.VfcvtXuFV and <= Op.VfncvtRtzXFW => Convert(d, rm, ref flags),
            >= Op.Vfwadd and <= Op.Vfwnmsac => FloatWidening(d, rm, ref flags),
            _ => FloatSingleWidth(d, rm, ref flags),
        };
        if (!ok) return false;
        _h.Fflags = flags;
        _h.Csr.MarkFpDirty();
        return true;
    }

    private bool FloatSingleWidth(in Instruction d, RoundingMode rm, ref ExceptionFlags flags)
    {
        var op = d.Op;
        int sew = Sew, vl = (int)_h.Vl, lmul = Lmul;
        bool compare = op is >= Op.Vmfeq and <= Op.Vmfge;          // one mask register as destination
        if (!FloatSew(sew) || (!compare && !Group(d.Rd, lmul)) || !Group(d.Rs2, lmul) || (d.Form == VectorForm.VV && !Group(d.Rs1, lmul)))
            return false;
        ulong scalar = d.Form == VectorForm.VF || op == Op.VfmvVF ? ScalarF(d.Rs1, sew) : 0;
        if (op is >= Op.Vfmadd and <= Op.Vfnmsac)
        {
            if (sew == 2) MultiplyAddLanes<ushort, Half>(d, (ushort)scalar, rm, ref flags);
            else MultiplyAddLanes<uint, Single>(d, (uint)scalar, rm, ref flags);
            return true;
        }
        if (op is >= Op.Vfadd and <= Op.Vfsgnjx or >= Op.Vfmul and <= Op.Vfrdiv)
        {
            if (sew == 2) ArithmeticLanes<ushort, Half>(d, (ushort)scalar, rm, ref flags);
            else ArithmeticLanes<uint, Single>(d, (uint)scalar, rm, ref flags);
            return true;
        }
        for (int i = (int)_h.Vstart; i < vl; i++)
        {
            if (op != Op.Vfmerge && !Active(d, i)) continue;
            ulong a = Get(d.Rs2, i, sew), b = d.Form == VectorForm.VV ? Get(d.Rs1, i, sew) : scalar;
            if (compare)
            {
                SetMaskBit(d.Rd, i, Compare(op, a, b, sew, ref flags));
                continue;
            }
            ulong r = op switch
            {
                Op.Vfmerge => MaskBit(0, i) ? b : a,
                Op.VfmvVF => scalar,
                Op.VfsqrtV => sew == 2 ? Binary16.Sqrt((ushort)a, ref flags, rm) : Binary32.Sqrt((uint)a, ref flags, rm),
                Op.VfclassV => sew == 2 ? FloatComparison.Classify((ushort)a) : FloatComparison.Classify((uint)a),
                _ => sew == 2 ? Arithmetic16(op, (ushort)a, (ushort)b, rm, ref flags) : Arithmetic32(op, (uint)a, (uint)b, rm, ref flags),
            };
            Set(d.Rd, i, sew, r);
        }
        return true;
    }

    /// <summary>The elements [0, vl) of the register group at <paramref name="reg"/> as <typeparamref name="T"/> (the group is checked).</summary>
    private Span<T> Lanes<T>(int reg) where T : unmanaged =>
        MemoryMarshal.Cast<byte, T>(_v.AsSpan(reg * _vlenb, (int)_h.Vl * Unsafe.SizeOf<T>()));

    /// <summary>The operand roles of the vfmacc family: which operand the product takes from vd, and the two negations.</summary>
    private static (bool FromVd, bool NegateProduct, bool NegateAddend) MultiplyAddForm(Op op) => (
        op is Op.Vfmadd or Op.Vfnmadd or Op.Vfmsub or Op.Vfnmsub,
        op is Op.Vfnmacc or Op.Vfnmsac or Op.Vfnmadd or Op.Vfnmsub,
        op is Op.Vfnmacc or Op.Vfmsac or Op.Vfnmadd or Op.Vfmsub);

    /// <summary>A lane format: the arithmetic of one element width (binary16 or binary32) for the typed loops.</summary>
    private interface ILane<T> where T : unmanaged
    {
        static abstract T FusedMultiplyAdd(T a, T b, T c, bool negateProduct, bool negateAddend, ref ExceptionFlags flags, RoundingMode rm);
        static abstract T Arithmetic(Op op, T a, T b, RoundingMode rm, ref ExceptionFlags flags);
    }

    private readonly struct Half : ILane<ushort>
    {
        public static ushort FusedMultiplyAdd(ushort a, ushort b, ushort c, bool negateProduct, bool negateAddend, ref ExceptionFlags flags, RoundingMode rm) =>
            Binary16.FusedMultiplyAdd(a, b, c, negateProduct, negateAddend, ref flags, rm);
        public static ushort Arithmetic(Op op, ushort a, ushort b, RoundingMode rm, ref ExceptionFlags flags) => Arithmetic16(op, a, b, rm, ref flags);
    }

    private readonly struct Single : ILane<uint>
    {
        public static uint FusedMultiplyAdd(uint a, uint b, uint c, bool negateProduct, bool negateAddend, ref ExceptionFlags flags, RoundingMode rm) =>
            Binary32.FusedMultiplyAdd(a, b, c, negateProduct, negateAddend, ref flags, rm);
        public static uint Arithmetic(Op op, uint a, uint b, RoundingMode rm, ref ExceptionFlags flags) => Arithmetic32(op, a, b, rm, ref flags);
    }

    /// <summary>
    /// vfmacc family with a = vs2[i], b = vs1[i] or f[rs1], c = vd[i]: the *acc/*sac forms compute ±(b·a) ± c,
    /// the *add/*sub forms ±(b·c) ± a. The hot loop of the FP16 kernels, so it works on typed lanes.
    /// </summary>
    private void MultiplyAddLanes<T, L>(in Instruction d, T scalar, RoundingMode rm, ref ExceptionFlags flags) where T : unmanaged where L : ILane<T>
    {
        var (fromVd, negP, negA) = MultiplyAddForm(d.Op);
        Span<T> vd = Lanes<T>(d.Rd), vs2 = Lanes<T>(d.Rs2);
        Span<T> vs1 = d.Form == VectorForm.VV ? Lanes<T>(d.Rs1) : default;
        bool vector = d.Form == VectorForm.VV, masked = d.Masked;
        for (int i = (int)_h.Vstart; i < vd.Length; i++)
        {
            if (masked && !MaskBit(0, i)) continue;
            T b = vector ? vs1[i] : scalar;
            vd[i] = fromVd
                ? L.FusedMultiplyAdd(b, vd[i], vs2[i], negP, negA, ref flags, rm)
                : L.FusedMultiplyAdd(b, vs2[i], vd[i], negP, negA, ref flags, rm);
        }
    }

    /// <summary>vfadd … vfsgnjx, vfmul, vfdiv, vfrdiv, vfrsub on typed lanes: vd[i] = op(vs2[i], vs1[i] or f[rs1]).</summary>
    private void ArithmeticLanes<T, L>(in Instruction d, T scalar, RoundingMode rm, ref ExceptionFlags flags) where T : unmanaged where L : ILane<T>
    {
        Span<T> vd = Lanes<T>(d.Rd), vs2 = Lanes<T>(d.Rs2);
        Span<T> vs1 = d.Form == VectorForm.VV ? Lanes<T>(d.Rs1) : default;
        bool vector = d.Form == VectorForm.VV, masked = d.Masked;
        for (int i = (int)_h.Vstart; i < vd.Length; i++)
            if (!masked || MaskBit(0, i)) vd[i] = L.Arithmetic(d.Op, vs2[i], vector ? vs1[i] : scalar, rm, ref flags);
    }

    /// <summary>Element op of vfadd … vfsgnjx with a = vs2[i] and b = vs1[i] or f[rs1].</summary>
    private static ushort Arithmetic16(Op op, ushort a, ushort b, RoundingMode rm, ref ExceptionFlags flags) => op switch
    {
        Op.Vfadd => Binary16.Add(a, b, ref flags, rm),
        Op.Vfsub => Binary16.Sub(a, b, ref flags, rm),
        Op.Vfrsub => Binary16.Sub(b, a, ref flags, rm),
        Op.Vfmul => Binary16.Mul(a, b, ref flags, rm),
        Op.Vfdiv => Binary16.Div(a, b, ref flags, rm),
        Op.Vfrdiv => Binary16.Div(b, a, ref flags, rm),
        Op.Vfmin => Binary16.Min(a, b, ref flags),
        Op.Vfmax => Binary16.Max(a, b, ref flags),
        Op.Vfsgnj => (ushort)((a & 0x7FFF) | (b & 0x8000)),
        Op.Vfsgnjn => (ushort)((a & 0x7FFF) | (~b & 0x8000)),
        Op.Vfsgnjx => (ushort)(a ^ (b & 0x8000)),
        _ => throw new InvalidOperationException($"vector operation {op} not handled"),
    };

    private static uint Arithmetic32(Op op, uint a, uint b, RoundingMode rm, ref ExceptionFlags flags) => op switch
    {
        Op.Vfadd => Binary32.Add(a, b, ref flags, rm),
        Op.Vfsub => Binary32.Sub(a, b, ref flags, rm),
        Op.Vfrsub => Binary32.Sub(b, a, ref flags, rm),
        Op.Vfmul => Binary32.Mul(a, b, ref flags, rm),
        Op.Vfdiv => Binary32.Div(a, b, ref flags, rm),
        Op.Vfrdiv => Binary32.Div(b, a, ref flags, rm),
        Op.Vfmin => Binary32.Min(a, b, ref flags),
        Op.Vfmax => Binary32.Max(a, b, ref flags),
        Op.Vfsgnj => (a & 0x7FFFFFFF) | (b & 0x80000000),
        Op.Vfsgnjn => (a & 0x7FFFFFFF) | (~b & 0x80000000),
        Op.Vfsgnjx => a ^ (b & 0x80000000),
        _ => throw new InvalidOperationException($"vector operation {op} not handled"),
    };

    /// <summary>vmfeq/vmfne (quiet), vmflt/vmfle/vmfgt/vmfge (signaling) of a = vs2[i] against b.</summary>
    private static bool Compare(Op op, ulong a, ulong b, int sew, ref ExceptionFlags flags)
    {
        uint x = sew == 2 ? Binary16.ToSingle((ushort)a, ref flags) : (uint)a;
        uint y = sew == 2 ? Binary16.ToSingle((ushort)b, ref flags) : (uint)b;
        return op switch
        {
            Op.Vmfeq => FloatComparison.Equal(x, y, ref flags),
            Op.Vmfne => !FloatComparison.Equal(x, y, ref flags),
            Op.Vmflt => FloatComparison.Less(x, y, ref flags),
            Op.Vmfle => FloatComparison.LessOrEqual(x, y, ref flags),
            Op.Vmfgt => FloatComparison.Less(y, x, ref flags),
            _ => FloatComparison.LessOrEqual(y, x, ref flags),
        };
    }

    /// <summary>vfwadd/vfwsub (.vv .vf .wv .wf), vfwmul and the vfwmacc family: binary16 sources, binary32 results.</summary>
    private bool FloatWidening(in Instruction d, RoundingMode rm, ref ExceptionFlags flags)
    {
        var op = d.Op;
        int sew = Sew, vl = (int)_h.Vl, lmul = Lmul;
        bool wideFirst = op is Op.VfwaddW or Op.VfwsubW;
        bool vector = d.Form is VectorForm.VV or VectorForm.WV;
        if (sew != 2 || !FloatSew(2) || !Group(d.Rd, 2 * lmul) || !Group(d.Rs2, wideFirst ? 2 * lmul : lmul) || (vector && !Group(d.Rs1, lmul)))
            return false;
        ulong scalar = vector ? 0 : ScalarF(d.Rs1, 2);
        for (int i = (int)_h.Vstart; i < vl; i++)
        {
            if (!Active(d, i)) continue;
            ushort b16 = (ushort)(vector ? Get(d.Rs1, i, 2) : scalar);
            uint a = wideFirst ? (uint)Get(d.Rs2, i, 4) : Binary16.ToSingle((ushort)Get(d.Rs2, i, 2), ref flags);
            uint b = Binary16.ToSingle(b16, ref flags);
            uint r = op switch
            {
                Op.Vfwadd or Op.VfwaddW => Binary32.Add(a, b, ref flags, rm),
                Op.Vfwsub or Op.VfwsubW => Binary32.Sub(a, b, ref flags, rm),
                Op.Vfwmul => Binary32.Mul(a, b, ref flags, rm),
                _ => Binary32.FusedMultiplyAdd(b, a, (uint)Get(d.Rd, i, 4),
                    op is Op.Vfwnmacc or Op.Vfwnmsac, op is Op.Vfwnmacc or Op.Vfwmsac, ref flags, rm),
            };
            Set(d.Rd, i, 4, r);
        }
        return true;
    }

    private bool FloatReduce(in Instruction d, RoundingMode rm, ref ExceptionFlags flags)
    {
        var op = d.Op;
        int sew = Sew, vl = (int)_h.Vl;
        bool widen = op is Op.Vfwredusum or Op.Vfwredosum;
        if (!FloatSew(sew) || (widen && sew != 2) || !Group(d.Rs2, Lmul)) return false;
        if (vl == 0) return true;
        int accWidth = widen ? 4 : sew;
        ulong acc = Get(d.Rs1, 0, accWidth);
        for (int i = (int)_h.Vstart; i < vl; i++)
        {
            if (!Active(d, i)) continue;
            ulong v = Get(d.Rs2, i, sew);
            if (widen)
            {
                acc = Binary32.Add((uint)acc, Binary16.ToSingle((ushort)v, ref flags), ref flags, rm);
                continue;
            }
            acc = op switch
            {
                Op.Vfredmin => sew == 2 ? Binary16.Min((ushort)acc, (ushort)v, ref flags) : Binary32.Min((uint)acc, (uint)v, ref flags),
                Op.Vfredmax => sew == 2 ? Binary16.Max((ushort)acc, (ushort)v, ref flags) : Binary32.Max((uint)acc, (uint)v, ref flags),
                _ => sew == 2 ? Binary16.Add((ushort)acc, (ushort)v, ref flags, rm) : Binary32.Add((uint)acc, (uint)v, ref flags, rm),
            };
        }
        Set(d.Rd, 0, accWidth, acc);
        return true;
    }

    private bool FloatMove(in Instruction d)
    {
        int sew = Sew;
        if (!FloatSew(sew)) return false;
        switch (d.Op)
        {
            case Op.VfmvFS:
                ulong v = Get(d.Rs2, 0, sew);
                if (sew == 2) _h.SetHalf(d.Rd, (ushort)v);
                else _h.F[d.Rd] = (uint)v;
                return true;
            case Op.VfmvSF:
                if (_h.Vstart < _h.Vl) Set(d.Rd, 0, sew, ScalarF(d.Rs1, sew));
                return true;
            default:
                if (!Group(d.Rd, Lmul) || !Group(d.Rs2, Lmul)) return false;
                return PermuteElements(d, d.Op, sew, (int)_h.Vl, VlMax, 0, ScalarF(d.Rs1, sew));
        }
    }

    /// <summary>vfcvt (single width), vfwcvt (SEW → 2·SEW) and vfncvt (2·SEW → SEW) between floats and integers or floats.</summary>
    private bool Convert(in Instruction d, RoundingMode rm, ref ExceptionFlags flags)
    {
        var op = d.Op;
        int sew = Sew, vl = (int)_h.Vl, lmul = Lmul;
        bool widening = op is >= Op.VfwcvtXuFV and <= Op.VfwcvtRtzXFV, narrowing = op >= Op.VfncvtXuFW;
        int src = narrowing ? 2 * sew : sew, dst = widening ? 2 * sew : sew;
        if (src > 8 || dst > 8 || !Group(d.Rd, widening ? 2 * lmul : lmul) || !Group(d.Rs2, narrowing ? 2 * lmul : lmul)) return false;
        bool rtz = op is Op.VfcvtRtzXuFV or Op.VfcvtRtzXFV or Op.VfwcvtRtzXuFV or Op.VfwcvtRtzXFV or Op.VfncvtRtzXuFW or Op.VfncvtRtzXFW;
        if (rtz) rm = RoundingMode.TowardZero;
        // Which side is the float, and which integer conversion.
        bool toInteger = op is Op.VfcvtXuFV or Op.VfcvtXFV or Op.VfcvtRtzXuFV or Op.VfcvtRtzXFV or Op.VfwcvtXuFV or Op.VfwcvtXFV
            or Op.VfwcvtRtzXuFV or Op.VfwcvtRtzXFV or Op.VfncvtXuFW or Op.VfncvtXFW or Op.VfncvtRtzXuFW or Op.VfncvtRtzXFW;
        bool signed = op is Op.VfcvtXFV or Op.VfcvtRtzXFV or Op.VfcvtFXV or Op.VfwcvtXFV or Op.VfwcvtRtzXFV or Op.VfwcvtFXV
            or Op.VfncvtXFW or Op.VfncvtRtzXFW or Op.VfncvtFXW;
        bool floatToFloat = op is Op.VfwcvtFFV or Op.VfncvtFFW;
        int floatWidth = toInteger || floatToFloat ? src : dst;
        if (!(floatWidth == 4 || (floatWidth == 2 && FloatSew(2))) || (floatToFloat && (src + dst != 6 || !FloatSew(2))) || (toInteger && dst > 4))
            return false;
        for (int i = (int)_h.Vstart; i < vl; i++)
        {
            if (!Active(d, i)) continue;
            ulong v = Get(d.Rs2, i, src);
            ulong r;
            if (floatToFloat)
                r = widening ? Binary16.ToSingle((ushort)v, ref flags) : Binary16.FromSingle((uint)v, ref flags, rm);
            else if (toInteger)
            {
                uint single = src == 2 ? Binary16.ToSingle((ushort)v, ref flags) : (uint)v;
                r = signed ? (uint)IntegerConversion.ToSigned(single, 8 * dst, ref flags, rm) : IntegerConversion.ToUnsigned(single, 8 * dst, ref flags, rm);
            }
            else
            {
                long value = signed ? SignExtend(v, src) : (long)v;
                r = dst == 2
                    ? (signed ? IntegerConversion.HalfFromSigned(value, ref flags, rm) : IntegerConversion.HalfFromUnsigned(v, ref flags, rm))
                    : (signed ? IntegerConversion.SingleFromSigned(value, ref flags, rm) : IntegerConversion.SingleFromUnsigned(v, ref flags, rm));
            }
            Set(d.Rd, i, dst, r);
        }
        return true;
    }
}
