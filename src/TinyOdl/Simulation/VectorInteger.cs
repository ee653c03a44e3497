namespace TinyOdl.Simulation;

/// <summary>
/// Vector integer, mask and permutation instructions (RVV 1.0 chapters "Vector Integer Arithmetic Instructions",
/// "Vector Reduction Operations", "Vector Mask Instructions", "Vector Permutation Instructions"). Elements are
/// handled as 64-bit values truncated to SEW; the .vi form of shifts, slides and vrgather takes the 5-bit
/// immediate unsigned, every other .vi form sign-extends it.
/// </summary>
internal sealed partial class VectorUnit
{
    private bool Integer(in Instruction d)
    {
        var op = d.Op;
        int sew = Sew, vl = (int)_h.Vl, start = (int)_h.Vstart, lmul = Lmul;
        switch (op)
        {
            case Op.VmvNrV:
            {
                int regs = d.Rs1 + 1;
                if (d.Rd % regs != 0 || d.Rs2 % regs != 0) return false;
                Array.Copy(_v, d.Rs2 * _vlenb, _v, d.Rd * _vlenb, regs * _vlenb);
                return true;
            }
            case Op.VmvXS:
                _h.X[d.Rd] = (uint)SignExtend(Get(d.Rs2, 0, sew), sew);
                return true;
            case Op.VmvSX:
                if (start < vl) Set(d.Rd, 0, sew, _h.X[d.Rs1]);
                return true;
            case Op.VcpopM or Op.VfirstM:
            {
                int count = 0, first = -1;
                for (int i = start; i < vl; i++)
                {
                    if (!Active(d, i) || !MaskBit(d.Rs2, i)) continue;
                    count++;
                    if (first < 0) first = i;
                }
                _h.X[d.Rd] = op == Op.VcpopM ? (uint)count : (uint)first;
                return true;
            }
            case >= Op.VmandnMm and <= Op.VmxnorMm:
                for (int i = start; i < vl; i++)
                {
                    bool a = MaskBit(d.Rs2, i), b = MaskBit(d.Rs1, i);
                    SetMaskBit(d.Rd, i, op switch
                    {
                        Op.VmandnMm => a & !b,
                        Op.VmandMm => a & b,
                        Op.VmorMm => a | b,
                        Op.VmxorMm => a ^ b,
                        Op.VmornMm => a | !b,
                        Op.VmnandMm => !(a & b),
                        Op.VmnorMm => !(a | b),
                        _ => !(a ^ b),
                    });
                }
                return true;
            case Op.VmsbfM or Op.VmsifM or Op.VmsofM:
            {
                bool seen = false;
                for (int i = start; i < vl; i++)
                {
                    if (!Active(d, i)) continue;
                    bool bit = MaskBit(d.Rs2, i);
                    bool result = op switch
                    {
                        Op.VmsbfM => !seen && !bit,
                        Op.VmsifM => !seen,
                        _ => !seen && bit,
                    };
                    SetMaskBit(d.Rd, i, result);
                    if (bit) seen = true;
                }
                return true;
            }
        }
        // Compares write one mask register; everything else a group of LMUL registers.
        bool maskResult = op is >= Op.Vmseq and <= Op.Vmsgt or Op.Vmadc or Op.Vmsbc;
        if (!maskResult && !Group(d.Rd, lmul)) return false;
        switch (op)
        {
            case Op.VidV:
                for (int i = start; i < vl; i++)
                    if (Active(d, i)) Set(d.Rd, i, sew, (ulong)i);
                return true;
            case Op.ViotaM:
            {
                ulong sum = 0;
                for (int i = start; i < vl; i++)
                {
                    if (!Active(d, i)) continue;
                    Set(d.Rd, i, sew, sum);
                    if (MaskBit(d.Rs2, i)) sum++;
                }
                return true;
            }
            case Op.VzextVf2 or Op.VsextVf2 or Op.VzextVf4 or Op.VsextVf4:
            {
                int factor = op is Op.VzextVf2 or Op.VsextVf2 ? 2 : 4, narrow = sew / factor;
                if (narrow < 1 || !Group(d.Rs2, lmul / factor)) return false;
                bool signed = op is Op.VsextVf2 or Op.VsextVf4;
                for (int i = start; i < vl; i++)
                {
                    if (!Active(d, i)) continue;
                    ulong v = Get(d.Rs2, i, narrow);
                    Set(d.Rd, i, sew, signed ? (ulong)SignExtend(v, narrow) : v);
                }
                return true;
            }
            case Op.VcompressVm:
            {
                if (!Group(d.Rs2, lmul)) return false;
                int k = 0;
                for (int i = start; i < vl; i++)
                    if (MaskBit(d.Rs1, i)) Set(d.Rd, k++, sew, Get(d.Rs2, i, sew));
                return true;
            }
        }
        if (op is >= Op.Vredsum and <= Op.Vredmax or Op.Vwredsum or Op.Vwredsumu) return Reduce(d);
        if (op is Op.Vslideup or Op.Vslidedown or Op.Vslide1up or Op.Vslide1down or Op.Vrgather)
            return Permute(d, d.Form == VectorForm.VX || op is Op.Vslide1up or Op.Vslide1down ? _h.X[d.Rs1] : d.Form == VectorForm.VI ? d.Rs1 : 0u);
        if (op is >= Op.Vwaddu and <= Op.Vwmaccsu || op is Op.Vnsrl or Op.Vnsra) return WideningInteger(d);
        return SingleWidthInteger(d);
    }

    /// <summary>The second operand of element i: vs1[i], x[rs1] or the immediate, as a SEW-bit value.</summary>
    private ulong Operand(in Instruction d, int i, int sew, bool unsignedImmediate = false) => d.Form switch
    {
        VectorForm.VV or VectorForm.WV => Get(d.Rs1, i, sew),
        VectorForm.VX or VectorForm.WX => Truncate(_h.X[d.Rs1], sew),
        _ => Truncate(unsignedImmediate ? (ulong)d.Rs1 : (ulong)(long)d.Imm, sew),
    };

    private bool SingleWidthInteger(in Instruction d)
    {
        var op = d.Op;
        int sew = Sew, vl = (int)_h.Vl, lmul = Lmul, bits = 8 * sew;
        if (!Group(d.Rs2, lmul) || (d.Form == VectorForm.VV && !Group(d.Rs1, lmul))) return false;
        bool compare = op is >= Op.Vmseq and <= Op.Vmsgt or Op.Vmadc or Op.Vmsbc;
        bool shift = op is Op.Vsll or Op.Vsrl or Op.Vsra;
        ulong mask = Truncate(ulong.MaxValue, sew);
        for (int i = (int)_h.Vstart; i < vl; i++)
        {
            bool carryIn = (op is Op.Vadc or Op.Vsbc || (op is Op.Vmadc or Op.Vmsbc && d.Masked)) && MaskBit(0, i);
            if (op is not (Op.Vmerge or Op.Vadc or Op.Vsbc or Op.Vmadc or Op.Vmsbc) && !Active(d, i)) continue;
            ulong a = Get(d.Rs2, i, sew), b = Operand(d, i, sew, shift);
            long sa = SignExtend(a, sew), sb = SignExtend(b, sew);
            if (compare)
            {
                bool r = op switch
                {
                    Op.Vmseq => a == b,
                    Op.Vmsne => a != b,
                    Op.Vmsltu => a < b,
                    Op.Vmslt => sa < sb,
                    Op.Vmsleu => a <= b,
                    Op.Vmsle => sa <= sb,
                    Op.Vmsgtu => a > b,
                    Op.Vmsgt => sa > sb,
                    Op.Vmadc => ((UInt128)a + b + (carryIn ? 1u : 0u)) > mask,
                    _ => (UInt128)a < (UInt128)b + (carryIn ? 1u : 0u),
                };
                SetMaskBit(d.Rd, i, r);
                continue;
            }
            ulong acc = op is >= Op.Vmadd and <= Op.Vnmsac ? Get(d.Rd, i, sew) : 0;
            ulong result = op switch
            {
                Op.Vadd => a + b,
                Op.Vsub => a - b,
                Op.Vrsub => b - a,
                Op.Vminu => Math.Min(a, b),
                Op.Vmin => (ulong)Math.Min(sa, sb),
                Op.Vmaxu => Math.Max(a, b),
                Op.Vmax => (ulong)Math.Max(sa, sb),
                Op.Vand => a & b,
                Op.Vor => a | b,
                Op.Vxor => a ^ b,
                Op.Vadc => a + b + (carryIn ? 1u : 0u),
                Op.Vsbc => a - b - (carryIn ? 1u : 0u),
                Op.Vmerge => d.Masked && !MaskBit(0, i) ? a : b,
                Op.Vmv => b,
                Op.Vsll => a << (int)(b & (ulong)(bits - 1)),
                Op.Vsrl => a >> (int)(b & (ulong)(bits - 1)),
                Op.Vsra => (ulong)(sa >> (int)(b & (ulong)(bits - 1))),
                Op.Vsaddu => Saturate(a + b < a || a + b > mask, mask, a + b),
                Op.Vssubu => Saturate(b > a, 0, a - b),
                Op.Vsadd => SaturateSigned((Int128)sa + sb, bits),
                Op.Vssub => SaturateSigned((Int128)sa - sb, bits),
                Op.Vmul => a * b,
                Op.Vmulh => (ulong)(((Int128)sa * sb) >> bits),
                Op.Vmulhu => (ulong)(((UInt128)a * b) >> bits),
                Op.Vmulhsu => (ulong)(((Int128)sa * (Int128)b) >> bits),
                Op.Vdivu => b == 0 ? mask : a / b,
                Op.Vremu => b == 0 ? a : a % b,
                Op.Vdiv => b == 0 ? mask : sb == -1 ? (ulong)-sa : (ulong)(sa / sb),
                Op.Vrem => b == 0 ? a : sb == -1 ? 0 : (ulong)(sa % sb),
                Op.Vmacc => b * a + acc,
                Op.Vnmsac => acc - b * a,
                Op.Vmadd => b * acc + a,
                Op.Vnmsub => a - b * acc,
                _ => throw new InvalidOperationException($"vector integer operation {op} not handled"),
            };
            Set(d.Rd, i, sew, Truncate(result, sew));
        }
        return true;
    }

    private ulong Saturate(bool overflow, ulong limit, ulong value)
    {
        if (!overflow) return value;
        _h.Csr.TryWrite(Csr.Vxsat, 1);
        return limit;
    }

    private ulong SaturateSigned(Int128 value, int bits)
    {
        Int128 max = (Int128.One << (bits - 1)) - 1, min = -(Int128.One << (bits - 1));
        if (value > max) return Saturate(true, (ulong)(long)max, 0);
        if (value < min) return Saturate(true, (ulong)(long)min, 0);
        return (ulong)(long)value;
    }

    /// <summary>Widening (2·SEW result), .w (2·SEW first operand) and narrowing shifts (2·SEW source).</summary>
    private bool WideningInteger(in Instruction d)
    {
        var op = d.Op;
        int sew = Sew, wide = 2 * sew, vl = (int)_h.Vl, lmul = Lmul;
        if (wide > 8) return false;
        bool narrowing = op is Op.Vnsrl or Op.Vnsra;
        bool wideFirst = narrowing || op is >= Op.VwadduW and <= Op.VwsubW;
        if (!Group(d.Rd, narrowing ? lmul : 2 * lmul) || !Group(d.Rs2, wideFirst ? 2 * lmul : lmul)
            || (d.Form is VectorForm.VV or VectorForm.WV && !Group(d.Rs1, lmul))) return false;
        for (int i = (int)_h.Vstart; i < vl; i++)
        {
            if (!Active(d, i)) continue;
            ulong a = Get(d.Rs2, i, wideFirst ? wide : sew), b = Operand(d, i, sew, narrowing);
            if (narrowing)
            {
                int shift = (int)(b & (ulong)(16 * sew - 1));
                ulong r = op == Op.Vnsrl ? a >> shift : (ulong)(SignExtend(a, wide) >> shift);
                Set(d.Rd, i, sew, Truncate(r, sew));
                continue;
            }
            long sa = SignExtend(a, wideFirst ? wide : sew), sb = SignExtend(b, sew);
            ulong acc = Get(d.Rd, i, wide);
            ulong result = op switch
            {
                Op.Vwaddu or Op.VwadduW => a + b,
                Op.Vwadd or Op.VwaddW => (ulong)(sa + sb),
                Op.Vwsubu or Op.VwsubuW => a - b,
                Op.Vwsub or Op.VwsubW => (ulong)(sa - sb),
                Op.Vwmulu => a * b,
                Op.Vwmulsu => (ulong)(sa * (long)b),
                Op.Vwmul => (ulong)(sa * sb),
                Op.Vwmaccu => b * a + acc,
                Op.Vwmacc => (ulong)(sb * sa) + acc,
                Op.Vwmaccus => (ulong)((long)b * sa) + acc,        // unsigned rs1 × signed vs2
                _ => (ulong)(sb * (long)a) + acc,                  // vwmaccsu: signed vs1/rs1 × unsigned vs2
            };
            Set(d.Rd, i, wide, Truncate(result, wide));
        }
        return true;
    }

    private bool Reduce(in Instruction d)
    {
        var op = d.Op;
        int sew = Sew, vl = (int)_h.Vl;
        bool widen = op is Op.Vwredsum or Op.Vwredsumu;
        int accWidth = widen ? 2 * sew : sew;
        if (accWidth > 8 || !Group(d.Rs2, Lmul)) return false;
        if (vl == 0) return true;
        ulong acc = Get(d.Rs1, 0, accWidth);
        for (int i = (int)_h.Vstart; i < vl; i++)
        {
            if (!Active(d, i)) continue;
            ulong v = Get(d.Rs2, i, sew);
            long sa = SignExtend(acc, accWidth), sv = SignExtend(v, sew);
            acc = op switch
            {
                Op.Vredsum => acc + v,
                Op.Vwredsumu => acc + v,
                Op.Vwredsum => (ulong)(sa + sv),
                Op.Vredand => acc & v,
                Op.Vredor => acc | v,
                Op.Vredxor => acc ^ v,
                Op.Vredminu => Math.Min(acc, v),
                Op.Vredmaxu => Math.Max(acc, v),
                Op.Vredmin => (ulong)Math.Min(sa, sv),
                _ => (ulong)Math.Max(sa, sv),
            };
            acc = Truncate(acc, accWidth);
        }
        Set(d.Rd, 0, accWidth, acc);
        return true;
    }

    /// <summary>vslideup/vslidedown (.vx/.vi), vslide1up/vslide1down (.vx) and vrgather (.vv/.vx/.vi).</summary>
    private bool Permute(in Instruction d, uint scalar)
    {
        var op = d.Op;
        int sew = Sew, vl = (int)_h.Vl, vlmax = VlMax;
        if (!Group(d.Rs2, Lmul) || (d.Form == VectorForm.VV && !Group(d.Rs1, Lmul))) return false;
        return PermuteElements(d, op == Op.Vrgather ? Op.Vrgather : op, sew, vl, vlmax, scalar, Truncate(scalar, sew));
    }

    /// <summary>The element moves shared by the integer and floating-point slides (<paramref name="fill"/>: the slide1 scalar).</summary>
    private bool PermuteElements(in Instruction d, Op op, int sew, int vl, int vlmax, ulong offset, ulong fill)
    {
        int start = (int)_h.Vstart;
        var result = new ulong[vl];
        var write = new bool[vl];
        for (int i = start; i < vl; i++)
        {
            if (!Active(d, i)) continue;
            switch (op)
            {
                case Op.Vslideup:
                    if ((ulong)i < offset) continue;
                    result[i] = Get(d.Rs2, (int)((ulong)i - offset), sew);
                    break;
                case Op.Vslidedown:
                {
                    ulong j = (ulong)i + offset;
                    result[i] = j < (ulong)vlmax ? Get(d.Rs2, (int)j, sew) : 0;
                    break;
                }
                case Op.Vslide1up or Op.Vfslide1up:
                    result[i] = i == 0 ? fill : Get(d.Rs2, i - 1, sew);
                    break;
                case Op.Vslide1down or Op.Vfslide1down:
                    result[i] = i == vl - 1 ? fill : Get(d.Rs2, i + 1, sew);
                    break;
                default:
                {
                    ulong index = d.Form == VectorForm.VV ? Get(d.Rs1, i, sew) : offset;
                    result[i] = index < (ulong)vlmax ? Get(d.Rs2, (int)index, sew) : 0;
                    break;
                }
            }
            write[i] = true;
        }
        // Written after reading all sources: a destination group that overlaps a source (reserved) still reads old values.
        for (int i = start; i < vl; i++)
            if (write[i]) Set(d.Rd, i, sew, result[i]);
        return true;
    }
}
