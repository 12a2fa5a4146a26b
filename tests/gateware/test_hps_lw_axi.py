"""AXI3 slave of the lightweight HPS-to-FPGA bridge (hdl/hps_lw_axi.py) in front of the
register block, driven by an AXI3 master BFM playing the HPS."""

import numpy as np
import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from hdl.bus import AXI3Signature
from hdl.hps_lw_axi import DECERR, OKAY, SLVERR, LWAXISlave
from hdl.hps_regs import CONTROL_RESET, ID_VALUE, REGS, HPSRegs
from sim.hdl_build import run_cocotb, simulator_missing
from spec.frames import PAYLOADS, Decoder, encode_record

pytestmark = pytest.mark.skipif(simulator_missing() is not None, reason=simulator_missing() or "")


class BridgeUnderTest(wiring.Component):
    """LWAXISlave + HPSRegs with the AXI, frame, sample and counter ports on the outside."""

    def __init__(self):
        self.bridge = LWAXISlave(6)
        self.regs = HPSRegs(result_depth=1024, sample_depth=16)
        members = {"axi": In(AXI3Signature())}
        for name in ("frames", "samples", "samples_in", "bad_frames", "lost_frames",
                     "framing_errors", "overruns"):
            members[name] = self.regs.signature.members[name]
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.axi, m.submodules.regs = self.bridge, self.regs
        wiring.connect(m, wiring.flipped(self.axi), self.bridge.axi)
        wiring.connect(m, self.bridge.avalon, self.regs.bus)
        wiring.connect(m, wiring.flipped(self.frames), self.regs.frames)
        wiring.connect(m, self.regs.samples, wiring.flipped(self.samples))
        for n in ("samples_in", "bad_frames", "lost_frames", "framing_errors", "overruns"):
            m.d.comb += getattr(self.regs, n).eq(getattr(self, n))
        return m


def test_axi_bridge_register_access():
    frames = [encode_record("STRIDE" if k % 2 else "MRP", k,
                            {n: 7 * k % 200 for n, _ in PAYLOADS["STRIDE" if k % 2 else "MRP"]})
              for k in range(6)]
    data = np.frombuffer(b"".join(frames), np.uint8)
    last = np.zeros(len(data), np.uint8)
    last[np.cumsum([len(f) for f in frames]) - 1] = 1
    samples = [0xA5, 0x5A, 0x10, 0x00, 0xFF]
    counters = [123456789, 0x1234, 0xFFFF, 7, 0xABCD]
    out = run_cocotb(BridgeUnderTest(), "hps_lw_axi", "sim.cocotb_hps_lw_axi",
                     dict(frames=data, last=last, samples=np.array(samples),
                          counters=np.array(counters)))
    rows = [tuple(int(x) for x in r) for r in out["reads"]]
    burst = [r for r in rows[:9]]
    assert [r[3] for r in burst] == [OKAY] * 9
    words = {4 * r[1]: r[2] for r in burst}
    assert words[REGS["ID"]] == ID_VALUE
    assert words[REGS["STATUS"]] & 1 and words[REGS["STATUS"]] >> 16 == len(data)
    first = words[REGS["RESULT"]]
    assert first & 0x1FF == 0x100 | int(data[0])                     # one byte popped, VALID
    assert words[REGS["CONTROL"]] == CONTROL_RESET
    assert words[REGS["SAMPLE"]] == 0 and words[REGS["DROPPED"]] == 0
    assert words[REGS["SAMPLES_IN"]] == counters[0]
    assert words[REGS["INGRESS"]] == counters[1] | counters[2] << 16
    assert words[REGS["RX_ERRORS"]] == counters[3] | counters[4] << 16
    assert rows[9][2] == 0x0100FF01 and rows[10][2] == 0x0100FF01   # partial write left it alone
    assert rows[11][2:] == (0, DECERR) and rows[12][2:] == (0, DECERR)
    assert list(out["write_resps"][:3]) == [OKAY, SLVERR, DECERR]
    assert all(r == OKAY for r in out["write_resps"][3:])
    # the rest of RESULT: FIXED burst of 16 pops then single reads until VALID = 0
    popped = [first] + [r[2] for r in rows[13:]]
    assert popped[-1] >> 8 & 1 == 0
    got = bytes(v & 0xFF for v in popped[:-1])
    assert got == data.tobytes()
    assert [f.payload for f in Decoder().feed(got)] == [f[5:-2] for f in frames]
    assert list(out["samples_out"]) == samples


def test_bus_signatures():
    """hdl.bus: the LW bridge's AXI3 ports, parameter checks, equality, connectability."""
    from hdl.bus import AvalonMMSignature
    axi = AXI3Signature()
    assert (axi.addr_width, axi.data_width, axi.id_width) == (21, 32, 12)
    assert len(axi.members) == 36 and axi.members["wstrb"].shape == 4
    master = {n for n, mb in axi.members.items() if mb.flow == wiring.Out}
    assert {"awid", "awaddr", "wdata", "bready", "arvalid", "rready"} <= master
    assert not {"awready", "wready", "bid", "bresp", "arready", "rdata", "rlast"} & master
    assert axi == AXI3Signature(21, 32, 12) and axi != AXI3Signature(id_width=8)
    assert AvalonMMSignature(6) == AvalonMMSignature(6, 32) != AvalonMMSignature(7)
    assert repr(AvalonMMSignature(2)).startswith("AvalonMMSignature(")
    assert set(AvalonMMSignature(6).members) == {"address", "read", "write", "writedata",
                                                 "readdata"}
    for bad, err in ((lambda: AvalonMMSignature(-1), TypeError),
                     (lambda: AvalonMMSignature("6"), TypeError),
                     (lambda: AvalonMMSignature(6, 12), ValueError),
                     (lambda: AXI3Signature(addr_width=0), ValueError),
                     (lambda: AXI3Signature(id_width=1.5), TypeError),
                     (lambda: AXI3Signature(data_width=24), ValueError)):
        with pytest.raises(err):
            bad()
    # a master connects to a slave of the same signature only
    wiring.connect(Module(), AvalonMMSignature(6).create(), AvalonMMSignature(6).flip().create())
    wiring.connect(Module(), axi.create(), axi.flip().create())
    with pytest.raises(wiring.ConnectionError):
        wiring.connect(Module(), AvalonMMSignature(5).create(),
                       AvalonMMSignature(6).flip().create())
