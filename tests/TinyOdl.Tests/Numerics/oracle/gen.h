/*
 * Operand generator shared by the FP16 oracle programs (scalar.c, vector.c).
 * OracleGenerator.cs in the test project mirrors this file operation for
 * operation: both sides must produce the same operand sets from the same
 * (stream, chunk) key, so any change here needs the same change there.
 *
 * Operands are random bit patterns, biased towards interesting exponents
 * (subnormals, around 1, near overflow, Inf/NaN), special significands
 * (0, 1, all ones, sparse bits), f32 values at binary16 rounding ties, and
 * correlated pairs/triples that cancel (a + b with b close to -a; a*b + c
 * with c close to -(a*b)).  A quarter of the draws are uniform bits.
 */
#ifndef ORACLE_GEN_H
#define ORACLE_GEN_H

#include <stdint.h>

typedef struct {
    uint16_t a, b, c;   /* binary16 operands */
    uint32_t x, y, z;   /* binary32 operands */
} opset_t;

/* splitmix64 */
static inline uint64_t rng_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t rng_next(uint64_t *state)
{
    *state += 0x9E3779B97F4A7C15ull;
    return rng_mix(*state);
}

/* Independent generator state per (stream, chunk), so any chunk can be
   regenerated on its own. */
static inline uint64_t rng_seed(uint32_t stream, uint32_t chunk)
{
    return rng_mix(0x0DD5EED0F16ull + ((uint64_t)stream << 32) + chunk);
}

static const uint8_t gen_exp16[16] = { 0, 0, 1, 1, 2, 13, 14, 15, 16, 17, 28, 29, 30, 30, 31, 31 };
static const uint16_t gen_man16[8] = { 0x000, 0x001, 0x200, 0x3FF, 0x3FE, 0x1FF, 0x100, 0x2AA };
static const uint8_t gen_exp32[16] = { 0, 0, 1, 2, 101, 102, 103, 112, 113, 126, 127, 128, 142, 143, 254, 255 };

static inline uint16_t gen16(uint64_t r)
{
    uint32_t lo = (uint32_t)r, hi = (uint32_t)(r >> 32);
    uint32_t sign = (hi >> 28) & 1u;
    uint32_t m = lo & 0x3FFu, e;
    switch (hi >> 29) {
    case 0:
    case 1:
        return (uint16_t)lo;                            /* uniform bits */
    case 2:
        e = gen_exp16[(lo >> 10) & 15u];                /* interesting exponents */
        break;
    case 3:
        e = 11u + ((lo >> 10) & 7u);                    /* around 1 */
        break;
    case 4:
        e = (lo >> 13) & 31u;                           /* special significands */
        m = gen_man16[(lo >> 10) & 7u];
        break;
    case 5:
        e = (lo >> 10) & 3u;                            /* subnormal, smallest normals */
        break;
    case 6:
        e = 27u + ((lo >> 10) & 3u);                    /* near overflow */
        break;
    default:
        e = (lo >> 10) & 31u;                           /* sparse significands */
        m = lo & (lo >> 16) & 0x3FFu;
        break;
    }
    return (uint16_t)((sign << 15) | (e << 10) | m);
}

static inline uint32_t gen32(uint64_t r)
{
    uint32_t lo = (uint32_t)r, hi = (uint32_t)(r >> 32);
    uint32_t sign = (hi >> 28) & 1u;
    uint32_t m = lo & 0x7FFFFFu, e;
    switch (hi >> 29) {
    case 0:
    case 1:
        return lo;                                      /* uniform bits */
    case 2:
        e = 100u + (hi & 63u);                          /* binary16 range, both ends */
        break;
    case 3: {
        /* exactly at, just below or just above a binary16 rounding tie
           (or with the dropped bits clear), for normal and subnormal results */
        uint32_t shift, half, low;
        e = 100u + (hi & 63u);
        shift = 13u + (e < 113u ? 113u - e : 0u);
        if (shift > 23u)
            shift = 23u;
        half = 1u << (shift - 1u);
        switch ((hi >> 6) & 3u) {
        case 0: low = half; break;
        case 1: low = half - 1u; break;
        case 2: low = half + 1u; break;
        default: low = 0u; break;
        }
        m = (m & ~((1u << shift) - 1u)) | low;
        break;
    }
    case 4:
        e = gen_exp32[hi & 15u];                        /* interesting exponents */
        break;
    case 5:
        e = gen_exp32[hi & 15u];                        /* sparse significands */
        m = m & (m >> 7) & (hi >> 4) & 0x7FFFFFu;
        break;
    case 6:
        e = 119u + (hi & 15u);                          /* around 1 */
        break;
    default:
        e = (hi >> 4) & 255u;                           /* uniform exponent */
        break;
    }
    return (sign << 31) | (e << 23) | m;
}

/* One operand set: five draws. */
static inline void gen_set(uint64_t *state, opset_t *s)
{
    uint64_t r1 = rng_next(state), r2 = rng_next(state), r3 = rng_next(state);
    uint64_t r4 = rng_next(state), r5 = rng_next(state);
    uint32_t t = (uint32_t)r5, u = (uint32_t)(r5 >> 32);
    s->a = gen16(r1);
    s->b = gen16(r1 >> 17 ^ r2);
    s->c = gen16(r2 >> 23 ^ r3);
    s->x = gen32(r3 >> 7 ^ r4);
    s->y = gen32(r4);
    s->z = gen32(r4 >> 29 ^ r2 << 3 ^ r1);

    switch (t & 7u) {
    case 0:     /* b close to a */
        s->b = (uint16_t)(s->a ^ ((t >> 3) & 0x3Fu));
        break;
    case 1:     /* b close to -a: cancellation in a + b */
        s->b = (uint16_t)(s->a ^ 0x8000u ^ ((t >> 3) & 0x7u));
        break;
    case 2: {   /* c about -(a*b): cancellation in fma */
        int32_t ea = (s->a >> 10) & 31, eb = (s->b >> 10) & 31;
        int32_t ec = ea + eb - 15 + (int32_t)((t >> 3) & 3u) - 1;
        if (ec >= 0 && ec <= 30)
            s->c = (uint16_t)(((s->a ^ s->b ^ 0x8000u) & 0x8000u) | ((uint32_t)ec << 10) | (s->c & 0x3FFu));
        break;
    }
    case 3:     /* b = +-1, c close to -+a: exact cancellation in fma */
        s->b = (uint16_t)(0x3C00u | ((t << 12) & 0x8000u));
        s->c = (uint16_t)(s->a ^ ((s->b ^ 0x8000u) & 0x8000u) ^ ((t >> 4) & 0x3u));
        break;
    case 4: {   /* z about -(x*y) */
        int32_t ex = (int32_t)((s->x >> 23) & 255u), ey = (int32_t)((s->y >> 23) & 255u);
        int32_t ez = ex + ey - 127 + (int32_t)((t >> 3) & 3u) - 1;
        if (ez >= 0 && ez <= 254)
            s->z = ((s->x ^ s->y ^ 0x80000000u) & 0x80000000u) | ((uint32_t)ez << 23) | (s->z & 0x7FFFFFu);
        break;
    }
    case 5:     /* y = +-1, z close to -+x */
        s->y = 0x3F800000u | ((t << 28) & 0x80000000u);
        s->z = s->x ^ ((s->y ^ 0x80000000u) & 0x80000000u) ^ ((t >> 4) & 0x3u);
        break;
    case 6:     /* x, y close: cancellation in x + y; x near a binary16 value */
        s->y = s->x ^ 0x80000000u ^ (u & 0x1FFFu);
        break;
    default:
        break;
    }
}

/* Edge-class values: signed zeros, smallest/largest subnormals, smallest
   normal, values around 1 and the halfway points next to it, max finite,
   overflow helpers, infinities, quiet and signalling NaNs with payloads. */
#define EDGE16_COUNT 36
static const uint16_t edge16[EDGE16_COUNT] = {
    0x0000, 0x8000, 0x0001, 0x8001, 0x0002, 0x0200, 0x03FF, 0x83FF, 0x0400, 0x8400, 0x0401, 0x07FF,
    0x3C00, 0xBC00, 0x3C01, 0x3BFF, 0xBBFF, 0x3800, 0x4000, 0x3E00, 0x3555, 0x1000, 0x0C00, 0x1400,
    0x7BFF, 0xFBFF, 0x7BFE, 0x5BFF, 0x5C00, 0x4C00,
    0x7C00, 0xFC00, 0x7E00, 0xFE01, 0x7C01, 0xFD55,
};

#define EDGE32_COUNT 36
static const uint32_t edge32[EDGE32_COUNT] = {
    0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007FFFFF, 0x00800000, 0x80800000,
    0x3F800000, 0xBF800000, 0x3F800001, 0x3F7FFFFF, 0x33800000, 0x33000000, 0x33000001, 0x33C00000,
    0x3F801000, 0x3F803000, 0x477FE000, 0x477FF000, 0x477FEFFF, 0xC77FF000, 0x47800000,
    0x38800000, 0x387FC000, 0x387FE000, 0x387FF000, 0xB87FF000, 0x7F7FFFFF, 0xFF7FFFFF,
    0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001, 0x7F800001, 0xFFA00000, 0x4F000000,
};

/* Edge operand set i of the 36^3 triples: a, b, c from edge16, x, y, z from edge32. */
#define EDGE_TRIPLES (EDGE16_COUNT * EDGE16_COUNT * EDGE16_COUNT)
static inline void edge_set(uint32_t i, opset_t *s)
{
    uint32_t i0 = i / (EDGE16_COUNT * EDGE16_COUNT), i1 = (i / EDGE16_COUNT) % EDGE16_COUNT, i2 = i % EDGE16_COUNT;
    s->a = edge16[i0];
    s->b = edge16[i1];
    s->c = edge16[i2];
    s->x = edge32[i0];
    s->y = edge32[i1];
    s->z = edge32[i2];
}

/* FNV-1a over 32-bit words. */
#define HASH_INIT 0x811C9DC5u
static inline uint32_t hash_word(uint32_t h, uint32_t w)
{
    return (h ^ w) * 0x01000193u;
}

#endif
