/*
 * Vector FP16 oracle: runs the RVV (Zvfh) instructions of the FP16 training
 * kernels on QEMU, 16 lanes per instruction (e16, LMUL=2 at VLEN=128), and
 * prints results and accrued exception flags per instruction for the C#
 * library to reproduce lane by lane (VectorOracleTests.cs).
 *
 * Lane i of a group takes operand set i (gen.h); per group:
 *   op 0 vfadd.vv      a + b                    (e16)
 *   op 1 vfmul.vv      a * b
 *   op 2 vfmacc.vv     a * b + c
 *   op 3 vfwmacc.vv    widen(a) * widen(b) + x  (f32 accumulators)
 *   op 4 vfredosum.vs  ((c0 + a0) + a1) + ... + a15         (ordered)
 *   op 5 vfredosum.vs  the same on tame values (exponent MSB cleared: finite, |v| < 2)
 *   op 6 vfwredosum.vs ((x0 + widen(a0)) + widen(a1)) + ...  (f32)
 *   op 7 vfwredosum.vs the same on tame values
 *   op 8 vfncvt.f.f.w  x -> binary16
 *   op 9 vfwcvt.f.f.v  a -> binary32
 * Each instruction is its own asm block (vsetvli, loads, the instruction,
 * stores, then csrrw of fflags), so flags are per instruction.
 *
 * Output:
 *   oracle vector ops <n> lanes <vl> chunk <size> chunks <rne> <other>
 *   ve <rm> <hash op0> ... <hash op9>      edge triples (gen.h edge_set)
 *   v <rm> <chunk> <hash op0> ...          random chunk
 *   done
 * With -DDETAIL_KIND=1 (edge) or 2 (random), DETAIL_RM, DETAIL_CHUNK and
 * DETAIL_OP only that stream is printed, one item per instruction:
 *   d <rm> <chunk> <op> <count> <item>...
 * An item is the lane results (4 or 8 hex digits each, lane 0 first; one
 * value for reductions) followed by the flags (2 hex digits).
 */
#include <stdint.h>

#include "gen.h"
#include "out.h"

#ifndef RANDOM_CHUNKS_RNE
#define RANDOM_CHUNKS_RNE 16       /* x 65536 lanes */
#endif
#ifndef RANDOM_CHUNKS_OTHER
#define RANDOM_CHUNKS_OTHER 2      /* per directed rounding mode */
#endif
#define CHUNK 65536u
#define VL 16u
#define OP_COUNT 10u

typedef struct {
    uint16_t a[VL], b[VL], c[VL], ta[VL];
    uint32_t x[VL], tx[VL];
} group_t;

typedef struct {
    uint32_t r[VL];   /* lane results (only r[0] for reductions) */
    uint32_t n;       /* number of results */
    uint32_t digits;  /* hex digits per result */
    uint32_t flags;
} result_t;

static uint16_t r16[VL];
static uint32_t r32[VL];

/* vl and vtype too: clang emits vector code of its own for copies (with its
   own vsetvli), and must not assume vtype survives these blocks. */
#define VCLOBBER "v8", "v9", "v10", "v11", "v12", "v13", "v16", "v17", "v18", "v19", "v24", "v25", "vl", "vtype", "memory"

static void run_op(uint32_t op, const group_t *g, result_t *res)
{
    uint32_t f = 0, s = 0, n = VL;
    switch (op) {
    case 0:
        __asm__ volatile("vsetvli zero, %[n], e16, m2, ta, ma\n\t"
                         "vle16.v v8, (%[a])\n\tvle16.v v10, (%[b])\n\t"
                         "vfadd.vv v12, v8, v10\n\t"
                         "vse16.v v12, (%[r])\n\t"
                         "csrrw %[f], fflags, zero"
                         : [f] "=r"(f)
                         : [n] "r"(n), [a] "r"(g->a), [b] "r"(g->b), [r] "r"(r16)
                         : VCLOBBER);
        break;
    case 1:
        __asm__ volatile("vsetvli zero, %[n], e16, m2, ta, ma\n\t"
                         "vle16.v v8, (%[a])\n\tvle16.v v10, (%[b])\n\t"
                         "vfmul.vv v12, v8, v10\n\t"
                         "vse16.v v12, (%[r])\n\t"
                         "csrrw %[f], fflags, zero"
                         : [f] "=r"(f)
                         : [n] "r"(n), [a] "r"(g->a), [b] "r"(g->b), [r] "r"(r16)
                         : VCLOBBER);
        break;
    case 2:
        __asm__ volatile("vsetvli zero, %[n], e16, m2, ta, ma\n\t"
                         "vle16.v v8, (%[a])\n\tvle16.v v10, (%[b])\n\tvle16.v v12, (%[c])\n\t"
                         "vfmacc.vv v12, v8, v10\n\t"
                         "vse16.v v12, (%[r])\n\t"
                         "csrrw %[f], fflags, zero"
                         : [f] "=r"(f)
                         : [n] "r"(n), [a] "r"(g->a), [b] "r"(g->b), [c] "r"(g->c), [r] "r"(r16)
                         : VCLOBBER);
        break;
    case 3:
        __asm__ volatile("vsetvli zero, %[n], e16, m2, ta, ma\n\t"
                         "vle16.v v8, (%[a])\n\tvle16.v v10, (%[b])\n\tvle32.v v16, (%[x])\n\t"
                         "vfwmacc.vv v16, v8, v10\n\t"
                         "vse32.v v16, (%[r])\n\t"
                         "csrrw %[f], fflags, zero"
                         : [f] "=r"(f)
                         : [n] "r"(n), [a] "r"(g->a), [b] "r"(g->b), [x] "r"(g->x), [r] "r"(r32)
                         : VCLOBBER);
        break;
    case 4:
    case 5:
        __asm__ volatile("vsetvli zero, %[n], e16, m2, ta, ma\n\t"
                         "vle16.v v8, (%[a])\n\t"
                         "vmv.s.x v24, %[c]\n\t"
                         "vfredosum.vs v25, v8, v24\n\t"
                         "vmv.x.s %[s], v25\n\t"
                         "csrrw %[f], fflags, zero"
                         : [f] "=r"(f), [s] "=r"(s)
                         : [n] "r"(n), [a] "r"(op == 4 ? g->a : g->ta),
                           [c] "r"(op == 4 ? (uint32_t)g->c[0] : (uint32_t)g->c[0] & 0xBFFFu)
                         : VCLOBBER);
        break;
    case 6:
    case 7:
        __asm__ volatile("vsetivli zero, 1, e32, m1, ta, ma\n\t"
                         "vmv.s.x v24, %[x]\n\t"
                         "vsetvli zero, %[n], e16, m2, ta, ma\n\t"
                         "vle16.v v8, (%[a])\n\t"
                         "vfwredosum.vs v25, v8, v24\n\t"
                         "vsetivli zero, 1, e32, m1, ta, ma\n\t"
                         "vmv.x.s %[s], v25\n\t"
                         "csrrw %[f], fflags, zero"
                         : [f] "=r"(f), [s] "=r"(s)
                         : [n] "r"(n), [a] "r"(op == 6 ? g->a : g->ta),
                           [x] "r"(op == 6 ? g->x[0] : g->tx[0])
                         : VCLOBBER);
        break;
    case 8:
        __asm__ volatile("vsetvli zero, %[n], e16, m2, ta, ma\n\t"
                         "vle32.v v16, (%[x])\n\t"
                         "vfncvt.f.f.w v8, v16\n\t"
                         "vse16.v v8, (%[r])\n\t"
                         "csrrw %[f], fflags, zero"
                         : [f] "=r"(f)
                         : [n] "r"(n), [x] "r"(g->x), [r] "r"(r16)
                         : VCLOBBER);
        break;
    default:
        __asm__ volatile("vsetvli zero, %[n], e16, m2, ta, ma\n\t"
                         "vle16.v v8, (%[a])\n\t"
                         "vfwcvt.f.f.v v16, v8\n\t"
                         "vse32.v v16, (%[r])\n\t"
                         "csrrw %[f], fflags, zero"
                         : [f] "=r"(f)
                         : [n] "r"(n), [a] "r"(g->a), [r] "r"(r32)
                         : VCLOBBER);
        break;
    }
    res->flags = f;
    switch (op) {
    case 4: case 5:
        res->n = 1; res->digits = 4; res->r[0] = s & 0xFFFFu;
        break;
    case 6: case 7:
        res->n = 1; res->digits = 8; res->r[0] = s;
        break;
    case 3: case 9:
        res->n = VL; res->digits = 8;
        for (uint32_t i = 0; i < VL; i++) res->r[i] = r32[i];
        break;
    default:
        res->n = VL; res->digits = 4;
        for (uint32_t i = 0; i < VL; i++) res->r[i] = r16[i];
        break;
    }
}

static void fill_lane(group_t *g, uint32_t i, const opset_t *s)
{
    g->a[i] = s->a;
    g->b[i] = s->b;
    g->c[i] = s->c;
    g->x[i] = s->x;
    g->ta[i] = (uint16_t)(s->a & 0xBFFFu);
    g->tx[i] = s->x & 0xBFFFFFFFu;
}

static void set_rm(uint32_t rm)
{
    __asm__ volatile("fsrm %0\n\tcsrw fflags, zero" : : "r"(rm));
}

static uint32_t hash_result(uint32_t h, const result_t *res)
{
    for (uint32_t i = 0; i < res->n; i++)
        h = hash_word(h, res->r[i]);
    return hash_word(h, res->flags);
}

static void out_result(const result_t *res)
{
    out_char(' ');
    for (uint32_t i = 0; i < res->n; i++)
        out_hex(res->r[i], res->digits);
    out_hex(res->flags, 2);
}

/* kind 1: edge triples (EDGE_TRIPLES / VL groups); kind 2: random chunk.
   detail_op < OP_COUNT prints that op's items instead of the hashes. */
static void run_stream(uint32_t kind, uint32_t rm, uint32_t chunk, uint32_t detail_op)
{
    uint32_t h[OP_COUNT];
    uint32_t sets = kind == 1 ? EDGE_TRIPLES : CHUNK;
    uint64_t state = rng_seed(0x100u + rm, chunk);
    group_t g;
    opset_t s;
    result_t res;
    set_rm(rm);
    for (uint32_t op = 0; op < OP_COUNT; op++)
        h[op] = HASH_INIT;
    if (detail_op < OP_COUNT) {
        out_str("d ");
        out_u32(rm);
        out_char(' ');
        out_u32(chunk);
        out_char(' ');
        out_u32(detail_op);
        out_char(' ');
        out_u32(sets / VL);
    }
    for (uint32_t base = 0; base < sets; base += VL) {
        for (uint32_t i = 0; i < VL; i++) {
            if (kind == 1)
                edge_set(base + i, &s);
            else
                gen_set(&state, &s);
            fill_lane(&g, i, &s);
        }
        if (detail_op < OP_COUNT) {
            run_op(detail_op, &g, &res);
            out_result(&res);
            continue;
        }
        for (uint32_t op = 0; op < OP_COUNT; op++) {
            run_op(op, &g, &res);
            h[op] = hash_result(h[op], &res);
        }
    }
    if (detail_op >= OP_COUNT) {
        if (kind == 1) {
            out_str("ve ");
            out_u32(rm);
        } else {
            out_str("v ");
            out_u32(rm);
            out_char(' ');
            out_u32(chunk);
        }
        for (uint32_t op = 0; op < OP_COUNT; op++) {
            out_char(' ');
            out_hex(h[op], 8);
        }
    }
    out_char('\n');
}

int main(void)
{
    uint32_t vlmax;
    __asm__ volatile("vsetvli %0, zero, e16, m2, ta, ma" : "=r"(vlmax) : : "vl", "vtype");
    out_str("oracle vector ops ");
    out_u32(OP_COUNT);
    out_str(" lanes ");
    out_u32(vlmax);
    out_str(" chunk ");
    out_u32(CHUNK);
    out_str(" chunks ");
    out_u32(RANDOM_CHUNKS_RNE);
    out_char(' ');
    out_u32(RANDOM_CHUNKS_OTHER);
    out_char('\n');
    if (vlmax != VL) {
        out_str("error: VLMAX for e16/m2 is not 16\n");
        out_flush();
        return 2;
    }
#ifdef DETAIL_KIND
    run_stream(DETAIL_KIND, DETAIL_RM, DETAIL_KIND == 1 ? 0 : DETAIL_CHUNK, DETAIL_OP);
#else
    for (uint32_t rm = 0; rm < 5; rm++)
        run_stream(1, rm, 0, OP_COUNT);
    for (uint32_t rm = 0; rm < 5; rm++) {
        uint32_t chunks = rm == 0 ? RANDOM_CHUNKS_RNE : RANDOM_CHUNKS_OTHER;
        for (uint32_t chunk = 0; chunk < chunks; chunk++)
            run_stream(2, rm, chunk, OP_COUNT);
    }
#endif
    out_str("done\n");
    out_flush();
    return 0;
}
