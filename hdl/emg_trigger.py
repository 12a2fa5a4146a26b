"""Dynamic-threshold EMG muscle trigger, one datapath time-multiplexed over the channels.

The algorithm, its parameters and the fixed-point formats are documented in
:mod:`golden.emg_trigger_model`; :func:`golden.emg_trigger_model.trigger_bitexact` is the
bit-exact model of this core and the cocotb testbench ``tests/gateware/test_emg_trigger.py``
holds the two against each other.

Architecture
------------
The per-channel filter state (``x1, h, y, eacc, facc, trig, cnt``: 121 bits for 16-bit
samples) lives in one block RAM word per channel (:attr:`EMGTrigger.state_layout`); one
channel step (high-pass, rectify, envelope, floor, threshold, hysteresis) is shared by all
channels. A frame runs through a pipeline, one channel per clock::

    RAM read (address ch) -> state register (RAM word, or zero)
      -> stage A: the two high-pass sections (x - x1, h' - h, h', y), |y| - sign
         (one's complement), the envelope leak, the level (floor x gain / 16)
      -> stage B: envelope (eacc + |y|), the comparisons, hysteresis and hold
         counter, the trigger decision and the floor step to take
      -> stage C: the floor step facc + ((env << G) - (facc & ~(2**s - 1))) >> s (exactly
         facc - (facc >> s) + (env << (G - s)): one shifter, not two) -> RAM write

Stages A, B and C are registered (about 60 carry-chain bits and a few LUT levels each, so
the core meets 50 MHz with a margin: ``python -m boards.timing --block fabric.emg.trigger``).
``WAIT_FRAME`` accepts the frame into a register (one enable, no shifter); ``RUN`` takes
``n_channels + 4`` cycles: in cycle ``s`` it reads the state of channel ``s``, which reaches
the state register in cycle ``s + 2`` and is written back (updated) at the end of cycle
``s + 4``; the channel's sample is picked from the frame register by an ``n_channels``-way
multiplexer in stage A, its trigger bit is shifted into the output frame in stage C;
``EMIT_TRIGGERS`` offers the trigger frame. A frame costs ``n_channels + 6`` clock cycles
(:attr:`EMGTrigger.cycles_per_frame`, 14 for 8 channels). Every write of a frame lands
before the first read of the next, so the pipeline has no hazard.

Reset: every channel is written once per frame, in the first frame after reset too; while a
``fresh`` flag (set by reset, cleared at the end of that first frame) is high the state
register loads zero -- through the flip-flops' synchronous clear, no multiplexer -- instead
of the RAM word, so a reset in the middle of a walk restarts every filter without a clearing
pass. The hold counter is stored as ``cnt XOR cmax`` so that the all-zero state means
"saturated", as the model starts (``warmup_samples=0`` must not hold the first decisions
back).

Area notes (yosys ``synth_intel_alm``; ``python -m boards.de10_nano resources``; 441 ALUTs
for 8 channels and the defaults, 617 before the proven widths and the three rewrites of
issue 18 named below: ``h' - h``, the floor step's zero bits, the level subtraction): every
register and sum is as wide as its proven extreme needs
(:class:`golden.emg_trigger_model.TriggerWidths` ``*_reg``: ``h`` 21, ``y`` 22, ``eacc`` 25,
``facc`` 32 bits for 16-bit samples, not the 24/29/32/39 of the looser closed-form budget;
127 ALUTs of carry chains and multiplexers); the RAM is
declared at least :data:`RAM_MIN_DEPTH` words deep so that yosys maps it onto M10K blocks
(its rule wants 5 % of a block used; 8 words of a 256 x 40 block are 3 %) rather than onto
flip-flops and read multiplexers; every sum is a chain of two-operand adds whose
intermediate values are kept (``keep``) so that yosys builds them on the ALMs' carry
chains instead of carry-save trees of LUTs; a step compares the envelope with one level
only -- the off level while the trigger is on, else the on level -- so there is one
product ``floor * gain`` (the gain picked by the trigger bit; one DSP multiplier) and one
subtraction ``(2 * env + trig) - (2 * level + 1)`` whose sign is ``env < off level`` or
``env <= on level`` (a subtraction: yosys folds the inversion into the carry chain, where an
add of ``~level`` costs a NOT cell a bit); the first section's output ``h' - h =
(dx << F) - (h >> hp_shift)`` feeds the second directly, ``h'`` is ``h + (h' - h)`` beside it
(no separate leak chain); the floor step's subtraction skips the low ``min(shifts)`` bits,
zero in both terms; the ``max(level, min_level)`` is split into that comparison and one
with the constant ``min_level``, built from LUTs (:mod:`hdl.const_compare`, as are the
warm-up and hold-counter comparisons); ``|y|`` is a
one's complement plus a carry-in.
None of this changes a bit of the results.
"""

from amaranth.hdl import *
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from golden.emg_trigger_model import TriggerParams, TriggerWidths
from hdl.const_compare import ge_const, gt_const
from hdl.params import check_int

__all__ = ["EMGTrigger", "RAM_MIN_DEPTH"]

#: Smallest declared depth of the state RAM: with fewer words yosys' cyclonev rules reject
#: the M10K (below 5 % of its bits used) and build the RAM from flip-flops.
RAM_MIN_DEPTH = 32


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
    state_layout : StructLayout
        One channel's RAM word (``cnt_x`` is the hold counter XOR its saturation value).

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
            "h": signed(w.h_reg),
            "y": signed(w.y_reg),
            "eacc": unsigned(w.eacc_reg),
            "facc": unsigned(w.facc_reg),
            "trig": 1,
            "cnt_x": unsigned(w.cnt),
        })
        super().__init__({
            "i": In(stream.Signature(data.ArrayLayout(signed(sample_width), n_channels))),
            "o": Out(stream.Signature(data.ArrayLayout(1, n_channels))),
            "present": In(n_channels),
            "warm": Out(1),
        })

    @property
    def cycles_per_frame(self):
        """Clock cycles the core needs per frame when its output is always ready.

        ``WAIT_FRAME`` (1) + ``RUN`` (``n_channels + 4``) + ``EMIT_TRIGGERS`` (1).
        """
        return self.n_channels + 6

    def elaborate(self, platform):
        m = Module()
        p, w, n = self.params, self.widths, self.n_channels
        F, G = p.frac_bits, p.floor_on_shift
        cmax = max(p.min_on, p.min_off)

        def kept(value, shape, name):
            """``value`` in a signal yosys must keep: ends a chain of adds (see module doc)."""
            sig = Signal(shape, name=name, attrs={"keep": 1})
            m.d.comb += sig.eq(value)
            return sig

        # spare words: RUN reads addresses n .. n + 3 (unused) in its last four cycles
        m.submodules.state = mem = Memory(shape=self.state_layout,
                                          depth=max(n + 4, RAM_MIN_DEPTH), init=[])
        self._state_mem = mem                  # for tests: the RAM words after a frame
        rd = mem.read_port(transparent_for=())
        wr = mem.write_port()

        step = Signal(range(n + 4))            # RUN cycle: read channel `step`
        # channel and valid bit of each pipeline stage: RAM data out, state register,
        # stage A register, stage B register (stage C writes the RAM)
        ch = [Signal(range(n), name=f"ch_{k}") for k in range(4)]
        valid = [Signal(name=f"valid_{k}") for k in range(4)]
        fresh = Signal(init=1)                 # first frame since reset: state not written
        frame = Signal(data.ArrayLayout(signed(self.sample_width), n))
        trigs = Signal(n)                      # shifted in from the top
        warm_cnt = Signal(range(p.warmup_samples + 1))
        warming = Signal()
        m.d.comb += [
            warming.eq(~ge_const(warm_cnt, p.warmup_samples)),
            self.warm.eq(~warming),
            self.o.payload.eq(trigs),
            rd.addr.eq(step),
        ]

        # --- the state register (synchronous clear in the first frame) ---
        st = Signal(self.state_layout, reset_less=True)   # cleared by `fresh` alone
        with m.If(fresh):
            m.d.sync += st.eq(0)
        with m.Else():
            m.d.sync += st.eq(rd.data)

        # --- stage A: high-pass sections, |y| as one's complement, the level ---
        ra = Signal(data.StructLayout({
            "x": signed(self.sample_width), "h": signed(w.h_reg), "y": signed(w.y_reg),
            "sign": 1, "y_ones": unsigned(w.r_reg), "e_leak": unsigned(w.eacc_reg),
            "facc": unsigned(w.facc_reg), "lvl": unsigned(w.env_reg + 4), "trig": 1,
            "cnt_x": unsigned(w.cnt),
        }), reset_less=True)
        x = frame[ch[1]]
        dx = kept(x - st.x1, signed(self.sample_width + 1), "dx")
        # h' = (dx << F) + h - (h >> hp_shift), so h' - h = (dx << F) - (h >> hp_shift): the
        # second section's input first, h' = h + (h' - h) beside it (two chains, not three)
        dh = kept((dx << F) - (st.h >> p.hp_shift), signed(w.h_reg + 1), "dh")
        h = kept(st.h + dh, signed(w.h_reg), "h")
        y_leak = kept(st.y - (st.y >> p.hp_shift), signed(w.y_reg), "y_leak")
        y = kept(dh + y_leak, signed(w.y_reg), "y")
        sign = y[-1]

        floor_a = st.facc >> G
        m.d.sync += [
            ra.x.eq(x), ra.h.eq(h), ra.y.eq(y), ra.sign.eq(sign),
            ra.y_ones.eq(y[:w.r_reg] ^ sign.replicate(w.r_reg)),
            ra.e_leak.eq(st.eacc - (st.eacc >> p.env_shift)),
            ra.facc.eq(st.facc),
            # the one level this step compares with: off level while on, else on level
            ra.lvl.eq(kept(floor_a * Mux(st.trig, p.off_gain, p.on_gain), unsigned(w.env_reg + 8),
                           "prod") >> 4),
            ra.trig.eq(st.trig), ra.cnt_x.eq(st.cnt_x),
        ]

        # --- stage B: envelope, threshold decisions, hysteresis, floor step choice ---
        rb = Signal(data.StructLayout({
            "x": signed(self.sample_width), "h": signed(w.h_reg), "y": signed(w.y_reg),
            "eacc": unsigned(w.eacc_reg), "facc": unsigned(w.facc_reg), "sel": 2, "trig": 1,
            "cnt_x": unsigned(w.cnt),
        }), reset_less=True)
        # eacc + |y| = eacc + (y XOR sign) + sign: the sign enters as the carry-in of a
        # one-bit-wider add (both operands get a low bit: 1 and sign; the sum drops it)
        eacc_c = kept(Cat(C(1, 1), ra.e_leak) + Cat(ra.sign, ra.y_ones),
                      unsigned(w.eacc_reg + 2), "eacc_c")
        eacc = eacc_c[1:w.eacc_reg + 1]
        env = Signal(unsigned(w.env_reg))
        floor = Signal(unsigned(w.env_reg))
        cnt = Signal(unsigned(w.cnt))
        m.d.comb += [
            env.eq(eacc >> p.env_shift),
            floor.eq(ra.facc >> G),
            cnt.eq(ra.cnt_x ^ cmax),
        ]
        # env > max(a, b) <=> env > a and env > b;  env < max(a, b) <=> env < a or env < b
        # 2 * (env - lvl) - 1 + trig = Cat(trig, env) - Cat(1, lvl): its sign is "env <= lvl"
        # when the trigger is off (the on level), "env < lvl" when it is on (the off level);
        # a subtraction, not an add of ~lvl: yosys folds the inversion into the carry chain
        past = kept(Cat(ra.trig, env) - Cat(C(1, 1), ra.lvl), signed(w.env_reg + 6), "past")
        below = past[-1]
        above_on = Signal()
        below_off = Signal()
        m.d.comb += [
            above_on.eq(~below & gt_const(env, p.min_level)),
            below_off.eq(below | ~ge_const(env, p.min_level)),
        ]
        c = Signal(range(cmax + 1))
        go_on = Signal()
        go_off = Signal()
        new_trig = Signal()
        m.d.comb += [
            c.eq(Mux(ge_const(cnt, cmax), cmax, cnt + 1)),
            go_on.eq(~warming & ~ra.trig & above_on & ge_const(c, p.min_off)),
            go_off.eq(~warming & ra.trig & below_off & ge_const(c, p.min_on)),
            new_trig.eq((ra.trig | go_on) & ~go_off & ~warming),
        ]
        # floor step s: facc + (env << (G - s)) - (facc >> s), s chosen here
        shifts = (p.warmup_shift, p.floor_down_shift, p.floor_on_shift, p.floor_up_shift)
        sel = Signal(2)
        with m.If(warming):
            m.d.comb += sel.eq(0)
        with m.Elif(env < floor):
            m.d.comb += sel.eq(1)
        with m.Elif(new_trig):
            m.d.comb += sel.eq(2)
        with m.Else():
            m.d.comb += sel.eq(3)
        new_cnt = Mux(warming, cmax, Mux(go_on | go_off, 0, c))
        m.d.sync += [
            rb.x.eq(ra.x), rb.h.eq(ra.h), rb.y.eq(ra.y), rb.eacc.eq(eacc),
            rb.facc.eq(ra.facc), rb.sel.eq(sel), rb.trig.eq(new_trig),
            rb.cnt_x.eq(new_cnt ^ cmax),
        ]

        # --- stage C: floor step, write back ---
        env_c = rb.eacc >> p.env_shift
        # (env << G >> s) - (facc >> s) = ((env << G) - (facc with its low s bits cleared)) >> s,
        # exactly (both terms are multiples of 2**s): one shifter instead of two; both terms
        # are multiples of 2**smin too, so the subtraction skips those smin zero bits
        smin = min(shifts)
        mask = Array(C(((1 << w.facc_reg) - 1) >> s << s, w.facc_reg) for s in shifts)[rb.sel]
        diff = kept((env_c << (G - smin)) - ((rb.facc & mask) >> smin),
                    signed(w.facc_reg + 1 - smin), "f_diff")         # (...) >> smin
        f_step = kept(Array(diff >> (s - smin) for s in shifts)[rb.sel],
                      signed(w.facc_reg + 1 - smin), "f_step")
        facc = kept(rb.facc + f_step, unsigned(w.facc_reg), "facc")
        new_state = Signal(self.state_layout)
        m.d.comb += [
            new_state.x1.eq(rb.x),
            new_state.h.eq(rb.h),
            new_state.y.eq(rb.y),
            new_state.eacc.eq(rb.eacc),
            new_state.facc.eq(facc),
            new_state.trig.eq(rb.trig),
            new_state.cnt_x.eq(rb.cnt_x),
            wr.addr.eq(ch[3]),
            wr.data.eq(new_state),
        ]

        with m.FSM(name="fsm"):
            with m.State("WAIT_FRAME"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(self.i.valid):
                    m.d.sync += [frame.eq(self.i.payload), step.eq(0)]
                    m.next = "RUN"
            with m.State("RUN"):
                m.d.sync += [step.eq(step + 1), valid[0].eq(step < n), ch[0].eq(step)]
                for k in range(3):
                    m.d.sync += [valid[k + 1].eq(valid[k]), ch[k + 1].eq(ch[k])]
                with m.If(valid[3]):
                    m.d.comb += wr.en.eq(1)
                    m.d.sync += trigs.eq(Cat(trigs[1:],
                                             rb.trig & self.present.bit_select(ch[3], 1)))
                with m.If(step == n + 3):
                    m.next = "EMIT_TRIGGERS"
            with m.State("EMIT_TRIGGERS"):
                m.d.comb += self.o.valid.eq(1)
                m.d.sync += fresh.eq(0)
                with m.If(self.o.ready):
                    with m.If(warming):
                        m.d.sync += warm_cnt.eq(warm_cnt + 1)
                    m.next = "WAIT_FRAME"
        return m
