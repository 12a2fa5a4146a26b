"""Backpressure: the cores with a consumer that stalls, against :mod:`golden.backpressure`.

Every other testbench holds the outputs' ``ready`` high. Here a seeded
:class:`~golden.backpressure.ReadyPattern` (random short stalls plus one long stall)
drives ``ready`` of the output, and the gateware must do exactly what the model
predicts from the same pattern: the records (bit-exact models), which records are
dropped, the clock edge of every transfer, and the overrun flags and counters.

* EMG trigger and EEG MRP: a stalled output holds the input; nothing is lost.
* Stride indexes: takes a frame every other edge, never holds its input longer; a stride
  that finds its leg's slot still full is dropped, raises ``overrun`` and is counted in
  ``overruns`` (the long stall lasts several strides); the count saturates at 0xFFFF.
  Through the fabric into the HPS registers: ``tests/gateware/test_fabric_top.py``.
* UART receiver: bytes arriving while the previous one is untaken are dropped and
  counted; the counter saturates at 0xFFFF.
* Sample ingress: a stalled output fills the byte FIFO; bytes that find it full are
  dropped and counted in ``overruns``.
"""

import numpy as np
import pytest

from golden.backpressure import (
    EEG_CHANNEL_CYCLES,
    STRIDE_FILL_CYCLES,
    STRIDE_SERIALISE_CYCLES,
    ReadyPattern,
    eeg_schedule,
    ingress_overflow,
    random_stalls,
    stride_record_ends,
    stride_schedule,
    trigger_schedule,
    uart_rx_overruns,
)
from golden.eeg_pipeline import run_golden_eeg
from golden.emg_trigger_model import trigger_bitexact
from golden.stride_indexes_model import stride_indexes_bitexact
from hdl.eeg_mrp import EEGMRP
from hdl.emg_trigger import EMGTrigger
from hdl.sample_ingress import SampleIngress
from hdl.stride_indexes import LATENCY_CYCLES, StrideIndexes
from hdl.uart_rx import UARTRx
from sim.hdl_build import run_cocotb, simulator_missing
from sim.records import decode_mrp_records, decode_records
from spec.frames import encode
from tests.gateware.test_emg_trigger import toy_bursts
from tests.gateware.test_stride_indexes import gait_triggers as stride_gait_triggers
from tests.seeding import seeds

needs_sim = pytest.mark.skipif(simulator_missing() is not None, reason=simulator_missing() or "")


def bursts(n, nch, seed):
    """Noise with periodic bursts per channel (EMG-like trigger input), short periods."""
    return toy_bursts(n, nch, seed, period=(120, 200), on_len=(30, 90))


def gait_triggers(n, seed, period=(150, 260)):
    """Random periodic bursts per muscle: a stand-in for trigger frames, short strides."""
    return stride_gait_triggers(n, seed, period, first=100, lengths=(10, 100))


# --- the models alone ---------------------------------------------------------------

def test_ready_pattern():
    p = ReadyPattern([(10, 5), (14, 3), (30, 1)])
    assert p.intervals == [(10, 17), (30, 31)] and p.end == 31 and p.stalled_edges == 8
    assert [p.ready(c) for c in (9, 10, 16, 17, 30, 31)] == [True, False, False, True, False,
                                                             True]
    assert [p.next_ready(c) for c in (5, 12, 30)] == [5, 17, 31]
    assert ReadyPattern.from_array(p.as_array()).intervals == p.intervals
    assert not ReadyPattern() and ReadyPattern().next_ready(7) == 7
    with pytest.raises(ValueError):
        ReadyPattern([(3, 0)])
    a, b = random_stalls(5, 100, 1000), random_stalls(5, 100, 1000)
    assert a.intervals == b.intervals and a and a.intervals[0][0] >= 100


def test_stride_model_without_stalls_is_the_documented_latency():
    """Strides of one leg far apart: every record is taken LATENCY_CYCLES (64) cycles after
    its last frame, the model's latency is the gateware's documented one."""
    ends = [(400, 0), (800, 0), (800, 1), (1200, 1)]
    frames = np.arange(2000) * 3 + 7
    kept, order, taken, overrun = stride_schedule(ends, frames, ReadyPattern())
    assert kept.all() and list(order) == [0, 1, 2, 3] and overrun == 0
    lat = taken - frames[[f for f, _ in ends]]
    # the right leg's record of frame 800 waits for the left one's
    L = LATENCY_CYCLES
    assert L == STRIDE_FILL_CYCLES + STRIDE_SERIALISE_CYCLES == 64
    assert list(lat) == [L, L, L + STRIDE_SERIALISE_CYCLES + 1, L]


def test_stride_model_drops_the_third_stride_of_a_stalled_leg():
    ends = [(100, 0), (200, 0), (300, 0), (400, 0)]
    frames = np.arange(500)
    # stalled from before the first record until frame 350: record 0 is in the
    # serialiser, record 1 waits in the slot, record 2 finds the slot full
    kept, order, taken, overrun = stride_schedule(ends, frames, ReadyPattern([(0, 350)]))
    assert list(kept) == [True, True, False, True] and list(order) == [0, 1, 3]
    assert overrun == 1
    assert taken[0] == 350 and taken[1] == 350 + 1 + STRIDE_SERIALISE_CYCLES


def test_stride_model_left_leg_overtakes_under_a_stall():
    """A right-leg stride waiting in its slot is overtaken by a later left-leg stride."""
    ends = [(100, 0), (150, 1), (200, 0)]
    kept, order, taken, _ = stride_schedule(ends, np.arange(400), ReadyPattern([(0, 250)]))
    assert kept.all() and list(order) == [0, 2, 1]


def test_uart_model():
    assert uart_rx_overruns([1, 0, 0, 0, 1, 1, 0, 0]) == ([0, 1, 4, 5, 6], 3)
    assert uart_rx_overruns([0] * 6, start=0xFFFD) == ([0], 0xFFFF)


# --- gateware -----------------------------------------------------------------------

@needs_sim
@pytest.mark.parametrize("seed", seeds(1, 2))
def test_trigger_stall_holds_the_input(seed):
    """A stalled trigger output holds the core (and its input): no frame lost, exact timing."""
    n, nch = 700, 8
    x = bursts(n, nch, seed)
    dut = EMGTrigger(nch)
    cpf = dut.cycles_per_frame
    # one stall of 40 frame times in the middle
    ready = random_stalls(seed, 20, n * cpf, mean_gap=30, max_len=50,
                          long=(n * cpf // 2, 40 * cpf))
    out = run_cocotb(dut, "emg_trigger", "sim.cocotb_emg_trigger",
                     dict(samples=x, present=np.ones(nch, bool), stall_o=ready.as_array()),
                     tag=f"stall{seed}")
    want = trigger_bitexact(x, present=np.ones(nch, bool))
    assert out["trig"].shape == want.shape and (out["trig"] == want).all()
    accepted, taken = trigger_schedule(out["accepted"][0], n, cpf, ready)
    assert list(out["accepted"]) == list(accepted)
    assert list(out["taken"]) == list(taken)
    assert (np.diff(accepted) > cpf).sum() > 10      # the stalls did hold the input


@needs_sim
@pytest.mark.parametrize("seed", seeds(1, 2, 3))
def test_stride_overrun_drops_and_flags(seed):
    """Records dropped by the stride core under a stall: which ones, when the rest are
    taken, and the sticky flag, all as predicted; one stall spans several strides."""
    n, gap = 3000, 1 + seed % 2           # frames 2 or 3 edges apart: the core's full rate
    rule = (0, 0) if seed != 3 else (150, 60)
    trig = gait_triggers(n, seed)
    step = gap + 1
    ready = random_stalls(seed, 0, n * step, mean_gap=60, max_len=120,
                          long=(int(n * step * 0.4), 900 * step))   # > 3 strides of a leg
    dut = StrideIndexes(min_stride=rule[0], ref_min_gap=rule[1])
    out = run_cocotb(dut, "stride_indexes", "sim.cocotb_stride_indexes",
                     dict(trig=trig, present=np.ones(8, bool), stride_ref=0,
                          reset_at=np.zeros(0, int), gap=gap, stall_o=ready.as_array()),
                     tag=f"stall_{rule[0]}_{rule[1]}")
    frames = out["frame_cycle"]
    assert list(frames) == list(frames[0] + step * np.arange(n))   # the core never stalls
    want = stride_indexes_bitexact(trig, min_stride=rule[0], ref_min_gap=rule[1])
    ends = stride_record_ends(trig, min_stride=rule[0], ref_min_gap=rule[1])
    assert len(ends) == len(want) > 20
    kept, order, taken, overrun = stride_schedule(ends, frames, ready)
    got = decode_records(out["records"])
    assert got == [want[k] for k in order], \
        f"delivered records differ from the model's ({len(got)} vs {len(order)})"
    assert list(out["record_cycle"]) == list(taken)
    assert int(out["overrun"]) == overrun == 1
    assert int(out["overruns"]) == (~kept).sum()
    assert 2 <= (~kept).sum() < len(kept) - 10


@pytest.mark.parametrize("start", [0, 0xFFF5])
def test_stride_overruns_count_both_legs_and_saturate(start):
    """Amaranth simulation, output stalled for ever, both legs finishing a stride on the same
    frames (two drops on one edge): the counter counts every dropped stride the model predicts,
    and from a counter forced to 0xFFF5 it stops at 0xFFFF."""
    from amaranth.sim import Simulator
    n = 20
    trig = np.zeros((n, 8), np.uint8)
    trig[::2, [0, 4]] = 1                     # LG of both legs: an onset every other frame
    dut = StrideIndexes(min_stride=0, ref_min_gap=0)
    got = {}

    async def bench(ctx):
        ctx.set(dut.present, 0xFF)
        ctx.set(dut.o.ready, 0)
        if start:
            ctx.set(dut.overruns, start)
        for row in trig:                      # one frame accepted every other edge
            ctx.set(dut.i.payload, [int(b) for b in row])
            ctx.set(dut.i.valid, 1)
            assert ctx.get(dut.i.ready)
            await ctx.tick()
            ctx.set(dut.i.valid, 0)
            assert not ctx.get(dut.i.ready)   # the right leg's cycle
            await ctx.tick()
        ctx.set(dut.i.valid, 0)
        await ctx.tick().repeat(3)
        got["overruns"], got["overrun"] = ctx.get(dut.overruns), ctx.get(dut.overrun)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    ends = stride_record_ends(trig, min_stride=0, ref_min_gap=0)
    kept, _, _, overrun = stride_schedule(ends, 2 * np.arange(n), ReadyPattern([(0, 10**6)]))
    dropped = int((~kept).sum())
    assert dropped == 15 and overrun == 1     # all but 2 left and 1 right record
    assert got == {"overruns": min(start + dropped, 0xFFFF), "overrun": 1}


@needs_sim
@pytest.mark.parametrize("seed", seeds(1))
def test_eeg_stall_holds_the_input(seed):
    """A stalled EEG output holds each record and the input: same records, exact timing."""
    rng = np.random.default_rng(seed)
    n, enable = 320, np.array([1, 0, 1], bool)
    x = np.clip(rng.normal(0, 300, (n, 3)).cumsum(axis=0) * 0.05, -32768, 32767).astype(np.int16)
    trigger = np.zeros(n, np.uint8)
    trigger[[40, 41, 200, 300]] = 1           # 40/41: a trigger queued behind a computation
    per = EEG_CHANNEL_CYCLES
    # stalls around the record edges, one of them longer than a whole computation
    ready = random_stalls(seed, per // 2, 10 * per, mean_gap=per // 3, max_len=per // 2,
                          long=(6 * per, 3 * per))
    out = run_cocotb(EEGMRP(3), "eeg_mrp", "sim.cocotb_eeg_mrp",
                     dict(samples=x, trigger=trigger, enable=enable,
                          stall_o=ready.as_array()), tag=f"stall{seed}")
    assert decode_mrp_records(out["records"], 3) == run_golden_eeg(x, trigger, enable)
    accepted, taken = eeg_schedule(np.append(trigger, 0), enable, out["accepted"][0], ready)
    assert list(out["accepted"]) == list(accepted)
    assert list(out["taken"]) == list(taken)
    unstalled = eeg_schedule(np.append(trigger, 0), enable, out["accepted"][0], ReadyPattern())[1]
    assert (taken != unstalled).all()               # every record was held by a stall


@needs_sim
@pytest.mark.parametrize("seed", seeds(1, 2))
def test_uart_rx_overrun_counts_and_saturates(seed):
    """Bytes arriving while the previous one is untaken: dropped and counted exactly;
    then, from a counter forced to 0xFFFD, six more stalled bytes saturate it at 0xFFFF."""
    rng = np.random.default_rng(seed)
    divisor, n, n_sat = 8, 60, 6
    bit, slot = divisor, 10 * divisor
    data = rng.integers(0, 256, n + n_sat)
    # runs of 1..4 byte slots, ready or stalled
    ready_slots = []
    while len(ready_slots) < n:
        ready_slots += [len(ready_slots) % 2 == seed % 2] * int(rng.integers(1, 5))
    ready_slots = np.array(ready_slots[:n])
    ready_slots[-1] = True
    t0 = 20
    starts = t0 + slot * np.arange(n + n_sat)
    starts[n:] += 5 * slot                    # a pause with ready high between the phases
    # ready for slot j from the middle of byte j's data bits to the middle of byte j + 1's
    mid = starts + 4 * bit
    stalls = [(int(mid[j]), slot) for j in range(n) if not ready_slots[j]]
    stalls.append((int(mid[n]), n_sat * slot))   # phase 2: stalled throughout
    deposit_at = int(starts[n]) - 2 * slot
    end1, end2 = deposit_at - slot, int(starts[-1]) + 2 * slot + n_sat * slot
    out = run_cocotb(UARTRx(divisor), "uart_rx", "sim.cocotb_uart_rx",
                     dict(data=data, starts=starts, divisor=divisor,
                          stall_o=ReadyPattern(stalls).as_array(),
                          deposit=np.array([deposit_at, 0xFFFD]),
                          sample_at=np.array([end1, end2])), tag=f"stall{seed}")
    delivered1, overruns1 = uart_rx_overruns(ready_slots)
    delivered2, overruns2 = uart_rx_overruns([False] * n_sat, start=0xFFFD)
    want = [int(data[j]) for j in delivered1] + [int(data[n + j]) for j in delivered2]
    assert list(out["got"]) == want
    assert [tuple(c) for c in out["counters"]] == [(overruns1, 0), (overruns2, 0)]
    assert overruns1 > 5 and overruns2 == 0xFFFF


@needs_sim
def test_ingress_fifo_overflow_counts_dropped_bytes():
    """Sample ingress with its output stalled: the parser holds its first frame, the
    64-byte FIFO fills, later bytes are dropped and counted; after the stall the parser
    resynchronises exactly as the bit-exact parser on the surviving bytes."""
    rng = np.random.default_rng(4)
    divisor, depth, resume = 8, 64, 171
    data = b"".join(encode("SAMPLES", k, rng.integers(0, 256, 33, dtype=np.uint8).tobytes())
                    for k in range(9))
    slot, t0 = 10 * divisor, 20
    # ready again in the middle of byte `resume`'s data bits (well away from any stop bit)
    ready = ReadyPattern([(0, t0 + resume * slot + 4 * divisor)])
    out = run_cocotb(SampleIngress(divisor, fifo_depth=depth), "sample_ingress",
                     "sim.cocotb_sample_ingress",
                     dict(stream=np.frombuffer(data, np.uint8), source=0, divisor=divisor,
                          stall=0, brk=0, stall_o=ready.as_array(), tx_start=t0),
                     tag="overflow")
    model, payloads, dropped = ingress_overflow(data, resume, depth)
    assert dropped == resume - 40 - depth > 0
    want = [int.from_bytes(p, "little") & ((1 << 257) - 1) for p in payloads]
    assert [int(w) for w in out["frames"]] == want
    frames, bad, lost, framing, overruns = (int(c) for c in out["counters"])
    assert (frames, bad, lost, framing, overruns) == \
        (model.frames, model.bad_frames, model.lost_frames, 0, dropped)
    assert lost >= 1 and frames < 9


@needs_sim
def test_a_stuck_dut_fails_with_a_timeout_instead_of_hanging():
    """An output stalled for ever holds the trigger core's input: the driver gives up after
    its budget of clock cycles with a message naming the word, not a hung simulation."""
    x = bursts(20, 2, 1)
    with pytest.raises(RuntimeError, match=r"DUTTimeout: i: word 1 not taken \(ready low\): "
                                           r"nothing after 200000 clock cycles"):
        run_cocotb(EMGTrigger(2), "emg_trigger", "sim.cocotb_emg_trigger",
                   dict(samples=x, present=np.ones(2, bool),
                        stall_o=ReadyPattern([(0, 10**9)]).as_array()), tag="stuck")
