using System.Text;

namespace TinyOdl.Simulation;

/// <summary>Static facts about each <see cref="Op"/>: its <see cref="InstructionClass"/> and its mnemonic.</summary>
public static class OpInfo
{
    private static readonly InstructionClass[] Classes = BuildClasses();
    private static readonly string[] Names = Enum.GetValues<Op>().Select(Spell).ToArray();

    public static InstructionClass ClassOf(Op op) => Classes[(int)op];

    /// <summary>The operation <paramref name="k"/> places after <paramref name="op"/> (decoders index families laid out in encoding order).</summary>
    public static Op Plus(this Op op, int k) => (Op)((int)op + k);

    /// <summary>The assembler mnemonic without the form suffix of vector arithmetic (that is <see cref="VectorForm"/>).</summary>
    public static string Mnemonic(Op op) => Names[(int)op];

    /// <summary>"FcvtWuS" → "fcvt.wu.s": a dot before every capital letter after the first.</summary>
    private static string Spell(Op op)
    {
        var name = op.ToString();
        var sb = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i])) sb.Append('.');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }

    private static InstructionClass[] BuildClasses()
    {
        var ops = Enum.GetValues<Op>();
        var classes = new InstructionClass[ops.Max(o => (int)o) + 1];
        foreach (var op in ops) classes[(int)op] = Classify(op);
        return classes;
    }

    private static InstructionClass Classify(Op op) => op switch
    {
        Op.Undecoded or Op.Illegal => InstructionClass.Illegal,
        >= Op.Lui and <= Op.Rev8 => InstructionClass.Alu,
        Op.Mul or Op.Mulh or Op.Mulhsu or Op.Mulhu => InstructionClass.Multiply,
        >= Op.Div and <= Op.Remu => InstructionClass.Divide,
        Op.Jal or Op.Jalr => InstructionClass.Jump,
        >= Op.Beq and <= Op.Bgeu => InstructionClass.Branch,
        >= Op.Lb and <= Op.Lhu => InstructionClass.Load,
        >= Op.Sb and <= Op.Sw => InstructionClass.Store,
        >= Op.LrW and <= Op.AmomaxuW => InstructionClass.Atomic,
        >= Op.Fence and <= Op.Wfi => InstructionClass.System,
        >= Op.Csrrw and <= Op.Csrrci => InstructionClass.Csr,
        Op.Flw or Op.Flh => InstructionClass.FpLoad,
        Op.Fsw or Op.Fsh => InstructionClass.FpStore,
        >= Op.FmaddS and <= Op.FnmaddS or >= Op.FmaddH and <= Op.FnmaddH => InstructionClass.FpFusedMultiplyAdd,
        Op.FdivS or Op.FdivH => InstructionClass.FpDivide,
        Op.FsqrtS or Op.FsqrtH => InstructionClass.FpSqrt,
        >= Op.FaddS and <= Op.FmvHX => InstructionClass.FpArithmetic,
        >= Op.Vsetvli and <= Op.Vsetvl => InstructionClass.VectorConfig,
        >= Op.VleV and <= Op.VlreV => InstructionClass.VectorLoad,
        >= Op.VseV and <= Op.VsrV => InstructionClass.VectorStore,
        Op.Vwredsumu or Op.Vwredsum or >= Op.Vredsum and <= Op.Vredmax or >= Op.Vfredusum and <= Op.Vfwredosum
            => InstructionClass.VectorReduction,
        Op.Vrgather or Op.Vslideup or Op.Vslidedown or Op.Vmerge or Op.Vmv or Op.VmvNrV or Op.Vslide1up or Op.Vslide1down
            or Op.VcompressVm or Op.VmvXS or Op.VmvSX or Op.VfmvFS or Op.VfmvSF or Op.Vfmerge or Op.VfmvVF
            or Op.Vfslide1up or Op.Vfslide1down or Op.VidV or Op.ViotaM or Op.VcpopM or Op.VfirstM
            or >= Op.VmsbfM and <= Op.VmsifM or >= Op.VmandnMm and <= Op.VmxnorMm => InstructionClass.VectorPermute,
        >= Op.Vdivu and <= Op.Vrem => InstructionClass.VectorIntegerDivide,
        >= Op.Vmulhu and <= Op.Vnmsac or >= Op.Vwmulu and <= Op.Vwmaccsu => InstructionClass.VectorIntegerMultiply,
        >= Op.Vfmadd and <= Op.Vfnmsac or >= Op.Vfwmacc and <= Op.Vfwnmsac => InstructionClass.VectorFpFusedMultiplyAdd,
        Op.Vfdiv or Op.Vfrdiv or Op.VfsqrtV => InstructionClass.VectorFpDivide,
        >= Op.Vfadd and <= Op.VfncvtRtzXFW => InstructionClass.VectorFp,
        _ => InstructionClass.VectorInteger,
    };
}
