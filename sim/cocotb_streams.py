"""cocotb helpers shared by the testbenches: clock/reset ownership, stream I/O, timeouts.

Amaranth flattens a ``stream.Signature`` port ``x`` into ``x__valid``,
``x__ready`` and ``x__payload``; these helpers drive and sample such ports with
the usual valid/ready rules (a transfer happens on a rising edge where both were
high).

Backpressure: an output's ``ready`` is held high unless :class:`StreamTB` is given a
:class:`golden.stalls.ReadyPattern` for it (stall intervals in clock cycles; the
pytest side builds it, e.g. with :func:`golden.stalls.random_stalls`, passes it in
the inputs with :meth:`~golden.stalls.ReadyPattern.as_array` and predicts the
outcome from the same pattern).

Timeouts: every wait for the DUT has a budget in clock cycles (:data:`TIMEOUT_CYCLES` by
default) and raises :class:`DUTTimeout` naming what it waited for, so a silent DUT fails
the test instead of hanging the simulation.
"""

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, RisingEdge, SimTimeoutError, Timer, with_timeout

from golden.stalls import ReadyPattern

#: default budget, in clock cycles, of one wait for the DUT (a word taken, a record, a
#: bus handshake): far above the longest legitimate wait of the cores (an EEG trigger
#: computation, ~23 000 cycles for 8 channels)
TIMEOUT_CYCLES = 200_000


class DUTTimeout(TimeoutError):
    """The DUT did not do what a testbench waited for within its budget of clock cycles."""


def load_inputs():
    """The ``.npz`` inputs the pytest side saved for this run."""
    with np.load(os.environ["TB_IN"]) as f:
        return {k: f[k] for k in f.files}


def save_outputs(**arrays):
    np.savez(os.environ["TB_OUT"], **arrays)


def report_progress(done, every=2000):
    """Write ``done`` to the ``TB_PROGRESS`` file every ``every`` items (for progress bars)."""
    path = os.environ.get("TB_PROGRESS")
    if path and done % every == 0:
        with open(path, "w") as f:
            f.write(str(done))


def pack(values, width):
    """Pack a sequence of (possibly signed) integers into one little-endian word."""
    word, mask = 0, (1 << width) - 1
    for k, v in enumerate(values):
        word |= (int(v) & mask) << (k * width)
    return word


def stall_patterns(args, outputs=("o",)):
    """``{name: ReadyPattern}`` from the optional inputs ``stall_<name>`` ((k, 2) arrays)."""
    return {name: ReadyPattern.from_array(args[f"stall_{name}"])
            for name in outputs if f"stall_{name}" in args}


async def within(awaitable, cycles, period_ns, what):
    """Await ``awaitable`` (a trigger or coroutine) for at most ``cycles`` clock cycles.

    Raises :class:`DUTTimeout` ``"<what>: nothing after <cycles> clock cycles"``.
    """
    try:
        return await with_timeout(awaitable, cycles * period_ns, "ns")
    except SimTimeoutError:
        raise DUTTimeout(f"{what}: nothing after {cycles} clock cycles") from None


async def wait_edges_until(clk, predicate, what, cycles=TIMEOUT_CYCLES, every=1):
    """Wait on rising edges of ``clk`` (``every`` at a time) until ``predicate()`` is true.

    Raises :class:`DUTTimeout` if it is still false after about ``cycles`` clock cycles.
    """
    waited = 0
    while not predicate():
        if waited >= cycles:
            raise DUTTimeout(f"{what}: not after {waited} clock cycles")
        await ClockCycles(clk, every)
        waited += every


class StreamTB:
    """Owns the clock and reset; moves frames through one input and several outputs.

    ``outputs`` names the output streams to collect. Their ``ready`` is held high
    (the consumers of the cores never stall) unless ``stalls`` maps the output's name
    to a :class:`golden.stalls.ReadyPattern`: ``ready`` is then low on the
    edges of its stall intervals (driven half a clock period ahead) and high
    elsewhere. Both sides are event driven (they sleep until ``valid``/``ready``
    rise, or to the end of a stall, instead of waking on every clock edge), which
    keeps the Python overhead to a few callbacks per transfer.

    ``accepted`` and ``stamps[name]`` hold the clock cycle (edge number since time 0)
    of every input transfer and of every collected output word: latency
    measurements, and what :mod:`golden.backpressure` predicts.

    ``timeout_cycles`` bounds every wait of :meth:`send` and :meth:`wait_until`
    (:class:`DUTTimeout`).
    """

    def __init__(self, dut, outputs=("o",), period_ns=10, stalls=None,
                 timeout_cycles=TIMEOUT_CYCLES):
        self.dut = dut
        self.outputs = outputs
        self.period_ns = period_ns
        self.timeout_cycles = timeout_cycles
        self.stalls = {name: p for name, p in (stalls or {}).items() if p}
        unknown = set(self.stalls) - set(outputs)
        if unknown:
            raise ValueError(f"stall patterns for outputs not collected: {sorted(unknown)}")
        self.accepted = []
        self.stamps = {name: [] for name in outputs}
        cocotb.start_soon(Clock(dut.clk, period_ns, unit="ns", impl="gpi").start())
        self.received = {name: [] for name in outputs}
        for name in outputs:
            getattr(dut, f"{name}__ready").value = 1
            cocotb.start_soon(self._monitor(name))
            if name in self.stalls:
                cocotb.start_soon(self._drive_ready(name, self.stalls[name]))

    async def reset(self, cycles=2):
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, cycles)
        self.dut.rst.value = 0

    async def _until_ns(self, t_ns):
        dt = t_ns - get_sim_time("ns")
        if dt > 0:
            await Timer(dt, "ns")

    async def _drive_ready(self, name, pattern):
        """``ready`` low on the edges of each stall: set half a period before its first
        edge, released half a period before the first edge after it."""
        ready = getattr(self.dut, f"{name}__ready")
        half = self.period_ns / 2
        for start, end in pattern.intervals:
            await self._until_ns(start * self.period_ns - half)
            ready.value = 0
            await self._until_ns(end * self.period_ns - half)
            ready.value = 1

    async def _monitor(self, name):
        valid = getattr(self.dut, f"{name}__valid")
        payload = getattr(self.dut, f"{name}__payload")
        store = self.received[name]
        stamps = self.stamps[name]
        pattern = self.stalls.get(name)
        clk, rst = self.dut.clk, self.dut.rst
        while True:
            if valid.value != 1:
                await RisingEdge(valid)
            await RisingEdge(clk)
            c = self.cycle()
            # stalled: no transfer until the first ready edge (valid must stay high)
            while pattern is not None and not pattern.ready(c) and valid.value == 1:
                await ClockCycles(clk, pattern.next_ready(c) - c)
                c = self.cycle()
            if valid.value == 1 and rst.value != 1:
                store.append(int(payload.value))
                stamps.append(c)

    def cycle(self):
        """Clock cycles since time 0 (rising edges are at multiples of the period)."""
        return int(round(get_sim_time("ns") / self.period_ns))

    def stalls_end(self):
        """First edge after the last stall of any output (0 without stalls)."""
        return max((p.end for p in self.stalls.values()), default=0)

    async def send(self, words, input_name="i", gap=0, on_accept=None):
        """Send each word of ``words`` as one transfer.

        ``gap`` idle cycles are inserted after each accepted word (to emulate a
        paced sample source). ``on_accept(k)`` is awaited after word ``k`` went in.
        A word the DUT does not take within ``timeout_cycles`` raises :class:`DUTTimeout`.
        """
        dut = self.dut
        valid = getattr(dut, f"{input_name}__valid")
        ready = getattr(dut, f"{input_name}__ready")
        payload = getattr(dut, f"{input_name}__payload")
        clk = dut.clk
        for k, word in enumerate(words):
            payload.value = int(word)
            valid.value = 1
            await RisingEdge(clk)
            if ready.value != 1:
                await within(self._until_ready(ready, clk), self.timeout_cycles,
                             self.period_ns, f"{input_name}: word {k} not taken (ready low)")
            self.accepted.append(self.cycle())
            valid.value = 0
            if gap:
                await ClockCycles(clk, gap)
            if on_accept is not None:
                await on_accept(k)

    @staticmethod
    async def _until_ready(ready, clk):
        while ready.value != 1:
            await RisingEdge(ready)
            await RisingEdge(clk)

    async def wait_until(self, predicate, what, every=1):
        """Wait on clock edges until ``predicate()``; :class:`DUTTimeout` after
        ``timeout_cycles``."""
        await wait_edges_until(self.dut.clk, predicate, what, self.timeout_cycles, every)

    async def drain(self, cycles):
        await ClockCycles(self.dut.clk, cycles)
