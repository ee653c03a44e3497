using TinyOdl.Numerics;
using TinyOdl.Simulation;

namespace TinyOdl.Tests.Simulation;

/// <summary>The RVV snippets, assembled once for <see cref="VectorInstructionTests"/>.</summary>
public sealed class VectorSnippets() : AsmSuite(Sources)
{
    public static readonly (string Name, string Source)[] Sources =
    [
        ("config", """
            li a0, 100
            vsetvli s0, a0, e16, m2, ta, ma
            vsetvli s1, zero, e32, m4, ta, ma
            li a1, 5
            vsetvli s2, a1, e32, m1, tu, mu
            vsetivli s3, 3, e8, mf2, ta, ma
            csrr s4, vl
            csrr s5, vtype
            vsetvli zero, zero, e16, mf4, ta, ma
            csrr s6, vl
            vsetvli s7, a0, e64, mf8, ta, ma
            csrr s8, vtype
            csrr s9, vlenb
            """),
        ("f16_fma", """
            la a0, halves
            la a1, scratch
            li t0, 0x3c00
            fmv.h.x fa0, t0
            li t0, 0x4000
            fmv.h.x fa1, t0
            li a2, 11
            vsetvli t1, a2, e16, m2, ta, ma
            vle16.v v8, (a0)
            vle16.v v10, (a0)
            vfmacc.vf v10, fa1, v8
            vfmadd.vf v8, fa0, v10
            vse16.v v10, (a1)
            addi a3, a1, 32
            vse16.v v8, (a3)
            vfmv.f.s fa2, v10
            """),
        ("widen_narrow", """
            la a0, halves
            la a1, scratch
            li t0, 0x3800
            fmv.h.x fa0, t0
            li a2, 8
            vsetvli zero, a2, e16, m1, ta, ma
            vle16.v v1, (a0)
            vfwcvt.f.f.v v4, v1
            vsetvli zero, a2, e32, m2, ta, ma
            vmv.v.i v6, 0
            vsetvli zero, a2, e16, m1, ta, ma
            vfwmacc.vf v6, fa0, v1
            vfncvt.f.f.w v2, v6
            vsetvli zero, a2, e32, m2, ta, ma
            vse32.v v4, (a1)
            addi a3, a1, 32
            vse32.v v6, (a3)
            vsetvli zero, a2, e16, m1, ta, ma
            addi a4, a1, 64
            vse16.v v2, (a4)
            """),
        ("mask_merge", """
            la a0, halves
            la a1, scratch
            fmv.w.x fa0, zero
            li t0, 0xffff0000
            fmv.w.x fa0, t0
            li a2, 8
            vsetvli zero, a2, e16, m1, ta, mu
            vle16.v v1, (a0)
            vmfgt.vf v0, v1, fa0
            vfmv.v.f v2, fa0
            vmerge.vvm v3, v2, v1, v0
            vse16.v v3, (a1)
            vmv.v.i v4, 7
            vadd.vi v4, v4, 1, v0.t
            addi a3, a1, 16
            vse16.v v4, (a3)
            vcpop.m s0, v0
            vfirst.m s1, v0
            """),
        ("integer_ops", """
            la a1, scratch
            li a2, 6
            vsetvli zero, a2, e32, m1, ta, ma
            vid.v v1
            li t0, 3
            vmul.vx v2, v1, t0
            vadd.vv v3, v2, v1
            vslidedown.vi v4, v3, 2
            vredsum.vs v5, v3, v1
            vmv.x.s s0, v5
            vse32.v v4, (a1)
            li t1, 8
            addi a3, a1, 32
            vsse32.v v3, (a3), t1
            li a4, 4
            vsetvli zero, a4, e8, m1, ta, ma
            la a5, bytes
            vle16.v v6, (a5)
            vsetvli zero, a4, e16, m2, ta, ma
            vmv.x.s s1, v6
            vsetvli zero, a4, e8, mf2, ta, ma
            vle8.v v7, (a5)
            vsetvli zero, a4, e16, m1, ta, ma
            vsext.vf2 v8, v7
            vmv.x.s s2, v8
            """),
        ("reduce_f", """
            la a0, halves
            li a2, 8
            vsetvli zero, a2, e16, m1, ta, ma
            vle16.v v1, (a0)
            vmv.v.i v2, 0
            vfredosum.vs v3, v1, v2
            vfmv.f.s fa0, v3
            vsetvli zero, a2, e32, m1, ta, ma
            vmv.v.i v4, 0
            vsetvli zero, a2, e16, m1, ta, ma
            vfwredosum.vs v5, v1, v4
            vsetvli zero, a2, e32, m1, ta, ma
            vfmv.f.s fa1, v5
            """),
        ("compare_into_any_register", """
            la a0, halves
            li a2, 12
            vsetvli zero, a2, e16, m2, ta, ma
            vle16.v v8, (a0)
            vmv.v.i v10, 0
            vmflt.vv v1, v8, v10
            vmseq.vi v3, v10, 0
            vcpop.m s0, v1
            vcpop.m s1, v3
            """),
        ("halves_data", """
            j 1f
            .balign 4
            halves: .half 0x3c00, 0xbc00, 0x3555, 0x4200, 0x0001, 0x7bff, 0xc500, 0x3800, 0x2e66, 0x3a00, 0xb400, 0x0000
            bytes: .byte 0x81, 0x02, 0xff, 0x04, 0, 0, 0, 0
            1:
            """),
    ];
}

/// <summary>
/// RVV 1.0 semantics: vsetvli's AVL/VLMAX rules and vill, EMUL from EEW/SEW, FP16 lanes (Zvfh) through
/// TinyOdl.Numerics (expected values computed with the same library, lane by lane), widening and narrowing,
/// masks and merges with undisturbed masked-off elements, integer ops, strides, slides and reductions.
/// </summary>
public sealed class VectorInstructionTests(VectorSnippets suite) : IClassFixture<VectorSnippets>
{
    private static readonly ushort[] Halves = [0x3c00, 0xbc00, 0x3555, 0x4200, 0x0001, 0x7bff, 0xc500, 0x3800, 0x2e66, 0x3a00, 0xb400, 0x0000];

    private static uint X(Hart h, string r) => AsmSuite.X(h, r);

    private static (Hart Hart, Machine Machine) Run(VectorSnippets suite, string name, int vlen = 128)
    {
        var (outcome, machine, _) = suite.RunRaw(name, AsmSuite.Config(vlen));
        Assert.True(outcome.Kind == StopKind.Halted, $"{name}: {outcome.Kind} {outcome.Report}");
        return (machine.Hart, machine);
    }

    private ushort Half(Machine m, int offset) => m.Ram.Read<ushort>(suite.Label("scratch") + (uint)offset);
    private uint Word(Machine m, int offset) => m.Ram.Read<uint>(suite.Label("scratch") + (uint)offset);

    [Theory]
    [InlineData(128)]
    [InlineData(256)]
    public void Vsetvli_sets_vl_to_min_of_avl_and_vlmax_and_vill_for_unsupported_types(int vlen)
    {
        var (h, _) = Run(suite, "config", vlen);
        uint lanes16 = (uint)(vlen / 16 * 2);
        Assert.Equal(Math.Min(100u, lanes16), X(h, "s0"));          // e16 m2
        Assert.Equal((uint)(vlen / 32 * 4), X(h, "s1"));             // rs1 = x0, rd != x0: VLMAX
        Assert.Equal(Math.Min(5u, (uint)(vlen / 32)), X(h, "s2"));
        Assert.Equal(3u, X(h, "s3"));
        Assert.Equal(3u, X(h, "s4"));
        Assert.Equal(0xC7u, X(h, "s5"));                             // e8, mf2, ta, ma
        Assert.Equal(Math.Min(3u, (uint)(vlen / 64)), X(h, "s6"));   // rd = rs1 = x0: AVL is the old vl, capped by VLMAX (as QEMU)
        Assert.Equal(0u, X(h, "s7"));                                // e64 mf8 > ELEN·LMUL: vill, vl 0
        Assert.Equal(VectorType.IllegalBit, X(h, "s8"));
        Assert.Equal((uint)(vlen / 8), X(h, "s9"));
    }

    [Fact]
    public void Fp16_multiply_add_lanes_are_binary16_fused_multiply_adds()
    {
        var (h, m) = Run(suite, "f16_fma");
        Assert.Equal(11u, X(h, "t1"));
        for (int i = 0; i < 11; i++)
        {
            ushort acc = Binary16.FMAdd(0x4000, Halves[i], Halves[i]);          // vfmacc.vf: fa1 · v8 + v10
            ushort madd = Binary16.FMAdd(0x3c00, Halves[i], acc);              // vfmadd.vf: fa0 · v8 + v10
            Assert.Equal(acc.ToString("x4"), Half(m, 2 * i).ToString("x4"));
            Assert.Equal(madd.ToString("x4"), Half(m, 32 + 2 * i).ToString("x4"));
        }
        Assert.Equal(0x0000u, Half(m, 22));                                     // tail beyond vl untouched
        Assert.Equal(0xFFFF0000u | Binary16.FMAdd(0x4000, 0x3c00, 0x3c00), AsmSuite.F(h, "fa2"));
    }

    [Fact]
    public void Widening_and_narrowing_conversions_and_widening_fma()
    {
        var (_, m) = Run(suite, "widen_narrow");
        for (int i = 0; i < 8; i++)
        {
            uint wide = Binary16.ToSingle(Halves[i]);
            Assert.Equal(wide.ToString("x8"), Word(m, 4 * i).ToString("x8"));
            ExceptionFlags flags = 0;
            uint acc = Binary32.WideningMultiplyAdd(0x3800, Halves[i], 0, ref flags);
            Assert.Equal(acc.ToString("x8"), Word(m, 32 + 4 * i).ToString("x8"));
            Assert.Equal(Binary16.FromSingle(acc).ToString("x4"), Half(m, 64 + 2 * i).ToString("x4"));
        }
    }

    [Fact]
    public void Masked_operations_leave_inactive_elements_undisturbed()
    {
        var (h, m) = Run(suite, "mask_merge");
        int count = 0, first = -1;
        for (int i = 0; i < 8; i++)
        {
            bool greater = (Halves[i] & 0x8000) == 0 && Halves[i] != 0;           // > +0
            if (greater) { count++; if (first < 0) first = i; }
            Assert.Equal(greater ? Halves[i] : (ushort)0, Half(m, 2 * i));
            Assert.Equal(greater ? 8 : 7, Half(m, 16 + 2 * i));
        }
        Assert.Equal((uint)count, X(h, "s0"));
        Assert.Equal((uint)first, X(h, "s1"));
    }

    [Fact]
    public void Integer_arithmetic_slides_strides_reductions_and_effective_element_width()
    {
        var (h, m) = Run(suite, "integer_ops");
        // v3[i] = 3i + i = 4i; slidedown by 2: v4[i] = 4(i + 2) for i < 4, 0 beyond VLMAX (VLEN 128, e32: 4 lanes).
        uint[] expected = [8, 12, 0, 0];
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], Word(m, 4 * i));
        Assert.Equal(0u + 4 + 8 + 12, X(h, "s0"));                          // vl = min(6, VLMAX 4); v1[0] = 0
        for (int i = 0; i < 4; i++) Assert.Equal((uint)(4 * i), Word(m, 32 + 8 * i));
        Assert.Equal(0x0281u, X(h, "s1"));                                  // vle16 under e8: EEW 16, EMUL 2
        Assert.Equal(0xFF81u, X(h, "s2") & 0xFFFF);                         // vsext.vf2 of 0x81
    }

    [Fact]
    public void Compares_write_a_mask_register_that_need_not_be_group_aligned()
    {
        var (h, _) = Run(suite, "compare_into_any_register");
        Assert.Equal((uint)Halves.Count(x => (x & 0x8000) != 0 && (x & 0x7FFF) != 0), X(h, "s0"));   // < +0: negative non-zero
        Assert.Equal(12u, X(h, "s1"));
    }

    [Fact]
    public void Fp_reductions_add_in_element_order()
    {
        var (h, _) = Run(suite, "reduce_f");
        ushort sum = 0;
        uint wide = 0;
        for (int i = 0; i < 8; i++)
        {
            sum = Binary16.Add(sum, Halves[i]);
            wide = Binary32.Add(wide, Binary16.ToSingle(Halves[i]));
        }
        Assert.Equal(0xFFFF0000u | sum, AsmSuite.F(h, "fa0"));
        Assert.Equal(wide, AsmSuite.F(h, "fa1"));
    }
}
