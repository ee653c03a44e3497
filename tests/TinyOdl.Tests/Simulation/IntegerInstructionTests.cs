using TinyOdl.Simulation;

namespace TinyOdl.Tests.Simulation;

/// <summary>The integer snippets, assembled once for <see cref="IntegerInstructionTests"/>.</summary>
public sealed class IntegerSnippets() : AsmSuite(Sources)
{
    public static readonly (string Name, string Source)[] Sources =
    [
        ("arith", """
            li a0, -7
            li a1, 3
            add s0, a0, a1
            sub s1, a0, a1
            slt s2, a0, a1
            sltu s3, a0, a1
            sra s4, a0, a1
            srl s5, a0, a1
            sll s6, a1, a1
            xori s7, a0, -1
            slti s8, a0, -6
            sltiu s9, a1, 4
            lui s10, 0x12345
            arith_pc:
            auipc s11, 0
            """),
        ("muldiv", """
            li a0, -7
            li a1, 3
            mul s0, a0, a1
            mulh s1, a0, a1
            mulhu s2, a0, a1
            mulhsu s3, a0, a1
            div s4, a0, a1
            rem s5, a0, a1
            divu s6, a0, a1
            remu s7, a0, a1
            div s8, a0, zero
            rem s9, a0, zero
            li t0, 0x80000000
            li t1, -1
            div s10, t0, t1
            rem s11, t0, t1
            divu t2, a0, zero
            """),
        ("branches", """
            li a0, 0
            li a1, 1
            li a2, 11
            1:  add a0, a0, a1
            addi a1, a1, 1
            blt a1, a2, 1b
            li a3, -1
            li a4, 0
            bltu a3, a4, 2f
            li a5, 1
            2:  bge a3, a4, 3f
            li a6, 2
            3:  jal ra, 4f
            branches_ret1:
            li a7, 3
            4:  la t0, 5f
            jalr t1, 0(t0)
            branches_ret2:
            li t2, 4
            5:  nop
            """),
        ("memory", """
            la a0, scratch
            li t0, 0x8899aabb
            sw t0, 0(a0)
            lb s0, 0(a0)
            lbu s1, 0(a0)
            lh s2, 2(a0)
            lhu s3, 2(a0)
            lw s4, 0(a0)
            li t1, 0x11223344
            sw t1, 5(a0)
            lw s5, 4(a0)
            lw s6, 5(a0)
            sh t1, 13(a0)
            lhu s7, 13(a0)
            sb t1, 15(a0)
            lbu s8, 15(a0)
            """),
        ("zbb", """
            li a0, 0x00f0ff01
            li a1, 4
            clz s0, a0
            ctz s1, a0
            cpop s2, a0
            clz s3, zero
            ctz s4, zero
            li t0, -5
            min s5, t0, a1
            minu s6, t0, a1
            max s7, t0, a1
            maxu s8, t0, a1
            andn s9, a0, a1
            orn s10, zero, a1
            xnor s11, a0, a0
            sext.b t1, a0
            sext.h t2, a0
            zext.h t3, t0
            rol t4, a0, a1
            ror t5, a0, a1
            rori t6, a0, 8
            orc.b a2, a0
            rev8 a3, a0
            """),
        ("atomics", """
            la a0, scratch
            li t0, 10
            sw t0, 0(a0)
            lr.w s0, (a0)
            li t1, 20
            sc.w s1, t1, (a0)
            lw s2, 0(a0)
            sc.w s3, t1, (a0)
            li t2, 5
            amoadd.w s4, t2, (a0)
            lw s5, 0(a0)
            li t3, -3
            amomin.w s6, t3, (a0)
            amomaxu.w s7, t2, (a0)
            lw s8, 0(a0)
            amoswap.w s9, t2, (a0)
            amoor.w s10, t0, (a0)
            lw s11, 0(a0)
            """),
        ("compressed", """
            la sp, scratch + 128
            c.li a0, 5
            c.addi a0, -2
            c.mv a1, a0
            c.add a1, a0
            c.slli a1, 3
            c.srli a1, 1
            c.andi a1, 15
            c.lui a2, 1
            c.addi16sp sp, -32
            c.addi4spn a3, sp, 8
            c.swsp a0, 4(sp)
            c.lwsp a4, 4(sp)
            c.sw a1, 8(a3)
            c.lw a5, 8(a3)
            c.sub a5, a0
            c.li s0, 0
            c.beqz s0, 1f
            c.li a6, 1
            1:  c.j 2f
            c.li a7, 1
            2:  c.jal 3f
            c.j 4f
            3:  c.li s1, 9
            c.jr ra
            4:  la t0, 5f
            c.jalr t0
            c.j 6f
            5:  c.addi s1, 1
            c.jr ra
            6:  c.nop
            """),
    ];
}

/// <summary>RV32I, M, A, Zbb and C semantics on assembled snippets, values worked out by hand.</summary>
public sealed class IntegerInstructionTests(IntegerSnippets suite) : IClassFixture<IntegerSnippets>
{
    private static uint X(Hart h, string r) => AsmSuite.X(h, r);

    [Fact]
    public void Base_arithmetic_shifts_and_compares()
    {
        var h = suite.Run("arith");
        AsmSuite.Expect(h,
            ("s0", unchecked((uint)-4)),
            ("s1", unchecked((uint)-10)),
            ("s2", 1u),
            ("s3", 0u),
            ("s4", unchecked((uint)-1)),  // -7 >> 3 arithmetic
            ("s5", 0xFFFFFFF9u >> 3),
            ("s6", 24u),
            ("s7", 6u),
            ("s8", 1u),
            ("s9", 1u),
            ("s10", 0x12345000u),
            ("s11", suite.Label("arith_pc")));  // auipc 0: its own address
    }

    [Fact]
    public void Multiply_and_divide_follow_the_M_rules_for_zero_and_overflow()
    {
        var h = suite.Run("muldiv");
        AsmSuite.Expect(h,
            ("s0", unchecked((uint)-21)),
            ("s1", 0xFFFFFFFFu),  // high word of -21
            ("s2", 2u),  // (2^32 - 7) · 3 >> 32
            ("s3", 0xFFFFFFFFu),
            ("s4", unchecked((uint)-2)),
            ("s5", unchecked((uint)-1)),
            ("s6", 0xFFFFFFF9u / 3),
            ("s7", 0xFFFFFFF9u % 3),
            ("s8", 0xFFFFFFFFu),  // ÷ 0 → -1
            ("s9", unchecked((uint)-7)),  // rem 0 → dividend
            ("s10", 0x80000000u),  // overflow
            ("s11", 0u),
            ("t2", 0xFFFFFFFFu));
    }

    [Fact]
    public void Branches_and_jumps_take_the_right_paths_and_link()
    {
        var h = suite.Run("branches");
        AsmSuite.Expect(h,
            ("a0", 55u),
            ("a5", 1u),  // bltu 0xFFFFFFFF < 0 is false: falls through
            ("a6", 2u),  // bge -1 >= 0 is false: falls through
            ("a7", 0u),  // skipped by jal
            ("t2", 0u),  // skipped by jalr
            ("ra", suite.Label("branches_ret1")),
            ("t1", suite.Label("branches_ret2")));
    }

    [Fact]
    public void Loads_sign_and_zero_extend_and_misaligned_accesses_work()
    {
        var h = suite.Run("memory");
        AsmSuite.Expect(h,
            ("s0", 0xFFFFFFBBu),
            ("s1", 0xBBu),
            ("s2", 0xFFFF8899u),
            ("s3", 0x8899u),
            ("s4", 0x8899AABBu),
            ("s5", 0x22334400u),  // bytes 4..7 after a word store at 5
            ("s6", 0x11223344u),
            ("s7", 0x3344u),
            ("s8", 0x44u));
    }

    [Fact]
    public void Zbb_bit_manipulation()
    {
        var h = suite.Run("zbb");
        AsmSuite.Expect(h,
            ("s0", 8u),
            ("s1", 0u),
            ("s2", 13u),
            ("s3", 32u),
            ("s4", 32u),
            ("s5", unchecked((uint)-5)),
            ("s6", 4u),
            ("s7", 4u),
            ("s8", unchecked((uint)-5)),
            ("s9", 0x00f0ff01u),
            ("s10", ~4u),
            ("s11", 0xFFFFFFFFu),
            ("t1", 1u),
            ("t2", 0xFFFFFF01u),
            ("t3", 0xFFFBu),
            ("t4", 0x0f0ff010u),
            ("t5", 0x100f0ff0u),
            ("t6", 0x0100f0ffu),
            ("a2", 0x00ffffffu),
            ("a3", 0x01fff000u));
    }

    [Fact]
    public void Atomics_reserve_and_read_modify_write()
    {
        var h = suite.Run("atomics");
        AsmSuite.Expect(h,
            ("s0", 10u),
            ("s1", 0u),  // sc succeeds after lr
            ("s2", 20u),
            ("s3", 1u),  // reservation used up
            ("s4", 20u),
            ("s5", 25u),
            ("s6", 25u),
            ("s7", unchecked((uint)-3)),  // amomaxu keeps 0xFFFFFFFD
            ("s8", unchecked((uint)-3)),
            ("s9", unchecked((uint)-3)),
            ("s10", 5u),
            ("s11", 15u));
    }

    [Fact]
    public void Compressed_instructions_expand_correctly()
    {
        var h = suite.Run("compressed");
        AsmSuite.Expect(h,
            ("a0", 3u),
            ("a1", 8u),  // ((3 + 3) << 3 >> 1) & 15
            ("a2", 0x1000u),
            ("a3", X(h, "sp") + 8),
            ("sp", suite.Label("scratch") + 96),
            ("a4", 3u),
            ("a5", 5u),  // a1 (8) - a0 (3)
            ("a6", 0u),
            ("a7", 0u),
            ("s1", 10u));  // c.jal/c.jr, then c.jalr/c.jr
    }
}
