"""Dynamic-threshold EMG muscle trigger, one datapath time-multiplexed over the channels.

The algorithm, its parameters and the fixed-point formats are documented in
:mod:`golden.emg_trigger_model`; :func:`golden.emg_trigger_model.trigger_bitexact` is the
bit-exact model of this core and the cocotb testbench ``tests/gateware/test_emg_trigger.py``
holds the two against each other.

Dataflow per input frame (one 500 Hz sample of every channel):

``WAIT_FRAME`` accept the frame -> for each channel ``FETCH_STATE`` (read its state
word from a small RAM) then ``UPDATE_CHANNEL`` (high-pass, rectify, envelope,
floor, threshold, hysteresis; write the state back) -> ``EMIT_TRIGGERS`` (one
frame of trigger bits). A frame costs ``2 * n_channels + 2`` clock cycles
(:attr:`EMGTrigger.cycles_per_frame`). After reset the core spends
``n_channels`` cycles in ``CLEAR_STATE`` zeroing the RAM, so that a reset in the
middle of a walk really restarts every filter.
"""

from amaranth.hdl import *
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from golden.emg_trigger_model import TriggerParams, TriggerWidths
from hdl.params import check_int

__all__ = ["EMGTrigger"]


def _max(a, b):
    return Mux(a > b, a, b)


class EMGTrigger(wiring.Component):
    """Trigger generation for ``n_channels`` EMG channels.

    Parameters
    ----------
    n_channels : int
        Number of EMG channels (8 for the two legs of the paper).
    sample_width : int
        Width of the signed input samples (16).
    params : :class:`golden.emg_trigger_model.TriggerParams`
        Algorithm parameters, shared with the golden models.

    Attributes
    ----------
    i : In(stream.Signature(ArrayLayout(signed(sample_width), n_channels)))
        Sample frames.
    o : Out(stream.Signature(ArrayLayout(1, n_channels)))
        Trigger frames, one per input frame: bit ``c`` is 1 while muscle ``c`` is
        contracted. Absent channels (``present`` bit 0) always read 0.
    present : In(n_channels)
        Connected-channel mask.
    warm : Out(1)
        High once the warm-up (``params.warmup_samples`` frames) is over.

    Raises
    ------
    TypeError
        ``n_channels`` or ``sample_width`` not an ``int``, ``params`` not a ``TriggerParams``.
    ValueError
        ``n_channels`` below 1, ``sample_width`` outside 2..32, or parameters the bit-exact
        model cannot hold (:meth:`golden.emg_trigger_model.TriggerWidths.of`).
    """

    def __init__(self, n_channels=8, sample_width=16, params=TriggerParams()):
        check_int("n_channels", n_channels, 1)
        check_int("sample_width", sample_width, 2, 32)
        if not isinstance(params, TriggerParams):
            raise TypeError(f"params must be a TriggerParams, not {params!r}")
        self.n_channels = n_channels
        self.sample_width = sample_width
        self.params = params
        self.widths = w = TriggerWidths.of(params, sample_width)
        self.state_layout = data.StructLayout({
            "x1": signed(sample_width),
            "h": signed(w.h),
            "y": signed(w.y),
            "eacc": unsigned(w.eacc),
            "facc": unsigned(w.facc),
            "trig": 1,
            "cnt": unsigned(w.cnt),
        })
        super().__init__({
            "i": In(stream.Signature(data.ArrayLayout(signed(sample_width), n_channels))),
            "o": Out(stream.Signature(data.ArrayLayout(1, n_channels))),
            "present": In(n_channels),
            "warm": Out(1),
        })

    @property
    def cycles_per_frame(self):
        """Clock cycles the core needs per frame when its output is always ready."""
        return 2 * self.n_channels + 2

    def elaborate(self, platform):
        m = Module()
        p, w, n = self.params, self.widths, self.n_channels
        F, G = p.frac_bits, p.floor_on_shift
        cmax = max(p.min_on, p.min_off)

        m.submodules.state = mem = Memory(shape=self.state_layout, depth=n, init=[])
        rd = mem.read_port()
        wr = mem.write_port()

        ch = Signal(range(n))
        frame = Signal(self.sample_width * n)  # shifted right one sample per channel
        trigs = Signal(n)                      # shifted in from the top
        warm_cnt = Signal(range(p.warmup_samples + 1))
        warming = Signal()
        m.d.comb += [
            warming.eq(warm_cnt < p.warmup_samples),
            self.warm.eq(~warming),
            self.o.payload.eq(trigs),
        ]

        # --- one channel step: old state + sample -> new state (combinational) ---
        st = rd.data
        x = frame[:self.sample_width].as_signed()
        h = Signal(signed(w.h))
        y = Signal(signed(w.y))
        r = Signal(unsigned(w.r))
        eacc = Signal(unsigned(w.eacc))
        env = Signal(unsigned(w.env))
        floor = Signal(unsigned(w.env))
        on_lvl = Signal(unsigned(w.env + 8))
        off_lvl = Signal(unsigned(w.env + 8))
        c = Signal(range(cmax + 1))
        go_on = Signal()
        go_off = Signal()
        new_trig = Signal()
        facc = Signal(unsigned(w.facc))
        m.d.comb += [
            h.eq(((x - st.x1) << F) + st.h - (st.h >> p.hp_shift)),
            y.eq((h - st.h) + st.y - (st.y >> p.hp_shift)),
            r.eq(abs(y)),
            eacc.eq(st.eacc + r - (st.eacc >> p.env_shift)),
            env.eq(eacc >> p.env_shift),
            floor.eq(st.facc >> G),
            on_lvl.eq(_max((floor * p.on_gain) >> 4, p.min_level)),
            off_lvl.eq(_max((floor * p.off_gain) >> 4, p.min_level)),
            c.eq(Mux(st.cnt >= cmax, cmax, st.cnt + 1)),
            go_on.eq(~warming & ~st.trig & (env > on_lvl) & (c >= p.min_off)),
            go_off.eq(~warming & st.trig & (env < off_lvl) & (c >= p.min_on)),
            new_trig.eq((st.trig | go_on) & ~go_off & ~warming),
        ]

        def floor_step(s):
            return st.facc + (env << (G - s)) - (st.facc >> s)

        with m.If(warming):
            m.d.comb += facc.eq(floor_step(p.warmup_shift))
        with m.Elif(env < floor):
            m.d.comb += facc.eq(floor_step(p.floor_down_shift))
        with m.Elif(new_trig):
            m.d.comb += facc.eq(floor_step(p.floor_on_shift))
        with m.Else():
            m.d.comb += facc.eq(floor_step(p.floor_up_shift))

        new_state = Signal(self.state_layout)
        m.d.comb += [
            new_state.x1.eq(x),
            new_state.h.eq(h),
            new_state.y.eq(y),
            new_state.eacc.eq(eacc),
            new_state.facc.eq(facc),
            new_state.trig.eq(new_trig),
            new_state.cnt.eq(Mux(warming, cmax, Mux(go_on | go_off, 0, c))),
        ]

        with m.FSM(name="fsm"):
            with m.State("CLEAR_STATE"):
                # all zero but the hold counter, which starts saturated as in the model
                # (otherwise warmup_samples=0 would hold the first decisions back)
                m.d.comb += [wr.addr.eq(ch), wr.en.eq(1), wr.data.eq(0), wr.data.cnt.eq(cmax)]
                m.d.sync += ch.eq(ch + 1)
                with m.If(ch == n - 1):
                    m.d.sync += ch.eq(0)
                    m.next = "WAIT_FRAME"
            with m.State("WAIT_FRAME"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(self.i.valid):
                    m.d.sync += [frame.eq(self.i.payload), ch.eq(0)]
                    m.next = "FETCH_STATE"
            with m.State("FETCH_STATE"):
                m.d.comb += rd.addr.eq(ch)
                m.next = "UPDATE_CHANNEL"
            with m.State("UPDATE_CHANNEL"):
                m.d.comb += [wr.addr.eq(ch), wr.en.eq(1), wr.data.eq(new_state)]
                m.d.sync += [
                    frame.eq(frame >> self.sample_width),
                    trigs.eq(Cat(trigs[1:], new_trig & self.present.bit_select(ch, 1))),
                    ch.eq(ch + 1),
                ]
                with m.If(ch == n - 1):
                    m.next = "EMIT_TRIGGERS"
                with m.Else():
                    m.next = "FETCH_STATE"
            with m.State("EMIT_TRIGGERS"):
                m.d.comb += self.o.valid.eq(1)
                with m.If(self.o.ready):
                    with m.If(warming):
                        m.d.sync += warm_cnt.eq(warm_cnt + 1)
                    m.next = "WAIT_FRAME"
        return m
