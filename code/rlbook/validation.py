"""Input validation shared by every config and public function.

Every check raises ``ValueError`` whose message names the parameter and the allowed range, so a
wrong value never starts a silent, wrong run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral, Real

__all__ = ["check_choice", "check_device", "check_int", "check_real", "check_sizes"]


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
    x = float(value)
    if (low is not None and (x < low or (low_open and x == low))) or (
        high is not None and (x > high or (high_open and x == high))
    ):
        raise ValueError(f"{name} must be in {interval}; got {value!r}")
    return float(value)


def check_int(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer in ``[low, high]``, else raise."""
    interval = _interval(low, high, False, False)
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer in {interval}; got {value!r}")
    n = int(value)
    if (low is not None and n < low) or (high is not None and n > high):
        raise ValueError(f"{name} must be an integer in {interval}; got {value!r}")
    return n


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


def check_device(name: str, value, *, allow_none: bool = False) -> str | None:
    """``"auto"`` or the name of a torch device that exists on this machine (``"cpu"``, ``"cuda"``,
    ``"cuda:1"``, ``"mps"``), returned as a string; ``None`` too when ``allow_none``.

    A device that is not there (``"cuda"`` without a GPU, ``"cuda:3"`` with two) is refused here,
    when the setting is made, rather than by torch's own error deep inside the first step.
    """
    allowed = "'auto' or a torch device name ('cpu', 'cuda', 'cuda:0')"
    if allow_none:
        allowed = "None, " + allowed
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        import torch  # a torch.device is accepted too

        if not isinstance(value, torch.device):
            raise ValueError(f"{name} must be {allowed}; got {value!r}")
        value = str(value)
    if value == "auto":
        return value
    import torch

    try:
        device = torch.device(value)
    except RuntimeError:
        raise ValueError(f"{name} must be {allowed}; got {value!r}") from None
    if device.type not in ("cpu", "cuda", "mps"):  # "meta", "xla"...: not devices to train on
        raise ValueError(f"{name} must be {allowed}; got {value!r}")
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(
                f"{name}={value!r} but CUDA is not available here: use {name}='cpu' or 'auto'"
            )
        if device.index is not None and device.index >= count:
            raise ValueError(
                f"{name}={value!r} but this machine has {count} CUDA device(s): "
                f"indices 0..{count - 1}"
            )
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{name}={value!r} but MPS is not available here: use {name}='cpu'")
    return value
