"""Saturating counters: value expressions of a counter that sticks at its top instead of wrapping.

The status counters of the fabric (frames accepted, bad/lost frames, UART framing
errors and overruns, dropped result frames, ...) never wrap, so that software
reading them can tell "many" from "few"::

    m.d.sync += count.eq(sat_inc(count))           # count + 1, stays at 0xFFFF
    m.d.comb += total.eq(sat_add(a, b))            # a + b, clamped to all ones of a
"""

from amaranth.hdl import *

__all__ = ["sat_inc", "sat_add"]


def _unsigned_value(sig, what):
    value = Value.cast(sig)
    if value.shape().signed:
        raise TypeError(f"{what} must be unsigned, not {value.shape()!r}")
    return value


def sat_inc(sig, top=None):
    """``sig + 1``, or ``sig`` once it has reached ``top``.

    Parameters
    ----------
    sig : Value
        Unsigned counter.
    top : int or Value, optional
        Value at which the counter stops; all ones of ``sig`` (``2**len(sig) - 1``)
        by default.

    Returns
    -------
    Value
        Assign it to ``sig`` (``m.d.sync += sig.eq(sat_inc(sig))``).

    Raises
    ------
    TypeError
        If ``sig`` is signed.
    """
    value = _unsigned_value(sig, "Counter")
    if top is None:
        # the carry out of value + 1 is the "all ones" test: no separate comparator
        total = value + 1
        return Mux(total[len(value)], value, total[:len(value)])
    return Mux(value == top, value, value + 1)


def sat_add(sig, inc):
    """``sig + inc`` clamped to all ones of ``sig`` (``2**len(sig) - 1``).

    Parameters
    ----------
    sig : Value
        Unsigned counter; its width is the width of the result.
    inc : Value or int
        Unsigned amount added.

    Returns
    -------
    Value
        ``len(sig)`` bits wide.

    Raises
    ------
    TypeError
        If ``sig`` or ``inc`` is signed.
    """
    value = _unsigned_value(sig, "Counter")
    amount = _unsigned_value(inc, "Increment")
    width = len(value)
    total = value + amount
    return Mux(total[width:].any(), (1 << width) - 1, total[:width])
