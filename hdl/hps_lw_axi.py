"""AXI3 slave for the Cyclone V lightweight HPS-to-FPGA bridge -> Avalon-MM register bus.

The HPS masters the bridge through the hard ``cyclonev_hps_interface_hps2fpga_light_weight``
interface (AXI3, 32-bit data, 21-bit byte address = the 2 MB window at 0xFF200000,
12-bit IDs); :mod:`boards.de10_nano` instantiates that primitive and wires its
ports to this component, whose port names are the primitive's.

Behaviour: one transaction at a time (address ``ready``s are low while busy, as
AXI allows); writes take priority over reads when both are pending. INCR bursts
advance the word address per beat, FIXED bursts repeat it (WRAP is treated as
INCR; the ARM's ``/dev/mem`` word accesses are single beats). Each read beat
issues exactly one Avalon read (so reading the RESULT register in a burst pops
one byte per beat). Responses: OKAY; SLVERR for a write beat whose ``wstrb`` is
not 0xF (registers are written whole, nothing is written); DECERR for an
address beyond the register block (reads return 0, writes are ignored).

Avalon side: word ``address``, ``read``/``write`` strobes for one cycle,
``readdata`` valid the cycle after ``read`` (fixed latency 1, as
:class:`hdl.hps_regs.HPSRegs`).
"""

from amaranth.hdl import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["LWAXISlave", "lw_axi_ports", "OKAY", "SLVERR", "DECERR"]

OKAY, SLVERR, DECERR = 0, 2, 3


def lw_axi_ports():
    """Port name -> (direction seen by the slave, width) of the LW bridge primitive."""
    return {
        "awid": ("i", 12), "awaddr": ("i", 21), "awlen": ("i", 4), "awsize": ("i", 3),
        "awburst": ("i", 2), "awlock": ("i", 2), "awcache": ("i", 4), "awprot": ("i", 3),
        "awvalid": ("i", 1), "awready": ("o", 1),
        "wid": ("i", 12), "wdata": ("i", 32), "wstrb": ("i", 4), "wlast": ("i", 1),
        "wvalid": ("i", 1), "wready": ("o", 1),
        "bid": ("o", 12), "bresp": ("o", 2), "bvalid": ("o", 1), "bready": ("i", 1),
        "arid": ("i", 12), "araddr": ("i", 21), "arlen": ("i", 4), "arsize": ("i", 3),
        "arburst": ("i", 2), "arlock": ("i", 2), "arcache": ("i", 4), "arprot": ("i", 3),
        "arvalid": ("i", 1), "arready": ("o", 1),
        "rid": ("o", 12), "rdata": ("o", 32), "rresp": ("o", 2), "rlast": ("o", 1),
        "rvalid": ("o", 1), "rready": ("i", 1),
    }


class LWAXISlave(wiring.Component):
    """Bridges AXI3 transactions to single-cycle Avalon-MM register accesses.

    Parameters
    ----------
    addr_width : int
        Avalon word-address width; bytes ``0 .. 4 * 2**addr_width - 1`` of the
        window are decoded, the rest answer DECERR.

    Attributes
    ----------
    AXI3 slave ports named as :func:`lw_axi_ports`; Avalon-MM master ports
    ``address``, ``read``, ``write``, ``writedata``, ``readdata``.
    """

    def __init__(self, addr_width=6):
        if not 1 <= addr_width <= 19:
            raise ValueError(f"addr_width must be 1..19, not {addr_width}")
        self.addr_width = addr_width
        members = {n: (In(w) if d == "i" else Out(w)) for n, (d, w) in lw_axi_ports().items()}
        members.update({"address": Out(addr_width), "read": Out(1), "write": Out(1),
                        "writedata": Out(32), "readdata": In(32)})
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        addr = Signal(21)          # byte address of the current beat
        beats = Signal(4)          # beats left after the current one
        incr = Signal()
        tid = Signal(12)
        resp = Signal(2)
        data = Signal(32)
        in_range = Signal()
        m.d.comb += [in_range.eq(addr[2 + self.addr_width:] == 0),
                     self.address.eq(addr[2:2 + self.addr_width]),
                     self.writedata.eq(self.wdata),
                     self.bid.eq(tid), self.bresp.eq(resp),
                     self.rid.eq(tid), self.rresp.eq(resp), self.rdata.eq(data),
                     self.rlast.eq(beats == 0)]

        def next_beat():
            with m.If(incr):
                m.d.sync += addr.eq(addr + 4)

        with m.FSM(name="fsm"):
            with m.State("IDLE"):
                with m.If(self.awvalid):
                    m.d.comb += self.awready.eq(1)
                    m.d.sync += [addr.eq(self.awaddr), beats.eq(self.awlen), tid.eq(self.awid),
                                 incr.eq(self.awburst != 0), resp.eq(OKAY)]
                    m.next = "WRITE_BEATS"
                with m.Elif(self.arvalid):
                    m.d.comb += self.arready.eq(1)
                    m.d.sync += [addr.eq(self.araddr), beats.eq(self.arlen), tid.eq(self.arid),
                                 incr.eq(self.arburst != 0), resp.eq(OKAY)]
                    m.next = "READ_REGISTER"
            with m.State("WRITE_BEATS"):
                m.d.comb += self.wready.eq(1)
                with m.If(self.wvalid):
                    with m.If(~in_range):
                        m.d.sync += resp.eq(DECERR)
                    with m.Elif(self.wstrb != 0xF):
                        with m.If(resp == OKAY):
                            m.d.sync += resp.eq(SLVERR)
                    with m.Else():
                        m.d.comb += self.write.eq(1)
                    next_beat()
                    m.d.sync += beats.eq(beats - 1)
                    with m.If(self.wlast):
                        m.next = "WRITE_RESPONSE"
            with m.State("WRITE_RESPONSE"):
                m.d.comb += self.bvalid.eq(1)
                with m.If(self.bready):
                    m.next = "IDLE"
            with m.State("READ_REGISTER"):
                with m.If(in_range):
                    m.d.comb += self.read.eq(1)
                    m.d.sync += resp.eq(OKAY)
                    m.next = "READ_LATENCY"
                with m.Else():
                    m.d.sync += [data.eq(0), resp.eq(DECERR)]
                    m.next = "READ_RESPONSE"
            with m.State("READ_LATENCY"):
                m.d.sync += data.eq(self.readdata)
                m.next = "READ_RESPONSE"
            with m.State("READ_RESPONSE"):
                m.d.comb += self.rvalid.eq(1)
                with m.If(self.rready):
                    with m.If(beats == 0):
                        m.next = "IDLE"
                    with m.Else():
                        next_beat()
                        m.d.sync += beats.eq(beats - 1)
                        m.next = "READ_REGISTER"
        return m
