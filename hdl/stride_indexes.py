"""Per-stride muscular index extractor (paper §3.2) for two legs of four muscles.

Definitions, formats and the bit-exact model are in :mod:`golden.stride_indexes_model`;
the cocotb testbench is ``tests/gateware/test_stride_indexes.py``.

Every trigger frame (one per 500 Hz sample) updates saturating counters of each leg:
samples in the stride, per-muscle contraction samples and the LG-TA / BF-RF
co-contraction samples. On a *stride onset* of a leg's stride-reference muscle (a rising
edge after at least ``ref_min_gap`` samples off, at least ``min_stride`` samples into the
running stride; see :mod:`golden.stride_indexes_model`) the finished stride is written into
that leg's ``pending`` slot and the counters restart. A serialiser takes pending strides
(left leg first): ``WAIT_STRIDE`` reads the slot, ``LOAD_STRIDE`` loads the record register
from it (and frees the slot), then for each muscle ``START_DIVIDE`` (relaxation = stride -
contraction, one shared subtractor) and ``DIVIDE_DUTY``: one shared long divider, 14 cycles
per muscle, one quotient bit per cycle from a ``count_width``-bit partial remainder (no
shifted divisor). The record is offered on ``o`` (``EMIT_RECORD``).

One update datapath for both legs: the core takes a frame every other clock edge at most
(``i.ready`` is low on the edge after each accepted frame; in the EMG branch the trigger
offers one every 14 cycles, so it never waits). The accept cycle updates the left leg, the
next cycle the right leg from the frame's bits held in a register. The two legs' counters
sit in two register sets, ``cur`` (the leg being updated) and ``nxt``: on each of the two
cycles ``nxt <= update(cur)`` and ``cur <= nxt``, so after a frame both legs are updated and
back in place -- one set of incrementers instead of two, and a finished stride always comes
from ``cur``: the pending slots are one RAM (two words, declared :data:`RAM_MIN_DEPTH` deep
so that yosys maps it onto M10K) with a single write source, and the record register loads
from the RAM's read port, with no multiplexer between the legs.

Latency (:data:`LATENCY_CYCLES`): a slot reads as full two edges after the accept of the
frame that ended its stride (the left leg's, written on the accept edge, one edge late, so
both legs have the same latency); the record is offered ``1 + 4 * 15 + 1`` edges after the
serialiser picked it (:data:`golden.backpressure.STRIDE_SERIALISE_CYCLES`) and taken on that
edge when ``o.ready`` is high: ``2 + 1 + 1 + 4 * 15 = 64`` cycles = 1.28 µs at 50 MHz
(measured by ``tests/gateware/test_stride_indexes.py`` and ``make bench``).

If a leg finishes a stride while its previous record is still waiting (an output
stalled for a whole stride), the new stride is dropped, the sticky ``overrun`` flag is
raised and the saturating ``overruns`` counter counts it -- nothing is overwritten
silently (on the board: ``STATUS.STRIDE_OVERRUN`` and ``STRIDE_OVERRUNS`` of
:data:`spec.registers.REGISTERS`).

Area (yosys ``synth_intel_alm``; 417 ALUTs for the defaults, 663 with a register set, an
incrementer per counter and a pending register per leg): the counters are reset-less (read
only once their leg has ``started``, restarted by every onset), so the onset restart is the
flip-flops' synchronous clear; the saturation is a reduction AND feeding the increment's
carry-in. The comparison with ``min_stride`` is LUT logic (:mod:`hdl.const_compare`), the
off-time a down-counter to 0 (reset value 0: no inverted flip-flops). The divider reads the
contraction of the muscle it divides through a 4:1 multiplexer. The saturating ``overruns``
count needs no clamp multiplexer (see the comment at its update).
"""

from amaranth.hdl import *
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from golden.stride_indexes_model import MIN_STRIDE, REF_MIN_GAP
from hdl.const_compare import ge_const
from hdl.emg_trigger import RAM_MIN_DEPTH
from hdl.params import check_int
from spec.channels import COCONTRACTION_PAIRS, MUSCLES

__all__ = ["StrideIndexes", "stride_record_layout", "DUTY_WIDTH", "OVERRUNS_WIDTH",
           "LATENCY_CYCLES"]

#: duty cycle in basis points (0..10000) fits 14 bits
DUTY_WIDTH = 14
DUTY_SCALE = 10000
#: clock cycles from the edge that accepts the frame ending a stride to the edge that takes
#: its record, serialiser idle and output ready: slot full two edges later, ``WAIT_STRIDE``,
#: ``LOAD_STRIDE``, 4 x (``START_DIVIDE`` + 14 divider steps), ``EMIT_RECORD``
LATENCY_CYCLES = 2 + 1 + 1 + 4 * 15
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
        Trigger frames in :data:`spec.channels.EMG_CHANNELS` order; ready except on the
        edge after an accepted frame (one frame every other edge at most).
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
        gmax = self.ref_min_gap
        # per-leg state that rotates through the one update datapath (module docstring)
        leg_counts = data.StructLayout({
            "stride_time": unsigned(cw),
            "contraction": data.ArrayLayout(unsigned(cw), 4),
            "cocon": data.ArrayLayout(unsigned(cw), 2),
        })
        leg_flags = data.StructLayout({
            "gap_left": range(gmax + 1),   # ref_min_gap - samples off (saturated at 0)
            "prev_ref": 1,
            "started": 1,
        })
        # a finished stride in its leg's pending slot (one word of the pending RAM)
        slot = data.StructLayout({
            "stride_time": unsigned(cw),
            "contraction": data.ArrayLayout(unsigned(cw), 4),
            "cocon": data.ArrayLayout(unsigned(cw), 2),
            "start": unsigned(self.start_width),
        })

        # --- input: one frame every other cycle; the accept cycle updates the left leg, the
        # next (``phase``) the right leg from the bits held in ``trig_right``
        phase = Signal()
        accept = Signal()
        m.d.comb += [self.i.ready.eq(~phase), accept.eq(self.i.valid & ~phase)]
        m.d.sync += phase.eq(accept)
        bits = self.i.payload.as_value()
        trig_right = Signal(4)
        with m.If(accept):
            m.d.sync += trig_right.eq(bits[4:8] & self.present[4:8])
        trig = Signal(4)
        m.d.comb += trig.eq(Mux(phase, trig_right, bits[0:4] & self.present[0:4]))
        step = Signal()                  # a leg is updated this cycle (leg = phase)
        m.d.comb += step.eq(accept | phase)

        # sample index of the frame: advanced after the right leg's cycle, so both legs see
        # the frame's own index (saturating: the carry out is the flip-flops' enable)
        sample_idx = Signal(unsigned(self.start_width))
        idx_inc = Signal(self.start_width + 1)
        m.d.comb += idx_inc.eq(sample_idx + 1)
        with m.If(phase & ~idx_inc[-1]):
            m.d.sync += sample_idx.eq(idx_inc[:-1])

        # --- the two legs' states: ``cur`` is the leg being updated, ``nxt`` the other one.
        # On a step, ``nxt`` <= update(``cur``) and ``cur`` <= ``nxt``: after the two steps of a
        # frame both are updated and back in place. Reset-less counters (read only once their
        # leg has ``started``, restarted by every onset); the flags reset to 0.
        cur = Signal(leg_flags, name="leg_cur")
        nxt = Signal(leg_flags, name="leg_nxt")
        # reset-less: the onset restart is then the flip-flops' synchronous clear (no LUT)
        cur_n = Signal(leg_counts, name="count_cur", reset_less=True)
        nxt_n = Signal(leg_counts, name="count_nxt", reset_less=True)
        ref = Signal()
        onset = Signal(name="stride_onset")
        m.d.comb += [
            ref.eq(trig.bit_select(self.stride_ref, 1)),
            onset.eq(step & ref & ~cur.prev_ref & (cur.gap_left == 0)
                     & (~cur.started | ge_const(cur_n.stride_time, self.min_stride))),
        ]
        starts = [Signal(unsigned(self.start_width), name=f"start_{leg}") for leg in (0, 1)]
        with m.If(step):
            m.d.sync += [cur.eq(nxt), cur_n.eq(nxt_n), nxt.prev_ref.eq(ref),
                         nxt.started.eq(cur.started | onset)]
            with m.If(ref):
                m.d.sync += nxt.gap_left.eq(gmax)
            with m.Elif(cur.gap_left != 0):
                m.d.sync += nxt.gap_left.eq(cur.gap_left - 1)
            with m.Else():
                m.d.sync += nxt.gap_left.eq(0)
            # saturating counters: + 1 unless all ones (no wrap); on an onset they restart at
            # this frame's bit (the upper bits: the flip-flops' synchronous clear)
            updates = [(nxt_n.stride_time, cur_n.stride_time, C(1, 1))]
            updates += [(nxt_n.contraction[k], cur_n.contraction[k], trig[k]) for k in range(4)]
            updates += [(nxt_n.cocon[k], cur_n.cocon[k], trig[a] & trig[b])
                        for k, (_, a, b) in enumerate(COCONTRACTION_PAIRS)]
            for dst, src, bit in updates:
                add = Signal(name="count_up")
                m.d.comb += add.eq(cur.started & bit & ~src.all())
                with m.If(onset):
                    m.d.sync += dst.eq(bit)
                with m.Else():
                    m.d.sync += dst.eq(src + add)
            for leg in (0, 1):
                with m.If(onset & (phase == leg)):
                    m.d.sync += starts[leg].eq(sample_idx)

        # --- pending slots: one RAM word per leg (declared RAM_MIN_DEPTH deep: M10K, not
        # flip-flops); a finished stride is written from ``cur`` (one source: no leg mux) ---
        m.submodules.pending = pend = Memory(shape=slot, depth=RAM_MIN_DEPTH, init=[])
        wp = pend.write_port()
        rp = pend.read_port(domain="sync")
        pending_valid = Signal(2)
        fill = Signal()                  # the stride that ended on this step enters its slot
        fill_left = Signal()             # the left leg's slot was written last cycle
        clear_pending = Signal(2)
        drop = Signal(2)                 # a leg's finished stride finds its slot full
        m.d.comb += [
            wp.addr.eq(phase), wp.en.eq(fill),
            wp.data.stride_time.eq(cur_n.stride_time), wp.data.contraction.eq(cur_n.contraction),
            wp.data.cocon.eq(cur_n.cocon), wp.data.start.eq(Mux(phase, starts[1], starts[0])),
        ]
        with m.If(step & onset & cur.started):
            # (the left slot written on the previous accept edge reads as full by now:
            # frames are two cycles apart at least)
            with m.If(pending_valid.bit_select(phase, 1) & ~clear_pending.bit_select(phase, 1)):
                m.d.comb += drop.eq(Mux(phase, 2, 1))
            with m.Else():
                m.d.comb += fill.eq(1)
        # both legs' slots read as full from the edge after the frame's right-leg step: the
        # left leg's (written on the accept edge) one edge late, so the latency is the same
        m.d.sync += fill_left.eq(fill & ~phase)
        set_pending = Cat(fill_left, fill & phase)
        m.d.sync += pending_valid.eq((pending_valid & ~clear_pending) | set_pending)

        # overruns + (0 or 1), saturating at all ones: the sum carries out only from 0xFFFF,
        # whose bits 1 and up are already ones -- they keep their value (flip-flop enable)
        # and bit 0 is set, so there is no clamping multiplexer
        ovr_sum = Signal(OVERRUNS_WIDTH + 1)
        m.d.comb += ovr_sum.eq(self.overruns + 1)
        with m.If(drop.any()):
            m.d.sync += [self.overrun.eq(1), self.overruns[0].eq(ovr_sum[0] | ovr_sum[-1])]
            with m.If(~ovr_sum[-1]):
                m.d.sync += self.overruns[1:].eq(ovr_sum[1:-1])

        # --- serialiser: the record register and one shared restoring divider ---
        rec = Signal(self.record_layout)
        m.d.comb += self.o.payload.eq(rec)
        contraction = [rec[f"{name}_contraction"] for name in MUSCLES]
        relaxation = [rec[f"{name}_relaxation"] for name in MUSCLES]
        duties = [rec[f"{name}_duty"] for name in MUSCLES]
        muscle = Signal(range(4))
        bit = Signal(range(DUTY_WIDTH))
        take = Signal()                  # the slot the serialiser reads (left leg first)
        m.d.comb += [take.eq(~pending_valid[0]), rp.addr.eq(take)]
        con = Signal(cw)
        m.d.comb += con.eq(Array(contraction)[muscle])
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
                # the RAM reads slot `take` on this edge; its word is there in LOAD_STRIDE
                with m.If(pending_valid.any()):
                    m.d.sync += rec.leg.eq(take)
                    m.next = "LOAD_STRIDE"
            with m.State("LOAD_STRIDE"):
                word = rp.data
                m.d.comb += clear_pending.eq(Mux(rec.leg, 2, 1))
                m.d.sync += [
                    rec.start.eq(word.start),
                    rec.stride_time.eq(word.stride_time),
                    rec.overflow.eq(word.stride_time == cmax),
                    rec.present.eq(Mux(rec.leg, self.present[4:8], self.present[0:4])),
                    muscle.eq(0),
                ]
                for k in range(4):
                    m.d.sync += contraction[k].eq(word.contraction[k])
                for k, (name, _, _) in enumerate(COCONTRACTION_PAIRS):
                    m.d.sync += rec[f"cocon_{name}"].eq(word.cocon[k])
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
                    with m.If(muscle == 3):
                        m.next = "EMIT_RECORD"
                    with m.Else():
                        m.next = "START_DIVIDE"
            with m.State("EMIT_RECORD"):
                m.d.comb += self.o.valid.eq(1)
                with m.If(self.o.ready):
                    m.next = "WAIT_STRIDE"
        return m
