"""The whole fabric design of the DE10-Nano, independent of the board: ingress, both
branches, results UART, and the HPS register block behind the lightweight bridge.

::

    rx (sensor UART) --> [SampleIngress] <-- replay bytes ----------------------+
                              | SAMPLES frames -> input frames                  |
                              v                                                 |
                         [FabricTop] --stride--> [ResultsUART] --> tx           |
                              |      --mrp----->      | frames_tap              |
                              |                       v                         |
    AXI3 (LW bridge) --> [LWAXISlave] --Avalon--> [HPSRegs] (RESULT FIFO, CONTROL, SAMPLE)
                                                  CONTROL -> source/present/stride_ref/eeg_enable
                                                  <- ingress counters, stride overruns (RO)

:mod:`boards.de10_nano` puts this on the board (pins, clock, the HPS primitive);
``tests/gateware/test_system_top.py`` simulates it end to end. Every result frame that goes
out on ``tx`` is also offered to the HPS result FIFO (whole frames or nothing).

``leds`` (active high): 0 heartbeat (toggles every ``2**heartbeat_bit - 1`` cycles, a
maximal-length LFSR passing its reset state: ~0.75 Hz at 50 MHz), 1 toggles every 256
SAMPLES frames accepted, 2 toggles per result frame, 3 an ingress error was
counted (bad/lost frame, framing error, overrun), 4 SOURCE = HPS replay,
5-7 unused (0). Result FIFO overflow is in the STATUS register, and so is a stride
dropped by the stride core (``STATUS.STRIDE_OVERRUN``, counted in ``STRIDE_OVERRUNS``).
"""

from amaranth.hdl import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from golden.eeg_mrp_model import EEGParams
from golden.emg_trigger_model import TriggerParams
from hdl.bus import AXI3Signature
from hdl.fabric_top import FabricTop
from hdl.hps_lw_axi import LWAXISlave
from hdl.hps_regs import HPSRegs
from hdl.params import check_int
from hdl.results_uart import ResultsUART
from hdl.sample_ingress import SampleIngress
from spec.constants import CLOCK_HZ, RESULTS_BAUD, SENSOR_BAUD

__all__ = ["SystemTop", "CLOCK_HZ", "SENSOR_BAUD", "RESULTS_BAUD"]

#: XNOR feedback taps of maximal-length Fibonacci LFSRs (Xilinx XAPP052), width -> taps
_LFSR_TAPS = {
    3: (3, 2), 4: (4, 3), 5: (5, 3), 6: (6, 5), 7: (7, 6), 8: (8, 6, 5, 4), 9: (9, 5),
    10: (10, 7), 11: (11, 9), 12: (12, 6, 4, 1), 13: (13, 4, 3, 1), 14: (14, 5, 3, 1),
    15: (15, 14), 16: (16, 15, 13, 4), 17: (17, 14), 18: (18, 11), 19: (19, 6, 2, 1),
    20: (20, 17), 21: (21, 19), 22: (22, 21), 23: (23, 18), 24: (24, 23, 22, 17),
    25: (25, 22), 26: (26, 6, 2, 1), 27: (27, 5, 2, 1), 28: (28, 25), 29: (29, 27),
    30: (30, 6, 4, 1), 31: (31, 28), 32: (32, 22, 2, 1)}


class SystemTop(wiring.Component):
    """Board-independent top level.

    Parameters
    ----------
    rx_divisor, tx_divisor : int
        Clock cycles per bit of the sensor and results UARTs (50 MHz: 54 -> 921 600
        baud, 434 -> 115 200 baud; tests use a few cycles).
    cycles_per_sample : int or None
        EMG branch pacing (see :class:`hdl.emg_branch.EMGBranch`).
    heartbeat_bit : int
        LED 0 toggles every ``2**heartbeat_bit - 1`` cycles (3..32; 25 -> 0.75 Hz at 50 MHz).

    Attributes
    ----------
    axi : In(AXI3Signature())
        AXI3 slave port of the lightweight HPS-to-FPGA bridge (ports ``axi__awid``, ...).
    rx : In(1)
        Sensor UART.
    tx : Out(1)
        Results UART.
    leds : Out(8)
        Status LEDs (see above).
    """

    def __init__(self, rx_divisor=round(CLOCK_HZ / SENSOR_BAUD),
                 tx_divisor=round(CLOCK_HZ / RESULTS_BAUD), cycles_per_sample=None,
                 ingress_fifo=2048, result_fifo=4096, heartbeat_bit=25,
                 emg_params=TriggerParams(), eeg_params=EEGParams()):
        self.ingress = SampleIngress(rx_divisor, ingress_fifo)
        self.fabric = FabricTop(8, cycles_per_sample, emg_params, eeg_params)
        self.results = ResultsUART(self.fabric.stride.payload.shape(),
                                   self.fabric.mrp.payload.shape(), tx_divisor)
        self.bridge = LWAXISlave(6)
        self.regs = HPSRegs(result_depth=result_fifo)
        self.heartbeat_bit = check_int("heartbeat_bit", heartbeat_bit, 3, 32)
        super().__init__({"axi": In(AXI3Signature()),
                          "rx": In(1, init=1), "tx": Out(1, init=1), "leds": Out(8)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.ingress = ing = self.ingress
        m.submodules.fabric = fab = self.fabric
        m.submodules.results = res = self.results
        m.submodules.axi = bridge = self.bridge
        m.submodules.regs = regs = self.regs

        wiring.connect(m, wiring.flipped(self.axi), bridge.axi)
        wiring.connect(m, bridge.avalon, regs.bus)

        m.d.comb += [ing.rx.eq(self.rx), ing.source.eq(regs.source), self.tx.eq(res.tx),
                     fab.present.eq(regs.present), fab.stride_ref.eq(regs.stride_ref),
                     fab.eeg_enable.eq(regs.eeg_enable),
                     regs.samples_in.eq(ing.frames), regs.bad_frames.eq(ing.bad_frames),
                     regs.lost_frames.eq(ing.lost_frames),
                     regs.framing_errors.eq(ing.framing_errors), regs.overruns.eq(ing.overruns),
                     regs.stride_overrun.eq(fab.stride_overrun),
                     regs.stride_overruns.eq(fab.stride_overruns)]
        wiring.connect(m, regs.samples, ing.replay)
        wiring.connect(m, ing.o, fab.i)
        wiring.connect(m, fab.stride, res.stride)
        wiring.connect(m, fab.mrp, res.mrp)
        # a tap, not a stream connection: its ready is ignored (HPSRegs drops whole frames)
        m.d.comb += [regs.frames.valid.eq(res.frames_tap.valid),
                     regs.frames.payload.eq(res.frames_tap.payload)]

        # heartbeat: an LFSR (one XNOR) instead of a 26-bit counter (a carry chain)
        lfsr = Signal(self.heartbeat_bit)
        beat = Signal()
        fb = 1
        for t in _LFSR_TAPS[self.heartbeat_bit]:
            fb ^= lfsr[t - 1]
        m.d.sync += lfsr.eq(Cat(fb, lfsr[:-1]))
        with m.If(lfsr == 0):
            m.d.sync += beat.eq(~beat)
        frame_toggle = Signal()
        error_seen = Signal()
        with m.If(res.frames_tap.valid & res.frames_tap.payload.last):
            m.d.sync += frame_toggle.eq(~frame_toggle)
        # "a counter is not 0": the counters saturate (never wrap) and each first counts to
        # a value with bit 0 set (+1), or, LOST, to the gap of 1..255 frames; the flag is
        # sticky, so these bits see the first error on the same cycle as the whole words
        with m.If(ing.bad_frames[0] | (ing.lost_frames[:8] != 0) | ing.framing_errors[0]
                  | ing.overruns[0]):
            m.d.sync += error_seen.eq(1)
        m.d.comb += self.leds.eq(Cat(beat, ing.frames[8], frame_toggle, error_seen,
                                     regs.source))
        return m
