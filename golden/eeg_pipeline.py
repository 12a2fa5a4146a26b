"""The golden EEG branch: sample frames + trigger bits -> one record per trigger and channel.

Emulates :class:`hdl.eeg_mrp.EEGMRP` frame by frame with
:func:`golden.eeg_mrp_model.mrp_bitexact`: the window of a trigger is the last 256
frames up to and including the trigger frame (fewer -> ``partial``, older
samples zero). ``python -m sw.extract eeg --engine golden`` runs it; the
``hdl`` engine (:mod:`sim.eeg_hdl_engine`) must give identical records.

:func:`mrp_record_to_row` turns one record (golden, gateware or a UART ``MRP`` frame) into a
row of the user CSV (:data:`MRP_CSV_COLUMNS`), as :func:`golden.stride_indexes_model.record_to_row`
does for strides; ``sw.extract eeg``, ``sw.uart`` and ``sw.demo`` all write it.
"""

import numpy as np

from golden.eeg_mrp_model import BANDS, DB_FLOOR, DB_FRAC, EEGParams, N, mrp_bitexact
from spec.channels import EEG_CHANNELS
from spec.constants import FS

__all__ = ["run_golden_eeg", "RECORD_FIELDS", "MRP_CSV_COLUMNS", "format_db_q",
           "mrp_record_to_row"]

#: record fields, in the order of the gateware layout
RECORD_FIELDS = ("channel", "index", *BANDS, "partial")

#: Columns of the per-trigger, per-site CSV written by ``python -m sw.extract eeg``.
MRP_CSV_COLUMNS = ("trigger_s", "index", "site", *(f"{b}_dBu" for b in BANDS), "flags")


def format_db_q(raw):
    """Q8.8 raw dB -> exact decimal text (at least 2 decimals), ``-inf`` for the floor.

    >>> format_db_q(60 * 256), format_db_q(-1), format_db_q(DB_FLOOR)
    ('60.00', '-0.00390625', '-inf')
    """
    if raw == DB_FLOOR:
        return "-inf"
    text = f"{raw / (1 << DB_FRAC):.8f}".rstrip("0")
    whole, frac = text.split(".")
    return f"{whole}.{frac:0<2}"


def mrp_record_to_row(rec, fs=FS):
    """Convert one MRP record into a CSV row (dict of strings, keys :data:`MRP_CSV_COLUMNS`).

    ``trigger_s`` is the trigger frame in seconds (3 decimals), ``site`` the channel's
    electrode site (``chN`` past the known sites), the band values exact dBµV text
    (:func:`format_db_q`) and ``flags`` lists ``partial`` when bit 0 of ``partial`` is set.
    """
    c = rec["channel"]
    return {"trigger_s": f"{rec['index'] / fs:.3f}", "index": str(rec["index"]),
            "site": EEG_CHANNELS[c] if c < len(EEG_CHANNELS) else f"ch{c}",
            **{f"{b}_dBu": format_db_q(rec[b]) for b in BANDS},
            "flags": "partial" if rec["partial"] & 1 else ""}


def run_golden_eeg(samples, trigger, enable=None, params=EEGParams(), index_width=32):
    """Records for every trigger frame.

    Parameters
    ----------
    samples : ndarray of int16, shape (n, channels)
    trigger : ndarray of {0, 1}, shape (n,)
    enable : array_like of bool, shape (channels,), optional
    index_width : int
        Width of the gateware's frame counter: ``index`` saturates at ``2**index_width - 1``.

    Returns
    -------
    list of dict with keys :data:`RECORD_FIELDS` (band values raw Q8.8 dBµ)
    """
    samples = np.asarray(samples)
    trigger = np.asarray(trigger).astype(bool)
    if samples.ndim != 2 or len(trigger) != len(samples):
        raise ValueError("samples must be (n, channels) and trigger (n,)")
    enable = np.ones(samples.shape[1], bool) if enable is None else np.asarray(enable, bool)
    recs = []
    for t in np.flatnonzero(trigger):
        vals = mrp_bitexact(samples[max(0, t - N + 1):t + 1], params)
        for c in np.flatnonzero(enable):
            recs.append({"channel": int(c), "index": min(int(t), (1 << index_width) - 1),
                         **{b: int(vals[b][c]) for b in BANDS}, "partial": int(t + 1 < N)})
    return recs
