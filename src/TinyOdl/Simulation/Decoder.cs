namespace TinyOdl.Simulation;

/// <summary>
/// Decodes one instruction (32-bit or compressed) into an <see cref="Instruction"/>. Base ISA, M, A, Zicsr, Zbb
/// and the system instructions are here; F/Zfh in <see cref="FloatDecoder"/>, V in <see cref="VectorDecoder"/>,
/// C in <see cref="CompressedDecoder"/>. Encodings: The RISC-V Instruction Set Manual, Volume I (RV32I Base Integer
/// Instruction Set; "M", "A", "Zicsr", "B"/Zbb chapters) and the RVV 1.0 specification.
/// </summary>
public static class Decoder
{
    /// <summary>Decodes the instruction in <paramref name="bits"/> (a compressed one in the low 16 bits).</summary>
    public static Instruction Decode(uint bits, IsaFeatures features)
    {
        if ((bits & 3) != 3)
            return features.HasFlag(IsaFeatures.C) ? CompressedDecoder.Decode((ushort)bits, features) : Illegal(bits & 0xFFFF, 2);
        return Decode32(bits, features);
    }

    /// <summary>Length in bytes of the instruction starting with these 16 bits (RV32: 2 or 4).</summary>
    public static int LengthOf(uint low16) => (low16 & 3) == 3 ? 4 : 2;

    public static Instruction Illegal(uint raw, int length) => new() { Op = Op.Illegal, Raw = raw, Length = (byte)length };

    /// <summary>Integer destination: x0 goes to the sink slot.</summary>
    internal static byte Xd(uint rd) => rd == 0 ? Instruction.ZeroSink : (byte)rd;

    internal static Instruction Make(Op op, uint raw, uint rd, uint rs1, uint rs2, int imm, int length = 4) => new()
    {
        Op = op, Raw = raw, Length = (byte)length, Rd = (byte)rd, Rs1 = (byte)rs1, Rs2 = (byte)rs2, Imm = imm,
    };

    private static Instruction Decode32(uint raw, IsaFeatures features)
    {
        uint opcode = raw & 0x7F, rd = (raw >> 7) & 0x1F, funct3 = (raw >> 12) & 7, rs1 = (raw >> 15) & 0x1F, rs2 = (raw >> 20) & 0x1F;
        uint funct7 = raw >> 25;
        int immI = (int)raw >> 20;
        switch (opcode)
        {
            case 0x37: return Make(Op.Lui, raw, Xd(rd), 0, 0, (int)(raw & 0xFFFFF000));
            case 0x17: return Make(Op.Auipc, raw, Xd(rd), 0, 0, (int)(raw & 0xFFFFF000));
            case 0x6F: return Make(Op.Jal, raw, Xd(rd), 0, 0, ImmJ(raw));
            case 0x67: return funct3 == 0 ? Make(Op.Jalr, raw, Xd(rd), rs1, 0, immI) : Illegal(raw, 4);
            case 0x63:
            {
                Op op = funct3 switch { 0 => Op.Beq, 1 => Op.Bne, 4 => Op.Blt, 5 => Op.Bge, 6 => Op.Bltu, 7 => Op.Bgeu, _ => Op.Illegal };
                return Make(op, raw, 0, rs1, rs2, ImmB(raw));
            }
            case 0x03:
            {
                Op op = funct3 switch { 0 => Op.Lb, 1 => Op.Lh, 2 => Op.Lw, 4 => Op.Lbu, 5 => Op.Lhu, _ => Op.Illegal };
                return Make(op, raw, Xd(rd), rs1, 0, immI);
            }
            case 0x23:
            {
                Op op = funct3 switch { 0 => Op.Sb, 1 => Op.Sh, 2 => Op.Sw, _ => Op.Illegal };
                return Make(op, raw, 0, rs1, rs2, ImmS(raw));
            }
            case 0x13: return OpImm(raw, rd, funct3, rs1, immI, features);
            case 0x33: return OpReg(raw, rd, funct3, rs1, rs2, funct7, features);
            case 0x2F: return features.HasFlag(IsaFeatures.A) ? Atomic(raw, rd, funct3, rs1, rs2) : Illegal(raw, 4);
            case 0x0F:
                return funct3 switch
                {
                    0 => Make(Op.Fence, raw, 0, 0, 0, 0),
                    1 => Make(Op.FenceI, raw, 0, 0, 0, 0),
                    _ => Illegal(raw, 4),
                };
            case 0x73: return SystemOp(raw, rd, funct3, rs1);
            case 0x07 or 0x27 or 0x43 or 0x47 or 0x4B or 0x4F or 0x53:
                return FloatDecoder.Decode(raw, features);
            case 0x57: return features.HasFlag(IsaFeatures.V) ? VectorDecoder.DecodeOpV(raw, features) : Illegal(raw, 4);
            default: return Illegal(raw, 4);
        }
    }

    private static Instruction OpImm(uint raw, uint rd, uint funct3, uint rs1, int imm, IsaFeatures features)
    {
        uint shamt = (uint)imm & 0x1F, hi = (uint)imm >> 5 & 0x7F;
        bool zbb = features.HasFlag(IsaFeatures.Zbb);
        Op op = funct3 switch
        {
            0 => Op.Addi,
            2 => Op.Slti,
            3 => Op.Sltiu,
            4 => Op.Xori,
            6 => Op.Ori,
            7 => Op.Andi,
            1 when hi == 0 => Op.Slli,
            1 when hi == 0x30 && zbb => shamt switch
            {
                0 => Op.Clz, 1 => Op.Ctz, 2 => Op.Cpop, 4 => Op.SextB, 5 => Op.SextH, _ => Op.Illegal,
            },
            5 when hi == 0 => Op.Srli,
            5 when hi == 0x20 => Op.Srai,
            5 when hi == 0x30 && zbb => Op.Rori,
            5 when (uint)imm == 0x287 && zbb => Op.OrcB,
            5 when (uint)imm == 0x698 && zbb => Op.Rev8,
            _ => Op.Illegal,
        };
        bool shift = funct3 is 1 or 5;
        return Make(op, raw, Xd(rd), rs1, 0, shift ? (int)shamt : imm);
    }

    private static Instruction OpReg(uint raw, uint rd, uint funct3, uint rs1, uint rs2, uint funct7, IsaFeatures features)
    {
        bool m = features.HasFlag(IsaFeatures.M), zbb = features.HasFlag(IsaFeatures.Zbb);
        Op op = (funct7, funct3) switch
        {
            (0x00, 0) => Op.Add,
            (0x20, 0) => Op.Sub,
            (0x00, 1) => Op.Sll,
            (0x00, 2) => Op.Slt,
            (0x00, 3) => Op.Sltu,
            (0x00, 4) => Op.Xor,
            (0x00, 5) => Op.Srl,
            (0x20, 5) => Op.Sra,
            (0x00, 6) => Op.Or,
            (0x00, 7) => Op.And,
            (0x01, _) when m => funct3 switch
            {
                0 => Op.Mul, 1 => Op.Mulh, 2 => Op.Mulhsu, 3 => Op.Mulhu, 4 => Op.Div, 5 => Op.Divu, 6 => Op.Rem, _ => Op.Remu,
            },
            (0x20, 7) when zbb => Op.Andn,
            (0x20, 6) when zbb => Op.Orn,
            (0x20, 4) when zbb => Op.Xnor,
            (0x05, 4) when zbb => Op.Min,
            (0x05, 5) when zbb => Op.Minu,
            (0x05, 6) when zbb => Op.Max,
            (0x05, 7) when zbb => Op.Maxu,
            (0x04, 4) when zbb && rs2 == 0 => Op.ZextH,
            (0x30, 1) when zbb => Op.Rol,
            (0x30, 5) when zbb => Op.Ror,
            _ => Op.Illegal,
        };
        return Make(op, raw, Xd(rd), rs1, rs2, 0);
    }

    private static Instruction Atomic(uint raw, uint rd, uint funct3, uint rs1, uint rs2)
    {
        if (funct3 != 2) return Illegal(raw, 4);
        Op op = (raw >> 27) switch
        {
            0x02 when rs2 == 0 => Op.LrW,
            0x03 => Op.ScW,
            0x01 => Op.AmoswapW,
            0x00 => Op.AmoaddW,
            0x04 => Op.AmoxorW,
            0x0C => Op.AmoandW,
            0x08 => Op.AmoorW,
            0x10 => Op.AmominW,
            0x14 => Op.AmomaxW,
            0x18 => Op.AmominuW,
            0x1C => Op.AmomaxuW,
            _ => Op.Illegal,
        };
        return Make(op, raw, Xd(rd), rs1, rs2, 0);
    }

    private static Instruction SystemOp(uint raw, uint rd, uint funct3, uint rs1)
    {
        if (funct3 == 0)
        {
            Op op = raw switch
            {
                0x00000073 => Op.Ecall,
                0x00100073 => Op.Ebreak,
                0x30200073 => Op.Mret,
                0x10500073 => Op.Wfi,
                _ => Op.Illegal,
            };
            return Make(op, raw, 0, 0, 0, 0);
        }
        Op csr = funct3 switch
        {
            1 => Op.Csrrw, 2 => Op.Csrrs, 3 => Op.Csrrc, 5 => Op.Csrrwi, 6 => Op.Csrrsi, 7 => Op.Csrrci, _ => Op.Illegal,
        };
        // Imm: the CSR number; Rs1: the source register or the 5-bit immediate.
        return Make(csr, raw, Xd(rd), rs1, 0, (int)(raw >> 20));
    }

    internal static int ImmS(uint raw) => ((int)raw >> 25 << 5) | (int)((raw >> 7) & 0x1F);

    private static int ImmB(uint raw) =>
        ((int)raw >> 31 << 12) | (int)((raw >> 7 & 1) << 11) | (int)((raw >> 25 & 0x3F) << 5) | (int)((raw >> 8 & 0xF) << 1);

    private static int ImmJ(uint raw) =>
        ((int)raw >> 31 << 20) | (int)(raw & 0xFF000) | (int)((raw >> 20 & 1) << 11) | (int)((raw >> 21 & 0x3FF) << 1);
}
