/*
 * Output for the oracle programs: one large buffer sent with one semihosting
 * SYS_WRITE0 per 64 KiB.  Under QEMU 7.2 every semihosting call costs far
 * more than the bytes it carries (firmware/print.c sends a call per 256-byte
 * line piece), and the oracle prints megabytes.
 */
#ifndef ORACLE_OUT_H
#define ORACLE_OUT_H

#include <stdint.h>

#include "semihost.h"

#define OUT_CAPACITY 65536u
static char out_buffer[OUT_CAPACITY + 1];
static uint32_t out_length;

static void out_flush(void)
{
    if (out_length == 0)
        return;
    out_buffer[out_length] = '\0';
    semihost_call(0x04, out_buffer);        /* SYS_WRITE0 */
    out_length = 0;
}

static inline void out_char(char c)
{
    if (out_length == OUT_CAPACITY)
        out_flush();
    out_buffer[out_length++] = c;
}

static void out_str(const char *s)
{
    while (*s)
        out_char(*s++);
}

static inline void out_hex(uint32_t value, uint32_t digits)
{
    static const char hex[] = "0123456789abcdef";
    while (digits > 0) {
        --digits;
        out_char(hex[(value >> (4u * digits)) & 15u]);
    }
}

static void out_u32(uint32_t value)
{
    char digits[10];
    uint32_t n = 0;
    do {
        digits[n++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0);
    while (n > 0)
        out_char(digits[--n]);
}

#endif
