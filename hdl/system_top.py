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

``leds`` (active high): 0 heartbeat (~1.5 Hz at 50 MHz), 1 toggles every 256
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
from hdl.results_uart import ResultsUART
from hdl.sample_ingress import SampleIngress
from spec.constants import CLOCK_HZ, RESULTS_BAUD, SENSOR_BAUD

__all__ = ["SystemTop", "CLOCK_HZ", "SENSOR_BAUD", "RESULTS_BAUD"]



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
        Counter bit shown on LED 0 (25 -> 1.5 Hz at 50 MHz).

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
        self.heartbeat_bit = heartbeat_bit
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

        beat = Signal(self.heartbeat_bit + 1)
        frame_toggle = Signal()
        error_seen = Signal()
        m.d.sync += beat.eq(beat + 1)
        with m.If(res.frames_tap.valid & res.frames_tap.payload.last):
            m.d.sync += frame_toggle.eq(~frame_toggle)
        with m.If((ing.bad_frames | ing.lost_frames | ing.framing_errors | ing.overruns) != 0):
            m.d.sync += error_seen.eq(1)
        m.d.comb += self.leds.eq(Cat(beat[-1], ing.frames[8], frame_toggle, error_seen,
                                     regs.source))
        return m
