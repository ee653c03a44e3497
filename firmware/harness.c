/*
 * Generic driver for a generated model: trains it on the generated dataset
 * and reports through the line protocol described in README.md.
 *
 * Knows the model only through model.h / dataset.h (tinyodl_* names), so
 * the same file serves every model and backend.
 */
#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "model.h"
#include "perf.h"
#include "print.h"
#include "profile.h"

/* Plain constants instead of macros in loop bounds: comparing an unsigned
   index with a literal 0 would trip -Wtype-limits. */
static const uint32_t num_params = TINYODL_NUM_PARAMS;
static const uint32_t output_size = TINYODL_OUTPUT_SIZE;

static float outputs[TINYODL_OUTPUT_SIZE > 0 ? TINYODL_OUTPUT_SIZE : 1];

typedef struct {
    float loss;
    uint64_t instret;
    uint64_t cycles;
} step_result;

/* One training step on sample `index`, timed.  Cycles are read outside
   instret so that the instret delta carries the smallest overhead: with
   optimisation it is the step function (including its ret) plus about 5
   instructions (the end of the first counter read, the call, the start of
   the second); at -O0 the counter reads are calls and cost more. */
static step_result timed_train_step(uint32_t index)
{
    const float *input = tinyodl_train_inputs + (size_t)index * TINYODL_INPUT_SIZE;
    const float *target = tinyodl_train_targets + (size_t)index * TINYODL_TARGET_SIZE;
    step_result r;
    /* Volatile asm keeps its order with the counter reads, so this makes
       the compiler compute the arguments before the timed region. */
    __asm__ volatile("" : "+r"(input), "+r"(target));
    uint64_t c0 = perf_cycles();
    uint64_t i0 = perf_instret();
    r.loss = tinyodl_train_step(input, target);
    uint64_t i1 = perf_instret();
    uint64_t c1 = perf_cycles();
    r.instret = i1 - i0;
    r.cycles = c1 - c0;
    return r;
}

static const float *test_input(uint32_t index)
{
    return tinyodl_test_inputs + (size_t)index * TINYODL_INPUT_SIZE;
}

/* Index of the largest output; the first one wins ties. */
static uint32_t argmax_outputs(void)
{
    uint32_t best = 0;
    for (uint32_t j = 1; j < output_size; ++j)
        if (outputs[j] > outputs[best])
            best = j;
    return best;
}

static uint32_t count_correct(void)
{
    uint32_t correct = 0;
    for (uint32_t i = 0; i < tinyodl_test_count; ++i) {
        tinyodl_predict(test_input(i), outputs);
        if (argmax_outputs() == tinyodl_test_labels[i])
            ++correct;
    }
    return correct;
}

/* "param <name> <elements> <hex>..." per parameter.  Elements are printed
   as their raw little-endian bit pattern, two hex digits per byte, so
   4-byte floats give 8 digits and 2-byte halves give 4. */
static void print_params(void)
{
    for (uint32_t p = 0; p < num_params; ++p) {
        tinyodl_tensor_view view = tinyodl_param(p);
        const unsigned char *bytes = (const unsigned char *)view.data;
        print_str("param ");
        print_str(view.name);
        print_char(' ');
        print_u32(view.elements);
        for (uint32_t e = 0; e < view.elements; ++e) {
            print_char(' ');
            print_hex_bytes(bytes + (size_t)e * view.element_bytes, view.element_bytes);
        }
        print_newline();
    }
}

static void print_outputs(void)
{
    for (uint32_t j = 0; j < output_size; ++j) {
        print_char(' ');
        print_f32(outputs[j]);
    }
}

/* Verify mode: trace individual steps so the host can compare every loss
   and the final state against its reference implementation. */
static void run_verify(void)
{
    if (tinyodl_train_count > 0) {
        for (uint32_t s = 0; s < tinyodl_trace_steps; ++s) {
            step_result r = timed_train_step(s % tinyodl_train_count);
            print_str("step ");
            print_u32(s);
            print_str(" loss ");
            print_f32(r.loss);
            print_str(" instret ");
            print_u64(r.instret);
            print_str(" cycles ");
            print_u64(r.cycles);
            print_newline();
        }
    }
    print_params();
}

/* "predict <i> <hex>..." for the first tinyodl_predict_count test samples,
   in both modes, after the parameters.  A run with no training samples, no
   epochs and no traced steps thus predicts given inputs with the initial
   parameters. */
static void print_predictions(void)
{
    uint32_t n = tinyodl_test_count < tinyodl_predict_count ? tinyodl_test_count : tinyodl_predict_count;
    for (uint32_t i = 0; i < n; ++i) {
        tinyodl_predict(test_input(i), outputs);
        print_str("predict ");
        print_u32(i);
        print_outputs();
        print_newline();
    }
}

/* "region <name> <calls> <instret> <overhead_per_call>" for builds with --profile. */
static void print_regions(void)
{
    uint32_t n = tinyodl_num_regions();
    if (n == 0)
        return;
    uint64_t overhead = tinyodl_region_overhead();
    for (uint32_t r = 0; r < n && r < TINYODL_MAX_REGIONS; ++r) {
        print_str("region ");
        print_str(tinyodl_region_name(r));
        print_char(' ');
        print_u32(tinyodl_region_calls[r]);
        print_char(' ');
        print_u64(tinyodl_region_instret[r]);
        print_char(' ');
        print_u64(overhead);
        print_newline();
    }
}

static void run_training(void)
{
    for (uint32_t epoch = 1; epoch <= tinyodl_epochs; ++epoch) {
        /* Plain float adds in sample order: the host reproduces this sum
           bit for bit. */
        float loss_sum = 0.0f;
        uint64_t instret_first = 0, instret_min = 0, instret_max = 0, cycles_first = 0;
        for (uint32_t s = 0; s < tinyodl_train_count; ++s) {
            step_result r = timed_train_step(s);
            loss_sum += r.loss;
            if (s == 0) {
                instret_first = instret_min = instret_max = r.instret;
                cycles_first = r.cycles;
            } else {
                if (r.instret < instret_min)
                    instret_min = r.instret;
                if (r.instret > instret_max)
                    instret_max = r.instret;
            }
        }
        uint32_t correct = count_correct();
        print_str("epoch ");
        print_u32(epoch);
        print_str(" loss_sum ");
        print_f32(loss_sum);
        print_str(" steps ");
        print_u32(tinyodl_train_count);
        print_str(" instret_first ");
        print_u64(instret_first);
        print_str(" instret_min ");
        print_u64(instret_min);
        print_str(" instret_max ");
        print_u64(instret_max);
        print_str(" cycles_first ");
        print_u64(cycles_first);
        print_str(" correct ");
        print_u32(correct);
        print_str(" total ");
        print_u32(tinyodl_test_count);
        print_newline();
    }
    print_params();
}

int main(void)
{
    print_str("model ");
    print_str(TINYODL_MODEL_NAME);
    print_str(" arena ");
    print_u32((uint32_t)TINYODL_ARENA_SIZE);
    print_str(" params ");
    print_u32(num_params);
    print_newline();

    tinyodl_init();
    if (tinyodl_trace_steps > 0)
        run_verify();
    else
        run_training();
    print_predictions();
    print_regions();

    print_str("done");
    print_newline();
    return 0;
}
