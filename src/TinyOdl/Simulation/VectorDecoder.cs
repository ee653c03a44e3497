namespace TinyOdl.Simulation;

/// <summary>
/// Decodes RVV 1.0 instructions: OP-V (configuration, integer, mask and floating-point arithmetic) and the vector
/// loads and stores under LOAD-FP/STORE-FP. Tables: RVV 1.0 "Vector Instruction Listing" (funct6 per OPIVV/OPIVX/
/// OPIVI, OPMVV/OPMVX, OPFVV/OPFVF, and the VWXUNARY0, VRXUNARY0, VXUNARY0, VMUNARY0, VWFUNARY0, VRFUNARY0,
/// VFUNARY0 and VFUNARY1 spaces). Not decoded (illegal): segment accesses (nf &gt; 0 except whole-register ones),
/// fixed-point averaging/clipping/vsmul, vrgatherei16, vfrsqrt7/vfrec7, vfncvt.rod.
/// </summary>
public static class VectorDecoder
{
    private const int OPIVV = 0, OPFVV = 1, OPMVV = 2, OPIVI = 3, OPIVX = 4, OPFVF = 5, OPMVX = 6, OPCFG = 7;

    public static Instruction DecodeOpV(uint raw, IsaFeatures features)
    {
        uint funct3 = (raw >> 12) & 7, vd = (raw >> 7) & 0x1F, vs1 = (raw >> 15) & 0x1F, vs2 = (raw >> 20) & 0x1F;
        if (funct3 == OPCFG)
        {
            if ((raw >> 31) == 0) return Decoder.Make(Op.Vsetvli, raw, Decoder.Xd(vd), vs1, 0, (int)((raw >> 20) & 0x7FF));
            if ((raw >> 30) == 3) return Decoder.Make(Op.Vsetivli, raw, Decoder.Xd(vd), vs1, 0, (int)((raw >> 20) & 0x3FF));
            if (((raw >> 25) & 0x3F) == 0x20) return Decoder.Make(Op.Vsetvl, raw, Decoder.Xd(vd), vs1, vs2, 0);
            return Decoder.Illegal(raw, 4);
        }
        uint funct6 = raw >> 26;
        bool vm = ((raw >> 25) & 1) != 0;
        (Op op, VectorForm form) = funct3 switch
        {
            OPIVV or OPIVX or OPIVI => Integer(funct6, (int)funct3, vm, vs1, vs2),
            OPMVV or OPMVX => Mask(funct6, (int)funct3, vs1, vs2),
            _ => Float(funct6, (int)funct3, vm, vs1, vs2),
        };
        if (op == Op.Illegal) return Decoder.Illegal(raw, 4);
        // Instructions writing an x register: x0 goes to the sink.
        uint rd = op is Op.VmvXS or Op.VcpopM or Op.VfirstM ? Decoder.Xd(vd) : vd;
        var inst = Decoder.Make(op, raw, rd, vs1, vs2, form is VectorForm.VI or VectorForm.WI ? (int)(vs1 << 27) >> 27 : (int)vs1);
        inst.Rs3 = (byte)form;
        inst.Aux = (byte)(vm ? 1 : 0);
        return inst;
    }

    private static (Op, VectorForm) Integer(uint funct6, int funct3, bool vm, uint vs1, uint vs2)
    {
        var form = funct3 switch { OPIVV => VectorForm.VV, OPIVX => VectorForm.VX, _ => VectorForm.VI };
        bool v = form == VectorForm.VV, i = form == VectorForm.VI;
        Op op = funct6 switch
        {
            0x00 => Op.Vadd,
            0x02 when !i => Op.Vsub,
            0x03 when !v => Op.Vrsub,
            0x04 when !i => Op.Vminu,
            0x05 when !i => Op.Vmin,
            0x06 when !i => Op.Vmaxu,
            0x07 when !i => Op.Vmax,
            0x09 => Op.Vand,
            0x0A => Op.Vor,
            0x0B => Op.Vxor,
            0x0C => Op.Vrgather,
            0x0E when !v => Op.Vslideup,
            0x0F when !v => Op.Vslidedown,
            0x10 when !vm => Op.Vadc,
            0x11 => Op.Vmadc,
            0x12 when !i && !vm => Op.Vsbc,
            0x13 when !i => Op.Vmsbc,
            0x17 when !vm => Op.Vmerge,
            0x17 when vm && vs2 == 0 => Op.Vmv,
            0x18 => Op.Vmseq,
            0x19 => Op.Vmsne,
            0x1A when !i => Op.Vmsltu,
            0x1B when !i => Op.Vmslt,
            0x1C => Op.Vmsleu,
            0x1D => Op.Vmsle,
            0x1E when !v => Op.Vmsgtu,
            0x1F when !v => Op.Vmsgt,
            0x20 => Op.Vsaddu,
            0x21 => Op.Vsadd,
            0x22 when !i => Op.Vssubu,
            0x23 when !i => Op.Vssub,
            0x25 => Op.Vsll,
            0x27 when i && vm && vs1 is 0 or 1 or 3 or 7 => Op.VmvNrV,
            0x28 => Op.Vsrl,
            0x29 => Op.Vsra,
            0x2C => Op.Vnsrl,
            0x2D => Op.Vnsra,
            0x30 when v => Op.Vwredsumu,
            0x31 when v => Op.Vwredsum,
            _ => Op.Illegal,
        };
        if (op is Op.Vwredsumu or Op.Vwredsum) form = VectorForm.VS;
        if (op is Op.Vnsrl or Op.Vnsra) form = form == VectorForm.VV ? VectorForm.WV : form == VectorForm.VX ? VectorForm.WX : VectorForm.WI;
        return (op, form);
    }

    private static (Op, VectorForm) Mask(uint funct6, int funct3, uint vs1, uint vs2)
    {
        bool v = funct3 == OPMVV;
        var form = v ? VectorForm.VV : VectorForm.VX;
        Op op = funct6 switch
        {
            <= 0x07 when v => Op.Vredsum.Plus((int)funct6),
            0x0E when !v => Op.Vslide1up,
            0x0F when !v => Op.Vslide1down,
            0x10 when v => vs1 switch { 0x00 => Op.VmvXS, 0x10 => Op.VcpopM, 0x11 => Op.VfirstM, _ => Op.Illegal },
            0x10 when !v && vs2 == 0 => Op.VmvSX,
            0x12 when v => vs1 switch
            {
                0x04 => Op.VzextVf4, 0x05 => Op.VsextVf4, 0x06 => Op.VzextVf2, 0x07 => Op.VsextVf2, _ => Op.Illegal,
            },
            0x14 when v => vs1 switch
            {
                0x01 => Op.VmsbfM, 0x02 => Op.VmsofM, 0x03 => Op.VmsifM, 0x10 => Op.ViotaM, 0x11 => Op.VidV, _ => Op.Illegal,
            },
            0x17 when v => Op.VcompressVm,
            >= 0x18 and <= 0x1F when v => Op.VmandnMm.Plus((int)(funct6 - 0x18)),
            0x20 => Op.Vdivu,
            0x21 => Op.Vdiv,
            0x22 => Op.Vremu,
            0x23 => Op.Vrem,
            0x24 => Op.Vmulhu,
            0x25 => Op.Vmul,
            0x26 => Op.Vmulhsu,
            0x27 => Op.Vmulh,
            0x29 => Op.Vmadd,
            0x2B => Op.Vnmsub,
            0x2D => Op.Vmacc,
            0x2F => Op.Vnmsac,
            >= 0x30 and <= 0x33 => Op.Vwaddu.Plus((int)(funct6 - 0x30)),
            >= 0x34 and <= 0x37 => Op.VwadduW.Plus((int)(funct6 - 0x34)),
            0x38 => Op.Vwmulu,
            0x3A => Op.Vwmulsu,
            0x3B => Op.Vwmul,
            0x3C => Op.Vwmaccu,
            0x3D => Op.Vwmacc,
            0x3E when !v => Op.Vwmaccus,
            0x3F => Op.Vwmaccsu,
            _ => Op.Illegal,
        };
        if (op is >= Op.Vredsum and <= Op.Vredmax) form = VectorForm.VS;
        else if (op is >= Op.VmandnMm and <= Op.VmxnorMm) form = VectorForm.MM;
        else if (op is >= Op.VwadduW and <= Op.VwsubW) form = v ? VectorForm.WV : VectorForm.WX;
        else if (op is Op.VmvXS or Op.VcpopM or Op.VfirstM or Op.VmvSX or Op.VzextVf2 or Op.VsextVf2 or Op.VzextVf4 or Op.VsextVf4
                 or Op.VidV or Op.ViotaM or Op.VmsbfM or Op.VmsofM or Op.VmsifM or Op.VcompressVm) form = VectorForm.None;
        return (op, form);
    }

    private static (Op, VectorForm) Float(uint funct6, int funct3, bool vm, uint vs1, uint vs2)
    {
        bool v = funct3 == OPFVV;
        var form = v ? VectorForm.VV : VectorForm.VF;
        Op op = funct6 switch
        {
            0x00 => Op.Vfadd,
            0x01 when v => Op.Vfredusum,
            0x02 => Op.Vfsub,
            0x03 when v => Op.Vfredosum,
            0x04 => Op.Vfmin,
            0x05 when v => Op.Vfredmin,
            0x06 => Op.Vfmax,
            0x07 when v => Op.Vfredmax,
            0x08 => Op.Vfsgnj,
            0x09 => Op.Vfsgnjn,
            0x0A => Op.Vfsgnjx,
            0x0E when !v => Op.Vfslide1up,
            0x0F when !v => Op.Vfslide1down,
            0x10 when v && vs1 == 0 => Op.VfmvFS,
            0x10 when !v && vs2 == 0 => Op.VfmvSF,
            0x12 when v => vs1 switch
            {
                0x00 => Op.VfcvtXuFV, 0x01 => Op.VfcvtXFV, 0x02 => Op.VfcvtFXuV, 0x03 => Op.VfcvtFXV,
                0x06 => Op.VfcvtRtzXuFV, 0x07 => Op.VfcvtRtzXFV,
                0x08 => Op.VfwcvtXuFV, 0x09 => Op.VfwcvtXFV, 0x0A => Op.VfwcvtFXuV, 0x0B => Op.VfwcvtFXV, 0x0C => Op.VfwcvtFFV,
                0x0E => Op.VfwcvtRtzXuFV, 0x0F => Op.VfwcvtRtzXFV,
                0x10 => Op.VfncvtXuFW, 0x11 => Op.VfncvtXFW, 0x12 => Op.VfncvtFXuW, 0x13 => Op.VfncvtFXW, 0x14 => Op.VfncvtFFW,
                0x16 => Op.VfncvtRtzXuFW, 0x17 => Op.VfncvtRtzXFW,
                _ => Op.Illegal,
            },
            0x13 when v => vs1 switch { 0x00 => Op.VfsqrtV, 0x10 => Op.VfclassV, _ => Op.Illegal },
            0x17 when !v && !vm => Op.Vfmerge,
            0x17 when !v && vm && vs2 == 0 => Op.VfmvVF,
            0x18 => Op.Vmfeq,
            0x19 => Op.Vmfle,
            0x1B => Op.Vmflt,
            0x1C => Op.Vmfne,
            0x1D when !v => Op.Vmfgt,
            0x1F when !v => Op.Vmfge,
            0x20 => Op.Vfdiv,
            0x21 when !v => Op.Vfrdiv,
            0x24 => Op.Vfmul,
            0x27 when !v => Op.Vfrsub,
            >= 0x28 and <= 0x2F => Op.Vfmadd.Plus((int)(funct6 - 0x28)),
            0x30 => Op.Vfwadd,
            0x31 when v => Op.Vfwredusum,
            0x32 => Op.Vfwsub,
            0x33 when v => Op.Vfwredosum,
            0x34 => Op.VfwaddW,
            0x36 => Op.VfwsubW,
            0x38 => Op.Vfwmul,
            >= 0x3C and <= 0x3F => Op.Vfwmacc.Plus((int)(funct6 - 0x3C)),
            _ => Op.Illegal,
        };
        if (op is >= Op.Vfredusum and <= Op.Vfwredosum) form = VectorForm.VS;
        else if (op is Op.VfwaddW or Op.VfwsubW) form = v ? VectorForm.WV : VectorForm.WF;
        else if (op is >= Op.VfmvFS and <= Op.VfncvtRtzXFW) form = VectorForm.None;
        else if (op is Op.VfmvVF) form = VectorForm.None;
        return (op, form);
    }

    /// <summary>Vector loads (LOAD-FP) and stores (STORE-FP) with widths 8, 16, 32, 64.</summary>
    public static Instruction DecodeMemory(uint raw, bool load)
    {
        uint width = ((raw >> 12) & 7) switch { 0 => 1u, 5 => 2u, 6 => 4u, _ => 8u };
        uint nf = raw >> 29, mew = (raw >> 28) & 1, mop = (raw >> 26) & 3, vm = (raw >> 25) & 1;
        uint umop = (raw >> 20) & 0x1F, rs1 = (raw >> 15) & 0x1F, vd = (raw >> 7) & 0x1F;
        if (mew != 0) return Decoder.Illegal(raw, 4);
        Op op = mop switch
        {
            0 when umop == 0 && nf == 0 => load ? Op.VleV : Op.VseV,
            0 when umop == 8 && vm == 1 && nf is 0 or 1 or 3 or 7 => load ? Op.VlreV : Op.VsrV,
            0 when umop == 11 && vm == 1 && nf == 0 && width == 1 => load ? Op.VlmV : Op.VsmV,
            0 when umop == 16 && load && nf == 0 => Op.VleffV,
            1 when nf == 0 => load ? Op.VluxeiV : Op.VsuxeiV,
            2 when nf == 0 => load ? Op.VlseV : Op.VsseV,
            3 when nf == 0 => load ? Op.VloxeiV : Op.VsoxeiV,
            _ => Op.Illegal,
        };
        if (op == Op.Illegal) return Decoder.Illegal(raw, 4);
        // Rd: vd (load) or vs3 (store); Rs2: stride register or index vector; Imm: number of registers (whole-register).
        var inst = Decoder.Make(op, raw, vd, rs1, umop, (int)nf + 1);
        inst.Aux = (byte)(vm | width << 1);
        return inst;
    }
}
