"""Input validation shared by every config and public function.

Every check raises ``ValueError`` whose message names the parameter and the allowed range, so a
wrong value never starts a silent, wrong run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral, Real

__all__ = ["check_choice", "check_int", "check_real", "check_sizes"]


def _interval(low, high, low_open, high_open) -> str:
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return f"{left}{lo}, {hi}{right}"


def check_real(
    name: str,
    value,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float if it is a finite real number in the interval, else raise."""
    interval = _interval(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number in {interval}; got {value!r}")
    if (low is not None and (value < low or (low_open and value == low))) or (
        high is not None and (value > high or (high_open and value == high))
    ):
        raise ValueError(f"{name} must be in {interval}; got {value!r}")
    return float(value)


def check_int(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer in ``[low, high]``, else raise."""
    interval = _interval(low, high, False, False)
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer in {interval}; got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be an integer in {interval}; got {value!r}")
    return int(value)


def check_choice(name: str, value, choices: Iterable) -> None:
    """Raise unless ``value`` is one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")


def check_sizes(name: str, value) -> tuple[int, ...]:
    """Hidden-layer sizes: a non-empty tuple of positive integers."""
    if isinstance(value, Integral) and not isinstance(value, bool):
        value = (value,)
    try:
        sizes = tuple(value)
    except TypeError:
        raise ValueError(f"{name} must be a tuple of integers >= 1; got {value!r}") from None
    if not sizes or any(isinstance(h, bool) or not isinstance(h, Integral) or h < 1 for h in sizes):
        raise ValueError(f"{name} must be a non-empty tuple of integers >= 1; got {value!r}")
    return tuple(int(h) for h in sizes)
