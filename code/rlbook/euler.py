"""Euler-equation methods: solve the first-order condition for the policy directly.

An **Euler-class** problem (Rust 1996) (see :mod:`rlbook.euler_problems` for the primitives and
their one argument order, state first: ``r(s1, s2, a)``, ``f(s1, s2, a, s2n)``, ``h(s1, s2, a)``)
has ``df/ds1 = df/da * h``. Then the envelope formula (note the minus sign of the ``h`` term)

    dv*/ds1 (s1, s2) = dr/ds1 (s1, s2, a) - dr/da (s1, s2, a) * h(s1, s2, a),   a = pi*(s1, s2),

turns the first-order condition into an equation in the policy alone, the **Euler residual**

    E(pi)(s) = dr/da(s, a) + beta * E_{s2'}[ (dr/ds1 - dr/da * h)(s1', s2', a') * df/da(s, a, s2') ],

with ``a = pi(s)``, ``s1' = f(s1, s2, a, s2')``, ``a' = pi(s1', s2')`` (``beta`` is the discount
factor, ``gamma`` in the text). This module provides

- :func:`euler_residual` and :func:`euler_errors` (Judd's unit-free accuracy measure
  (Judd 1992));
- :func:`solve_collocation` and :func:`solve_galerkin`: the weighted-residual discretisations of
  the chapter, solved with scipy's Newton-type root finder (``scipy.optimize.root``, Powell's hybrid
  method) and Newton steps to the rounding floor; :func:`solve_by_continuation` over degrees;
- :func:`value_iteration_1d`, the check by dynamic programming.

The policy (:class:`ChebyshevPolicy`, :class:`EulerSolution`, :func:`tensor_nodes`,
:func:`check_grid`) lives in :mod:`rlbook.euler_policy`, the problems (:func:`brock_mirman`,
:func:`cake_eating`, :func:`stochastic_growth`, :func:`energy_storage`) in
:mod:`rlbook.euler_problems`; both are re-exported here.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import numpy as np
import scipy.optimize

from .euler_policy import (
    ChebyshevPolicy,
    EulerSolution,
    chebyshev_nodes,
    check_grid,
    tensor_nodes,
)
from .euler_problems import (
    Deterministic,
    EulerProblem,
    FiniteChain,
    LevelAction,
    LogAction,
    LognormalAR1,
    ShareOfUpper,
    brock_mirman,
    cake_eating,
    energy_storage,
    stochastic_growth,
)
from .validation import check_int

__all__ = [
    "ACCURACY_FLOOR",
    "ROUNDING_FLOOR",
    "ChebyshevPolicy",
    "Deterministic",
    "EulerProblem",
    "EulerSolution",
    "FiniteChain",
    "LevelAction",
    "LogAction",
    "LognormalAR1",
    "ShareOfUpper",
    "brock_mirman",
    "cake_eating",
    "chebyshev_nodes",
    "check_grid",
    "energy_storage",
    "euler_errors",
    "euler_residual",
    "solve_by_continuation",
    "solve_collocation",
    "solve_galerkin",
    "stochastic_growth",
    "tensor_nodes",
    "value_iteration_1d",
]


# --- residuals ----------------------------------------------------------------------------------
def _expectation(problem, policy, theta, s1, s2, a):
    s2n, w = problem.process.next(s2)
    s1n = np.broadcast_to(problem.f(s1[:, None], s2[:, None], a[:, None], s2n), s2n.shape)
    an = policy(theta, s1n.ravel(), s2n.ravel()).reshape(s1n.shape)
    marginal_value = problem.r_s1(s1n, s2n, an) - problem.r_a(s1n, s2n, an) * problem.h(
        s1n, s2n, an
    )
    return (w * marginal_value * problem.f_a(s1[:, None], s2[:, None], a[:, None], s2n)).sum(1)


def euler_residual(
    problem: EulerProblem, policy: ChebyshevPolicy, theta, s1, s2, relative: bool = True
) -> np.ndarray:
    """``E(pi)(s)``; with ``relative=True`` divided by ``|dr/da(s, pi(s))|`` (unit-free)."""
    s1, s2 = np.asarray(s1, dtype=float), np.asarray(s2, dtype=float)
    a = policy(theta, s1, s2)
    ra = problem.r_a(s1, s2, a)
    res = ra + problem.beta * _expectation(problem, policy, theta, s1, s2, a)
    return res / np.abs(ra) if relative else res


def euler_errors(problem: EulerProblem, policy: ChebyshevPolicy, theta, s1, s2) -> np.ndarray:
    """Judd's unit-free Euler errors ``|1 - a~/a|``, ``a~`` the action the Euler equation implies.

    ``a~ = (dr/da)^{-1}(-beta E[...])``: the consumption (say) that would make the equation hold
    exactly given tomorrow's policy. ``log10`` of the maximum is the usual accuracy measure.
    """
    if problem.inv_r_a is None:
        return np.abs(euler_residual(problem, policy, theta, s1, s2))
    s1, s2 = np.asarray(s1, dtype=float), np.asarray(s2, dtype=float)
    a = policy(theta, s1, s2)
    implied = problem.inv_r_a(
        s1, s2, -problem.beta * _expectation(problem, policy, theta, s1, s2, a)
    )
    return np.abs(1 - implied / a)


def _check_feasible(problem, s1, s2, a) -> None:
    with np.errstate(all="ignore"):
        ok = np.isfinite(a) & problem.feasible(s1, s2, a)
    if not ok.all():
        bad = np.flatnonzero(~ok)[0]
        raise ValueError(
            f"{problem.name}: the initial policy is infeasible at s1={s1[bad]:.4g}, "
            f"s2={s2[bad]:.4g} (action {a[bad]:.4g}); e.g. consumption must be positive and "
            "below resources. Give a feasible initial_policy or theta0."
        )


# The relative Euler residual at a point is a sum of O(1) terms (it is divided by |dr/da|), each
# computed with a relative rounding error of a few eps: at the closed forms of brock_mirman and
# cake_eating, and at the growth model's nodes past degree 14, it is 3 to 7 eps. Once it is below
# ROUNDING_FLOOR at every collocation or quadrature point, no step can be told apart from rounding
# noise. The floor errs low, because too high a floor silently returns the warm start (64 eps
# returned the degree-13 solution at degree 14, whose warm start has 65 eps at the nodes); below
# it the halving rule of _newton stops the steps (also where |dr/da| is small and the terms are
# not O(1)). The floor is tested on the residual at the points, not on G: Galerkin's G averages
# that residual against the basis functions, and the average can lie far below the floor while
# the residual does not.
ROUNDING_FLOOR = 16 * np.finfo(float).eps  # about 3.6e-15
_STEP = np.finfo(float).eps ** (1 / 3)  # central differences: truncation ~ h^2, rounding ~ eps/h


def _jacobian(G, x, g):
    """Central-difference Jacobian of ``G`` at ``x`` (``g = G(x)`` gives the shape)."""
    J = np.empty((len(g), len(x)))
    for j in range(len(x)):
        h = _STEP * max(1.0, abs(x[j]))
        xp, xm = x.copy(), x.copy()
        xp[j] += h
        xm[j] -= h
        J[:, j] = (G(xp) - G(xm)) / (2 * h)
    return J


def _newton(G, x, g, pointwise=None, max_steps=25):
    """Newton steps until the residual at the points reaches the rounding floor, or a step stops
    reducing ``max|G|``.

    ``pointwise(x)`` is the Euler residual at the points where ``G`` evaluates it (Galerkin's
    quadrature points); ``None`` means ``G`` itself (collocation). The floor is tested on it, not
    on ``G``: a Galerkin warm start from the previous degree has ``G`` zero in every component but
    the last, and that last one, an average, can be below ``ROUNDING_FLOOR`` while the residual
    is not (degree 13 of the chapter's growth model: ``max|G|`` 3e-15, the residual 2e-14), so
    testing ``G`` would return the lower degree's solution. A step must at least halve ``max|G|``
    to count as progress (Newton's local convergence is quadratic, so a step that does not is at
    the rounding level of ``G`` or outside the basin). A warm start whose residual is small but
    above the floor still takes steps. Returns ``(x, g, steps, nfev)``.
    """
    norm, steps, nfev = float(np.abs(g).max()), 0, 0
    while steps < max_steps:
        e = g if pointwise is None else pointwise(x)
        nfev += pointwise is not None
        if float(np.abs(e).max()) <= ROUNDING_FLOOR:
            break
        J = _jacobian(G, x, g)
        nfev += 2 * len(x)
        dx = np.linalg.lstsq(J, -g, rcond=None)[0]
        g_new = G(x + dx)
        nfev += 1
        norm_new = float(np.abs(g_new).max())
        if not np.isfinite(norm_new) or norm_new > 0.5 * norm:
            break
        x, g, norm, steps = x + dx, g_new, norm_new, steps + 1
    return x, g, steps, nfev


def _solve(policy, G, theta0, method, tol, nodes_for_check, pointwise=None):
    """Solve ``G(theta) = 0`` from ``theta0``: scipy's root finder, then Newton to the floor.

    Powell's hybrid method (``hybr``) globalises from a poor start; unless it ends with
    ``max|G| < 1e-8`` (it stalled, or left the region where the primitives are defined and
    returned NaN residuals), Levenberg-Marquardt (``lm``) is run from the same start and the
    better of the two kept. MINPACK's own tests (``xtol`` on the step, "not making good
    progress") can end the solve at a warm start whose residual is small but far above rounding
    (seen at degree 10 warm-started from degree 9), so Newton steps with a central-difference
    Jacobian follow until the residual at the points (``pointwise``, see :func:`_newton`) reaches
    ``ROUNDING_FLOOR`` or a step no longer halves ``max|G|``.
    """
    problem = policy.problem
    s1, s2 = nodes_for_check
    _check_feasible(problem, s1, s2, policy(theta0, s1, s2))
    r0 = G(theta0)
    if not np.all(np.isfinite(r0)):
        raise ValueError(
            f"{problem.name}: the Euler residual is not finite at the initial guess "
            "(next states leave the region where the primitives are defined)"
        )
    J = np.asarray(scipy.optimize.approx_fprime(theta0, G, 1e-7))
    rank = np.linalg.matrix_rank(J)
    if rank < len(theta0):
        raise ValueError(
            f"{problem.name}: singular Jacobian at the initial guess (rank {rank} < "
            f"{len(theta0)} coefficients): the nodes or test functions do not determine the "
            "coefficients (duplicate nodes, or fewer nodes than basis functions)"
        )
    start_norm = float(np.abs(r0).max())
    start = time.perf_counter()
    nfev = 1
    with np.errstate(all="ignore"):
        best = None  # (max|G|, solution, G there): hybr's, or lm's if hybr stalled or left
        for solver in ("hybr", "lm"):
            sol = scipy.optimize.root(G, theta0, method=solver, options={"xtol": tol})
            nfev += int(sol.nfev)
            g = G(sol.x)
            norm = float(np.abs(g).max()) if np.all(np.isfinite(g)) else np.inf
            if best is None or norm < best[0]:
                best = (norm, sol, g)
            if norm < 1e-8:  # converged enough for Newton's local convergence to finish it
                break
        norm, sol, g = best
        if not np.isfinite(norm):
            raise RuntimeError(
                f"{problem.name}: the root finder left the feasible region ({sol.message})"
            )
        x, g, steps, n = _newton(G, sol.x, g, pointwise)
        nfev += n
    norm = float(np.abs(g).max())
    seconds = time.perf_counter() - start
    if norm > 1e-6:
        warnings.warn(
            f"{problem.name}: {method} stopped with residual norm {norm:.2e} ({sol.message}); "
            "try a warm start from a lower degree (solve_by_continuation)",
            RuntimeWarning,
            stacklevel=3,
        )
    message = str(sol.message) + (f" Then {steps} Newton step(s)." if steps else "")
    return EulerSolution(
        policy, x, f"{method} ({solver})", nfev, norm, seconds, message, steps, start_norm
    )


def _initial_theta(policy, theta0, s1, s2):
    if theta0 is None:  # least-squares fit of the problem's initial policy
        a0 = policy.problem.initial_policy(s1, s2)
        _check_feasible(policy.problem, s1, s2, a0)
        return policy.fit(s1, s2, a0)
    if isinstance(theta0, EulerSolution):  # warm start from a lower degree
        return policy.embed(theta0)
    theta0 = np.asarray(theta0, dtype=float)
    if theta0.shape != (policy.n_coef,):
        raise ValueError(f"theta0 must have {policy.n_coef} coefficients; got shape {theta0.shape}")
    return theta0


def solve_collocation(
    problem: EulerProblem,
    degree: int,
    degree_s2: int | None = None,
    theta0=None,
    tol: float = 1e-12,
    nodes=None,
) -> EulerSolution:
    """Collocation: ``E(pi_theta)(s_i) = 0`` at the tensor Chebyshev nodes (as many as coefficients).

    ``nodes=(s1, s2)`` overrides the nodes; they must lie inside the policy's box. ``theta0`` is
    a coefficient vector, a lower-degree :class:`EulerSolution` (warm start), or ``None`` (a fit of
    the problem's ``initial_policy``).
    """
    policy = ChebyshevPolicy(problem, degree, degree_s2)
    if nodes is None:
        s1, s2 = tensor_nodes(policy, policy.degree + 1, policy.degree_s2 + 1)
    else:
        s1, s2 = (np.asarray(v, dtype=float) for v in nodes)
        lo, hi = problem.s1_bounds
        if np.any((s1 < lo) | (s1 > hi)):
            raise ValueError(
                f"collocation nodes must lie in s1_bounds [{lo:g}, {hi:g}]; "
                f"got values from {s1.min():g} to {s1.max():g}"
            )
    theta0 = _initial_theta(policy, theta0, s1, s2)
    return _solve(
        policy,
        lambda th: euler_residual(problem, policy, th, s1, s2),
        theta0,
        "collocation",
        tol,
        (s1, s2),
    )


def solve_galerkin(
    problem: EulerProblem,
    degree: int,
    degree_s2: int | None = None,
    n_quad: int | None = None,
    theta0=None,
    tol: float = 1e-12,
) -> EulerSolution:
    """Galerkin: ``sum_q w_q phi_i(s_q) E(pi_theta)(s_q) = 0`` for every basis function ``phi_i``.

    The weighting measure is the Chebyshev measure on the box, integrated with ``n_quad``
    Gauss-Chebyshev points per dimension (default ``2 (degree + 1)``), whose weights are equal.
    """
    policy = ChebyshevPolicy(problem, degree, degree_s2)
    n_quad = 2 * (policy.degree + 1) if n_quad is None else check_int("n_quad", n_quad, 1)
    n_quad2 = 2 * (policy.degree_s2 + 1)
    s1, s2 = tensor_nodes(policy, n_quad, n_quad2)
    Phi = policy.basis(s1, s2)
    theta0 = _initial_theta(policy, theta0, s1, s2)

    def residual(th):
        return euler_residual(problem, policy, th, s1, s2)

    return _solve(
        policy,
        lambda th: Phi.T @ residual(th) / len(s1),
        theta0,
        "galerkin",
        tol,
        (s1, s2),
        pointwise=residual,
    )


# Judd's Euler error is computed from a dozen float64 operations on O(1) quantities plus a
# Chebyshev sum, so it cannot fall below a few eps (about 1e-15 for the chapter's growth model,
# reached at degree 14). Near that level a higher degree may fail to lower it with nothing wrong
# in the solve, so solve_by_continuation warns only above ACCURACY_FLOOR, well clear of it.
ACCURACY_FLOOR = 1e-13


def solve_by_continuation(
    problem: EulerProblem,
    degrees,
    solve: Callable[..., EulerSolution] | None = None,
    degree_s2: int | None = None,
) -> list[EulerSolution]:
    """Solve for each degree in turn, warm-starting each from the previous solution.

    ``solve`` is :func:`solve_collocation` (the default) or :func:`solve_galerkin`, or any function
    with their signature ``solve(problem, degree, degree_s2, theta0=...)``.
    ``degree_s2`` caps the degree in a continuous ``s2`` (default: the same as in ``s1``). Warns
    when a higher degree did not lower the largest Euler error on :func:`check_grid` (off the
    nodes) while that error is still above ``ACCURACY_FLOOR`` (not where ``degree_s2`` caps the
    degree: the error may then be the s2 approximation's).
    """
    solve = solve_collocation if solve is None else solve
    if not callable(solve):
        raise ValueError(
            f"solve must be a solver function (solve_collocation or solve_galerkin); got {solve!r}"
        )
    s1, s2 = check_grid(problem)
    solutions, prev, prev_error = [], None, np.inf
    for degree in degrees:
        d2 = None if degree_s2 is None else min(degree, degree_s2)
        prev = solve(problem, degree, d2, theta0=prev)
        error = float(euler_errors(problem, prev.policy, prev.theta, s1, s2).max())
        capped = d2 is not None and degree > degree_s2  # the s2 degree may set the error then
        if error >= prev_error and prev_error > ACCURACY_FLOOR and not capped:
            warnings.warn(
                f"{problem.name}: degree {degree} did not lower the largest off-node Euler error "
                f"({error:.2e}, previous degree {prev_error:.2e}); the solve may have stalled "
                f"({prev.message})",
                RuntimeWarning,
                stacklevel=2,
            )
        prev_error = error
        solutions.append(prev)
    return solutions


# --- dynamic programming check ------------------------------------------------------------------
def value_iteration_1d(
    problem: EulerProblem, n: int = 2000, tol: float = 1e-10, max_iter: int = 5000
):
    """Value iteration for a deterministic problem on a grid of ``n`` states, choosing the next
    state on the same grid (so the action is ``a_from_next(s1, s1')``).

    Returns ``(grid, v, policy_actions, iterations)``. Infeasible choices get value ``-inf``.
    """
    if not isinstance(problem.process, Deterministic) or problem.a_from_next is None:
        raise ValueError("value_iteration_1d needs a deterministic problem with a_from_next")
    check_int("n", n, 3)
    lo, hi = problem.s1_bounds
    grid = np.linspace(lo, hi, n)
    one = np.ones(1)
    a = problem.a_from_next(grid[:, None], one, grid[None, :])
    ok = problem.feasible(grid[:, None], one, a)
    with np.errstate(all="ignore"):
        reward = np.where(ok, problem.r(grid[:, None], one, np.where(ok, a, 1.0)), -np.inf)
    v = np.zeros(n)
    for it in range(1, max_iter + 1):  # noqa: B007 (returned: the iteration count)
        q = reward + problem.beta * v[None, :]
        choice = q.argmax(1)
        v_new = q[np.arange(n), choice]
        # modified policy iteration: evaluate the greedy choice approximately, by 50 sweeps of
        # its own Bellman operator (not exactly: that would take a linear solve)
        for _ in range(50):
            v_new = reward[np.arange(n), choice] + problem.beta * v_new[choice]
        if np.max(np.abs(v_new - v)) < tol:
            v = v_new
            break
        v = v_new
    return grid, v, a[np.arange(n), choice], it
