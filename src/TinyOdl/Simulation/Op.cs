namespace TinyOdl.Simulation;

/// <summary>
/// Every operation the decoder produces. Compressed instructions decode to the operation they expand to (with
/// <see cref="Instruction.Length"/> 2). Member names spell the assembler mnemonic: each capital letter after the
/// first starts a new dot-separated part (<c>FcvtWS</c> is <c>fcvt.w.s</c>, <c>VfwmaccVf</c> is <c>vfwmacc.vf</c>);
/// see <see cref="OpInfo.Mnemonic"/>. The order groups the operations by <see cref="InstructionClass"/>.
/// </summary>
public enum Op : ushort
{
    /// <summary>Not decoded yet (a fresh predecode-cache entry).</summary>
    Undecoded = 0,
    /// <summary>Not a supported instruction: executing it raises an illegal-instruction trap.</summary>
    Illegal,

    // RV32I
    Lui, Auipc, Addi, Slti, Sltiu, Xori, Ori, Andi, Slli, Srli, Srai,
    Add, Sub, Sll, Slt, Sltu, Xor, Srl, Sra, Or, And,
    // Zbb
    Andn, Orn, Xnor, Clz, Ctz, Cpop, Max, Maxu, Min, Minu, SextB, SextH, ZextH, Rol, Ror, Rori, OrcB, Rev8,
    // M
    Mul, Mulh, Mulhsu, Mulhu, Div, Divu, Rem, Remu,
    // control transfer
    Jal, Jalr, Beq, Bne, Blt, Bge, Bltu, Bgeu,
    // loads and stores
    Lb, Lh, Lw, Lbu, Lhu, Sb, Sh, Sw,
    // A
    LrW, ScW, AmoswapW, AmoaddW, AmoxorW, AmoandW, AmoorW, AmominW, AmomaxW, AmominuW, AmomaxuW,
    // system and Zicsr
    Fence, FenceI, Ecall, Ebreak, Mret, Wfi, Csrrw, Csrrs, Csrrc, Csrrwi, Csrrsi, Csrrci,

    // F
    Flw, Fsw, FmaddS, FmsubS, FnmsubS, FnmaddS, FaddS, FsubS, FmulS, FdivS, FsqrtS,
    FsgnjS, FsgnjnS, FsgnjxS, FminS, FmaxS, FcvtWS, FcvtWuS, FmvXW, FeqS, FltS, FleS, FclassS, FcvtSW, FcvtSWu, FmvWX,
    // Zfh
    Flh, Fsh, FmaddH, FmsubH, FnmsubH, FnmaddH, FaddH, FsubH, FmulH, FdivH, FsqrtH,
    FsgnjH, FsgnjnH, FsgnjxH, FminH, FmaxH, FcvtSH, FcvtHS, FcvtWH, FcvtWuH, FmvXH, FeqH, FltH, FleH, FclassH,
    FcvtHW, FcvtHWu, FmvHX,

    // V: configuration
    Vsetvli, Vsetivli, Vsetvl,
    // V: memory (the element width is Instruction.Width)
    VleV, VlseV, VluxeiV, VloxeiV, VleffV, VlmV, VlreV, VseV, VsseV, VsuxeiV, VsoxeiV, VsmV, VsrV,

    // V: integer arithmetic (OPIVV / OPIVX / OPIVI; .vv .vx .vi are one op each, the form is Instruction.Form)
    Vadd, Vsub, Vrsub, Vminu, Vmin, Vmaxu, Vmax, Vand, Vor, Vxor, Vrgather, Vslideup, Vslidedown,
    Vadc, Vmadc, Vsbc, Vmsbc, Vmerge, Vmv, Vmseq, Vmsne, Vmsltu, Vmslt, Vmsleu, Vmsle, Vmsgtu, Vmsgt,
    Vsaddu, Vsadd, Vssubu, Vssub, Vsll, Vsrl, Vsra, Vnsrl, Vnsra, VmvNrV,
    Vwredsumu, Vwredsum,
    // V: OPMVV / OPMVX
    Vredsum, Vredand, Vredor, Vredxor, Vredminu, Vredmin, Vredmaxu, Vredmax,
    VmvXS, VcpopM, VfirstM, VmvSX, VzextVf2, VsextVf2, VzextVf4, VsextVf4, VidV, ViotaM,
    VmsbfM, VmsofM, VmsifM, Vslide1up, Vslide1down, VcompressVm,
    VmandnMm, VmandMm, VmorMm, VmxorMm, VmornMm, VmnandMm, VmnorMm, VmxnorMm,
    Vdivu, Vdiv, Vremu, Vrem, Vmulhu, Vmul, Vmulhsu, Vmulh, Vmadd, Vnmsub, Vmacc, Vnmsac,
    Vwaddu, Vwadd, Vwsubu, Vwsub, VwadduW, VwaddW, VwsubuW, VwsubW, Vwmulu, Vwmulsu, Vwmul, Vwmaccu, Vwmacc, Vwmaccus, Vwmaccsu,
    // V: floating point (OPFVV / OPFVF)
    Vfadd, Vfsub, Vfrsub, Vfmin, Vfmax, Vfsgnj, Vfsgnjn, Vfsgnjx, Vfslide1up, Vfslide1down,
    Vfmul, Vfdiv, Vfrdiv, Vfmerge, VfmvVF, Vmfeq, Vmfle, Vmflt, Vmfne, Vmfgt, Vmfge,
    Vfmadd, Vfnmadd, Vfmsub, Vfnmsub, Vfmacc, Vfnmacc, Vfmsac, Vfnmsac,
    Vfwadd, Vfwsub, VfwaddW, VfwsubW, Vfwmul, Vfwmacc, Vfwnmacc, Vfwmsac, Vfwnmsac,
    Vfredusum, Vfredosum, Vfredmin, Vfredmax, Vfwredusum, Vfwredosum,
    VfmvFS, VfmvSF, VfsqrtV, VfclassV,
    VfcvtXuFV, VfcvtXFV, VfcvtFXuV, VfcvtFXV, VfcvtRtzXuFV, VfcvtRtzXFV,
    VfwcvtXuFV, VfwcvtXFV, VfwcvtFXuV, VfwcvtFXV, VfwcvtFFV, VfwcvtRtzXuFV, VfwcvtRtzXFV,
    VfncvtXuFW, VfncvtXFW, VfncvtFXuW, VfncvtFXW, VfncvtFFW, VfncvtRtzXuFW, VfncvtRtzXFW,
}

/// <summary>What an instruction does, for a cycle model: each <see cref="Op"/> has exactly one class.</summary>
public enum InstructionClass : byte
{
    Illegal,
    /// <summary>Integer ALU, lui/auipc, Zbb.</summary>
    Alu,
    Multiply,
    Divide,
    Jump,
    Branch,
    Load,
    Store,
    Atomic,
    /// <summary>fence, ecall, ebreak, mret, wfi.</summary>
    System,
    Csr,
    FpLoad,
    FpStore,
    /// <summary>add, sub, mul, min/max, sign injection, compares, classify, moves and conversions.</summary>
    FpArithmetic,
    FpFusedMultiplyAdd,
    FpDivide,
    FpSqrt,
    VectorConfig,
    VectorLoad,
    VectorStore,
    VectorInteger,
    VectorIntegerMultiply,
    VectorIntegerDivide,
    VectorFp,
    VectorFpFusedMultiplyAdd,
    VectorFpDivide,
    VectorReduction,
    /// <summary>Mask-register logic, permutations, moves.</summary>
    VectorPermute,
}

/// <summary>The operand form of a vector arithmetic instruction.</summary>
public enum VectorForm : byte { None, VV, VX, VI, VF, WV, WX, WI, WF, VS, MM }
