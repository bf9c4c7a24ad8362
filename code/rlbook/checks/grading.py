"""The grading core of :mod:`rlbook.checks`: the result, the comparison loop and shared inputs.

:func:`_grade` runs a student's function and the reference on every case, positionally in the
reference's parameter order, and on the first case where they differ reports the inputs, the
expected and actual values, the first listed mistake that gives the actual value, and a hint.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["CheckResult"]


@dataclass
class CheckResult:
    """Outcome of a check: ``passed``, how many cases ran, and the message that was printed."""

    name: str
    passed: bool
    cases: int
    message: str
    printed: bool = False

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"CheckResult({self.name!r}, passed={self.passed}, cases={self.cases})"

    def _ipython_display_(self) -> None:
        """As a cell's last value, show nothing more: the check has printed its message."""
        if not self.printed:
            print(self.message)


def _as_array(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=float)


def _show(x) -> str:
    if callable(x):
        return getattr(x, "description", getattr(x, "__name__", "a function"))
    a = _as_array(x) if not isinstance(x, int | float) else np.asarray(x)
    if a.size > 6:
        return (
            f"array of shape {a.shape}, first values {np.array2string(a.ravel()[:4], precision=4)}"
        )
    return np.array2string(a, precision=6) if a.ndim else f"{a.item():.6g}"


def _grade(name, student, reference, cases, mistakes=(), hint="", rtol=1e-5, atol=1e-6, say=True):
    """Run ``student`` and ``reference`` on every case (a ``(description, kwargs)`` pair).

    The tolerance is that of two float32 computations of the same formula in another order (or
    on another CPU): eps = 1.2e-7 per operation, a few ulp on the values of order 1 used here, so
    1e-5 relative and 1e-6 absolute; float64 answers agree far inside it. The listed mistakes
    change the result by 1e-2 or more on some case.
    """

    def report(message: str, passed: bool, n: int) -> CheckResult:
        if say:
            print(message)
        return CheckResult(name, passed, n, message, printed=say)

    # The student's function is called positionally, in the documented order (the reference's
    # parameters): a correct answer whose parameters are named differently passes too.
    order = list(inspect.signature(reference).parameters)
    for n, (description, kwargs) in enumerate(cases, start=1):
        expected = _as_array(reference(**copy.deepcopy(kwargs)))
        try:  # on a copy: a function that modifies its inputs in place cannot spoil the check
            args = copy.deepcopy(kwargs)
            actual_raw = student(*(args[k] for k in order))
        except NotImplementedError:
            return report(
                f"{name}: not implemented yet.\nFill in the function and run this cell again.",
                False,
                n - 1,
            )
        except Exception as err:  # noqa: BLE001 - the student's error is the message
            try:  # a wrong number of parameters, not an error inside the student's code
                inspect.signature(student).bind(*order)
                takes = ""
            except (TypeError, ValueError):
                takes = f" (it is called with {len(order)} arguments, in this order: " + (
                    f"{', '.join(order)})"
                )
            return report(
                f"{name}: FAILED on case {n} ({description}): the function raised "
                f"{type(err).__name__}: {err}{takes}\n  inputs: "
                + ", ".join(f"{k} = {_show(v)}" for k, v in kwargs.items()),
                False,
                n,
            )
        actual = _as_array(actual_raw)
        if actual.shape != expected.shape:
            return report(
                f"{name}: FAILED on case {n} ({description}): expected shape {expected.shape}, "
                f"got {actual.shape}.",
                False,
                n,
            )
        if np.allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True):
            continue
        diagnosis = ""
        for label, wrong in mistakes:
            try:
                guess = _as_array(wrong(**copy.deepcopy(kwargs)))
            except Exception:  # noqa: BLE001, S112 - a mistake that does not apply to this case
                continue
            if guess.shape == actual.shape and np.allclose(actual, guess, rtol=rtol, atol=atol):
                diagnosis = f"\n  this is what {label} gives."
                break
        inputs = "\n    ".join(f"{k} = {_show(v)}" for k, v in kwargs.items())
        return report(
            f"{name}: FAILED on case {n} ({description}).\n  inputs:\n    {inputs}\n"
            f"  expected: {_show(expected)}\n  actual:   {_show(actual)}{diagnosis}"
            + (f"\n  hint: {hint}" if hint else ""),
            False,
            n,
        )
    return report(f"{name}: passed all {len(cases)} cases.", True, len(cases))


def _rng(seed):
    return np.random.default_rng(seed)


class _QuadQ:
    """A concave quadratic q(s, a) = -(a - K s)^2 + c s (batched, numpy and torch)."""

    description = "q(s, a) = -(a - K s)^2 + c s for a fixed K, c"

    def __init__(self, k, c):
        self.k, self.c = k, c

    def __call__(self, s, a):
        if isinstance(s, torch.Tensor):
            return -(((a - self.k * s).sum(-1)) ** 2) + self.c * s.sum(-1)
        s, a = np.asarray(s, float), np.asarray(a, float)
        return -(((a - self.k * s).sum(-1)) ** 2) + self.c * s.sum(-1)
