/* Region counters for `tinyodl compile --profile`; see profile.h. */
#include "profile.h"
#include "perf.h"

uint64_t tinyodl_region_instret[TINYODL_MAX_REGIONS];
uint32_t tinyodl_region_calls[TINYODL_MAX_REGIONS];

static uint64_t region_start;

/* Not inlined, so the instructions a pair adds are the same in every region. */
__attribute__((noinline)) void tinyodl_region_begin(uint32_t id)
{
    (void)id;
    region_start = perf_instret();
}

__attribute__((noinline)) void tinyodl_region_end(uint32_t id)
{
    uint64_t now = perf_instret();
    if (id < TINYODL_MAX_REGIONS) {
        tinyodl_region_instret[id] += now - region_start;
        ++tinyodl_region_calls[id];
    }
}

uint64_t tinyodl_region_overhead(void)
{
    uint64_t saved_instret = tinyodl_region_instret[0];
    uint32_t saved_calls = tinyodl_region_calls[0];
    tinyodl_region_begin(0);
    tinyodl_region_end(0);
    uint64_t overhead = tinyodl_region_instret[0] - saved_instret;
    tinyodl_region_instret[0] = saved_instret;
    tinyodl_region_calls[0] = saved_calls;
    return overhead;
}
