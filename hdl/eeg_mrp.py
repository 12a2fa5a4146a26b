"""EEG branch: 256-sample FIFO per channel and, on each trigger, the BP / µ / β band
maxima of a Hann-windowed DFT in dBµ.

Algorithm, band-to-bin mapping and every fixed-point format are documented in
:mod:`golden.eeg_mrp_model`, whose :func:`~golden.eeg_mrp_model.mrp_bitexact` is the
bit-exact model of this core (cocotb testbench: ``tests/gateware/test_eeg_mrp.py``).

Dataflow. ``WAIT_FRAME`` writes each frame (one sample per channel) into a ring
buffer of 256 rows in block RAM. A frame whose ``trigger`` bit is set starts a
computation over the window ending with that frame; the input is not ready until
all records are out, so a second trigger waits in the input stream (queued,
never dropped or mixed with a half-overwritten window). For every enabled
channel (``NEXT_CHANNEL``) ``COMPUTE`` runs one step counter ``(bin, n)``: each
band bin takes 257 steps, 256 that issue the samples into one shared 4-stage
multiply-accumulate pipeline and one bubble. Stage 0 (step ``n``) addresses the ring
and the window ROM; stage 1 registers the channel's lane of the ring row (a tree of
4:1 muxes; rows not written since reset are zeroed here by the flip-flops' sync clear)
and the window value, and reads the quarter-shared cosine ROM (cos and sin); stage 2
registers ``x * w``; stage 3 adds ``xw * cos`` and ``xw * sin`` into the sums. No RAM
output drives more than the lane mux before a flip-flop. The last product of a bin is
added at step 1 of the next bin; at step :data:`RESTART_STEP` (2) the sums restart
(dropping the bubble's product) and their squares, registered every cycle, are
added into the magnitude ``P`` at :data:`NORM_STEP` (3). While the next
bin accumulates, ``P`` is normalised serially (shifted left until its leading one
is at the top, at most 52 steps) for ``log2 = e * 2**10 + LOG2_LUT[f]``, and the
band keeps the largest log2 (the log is monotonic, so this is the log of the
largest ``P``, as the model takes it); after a band's last bin its maximum is
scaled to dBµ. After the last bin the step counter runs on until ``EMIT_RECORD``.

Cycles: an enabled channel takes :data:`CHANNEL_CYCLES` = 1 + 11 x 262 + 6 = 2889
cycles from ``NEXT_CHANNEL`` to ``EMIT_RECORD`` (11 x 257 steps + the drain of the
last bin; the count is that of the earlier bin-by-bin architecture,
:data:`golden.backpressure.EEG_CHANNEL_CYCLES`, kept so the record timing is
unchanged; the band's last dB is ready at step :data:`LOG_STEP` + 1 = 58 of the
60-step drain, the two pipeline stages that serve Fmax included), a disabled one
1 cycle (7 channels: ~20 300 cycles = 0.41 ms at 50 MHz); at 500 Hz a sample arrives
every 100 000 cycles, so on the board the branch is idle again long before the next
sample.
"""

from amaranth.hdl import *
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from golden.backpressure import EEG_CHANNEL_CYCLES
from golden.eeg_mrp_model import (
    BANDS,
    BIN_BAND,
    BINS,
    DB_FLOOR,
    DB_FRAC,
    K_DB,
    LOG_FRAC,
    MANT_BITS,
    SHIFT,
    XW_FRAC,
    EEGParams,
    N,
    cos_q,
    db_const,
    log2_lut,
    window_q,
)
from hdl.params import check_int
from hdl.saturate import sat_inc

__all__ = ["EEGMRP", "mrp_record_layout", "CHANNEL_CYCLES"]

ACC_WIDTH = 16 + 4 + 16 + 8 - 1   # |xw| < 2**19, |c| < 2**15, 256 terms -> signed 43
OPERAND_WIDTH = ACC_WIDTH - SHIFT  # signed 27 after the shift
POWER_WIDTH = 2 * OPERAND_WIDTH - 1
LOG_WIDTH = (POWER_WIDTH - 1).bit_length() + LOG_FRAC   # Q6.10 log2 of P
#: cycles from ``NEXT_CHANNEL`` of an enabled channel to its ``EMIT_RECORD``
CHANNEL_CYCLES = EEG_CHANNEL_CYCLES
BIN_STEPS = N + 1                  # 256 issues + the bubble that squares and restarts
#: step of a bin at which the previous bin's sums are final: squared, and restarted
RESTART_STEP = 2
#: step of a bin at which P = re**2 + im**2 of the previous bin (squared in the step before)
#: is loaded into the normaliser
NORM_STEP = RESTART_STEP + 1
#: step of a bin at which the previous bin's log2 (normalised from NORM_STEP + 1 on,
#: at most POWER_WIDTH - 1 shifts, then one cycle of the LUT read) is compared
LOG_STEP = NORM_STEP + 1 + (POWER_WIDTH - 1) + 1
#: step of the drain after the last bin at which COMPUTE ends
END_STEP = CHANNEL_CYCLES - 2 - len(BINS) * BIN_STEPS
assert END_STEP >= LOG_STEP + 1, "the last band's dB must be ready before EMIT_RECORD"
assert max(log2_lut()) < (1 << LOG_FRAC)       # log2 = Cat(LUT[f], e), no adder


def mrp_record_layout(n_channels=8, index_width=32):
    """One record per trigger and channel; band values are signed Q8.8 dBµ."""
    return data.StructLayout({
        "channel": unsigned(max(1, (n_channels - 1).bit_length())),
        "index": unsigned(index_width),
        **{band: signed(16) for band in BANDS},
        "partial": 1,
    })


class EEGMRP(wiring.Component):
    """Movement-related-potential band extractor for ``n_channels`` EEG channels.

    Parameters
    ----------
    n_channels : int
        Channel capacity (8; the paper uses 7 sites).
    params : :class:`golden.eeg_mrp_model.EEGParams`
        ``uv_per_lsb`` is folded into the dB constant.
    index_width : int
        Width of the saturating frame counter that timestamps records.

    Attributes
    ----------
    i : In(stream.Signature(StructLayout({"sample": ArrayLayout(signed(16), n_channels),
                                          "trigger": 1})))
        Frames; ``trigger`` = either LG trigger rose in this frame, or an external trigger.
    o : Out(stream.Signature(mrp_record_layout(...)))
        Records in channel order, ``index`` = frame number of the trigger since reset.
    enable : In(n_channels)
        Channels that produce records.
    busy : Out(1)
        A computation is running.

    Raises
    ------
    TypeError
        ``n_channels`` or ``index_width`` not an ``int``, ``params`` not an ``EEGParams``.
    ValueError
        ``n_channels`` outside 1..16 or ``index_width`` outside 8..48.
    """

    def __init__(self, n_channels=8, params=EEGParams(), index_width=32):
        check_int("n_channels", n_channels, 1, 16)
        if not isinstance(params, EEGParams):
            raise TypeError(f"params must be an EEGParams, not {params!r}")
        check_int("index_width", index_width, 8, 48)
        self.n_channels = n_channels
        self.params = params
        self.index_width = index_width
        self.record_layout = mrp_record_layout(n_channels, index_width)
        super().__init__({
            "i": In(stream.Signature(data.StructLayout({
                "sample": data.ArrayLayout(signed(16), n_channels), "trigger": 1}))),
            "o": Out(stream.Signature(self.record_layout)),
            "enable": In(n_channels),
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        nch = self.n_channels
        nb = len(BINS)

        m.submodules.ring = ring = Memory(shape=unsigned(16 * nch), depth=N, init=[])
        m.submodules.window = win = Memory(shape=unsigned(16), depth=N,
                                           init=[int(v) for v in window_q()])
        m.submodules.cosine = cosm = Memory(shape=signed(16), depth=N,
                                            init=[int(v) for v in cos_q()])
        m.submodules.log2 = lut = Memory(shape=unsigned(LOG_FRAC), depth=1 << MANT_BITS,
                                         init=[int(v) for v in log2_lut()])
        ring_w = ring.write_port()
        ring_r = ring.read_port()
        win_r = win.read_port()
        cos_r = cosm.read_port()
        sin_r = cosm.read_port()
        lut_r = lut.read_port()

        wptr = Signal(8)                   # next row to write = oldest row of the window
        # rows written since reset: wptr until the first wrap, N from then on
        wrapped = Signal()
        index = Signal(self.index_width)   # frame counter
        rec = Signal(self.record_layout)
        ch = Signal(range(nch + 1))
        bin_i = Signal(range(nb + 1))      # nb: the drain after the last bin
        n = Signal(range(BIN_STEPS))       # step within the bin; N = the bubble
        k = Signal(8)
        with m.Switch(bin_i):
            for b, kb in enumerate(BINS):
                with m.Case(b):
                    m.d.comb += k.eq(kb)
        # address and data not gated by the FSM (only the enable is): no AND per RAM bit
        m.d.comb += [self.o.payload.eq(rec), ring_w.addr.eq(wptr),
                     ring_w.data.eq(self.i.payload.sample)]

        # --- multiply-accumulate pipeline (runs every cycle; COMPUTE gives it meaning) ---
        phase = Signal(8)                   # k * n mod N
        n1 = Signal(8)
        xw2 = Signal(signed(16 + XW_FRAC))
        c2, s2 = Signal(signed(16)), Signal(signed(16))
        acc_re, acc_im = Signal(signed(ACC_WIDTH)), Signal(signed(ACC_WIDTH))
        x1 = Signal(signed(16))
        # the channel's lane of the ring row: a tree of 4:1 muxes (named signals, which keep
        # that structure through synthesis: a flat case statement maps to ~50 % more LUTs)
        lanes = [ring_r.data[16 * c:16 * (c + 1)] for c in range(nch)]
        level = 0
        while len(lanes) > 1:
            sel = ch[2 * level:2 * level + 2]
            groups = []
            for j in range(0, len(lanes), 4):
                g = Signal(16, name=f"lane_mux{level}_{j // 4}")
                part = lanes[j:j + 4]
                m.d.comb += g.eq(Array(part)[sel[:max(1, (len(part) - 1).bit_length())]]
                                 if len(part) > 1 else part[0])
                groups.append(g)
            lanes, level = groups, level + 1
        word = Signal(signed(16))
        m.d.comb += word.eq(lanes[0])
        # stage 0 (step n): RAM addresses; stage 1: the sample's lane and the window value
        # are registered (the RAM outputs are not: nothing but the lane mux and the zero
        # gate sits between a RAM and a flip-flop); stage 2: x * w; stage 3: the sums
        phase1 = Signal(8)                  # phase one step late: cos/sin read in stage 1
        # row wptr + n of the window was written since reset iff the wrap has happened or the
        # sum carries (before the wrap, rows wptr .. N - 1 are the unwritten ones): the carry of
        # the ring address, registered with n1
        row_sum = Signal(9)
        written1 = Signal()
        m.d.comb += row_sum.eq(wptr + n[:8])
        m.d.sync += written1.eq(row_sum[8] | wrapped)
        w1 = Signal(16)
        m.d.comb += [
            ring_r.addr.eq(row_sum[:8]),
            win_r.addr.eq(n[:8]),
            cos_r.addr.eq(phase1),
            sin_r.addr.eq(phase1 - N // 4),   # sin(t) = cos(t - pi/2)
        ]
        # rows older than the first write since reset count as zero (the flip-flops' sync clear)
        with m.If(written1):
            m.d.sync += x1.eq(word)
        with m.Else():
            m.d.sync += x1.eq(0)
        m.d.sync += [
            phase.eq(Mux(n == N, 0, phase + k)),
            phase1.eq(phase),
            n1.eq(n[:8]),
            w1.eq(win_r.data),
            xw2.eq((x1 * w1) >> (15 - XW_FRAC)),
            c2.eq(cos_r.data),
            s2.eq(sin_r.data),
        ]
        # step RESTART_STEP (2) of a bin: the sums of the previous bin are final (its last
        # product was added at step 1): restart (the bubble's product, added at step 2, is
        # dropped); the squares of the sums (registered every cycle) are added into P at
        # step NORM_STEP (3)
        op_re, op_im = Signal(signed(OPERAND_WIDTH)), Signal(signed(OPERAND_WIDTH))
        m.d.comb += [op_re.eq(acc_re >> SHIFT), op_im.eq(acc_im >> SHIFT)]
        sq_re, sq_im = Signal(POWER_WIDTH), Signal(POWER_WIDTH)
        m.d.sync += [sq_re.eq(op_re * op_re), sq_im.eq(op_im * op_im)]
        with m.If(n == RESTART_STEP):
            m.d.sync += [acc_re.eq(0), acc_im.eq(0)]
        with m.Else():
            m.d.sync += [acc_re.eq(acc_re + xw2 * c2), acc_im.eq(acc_im + xw2 * s2)]
        norm = Signal(POWER_WIDTH)          # P, shifted left until its top bit is set
        e = Signal(range(POWER_WIDTH))      # position of the leading one of P
        with m.If(n == NORM_STEP):
            m.d.sync += [norm.eq(sq_re + sq_im), e.eq(POWER_WIDTH - 1)]
        with m.Elif(~norm[-1] & (e != 0)):
            m.d.sync += [norm.eq(norm << 1), e.eq(e - 1)]

        # --- log2 (0 for P = 0: every other log2 is >= LOG2_LUT[0] > 0), band maximum, dB
        m.d.comb += lut_r.addr.eq(norm[-1 - MANT_BITS:-1])
        log2v = Signal(LOG_WIDTH)
        # log2v = 0 (P = 0) is applied as the flip-flops' sync clear / a condition below
        m.d.comb += log2v.eq(Cat(lut_r.data, e))
        best = Signal(LOG_WIDTH)            # largest log2 of the current band
        db = Signal(signed(18))
        m.d.comb += db.eq(((best * K_DB) >> (LOG_FRAC + 16 - DB_FRAC)) + db_const(self.params))
        value = Signal(signed(16))
        # saturation only where the range of log2 can reach it (elaborated from the constants)
        lo = ((int(log2_lut()[0]) * K_DB) >> (LOG_FRAC + 16 - DB_FRAC)) + db_const(self.params)
        hi = ((((POWER_WIDTH - 1) << LOG_FRAC) + int(max(log2_lut()))) * K_DB
              >> (LOG_FRAC + 16 - DB_FRAC)) + db_const(self.params)
        sat = db
        if hi > -DB_FLOOR - 1:
            sat = Mux(db > -DB_FLOOR - 1, -DB_FLOOR - 1, sat)
        if lo < DB_FLOOR + 1:
            sat = Mux(db < DB_FLOOR + 1, DB_FLOOR + 1, sat)
        m.d.comb += value.eq(Mux(best == 0, DB_FLOOR, sat))

        with m.FSM(name="fsm"):
            with m.State("WAIT_FRAME"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(self.i.valid):
                    m.d.comb += ring_w.en.eq(1)
                    m.d.sync += [
                        wptr.eq(wptr + 1),
                        wrapped.eq(wrapped | (wptr == N - 1)),
                        index.eq(sat_inc(index)),
                    ]
                    with m.If(self.i.payload.trigger):
                        m.d.sync += [
                            rec.index.eq(index),
                            # fewer than N - 1 rows before
                            rec.partial.eq(~wrapped & (wptr != N - 1)),
                            ch.eq(0),
                        ]
                        m.next = "NEXT_CHANNEL"
            with m.State("NEXT_CHANNEL"):
                m.d.comb += self.busy.eq(1)
                with m.If(ch == nch):
                    m.next = "WAIT_FRAME"
                with m.Elif(self.enable.bit_select(ch, 1)):
                    m.d.sync += [bin_i.eq(0), n.eq(0), phase.eq(0), rec.channel.eq(ch)]
                    m.next = "COMPUTE"
                with m.Else():
                    m.d.sync += ch.eq(ch + 1)
            with m.State("COMPUTE"):
                m.d.comb += self.busy.eq(1)
                with m.If(n == N):
                    m.d.sync += [n.eq(0), bin_i.eq(bin_i + 1)]
                with m.Else():
                    m.d.sync += n.eq(n + 1)
                with m.If((bin_i == nb) & (n == END_STEP)):
                    m.next = "EMIT_RECORD"
                # bin b - 1 finished: its log2 at LOG_STEP, its band's dB one step later
                with m.Switch(bin_i):
                    for b in range(1, nb + 1):
                        band = BIN_BAND[b - 1]
                        first = b == 1 or BIN_BAND[b - 2] != band
                        last = b == nb or BIN_BAND[b] != band
                        with m.Case(b):
                            with m.If(n == LOG_STEP):
                                if first:
                                    with m.If(norm[-1]):
                                        m.d.sync += best.eq(log2v)
                                    with m.Else():
                                        m.d.sync += best.eq(0)
                                else:
                                    with m.If(norm[-1] & (log2v > best)):
                                        m.d.sync += best.eq(log2v)
                            if last:
                                with m.If(n == LOG_STEP + 1):
                                    m.d.sync += rec[list(BANDS)[band]].eq(value)
            with m.State("EMIT_RECORD"):
                m.d.comb += [self.busy.eq(1), self.o.valid.eq(1)]
                with m.If(self.o.ready):
                    m.d.sync += ch.eq(ch + 1)
                    m.next = "NEXT_CHANNEL"
        return m
