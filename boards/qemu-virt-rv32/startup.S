/*
 * Reset code for qemu-virt-rv32 (machine mode, bare metal, one hart).
 *
 * QEMU (-bios none) jumps here with the ELF already loaded into RAM, so
 * .data needs no copy.  The order below matters: gp, sp and tp must be
 * valid and the FPU enabled before the first C instruction, because
 * compilers may touch f-registers or TLS anywhere, including prologues.
 *
 * Needs from the C runtime: main(), _exit(int) (flushes console output and
 * ends the simulation) and, optionally, tinyodl_trap_report(mcause, mepc,
 * mtval), which prints a diagnostic before a trap ends the program.
 */

#define MSTATUS_FS_INITIAL          0x2000
#define MSTATUS_VS_INITIAL          0x0200
#define SYS_EXIT_EXTENDED           0x20
#define ADP_Stopped_ApplicationExit 0x20026

    .section .text.start, "ax", @progbits
    .globl  _start
    .type   _start, @function
_start:
    /* Relaxation would turn this into an addi relative to gp itself. */
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop

    /* The board has one hart; park any other so it cannot race hart 0. */
    csrr    t0, mhartid
    bnez    t0, park

    la      sp, __stack_top
    /* The loaded .tdata image is the TLS block (see link.ld). */
    la      tp, __tls_base

    /* FPU on (FS = Initial), vector unit on (VS = Initial; a read-only zero
       field on harts without V, so harmless there), before any C runs:
       compilers may hoist FP or vector instructions above a CSR write in C.
       Then a known rounding mode and clear flags. */
    li      t0, MSTATUS_FS_INITIAL | MSTATUS_VS_INITIAL
    csrs    mstatus, t0
    csrw    fcsr, zero

    la      t0, trap_entry
    csrw    mtvec, t0

    /* RAM starts zeroed under QEMU, but do not rely on it.
       .tbss may have odd bounds: byte loop.  .bss is 8-aligned: word loop. */
    la      t0, __tbss_start
    la      t1, __tbss_end
1:  bgeu    t0, t1, 2f
    sb      zero, 0(t0)
    addi    t0, t0, 1
    j       1b
2:
    la      t0, __bss_start
    la      t1, __bss_end
3:  bgeu    t0, t1, 4f
    sw      zero, 0(t0)
    addi    t0, t0, 4
    j       3b
4:
    /* Constructors (callee-saved s0/s1 survive the calls). */
    la      s0, __init_array_start
    la      s1, __init_array_end
5:  bgeu    s0, s1, 6f
    lw      t0, 0(s0)
    jalr    t0
    addi    s0, s0, 4
    j       5b
6:
    li      a0, 0                   /* argc */
    li      a1, 0                   /* argv */
    call    main
    call    _exit                   /* a0 = main's return value */

park:
    wfi
    j       park
    .size   _start, . - _start

/*
 * Any exception or interrupt ends the program with exit status
 * 128 + mcause (illegal instruction -> 130).  trap_depth guards against a
 * trap inside the report (then exit without it) and against a trap from
 * the semihosting ebreak itself, i.e. semihosting disabled (then park;
 * the caller's timeout ends QEMU).
 */
    .text
    .balign 4                       /* mtvec direct mode needs 4-byte alignment */
    .type   trap_entry, @function
trap_entry:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, __stack_top         /* the old stack may be the problem */
    la      tp, __tls_base

    la      t0, trap_depth
    lw      s0, 0(t0)
    addi    t1, s0, 1
    sw      t1, 0(t0)
    li      t1, 2
    bgeu    s0, t1, park
    bnez    s0, 7f

    /* Absolute addressing: the symbol is weak and may resolve to 0. */
    lui     t0, %hi(tinyodl_trap_report)
    addi    t0, t0, %lo(tinyodl_trap_report)
    beqz    t0, 7f
    csrr    a0, mcause
    csrr    a1, mepc
    csrr    a2, mtval
    jalr    t0
7:
    csrr    t0, mcause
    addi    t0, t0, 128
    addi    sp, sp, -16
    li      t1, ADP_Stopped_ApplicationExit
    sw      t1, 0(sp)
    sw      t0, 4(sp)
    li      a0, SYS_EXIT_EXTENDED
    mv      a1, sp
    /* Semihosting call: QEMU recognises exactly this uncompressed
       three-instruction sequence; 16-byte alignment keeps it on one page. */
    .balign 16                      /* before norvc: see firmware/semihost.c */
    .option push
    .option norvc
    slli    zero, zero, 0x1f
    ebreak
    srai    zero, zero, 7
    .option pop
    j       park
    .size   trap_entry, . - trap_entry

    .weak   tinyodl_trap_report

    .bss
    .balign 4
trap_depth:
    .word   0
