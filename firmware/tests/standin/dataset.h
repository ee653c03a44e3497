/* Hand-written stand-in for a generated dataset.h. */
#ifndef TINYODL_DATASET_H
#define TINYODL_DATASET_H

#include <stdint.h>

extern const uint32_t tinyodl_train_count, tinyodl_test_count, tinyodl_epochs;
extern const uint32_t tinyodl_trace_steps;
extern const uint32_t tinyodl_predict_count;
extern const float tinyodl_train_inputs[];
extern const float tinyodl_train_targets[];
extern const float tinyodl_test_inputs[];
extern const uint8_t tinyodl_test_labels[];

#endif
