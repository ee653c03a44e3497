namespace TinyOdl.Simulation;

/// <summary>
/// Decodes the F and Zfh instructions (LOAD-FP/STORE-FP with a scalar width, the four fused multiply-add opcodes
/// and OP-FP); LOAD-FP/STORE-FP with a vector width go to <see cref="VectorDecoder"/>. The rounding-mode field is
/// kept in <see cref="Instruction.Aux"/>; the reserved values 5 and 6 make the instruction illegal when it executes.
/// </summary>
public static class FloatDecoder
{
    public static Instruction Decode(uint raw, IsaFeatures features)
    {
        uint opcode = raw & 0x7F, rd = (raw >> 7) & 0x1F, funct3 = (raw >> 12) & 7, rs1 = (raw >> 15) & 0x1F, rs2 = (raw >> 20) & 0x1F;
        bool f = features.HasFlag(IsaFeatures.F), h = f && features.HasFlag(IsaFeatures.Zfh);
        switch (opcode)
        {
            case 0x07:
                if (funct3 is 0 or 5 or 6 or 7)
                    return features.HasFlag(IsaFeatures.V) ? VectorDecoder.DecodeMemory(raw, load: true) : Decoder.Illegal(raw, 4);
                return Decoder.Make(funct3 == 2 && f ? Op.Flw : funct3 == 1 && h ? Op.Flh : Op.Illegal, raw, rd, rs1, 0, (int)raw >> 20);
            case 0x27:
                if (funct3 is 0 or 5 or 6 or 7)
                    return features.HasFlag(IsaFeatures.V) ? VectorDecoder.DecodeMemory(raw, load: false) : Decoder.Illegal(raw, 4);
                return Decoder.Make(funct3 == 2 && f ? Op.Fsw : funct3 == 1 && h ? Op.Fsh : Op.Illegal, raw, 0, rs1, rs2, Decoder.ImmS(raw));
            case 0x43 or 0x47 or 0x4B or 0x4F:
            {
                uint fmt = (raw >> 25) & 3;
                int kind = (int)(opcode - 0x43) >> 2;           // 0 fmadd, 1 fmsub, 2 fnmsub, 3 fnmadd
                Op op = fmt == 0 && f ? Op.FmaddS.Plus(kind) : fmt == 2 && h ? Op.FmaddH.Plus(kind) : Op.Illegal;
                var inst = WithRounding(Decoder.Make(op, raw, rd, rs1, rs2, 0), funct3);
                inst.Rs3 = (byte)(raw >> 27);
                return inst;
            }
            default:
                return OpFp(raw, rd, funct3, rs1, rs2, f, h);
        }
    }

    /// <summary>Keeps the rounding-mode field; a reserved one (5, 6) is an illegal instruction when it executes (as in QEMU, where it is not counted).</summary>
    private static Instruction WithRounding(Instruction inst, uint rm)
    {
        inst.Aux = (byte)rm;
        return inst;
    }

    private static Instruction OpFp(uint raw, uint rd, uint rm, uint rs1, uint rs2, bool f, bool h)
    {
        uint funct7 = raw >> 25;
        uint fmt = funct7 & 3;
        bool ok = fmt == 0 ? f : fmt == 2 && h;
        if (!ok && funct7 != 0x20) return Decoder.Illegal(raw, 4);
        bool half = fmt == 2;
        Op S(Op single, Op halfOp) => half ? halfOp : single;
        byte xd = Decoder.Xd(rd);
        switch (funct7 >> 2)
        {
            case 0x00: return WithRounding(Decoder.Make(S(Op.FaddS, Op.FaddH), raw, rd, rs1, rs2, 0), rm);
            case 0x01: return WithRounding(Decoder.Make(S(Op.FsubS, Op.FsubH), raw, rd, rs1, rs2, 0), rm);
            case 0x02: return WithRounding(Decoder.Make(S(Op.FmulS, Op.FmulH), raw, rd, rs1, rs2, 0), rm);
            case 0x03: return WithRounding(Decoder.Make(S(Op.FdivS, Op.FdivH), raw, rd, rs1, rs2, 0), rm);
            case 0x0B when rs2 == 0: return WithRounding(Decoder.Make(S(Op.FsqrtS, Op.FsqrtH), raw, rd, rs1, 0, 0), rm);
            case 0x04 when rm <= 2: return Decoder.Make(S(Op.FsgnjS, Op.FsgnjH).Plus((int)rm), raw, rd, rs1, rs2, 0);
            case 0x05 when rm <= 1: return Decoder.Make(rm == 0 ? S(Op.FminS, Op.FminH) : S(Op.FmaxS, Op.FmaxH), raw, rd, rs1, rs2, 0);
            case 0x08:
                // fcvt.s.h (fmt S, rs2 = H) and fcvt.h.s (fmt H, rs2 = S); needs Zfh either way.
                if (fmt == 0 && rs2 == 2 && h) return WithRounding(Decoder.Make(Op.FcvtSH, raw, rd, rs1, 0, 0), rm);
                if (fmt == 2 && rs2 == 0 && h) return WithRounding(Decoder.Make(Op.FcvtHS, raw, rd, rs1, 0, 0), rm);
                return Decoder.Illegal(raw, 4);
            case 0x18 when rs2 <= 1: return WithRounding(Decoder.Make(S(Op.FcvtWS, Op.FcvtWH).Plus((int)rs2), raw, xd, rs1, 0, 0), rm);
            case 0x1A when rs2 <= 1: return WithRounding(Decoder.Make(S(Op.FcvtSW, Op.FcvtHW).Plus((int)rs2), raw, rd, rs1, 0, 0), rm);
            case 0x1C when rs2 == 0 && rm == 0: return Decoder.Make(S(Op.FmvXW, Op.FmvXH), raw, xd, rs1, 0, 0);
            case 0x1C when rs2 == 0 && rm == 1: return Decoder.Make(S(Op.FclassS, Op.FclassH), raw, xd, rs1, 0, 0);
            case 0x1E when rs2 == 0 && rm == 0: return Decoder.Make(S(Op.FmvWX, Op.FmvHX), raw, rd, rs1, 0, 0);
            case 0x14 when rm <= 2:
            {
                Op op = rm switch { 2 => S(Op.FeqS, Op.FeqH), 1 => S(Op.FltS, Op.FltH), _ => S(Op.FleS, Op.FleH) };
                return Decoder.Make(op, raw, xd, rs1, rs2, 0);
            }
            default: return Decoder.Illegal(raw, 4);
        }
    }
}
