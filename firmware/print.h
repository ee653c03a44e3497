/*
 * printf-free output helpers, line-buffered through semihosting.
 * Floats are printed only as their IEEE-754 bit pattern (print_f32), which
 * is exact and needs no float formatting code.
 */
#ifndef TINYODL_PRINT_H
#define TINYODL_PRINT_H

#include <stdint.h>

void print_char(char c);
void print_str(const char *s);
void print_u32(uint32_t value);              /* decimal */
void print_u64(uint64_t value);              /* decimal */
void print_hex32(uint32_t value);            /* exactly 8 lowercase digits */
void print_hex(uint32_t value, unsigned digits); /* low `digits` nibbles, 1..8 */
void print_f32(float value);                 /* bits as 8 hex digits */
/* `bytes` bytes of a little-endian value, most significant first,
   2 lowercase hex digits per byte (4 bytes -> same as print_hex32). */
void print_hex_bytes(const void *data, uint32_t bytes);
void print_newline(void);

#endif
