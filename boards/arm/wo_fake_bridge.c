/* wo_fake_bridge.c -- host-test stand-in for the lightweight bridge (wo_monitor built with
 * -DWO_FAKE_BRIDGE; never used on the board).
 *
 * Environment:
 *   WO_FAKE_RESULT   file whose bytes the RESULT register pops (VALID set, LAST on none)
 *   WO_FAKE_SAMPLES  file that receives every byte written to SAMPLE
 *   WO_FAKE_LOG      file that receives one line per CONTROL write ("CONTROL 0x........")
 * STATUS reports the sample FIFO full on every third read, so the writer must poll it;
 * a SAMPLE write while full is recorded as "LOST" in the log (the gateware ignores it).
 * STATUS.OVERFLOW and STATUS.STRIDE_OVERRUN are always set and the counter registers read
 * fixed values (FAKE_* below; tests/test_arm_program.py expects them in the "# fabric" line).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "wo_regs.h"

/* what the counter registers read */
#define FAKE_DROPPED          0xFFFFFFFFu                 /* saturated */
#define FAKE_SAMPLES_IN       123456u
#define FAKE_INGRESS          ((3u << WO_INGRESS_LOST_SHIFT) | (2u << WO_INGRESS_REJECTED_SHIFT))
#define FAKE_RX_ERRORS        ((5u << WO_RX_ERRORS_OVERRUN_SHIFT) | (4u << WO_RX_ERRORS_FRAMING_SHIFT))
#define FAKE_STRIDE_OVERRUNS  (6u << WO_STRIDE_OVERRUNS_COUNT_SHIFT)

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
        return (full ? WO_STATUS_SAMPLE_FULL : 0) | WO_STATUS_OVERFLOW | WO_STATUS_STRIDE_OVERRUN;
    case WO_REG_RESULT:
        c = fgetc(result_in);
        return c == EOF ? 0 : (WO_RESULT_VALID | (uint32_t)c);
    case WO_REG_DROPPED: return FAKE_DROPPED;
    case WO_REG_SAMPLES_IN: return FAKE_SAMPLES_IN;
    case WO_REG_INGRESS: return FAKE_INGRESS;
    case WO_REG_RX_ERRORS: return FAKE_RX_ERRORS;
    case WO_REG_STRIDE_OVERRUNS: return FAKE_STRIDE_OVERRUNS;
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
