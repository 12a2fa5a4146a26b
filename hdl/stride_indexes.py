"""Per-stride muscular index extractor (paper §3.2) for two legs of four muscles.

Definitions, formats and the bit-exact model are in :mod:`golden.stride_indexes_model`;
the cocotb testbench is ``tests/gateware/test_stride_indexes.py``.

Every trigger frame (one per 500 Hz sample) updates saturating counters of both
legs in one cycle: samples in the stride, per-muscle contraction samples and the
LG-TA / BF-RF co-contraction samples. On a *stride onset* of a leg's
stride-reference muscle (a rising edge after at least ``ref_min_gap`` samples
off, at least ``min_stride`` samples into the running stride; see
:mod:`golden.stride_indexes_model`) the finished stride is copied into that leg's
``pending`` slot and the counters restart. A serialiser takes pending strides (left leg
first) straight into the record register (``WAIT_STRIDE``, which frees the slot),
``LOAD_STRIDE``, then for each muscle ``START_DIVIDE`` (relaxation = stride - contraction,
one shared subtractor) and ``DIVIDE_DUTY``: one shared long divider, 14 cycles per muscle,
one quotient bit per cycle from a ``count_width``-bit partial remainder (no shifted
divisor). The record is offered on ``o`` (``EMIT_RECORD``). Latency: the record is valid
``4 * 15 + 2`` cycles after the
clock edge that accepted the frame ending the stride and is taken on the next
edge, ``4 * 15 + 3 = 63`` cycles = 1.26 µs at 50 MHz (measured by
``tests/gateware/test_stride_indexes.py`` and ``make bench``).

If a leg finishes a stride while its previous record is still waiting (an output
stalled for a whole stride), the new stride is dropped, the sticky ``overrun`` flag is
raised and the saturating ``overruns`` counter counts it -- nothing is overwritten
silently (on the board: ``STATUS.STRIDE_OVERRUN`` and ``STRIDE_OVERRUNS`` of
:data:`spec.registers.REGISTERS`).

Area (yosys ``synth_intel_alm``): the counters are reset-less (read only once their leg has
``started``, reloaded by every onset), so the onset restart is the flip-flops' synchronous
clear and the saturation (the carry out of the increment) a clock enable; neither costs a
LUT. The comparisons with ``min_stride`` and ``ref_min_gap`` are LUT logic
(:mod:`hdl.const_compare`), not carry chains. The divider reads the contraction of the muscle
it divides from the record's ``contraction[0]``: the four contraction fields rotate down one
place after each muscle (back in their order by ``EMIT_RECORD``; the record is only valid
there), which costs no LUT -- each field's input LUT already selects between the two pending
slots -- and saves a four-way multiplexer. The saturating ``overruns`` count needs no clamp
multiplexer either (see the comment at its update).
"""

from amaranth.hdl import *
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.stride_indexes_model import MIN_STRIDE, REF_MIN_GAP
from hdl.const_compare import ge_const
from hdl.params import check_int
from spec.channels import COCONTRACTION_PAIRS, MUSCLES

__all__ = ["StrideIndexes", "stride_record_layout", "DUTY_WIDTH", "OVERRUNS_WIDTH"]

#: duty cycle in basis points (0..10000) fits 14 bits
DUTY_WIDTH = 14
DUTY_SCALE = 10000
#: width of the saturating count of dropped strides (``overruns``, register STRIDE_OVERRUNS)
OVERRUNS_WIDTH = 16


def stride_record_layout(count_width=16, start_width=32):
    """Record layout; field names are :data:`golden.stride_indexes_model.RECORD_FIELDS`."""
    fields = {"leg": 1, "start": unsigned(start_width), "stride_time": unsigned(count_width)}
    for name in MUSCLES:
        fields[f"{name}_contraction"] = unsigned(count_width)
        fields[f"{name}_relaxation"] = unsigned(count_width)
        fields[f"{name}_duty"] = unsigned(DUTY_WIDTH)
    for name, _, _ in COCONTRACTION_PAIRS:
        fields[f"cocon_{name}"] = unsigned(count_width)
    fields["present"] = 4
    fields["overflow"] = 1
    return data.StructLayout(fields)


class StrideIndexes(wiring.Component):
    """Stride time, contraction/relaxation, duty cycle and co-contraction per stride.

    Parameters
    ----------
    count_width : int
        Width of the saturating time counters, in samples (16 -> 131 s at 2 ms).
    start_width : int
        Width of the saturating stride-start timestamp, in samples.
    min_stride : int
        Shortest stride, samples (default 350 = 700 ms); earlier reference
        onsets belong to the running stride. At most ``2**count_width - 1``.
    ref_min_gap : int
        Samples the reference must have been off before a stride onset
        (default 150 = 300 ms).

    Attributes
    ----------
    i : In(stream.Signature(ArrayLayout(1, 8)))
        Trigger frames in :data:`spec.channels.EMG_CHANNELS` order; always ready.
    o : Out(stream.Signature(stride_record_layout(...)))
        One record per completed stride.
    present : In(8)
        Connected-muscle mask; absent muscles count as relaxed and are flagged
        in the record's ``present`` field.
    stride_ref : In(2)
        Muscle index (0 = LG, default) whose onset starts a stride.
    overrun : Out(1)
        Sticky: a stride was dropped because its leg's previous record was
        still waiting on ``o``.
    overruns : Out(OVERRUNS_WIDTH)
        Strides dropped so far (both legs); saturates at 0xFFFF, never wraps.

    Raises
    ------
    TypeError
        A parameter that is not an ``int`` (a float, a str, a bool).
    ValueError
        A parameter outside its range (named in the message with the range).
    """

    def __init__(self, count_width=16, start_width=32, min_stride=MIN_STRIDE,
                 ref_min_gap=REF_MIN_GAP):
        check_int("count_width", count_width, 4, 24)
        check_int("start_width", start_width, count_width, 48,
                  f"in count_width..48 ({count_width}..48)")
        for name, v in (("min_stride", min_stride), ("ref_min_gap", ref_min_gap)):
            check_int(name, v, 0, 4095, "in 0..4095 (samples)")
        if min_stride > (1 << count_width) - 1:
            raise ValueError(f"min_stride {min_stride} does not fit the {count_width}-bit "
                             f"stride counter (max {(1 << count_width) - 1})")
        self.count_width = count_width
        self.start_width = start_width
        self.min_stride = min_stride
        self.ref_min_gap = ref_min_gap
        self.record_layout = stride_record_layout(count_width, start_width)
        super().__init__({
            "i": In(stream.Signature(data.ArrayLayout(1, 8))),
            "o": Out(stream.Signature(self.record_layout)),
            "present": In(8),
            "stride_ref": In(2),
            "overrun": Out(1),
            "overruns": Out(OVERRUNS_WIDTH),
        })

    def elaborate(self, platform):
        m = Module()
        cw = self.count_width
        cmax = (1 << cw) - 1
        counts = data.StructLayout({
            "start": unsigned(self.start_width),
            "stride_time": unsigned(cw),
            "contraction": data.ArrayLayout(unsigned(cw), 4),
            "cocon": data.ArrayLayout(unsigned(cw), 2),
        })

        sample_idx = Signal(unsigned(self.start_width))
        accept = Signal()
        m.d.comb += [self.i.ready.eq(1), accept.eq(self.i.valid)]
        idx_inc = Signal(self.start_width + 1)      # carry out: saturated
        m.d.comb += idx_inc.eq(sample_idx + 1)
        with m.If(accept & ~idx_inc[-1]):
            m.d.sync += sample_idx.eq(idx_inc[:-1])

        pending = [Signal(counts, name=f"pending_{leg}") for leg in (0, 1)]
        pending_valid = Signal(2)
        set_pending = Signal(2)
        clear_pending = Signal(2)
        drop = Signal(2)                 # a leg's finished stride finds its slot full
        m.d.sync += pending_valid.eq((pending_valid & ~clear_pending) | set_pending)
        # overruns + (0, 1 or 2), saturating at all ones: the sum carries out only from
        # 0xFFFE or 0xFFFF, whose bits 1 and up are already ones -- on a carry those keep their
        # value (flip-flop enable) and bit 0 is set, so there is no clamping multiplexer
        ovr_sum = Signal(OVERRUNS_WIDTH + 1)
        m.d.comb += ovr_sum.eq(self.overruns + drop[0] + drop[1])
        with m.If(drop.any()):           # both legs may drop on the same frame
            m.d.sync += [self.overrun.eq(1),
                         self.overruns[0].eq(ovr_sum[0] | ovr_sum[-1])]
            with m.If(~ovr_sum[-1]):
                m.d.sync += self.overruns[1:].eq(ovr_sum[1:-1])

        for leg in (0, 1):
            trig = Signal(4, name=f"trig_{leg}")
            present = self.present[4 * leg:4 * leg + 4]
            m.d.comb += trig.eq(self.i.payload.as_value()[4 * leg:4 * leg + 4] & present)
            ref = Signal(name=f"ref_{leg}")
            prev_ref = Signal(name=f"prev_ref_{leg}")
            started = Signal(name=f"started_{leg}")
            # reset-less: only read once `started`, and reloaded by every onset (the onset
            # restart is then the flip-flops' synchronous clear, no multiplexer)
            cnt = Signal(counts, name=f"count_{leg}", reset_less=True)
            # samples the reference has been off, saturating at ref_min_gap
            # (resets saturated: "off for ever" before the first burst)
            gmax = self.ref_min_gap
            off_run = Signal(range(gmax + 2), init=gmax, name=f"off_run_{leg}")
            onset = Signal(name=f"stride_onset_{leg}")
            m.d.comb += [
                ref.eq(trig.bit_select(self.stride_ref, 1)),
                onset.eq(ref & ~prev_ref & ge_const(off_run, gmax)
                         & (~started | ge_const(cnt.stride_time, self.min_stride))),
            ]
            with m.If(accept):
                m.d.sync += prev_ref.eq(ref)
                with m.If(ref):
                    m.d.sync += off_run.eq(0)
                with m.Elif(~ge_const(off_run, gmax)):
                    m.d.sync += off_run.eq(off_run + 1)
                with m.If(onset):
                    with m.If(started):
                        with m.If(pending_valid[leg] & ~clear_pending[leg]):
                            m.d.comb += drop[leg].eq(1)
                        with m.Else():
                            m.d.comb += set_pending[leg].eq(1)
                            m.d.sync += pending[leg].eq(cnt)
                    m.d.sync += [started.eq(1), cnt.start.eq(sample_idx)]
                # saturating counters: the increment is gated by the flip-flops' enable (no
                # hold multiplexer); on an onset they restart at this frame's bit
                increments = [(cnt.stride_time, C(1, 1))]
                increments += [(cnt.contraction[k], trig[k]) for k in range(4)]
                increments += [(cnt.cocon[k], trig[a] & trig[b])
                               for k, (_, a, b) in enumerate(COCONTRACTION_PAIRS)]
                for counter, bit in increments:
                    inc = Signal(cw + 1)            # its carry out: the counter is at cmax
                    m.d.comb += inc.eq(counter + 1)
                    with m.If(onset):
                        m.d.sync += counter.eq(bit)
                    with m.Elif(started & bit & ~inc[cw]):
                        m.d.sync += counter.eq(inc[:cw])

        # --- serialiser: the record register and one shared restoring divider ---
        rec = Signal(self.record_layout)
        m.d.comb += self.o.payload.eq(rec)
        contraction = [rec[f"{name}_contraction"] for name in MUSCLES]
        relaxation = [rec[f"{name}_relaxation"] for name in MUSCLES]
        duties = [rec[f"{name}_duty"] for name in MUSCLES]
        muscle = Signal(range(4))
        bit = Signal(range(DUTY_WIDTH))
        # the contraction fields rotate down one place after each muscle's division (four
        # rotations by EMIT_RECORD: the original order), so the muscle being divided is always
        # in contraction[0] -- no 4-way multiplexer; the rotation shares each field's input LUT
        # with its load from the pending slots
        con = contraction[0]
        # Long division of con * DUTY_SCALE by stride_time, one quotient bit per cycle: the
        # partial remainder `part` (< stride_time) takes the next dividend bit from the top of
        # `low`, which shifts the quotient bits in from the bottom (14 steps: `low` = quotient).
        # con <= stride_time, so the quotient fits DUTY_WIDTH bits and the dividend's top
        # part starts below stride_time.
        st = rec.stride_time
        part = Signal(cw)
        low = Signal(DUTY_WIDTH)
        trial = Signal(cw + 1)          # 2 * part + next dividend bit
        diff = Signal(cw + 2)
        m.d.comb += [
            trial.eq(Cat(low[-1], part)),
            diff.eq(trial - st),
        ]
        q_bit = ~diff[-1]               # trial >= stride_time
        quotient = Cat(q_bit, low[:-1])

        with m.FSM(name="fsm"):
            with m.State("WAIT_STRIDE"):
                for leg in (0, 1):
                    with (m.If if leg == 0 else m.Elif)(pending_valid[leg]):
                        src = pending[leg]
                        m.d.comb += clear_pending[leg].eq(1)
                        m.d.sync += [
                            rec.leg.eq(leg),
                            rec.start.eq(src.start),
                            rec.stride_time.eq(src.stride_time),
                        ]
                        for k in range(4):
                            m.d.sync += contraction[k].eq(src.contraction[k])
                        for k, (name, _, _) in enumerate(COCONTRACTION_PAIRS):
                            m.d.sync += rec[f"cocon_{name}"].eq(src.cocon[k])
                        m.next = "LOAD_STRIDE"
            with m.State("LOAD_STRIDE"):
                m.d.sync += [
                    rec.overflow.eq(st == cmax),
                    rec.present.eq(Mux(rec.leg, self.present[4:8], self.present[0:4])),
                    muscle.eq(0),
                ]
                m.next = "START_DIVIDE"
            with m.State("START_DIVIDE"):
                dividend = Signal(cw + DUTY_WIDTH)
                m.d.comb += dividend.eq(con * DUTY_SCALE)
                m.d.sync += [
                    part.eq(dividend[DUTY_WIDTH:]),
                    low.eq(dividend[:DUTY_WIDTH]),
                    bit.eq(DUTY_WIDTH - 1),
                    Array(relaxation)[muscle].eq(st - con),
                ]
                m.next = "DIVIDE_DUTY"
            with m.State("DIVIDE_DUTY"):
                m.d.sync += [
                    part.eq(Mux(q_bit, diff, trial)),
                    low.eq(quotient),
                    bit.eq(bit - 1),
                ]
                with m.If(bit == 0):
                    m.d.sync += [Array(duties)[muscle].eq(quotient), muscle.eq(muscle + 1)]
                    m.d.sync += [contraction[k].eq(contraction[(k + 1) % 4]) for k in range(4)]
                    with m.If(muscle == 3):
                        m.next = "EMIT_RECORD"
                    with m.Else():
                        m.next = "START_DIVIDE"
            with m.State("EMIT_RECORD"):
                m.d.comb += self.o.valid.eq(1)
                with m.If(self.o.ready):
                    m.next = "WAIT_STRIDE"
        return m
