"""AXI3 slave for the Cyclone V lightweight HPS-to-FPGA bridge -> Avalon-MM register bus.

The HPS masters the bridge through the hard ``cyclonev_hps_interface_hps2fpga_light_weight``
interface (AXI3, 32-bit data, 21-bit byte address = the 2 MB window at 0xFF200000,
12-bit IDs: :class:`hdl.bus.AXI3Signature` with its defaults); :mod:`boards.de10_nano`
instantiates that primitive and names its ports after the members of ``axi``.

Behaviour: one transaction at a time (address ``ready``s are low while busy, as
AXI allows); writes take priority over reads when both are pending. INCR bursts
advance the word address per beat, FIXED bursts repeat it (WRAP is treated as
INCR; the ARM's ``/dev/mem`` word accesses are single beats). Each read beat
issues exactly one Avalon read (so reading the RESULT register in a burst pops
one byte per beat). Responses: OKAY; SLVERR for a write beat whose ``wstrb`` is
not 0xF (registers are written whole, nothing is written); DECERR for an
address beyond the register block (reads return 0, writes are ignored).

Avalon side (:class:`hdl.bus.AvalonMMSignature`): word ``address``, ``read``/``write``
strobes for one cycle, ``readdata`` valid the cycle after ``read`` (fixed latency 1, as
:class:`hdl.hps_regs.HPSRegs`).
"""

from amaranth.hdl import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hdl.bus import AvalonMMSignature, AXI3Signature

__all__ = ["LWAXISlave", "OKAY", "SLVERR", "DECERR"]

OKAY, SLVERR, DECERR = 0, 2, 3


class LWAXISlave(wiring.Component):
    """Bridges AXI3 transactions to single-cycle Avalon-MM register accesses.

    Parameters
    ----------
    addr_width : int
        Avalon word-address width; bytes ``0 .. 4 * 2**addr_width - 1`` of the
        window are decoded, the rest answer DECERR.

    Attributes
    ----------
    axi : In(AXI3Signature())
        AXI3 slave port of the lightweight bridge (21-bit byte address, 32-bit data,
        12-bit IDs).
    avalon : Out(AvalonMMSignature(addr_width))
        Avalon-MM master port to the register block.
    """

    def __init__(self, addr_width=6):
        if not 1 <= addr_width <= 19:
            raise ValueError(f"addr_width must be 1..19, not {addr_width}")
        self.addr_width = addr_width
        super().__init__({"axi": In(AXI3Signature()), "avalon": Out(AvalonMMSignature(addr_width))})

    def elaborate(self, platform):
        m = Module()
        axi, av = self.axi, self.avalon
        # byte address of the current beat: bits 2..11 (and up to the decoded ones) count
        # the beats; bits 12..20 cannot change within a burst (an AXI burst never crosses
        # a 4 KB boundary), so of the bits above only "any set" is kept, for the range check
        width = max(12, 2 + self.addr_width)
        addr = Signal(width)
        high = Signal()
        beats = Signal(4)          # beats left after the current one
        incr = Signal()
        tid = Signal(12)
        resp = Signal(2)
        data = Signal(32, reset_less=True)   # valid only with rvalid; its clear is free
        in_range = Signal()
        # rdata: loaded from the Avalon bus, or cleared (DECERR) by the flip-flops' own sync
        # clear (free: ``data`` has no reset, which would take that input) instead of a mux
        load_data, clear_data = Signal(), Signal()
        with m.If(load_data | clear_data):
            m.d.sync += data.eq(Mux(clear_data, 0, av.readdata))
        m.d.comb += [in_range.eq(~high & (addr[2 + self.addr_width:] == 0)),
                     av.address.eq(addr[2:2 + self.addr_width]),
                     av.writedata.eq(axi.wdata),
                     axi.bid.eq(tid), axi.bresp.eq(resp),
                     axi.rid.eq(tid), axi.rresp.eq(resp), axi.rdata.eq(data),
                     axi.rlast.eq(beats == 0)]

        def next_beat():
            with m.If(incr):
                m.d.sync += addr[2:].eq(addr[2:] + 1)

        with m.FSM(name="fsm"):
            with m.State("IDLE"):
                with m.If(axi.awvalid):
                    m.d.comb += axi.awready.eq(1)
                    m.d.sync += [addr.eq(axi.awaddr[:width]), high.eq(axi.awaddr[width:] != 0),
                                 beats.eq(axi.awlen), tid.eq(axi.awid),
                                 incr.eq(axi.awburst != 0), resp.eq(OKAY)]
                    m.next = "WRITE_BEATS"
                with m.Elif(axi.arvalid):
                    m.d.comb += axi.arready.eq(1)
                    m.d.sync += [addr.eq(axi.araddr[:width]), high.eq(axi.araddr[width:] != 0),
                                 beats.eq(axi.arlen), tid.eq(axi.arid),
                                 incr.eq(axi.arburst != 0), resp.eq(OKAY)]
                    m.next = "READ_REGISTER"
            with m.State("WRITE_BEATS"):
                m.d.comb += axi.wready.eq(1)
                with m.If(axi.wvalid):
                    with m.If(~in_range):
                        m.d.sync += resp.eq(DECERR)
                    with m.Elif(axi.wstrb != 0xF):
                        with m.If(resp == OKAY):
                            m.d.sync += resp.eq(SLVERR)
                    with m.Else():
                        m.d.comb += av.write.eq(1)
                    next_beat()
                    m.d.sync += beats.eq(beats - 1)
                    with m.If(axi.wlast):
                        m.next = "WRITE_RESPONSE"
            with m.State("WRITE_RESPONSE"):
                m.d.comb += axi.bvalid.eq(1)
                with m.If(axi.bready):
                    m.next = "IDLE"
            with m.State("READ_REGISTER"):
                with m.If(in_range):
                    m.d.comb += av.read.eq(1)
                    m.d.sync += resp.eq(OKAY)
                    m.next = "READ_LATENCY"
                with m.Else():
                    m.d.comb += clear_data.eq(1)
                    m.d.sync += resp.eq(DECERR)
                    m.next = "READ_RESPONSE"
            with m.State("READ_LATENCY"):
                m.d.comb += load_data.eq(1)
                m.next = "READ_RESPONSE"
            with m.State("READ_RESPONSE"):
                m.d.comb += axi.rvalid.eq(1)
                with m.If(axi.rready):
                    with m.If(beats == 0):
                        m.next = "IDLE"
                    with m.Else():
                        next_beat()
                        m.d.sync += beats.eq(beats - 1)
                        m.next = "READ_REGISTER"
        return m
