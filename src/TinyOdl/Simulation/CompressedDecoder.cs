namespace TinyOdl.Simulation;

/// <summary>
/// Expands RV32C instructions (with the F-extension loads and stores c.flw, c.fsw, c.flwsp, c.fswsp) into the
/// operations they stand for, with <see cref="Instruction.Length"/> 2. Encodings: The RISC-V Instruction Set
/// Manual, Volume I, "C" Standard Extension, RVC instruction set listings. Reserved encodings, the all-zero word
/// and the D-extension forms (c.fld, c.fsd, c.fldsp, c.fsdsp) decode as illegal.
/// </summary>
public static class CompressedDecoder
{
    public static Instruction Decode(ushort bits, IsaFeatures features)
    {
        uint c = bits;
        uint quadrant = c & 3, funct3 = (c >> 13) & 7;
        bool f = features.HasFlag(IsaFeatures.F);
        return quadrant switch
        {
            0 => Quadrant0(c, funct3, f),
            1 => Quadrant1(c, funct3),
            _ => Quadrant2(c, funct3, f),
        };
    }

    private static Instruction Make(Op op, uint raw, uint rd, uint rs1, uint rs2, int imm) =>
        Decoder.Make(op, raw, rd, rs1, rs2, imm, 2);

    private static Instruction Illegal(uint raw) => Decoder.Illegal(raw, 2);

    private static uint Bit(uint c, int from, int to = 0) => ((c >> from) & 1) << to;

    /// <summary>x8..x15 from a 3-bit field.</summary>
    private static uint Prime(uint c, int at) => 8 + ((c >> at) & 7);

    private static int SignExtend(uint value, int bits) => (int)(value << (32 - bits)) >> (32 - bits);

    private static Instruction Quadrant0(uint c, uint funct3, bool f)
    {
        uint rdp = Prime(c, 2), rs1p = Prime(c, 7);
        // c.lw/c.sw/c.flw/c.fsw offset: uimm[5:3] = [12:10], uimm[2] = [6], uimm[6] = [5].
        int offset = (int)(((c >> 10) & 7) << 3 | Bit(c, 6, 2) | Bit(c, 5, 6));
        switch (funct3)
        {
            case 0:
            {
                // c.addi4spn: nzuimm[5:4|9:6|2|3] = [12:11|10:7|6|5].
                uint imm = ((c >> 11) & 3) << 4 | ((c >> 7) & 0xF) << 6 | Bit(c, 6, 2) | Bit(c, 5, 3);
                return imm == 0 ? Illegal(c) : Make(Op.Addi, c, rdp, 2, 0, (int)imm);
            }
            case 2: return Make(Op.Lw, c, rdp, rs1p, 0, offset);
            case 3: return f ? Make(Op.Flw, c, rdp, rs1p, 0, offset) : Illegal(c);
            case 6: return Make(Op.Sw, c, 0, rs1p, rdp, offset);
            case 7: return f ? Make(Op.Fsw, c, 0, rs1p, rdp, offset) : Illegal(c);
            default: return Illegal(c);
        }
    }

    private static Instruction Quadrant1(uint c, uint funct3)
    {
        uint rd = (c >> 7) & 0x1F;
        int imm6 = SignExtend(Bit(c, 12, 5) | ((c >> 2) & 0x1F), 6);
        switch (funct3)
        {
            case 0: return Make(Op.Addi, c, Decoder.Xd(rd), rd, 0, imm6);                         // c.addi / c.nop
            case 1: return Make(Op.Jal, c, 1, 0, 0, JumpOffset(c));                              // c.jal (RV32)
            case 2: return Make(Op.Addi, c, Decoder.Xd(rd), 0, 0, imm6);                          // c.li
            case 3:
                if (rd == 2)
                {
                    // c.addi16sp: nzimm[9] = [12], nzimm[4|6|8:7|5] = [6|5|4:3|2].
                    uint v = Bit(c, 12, 9) | Bit(c, 6, 4) | Bit(c, 5, 6) | ((c >> 3) & 3) << 7 | Bit(c, 2, 5);
                    return v == 0 ? Illegal(c) : Make(Op.Addi, c, 2, 2, 0, SignExtend(v, 10));
                }
                return imm6 == 0 ? Illegal(c) : Make(Op.Lui, c, Decoder.Xd(rd), 0, 0, imm6 << 12);  // c.lui
            case 4: return MiscAlu(c);
            case 5: return Make(Op.Jal, c, Instruction.ZeroSink, 0, 0, JumpOffset(c));          // c.j
            default:
            {
                // c.beqz / c.bnez: offset[8|4:3] = [12|11:10], offset[7:6|2:1|5] = [6:5|4:3|2].
                uint v = Bit(c, 12, 8) | ((c >> 10) & 3) << 3 | ((c >> 5) & 3) << 6 | ((c >> 3) & 3) << 1 | Bit(c, 2, 5);
                return Make(funct3 == 6 ? Op.Beq : Op.Bne, c, 0, Prime(c, 7), 0, SignExtend(v, 9));
            }
        }
    }

    /// <summary>c.j / c.jal: offset[11|4|9:8|10|6|7|3:1|5] = [12|11|10:9|8|7|6|5:3|2].</summary>
    private static int JumpOffset(uint c)
    {
        uint v = Bit(c, 12, 11) | Bit(c, 11, 4) | ((c >> 9) & 3) << 8 | Bit(c, 8, 10) | Bit(c, 7, 6) | Bit(c, 6, 7)
               | ((c >> 3) & 7) << 1 | Bit(c, 2, 5);
        return SignExtend(v, 12);
    }

    private static Instruction MiscAlu(uint c)
    {
        uint rd = Prime(c, 7), rs2 = Prime(c, 2);
        uint shamt = (c >> 2) & 0x1F;
        switch ((c >> 10) & 3)
        {
            case 0: return Bit(c, 12) != 0 ? Illegal(c) : Make(Op.Srli, c, rd, rd, 0, (int)shamt);
            case 1: return Bit(c, 12) != 0 ? Illegal(c) : Make(Op.Srai, c, rd, rd, 0, (int)shamt);
            case 2: return Make(Op.Andi, c, rd, rd, 0, SignExtend(Bit(c, 12, 5) | shamt, 6));
            default:
                if (Bit(c, 12) != 0) return Illegal(c);                                             // c.subw/c.addw: RV64
                Op op = ((c >> 5) & 3) switch { 0 => Op.Sub, 1 => Op.Xor, 2 => Op.Or, _ => Op.And };
                return Make(op, c, rd, rd, rs2, 0);
        }
    }

    private static Instruction Quadrant2(uint c, uint funct3, bool f)
    {
        uint rd = (c >> 7) & 0x1F, rs2 = (c >> 2) & 0x1F;
        switch (funct3)
        {
            case 0:
                return Bit(c, 12) != 0 ? Illegal(c) : Make(Op.Slli, c, Decoder.Xd(rd), rd, 0, (int)rs2);   // c.slli
            case 2:
            case 3:
            {
                // c.lwsp / c.flwsp: uimm[5] = [12], uimm[4:2|7:6] = [6:4|3:2].
                int offset = (int)(Bit(c, 12, 5) | ((c >> 4) & 7) << 2 | ((c >> 2) & 3) << 6);
                if (funct3 == 2) return rd == 0 ? Illegal(c) : Make(Op.Lw, c, rd, 2, 0, offset);
                return f ? Make(Op.Flw, c, rd, 2, 0, offset) : Illegal(c);
            }
            case 4:
                if (Bit(c, 12) == 0)
                {
                    if (rs2 == 0) return rd == 0 ? Illegal(c) : Make(Op.Jalr, c, Instruction.ZeroSink, rd, 0, 0);   // c.jr
                    return Make(Op.Add, c, Decoder.Xd(rd), 0, rs2, 0);                                             // c.mv
                }
                if (rs2 == 0)
                    return rd == 0 ? Make(Op.Ebreak, c, 0, 0, 0, 0) : Make(Op.Jalr, c, 1, rd, 0, 0);              // c.ebreak / c.jalr
                return Make(Op.Add, c, Decoder.Xd(rd), rd, rs2, 0);                                                // c.add
            case 6:
            case 7:
            {
                // c.swsp / c.fswsp: uimm[5:2|7:6] = [12:9|8:7].
                int offset = (int)(((c >> 9) & 0xF) << 2 | ((c >> 7) & 3) << 6);
                if (funct3 == 6) return Make(Op.Sw, c, 0, 2, rs2, offset);
                return f ? Make(Op.Fsw, c, 0, 2, rs2, offset) : Illegal(c);
            }
            default: return Illegal(c);
        }
    }
}
