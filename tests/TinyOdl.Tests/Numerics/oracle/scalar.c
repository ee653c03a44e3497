/*
 * Scalar FP16/FP32 oracle: runs Zfh (and F) instructions on QEMU and prints
 * results and accrued exception flags for the C# Binary16/Binary32 library
 * to reproduce bit for bit (tests/TinyOdl.Tests/Numerics/ScalarOracleTests.cs).
 *
 * Every instruction is issued from inline asm between fmv moves, with fflags
 * read and cleared (csrrw) right after it, so the compiler cannot fold,
 * reorder or fuse anything.  The rounding mode is the dynamic one (frm).
 *
 * Output (one line each):
 *   oracle scalar ops <n> chunk <size> chunks <rne> <other>
 *   e <rm> <op> <count> <item>...      edge set, printed fully (rm 0)
 *   eh <rm> <hash op0> ... <hash opN>  edge set, hashed (rm 1..4)
 *   r <rm> <chunk> <hash op0> ...      random chunk, hashed
 *   done
 * With -DDETAIL_KIND=1 (edge) or 2 (random) and DETAIL_RM, DETAIL_CHUNK,
 * DETAIL_OP only that stream is printed fully:
 *   d <rm> <chunk> <op> <count> <item>...
 * An item is the result (4 hex digits for binary16, 8 for binary32)
 * followed by the flags (2 hex digits).
 */
#include <stdint.h>

#include "gen.h"
#include "out.h"

#ifndef RANDOM_CHUNKS_RNE
#define RANDOM_CHUNKS_RNE 32       /* x 65536 = 2,097,152 operand sets */
#endif
#ifndef RANDOM_CHUNKS_OTHER
#define RANDOM_CHUNKS_OTHER 4      /* per directed rounding mode */
#endif
#define CHUNK 65536u

enum {
    OP_FADD_H, OP_FSUB_H, OP_FMUL_H, OP_FDIV_H, OP_FSQRT_H,
    OP_FMADD_H, OP_FMSUB_H, OP_FNMSUB_H, OP_FNMADD_H, OP_FMIN_H, OP_FMAX_H,
    OP_FCVT_S_H, OP_FCVT_H_S,
    OP_FADD_S, OP_FSUB_S, OP_FMUL_S, OP_FMADD_S, OP_FMSUB_S, OP_FNMSUB_S, OP_FNMADD_S,
    OP_COUNT
};

/* operands: 1 = unary, 2 = binary, 3 = ternary (edge enumeration) */
static const uint8_t op_arity[OP_COUNT] = {
    2, 2, 2, 2, 1, 3, 3, 3, 3, 2, 2, 1, 1, 2, 2, 2, 3, 3, 3, 3,
};
/* hex digits of the result */
static const uint8_t op_digits[OP_COUNT] = {
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 8, 4, 8, 8, 8, 8, 8, 8, 8,
};

#define H_BIN(insn, a, b)                                                      \
    __asm__ volatile("fmv.h.x ft0, %2\n\t"                                     \
                     "fmv.h.x ft1, %3\n\t" insn " ft2, ft0, ft1\n\t"           \
                     "fmv.x.h %0, ft2\n\t"                                     \
                     "csrrw %1, fflags, zero"                                  \
                     : "=r"(r), "=r"(f)                                        \
                     : "r"((uint32_t)(a)), "r"((uint32_t)(b))                  \
                     : "ft0", "ft1", "ft2")

#define H_TER(insn, a, b, c)                                                   \
    __asm__ volatile("fmv.h.x ft0, %2\n\t"                                     \
                     "fmv.h.x ft1, %3\n\t"                                     \
                     "fmv.h.x ft2, %4\n\t" insn " ft3, ft0, ft1, ft2\n\t"      \
                     "fmv.x.h %0, ft3\n\t"                                     \
                     "csrrw %1, fflags, zero"                                  \
                     : "=r"(r), "=r"(f)                                        \
                     : "r"((uint32_t)(a)), "r"((uint32_t)(b)), "r"((uint32_t)(c)) \
                     : "ft0", "ft1", "ft2", "ft3")

#define S_BIN(insn, a, b)                                                      \
    __asm__ volatile("fmv.w.x ft0, %2\n\t"                                     \
                     "fmv.w.x ft1, %3\n\t" insn " ft2, ft0, ft1\n\t"           \
                     "fmv.x.w %0, ft2\n\t"                                     \
                     "csrrw %1, fflags, zero"                                  \
                     : "=r"(r), "=r"(f)                                        \
                     : "r"(a), "r"(b)                                          \
                     : "ft0", "ft1", "ft2")

#define S_TER(insn, a, b, c)                                                   \
    __asm__ volatile("fmv.w.x ft0, %2\n\t"                                     \
                     "fmv.w.x ft1, %3\n\t"                                     \
                     "fmv.w.x ft2, %4\n\t" insn " ft3, ft0, ft1, ft2\n\t"      \
                     "fmv.x.w %0, ft3\n\t"                                     \
                     "csrrw %1, fflags, zero"                                  \
                     : "=r"(r), "=r"(f)                                        \
                     : "r"(a), "r"(b), "r"(c)                                  \
                     : "ft0", "ft1", "ft2", "ft3")

/* Runs one instruction; returns the result bits, stores the flags. */
static inline __attribute__((always_inline)) uint32_t do_op(uint32_t op, const opset_t *s, uint32_t *flags)
{
    uint32_t r, f;
    switch (op) {
    case OP_FADD_H: H_BIN("fadd.h", s->a, s->b); break;
    case OP_FSUB_H: H_BIN("fsub.h", s->a, s->b); break;
    case OP_FMUL_H: H_BIN("fmul.h", s->a, s->b); break;
    case OP_FDIV_H: H_BIN("fdiv.h", s->a, s->b); break;
    case OP_FSQRT_H:
        __asm__ volatile("fmv.h.x ft0, %2\n\tfsqrt.h ft2, ft0\n\tfmv.x.h %0, ft2\n\tcsrrw %1, fflags, zero"
                         : "=r"(r), "=r"(f) : "r"((uint32_t)s->a) : "ft0", "ft2");
        break;
    case OP_FMADD_H: H_TER("fmadd.h", s->a, s->b, s->c); break;
    case OP_FMSUB_H: H_TER("fmsub.h", s->a, s->b, s->c); break;
    case OP_FNMSUB_H: H_TER("fnmsub.h", s->a, s->b, s->c); break;
    case OP_FNMADD_H: H_TER("fnmadd.h", s->a, s->b, s->c); break;
    case OP_FMIN_H: H_BIN("fmin.h", s->a, s->b); break;
    case OP_FMAX_H: H_BIN("fmax.h", s->a, s->b); break;
    case OP_FCVT_S_H:
        __asm__ volatile("fmv.h.x ft0, %2\n\tfcvt.s.h ft2, ft0\n\tfmv.x.w %0, ft2\n\tcsrrw %1, fflags, zero"
                         : "=r"(r), "=r"(f) : "r"((uint32_t)s->a) : "ft0", "ft2");
        return *flags = f, r;
    case OP_FCVT_H_S:
        __asm__ volatile("fmv.w.x ft0, %2\n\tfcvt.h.s ft2, ft0\n\tfmv.x.h %0, ft2\n\tcsrrw %1, fflags, zero"
                         : "=r"(r), "=r"(f) : "r"(s->x) : "ft0", "ft2");
        break;
    case OP_FADD_S: S_BIN("fadd.s", s->x, s->y); return *flags = f, r;
    case OP_FSUB_S: S_BIN("fsub.s", s->x, s->y); return *flags = f, r;
    case OP_FMUL_S: S_BIN("fmul.s", s->x, s->y); return *flags = f, r;
    case OP_FMADD_S: S_TER("fmadd.s", s->x, s->y, s->z); return *flags = f, r;
    case OP_FMSUB_S: S_TER("fmsub.s", s->x, s->y, s->z); return *flags = f, r;
    case OP_FNMSUB_S: S_TER("fnmsub.s", s->x, s->y, s->z); return *flags = f, r;
    case OP_FNMADD_S: S_TER("fnmadd.s", s->x, s->y, s->z); return *flags = f, r;
    default: r = 0; f = 0xFF; break;
    }
    *flags = f;
    return r & 0xFFFFu;    /* fmv.x.h sign-extends */
}

static void set_rm(uint32_t rm)
{
    __asm__ volatile("fsrm %0\n\tcsrw fflags, zero" : : "r"(rm));
}

static uint32_t edge_count(uint32_t op)
{
    uint32_t n = 1;
    for (uint32_t k = 0; k < op_arity[op]; k++)
        n *= EDGE16_COUNT;
    return n;
}

/* Edge item i of an op of arity k is triple index i * 36^(3-k). */
static void edge_item(uint32_t op, uint32_t i, opset_t *s)
{
    uint32_t scale = op_arity[op] == 1 ? EDGE16_COUNT * EDGE16_COUNT : op_arity[op] == 2 ? EDGE16_COUNT : 1;
    edge_set(i * scale, s);
}

static void out_item(uint32_t op, uint32_t r, uint32_t f)
{
    out_char(' ');
    out_hex(r, op_digits[op]);
    out_hex(f, 2);
}

static void edge_full(uint32_t rm, uint32_t op, const char *tag, uint32_t chunk)
{
    opset_t s;
    uint32_t n = edge_count(op), f;
    set_rm(rm);
    out_str(tag);
    out_char(' ');
    out_u32(rm);
    if (chunk != 0xFFFFFFFFu) {
        out_char(' ');
        out_u32(chunk);
    }
    out_char(' ');
    out_u32(op);
    out_char(' ');
    out_u32(n);
    for (uint32_t i = 0; i < n; i++) {
        edge_item(op, i, &s);
        uint32_t r = do_op(op, &s, &f);
        out_item(op, r, f);
    }
    out_char('\n');
}

#ifndef DETAIL_KIND
static void edge_hashed(uint32_t rm)
{
    opset_t s;
    uint32_t f;
    set_rm(rm);
    out_str("eh ");
    out_u32(rm);
    for (uint32_t op = 0; op < OP_COUNT; op++) {
        uint32_t h = HASH_INIT, n = edge_count(op);
        for (uint32_t i = 0; i < n; i++) {
            edge_item(op, i, &s);
            uint32_t r = do_op(op, &s, &f);
            h = hash_word(hash_word(h, r), f);
        }
        out_char(' ');
        out_hex(h, 8);
    }
    out_char('\n');
}

static void random_chunk(uint32_t rm, uint32_t chunk)
{
    uint32_t h[OP_COUNT], f;
    uint64_t state = rng_seed(rm, chunk);
    opset_t s;
    set_rm(rm);
    for (uint32_t op = 0; op < OP_COUNT; op++)
        h[op] = HASH_INIT;
    for (uint32_t i = 0; i < CHUNK; i++) {
        gen_set(&state, &s);
#pragma clang loop unroll(full)
        for (uint32_t op = 0; op < OP_COUNT; op++) {
            uint32_t r = do_op(op, &s, &f);
            h[op] = hash_word(hash_word(h[op], r), f);
        }
    }
    out_str("r ");
    out_u32(rm);
    out_char(' ');
    out_u32(chunk);
    for (uint32_t op = 0; op < OP_COUNT; op++) {
        out_char(' ');
        out_hex(h[op], 8);
    }
    out_char('\n');
}

#endif

#ifdef DETAIL_KIND
static void random_detail(uint32_t rm, uint32_t chunk, uint32_t op)
{
    uint64_t state = rng_seed(rm, chunk);
    opset_t s;
    uint32_t f;
    set_rm(rm);
    out_str("d ");
    out_u32(rm);
    out_char(' ');
    out_u32(chunk);
    out_char(' ');
    out_u32(op);
    out_char(' ');
    out_u32(CHUNK);
    for (uint32_t i = 0; i < CHUNK; i++) {
        gen_set(&state, &s);
        uint32_t r = do_op(op, &s, &f);
        out_item(op, r, f);
    }
    out_char('\n');
}
#endif

int main(void)
{
    out_str("oracle scalar ops ");
    out_u32(OP_COUNT);
    out_str(" chunk ");
    out_u32(CHUNK);
    out_str(" chunks ");
    out_u32(RANDOM_CHUNKS_RNE);
    out_char(' ');
    out_u32(RANDOM_CHUNKS_OTHER);
    out_char('\n');
#ifdef DETAIL_KIND
    if (DETAIL_KIND == 1)
        edge_full(DETAIL_RM, DETAIL_OP, "d", 0);
    else
        random_detail(DETAIL_RM, DETAIL_CHUNK, DETAIL_OP);
#else
    for (uint32_t op = 0; op < OP_COUNT; op++)
        edge_full(0, op, "e", 0xFFFFFFFFu);
    for (uint32_t rm = 1; rm < 5; rm++)
        edge_hashed(rm);
    for (uint32_t rm = 0; rm < 5; rm++) {
        uint32_t chunks = rm == 0 ? RANDOM_CHUNKS_RNE : RANDOM_CHUNKS_OTHER;
        for (uint32_t chunk = 0; chunk < chunks; chunk++)
            random_chunk(rm, chunk);
    }
#endif
    out_str("done");
    out_char('\n');
    out_flush();
    return 0;
}
