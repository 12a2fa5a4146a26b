"""Channel naming shared by every layer (golden model, gateware, C, UART frame, CSV).

EMG slots are ordered leg-major, muscle-minor.  Slot ``i`` is leg ``i // 4``
(0 = left ``L``, 1 = right ``R``) and muscle ``i % 4`` in :data:`MUSCLES` order.
The agonist/antagonist pairs used for co-contraction are adjacent:
LG-TA (muscles 0, 1) and BF-RF (muscles 2, 3).
"""

LEGS = ("L", "R")
MUSCLES = ("LG", "TA", "BF", "RF")
#: 8 EMG slots in gateware channel order.
EMG_CHANNELS = tuple(f"{leg}_{mus}" for leg in LEGS for mus in MUSCLES)
#: Co-contraction pairs as (name, muscle index a, muscle index b).
COCONTRACTION_PAIRS = (("LG_TA", 0, 1), ("BF_RF", 2, 3))
#: EEG sites of the paper (10-20 system), in EEG-branch channel order.
EEG_CHANNELS = ("T3", "T4", "C3", "C4", "Cz", "P3", "P4")
from spec.constants import FS  # noqa: E402  (re-exported: the fabric's sample rate)

#: Sample period in ms (the 2 ms resolution of every time index).
SAMPLE_MS = 1000 // FS


def emg_slot(name):
    """Return the slot index of an EMG channel name such as ``"R_LG"``.

    Raises
    ------
    ValueError
        If the name is not one of :data:`EMG_CHANNELS`.
    """
    try:
        return EMG_CHANNELS.index(name)
    except ValueError:
        raise ValueError(f"unknown muscle slot {name!r}; expected one of "
                         f"{', '.join(EMG_CHANNELS)}") from None
