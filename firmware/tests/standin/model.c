/*
 * Stand-in model: logits = W x + b, loss = 0.5 * sum (logit - target)^2,
 * SGD with a power-of-two learning rate.  A third "parameter" is a
 * bfloat16 copy of W (integer truncation), only there to exercise the
 * harness's 2-byte element printing.
 */
#include "model.h"

#include <string.h>

#define LEARNING_RATE 0.125f

static struct {
    float weight[2][2]; /* [output][input] */
    float bias[2];
    uint16_t weight_bf16[4];
} arena;

typedef char arena_size_matches[sizeof arena == TINYODL_ARENA_SIZE ? 1 : -1];

static void update_bf16(void)
{
    const float *w = &arena.weight[0][0];
    for (int i = 0; i < 4; ++i) {
        uint32_t bits;
        memcpy(&bits, &w[i], sizeof bits);
        arena.weight_bf16[i] = (uint16_t)(bits >> 16);
    }
}

void tinyodl_init(void)
{
    arena.weight[0][0] = 0.5f;
    arena.weight[0][1] = -0.25f;
    arena.weight[1][0] = 0.125f;
    arena.weight[1][1] = 0.375f;
    arena.bias[0] = 0.0f;
    arena.bias[1] = 0.0f;
    update_bf16();
}

void tinyodl_predict(const float *input, float *output)
{
    for (int j = 0; j < 2; ++j) {
        float z = arena.bias[j];
        z += arena.weight[j][0] * input[0];
        z += arena.weight[j][1] * input[1];
        output[j] = z;
    }
}

float tinyodl_train_step(const float *input, const float *target)
{
    float logits[2];
    float loss = 0.0f;
    tinyodl_predict(input, logits);
    for (int j = 0; j < 2; ++j) {
        float d = logits[j] - target[j];
        loss += 0.5f * d * d;
        float g = LEARNING_RATE * d;
        arena.weight[j][0] -= g * input[0];
        arena.weight[j][1] -= g * input[1];
        arena.bias[j] -= g;
    }
    update_bf16();
    return loss;
}

tinyodl_tensor_view tinyodl_param(uint32_t index)
{
    tinyodl_tensor_view v;
    switch (index) {
    case 0:
        v.name = "weight"; v.elements = 4; v.element_bytes = 4; v.data = arena.weight;
        break;
    case 1:
        v.name = "bias"; v.elements = 2; v.element_bytes = 4; v.data = arena.bias;
        break;
    case 2:
        v.name = "weight_bf16"; v.elements = 4; v.element_bytes = 2; v.data = arena.weight_bf16;
        break;
    default:
        v.name = "none"; v.elements = 0; v.element_bytes = 4; v.data = arena.bias;
        break;
    }
    return v;
}

/* No profiling regions in the stand-in. */
uint32_t tinyodl_num_regions(void)
{
    return 0;
}

const char *tinyodl_region_name(uint32_t index)
{
    (void)index;
    return "";
}
