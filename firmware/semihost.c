/*
 * RISC-V semihosting (own implementation; see semihost.h).
 *
 * The trap sequence is "slli x0,x0,0x1f; ebreak; srai x0,x0,7": QEMU only
 * treats the ebreak as a semihosting request when it sees exactly these
 * 32-bit neighbours, so the sequence is assembled with compression off and
 * aligned so it never straddles a page.
 */
#include "semihost.h"

#include <stdint.h>

#define SYS_WRITE0                  0x04
#define SYS_EXIT_EXTENDED           0x20
#define ADP_Stopped_ApplicationExit 0x20026

/* Kept out of line: the alignment padding then costs nothing at call sites,
   and a0/a1 are naturally the operation and parameter registers. */
__attribute__((noinline)) long semihost_call(long op, const void *arg)
{
    register long a0 __asm__("a0") = op;
    register const void *a1 __asm__("a1") = arg;
    __asm__ volatile(
        /* Align while compressed instructions are still allowed: the
           assembler sizes relaxable padding by the current ISA, and GNU
           ld rejects padding sized for 4-byte nops in an RVC section. */
        ".balign 16\n\t"
        ".option push\n\t"
        ".option norvc\n\t"
        "slli x0, x0, 0x1f\n\t"
        "ebreak\n\t"
        "srai x0, x0, 7\n\t"
        ".option pop"
        : "+r"(a0)
        : "r"(a1)
        : "memory");
    return a0;
}

/* One line per trap for typical output; +1 for the terminating NUL. */
#define LINE_CAPACITY 256
static char line_buffer[LINE_CAPACITY + 1];
static uint32_t line_length;
/* Nonzero once the current line has any characters (sent or not). */
static int line_started;

void semihost_flush(void)
{
    if (line_length == 0)
        return;
    line_buffer[line_length] = '\0';
    semihost_call(SYS_WRITE0, line_buffer);
    line_length = 0;
}

void semihost_putc(char c)
{
    /* SYS_WRITE0 stops at NUL, so a NUL could never be sent anyway. */
    if (c == '\0')
        return;
    line_buffer[line_length++] = c;
    line_started = (c != '\n');
    if (c == '\n' || line_length == LINE_CAPACITY)
        semihost_flush();
}

void semihost_puts(const char *s)
{
    while (*s != '\0')
        semihost_putc(*s++);
}

void semihost_end_line(void)
{
    if (line_started)
        semihost_putc('\n');
}

void semihost_exit(int code)
{
    /* On RV32 plain SYS_EXIT carries only the reason (QEMU maps it to exit
       status 0 or 1); SYS_EXIT_EXTENDED takes a block with the code. */
    static uint32_t block[2];
    semihost_flush();
    block[0] = ADP_Stopped_ApplicationExit;
    block[1] = (uint32_t)code;
    semihost_call(SYS_EXIT_EXTENDED, block);
    /* Only reached if the host ignored the request. */
    for (;;)
        __asm__ volatile("wfi");
}

void _exit(int code)
{
    semihost_exit(code);
}

/*
 * The rest of the process interface picolibc may reach: abort() raises
 * SIGABRT through kill(getpid(), sig).  One program, no signals: any
 * signal ends it with the shell-style status 128 + signal (abort -> 134).
 */
int getpid(void);
int kill(int pid, int sig);

int getpid(void)
{
    return 1;
}

int kill(int pid, int sig)
{
    (void)pid;
    semihost_exit(128 + sig);
}
