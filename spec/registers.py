"""The one register table of the fabric behind the HPS-to-FPGA lightweight bridge.

32-bit registers at byte offsets from :data:`BRIDGE_BASE`; every register is described once in
:data:`REGISTERS` (name, offset, access, fields with bit ranges and meaning, reset value).
:mod:`hdl.hps_regs` decodes the bus from it, and ``python -m boards.gen_headers`` writes
``boards/arm/wo_regs.h`` and ``docs/frames-and-registers.md`` from it.

Bus: Avalon-MM slave, word addressing (``address`` = byte offset / 4), fixed read latency 1
(``readdata`` valid the cycle after ``read``), no wait states.

Imports nothing else of the project but :mod:`spec.channels` (floor ``spec``).

Examples
--------
>>> hex(REGISTERS["CONTROL"].reset)
'0x7f00ff00'
>>> field("RESULT", "VALID").mask
256
"""

from typing import NamedTuple

from spec.channels import EEG_CHANNELS, MUSCLES

__all__ = ["Field", "Register", "REGISTERS", "BRIDGE_BASE", "BRIDGE_SPAN", "ID_VALUE",
           "field", "offsets"]

#: Physical base address of the lightweight HPS-to-FPGA bridge (Cyclone V HPS).
BRIDGE_BASE = 0xFF200000
#: Bytes of the bridge mapped by the ARM program.
BRIDGE_SPAN = 0x1000
#: Value of the ID register, ASCII "WOTR".
ID_VALUE = 0x574F5452


class Field(NamedTuple):
    """Bits ``msb:lsb`` of a register.

    ``values`` names the meaningful values of the field (``{"REPLAY": 1}``); ``reset`` is the
    field's value after reset.
    """

    name: str
    msb: int
    lsb: int
    meaning: str
    reset: int = 0
    values: tuple = ()

    @property
    def width(self):
        return self.msb - self.lsb + 1

    @property
    def mask(self):
        """The field's bits in the 32-bit word."""
        return ((1 << self.width) - 1) << self.lsb

    @property
    def bits(self):
        """``"7:0"`` or ``"8"``."""
        return f"{self.msb}:{self.lsb}" if self.width > 1 else f"{self.lsb}"


class Register(NamedTuple):
    """One 32-bit register: ``access`` is ``"RO"``, ``"RW"`` or ``"WO"``."""

    name: str
    offset: int
    access: str
    meaning: str
    fields: tuple

    @property
    def reset(self):
        """Reset value: the fields' resets at their positions."""
        return sum(f.reset << f.lsb for f in self.fields)

    def field(self, name):
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")


_MUSCLE_MASK = (1 << 2 * len(MUSCLES)) - 1           # both legs
_EEG_MASK = (1 << len(EEG_CHANNELS)) - 1             # the paper's sites; slot 7 off

_REGS = (
    Register("ID", 0x00, "RO", 'identifies the wearing-off fabric: "WOTR"', (
        Field("VALUE", 31, 0, 'ASCII "WOTR"', reset=ID_VALUE),)),
    Register("STATUS", 0x04, "RO", "FIFO state", (
        Field("RESULT_NOT_EMPTY", 0, 0, "result FIFO not empty"),
        Field("OVERFLOW", 1, 1, "result overflow, sticky: frames were dropped whole "
              "(cleared by CONTROL.CLEAR_OVERFLOW)"),
        Field("SAMPLE_FULL", 2, 2, "sample FIFO full: do not write SAMPLE"),
        Field("STRIDE_OVERRUN", 3, 3, "stride overrun, sticky until reset: the stride core "
              "dropped stride records (counted in STRIDE_OVERRUNS)"),
        Field("LEVEL", 31, 16, "result FIFO level in bytes"))),
    Register("RESULT", 0x08, "RO", "a read pops one byte of the result frame stream", (
        Field("BYTE", 7, 0, "the byte"),
        Field("VALID", 8, 8, "a byte was popped (0: FIFO empty, nothing popped, the word reads 0)"),
        Field("LAST", 9, 9, "final CRC byte of a frame"))),
    Register("CONTROL", 0x0C, "RW", "fabric settings", (
        Field("SOURCE", 0, 0, "sample source", values=(("SENSOR", 0), ("REPLAY", 1))),
        Field("CLEAR_OVERFLOW", 1, 1, "write 1 to clear STATUS.OVERFLOW (reads 0)"),
        Field("PRESENT", 15, 8, "muscle mask, EMG_CHANNELS order (reset: all)",
              reset=_MUSCLE_MASK),
        Field("STRIDE_REF", 17, 16, "stride-reference muscle",
              values=tuple((m, k) for k, m in enumerate(MUSCLES))),
        Field("EEG_ENABLE", 31, 24, "EEG site mask, EEG_CHANNELS order (reset: the "
              f"{len(EEG_CHANNELS)} sites, slot 7 off)", reset=_EEG_MASK))),
    Register("SAMPLE", 0x10, "WO", "replay input; ignored while STATUS.SAMPLE_FULL "
             "(poll STATUS before writing)", (
        Field("BYTE", 7, 0, "one byte of a SAMPLES frame into the replay path"),)),
    Register("DROPPED", 0x14, "RO", "result frames dropped for lack of FIFO space", (
        Field("COUNT", 31, 0, "saturates at 0xFFFFFFFF, never wraps"),)),
    Register("SAMPLES_IN", 0x18, "RO", "SAMPLES frames accepted by the ingress parser", (
        Field("COUNT", 31, 0, "saturates"),)),
    Register("INGRESS", 0x1C, "RO", "SAMPLES frames refused by the ingress parser", (
        Field("REJECTED", 15, 0, "frames rejected (type, length, CRC); saturates"),
        Field("LOST", 31, 16, "frames lost by sequence number; saturates"))),
    Register("RX_ERRORS", 0x20, "RO", "sensor UART errors", (
        Field("FRAMING", 15, 0, "framing errors; saturates"),
        Field("OVERRUN", 31, 16, "bytes lost to overrun; saturates"))),
    Register("STRIDE_OVERRUNS", 0x24, "RO", "stride records dropped by the stride core: a leg "
             "finished a stride while its previous record still waited (results path stalled "
             "for a whole stride)", (
        Field("COUNT", 15, 0, "saturates at 0xFFFF, never wraps"),)),
)

#: The register map: name -> :class:`Register`, in offset order.
REGISTERS = {r.name: r for r in _REGS}


def field(register, name):
    """The :class:`Field` ``name`` of ``register`` (names as in :data:`REGISTERS`)."""
    return REGISTERS[register].field(name)


def offsets():
    """Register name -> byte offset."""
    return {r.name: r.offset for r in _REGS}


def _check():
    seen = set()
    for r in _REGS:
        assert r.offset % 4 == 0 and r.offset not in seen and r.access in ("RO", "RW", "WO"), r
        seen.add(r.offset)
        used = 0
        for f in r.fields:
            assert 0 <= f.lsb <= f.msb < 32 and not used & f.mask and f.reset < 1 << f.width, f
            used |= f.mask


_check()
