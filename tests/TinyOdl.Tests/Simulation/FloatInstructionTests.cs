using TinyOdl.Numerics;
using TinyOdl.Simulation;

namespace TinyOdl.Tests.Simulation;

/// <summary>The F and Zfh snippets, assembled once for <see cref="FloatInstructionTests"/>.</summary>
public sealed class FloatSnippets() : AsmSuite(Sources)
{
    public static readonly (string Name, string Source)[] Sources =
    [
        ("single", """
            li t0, 0x3f800000
            fmv.w.x fa0, t0
            li t0, 0x40400000
            fmv.w.x fa1, t0
            fdiv.s fa2, fa0, fa1
            csrrw s0, fflags, zero
            fsqrt.s fa3, fa1
            fmadd.s fa4, fa0, fa1, fa1
            csrr s1, fflags
            csrw fflags, zero
            fcvt.w.s s2, fa2
            li t0, 0xff800000
            fmv.w.x fa5, t0
            fcvt.w.s s3, fa5
            fcvt.wu.s s4, fa5
            li t1, 0x7fc00000
            fmv.w.x fa6, t1
            fcvt.w.s s5, fa6
            csrr s6, fflags
            fcvt.s.w fa7, s3
            li t2, 16777217
            fcvt.s.w ft0, t2
            fcvt.s.w ft1, t2, rup
            flt.s s7, fa0, fa1
            fle.s s8, fa1, fa0
            feq.s s9, fa6, fa6
            fclass.s s10, fa5
            fclass.s s11, fa6
            fmin.s ft2, fa6, fa0
            fsgnjn.s ft3, fa0, fa0
            fsub.s ft4, fa0, fa0
            fsub.s ft5, fa0, fa0, rdn
            fsrmi 2
            fsub.s ft6, fa0, fa0
            frrm a2
            fsrmi 0
            la a0, scratch
            fsw fa2, 0(a0)
            lw a1, 0(a0)
            flw ft7, 0(a0)
            """),
        ("half", """
            li t0, 0x3c00
            fmv.h.x fa0, t0
            li t0, 0x4200
            fmv.h.x fa1, t0
            fdiv.h fa2, fa0, fa1
            fmv.x.h s0, fa2
            li t0, 0xbc00
            fmv.h.x fa3, t0
            fmv.x.h s1, fa3
            fcvt.s.h fa4, fa2
            fcvt.h.s fa5, fa4
            li t0, 0x3f800000
            fmv.w.x fa6, t0
            fadd.h fa7, fa6, fa0
            fcvt.w.h s2, fa1
            fcvt.h.w ft0, s2
            fmadd.h ft1, fa0, fa1, fa1
            li t0, 0x7bff
            fmv.h.x ft2, t0
            fadd.h ft3, ft2, ft2
            csrr s3, fflags
            la a0, scratch
            fsh fa2, 0(a0)
            lhu s4, 0(a0)
            flh ft4, 0(a0)
            fsgnjx.h ft5, fa3, fa3
            flt.h s5, fa0, fa1
            fclass.h s6, fa6
            fcvt.s.h ft6, fa6
            """),
    ];
}

/// <summary>
/// F and Zfh semantics: results and accrued flags of a few hand-checked cases, rounding-mode selection (static and
/// dynamic), NaN boxing of binary16 values in the 32-bit f registers (an improperly boxed operand reads as the
/// canonical NaN; fmv.x.h sign-extends), conversions' out-of-range results. The arithmetic itself is
/// TinyOdl.Numerics, checked against QEMU by the Numerics oracle tests.
/// </summary>
public sealed class FloatInstructionTests(FloatSnippets suite) : IClassFixture<FloatSnippets>
{
    private static uint X(Hart h, string r) => AsmSuite.X(h, r);
    private static uint F(Hart h, string r) => AsmSuite.F(h, r);
    private const uint NX = (uint)ExceptionFlags.Inexact, NV = (uint)ExceptionFlags.Invalid, OF = (uint)ExceptionFlags.Overflow;

    [Fact]
    public void Single_precision_results_flags_and_conversions()
    {
        var h = suite.Run("single");
        AsmSuite.Expect(h,
            ("fa2", 0x3eaaaaabu),
            ("s0", NX),
            ("fa3", 0x3fddb3d7u),  // √3
            ("fa4", 0x40c00000u),  // 1·3 + 3, exact
            ("s1", NX),  // from fsqrt only
            ("s2", 0u),
            ("s3", 0x80000000u),  // -∞ → INT_MIN
            ("s4", 0u),  // -∞ → 0 unsigned
            ("s5", 0x7fffffffu),  // NaN → INT_MAX
            ("s6", NV | NX),
            ("fa7", 0xcf000000u),
            ("ft0", 0x4b800000u),  // 2^24 + 1 → tie to even
            ("ft1", 0x4b800001u),  // rup
            ("s7", 1u),
            ("s8", 0u),
            ("s9", 0u),
            ("s10", 1u),  // -∞
            ("s11", 1u << 9),  // quiet NaN
            ("ft2", 0x3f800000u),  // fmin ignores one NaN
            ("ft3", 0xbf800000u),
            ("ft4", 0u),
            ("ft5", 0x80000000u),  // x - x rounding down is -0
            ("ft6", 0x80000000u),  // same through frm
            ("a2", 2u),
            ("a1", 0x3eaaaaabu),
            ("ft7", 0x3eaaaaabu));
    }

    [Fact]
    public void Half_precision_is_nan_boxed_and_rounds_in_binary16()
    {
        var h = suite.Run("half");
        AsmSuite.Expect(h,
            ("fa2", 0xffff3555u),  // 1/3 in binary16, boxed
            ("s0", 0x3555u),
            ("s1", 0xffffbc00u),  // fmv.x.h sign-extends
            ("fa4", 0x3eaaa000u),
            ("fa5", 0xffff3555u),
            ("fa7", 0xffff7e00u),  // unboxed operand = canonical NaN
            ("s2", 3u),
            ("ft0", 0xffff4200u),
            ("ft1", 0xffff4600u),
            ("ft3", 0xffff7c00u),  // 65504 + 65504 overflows
            ("s3", NX | OF),
            ("s4", 0x3555u),
            ("ft4", 0xffff3555u),
            ("ft5", 0xffff3c00u),
            ("s5", 1u),
            ("s6", 1u << 9),
            ("ft6", Binary32.CanonicalNaN));  // fcvt.s.h of an unboxed value
    }
}
