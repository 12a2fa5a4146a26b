/* wo_monitor.c -- ARM-side wearing-off monitor: result frames in, one state line per stride out.
 *
 * Source of frame bytes (the format of spec/frames.py: A5 5A type seq len payload crc16):
 *   wo_monitor --file PATH     bytes from a file ("-" = stdin), e.g. a UART capture (host tests)
 *   wo_monitor --devmem [--replay PATH] [--idle-exit MS]
 *                              the fabric's result FIFO through the HPS-to-FPGA lightweight
 *                              bridge: mmap of /dev/mem at WO_BRIDGE_BASE (0xFF200000), popping
 *                              bytes from the RESULT register (map: boards/arm/wo_regs.h,
 *                              generated from spec/registers.py).
 *                              --replay: first set CONTROL.SOURCE to the HPS replay and write the
 *                              SAMPLES frames of PATH byte by byte to SAMPLE (waiting while
 *                              STATUS bit 2 says the sample FIFO is full), popping results
 *                              meanwhile; CONTROL is restored on exit. --idle-exit: stop after
 *                              MS milliseconds without a result byte (default: run until
 *                              SIGINT/SIGTERM).
 *
 * Built with -DWO_FAKE_BRIDGE (host tests only), the register accesses go to
 * boards/arm/wo_fake_bridge.c instead of /dev/mem.
 *
 * Built with a HAR model (-DWO_HAR_MODEL=..., boards/arm/wo_activity.c and the model's C:
 * python -m boards.arm_program --har MODEL_DIR), it also runs the activity model on the IMU
 * frames (docs/imu-ingress.md; in --file mode from the same stream, in --devmem mode from
 * --imu PATH, e.g. /dev/ttyACM0, a second byte stream with its own decoder buffer and the same
 * counters), prints one line per window
 *
 *   ACTIVITY activity_end_s=<s.sss> activity=<class> p_activity=<p.pppp> walking=<1|0>
 *
 * and holds each STRIDE line until the IMU windows settle its end (start + stride_time; at
 * most 32 waiting, the oldest then goes with what is known; all at the end), then prints it
 * with " activity=<class> p_activity=<p.pppp> walking=<1|0> activity_end_s=<s.sss>": the
 * newest window covering the stride's end, or blank values (unknown). The rule and its Python
 * reference: boards/arm/wo_activity.h, sw/activity_context.py. Without a HAR model IMU frames
 * are only counted and the output is as described below.
 *
 * Each STRIDE frame is turned into the classifier's features (the per-stride measures of
 * WO_STRIDE_MEASURES in boards/arm/wo_frames.h, generated from spec/frames.py: offsets, sizes
 * and scales to the CSV columns of python -m sw.extract emg), fed to the classifier emitted by python -m sw.train_dnn
 * (compiled in with -DWO_HEADER, -DWO_PREDICT, -DWO_N_FEATURES, -DWO_FEATURE_NAMES), and
 * printed on stdout (the console UART on the board) as
 *
 *   STRIDE seq=<n> leg=<L|R> start_s=<s.sss> stride_time_ms=<ms> p_off=<p.pppp> state=<OFF|ON|NA>
 *
 * (NA, p_off=nan: a needed muscle absent or the stride overflowed). MRP frames print
 *
 *   MRP seq=<n> trigger_s=<s.sss> site=<name> BP_dBu=<x.xx> mu_dBu=<x.xx> beta_dBu=<x.xx> partial=<0|1>
 *
 * A frame that passes the CRC but is not accepted prints (hex: the whole frame, sync to CRC)
 *
 *   # reject <reason>: <hex>
 *
 * with the reason text of spec.frames (an unknown type, a wrong payload length, or an
 * impossible record: a field beyond its WO_<FRAME>_CHECKS limits, spec.frames.check_record), and
 * at the end (EOF, or SIGINT/SIGTERM in --devmem mode) the counters of spec.frames.STATS
 *
 *   # frames=<n> crc_errors=<n> length_errors=<n> unknown_types=<n> invalid_frames=<n> garbage_bytes=<n> seq_gaps=<n> lost_frames=<n>
 *
 * preceded in --devmem mode by the fabric's own flags and counters (since its reset; read from
 * the registers of wo_regs.h, each named after its register, or register and field):
 *
 *   # fabric status_overflow=<0|1> status_stride_overrun=<0|1> dropped=<n> samples_in=<n> ingress_rejected=<n> ingress_lost=<n> rx_errors_framing=<n> rx_errors_overrun=<n> stride_overruns=<n>
 *
 * (dropped: result frames the result FIFO had no room for; stride_overruns: stride records
 * the stride core dropped because the results path stalled for a whole stride -- their STRIDE
 * frames were never made, so no seq gap shows them).
 *
 * The decoder mirrors spec.frames.Decoder(check=True): hunt for A5 5A, check the CRC, on a bad
 * CRC drop one byte and hunt again; an invalid frame still advances its type's sequence.
 * C99 + POSIX; the host and the Cortex-A9 builds print identical text.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <time.h>
#include <errno.h>
#include <termios.h>
#include "wo_frames.h"
#include "wo_regs.h"
#include WO_HEADER
#ifdef WO_HAR_MODEL
#include "wo_activity.h"
#endif

static const char *const FEATURES[WO_N_FEATURES] = {WO_FEATURE_NAMES};
static const char *const SITES[WO_MRP_N_SITES] = {WO_MRP_SITES};

static unsigned long n_frames, n_crc, n_len, n_unknown, n_invalid, n_gaps, n_lost, n_garbage;
static int next_seq[256];
static volatile sig_atomic_t stop;

static uint16_t crc16(const uint8_t *p, unsigned n)
{
    uint16_t crc = 0xFFFF;
    unsigned i, b;
    for (i = 0; i < n; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

/* unsigned / signed little-endian payload field of `size` bytes at `off` */
static unsigned long uf(const uint8_t *pl, unsigned off, unsigned size)
{
    unsigned long v = 0;
    while (size--) v = v << 8 | pl[off + size];
    return v;
}
static long sf(const uint8_t *pl, unsigned off, unsigned size)
{
    unsigned long v = uf(pl, off, size), top = 1ul << (8 * size - 1);
    return (v & top) ? -(long)(~v & (top - 1)) - 1 : (long)v;
}
#define UF(pl, F) uf(pl, F##_OFF, F##_SIZE)
#define SF(pl, F) sf(pl, F##_OFF, F##_SIZE)

/* the per-stride measures: CSV column, payload offset and size, scale, present bits needed */
struct measure {
    const char *column;
    unsigned off, size;
    unsigned long mul;
    double div;
    unsigned needs;
};
#define WO_MEASURE(column, off, size, mul, div, needs) {column, off, size, mul, div, needs},
static const struct measure MEASURES[] = {WO_STRIDE_MEASURES(WO_MEASURE)};

/* feature `name` of a STRIDE payload; returns 0 if it is unavailable (a needed muscle absent).
 * value = raw * mul / div: (float)(raw * 2) for times in ms; for duty cycles in %, the CSV text
 * "dd.dd" parsed as float == (float)(duty / 100.0) */
static int stride_feature(const uint8_t *pl, const char *name, float *out)
{
    unsigned present = (unsigned)UF(pl, WO_STRIDE_PRESENT), k;
    for (k = 0; k < sizeof MEASURES / sizeof *MEASURES; k++) {
        const struct measure *m = &MEASURES[k];
        if (strcmp(name, m->column)) continue;
        if ((present & m->needs) != m->needs) return 0;
        *out = (float)((double)(uf(pl, m->off, m->size) * m->mul) / m->div);
        return 1;
    }
    return 0;
}

/* valid-record limits per frame kind (spec.frames.check_record) */
struct check {
    const char *field;
    unsigned off, size;
    unsigned long max, mask;
};
#define WO_CHECK(field, off, size, max, mask) {field, off, size, max, mask},
static const struct check STRIDE_CHECKS[] = {WO_STRIDE_CHECKS(WO_CHECK)};
static const struct check MRP_CHECKS[] = {WO_MRP_CHECKS(WO_CHECK)};
static const struct check SAMPLES_CHECKS[] = {WO_SAMPLES_CHECKS(WO_CHECK)};
static const struct check IMU_CHECKS[] = {WO_IMU_CHECKS(WO_CHECK)};
struct kind {
    const char *name;
    unsigned code, len;
    const struct check *checks;
    unsigned n_checks;
};
#define WO_KIND(NAME, code, len) \
    {#NAME, code, len, NAME##_CHECKS, sizeof NAME##_CHECKS / sizeof *NAME##_CHECKS},
static const struct kind KINDS[] = {WO_FRAME_KINDS(WO_KIND)};

/* "# reject <why>: <hex of the whole frame>" */
static void reject(const char *why, const uint8_t *fr, unsigned total)
{
    unsigned i;
    printf("# reject %s: ", why);
    for (i = 0; i < total; i++) printf("%02x", fr[i]);
    printf("\n");
}

/* the reason a record is impossible (as spec.frames.check_record), or 0 if it is valid */
static int check_record(const struct kind *k, const uint8_t *pl, char *why, size_t n)
{
    unsigned i;
    for (i = 0; i < k->n_checks; i++) {
        const struct check *c = &k->checks[i];
        unsigned long v = uf(pl, c->off, c->size);
        if (v > c->max) {
            snprintf(why, n, "%s.%s=%lu > %lu", k->name, c->field, v, c->max);
            return 1;
        }
        if (v & ~c->mask) {
            snprintf(why, n, "%s.%s=0x%lx outside 0x%lx", k->name, c->field, v, c->mask);
            return 1;
        }
    }
    return 0;
}

#ifdef WO_HAR_MODEL
/* activity context (wo_activity.h, the rule of sw/activity_context.py): each STRIDE line waits
 * in a queue until the IMU windows settle its end time, then gets its activity tag */
#define WO_ACT_PENDING 32                /* strides waiting (sw.activity_context.PENDING) */
static wo_activity act;
static struct pending {
    char line[200];                      /* "STRIDE seq=... state=..." */
    uint64_t end;                        /* fabric sample index of the stride's end */
} pending[WO_ACT_PENDING];
static unsigned n_pending, pending_head;

/* " activity=<name> p_activity=<p> walking=<1|0> activity_end_s=<s>", blank values: unknown */
static void print_tag(const wo_act_window *w)
{
    if (!w) {
        printf(" activity= p_activity= walking= activity_end_s=");
        return;
    }
    printf(" activity=%s p_activity=%.4f walking=%d activity_end_s=%.3f", wo_activity_name(w->cls),
           (double)w->p, wo_activity_walking(w->cls),
           (double)(w->last * WO_IMU_INDEX_MUL) / WO_IMU_INDEX_DIV);
}

/* print the oldest waiting stride with the activity known now */
static void pop_pending(void)
{
    struct pending *q = &pending[pending_head];
    wo_act_window w;
    printf("%s", q->line);
    print_tag(wo_activity_at(&act, q->end, &w) ? &w : 0);
    printf("\n");
    pending_head = (pending_head + 1) % WO_ACT_PENDING;
    n_pending--;
}

/* print the waiting strides, oldest first, while the oldest is settled (all = 1: every one) */
static void resolve_pending(int all)
{
    while (n_pending && (all || wo_activity_settled(&act, pending[pending_head].end)))
        pop_pending();
}

static void on_imu(const uint8_t *pl)
{
    float x[WO_IMU_N_CHANNELS];
    unsigned k = 0;
#define WO_IMU_VALUE(CH) \
    x[k++] = (float)((double)(SF(pl, WO_IMU_##CH) * (long)WO_IMU_##CH##_MUL) / WO_IMU_##CH##_DIV);
    WO_IMU_CHANNELS(WO_IMU_VALUE)
#undef WO_IMU_VALUE
    if (wo_activity_push(&act, (uint32_t)UF(pl, WO_IMU_INDEX), x)) {
        const wo_act_window *w = wo_activity_current(&act);
        printf("ACTIVITY activity_end_s=%.3f activity=%s p_activity=%.4f walking=%d\n",
               (double)(w->last * WO_IMU_INDEX_MUL) / WO_IMU_INDEX_DIV, wo_activity_name(w->cls),
               (double)w->p, wo_activity_walking(w->cls));
        resolve_pending(0);
    }
}
#endif

/* one frame that passed the CRC: fr points at the sync bytes, total = whole frame length */
static void on_frame(const uint8_t *fr, unsigned total)
{
    unsigned type = fr[WO_FRAME_TYPE_OFF], seq = fr[WO_FRAME_SEQ_OFF];
    unsigned len = fr[WO_FRAME_LEN_OFF], i;
    const uint8_t *pl = fr + WO_FRAME_HEADER_LEN;
    const struct kind *k = NULL;
    char why[96];
    for (i = 0; i < sizeof KINDS / sizeof *KINDS; i++)
        if (KINDS[i].code == type) k = &KINDS[i];
    if (!k) {
        n_unknown++;
        snprintf(why, sizeof why, "unknown frame type 0x%02x", type);
        reject(why, fr, total);
        return;
    }
    if (len != k->len) {
        n_len++;
        snprintf(why, sizeof why, "%s payload of %u bytes, expected %u", k->name, len, k->len);
        reject(why, fr, total);
        return;
    }
    if (next_seq[type] >= 0 && (int)seq != next_seq[type]) {
        n_gaps++;
        n_lost += (seq - (unsigned)next_seq[type]) & 0xFFu;
    }
    next_seq[type] = (int)((seq + 1) & 0xFFu);
    if (check_record(k, pl, why, sizeof why)) {
        n_invalid++;
        reject(why, fr, total);
        return;
    }
    n_frames++;
    if (type == WO_FRAME_STRIDE) {
        float x[WO_N_FEATURES], p = 0.0f;
        int ok = !(UF(pl, WO_STRIDE_OVERFLOW) & WO_STRIDE_OVERFLOW_SATURATED), i;
        char line[200];
        for (i = 0; ok && i < WO_N_FEATURES; i++)
            ok = stride_feature(pl, FEATURES[i], &x[i]);
        i = snprintf(line, sizeof line, "STRIDE seq=%u leg=%c start_s=%.3f stride_time_ms=%lu ",
                     seq, UF(pl, WO_STRIDE_LEG) ? 'R' : 'L',
                     (double)(UF(pl, WO_STRIDE_START) * WO_STRIDE_START_MUL) / WO_STRIDE_START_DIV,
                     UF(pl, WO_STRIDE_STRIDE_TIME) * WO_STRIDE_STRIDE_TIME_MUL);
        if (ok) {
            int label = WO_PREDICT(x, &p);
            snprintf(line + i, sizeof line - (size_t)i, "p_off=%.4f state=%s", (double)p,
                     label ? "OFF" : "ON");
        } else {
            snprintf(line + i, sizeof line - (size_t)i, "p_off=nan state=NA");
        }
#ifdef WO_HAR_MODEL
        {   /* wait for the IMU windows around the stride's end (start + stride_time) */
            struct pending *q;
            if (n_pending == WO_ACT_PENDING) pop_pending();
            q = &pending[(pending_head + n_pending++) % WO_ACT_PENDING];
            memcpy(q->line, line, sizeof line);
            q->end = (uint64_t)UF(pl, WO_STRIDE_START) + UF(pl, WO_STRIDE_STRIDE_TIME);
            resolve_pending(0);
        }
#else
        printf("%s\n", line);
#endif
    } else if (type == WO_FRAME_MRP) {
        printf("MRP seq=%u trigger_s=%.3f site=%s BP_dBu=%.2f mu_dBu=%.2f beta_dBu=%.2f partial=%u\n",
               seq, (double)(UF(pl, WO_MRP_INDEX) * WO_MRP_INDEX_MUL) / WO_MRP_INDEX_DIV,
               SITES[UF(pl, WO_MRP_CHANNEL)],              /* < WO_MRP_N_SITES: checked */
               (double)(SF(pl, WO_MRP_BP) * (long)WO_MRP_BP_MUL) / WO_MRP_BP_DIV,
               (double)(SF(pl, WO_MRP_MU) * (long)WO_MRP_MU_MUL) / WO_MRP_MU_DIV,
               (double)(SF(pl, WO_MRP_BETA) * (long)WO_MRP_BETA_MUL) / WO_MRP_BETA_DIV,
               (UF(pl, WO_MRP_PARTIAL) & WO_MRP_PARTIAL_INCOMPLETE) ? 1u : 0u);
    }
#ifdef WO_HAR_MODEL
    else if (type == WO_FRAME_IMU) {
        on_imu(pl);
    }
#endif                                           /* SAMPLES (and IMU without a HAR model):
                                                    counted, nothing printed */
}

/* streaming decoder over a byte buffer; one per byte stream (the counters are shared) */
struct decoder {
    uint8_t buf[4096];
    unsigned nbuf;
};
static struct decoder results;           /* --file, or the result FIFO */
#ifdef WO_HAR_MODEL
static struct decoder imu;               /* --imu: the IMU stream */
#endif

static void feed(struct decoder *d, const uint8_t *data, unsigned n)
{
    uint8_t *buf = d->buf;
    while (n) {
        unsigned nbuf = d->nbuf;
        unsigned take = n < sizeof d->buf - nbuf ? n : (unsigned)sizeof d->buf - nbuf;
        unsigned i = 0;
        memcpy(buf + nbuf, data, take);
        nbuf += take;
        data += take;
        n -= take;
        for (;;) {
            unsigned len, total;
            const uint8_t *fr;
            while (i + 1 < nbuf && !(buf[i] == WO_FRAME_SYNC0 && buf[i + 1] == WO_FRAME_SYNC1)) {
                i++;
                n_garbage++;
            }
            if (i + 1 >= nbuf) {                 /* keep a trailing A5 */
                if (i < nbuf && buf[i] != WO_FRAME_SYNC0) { i++; n_garbage++; }
                break;
            }
            if (nbuf - i < WO_FRAME_HEADER_LEN) break;
            fr = buf + i;
            len = fr[WO_FRAME_LEN_OFF];
            total = WO_FRAME_HEADER_LEN + len + WO_FRAME_CRC_LEN;
            if (nbuf - i < total) break;
            /* the CRC covers type, seq, len, payload and follows them big-endian */
            if (crc16(fr + WO_FRAME_TYPE_OFF, WO_FRAME_HEADER_LEN - WO_FRAME_TYPE_OFF + len)
                != (unsigned)(fr[WO_FRAME_HEADER_LEN + len] << 8 | fr[WO_FRAME_HEADER_LEN + len + 1])) {
                n_crc++;
                i++;
                continue;
            }
            on_frame(fr, total);
            i += total;
        }
        memmove(buf, buf + i, nbuf - i);
        d->nbuf = nbuf - i;
    }
}

static void on_signal(int sig) { (void)sig; stop = 1; }

#ifdef WO_HAR_MODEL
#define WO_IMU_USAGE " [--imu PATH]"
#else
#define WO_IMU_USAGE ""
#endif

#ifdef WO_FAKE_BRIDGE
int wo_bridge_open(void);
uint32_t wo_reg_read(unsigned offset);
void wo_reg_write(unsigned offset, uint32_t value);
void wo_bridge_close(void);
#else
static volatile uint32_t *regs;
static int mem_fd = -1;

static int wo_bridge_open(void)
{
    mem_fd = open("/dev/mem", O_RDWR | O_SYNC);
    if (mem_fd < 0) { perror("/dev/mem"); return -1; }
    regs = mmap(NULL, WO_BRIDGE_SPAN, PROT_READ | PROT_WRITE, MAP_SHARED, mem_fd, WO_BRIDGE_BASE);
    if (regs == MAP_FAILED) { perror("mmap"); close(mem_fd); return -1; }
    return 0;
}
static uint32_t wo_reg_read(unsigned offset) { return regs[offset / 4]; }
static void wo_reg_write(unsigned offset, uint32_t value) { regs[offset / 4] = value; }
static void wo_bridge_close(void) { munmap((void *)regs, WO_BRIDGE_SPAN); close(mem_fd); }
#endif

/* pop one result byte if there is one; returns 1 if a byte was popped */
static int pop_result(void)
{
    uint32_t v = wo_reg_read(WO_REG_RESULT);
    uint8_t b;
    if (!(v & WO_RESULT_VALID)) return 0;
    b = (uint8_t)(v & 0xFFu);
    feed(&results, &b, 1);
    if (v & WO_RESULT_LAST) fflush(stdout);
    return 1;
}

#define WO_FIELD(v, F) (((v) & F##_MASK) >> F##_SHIFT)

/* "# fabric ..." : the fabric's flags and counters, read once */
static void print_fabric_counters(void)
{
    uint32_t status = wo_reg_read(WO_REG_STATUS), ingress = wo_reg_read(WO_REG_INGRESS);
    uint32_t rx = wo_reg_read(WO_REG_RX_ERRORS), stride = wo_reg_read(WO_REG_STRIDE_OVERRUNS);
    printf("# fabric status_overflow=%u status_stride_overrun=%u dropped=%lu samples_in=%lu "
           "ingress_rejected=%lu ingress_lost=%lu rx_errors_framing=%lu rx_errors_overrun=%lu "
           "stride_overruns=%lu\n",
           (status & WO_STATUS_OVERFLOW) ? 1u : 0u, (status & WO_STATUS_STRIDE_OVERRUN) ? 1u : 0u,
           (unsigned long)wo_reg_read(WO_REG_DROPPED), (unsigned long)wo_reg_read(WO_REG_SAMPLES_IN),
           (unsigned long)WO_FIELD(ingress, WO_INGRESS_REJECTED),
           (unsigned long)WO_FIELD(ingress, WO_INGRESS_LOST),
           (unsigned long)WO_FIELD(rx, WO_RX_ERRORS_FRAMING),
           (unsigned long)WO_FIELD(rx, WO_RX_ERRORS_OVERRUN),
           (unsigned long)WO_FIELD(stride, WO_STRIDE_OVERRUNS_COUNT));
}

/* --imu PATH: the IMU stream, non-blocking (a tty in raw mode: no echo, no line editing) */
static int open_imu(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    struct termios t;
    if (fd < 0) { perror(path); return -1; }
    if (isatty(fd) && tcgetattr(fd, &t) == 0) {
        t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
        t.c_oflag &= ~(tcflag_t)OPOST;
        t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
        t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
        t.c_cflag |= CS8 | CREAD | CLOCAL;
        tcsetattr(fd, TCSANOW, &t);
    }
    return fd;
}

/* read what the IMU stream has (never waits); returns 1 if bytes came, -1 at its end */
static int poll_imu(int fd)
{
#ifdef WO_HAR_MODEL
    uint8_t chunk[256];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n > 0) {
        feed(&imu, chunk, (unsigned)n);
        fflush(stdout);                          /* ACTIVITY and settled STRIDE lines */
        return 1;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return -1;
#else
    (void)fd;
#endif
    return 0;
}

static int run_devmem(const char *replay, long idle_exit_ms, const char *imu_path)
{
    uint32_t id, control = 0;
    FILE *f = NULL;
    int c = EOF, imu_fd = -1;
    long idle_ms = 0;
    if (replay && !(f = fopen(replay, "rb"))) { perror(replay); return 2; }
    if (imu_path && (imu_fd = open_imu(imu_path)) < 0) { if (f) fclose(f); return 2; }
    if (wo_bridge_open()) { if (f) fclose(f); if (imu_fd >= 0) close(imu_fd); return 2; }
    id = wo_reg_read(WO_REG_ID);
    if (id != WO_ID_VALUE) {
        fprintf(stderr, "wo_monitor: no wearing-off fabric at 0x%08lx (ID 0x%08lx)\n",
                (unsigned long)WO_BRIDGE_BASE, (unsigned long)id);
        wo_bridge_close();
        if (f) fclose(f);
        if (imu_fd >= 0) close(imu_fd);
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (f) {
        control = wo_reg_read(WO_REG_CONTROL);
        wo_reg_write(WO_REG_CONTROL, control | WO_CONTROL_SOURCE_REPLAY);
        c = fgetc(f);
    }
    while (!stop) {
        int busy = 0;
        if (c != EOF && !(wo_reg_read(WO_REG_STATUS) & WO_STATUS_SAMPLE_FULL)) {
            wo_reg_write(WO_REG_SAMPLE, (uint32_t)c);
            c = fgetc(f);
            busy = 1;
        }
        if (pop_result()) {
            busy = 1;
            idle_ms = 0;
        }
        if (imu_fd >= 0) {
            int r = poll_imu(imu_fd);
            if (r > 0) busy = 1;
            if (r < 0) { close(imu_fd); imu_fd = -1; }     /* its end (a file) or lost */
        }
        if (!busy) {
            struct timespec ms = {0, 1000000L};
            nanosleep(&ms, NULL);
            if (c == EOF && idle_exit_ms > 0 && ++idle_ms >= idle_exit_ms) break;
        }
    }
    if (f) {
        wo_reg_write(WO_REG_CONTROL, control & ~WO_CONTROL_CLEAR_OVERFLOW);
        fclose(f);
    }
    if (imu_fd >= 0) close(imu_fd);
    print_fabric_counters();
    wo_bridge_close();
    return 0;
}

int main(int argc, char **argv)
{
    int i, rc = 0;
    for (i = 0; i < 256; i++) next_seq[i] = -1;
#ifdef WO_HAR_MODEL
    wo_activity_init(&act);
#endif
    if (argc == 3 && !strcmp(argv[1], "--file")) {
        FILE *f = strcmp(argv[2], "-") ? fopen(argv[2], "rb") : stdin;
        uint8_t chunk[512];
        size_t n;
        if (!f) { perror(argv[2]); return 2; }
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            feed(&results, chunk, (unsigned)n);
        if (f != stdin) fclose(f);
    } else if (argc >= 2 && !strcmp(argv[1], "--devmem")) {
        const char *replay = NULL, *imu_path = NULL;
        long idle = 0;
        for (i = 2; i < argc; i += 2) {
            char *end = NULL;
            if (i + 1 < argc && !strcmp(argv[i], "--replay")) {
                replay = argv[i + 1];
#ifdef WO_HAR_MODEL
            } else if (i + 1 < argc && !strcmp(argv[i], "--imu")) {
                imu_path = argv[i + 1];
#endif
            } else if (i + 1 < argc && !strcmp(argv[i], "--idle-exit")) {
                idle = strtol(argv[i + 1], &end, 10);
                if (*end || idle <= 0) { fprintf(stderr, "wo_monitor: --idle-exit needs milliseconds > 0\n"); return 2; }
            } else {
                fprintf(stderr, "usage: wo_monitor --file PATH|-  or  wo_monitor --devmem [--replay PATH] [--idle-exit MS]" WO_IMU_USAGE "\n");
                return 2;
            }
        }
        rc = run_devmem(replay, idle, imu_path);
    } else {
        fprintf(stderr, "usage: wo_monitor --file PATH|-  or  wo_monitor --devmem [--replay PATH] [--idle-exit MS]" WO_IMU_USAGE "\n");
        return 2;
    }
    n_garbage += results.nbuf;                   /* an incomplete frame at the end */
#ifdef WO_HAR_MODEL
    n_garbage += imu.nbuf;
    resolve_pending(1);                          /* the strides still waiting: what is known */
#endif
    printf("# frames=%lu crc_errors=%lu length_errors=%lu unknown_types=%lu invalid_frames=%lu "
           "garbage_bytes=%lu seq_gaps=%lu lost_frames=%lu\n",
           n_frames, n_crc, n_len, n_unknown, n_invalid, n_garbage, n_gaps, n_lost);
    return rc;
}
