"""Decode raw record words (as read from the gateware) into dicts."""

from golden.eeg_mrp_model import BANDS
from hdl.eeg_mrp import mrp_record_layout
from hdl.stride_indexes import stride_record_layout


def decode_records(words, count_width=16, start_width=32):
    """Unpack record words into dicts keyed by the layout's field names."""
    layout = stride_record_layout(count_width, start_width)
    out = []
    for w in words:
        w = int(w)
        rec = {}
        for name, field in layout:
            rec[name] = (w >> field.offset) & ((1 << field.width) - 1)
        out.append(rec)
    return out


def decode_mrp_records(words, n_channels=8, index_width=32):
    """Unpack EEG MRP record words; band values become signed Q8.8 integers."""
    layout = mrp_record_layout(n_channels, index_width)
    out = []
    for w in map(int, words):
        rec = {}
        for name, field in layout:
            v = (w >> field.offset) & ((1 << field.width) - 1)
            if name in BANDS and v >= 1 << 15:
                v -= 1 << 16
            rec[name] = v
        out.append(rec)
    return out


def encode_words(layout, records):
    """Record dicts -> record words of ``layout`` (inverse of the decoders; negative values
    are stored two's complement in their field width)."""
    out = []
    for rec in records:
        w = 0
        for name, field in layout:
            w |= (int(rec[name]) & ((1 << field.width) - 1)) << field.offset
        out.append(w)
    return out
