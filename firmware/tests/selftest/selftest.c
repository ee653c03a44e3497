/*
 * Runtime self-test, built through build.mk with HARNESS pointing here (it
 * replaces harness.c; the stand-in model is linked but unused).  Checks
 * what the stand-in model cannot reach: TLS layout and errno, .data/.bss
 * set-up, the heap, long-line output, exit codes and the trap path.
 *
 * SELFTEST_MODE: 0 checks then returns SELFTEST_EXIT; 1 executes an illegal
 * instruction (expect exit 130); 2 calls libc exit(5); 3 calls abort().
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "print.h"
#include "semihost.h"

#ifndef SELFTEST_MODE
#define SELFTEST_MODE 0
#endif
#ifndef SELFTEST_EXIT
#define SELFTEST_EXIT 0
#endif

extern char __tls_base[], __tbss_start[], __tbss_end[], __bss_start[], __bss_end[];
extern char __global_pointer$[];

static __thread uint32_t tls_initialised = 0x12345678u;
static __thread uint32_t tls_zeroed[4];
static uint32_t data_word = 0xcafef00du;
static uint32_t bss_words[64];
static volatile float fp_a = 1.0f, fp_b = 3.0f;

static unsigned failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        print_str("selftest fail ");
        print_str(what);
        print_newline();
        ++failures;
    }
}

static uint32_t read_tp(void)
{
    uint32_t tp;
    __asm__ volatile("mv %0, tp" : "=r"(tp));
    return tp;
}

static uint32_t read_gp(void)
{
    uint32_t gp;
    __asm__ volatile("mv %0, gp" : "=r"(gp));
    return gp;
}

static uint32_t read_mstatus(void)
{
    uint32_t v;
    __asm__ volatile("csrr %0, mstatus" : "=r"(v));
    return v;
}

static void run_checks(void)
{
    check(read_tp() == (uint32_t)(uintptr_t)__tls_base, "tp");
    check(read_gp() == (uint32_t)(uintptr_t)__global_pointer$, "gp");
    check((read_mstatus() & 0x6000u) != 0, "mstatus.FS");

    check(tls_initialised == 0x12345678u, "tdata value");
    check((char *)&tls_initialised >= __tls_base && (char *)&tls_initialised < __tbss_start,
          "tdata address");
    check((char *)&tls_zeroed[0] >= __tbss_start && (char *)&tls_zeroed[4] <= __tbss_end,
          "tbss address");
    check((char *)&tls_zeroed[4] <= __bss_start, "tbss below bss");
    for (int i = 0; i < 4; ++i)
        check(tls_zeroed[i] == 0, "tbss zero");
    for (int i = 0; i < 64; ++i)
        check(bss_words[i] == 0, "bss zero");
    /* Writing TLS must not disturb ordinary data and vice versa. */
    for (int i = 0; i < 4; ++i)
        tls_zeroed[i] = 0xa5a5a5a5u;
    for (int i = 0; i < 64; ++i)
        bss_words[i] = 0x5a5a5a5au;
    check(tls_zeroed[3] == 0xa5a5a5a5u && tls_initialised == 0x12345678u, "tls intact");
    check(data_word == 0xcafef00du, "data value");

    /* picolibc's errno is thread-local, addressed through tp. */
    errno = 0;
    char *end;
    long v = strtol("99999999999999999999", &end, 10);
    check(v == 2147483647L && errno == ERANGE, "errno via strtol");

    void *p = malloc(1000);
    check(p != NULL, "malloc");
    if (p != NULL) {
        memset(p, 0x11, 1000);
        free(p);
    }

    /* fcsr cleared at reset: round-to-nearest; 1/3 rounds down. */
    uint32_t bits;
    float third = fp_a / fp_b;
    memcpy(&bits, &third, sizeof bits);
    check(bits == 0x3eaaaaabu, "1/3 rounding");

    /* A 2000-character line: several buffer flushes, one newline. */
    print_str("longline ");
    for (int i = 0; i < 250; ++i)
        print_hex32(0x01234567u * (uint32_t)i);
    print_newline();
    print_str("u64 ");
    print_u64(18446744073709551615ull);
    print_char(' ');
    print_u32(4294967295u);
    print_char(' ');
    print_u32(0);
    print_newline();
}

int main(void)
{
    switch (SELFTEST_MODE) {
    case 1:
        print_str("partial line before trap");
        __asm__ volatile(".word 0"); /* all-zero word: illegal instruction */
        break;
    case 2:
        exit(5);
    case 3:
        abort();
    default:
        break;
    }
    run_checks();
    print_str(failures == 0 ? "selftest ok" : "selftest failed");
    print_newline();
    return failures == 0 ? SELFTEST_EXIT : 1;
}
