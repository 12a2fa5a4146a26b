/* wo_fake_bridge.c -- host-test stand-in for the lightweight bridge (wo_monitor built with
 * -DWO_FAKE_BRIDGE; never used on the board).
 *
 * Environment:
 *   WO_FAKE_RESULT   file whose bytes the RESULT register pops (VALID set, LAST on none)
 *   WO_FAKE_SAMPLES  file that receives every byte written to SAMPLE
 *   WO_FAKE_LOG      file that receives one line per CONTROL write ("CONTROL 0x........")
 * STATUS reports the sample FIFO full on every third read, so the writer must poll it;
 * a SAMPLE write while full is recorded as "LOST" in the log (the gateware ignores it).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "wo_regs.h"

static FILE *result_in, *samples_out, *log_out;
static uint32_t control = WO_CONTROL_RESET;
static unsigned status_reads;
static int full;

static FILE *open_env(const char *name, const char *mode)
{
    const char *path = getenv(name);
    FILE *f = path ? fopen(path, mode) : NULL;
    if (!f) { fprintf(stderr, "wo_fake_bridge: set %s to a usable file\n", name); exit(3); }
    return f;
}

int wo_bridge_open(void)
{
    result_in = open_env("WO_FAKE_RESULT", "rb");
    samples_out = open_env("WO_FAKE_SAMPLES", "wb");
    log_out = open_env("WO_FAKE_LOG", "w");
    return 0;
}

uint32_t wo_reg_read(unsigned offset)
{
    int c;
    switch (offset) {
    case WO_REG_ID: return WO_ID_VALUE;
    case WO_REG_CONTROL: return control;
    case WO_REG_STATUS:
        full = (++status_reads % 3) == 0;
        return full ? WO_STATUS_SAMPLE_FULL : 0;
    case WO_REG_RESULT:
        c = fgetc(result_in);
        return c == EOF ? 0 : (WO_RESULT_VALID | (uint32_t)c);
    default: return 0;
    }
}

void wo_reg_write(unsigned offset, uint32_t value)
{
    if (offset == WO_REG_CONTROL) {
        control = value & ~WO_CONTROL_CLEAR_OVERFLOW;
        fprintf(log_out, "CONTROL 0x%08lx\n", (unsigned long)value);
    } else if (offset == WO_REG_SAMPLE) {
        if (full) fprintf(log_out, "LOST\n");
        else fputc((int)(value & 0xFFu), samples_out);
    }
}

void wo_bridge_close(void)
{
    fclose(result_in);
    fclose(samples_out);
    fclose(log_out);
}
