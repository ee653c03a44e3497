using System.Globalization;

namespace TinyOdl.Simulation;

/// <summary>
/// Assembler text of a decoded instruction, for trap reports and traces (ABI register names, hexadecimal branch
/// targets, no pseudo-instructions: a compressed instruction shows as the instruction it expands to).
/// </summary>
public static class Disassembler
{
    private static readonly string[] XNames =
    [
        "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
        "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6", "zero",
    ];

    private static readonly string[] FNames =
    [
        "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5",
        "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
    ];

    public static string X(int r) => XNames[r];
    public static string F(int r) => FNames[r];
    private static string V(int r) => "v" + r.ToString(CultureInfo.InvariantCulture);
    private static string Hex(long v) => v < 0 ? "-0x" + (-v).ToString("x", CultureInfo.InvariantCulture) : "0x" + v.ToString("x", CultureInfo.InvariantCulture);
    private static string Dec(int v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>The instruction as text; <paramref name="pc"/> resolves branch and jump targets.</summary>
    public static string Format(in Instruction i, uint pc)
    {
        var op = i.Op;
        var m = OpInfo.Mnemonic(op);
        string target = "0x" + (pc + (uint)i.Imm).ToString("x8", CultureInfo.InvariantCulture);
        string mem = $"{Dec(i.Imm)}({X(i.Rs1)})";
        switch (OpInfo.ClassOf(op))
        {
            case InstructionClass.Illegal:
                return op == Op.Undecoded ? "(not decoded)" : "(illegal or unsupported)";
            case InstructionClass.Alu when op is Op.Lui or Op.Auipc:
                return $"{m} {X(i.Rd)}, {Hex((uint)i.Imm >> 12)}";
            case InstructionClass.Alu when op is Op.Clz or Op.Ctz or Op.Cpop or Op.SextB or Op.SextH or Op.ZextH or Op.OrcB or Op.Rev8:
                return $"{m} {X(i.Rd)}, {X(i.Rs1)}";
            case InstructionClass.Alu when op is >= Op.Addi and <= Op.Srai or Op.Rori:
                return $"{m} {X(i.Rd)}, {X(i.Rs1)}, {Dec(i.Imm)}";
            case InstructionClass.Alu or InstructionClass.Multiply or InstructionClass.Divide:
                return $"{m} {X(i.Rd)}, {X(i.Rs1)}, {X(i.Rs2)}";
            case InstructionClass.Jump:
                return op == Op.Jal ? $"{m} {X(i.Rd)}, {target}" : $"{m} {X(i.Rd)}, {mem}";
            case InstructionClass.Branch:
                return $"{m} {X(i.Rs1)}, {X(i.Rs2)}, {target}";
            case InstructionClass.Load:
                return $"{m} {X(i.Rd)}, {mem}";
            case InstructionClass.Store:
                return $"{m} {X(i.Rs2)}, {mem}";
            case InstructionClass.Atomic:
                return op == Op.LrW ? $"{m} {X(i.Rd)}, ({X(i.Rs1)})" : $"{m} {X(i.Rd)}, {X(i.Rs2)}, ({X(i.Rs1)})";
            case InstructionClass.System:
                return m;
            case InstructionClass.Csr:
            {
                string csr = Csr.Name(i.Imm & 0xFFF);
                return op >= Op.Csrrwi ? $"{m} {X(i.Rd)}, {csr}, {Dec(i.Rs1)}" : $"{m} {X(i.Rd)}, {csr}, {X(i.Rs1)}";
            }
            case InstructionClass.FpLoad:
                return $"{m} {F(i.Rd)}, {mem}";
            case InstructionClass.FpStore:
                return $"{m} {F(i.Rs2)}, {mem}";
            case InstructionClass.FpFusedMultiplyAdd:
                return $"{m} {F(i.Rd)}, {F(i.Rs1)}, {F(i.Rs2)}, {F(i.Rs3)}";
            case InstructionClass.FpArithmetic or InstructionClass.FpDivide or InstructionClass.FpSqrt:
                return FormatFloat(i, m);
            case InstructionClass.VectorConfig:
                return op switch
                {
                    Op.Vsetvli => $"{m} {X(i.Rd)}, {X(i.Rs1)}, {VectorType.Describe((uint)i.Imm)}",
                    Op.Vsetivli => $"{m} {X(i.Rd)}, {Dec(i.Rs1)}, {VectorType.Describe((uint)i.Imm)}",
                    _ => $"{m} {X(i.Rd)}, {X(i.Rs1)}, {X(i.Rs2)}",
                };
            case InstructionClass.VectorLoad or InstructionClass.VectorStore:
                return FormatVectorMemory(i);
            default:
                return FormatVector(i, m);
        }
    }

    private static string FormatFloat(in Instruction i, string m)
    {
        var op = i.Op;
        if (op is Op.FsqrtS or Op.FsqrtH or Op.FcvtSH or Op.FcvtHS) return $"{m} {F(i.Rd)}, {F(i.Rs1)}";
        if (op is Op.FcvtWS or Op.FcvtWuS or Op.FcvtWH or Op.FcvtWuH or Op.FmvXW or Op.FmvXH or Op.FclassS or Op.FclassH)
            return $"{m} {X(i.Rd)}, {F(i.Rs1)}";
        if (op is Op.FcvtSW or Op.FcvtSWu or Op.FcvtHW or Op.FcvtHWu or Op.FmvWX or Op.FmvHX) return $"{m} {F(i.Rd)}, {X(i.Rs1)}";
        if (op is Op.FeqS or Op.FltS or Op.FleS or Op.FeqH or Op.FltH or Op.FleH) return $"{m} {X(i.Rd)}, {F(i.Rs1)}, {F(i.Rs2)}";
        return $"{m} {F(i.Rd)}, {F(i.Rs1)}, {F(i.Rs2)}";
    }

    private static string FormatVectorMemory(in Instruction i)
    {
        string w = Dec(i.Width * 8), mask = i.Masked ? ", v0.t" : "", nf = Dec(i.Imm), b = $"({X(i.Rs1)})";
        return i.Op switch
        {
            Op.VleV => $"vle{w}.v {V(i.Rd)}, {b}{mask}",
            Op.VleffV => $"vle{w}ff.v {V(i.Rd)}, {b}{mask}",
            Op.VseV => $"vse{w}.v {V(i.Rd)}, {b}{mask}",
            Op.VlseV => $"vlse{w}.v {V(i.Rd)}, {b}, {X(i.Rs2)}{mask}",
            Op.VsseV => $"vsse{w}.v {V(i.Rd)}, {b}, {X(i.Rs2)}{mask}",
            Op.VluxeiV or Op.VloxeiV or Op.VsuxeiV or Op.VsoxeiV =>
                $"{OpInfo.Mnemonic(i.Op)[..^2]}{w}.v {V(i.Rd)}, {b}, {V(i.Rs2)}{mask}",
            Op.VlmV => $"vlm.v {V(i.Rd)}, {b}",
            Op.VsmV => $"vsm.v {V(i.Rd)}, {b}",
            Op.VlreV => $"vl{nf}re{w}.v {V(i.Rd)}, {b}",
            _ => $"vs{nf}r.v {V(i.Rd)}, {b}",
        };
    }

    private static string FormatVector(in Instruction i, string m)
    {
        var op = i.Op;
        string mask = i.Masked ? ", v0.t" : "";
        string vd = V(i.Rd), vs2 = V(i.Rs2);
        // Multiply-add forms list the multiplier operand (vs1/rs1) before vs2.
        bool fma = op is >= Op.Vmadd and <= Op.Vnmsac or >= Op.Vwmaccu and <= Op.Vwmaccsu
            or >= Op.Vfmadd and <= Op.Vfnmsac or >= Op.Vfwmacc and <= Op.Vfwnmsac;
        string first = i.Form switch
        {
            VectorForm.VX or VectorForm.WX => X(i.Rs1),
            VectorForm.VF or VectorForm.WF => F(i.Rs1),
            // Shifts, slides and vrgather take the 5-bit immediate unsigned; the other .vi forms sign-extend it.
            VectorForm.VI or VectorForm.WI => op is Op.Vsll or Op.Vsrl or Op.Vsra or Op.Vnsrl or Op.Vnsra or Op.Vslideup
                or Op.Vslidedown or Op.Vrgather ? Dec(i.Rs1) : Dec(i.Imm),
            _ => V(i.Rs1),
        };
        switch (op)
        {
            case Op.Vmerge or Op.Vfmerge or Op.Vadc or Op.Vsbc:
                return $"{m}.{i.Form.ToString().ToLowerInvariant()}m {vd}, {vs2}, {first}, v0";
            case Op.Vmv:
                return $"vmv.v.{i.Form.ToString()[1..].ToLowerInvariant()} {vd}, {first}";
            case Op.VfmvVF:
                return $"{m} {vd}, {F(i.Rs1)}";
            case Op.VmvNrV:
                return $"vmv{Dec(i.Rs1 + 1)}r.v {vd}, {vs2}";
            case Op.VmvXS or Op.VcpopM or Op.VfirstM:
                return $"{m} {X(i.Rd)}, {vs2}{(op == Op.VmvXS ? "" : mask)}";
            case Op.VfmvFS:
                return $"{m} {F(i.Rd)}, {vs2}";
            case Op.VmvSX:
                return $"{m} {vd}, {X(i.Rs1)}";
            case Op.VfmvSF:
                return $"{m} {vd}, {F(i.Rs1)}";
            case Op.VidV:
                return $"{m} {vd}{mask}";
            case >= Op.VmandnMm and <= Op.VmxnorMm:
                return $"{m} {vd}, {vs2}, {V(i.Rs1)}";
        }
        string name = op is >= Op.VwadduW and <= Op.VwsubW or Op.VfwaddW or Op.VfwsubW ? m[..^2] : m;
        if (i.Form == VectorForm.None) return $"{name} {vd}, {vs2}{mask}";
        string suffix = "." + i.Form.ToString().ToLowerInvariant();
        return fma ? $"{name}{suffix} {vd}, {first}, {vs2}{mask}" : $"{name}{suffix} {vd}, {vs2}, {first}{mask}";
    }
}
