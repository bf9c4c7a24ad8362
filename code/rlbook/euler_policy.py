"""The parametric policy of the Euler methods: tensor Chebyshev polynomials on the problem's box.

:class:`ChebyshevPolicy` maps coefficients ``theta`` and states ``(s1, s2)`` to actions;
:class:`EulerSolution` is a solved policy (coefficients and the solver's diagnostics);
:func:`tensor_nodes` gives the collocation nodes (and Galerkin's quadrature points) and
:func:`check_grid` the off-node states of the accuracy checks. The problem supplies the box
(``s1_bounds``, the process's ``bounds``), whether ``s1`` is in logs, and how the polynomial's value
becomes an action (``problem.action``, see :mod:`rlbook.euler_problems`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial import chebyshev as C

from .validation import check_int

__all__ = ["ChebyshevPolicy", "EulerSolution", "chebyshev_nodes", "check_grid", "tensor_nodes"]


class ChebyshevPolicy:
    """``a = A( sum_ij theta_ij T_i(x(s1)) T_j(y(s2)) )`` on a box, ``A = problem.action.action``.

    ``x`` maps ``s1`` (or ``log s1``) affinely onto [-1, 1]; likewise ``y`` for ``log s2`` of a
    continuous process. For a finite chain, each state ``i`` has its own polynomial in ``s1``.
    """

    def __init__(self, problem, degree: int, degree_s2: int | None = None):
        self.problem = problem
        self.degree = check_int("degree", degree, 0)
        process = problem.process
        self.degree_s2 = (
            check_int("degree_s2", degree if degree_s2 is None else degree_s2, 0)
            if process.continuous
            else 0
        )
        self.n_chain = process.n_chain
        self.n_coef = (self.degree + 1) * (self.degree_s2 + 1) * self.n_chain

    def _unit(self, v, bounds, log):
        lo, hi = (np.log(bounds[0]), np.log(bounds[1])) if log else bounds
        v = np.log(v) if log else v
        return 2 * (v - lo) / (hi - lo) - 1

    def basis(self, s1, s2) -> np.ndarray:
        """Basis matrix ``(len(s1), n_coef)``."""
        s1 = np.asarray(s1, dtype=float)
        x = self._unit(s1, self.problem.s1_bounds, self.problem.log_s1)
        B = C.chebvander(x, self.degree)
        if self.degree_s2:
            y = self._unit(np.asarray(s2, dtype=float), self.problem.s2_bounds, True)
            B = (B[:, :, None] * C.chebvander(y, self.degree_s2)[:, None, :]).reshape(len(x), -1)
        if self.n_chain > 1:
            onehot = np.eye(self.n_chain)[np.asarray(s2, dtype=int)]
            B = (onehot[:, :, None] * B[:, None, :]).reshape(len(x), -1)
        return B

    def __call__(self, theta, s1, s2) -> np.ndarray:
        return self.problem.action.action(self.basis(s1, s2) @ theta, s1, s2)

    def embed(self, solution) -> np.ndarray:
        """Coefficients of a lower-degree solution in this (larger) basis: a warm start."""
        small = solution.policy
        if small.degree > self.degree or small.degree_s2 > self.degree_s2:
            raise ValueError("embed needs a solution of lower or equal degree")
        shape = (self.n_chain, self.degree + 1, self.degree_s2 + 1)
        theta = np.zeros(shape)
        theta[:, : small.degree + 1, : small.degree_s2 + 1] = solution.theta.reshape(
            small.n_chain, small.degree + 1, small.degree_s2 + 1
        )
        return theta.ravel()

    def fit(self, s1, s2, a) -> np.ndarray:
        """Least-squares coefficients of a given policy at given states."""
        with np.errstate(all="ignore"):  # infeasible actions give NaN, reported by the solvers
            target = self.problem.action.index(a, s1, s2)
        if not np.all(np.isfinite(target)):
            return np.full(self.n_coef, np.nan)
        return np.linalg.lstsq(self.basis(s1, s2), target, rcond=None)[0]


@dataclass
class EulerSolution:
    """Coefficients and diagnostics of a solved projection.

    ``residual_norm`` is ``max |G(theta)|`` at the returned coefficients, ``residual_start`` the
    same at the starting point; ``iterations`` counts the Newton steps taken after the root finder
    (see ``rlbook.euler._solve`` for the stopping rule), ``nfev`` every evaluation of ``G`` or of the
    residual it is built from, Jacobians included.
    """

    policy: ChebyshevPolicy
    theta: np.ndarray
    method: str
    nfev: int
    residual_norm: float
    seconds: float
    message: str
    iterations: int = 0
    residual_start: float = float("nan")

    def __call__(self, s1, s2=None):
        s1 = np.asarray(s1, dtype=float)
        return self.policy(self.theta, s1, np.ones_like(s1) if s2 is None else s2)


def chebyshev_nodes(n: int) -> np.ndarray:
    """The ``n`` zeros of ``T_n`` in [-1, 1] (Gauss-Chebyshev points), increasing."""
    return np.cos(np.pi * (2 * np.arange(n, 0, -1) - 1) / (2 * n))


def _states_from_unit(policy: ChebyshevPolicy, x, y=None):
    p = policy.problem
    lo, hi = p.s1_bounds
    if p.log_s1:
        s1 = np.exp(np.log(lo) + (x + 1) / 2 * (np.log(hi) - np.log(lo)))
    else:
        s1 = lo + (x + 1) / 2 * (hi - lo)
    if y is None:
        return s1
    zlo, zhi = np.log(p.s2_bounds[0]), np.log(p.s2_bounds[1])
    return s1, np.exp(zlo + (y + 1) / 2 * (zhi - zlo))


def tensor_nodes(policy: ChebyshevPolicy, n1: int, n2: int | None = None):
    """States at tensor Chebyshev nodes: ``n1`` in ``s1`` (times ``n2`` in ``s2`` or the chain)."""
    x = chebyshev_nodes(n1)
    process = policy.problem.process
    if process.continuous:
        y = chebyshev_nodes(n2 if n2 is not None else n1)
        X, Y = np.meshgrid(x, y, indexing="ij")
        return _states_from_unit(policy, X.ravel(), Y.ravel())
    s1, states = _states_from_unit(policy, x), process.states
    return np.tile(s1, len(states)), np.repeat(states, len(s1))


def check_grid(problem, n1: int = 201, n2: int = 11):
    """Off-node states for accuracy checks: ``n1`` equally spaced ``s1`` in the box, times ``n2``
    equally spaced ``s2`` (continuous process) or every state of a finite process."""
    low1, high1 = problem.s1_bounds
    s1 = np.linspace(low1, high1, n1)
    process = problem.process
    if process.continuous:
        low2, high2 = problem.s2_bounds
        S1, S2 = np.meshgrid(s1, np.linspace(low2, high2, n2))
        return S1.ravel(), S2.ravel()
    return np.tile(s1, len(process.states)), np.repeat(process.states, n1)
