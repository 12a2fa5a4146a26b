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
channel (``NEXT_CHANNEL``) and every band bin (``START_BIN``) one shared
datapath streams the 256 samples through ``MULTIPLY_ACCUMULATE`` (window ROM,
quarter-shared cosine ROM, a 3-stage pipeline of one multiply for the window and
two for cos/sin), then ``SQUARE_MAGNITUDE`` and ``TRACK_BAND_MAX`` keep the
largest power of each band, and ``LOG_LOOKUP``/``LOG_SCALE`` turn the three band
maxima into dBµ before ``EMIT_RECORD``.

Cycles from the trigger frame to the last record: about ``2900 x channels``
(7 channels: ~20 300 cycles = 0.41 ms at 50 MHz); at 500 Hz a sample arrives every
100 000 cycles, so on the board the branch is idle again long before the next
sample.
"""

from amaranth.hdl import *
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

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

__all__ = ["EEGMRP", "mrp_record_layout"]

ACC_WIDTH = 16 + 4 + 16 + 8 - 1   # |xw| < 2**19, |c| < 2**15, 256 terms -> signed 43
OPERAND_WIDTH = ACC_WIDTH - SHIFT  # signed 27 after the shift
POWER_WIDTH = 2 * OPERAND_WIDTH - 1


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

        m.submodules.ring = ring = Memory(shape=unsigned(16 * nch), depth=N, init=[])
        m.submodules.window = win = Memory(shape=unsigned(16), depth=N,
                                           init=[int(v) for v in window_q()])
        m.submodules.cosine = cosm = Memory(shape=signed(16), depth=N,
                                            init=[int(v) for v in cos_q()])
        m.submodules.log2 = lut = Memory(shape=unsigned(LOG_FRAC + 1), depth=1 << MANT_BITS,
                                         init=[int(v) for v in log2_lut()])
        ring_w = ring.write_port()
        ring_r = ring.read_port()
        win_r = win.read_port()
        cos_r = cosm.read_port()
        sin_r = cosm.read_port()
        lut_r = lut.read_port()

        wptr = Signal(8)                   # next row to write = oldest row of the window
        fill = Signal(range(N + 1))        # rows written since reset, saturating
        index = Signal(self.index_width)   # frame counter
        rec = Signal(self.record_layout)
        ch = Signal(range(nch + 1))
        bin_i = Signal(range(len(BINS)))
        k = Signal(8)
        band = Signal(range(len(BANDS)))
        m.d.comb += [
            k.eq(Array(Const(b, 8) for b in BINS)[bin_i]),
            band.eq(Array(Const(b, 2) for b in BIN_BAND)[bin_i]),
            self.o.payload.eq(rec),
        ]

        # --- multiply-accumulate pipeline ---
        n_issue = Signal(range(N + 1))
        phase = Signal(8)                   # k * n mod N
        v1, v2 = Signal(), Signal()
        n1 = Signal(8)
        xw2 = Signal(signed(16 + XW_FRAC))
        c2, s2 = Signal(signed(16)), Signal(signed(16))
        acc_re, acc_im = Signal(signed(ACC_WIDTH)), Signal(signed(ACC_WIDTH))
        x1 = Signal(signed(16))
        m.d.comb += [
            ring_r.addr.eq(wptr + n_issue[:8]),
            win_r.addr.eq(n_issue[:8]),
            cos_r.addr.eq(phase),
            sin_r.addr.eq(phase - N // 4),   # sin(t) = cos(t - pi/2)
            x1.eq(Mux(n1 >= N - fill,
                      ring_r.data.word_select(ch[:max(1, (nch - 1).bit_length())], 16).as_signed(),
                      0)),
        ]
        m.d.sync += [
            xw2.eq((x1 * win_r.data) >> (15 - XW_FRAC)),
            c2.eq(cos_r.data),
            s2.eq(sin_r.data),
            v2.eq(v1),
        ]
        with m.If(v2):
            m.d.sync += [acc_re.eq(acc_re + xw2 * c2), acc_im.eq(acc_im + xw2 * s2)]

        power = Signal(POWER_WIDTH)
        band_max = Array(Signal(POWER_WIDTH, name=f"max_{b}") for b in BANDS)
        op_re, op_im = Signal(signed(OPERAND_WIDTH)), Signal(signed(OPERAND_WIDTH))
        m.d.comb += [op_re.eq(acc_re >> SHIFT), op_im.eq(acc_im >> SHIFT)]

        # --- log2 of the band maximum: leading one + mantissa LUT ---
        log_band = Signal(range(len(BANDS) + 1))
        lmax = Signal(POWER_WIDTH)
        m.d.comb += lmax.eq(band_max[log_band])
        lead = Signal(range(POWER_WIDTH))
        for b in range(POWER_WIDTH):
            with m.If(lmax[b]):
                m.d.comb += lead.eq(b)
        mant = Signal(MANT_BITS)
        m.d.comb += mant.eq((lmax << MANT_BITS) >> lead)
        lead_r = Signal.like(lead)
        zero_r = Signal()
        log2v = Signal(range((POWER_WIDTH << LOG_FRAC) + (1 << (LOG_FRAC + 1))))
        m.d.comb += [lut_r.addr.eq(mant), log2v.eq((lead_r << LOG_FRAC) + lut_r.data)]
        db = Signal(signed(17))
        m.d.comb += db.eq(((log2v * K_DB) >> (LOG_FRAC + 16 - DB_FRAC)) + db_const(self.params))

        with m.FSM(name="fsm"):
            with m.State("WAIT_FRAME"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(self.i.valid):
                    m.d.comb += [ring_w.addr.eq(wptr), ring_w.en.eq(1),
                                 ring_w.data.eq(self.i.payload.sample)]
                    m.d.sync += [
                        wptr.eq(wptr + 1),
                        fill.eq(sat_inc(fill, N)),
                        index.eq(sat_inc(index)),
                    ]
                    with m.If(self.i.payload.trigger):
                        m.d.sync += [
                            rec.index.eq(index),
                            rec.partial.eq(fill < N - 1),
                            ch.eq(0),
                        ]
                        m.next = "NEXT_CHANNEL"
            with m.State("NEXT_CHANNEL"):
                m.d.comb += self.busy.eq(1)
                with m.If(ch == nch):
                    m.next = "WAIT_FRAME"
                with m.Elif(self.enable.bit_select(ch, 1)):
                    m.d.sync += bin_i.eq(0)
                    m.d.sync += [mx.eq(0) for mx in band_max]
                    m.next = "START_BIN"
                with m.Else():
                    m.d.sync += ch.eq(ch + 1)
            with m.State("START_BIN"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += [n_issue.eq(0), phase.eq(0), acc_re.eq(0), acc_im.eq(0)]
                m.next = "MULTIPLY_ACCUMULATE"
            with m.State("MULTIPLY_ACCUMULATE"):
                m.d.comb += self.busy.eq(1)
                issuing = n_issue < N
                m.d.sync += [v1.eq(issuing), n1.eq(n_issue[:8])]
                with m.If(issuing):
                    m.d.sync += [n_issue.eq(n_issue + 1), phase.eq(phase + k)]
                with m.Elif(~v1 & ~v2):
                    m.next = "SQUARE_MAGNITUDE"
            with m.State("SQUARE_MAGNITUDE"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += power.eq(op_re * op_re + op_im * op_im)
                m.next = "TRACK_BAND_MAX"
            with m.State("TRACK_BAND_MAX"):
                m.d.comb += self.busy.eq(1)
                with m.If(power > band_max[band]):
                    m.d.sync += band_max[band].eq(power)
                m.d.sync += bin_i.eq(bin_i + 1)
                with m.If(bin_i == len(BINS) - 1):
                    m.d.sync += log_band.eq(0)
                    m.next = "LOG_LOOKUP"
                with m.Else():
                    m.next = "START_BIN"
            with m.State("LOG_LOOKUP"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += [lead_r.eq(lead), zero_r.eq(lmax == 0)]
                m.next = "LOG_SCALE"
            with m.State("LOG_SCALE"):
                m.d.comb += self.busy.eq(1)
                value = Mux(zero_r, DB_FLOOR,
                            Mux(db > -DB_FLOOR - 1, -DB_FLOOR - 1,
                                Mux(db < DB_FLOOR + 1, DB_FLOOR + 1, db)))
                with m.Switch(log_band):
                    for b, name in enumerate(BANDS):
                        with m.Case(b):
                            m.d.sync += rec[name].eq(value)
                m.d.sync += log_band.eq(log_band + 1)
                with m.If(log_band == len(BANDS) - 1):
                    m.d.sync += rec.channel.eq(ch)
                    m.next = "EMIT_RECORD"
                with m.Else():
                    m.next = "LOG_LOOKUP"
            with m.State("EMIT_RECORD"):
                m.d.comb += [self.busy.eq(1), self.o.valid.eq(1)]
                with m.If(self.o.ready):
                    m.d.sync += ch.eq(ch + 1)
                    m.next = "NEXT_CHANNEL"
        return m
