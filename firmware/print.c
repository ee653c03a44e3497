#include "print.h"

#include <string.h>

#include "semihost.h"

static const char hex_digits[] = "0123456789abcdef";

void print_char(char c)
{
    semihost_putc(c);
}

void print_str(const char *s)
{
    semihost_puts(s);
}

void print_newline(void)
{
    semihost_putc('\n');
}

void print_u64(uint64_t value)
{
    char digits[20]; /* 2^64 - 1 has 20 decimal digits */
    unsigned n = 0;
    do {
        digits[n++] = (char)('0' + (unsigned)(value % 10u));
        value /= 10u;
    } while (value != 0);
    while (n > 0)
        semihost_putc(digits[--n]);
}

void print_u32(uint32_t value)
{
    /* Separate from print_u64 so 32-bit values avoid libgcc's 64-bit
       division. */
    char digits[10];
    unsigned n = 0;
    do {
        digits[n++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0);
    while (n > 0)
        semihost_putc(digits[--n]);
}

void print_hex(uint32_t value, unsigned digits)
{
    if (digits > 8)
        digits = 8; /* a shift by 32 or more would be undefined */
    while (digits > 0) {
        --digits;
        semihost_putc(hex_digits[(value >> (4u * digits)) & 0xfu]);
    }
}

void print_hex32(uint32_t value)
{
    print_hex(value, 8);
}

void print_f32(float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    print_hex32(bits);
}

void print_hex_bytes(const void *data, uint32_t bytes)
{
    const unsigned char *p = (const unsigned char *)data;
    while (bytes > 0) {
        --bytes;
        print_hex(p[bytes], 2);
    }
}
