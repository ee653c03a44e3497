/*
 * Trap diagnostic, called by the board's trap entry (startup.S) before it
 * ends the program with exit status 128 + mcause.  Prints one protocol line:
 *   trap <mcause> <mepc as 8 hex digits> <mtval as 8 hex digits>
 * on a fresh line, so a half-printed line cannot swallow it.
 */
#include <stdint.h>

#include "print.h"
#include "semihost.h"

void tinyodl_trap_report(uint32_t mcause, uint32_t mepc, uint32_t mtval);

void tinyodl_trap_report(uint32_t mcause, uint32_t mepc, uint32_t mtval)
{
    semihost_end_line();
    print_str("trap ");
    print_u32(mcause);
    print_char(' ');
    print_hex32(mepc);
    print_char(' ');
    print_hex32(mtval);
    print_newline();
}
