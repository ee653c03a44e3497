/*
 * Per-region instruction counts (regions = one kernel call each: a layer and a pass).
 *
 * Generated code built with `tinyodl compile --profile` brackets every kernel call of
 * tinyodl_train_step with tinyodl_region_begin(id) / tinyodl_region_end(id). Each pair costs
 * a fixed number of instructions for a given build; the harness measures that overhead with
 * an empty region (tinyodl_region_overhead) and the host subtracts it per call. Without
 * --profile no region code is generated and these functions are never called.
 */
#ifndef TINYODL_PROFILE_H
#define TINYODL_PROFILE_H

#include <stdint.h>

#define TINYODL_MAX_REGIONS 256u

void tinyodl_region_begin(uint32_t id);
void tinyodl_region_end(uint32_t id);

/* Instructions counted by an empty begin/end pair. */
uint64_t tinyodl_region_overhead(void);

extern uint64_t tinyodl_region_instret[TINYODL_MAX_REGIONS];
extern uint32_t tinyodl_region_calls[TINYODL_MAX_REGIONS];

#endif
