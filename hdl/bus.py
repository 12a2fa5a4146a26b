"""Bus signatures of the HPS register path: Avalon-MM and AXI3 (the Cyclone V lightweight bridge),
and :class:`BufferedFIFO`, the byte FIFO of the ingress and register paths.

Both are :class:`amaranth.lib.wiring.Signature` subclasses described from the
**master's** (initiator's) point of view, as amaranth-soc does: a member the master
drives is ``Out``, a member the slave drives is ``In``. A slave therefore declares
its port as ``In(AvalonMMSignature(...))`` / ``In(AXI3Signature())`` and a master as
``Out(...)``; :func:`amaranth.lib.wiring.connect` joins the two.

::

    bridge = LWAXISlave(6)      # axi: In(AXI3Signature()), avalon: Out(AvalonMMSignature(6))
    regs = HPSRegs()            # bus: In(AvalonMMSignature(6))
    wiring.connect(m, bridge.avalon, regs.bus)

The member names are the bus's own signal names (``awid``, ``awaddr``, ...,
``address``, ``readdata``): a component port ``axi: In(AXI3Signature())`` appears in
the generated Verilog as ``axi__awid`` etc., and :mod:`boards.de10_nano` names the
ports of the hard HPS primitive after the members (``.awid(...)``).
"""

from amaranth.hdl import *
from amaranth.lib import wiring
from amaranth.lib.fifo import FIFOInterface
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

__all__ = ["AvalonMMSignature", "AXI3Signature", "BufferedFIFO"]

_POW2_WIDTHS = (8, 16, 32, 64, 128, 256, 512, 1024)


def _check_data_width(data_width):
    if data_width not in _POW2_WIDTHS:
        raise ValueError(f"Data width must be one of {', '.join(map(str, _POW2_WIDTHS))}, "
                         f"not {data_width!r}")


class _BusSignature(wiring.Signature):
    """What both bus signatures share: widths as read-only properties, equality by widths."""

    #: names of the width parameters, in constructor order (set by each subclass)
    _WIDTHS = ("addr_width", "data_width")

    def __init__(self, members, **widths):
        self._widths = tuple(widths[name] for name in self._WIDTHS)
        super().__init__(members)

    @property
    def addr_width(self):
        return self._widths[0]

    @property
    def data_width(self):
        return self._widths[1]

    def __eq__(self, other):
        """Two signatures of the same bus are equal if all their widths are equal."""
        return type(other) is type(self) and other._widths == self._widths

    def __hash__(self):
        return hash((type(self), self._widths))

    def __repr__(self):
        return f"{type(self).__name__}({self.members!r})"


class AvalonMMSignature(_BusSignature):
    """Avalon-MM interface signature: the subset used by the register block.

    Word addressing, fixed read latency 1 (``readdata`` is valid the cycle after
    ``read``), no ``waitrequest``, no ``byteenable`` (registers are written whole),
    no bursts.

    Parameters
    ----------
    addr_width : int
        Width of the word ``address`` (>= 0).
    data_width : int
        Width of ``writedata`` and ``readdata``: 8, 16, 32, ... 1024.

    Raises
    ------
    TypeError
        If ``addr_width`` is not a non-negative integer.
    ValueError
        If ``data_width`` is not a power of 2 from 8 to 1024.

    Attributes
    ----------
    address : Out(addr_width)
        Word address; driven by the master (slave: input).
    read : Out(1)
        Read strobe, one cycle per access; driven by the master (slave: input).
    write : Out(1)
        Write strobe, one cycle per access; driven by the master (slave: input).
    writedata : Out(data_width)
        Data written with ``write``; driven by the master (slave: input).
    readdata : In(data_width)
        Data read, the cycle after ``read``; driven by the slave (slave: output).
    """

    def __init__(self, addr_width, data_width=32):
        if not isinstance(addr_width, int) or isinstance(addr_width, bool) or addr_width < 0:
            raise TypeError(f"Address width must be a non-negative integer, not {addr_width!r}")
        _check_data_width(data_width)
        super().__init__({
            "address": Out(addr_width),
            "read": Out(1),
            "write": Out(1),
            "writedata": Out(data_width),
            "readdata": In(data_width),
        }, addr_width=addr_width, data_width=data_width)


class AXI3Signature(_BusSignature):
    """AXI3 interface signature, as the Cyclone V lightweight HPS-to-FPGA bridge presents it.

    The five channels (write address ``aw*``, write data ``w*``, write response
    ``b*``, read address ``ar*``, read data ``r*``) with the AXI3 widths of
    ``len`` (4), ``size`` (3), ``burst`` (2), ``lock`` (2), ``cache`` (4), ``prot`` (3)
    and ``resp`` (2), and ``wid`` (AXI3 only). No ``qos``/``region``/``user``
    signals. The defaults are those of
    ``cyclonev_hps_interface_hps2fpga_light_weight`` (2 MB byte-address window,
    32-bit data, 12-bit IDs).

    Parameters
    ----------
    addr_width : int
        Width of ``awaddr``/``araddr`` (byte address), 1 to 64.
    data_width : int
        Width of ``wdata``/``rdata``: 8, 16, 32, ... 1024; ``wstrb`` has
        ``data_width // 8`` bits.
    id_width : int
        Width of ``awid``, ``wid``, ``bid``, ``arid``, ``rid`` (>= 1).

    Raises
    ------
    TypeError
        If ``addr_width`` or ``id_width`` is not an integer.
    ValueError
        If a width is out of range.

    Attributes
    ----------
    awid, awaddr, awlen, awsize, awburst, awlock, awcache, awprot, awvalid : Out
        Write address channel; driven by the master (slave: inputs).
    awready : In(1)
        Driven by the slave (slave: output).
    wid, wdata, wstrb, wlast, wvalid : Out
        Write data channel; driven by the master (slave: inputs).
    wready : In(1)
        Driven by the slave (slave: output).
    bid, bresp, bvalid : In
        Write response channel; driven by the slave (slave: outputs).
    bready : Out(1)
        Driven by the master (slave: input).
    arid, araddr, arlen, arsize, arburst, arlock, arcache, arprot, arvalid : Out
        Read address channel; driven by the master (slave: inputs).
    arready : In(1)
        Driven by the slave (slave: output).
    rid, rdata, rresp, rlast, rvalid : In
        Read data channel; driven by the slave (slave: outputs).
    rready : Out(1)
        Driven by the master (slave: input).
    """

    _WIDTHS = ("addr_width", "data_width", "id_width")

    def __init__(self, addr_width=21, data_width=32, id_width=12):
        for name, value in (("Address", addr_width), ("ID", id_width)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} width must be an integer, not {value!r}")
        if not 1 <= addr_width <= 64:
            raise ValueError(f"Address width must be 1 to 64, not {addr_width}")
        if id_width < 1:
            raise ValueError(f"ID width must be at least 1, not {id_width}")
        _check_data_width(data_width)

        def address_channel(p):
            return {
                f"{p}id": Out(id_width), f"{p}addr": Out(addr_width), f"{p}len": Out(4),
                f"{p}size": Out(3), f"{p}burst": Out(2), f"{p}lock": Out(2),
                f"{p}cache": Out(4), f"{p}prot": Out(3), f"{p}valid": Out(1), f"{p}ready": In(1),
            }

        super().__init__({
            **address_channel("aw"),
            "wid": Out(id_width), "wdata": Out(data_width), "wstrb": Out(data_width // 8),
            "wlast": Out(1), "wvalid": Out(1), "wready": In(1),
            "bid": In(id_width), "bresp": In(2), "bvalid": In(1), "bready": Out(1),
            **address_channel("ar"),
            "rid": In(id_width), "rdata": In(data_width), "rresp": In(2), "rlast": In(1),
            "rvalid": In(1), "rready": Out(1),
        }, addr_width=addr_width, data_width=data_width, id_width=id_width)

    @property
    def id_width(self):
        return self._widths[2]


class BufferedFIFO(Elaboratable, FIFOInterface):
    """:class:`amaranth.lib.fifo.SyncFIFOBuffered`, cycle for cycle, on a power-of-2 RAM.

    The interface (``w_data``/``w_en``/``w_rdy``, ``r_data``/``r_en``/``r_rdy``, ``level``,
    ``w_stream``/``r_stream``) and every output, cycle by cycle, are those of
    ``SyncFIFOBuffered(width=width, depth=depth)``: ``depth - 1`` entries in a block RAM
    with a synchronous read port plus one in the output register. Only the storage
    differs: the RAM has ``2**ceil(log2(depth - 1))`` rows, so the read and write
    pointers wrap by themselves (no compare-and-reset) and the fill level is their
    difference (pointers one bit wider than the address); and a small FIFO
    (``depth`` 64: 64 x 8 bits) still reaches the efficiency Yosys asks of an M10K,
    where the 63 rows of ``SyncFIFOBuffered`` became 63 x 8 flip-flops and their muxes.

    Parameters
    ----------
    width : int
        Bits per entry (>= 1).
    depth : int
        Entries (>= 2).

    Raises
    ------
    TypeError
        ``width`` or ``depth`` not an integer.
    ValueError
        ``width`` < 1 or ``depth`` < 2.
    """

    def __init__(self, *, width, depth):
        for name, value, lo in (("width", width, 1), ("depth", depth, 2)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an integer >= {lo}, not {value!r}")
            if value < lo:
                raise ValueError(f"{name} must be >= {lo}, not {value!r}")
        super().__init__(width=width, depth=depth)
        self.level = Signal(range(depth + 1))

    def elaborate(self, platform):
        m = Module()
        inner_depth = self.depth - 1
        abits = max(1, (inner_depth - 1).bit_length())
        produce = Signal(abits + 1)          # free-running: row = low abits bits
        consume = Signal(abits + 1)
        inner_level = Signal(abits + 1)
        m.d.comb += [inner_level.eq(produce - consume),
                     self.w_rdy.eq(inner_level != inner_depth),
                     self.w_level.eq(self.level), self.r_level.eq(self.level),
                     self.level.eq(inner_level + self.r_rdy)]
        inner_r_rdy = produce != consume
        do_write = self.w_rdy & self.w_en
        do_inner_read = inner_r_rdy & (~self.r_rdy | self.r_en)

        m.submodules.storage = storage = Memory(shape=self.width, depth=1 << abits, init=[])
        w_port = storage.write_port()
        r_port = storage.read_port(domain="sync")
        m.d.comb += [w_port.addr.eq(produce[:abits]), w_port.data.eq(self.w_data),
                     w_port.en.eq(do_write),
                     r_port.addr.eq(consume[:abits]), r_port.en.eq(do_inner_read),
                     self.r_data.eq(r_port.data)]
        with m.If(do_write):
            m.d.sync += produce.eq(produce + 1)
        with m.If(do_inner_read):
            m.d.sync += [consume.eq(consume + 1), self.r_rdy.eq(1)]
        with m.Elif(self.r_en):
            m.d.sync += self.r_rdy.eq(0)
        return m
