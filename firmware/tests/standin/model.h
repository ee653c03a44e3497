/*
 * Hand-written stand-in for a generated model.h: the interface the harness
 * expects from every generated model.  Model: 2 inputs -> 2 logits, linear,
 * squared-error loss, plain SGD.
 */
#ifndef TINYODL_MODEL_H
#define TINYODL_MODEL_H

#include <stdint.h>

#define TINYODL_MODEL_NAME "standin_linear2"
#define TINYODL_ARENA_SIZE 32   /* bytes: 4 + 2 floats, 4 bfloat16 */
#define TINYODL_INPUT_SIZE 2
#define TINYODL_TARGET_SIZE 2
#define TINYODL_OUTPUT_SIZE 2
#define TINYODL_NUM_PARAMS 3

typedef struct {
    const char *name;
    uint32_t elements;
    uint32_t element_bytes;
    const void *data;
} tinyodl_tensor_view;

void tinyodl_init(void);
float tinyodl_train_step(const float *input, const float *target);
void tinyodl_predict(const float *input, float *output);
tinyodl_tensor_view tinyodl_param(uint32_t index);
uint32_t tinyodl_num_regions(void);
const char *tinyodl_region_name(uint32_t index);

#endif
