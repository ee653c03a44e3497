using TinyOdl.Numerics;

namespace TinyOdl.Simulation;

/// <summary>
/// The F and Zfh computational instructions (loads and stores are in the executor). Every result comes from
/// <see cref="Binary32"/>, <see cref="Binary16"/>, <see cref="IntegerConversion"/> and <see cref="FloatComparison"/>,
/// the project's one implementation of the RISC-V floating-point rules; flags accrue into fflags.
/// </summary>
internal static class FloatUnit
{
    /// <summary>The rounding mode of an instruction: its rm field, or frm for rm = 7. False if reserved (5, 6, or frm ≥ 5).</summary>
    public static bool TryRounding(Hart h, int field, out RoundingMode rm)
    {
        uint r = field == 7 ? h.Frm : (uint)field;
        rm = (RoundingMode)r;
        return r <= 4;
    }

    /// <summary>Executes one computational F/Zfh instruction; on an illegal instruction (FP unit off, reserved rounding mode) returns its fault.</summary>
    public static bool Execute(Hart h, in Instruction d, out Fault fault)
    {
        fault = default;
        if (!h.Csr.FpEnabled)
        {
            fault = Fault.IllegalEncoding(d.Raw);
            return false;
        }
        if (!TryRounding(h, d.RoundingField, out var rm))
        {
            fault = Fault.IllegalAtRun(d.Raw);
            return false;
        }
        uint[] f = h.F, x = h.X;
        var flags = h.Fflags;
        uint a = f[d.Rs1], b = f[d.Rs2];
        switch (d.Op)
        {
            case Op.FmaddS: f[d.Rd] = Binary32.FusedMultiplyAdd(a, b, f[d.Rs3], false, false, ref flags, rm); break;
            case Op.FmsubS: f[d.Rd] = Binary32.FusedMultiplyAdd(a, b, f[d.Rs3], false, true, ref flags, rm); break;
            case Op.FnmsubS: f[d.Rd] = Binary32.FusedMultiplyAdd(a, b, f[d.Rs3], true, false, ref flags, rm); break;
            case Op.FnmaddS: f[d.Rd] = Binary32.FusedMultiplyAdd(a, b, f[d.Rs3], true, true, ref flags, rm); break;
            case Op.FaddS: f[d.Rd] = Binary32.Add(a, b, ref flags, rm); break;
            case Op.FsubS: f[d.Rd] = Binary32.Sub(a, b, ref flags, rm); break;
            case Op.FmulS: f[d.Rd] = Binary32.Mul(a, b, ref flags, rm); break;
            case Op.FdivS: f[d.Rd] = Binary32.Div(a, b, ref flags, rm); break;
            case Op.FsqrtS: f[d.Rd] = Binary32.Sqrt(a, ref flags, rm); break;
            case Op.FsgnjS: f[d.Rd] = (a & 0x7FFFFFFF) | (b & 0x80000000); break;
            case Op.FsgnjnS: f[d.Rd] = (a & 0x7FFFFFFF) | (~b & 0x80000000); break;
            case Op.FsgnjxS: f[d.Rd] = a ^ (b & 0x80000000); break;
            case Op.FminS: f[d.Rd] = Binary32.Min(a, b, ref flags); break;
            case Op.FmaxS: f[d.Rd] = Binary32.Max(a, b, ref flags); break;
            case Op.FcvtWS: x[d.Rd] = (uint)IntegerConversion.ToSigned(a, 32, ref flags, rm); break;
            case Op.FcvtWuS: x[d.Rd] = IntegerConversion.ToUnsigned(a, 32, ref flags, rm); break;
            case Op.FmvXW: x[d.Rd] = a; break;
            case Op.FeqS: x[d.Rd] = FloatComparison.Equal(a, b, ref flags) ? 1u : 0u; break;
            case Op.FltS: x[d.Rd] = FloatComparison.Less(a, b, ref flags) ? 1u : 0u; break;
            case Op.FleS: x[d.Rd] = FloatComparison.LessOrEqual(a, b, ref flags) ? 1u : 0u; break;
            case Op.FclassS: x[d.Rd] = FloatComparison.Classify(a); break;
            case Op.FcvtSW: f[d.Rd] = IntegerConversion.SingleFromSigned((int)x[d.Rs1], ref flags, rm); break;
            case Op.FcvtSWu: f[d.Rd] = IntegerConversion.SingleFromUnsigned(x[d.Rs1], ref flags, rm); break;
            case Op.FmvWX: f[d.Rd] = x[d.Rs1]; break;
            default:
                if (!ExecuteHalf(h, d, rm, ref flags))
                {
                    fault = Fault.IllegalEncoding(d.Raw);
                    return false;
                }
                break;
        }
        h.Fflags = flags;
        h.Csr.MarkFpDirty();
        return true;
    }

    private static bool ExecuteHalf(Hart h, in Instruction d, RoundingMode rm, ref ExceptionFlags flags)
    {
        uint[] x = h.X;
        ushort a = h.Half(d.Rs1), b = h.Half(d.Rs2);
        switch (d.Op)
        {
            case Op.FmaddH: h.SetHalf(d.Rd, Binary16.FusedMultiplyAdd(a, b, h.Half(d.Rs3), false, false, ref flags, rm)); break;
            case Op.FmsubH: h.SetHalf(d.Rd, Binary16.FusedMultiplyAdd(a, b, h.Half(d.Rs3), false, true, ref flags, rm)); break;
            case Op.FnmsubH: h.SetHalf(d.Rd, Binary16.FusedMultiplyAdd(a, b, h.Half(d.Rs3), true, false, ref flags, rm)); break;
            case Op.FnmaddH: h.SetHalf(d.Rd, Binary16.FusedMultiplyAdd(a, b, h.Half(d.Rs3), true, true, ref flags, rm)); break;
            case Op.FaddH: h.SetHalf(d.Rd, Binary16.Add(a, b, ref flags, rm)); break;
            case Op.FsubH: h.SetHalf(d.Rd, Binary16.Sub(a, b, ref flags, rm)); break;
            case Op.FmulH: h.SetHalf(d.Rd, Binary16.Mul(a, b, ref flags, rm)); break;
            case Op.FdivH: h.SetHalf(d.Rd, Binary16.Div(a, b, ref flags, rm)); break;
            case Op.FsqrtH: h.SetHalf(d.Rd, Binary16.Sqrt(a, ref flags, rm)); break;
            case Op.FsgnjH: h.SetHalf(d.Rd, (ushort)((a & 0x7FFF) | (b & 0x8000))); break;
            case Op.FsgnjnH: h.SetHalf(d.Rd, (ushort)((a & 0x7FFF) | (~b & 0x8000))); break;
            case Op.FsgnjxH: h.SetHalf(d.Rd, (ushort)(a ^ (b & 0x8000))); break;
            case Op.FminH: h.SetHalf(d.Rd, Binary16.Min(a, b, ref flags)); break;
            case Op.FmaxH: h.SetHalf(d.Rd, Binary16.Max(a, b, ref flags)); break;
            case Op.FcvtSH: h.F[d.Rd] = Binary16.ToSingle(a, ref flags); break;
            case Op.FcvtHS: h.SetHalf(d.Rd, Binary16.FromSingle(h.F[d.Rs1], ref flags, rm)); break;
            case Op.FcvtWH: x[d.Rd] = (uint)IntegerConversion.ToSigned(Binary16.ToSingle(a, ref flags), 32, ref flags, rm); break;
            case Op.FcvtWuH: x[d.Rd] = IntegerConversion.ToUnsigned(Binary16.ToSingle(a, ref flags), 32, ref flags, rm); break;
            case Op.FmvXH: x[d.Rd] = (uint)(short)h.F[d.Rs1]; break;
            case Op.FeqH: x[d.Rd] = FloatComparison.Equal(Binary16.ToSingle(a, ref flags), Binary16.ToSingle(b, ref flags), ref flags) ? 1u : 0u; break;
            case Op.FltH: x[d.Rd] = FloatComparison.Less(Binary16.ToSingle(a, ref flags), Binary16.ToSingle(b, ref flags), ref flags) ? 1u : 0u; break;
            case Op.FleH: x[d.Rd] = FloatComparison.LessOrEqual(Binary16.ToSingle(a, ref flags), Binary16.ToSingle(b, ref flags), ref flags) ? 1u : 0u; break;
            case Op.FclassH: x[d.Rd] = FloatComparison.Classify(a); break;
            case Op.FcvtHW: h.SetHalf(d.Rd, IntegerConversion.HalfFromSigned((int)x[d.Rs1], ref flags, rm)); break;
            case Op.FcvtHWu: h.SetHalf(d.Rd, IntegerConversion.HalfFromUnsigned(x[d.Rs1], ref flags, rm)); break;
            case Op.FmvHX: h.SetHalf(d.Rd, (ushort)x[d.Rs1]); break;
            default: return false;
        }
        return true;
    }
}
