/*
 * Stand-in dataset: points in the unit square, class 1 when x0 > x1.
 * STANDIN_TRACE_STEPS (0 by default) switches the harness to verify mode;
 * STANDIN_PREDICT_COUNT (4 by default) test predictions end either mode.
 */
#include "dataset.h"

#ifndef STANDIN_TRACE_STEPS
#define STANDIN_TRACE_STEPS 0
#endif
#ifndef STANDIN_PREDICT_COUNT
#define STANDIN_PREDICT_COUNT 4
#endif

const uint32_t tinyodl_train_count = 8;
const uint32_t tinyodl_test_count = 6;
const uint32_t tinyodl_epochs = 4;
const uint32_t tinyodl_trace_steps = STANDIN_TRACE_STEPS;
const uint32_t tinyodl_predict_count = STANDIN_PREDICT_COUNT;

const float tinyodl_train_inputs[] = {
    0.9f, 0.1f,   0.2f, 0.7f,   0.6f, 0.3f,   0.1f, 0.8f,
    0.75f, 0.5f,  0.4f, 0.95f,  0.85f, 0.2f,  0.3f, 0.6f,
};
const float tinyodl_train_targets[] = {
    0.0f, 1.0f,   1.0f, 0.0f,   0.0f, 1.0f,   1.0f, 0.0f,
    0.0f, 1.0f,   1.0f, 0.0f,   0.0f, 1.0f,   1.0f, 0.0f,
};
const float tinyodl_test_inputs[] = {
    0.8f, 0.3f,   0.2f, 0.9f,   0.65f, 0.35f,
    0.15f, 0.55f, 0.7f, 0.05f,  0.45f, 0.5f,
};
const uint8_t tinyodl_test_labels[] = { 1, 0, 1, 0, 1, 0 };
