"""Avalon-MM slave register block behind the HPS-to-FPGA lightweight bridge (base 0xFF200000).

Register map (32-bit registers; byte offsets; ``boards/arm/wo_regs.h`` mirrors it and
``tests/gateware/test_hps_regs.py`` checks the two agree):

======  =========  ====  =============================================================
offset  name       acc.  content
======  =========  ====  =============================================================
0x00    ID         RO    0x574F5452 ("WOTR")
0x04    STATUS     RO    bit 0 result FIFO not empty; bit 1 result overflow (sticky:
                         frames were dropped whole); bit 2 sample FIFO full;
                         bits 31:16 result FIFO level in bytes
0x08    RESULT     RO    pops one byte of the result frame stream: bits 7:0 byte,
                         bit 8 VALID (0 = FIFO empty, nothing popped, word reads 0), bit 9 LAST
0x0C    CONTROL    RW    bit 0 SOURCE (0 sensor UART, 1 HPS replay); bit 1 write 1 to
                         clear the overflow flag (reads 0); bits 15:8 PRESENT;
                         bits 17:16 STRIDE_REF; bits 31:24 EEG_ENABLE.
                         Reset value 0x7F00FF00: all muscles, the 7 EEG sites (slot 7 off), LG, sensor UART
0x10    SAMPLE     WO    bits 7:0: one byte of a SAMPLES frame into the replay path
                         (ignored while STATUS bit 2 says the sample FIFO is full:
                         the ARM polls STATUS before writing)
0x14    DROPPED    RO    result frames dropped for lack of FIFO space (saturates at
                         0xFFFFFFFF, never wraps)
0x18    SAMPLES_IN RO    SAMPLES frames accepted by the ingress parser (saturates)
0x1C    INGRESS    RO    bits 15:0 SAMPLES frames rejected (type, length, CRC);
                         bits 31:16 SAMPLES frames lost by sequence number (saturate)
0x20    RX_ERRORS  RO    sensor UART: bits 15:0 framing errors; bits 31:16 bytes
                         lost to overrun (saturate)
======  =========  ====  =============================================================

Bus: Avalon-MM slave, word addressing (``address`` = byte offset / 4), fixed read
latency 1 (``readdata`` valid the cycle after ``read``), no wait states. A frame
of the result stream enters the FIFO only if the whole frame fits (space >= 262
bytes, the largest frame, when its first byte arrives); otherwise all its bytes
are dropped, ``DROPPED`` counts it and the overflow flag is set -- the ARM never
sees a partial frame from the fabric.
"""

from amaranth.hdl import *
from amaranth.lib import fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.frame_tx import byte_layout

__all__ = ["HPSRegs", "REGS", "ID_VALUE", "CONTROL_RESET", "MAX_FRAME"]

REGS = {"ID": 0x00, "STATUS": 0x04, "RESULT": 0x08, "CONTROL": 0x0C, "SAMPLE": 0x10, "DROPPED": 0x14,
        "SAMPLES_IN": 0x18, "INGRESS": 0x1C, "RX_ERRORS": 0x20}
ID_VALUE = 0x574F5452
CONTROL_RESET = 0x7F00FF00
MAX_FRAME = 7 + 255


class HPSRegs(wiring.Component):
    """Register block, result FIFO and replay byte FIFO.

    Parameters
    ----------
    result_depth : int
        Result FIFO depth in bytes (>= 2 x 262).
    sample_depth : int
        Replay byte FIFO depth.

    Attributes
    ----------
    address : In(6), read : In(1), write : In(1), writedata : In(32), readdata : Out(32)
        Avalon-MM slave (word address).
    frames : In(stream.Signature(byte_layout()))
        Result frame bytes (``ready`` is always 1: full frames are dropped, not stalled).
    samples : Out(stream.Signature(8))
        Bytes written to SAMPLE, for the SAMPLES frame parser.
    source, present, stride_ref, eeg_enable : Out
        CONTROL fields.
    samples_in : In(32); bad_frames, lost_frames, framing_errors, overruns : In(16)
        Ingress counters (:class:`hdl.sample_ingress.SampleIngress`), shown read-only.
    """

    def __init__(self, result_depth=2048, sample_depth=64):
        if result_depth < 2 * MAX_FRAME:
            raise ValueError(f"result_depth must be at least {2 * MAX_FRAME}")
        self.result_depth, self.sample_depth = result_depth, sample_depth
        super().__init__({
            "address": In(6), "read": In(1), "write": In(1), "writedata": In(32), "readdata": Out(32),
            "frames": In(stream.Signature(byte_layout())),
            "samples": Out(stream.Signature(8)),
            "source": Out(1), "present": Out(8), "stride_ref": Out(2), "eeg_enable": Out(8),
            "samples_in": In(32), "bad_frames": In(16), "lost_frames": In(16),
            "framing_errors": In(16), "overruns": In(16),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.rfifo = rfifo = fifo.SyncFIFOBuffered(width=9, depth=self.result_depth)
        m.submodules.sfifo = sfifo = fifo.SyncFIFOBuffered(width=8, depth=self.sample_depth)

        control = Signal(32, init=CONTROL_RESET)
        overflow = Signal()
        dropped = Signal(32)
        in_frame = Signal()          # inside a frame that is being kept
        dropping = Signal()          # inside a frame that is being dropped

        m.d.comb += [self.source.eq(control[0]), self.present.eq(control[8:16]),
                     self.stride_ref.eq(control[16:18]), self.eeg_enable.eq(control[24:32])]

        # --- result frames into the FIFO, whole frames or nothing
        m.d.comb += self.frames.ready.eq(1)
        space = Signal(range(self.result_depth + 1))
        m.d.comb += space.eq(self.result_depth - rfifo.level)
        first = self.frames.valid & ~in_frame & ~dropping
        keep = Signal()
        m.d.comb += keep.eq(Mux(first, space >= MAX_FRAME, in_frame))
        m.d.comb += [rfifo.w_data.eq(Cat(self.frames.payload.data, self.frames.payload.last)),
                     rfifo.w_en.eq(self.frames.valid & keep)]
        with m.If(self.frames.valid):
            with m.If(first & ~keep):
                m.d.sync += [overflow.eq(1), dropped.eq(Mux(dropped == 0xFFFFFFFF, dropped, dropped + 1))]
            last = self.frames.payload.last
            m.d.sync += [in_frame.eq(keep & ~last), dropping.eq(~keep & ~last)]

        # --- bus
        rd = Signal(32)
        m.d.sync += self.readdata.eq(rd)
        with m.If(self.read):
            with m.Switch(self.address):
                with m.Case(REGS["ID"] // 4):
                    m.d.comb += rd.eq(ID_VALUE)
                with m.Case(REGS["STATUS"] // 4):
                    m.d.comb += rd.eq(Cat(rfifo.r_rdy, overflow, ~sfifo.w_rdy, C(0, 13), rfifo.level[:16]))
                with m.Case(REGS["RESULT"] // 4):
                    m.d.comb += [rd.eq(Mux(rfifo.r_rdy, Cat(rfifo.r_data[:8], C(1, 1), rfifo.r_data[8]), 0)),
                                 rfifo.r_en.eq(1)]
                with m.Case(REGS["CONTROL"] // 4):
                    m.d.comb += rd.eq(control & ~C(2, 32))
                with m.Case(REGS["DROPPED"] // 4):
                    m.d.comb += rd.eq(dropped)
                with m.Case(REGS["SAMPLES_IN"] // 4):
                    m.d.comb += rd.eq(self.samples_in)
                with m.Case(REGS["INGRESS"] // 4):
                    m.d.comb += rd.eq(Cat(self.bad_frames, self.lost_frames))
                with m.Case(REGS["RX_ERRORS"] // 4):
                    m.d.comb += rd.eq(Cat(self.framing_errors, self.overruns))
        with m.If(self.write):
            with m.Switch(self.address):
                with m.Case(REGS["CONTROL"] // 4):
                    m.d.sync += control.eq(self.writedata & ~C(2, 32))
                    with m.If(self.writedata[1]):
                        m.d.sync += overflow.eq(0)
                with m.Case(REGS["SAMPLE"] // 4):
                    m.d.comb += [sfifo.w_data.eq(self.writedata[:8]), sfifo.w_en.eq(1)]
        m.d.comb += [self.samples.valid.eq(sfifo.r_rdy), self.samples.payload.eq(sfifo.r_data),
                     sfifo.r_en.eq(self.samples.ready)]
        return m
