/*
 * 64-bit reads of the machine-mode performance counters on RV32.
 *
 * Under QEMU with -icount shift=0 both counters equal the exact number of
 * retired instructions (there is no timing model, so mcycle == minstret).
 * On RV32 each counter is two CSRs; the high half is read before and after
 * the low half and the read is retried if the high half changed, i.e. the
 * low half wrapped in between.
 */
#ifndef TINYODL_PERF_H
#define TINYODL_PERF_H

#include <stdint.h>

static inline uint64_t perf_instret(void)
{
    uint32_t hi, lo, hi2;
    do {
        __asm__ volatile("csrr %0, minstreth" : "=r"(hi));
        __asm__ volatile("csrr %0, minstret" : "=r"(lo));
        __asm__ volatile("csrr %0, minstreth" : "=r"(hi2));
    } while (hi != hi2);
    return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t perf_cycles(void)
{
    uint32_t hi, lo, hi2;
    do {
        __asm__ volatile("csrr %0, mcycleh" : "=r"(hi));
        __asm__ volatile("csrr %0, mcycle" : "=r"(lo));
        __asm__ volatile("csrr %0, mcycleh" : "=r"(hi2));
    } while (hi != hi2);
    return ((uint64_t)hi << 32) | lo;
}

#endif
