"""cocotb helpers shared by the testbenches: clock/reset ownership and stream I/O.

Amaranth flattens a ``stream.Signature`` port ``x`` into ``x__valid``,
``x__ready`` and ``x__payload``; these helpers drive and sample such ports with
the usual valid/ready rules (a transfer happens on a rising edge where both were
high).
"""

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, RisingEdge


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


class StreamTB:
    """Owns the clock and reset; moves frames through one input and several outputs.

    ``outputs`` names the output streams to collect; their ``ready`` is held
    high (the consumers of the cores under test never stall). Both sides are
    event driven (they sleep until ``valid``/``ready`` rise instead of waking on
    every clock edge), which keeps the Python overhead to a few callbacks per
    transfer.

    ``accepted`` and ``stamps[name]`` hold the clock cycle (since start) of every
    input transfer and of every collected output word: latency measurements.
    """

    def __init__(self, dut, outputs=("o",), period_ns=10):
        self.dut = dut
        self.outputs = outputs
        self.period_ns = period_ns
        self.accepted = []
        self.stamps = {name: [] for name in outputs}
        cocotb.start_soon(Clock(dut.clk, period_ns, unit="ns", impl="gpi").start())
        self.received = {name: [] for name in outputs}
        for name in outputs:
            getattr(dut, f"{name}__ready").value = 1
            cocotb.start_soon(self._monitor(name))

    async def reset(self, cycles=2):
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, cycles)
        self.dut.rst.value = 0

    async def _monitor(self, name):
        valid = getattr(self.dut, f"{name}__valid")
        payload = getattr(self.dut, f"{name}__payload")
        store = self.received[name]
        stamps = self.stamps[name]
        clk = self.dut.clk
        while True:
            if valid.value != 1:
                await RisingEdge(valid)
            await RisingEdge(clk)
            if valid.value == 1 and self.dut.rst.value != 1:
                store.append(int(payload.value))
                stamps.append(self.cycle())

    def cycle(self):
        """Clock cycles since time 0 (rising edges are at multiples of the period)."""
        return int(round(get_sim_time("ns") / self.period_ns))

    async def send(self, words, input_name="i", gap=0, on_accept=None):
        """Send each word of ``words`` as one transfer.

        ``gap`` idle cycles are inserted after each accepted word (to emulate a
        paced sample source). ``on_accept(k)`` is awaited after word ``k`` went in.
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
            while ready.value != 1:
                await RisingEdge(ready)
                await RisingEdge(clk)
            self.accepted.append(self.cycle())
            valid.value = 0
            if gap:
                await ClockCycles(clk, gap)
            if on_accept is not None:
                await on_accept(k)

    async def drain(self, cycles):
        await ClockCycles(self.dut.clk, cycles)
