namespace TinyOdl.Simulation.Timing;

/// <summary>Which register file an operand field names.</summary>
public enum RegisterFile : byte { None, X, F }

/// <summary>How the scalar pipeline times an operation (<see cref="OperandMap.KindOf"/>).</summary>
public enum TimingKind : byte
{
    Alu,
    Mul,
    MulHigh,
    Div,
    Jump,
    JumpRegister,
    Branch,
    Load,
    Store,
    Atomic,
    Fence,
    FenceI,
    /// <summary>mret: a jump to mepc.</summary>
    TrapReturn,
    /// <summary>ecall, ebreak, wfi.</summary>
    System,
    Csr,
    FpLoad,
    FpStore,
    /// <summary>fadd/fsub/fmul/fmadd family (FPU_ADDMUL_LAT group).</summary>
    FpAddMul,
    /// <summary>Comparisons, conversions, classify, sign injection, min/max, moves (FPU_OTHERS_LAT group).</summary>
    FpOther,
    FpDivSqrt,
    VectorConfig,
    Vector,
}

/// <summary>
/// The scalar register operands of each <see cref="Op"/>: which file the rd, rs1, rs2 and rs3 fields name (or none),
/// whether the operation is binary16, and its <see cref="TimingKind"/>. Read from the ISA manual's operand forms
/// (RV32I/M/A/F/Zfh/Zicsr/Zbb; for V the scalar operands: vset{i}vl{i}, base and stride registers, .vx/.vf forms and
/// the scalar moves). Vector register operands are <see cref="VectorTiming"/>'s.
/// </summary>
public static class OperandMap
{
    /// <summary>Files of rd, rs1, rs2, rs3, the binary16 flag and the timing kind, per operation.</summary>
    public readonly record struct Shape(RegisterFile Rd, RegisterFile Rs1, RegisterFile Rs2, RegisterFile Rs3, bool Half, TimingKind Kind);

    private static readonly Shape[] Shapes = Build();

    public static Shape Of(Op op) => Shapes[(int)op];

    public static TimingKind KindOf(Op op) => Shapes[(int)op].Kind;

    /// <summary>
    /// The rs1 file of a vector instruction depends on its operand form: .vx/.wx read x[rs1], .vf/.wf read f[rs1]
    /// (scalar moves and slides have their own rows in the table).
    /// </summary>
    public static RegisterFile VectorScalarSource(in Instruction d) => d.Form switch
    {
        VectorForm.VX or VectorForm.WX => RegisterFile.X,
        VectorForm.VF or VectorForm.WF => RegisterFile.F,
        _ => Shapes[(int)d.Op].Rs1,
    };

    private static Shape[] Build()
    {
        var ops = Enum.GetValues<Op>();
        var shapes = new Shape[ops.Max(o => (int)o) + 1];
        foreach (var op in ops) shapes[(int)op] = Describe(op);
        return shapes;
    }

    private const RegisterFile N = RegisterFile.None, X = RegisterFile.X, F = RegisterFile.F;

    private static Shape S(RegisterFile rd, RegisterFile rs1, RegisterFile rs2, TimingKind kind, RegisterFile rs3 = N, bool half = false) =>
        new(rd, rs1, rs2, rs3, half, kind);

    private static Shape Describe(Op op)
    {
        bool half = op is >= Op.Flh and <= Op.FmvHX;
        return op switch
        {
            Op.Undecoded or Op.Illegal => S(N, N, N, TimingKind.System),
            Op.Lui or Op.Auipc => S(X, N, N, TimingKind.Alu),
            >= Op.Addi and <= Op.Srai or Op.Clz or Op.Ctz or Op.Cpop or Op.SextB or Op.SextH or Op.ZextH or Op.Rori or Op.OrcB or Op.Rev8
                => S(X, X, N, TimingKind.Alu),
            >= Op.Add and <= Op.Rev8 => S(X, X, X, TimingKind.Alu),
            Op.Mul => S(X, X, X, TimingKind.Mul),
            Op.Mulh or Op.Mulhsu or Op.Mulhu => S(X, X, X, TimingKind.MulHigh),
            >= Op.Div and <= Op.Remu => S(X, X, X, TimingKind.Div),
            Op.Jal => S(X, N, N, TimingKind.Jump),
            Op.Jalr => S(X, X, N, TimingKind.JumpRegister),
            >= Op.Beq and <= Op.Bgeu => S(N, X, X, TimingKind.Branch),
            >= Op.Lb and <= Op.Lhu => S(X, X, N, TimingKind.Load),
            >= Op.Sb and <= Op.Sw => S(N, X, X, TimingKind.Store),
            Op.LrW => S(X, X, N, TimingKind.Atomic),
            >= Op.ScW and <= Op.AmomaxuW => S(X, X, X, TimingKind.Atomic),
            Op.Fence => S(N, N, N, TimingKind.Fence),
            Op.FenceI => S(N, N, N, TimingKind.FenceI),
            Op.Mret => S(N, N, N, TimingKind.TrapReturn),
            Op.Ecall or Op.Ebreak or Op.Wfi => S(N, N, N, TimingKind.System),
            Op.Csrrw or Op.Csrrs or Op.Csrrc => S(X, X, N, TimingKind.Csr),
            Op.Csrrwi or Op.Csrrsi or Op.Csrrci => S(X, N, N, TimingKind.Csr),
            Op.Flw or Op.Flh => S(F, X, N, TimingKind.FpLoad, half: half),
            Op.Fsw or Op.Fsh => S(N, X, F, TimingKind.FpStore, half: half),
            >= Op.FmaddS and <= Op.FnmaddS or >= Op.FmaddH and <= Op.FnmaddH => S(F, F, F, TimingKind.FpAddMul, F, half),
            Op.FaddS or Op.FsubS or Op.FmulS or Op.FaddH or Op.FsubH or Op.FmulH => S(F, F, F, TimingKind.FpAddMul, half: half),
            Op.FdivS or Op.FdivH => S(F, F, F, TimingKind.FpDivSqrt, half: half),
            Op.FsqrtS or Op.FsqrtH => S(F, F, N, TimingKind.FpDivSqrt, half: half),
            >= Op.FsgnjS and <= Op.FmaxS or >= Op.FsgnjH and <= Op.FmaxH => S(F, F, F, TimingKind.FpOther, half: half),
            Op.FcvtWS or Op.FcvtWuS or Op.FmvXW or Op.FclassS or Op.FcvtWH or Op.FcvtWuH or Op.FmvXH or Op.FclassH
                => S(X, F, N, TimingKind.FpOther, half: half),
            Op.FeqS or Op.FltS or Op.FleS or Op.FeqH or Op.FltH or Op.FleH => S(X, F, F, TimingKind.FpOther, half: half),
            Op.FcvtSW or Op.FcvtSWu or Op.FmvWX or Op.FcvtHW or Op.FcvtHWu or Op.FmvHX => S(F, X, N, TimingKind.FpOther, half: half),
            Op.FcvtSH or Op.FcvtHS => S(F, F, N, TimingKind.FpOther, half: true),
            Op.Vsetvli => S(X, X, N, TimingKind.VectorConfig),
            Op.Vsetivli => S(X, N, N, TimingKind.VectorConfig),
            Op.Vsetvl => S(X, X, X, TimingKind.VectorConfig),
            Op.VleV or Op.VleffV or Op.VlmV or Op.VlreV or Op.VluxeiV or Op.VloxeiV
                or Op.VseV or Op.VsmV or Op.VsrV or Op.VsuxeiV or Op.VsoxeiV => S(N, X, N, TimingKind.Vector),
            Op.VlseV or Op.VsseV => S(N, X, X, TimingKind.Vector),
            Op.VmvXS or Op.VcpopM or Op.VfirstM => S(X, N, N, TimingKind.Vector),
            Op.VfmvFS => S(F, N, N, TimingKind.Vector),
            Op.VmvSX => S(N, X, N, TimingKind.Vector),
            Op.VfmvSF or Op.VfmvVF => S(N, F, N, TimingKind.Vector),
            _ => S(N, N, N, TimingKind.Vector),
        };
    }
}
