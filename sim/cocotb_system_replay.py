"""cocotb testbench: the ARM's replay path through the whole design.

Run by ``tests/gateware/test_system_top.py``.

An AXI3 master BFM plays ``wo_monitor --devmem --replay``: it sets CONTROL.SOURCE to
the HPS replay (read-modify-write of CONTROL) and writes the SAMPLES frame bytes to SAMPLE.
The first ``arm_bytes`` go as wo_monitor writes them, one single write per byte after
polling STATUS bit 2 (sample FIFO full; ``full_polls`` counts the polls that found it set);
the rest go in FIXED bursts (:func:`write_replay`), each no larger than the room the
sample FIFO is known to have from SAMPLES_IN -- the same bytes through the same register
in a fraction of the simulated cycles. RESULT is popped until empty at least every
:data:`POP_EVERY` clock cycles (so the result FIFO never has to drop a frame), and at the
end until the result FIFO stays empty.

:func:`write_replay` and :func:`between_edges` are also used by
``sim/cocotb_system_top.py``.

Inputs (``TB_IN``): ``stream`` -- SAMPLES frame bytes; ``control`` -- bits OR-ed into the
CONTROL value read after reset (SOURCE = replay among them); ``arm_bytes`` -- bytes written
one by one first; ``sample_fifo`` -- depth of the sample (replay) FIFO.
Outputs (``TB_OUT``): ``result`` -- the RESULT words popped (VALID set);
``regs`` -- SAMPLES_IN, INGRESS, RX_ERRORS, DROPPED at the end; ``full_polls``.
"""

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, Timer

from hdl.hps_regs import REGS
from sim.cocotb_hps_lw_axi import AXI3Master
from sim.cocotb_streams import TIMEOUT_CYCLES, DUTTimeout, StreamTB, load_inputs, save_outputs
from spec.frames import CRC_LEN, HEADER_LEN, PAYLOAD_LEN

#: bounds of the polling loops, so that a DUT stuck "full" or never idle fails: STATUS
#: polls per SAMPLE byte, RESULT pops per drain, and clock cycles of the final drain
MAX_POLLS = 100_000
MAX_POPS = 1 << 16
MAX_DRAIN_CYCLES = 10 * TIMEOUT_CYCLES
#: bytes of one SAMPLES frame
FRAME_LEN = HEADER_LEN + PAYLOAD_LEN["SAMPLES"] + CRC_LEN
#: beats of an AXI3 burst at most (4-bit AxLEN)
MAX_BURST = 16
#: RESULT is drained at least this often (clock cycles): the results UART sends at most one
#: byte per 10 * tx_divisor cycles, far less than the result FIFO holds in that time
POP_EVERY = 10_000
#: clock cycles between two SAMPLES_IN polls while the sample FIFO has no room
POLL_GAP = 64


async def between_edges(dut, cycles, period_ns):
    """Let about ``cycles`` clock cycles pass with one timer (not one wake-up per edge) and
    return at a falling edge, where a bus master drives its next request without racing a
    rising edge."""
    await Timer(cycles * period_ns, "ns")
    await FallingEdge(dut.clk)


async def write_replay(bus, tb, data, sent, fifo_depth, between=None,
                       timeout_cycles=TIMEOUT_CYCLES):
    """Write the SAMPLES frame bytes ``data`` to SAMPLE in FIXED bursts; return ``sent``
    advanced by ``len(data)``.

    ``sent`` is the number of bytes of whole SAMPLES frames the design has been sent since
    reset before ``data``, by either source, and every one of those frames must be counted
    in SAMPLES_IN or still on its way through the sample FIFO. A frame counted in SAMPLES_IN
    has left the sample FIFO, so the FIFO holds at most ``sent - FRAME_LEN * SAMPLES_IN``
    bytes: each burst fits in the room left (a byte written to a full FIFO would be lost),
    and SAMPLES_IN is polled again when the room is used up. ``between`` (a coroutine
    function) runs after every poll. Every burst must answer OKAY. Raises
    :class:`~sim.cocotb_streams.DUTTimeout` if SAMPLES_IN stays put for ``timeout_cycles``
    while the FIFO has no room.
    """
    k, seen, since = 0, -1, tb.cycle()
    while k < len(data):
        (frames,), _ = await bus.read(REGS["SAMPLES_IN"])
        if frames != seen:
            seen, since = frames, tb.cycle()
        room = fifo_depth - (sent - FRAME_LEN * frames)
        if room <= 0:
            if tb.cycle() - since > timeout_cycles:
                raise DUTTimeout(f"SAMPLES_IN stuck at {frames} for {timeout_cycles} clock "
                                 f"cycles with the sample FIFO full ({sent} bytes sent)")
            # the fabric holds its input (an EEG computation): poll again a little later
            await between_edges(tb.dut, POLL_GAP, tb.period_ns)
        while room > 0 and k < len(data):
            n = min(MAX_BURST, room, len(data) - k)
            resp = await bus.write(REGS["SAMPLE"], [int(b) for b in data[k:k + n]], burst=0)
            assert resp == 0, f"SAMPLE burst of {n} at byte {sent} answered {resp}, not OKAY"
            k, sent, room = k + n, sent + n, room - n
        if between is not None:
            await between()
    return sent


@cocotb.test()
async def run_test(dut):
    args = load_inputs()
    tb = StreamTB(dut, outputs=())
    bus = AXI3Master(dut)
    bus.idle()
    dut.rx.value = 1
    bus.rng.seed(0)
    await tb.reset()
    (control,), _ = await bus.read(REGS["CONTROL"])
    await bus.write(REGS["CONTROL"], [control | int(args["control"])])
    result = []
    last_pop = tb.cycle()

    async def pop_all():
        nonlocal last_pop
        for _ in range(MAX_POPS):
            (v,), _ = await bus.read(REGS["RESULT"])
            if not v >> 8 & 1:
                last_pop = tb.cycle()
                return
            result.append(v)
        raise DUTTimeout(f"RESULT still not empty after {MAX_POPS} pops")

    async def pop_due():
        if tb.cycle() - last_pop >= POP_EVERY:
            await pop_all()

    stream = args["stream"]
    arm_bytes = int(args["arm_bytes"])
    full_polls = 0
    for k, b in enumerate(stream[:arm_bytes]):          # wo_monitor: poll, write one byte
        for _ in range(MAX_POLLS):
            (st,), _ = await bus.read(REGS["STATUS"])
            if not st >> 2 & 1:
                break
            full_polls += 1
            await pop_due()
        else:
            raise DUTTimeout(f"STATUS.SAMPLE_FULL still set after {MAX_POLLS} polls "
                             f"(SAMPLE byte {k})")
        await bus.write(REGS["SAMPLE"], [int(b)])
        await pop_due()
    await write_replay(bus, tb, stream[arm_bytes:], arm_bytes, int(args["sample_fifo"]),
                       between=pop_due)
    idle = 0
    start = tb.cycle()
    while idle < 20:                          # the fabric may still be computing MRP records
        if tb.cycle() - start > MAX_DRAIN_CYCLES:
            raise DUTTimeout(f"results still coming {MAX_DRAIN_CYCLES} clock cycles "
                             "after the last SAMPLE byte")
        n = len(result)
        await pop_all()
        idle = idle + 1 if len(result) == n else 0
        await between_edges(dut, 2000, tb.period_ns)
    regs = []
    for name in ("SAMPLES_IN", "INGRESS", "RX_ERRORS", "DROPPED"):
        (v,), _ = await bus.read(REGS[name])
        regs.append(v)
    save_outputs(result=np.array(result, np.int64), regs=np.array(regs, np.int64),
                 full_polls=np.array(full_polls))
