namespace TinyOdl.Tests.Simulation;

/// <summary>
/// Instruction sequences checked only against QEMU (<see cref="QemuSnippetTests"/>), for the operations compiled
/// kernels rarely or never emit: permutations and mask instructions, saturating, widening and narrowing integer
/// arithmetic, divisions by zero, carries, FP16 square roots, classes, conversions and reductions, masked, indexed,
/// strided, mask, whole-register and fault-only-first accesses, scalar FP corner cases (sNaN, overflow, ÷ 0), and the
/// instructions counted across a semihosting call (its ebreak retires) and a trap (the trapping instruction does not).
/// They use the <c>halves</c> table of <see cref="VectorSnippets"/>.
/// </summary>
public static class QemuOnlySnippets
{
    public static readonly (string Name, string Source)[] Sources =
    [
        ("v_permute", """
            la a0, halves
            li a2, 8
            vsetvli zero, a2, e16, m1, ta, mu
            vle16.v v1, (a0)
            vid.v v2
            vslideup.vi v3, v1, 3
            vslidedown.vx v4, v1, a2
            li t0, 2
            vslidedown.vx v5, v1, t0
            vslide1up.vx v6, v1, t0
            vslide1down.vx v7, v1, t0
            vrsub.vi v8, v2, 7
            vrgather.vv v9, v1, v8
            vrgather.vi v10, v1, 3
            vmsleu.vi v0, v2, 3
            vcompress.vm v11, v1, v0
            viota.m v12, v0
            vmsne.vi v0, v2, 2
            vmsbf.m v13, v0
            vmsif.m v14, v0
            vmsof.m v15, v0
            vmandn.mm v16, v13, v14
            vmxnor.mm v17, v13, v15
            vmnand.mm v18, v14, v15
            vcpop.m s0, v14
            vfirst.m s1, v15
            li t1, 0xffffc000
            fmv.w.x fa0, t1
            vfslide1down.vf v19, v1, fa0
            vfslide1up.vf v20, v1, fa0
            vmv1r.v v21, v20
            vmv.s.x v22, t0
            vfmv.s.f v23, fa0
            """),
        ("v_int_arith", """
            li a2, 6
            vsetvli zero, a2, e8, m1, ta, ma
            vid.v v1
            li t0, 250
            vadd.vx v2, v1, t0
            vsaddu.vx v3, v1, t0
            li t1, 124
            vsadd.vx v4, v1, t1
            vssubu.vx v5, v1, t0
            li t1, -126
            vssub.vx v24, v1, t1
            csrr s0, vxsat
            vsetvli zero, a2, e16, m1, ta, ma
            vid.v v6
            li t2, -3
            vmul.vx v7, v6, t2
            vdiv.vx v8, v7, t2
            vrem.vv v25, v7, v6
            vdivu.vv v9, v7, v6
            vmulh.vx v10, v7, t2
            vmulhu.vx v11, v7, t2
            vmulhsu.vx v26, v7, t2
            vmin.vv v12, v7, v6
            vmaxu.vv v13, v7, v6
            vsra.vi v14, v7, 1
            li t3, 19
            vsll.vx v15, v6, t3
            vwmul.vx v16, v6, t2
            vwaddu.vv v18, v6, v6
            vwsub.wv v28, v16, v6
            vnsrl.wi v20, v16, 3
            vnsra.wx v27, v16, t2
            vmacc.vx v21, t2, v6
            vnmsub.vv v21, v6, v7
            vredmax.vs v22, v7, v6
            vwredsum.vs v23, v7, v18
            vmv.x.s s1, v22
            vmseq.vi v0, v6, 2
            vadc.vvm v29, v6, v7, v0
            vmadc.vvm v30, v6, v7, v0
            vmsbc.vx v31, v6, t2
            vmerge.vim v19, v6, 5, v0
            vsetvli zero, a2, e32, m1, ta, ma
            vzext.vf2 v2, v6
            vsext.vf4 v3, v1
            """),
        ("v_fp_misc", """
            la a0, halves
            li a2, 8
            li t0, 0xffff3e00
            fmv.w.x fa0, t0
            csrw fflags, zero
            vsetvli zero, a2, e16, m1, ta, ma
            vle16.v v1, (a0)
            vfsqrt.v v2, v1
            vfclass.v v3, v1
            vfmin.vv v4, v1, v2
            vfmax.vf v5, v1, fa0
            vfsgnjn.vv v6, v1, v1
            vmfne.vv v0, v1, v2
            vmfle.vf v31, v1, fa0
            vmfge.vf v30, v1, fa0
            vfcvt.x.f.v v7, v1
            vfcvt.rtz.xu.f.v v8, v1
            vfcvt.f.x.v v9, v7
            vfwcvt.x.f.v v10, v1
            vfwcvt.f.f.v v14, v1
            vfncvt.x.f.w v12, v14
            vfncvt.rtz.xu.f.w v13, v14
            vfncvt.f.xu.w v29, v10
            vfredmax.vs v16, v1, v1
            vfredmin.vs v17, v1, v1
            vfredusum.vs v18, v1, v1
            vfmul.vv v19, v1, v1
            vfdiv.vv v20, v1, v19
            vfrdiv.vf v21, v1, fa0
            vfrsub.vf v28, v1, fa0
            vfwmul.vf v22, v1, fa0
            vfwadd.wv v24, v22, v1
            vfwsub.vf v26, v1, fa0
            vfnmsac.vf v27, fa0, v1
            vfmsub.vv v27, v1, v2
            vfwredusum.vs v25, v1, v14
            frflags s0
            vsetvli zero, a2, e32, m2, ta, ma
            vfmv.f.s fa1, v22
            vfsgnjx.vv v22, v22, v24
            """),
        ("v_memory_forms", """
            la a0, halves
            la a1, scratch
            li a2, 8
            vsetvli zero, a2, e16, m1, ta, mu
            vid.v v1
            vsll.vi v2, v1, 1
            vrsub.vi v3, v2, 14
            vluxei16.v v4, (a0), v3
            vloxei16.v v9, (a0), v2
            vmsne.vi v0, v1, 3
            vmv.v.i v5, 0
            vle16.v v5, (a0), v0.t
            vse16.v v4, (a1)
            addi t0, a1, 16
            vse16.v v5, (t0), v0.t
            addi t4, a1, 96
            vsuxei16.v v4, (t4), v2
            vsoxei16.v v4, (t4), v3
            addi t1, a1, 32
            li t2, 6
            vsse16.v v1, (t1), t2
            vlse16.v v6, (t1), t2
            li t2, -2
            addi t5, a0, 14
            vlse16.v v10, (t5), t2
            vlm.v v7, (a0)
            addi t6, a1, 200
            vsm.v v0, (t6)
            vl1re16.v v8, (a0)
            addi t3, a1, 64
            vs1r.v v8, (t3)
            vle16ff.v v11, (a0)
            csrr s0, vl
            vsetvli zero, a2, e8, m1, ta, ma
            vle8.v v12, (a0)
            vse8.v v12, (t6)
            """),
        ("counted_semihosting_and_trap", """
            csrr s0, minstret
            li a0, 4
            la a1, 7f
            """ + "\n" + AsmSuite.SemihostingCall + """
            csrr s1, minstret
            sub s2, s1, s0
            la t0, 8f
            csrw mtvec, t0
            csrr s0, minstret
            ecall
            .balign 4
            8:  csrr s1, minstret
            sub s3, s1, s0
            csrr s4, mcause
            li s0, 0
            li s1, 0
            .data
            7:  .asciz "counted\n"
            .text
            """),
        ("trap_counts", """
            la t0, 9f
            csrw mtvec, t0
            la s6, scratch
            .option push
            .option norvc
            csrr s0, minstret
            .word 0xffffffff
            csrr s0, minstret
            lw t1, 0(zero)
            csrr s0, minstret
            csrr t1, 0x7c0
            fsrmi 5
            csrr s0, minstret
            fadd.s ft0, ft0, ft0
            fsrmi 0
            csrr s0, minstret
            .word 0x00005053                 # fadd.s ft0, ft0, ft0 with the reserved rm 5
            csrr s0, minstret
            ebreak
            la a1, scratch + 2
            csrr s0, minstret
            lr.w t1, (a1)
            csrr s0, minstret
            amoadd.w t1, t1, (a1)
            csrr s0, minstret
            sc.w t1, t1, (a1)
            csrr s0, minstret
            sw t1, 0(zero)
            csrr s0, minstret
            amoadd.w t1, t1, (zero)
            csrr s0, minstret
            lr.w t1, (zero)
            li t1, 0x6000
            csrc mstatus, t1
            csrr s0, minstret
            fadd.s ft0, ft0, ft0
            csrs mstatus, t1
            vsetvli zero, zero, e64, mf8, ta, ma
            csrr s0, minstret
            vadd.vv v1, v1, v1
            .option pop
            j 10f
            .balign 4
            9:  csrr s1, minstret
            sub s1, s1, s0
            sw s1, 0(s6)
            csrr s1, mcause
            sw s1, 4(s6)
            addi s6, s6, 8
            csrr t2, mepc
            addi t2, t2, 4
            csrw mepc, t2
            li s1, 0
            mret
            10: li s0, 0
            """),
        ("fp_corners", """
            csrw fflags, zero
            li t0, 0x7f800001
            fmv.w.x fa0, t0
            li t0, 0x3f800000
            fmv.w.x fa1, t0
            fmin.s fa2, fa0, fa1
            fmax.s fa3, fa0, fa0
            feq.s s0, fa0, fa1
            fcvt.wu.s s1, fa1, rtz
            li t1, -1
            fcvt.s.wu fa4, t1
            fcvt.h.wu fa5, t1
            fcvt.wu.h s2, fa5
            fsqrt.s fa6, fa1
            fnmadd.s fa7, fa1, fa1, fa1
            li t2, 0xffff3c00
            fmv.w.x ft0, t2
            fmsub.h ft1, ft0, ft0, ft0
            fnmsub.h ft2, ft0, ft0, ft0
            fclass.s s3, fa0
            fmv.w.x ft3, zero
            fdiv.s ft4, fa1, ft3
            fsgnjn.s ft5, fa1, fa1
            fsqrt.s ft6, ft5
            fsqrt.h ft7, ft0
            fle.h s5, ft0, ft1
            fcvt.w.h s6, ft1, rmm
            fcvt.h.w ft8, s6, rdn
            frflags s4
            li t3, 0x00800001
            fmv.w.x fs0, t3
            fmul.s fs1, fs0, fs0, rup
            fadd.s fs2, fs0, fs0, rtz
            li t4, 0x7f7fffff
            fmv.w.x fs3, t4
            fmadd.s fs4, fs3, fs3, fs3, rtz
            fmadd.s fs5, fs3, fs3, fs3, rmm
            frflags s7
            """),
    ];
}
