"""Decode raw stride-record words (as read from the gateware) into dicts."""

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
