"""Checks of the integer parameters of the gateware constructors.

One convention for every block: a parameter of the wrong type (a float, a str, a bool) is a
``TypeError``; an integer outside its range is a ``ValueError``; both name the parameter and
its allowed range::

    check_int("count_width", count_width, 4, 24)
    # TypeError: count_width must be an integer in 4..24, not 16.0
    # ValueError: count_width must be in 4..24, not 3
    check_int("n_channels", n_channels, 1)
    # ValueError: n_channels must be >= 1, not 0
"""

__all__ = ["check_int"]


def check_int(name, value, lo, hi=None, allowed=None):
    """Return ``value`` if it is an ``int`` in ``lo..hi`` (``hi=None``: no upper bound).

    Parameters
    ----------
    name : str
        The parameter, as the constructor calls it.
    value
        What the caller passed.
    lo, hi : int
        Inclusive bounds.
    allowed : str, optional
        The range as the messages show it (default ``"in lo..hi"``, or ``">= lo"``), e.g.
        ``"in count_width..48 (8..48)"`` when a bound is another parameter.

    Raises
    ------
    TypeError
        ``value`` is not an ``int``, or is a ``bool``.
    ValueError
        ``value`` is outside ``lo..hi``.
    """
    if allowed is None:
        allowed = f">= {lo}" if hi is None else f"in {lo}..{hi}"
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer {allowed}, not {value!r}")
    if value < lo or (hi is not None and value > hi):
        raise ValueError(f"{name} must be {allowed}, not {value!r}")
    return value
