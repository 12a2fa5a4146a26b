"""Comparisons of an unsigned value with a constant, as LUT logic.

yosys (``synth_intel_alm``) builds ``value > 64`` like any comparison: a subtraction on a
carry chain as wide as ``value``, one ALUT a bit. Compared with a constant, the result only
needs the bits where the constant has zeros (``value > 64`` for a 28-bit ``value`` is "any
of bits 7..27, or bit 6 and any of bits 0..5"): a few LUTs::

    m.d.comb += loud.eq(gt_const(env, 64))          # env > 64
    m.d.comb += long.eq(ge_const(count, 350))       # count >= 350
"""

from amaranth.hdl import *

__all__ = ["gt_const", "ge_const"]


def gt_const(value, k):
    """``value > k`` for an unsigned ``value`` and an integer constant ``k``.

    Parameters
    ----------
    value : Value
        Unsigned.
    k : int
        Any integer (below 0: always true; at or above ``2**len(value)``: always false).

    Returns
    -------
    Value
        One bit.

    Raises
    ------
    TypeError
        ``value`` signed or ``k`` not an ``int``.
    """
    value = Value.cast(value)
    if value.shape().signed:
        raise TypeError(f"value must be unsigned, not {value.shape()!r}")
    if not isinstance(k, int) or isinstance(k, bool):
        raise TypeError(f"k must be an integer, not {k!r}")
    if k < 0:
        return C(1, 1)
    if k >> len(value):
        return C(0, 1)
    gt, eq = C(0, 1), C(1, 1)            # over the bits above i: value > k, value == k
    for i in reversed(range(len(value))):
        if k >> i & 1:
            eq = eq & value[i]
        else:
            gt = gt | (eq & value[i])
            eq = eq & ~value[i]
    return gt


def ge_const(value, k):
    """``value >= k`` (see :func:`gt_const`)."""
    return gt_const(value, k - 1) if isinstance(k, int) and not isinstance(k, bool) \
        else gt_const(value, k)
