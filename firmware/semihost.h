/*
 * Minimal RISC-V semihosting: console output and program exit.
 *
 * Output is line-buffered so that each line normally costs one semihosting
 * trap (SYS_WRITE0).  A line longer than the buffer is sent in several
 * pieces; the bytes and the single trailing newline are unchanged.
 */
#ifndef TINYODL_SEMIHOST_H
#define TINYODL_SEMIHOST_H

/* Raw semihosting call: operation number and parameter (usually a pointer
   to a parameter block).  Returns the host's result register. */
long semihost_call(long op, const void *arg);

/* Append one character to the line buffer; '\n' sends the line. */
void semihost_putc(char c);

/* Append a NUL-terminated string. */
void semihost_puts(const char *s);

/* Send whatever is buffered, without adding a newline. */
void semihost_flush(void);

/* If the current line has been started, end it with '\n'. */
void semihost_end_line(void);

/* Flush and end the simulation; QEMU's exit status becomes code & 0xff. */
void semihost_exit(int code) __attribute__((noreturn));

/* POSIX name used by startup code and by picolibc's exit()/abort(). */
void _exit(int code) __attribute__((noreturn));

#endif
