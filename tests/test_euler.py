"""Euler-equation methods checked against closed forms, value iteration and Judd's accuracy."""

import warnings

import numpy as np
import pytest
import scipy.optimize

from rlbook import euler as E


def off_node_grid(problem, n=41):
    k = np.linspace(*problem.s1_bounds, n)
    if problem.process.continuous:
        z = np.linspace(*problem.s2_bounds, 11)
        K, Z = np.meshgrid(k, z)
        return K.ravel(), Z.ravel()
    return k, np.ones_like(k)


@pytest.mark.parametrize("solve", [E.solve_collocation, E.solve_galerkin])
def test_brock_mirman_closed_form_recovered(solve):
    p = E.brock_mirman()
    sol = solve(p, 3)
    k, z = off_node_grid(p)
    rel = np.abs(sol(k, z) / p.closed_form(k, z) - 1)
    assert rel.max() < 1e-8
    assert sol.residual_norm < 1e-10 and sol.nfev > 0


@pytest.mark.parametrize("solve", [E.solve_collocation, E.solve_galerkin])
def test_cake_eating_closed_form_recovered(solve):
    p = E.cake_eating(beta=0.95, R=1.02, sigma_u=2.0)
    sol = solve(p, 4)
    w, s2 = off_node_grid(p)
    assert np.abs(sol(w, s2) / p.closed_form(w, s2) - 1).max() < 1e-8


@pytest.mark.parametrize("method", [E.solve_collocation, E.solve_galerkin])
def test_accuracy_improves_with_degree_until_the_rounding_floor(method):
    """Judd's log10 max Euler error off the nodes, CRRA 2, depreciation 0.1 (no closed form).

    Continuation over degrees 2..14: each degree is warm-started from the previous one, so a
    solver that stops at (or next to) its start returns the previous degree's accuracy; this
    happened at degree 10 on some CPUs before the Newton polish. The error must fall strictly at
    every degree until it reaches ``ACCURACY_FLOOR`` (1e-13: float64 rounding of the Euler
    equation's O(1) terms, a few hundred eps; the solves reach 1e-14 to 1e-15 here). The warm
    start puts a zero in the coefficient each degree adds; it must move, for Galerkin too, whose
    ``G`` (an average of the residual) can be below the rounding floor while the residual is not.
    """
    p = E.stochastic_growth(sigma_z=0, width=0.8)
    k = np.linspace(*p.s1_bounds, 1001)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the continuation's "did not lower" warning fails here
        sols = E.solve_by_continuation(p, range(2, 15), method)
    errors = [E.euler_errors(p, s.policy, s.theta, k, np.ones_like(k)).max() for s in sols]
    log10 = np.round(np.log10(errors), 3).tolist()
    for a, b in zip(errors, errors[1:], strict=False):
        assert b < a or a < E.ACCURACY_FLOOR, log10
    assert errors[8] < errors[7] < 1e-10, log10  # degree 10 strictly better than degree 9
    assert min(errors) < E.ACCURACY_FLOOR, log10
    assert all(s.residual_norm < 1e-12 for s in sols)
    assert all(s.iterations >= 0 and s.residual_start >= s.residual_norm for s in sols)
    assert all(s.theta[-1] != 0 for s in sols), [s.theta[-1] for s in sols]  # T_degree moved


def test_continuation_warns_when_a_degree_does_not_help(monkeypatch):
    """A solver that returns its warm start unchanged is reported, not silently accepted."""
    p = E.stochastic_growth(sigma_z=0, width=0.8)
    monkeypatch.setattr(E, "_newton", lambda G, x, g, pointwise=None: (x, g, 0, 0))
    stuck = scipy.optimize.OptimizeResult(nfev=0, message="stuck")  # stops where it started
    monkeypatch.setattr(E.scipy.optimize, "root", lambda G, x0, **kw: stuck.update(x=x0) or stuck)
    warnings.filterwarnings("ignore", "growth.*stopped with residual norm")
    with pytest.warns(RuntimeWarning, match="did not lower"):
        E.solve_by_continuation(p, range(2, 7))


def test_envelope_formula_sign_against_value_iteration():
    p = E.stochastic_growth(sigma_z=0, width=0.8)
    grid, v, c_vi, _ = E.value_iteration_1d(p, n=3000)
    sol = E.solve_collocation(p, 10)
    i = np.arange(300, 2700, 50)
    dv = (v[i + 1] - v[i - 1]) / (grid[i + 1] - grid[i - 1])  # finite differences of the VI value
    k, one = grid[i], np.ones(len(i))
    c = sol(k)
    r_k, r_c, h = p.r_s1(k, one, c), p.r_a(k, one, c), p.h(k, one, c)
    assert np.abs((r_k - r_c * h) / dv - 1).max() < 1e-2  # the book's (corrected) sign
    assert np.abs((r_k + r_c * h) / dv - 1).min() > 0.5  # the source's sign is far off
    assert np.abs(c_vi[i] / c - 1).max() < 5e-3  # Euler policy agrees with the VI policy


def test_stochastic_growth_is_accurate():
    p = E.stochastic_growth(sigma_z=0.01)
    sol = E.solve_by_continuation(p, range(2, 7), degree_s2=3)[-1]
    assert sol.policy.degree == 6 and sol.policy.degree_s2 == 3
    k, z = off_node_grid(p)
    assert np.log10(E.euler_errors(p, sol.policy, sol.theta, k, z).max()) < -6


def test_energy_storage_affine_solution():
    p = E.energy_storage()
    sol = E.solve_collocation(p, 1)
    b = np.linspace(*p.s1_bounds, 21)
    for state in range(3):
        s2 = np.full_like(b, state)
        assert np.abs(E.euler_residual(p, sol.policy, sol.theta, b, s2)).max() < 1e-10
    # buy at the low price, sell at the high one
    assert sol(b, np.zeros_like(b)).mean() > 0 > sol(b, np.full_like(b, 2)).mean()
    g = E.solve_galerkin(p, 1)
    assert np.allclose(g(b, np.ones_like(b)), sol(b, np.ones_like(b)))


def test_nodes_outside_the_domain_are_refused():
    p = E.cake_eating()
    with pytest.raises(ValueError, match="s1_bounds"):
        E.solve_collocation(p, 2, nodes=(np.array([0.05, 1.0, 2.0]), np.ones(3)))


def test_infeasible_initial_guess_is_refused():
    p = E.cake_eating()
    bad = E.EulerProblem(
        **{**p.__dict__, "initial_policy": lambda w, s2: -w, "action": E.LogAction()}
    )
    with pytest.raises(ValueError, match="infeasible"):
        E.solve_collocation(bad, 2)


def test_singular_jacobian_is_refused():
    p = E.cake_eating()
    nodes = (np.array([1.0, 1.0, 2.0]), np.ones(3))  # a duplicate node
    with pytest.raises(ValueError, match="singular Jacobian"):
        E.solve_collocation(p, 2, nodes=nodes)


def test_bad_problem_definitions_are_refused():
    with pytest.raises(ValueError, match="s1_bounds"):
        E.cake_eating(bounds=(-1.0, 2.0))
    with pytest.raises(ValueError, match="beta"):
        E.cake_eating(beta=1.0)
    with pytest.raises(ValueError, match="P must be"):
        E.FiniteChain((1.0, 2.0), ((0.5, 0.6), (0.5, 0.5)))
    with pytest.raises(ValueError, match="degree"):
        E.solve_collocation(E.cake_eating(), -1)


def test_continuation_takes_a_solver_function_not_a_name():
    with pytest.raises(ValueError, match="solve must be a solver function"):
        E.solve_by_continuation(E.cake_eating(), range(2, 4), "collocation")


def test_a_problem_without_an_action_map_is_refused():
    p = E.cake_eating()
    with pytest.raises(ValueError, match="action must be"):
        E.EulerProblem(**{**p.__dict__, "action": "log"})


# --- the problems' hand-written derivatives against central differences -------------------------
PROBLEMS = {
    "brock_mirman": E.brock_mirman,
    "cake_eating": E.cake_eating,
    "cake_eating_log": lambda: E.cake_eating(sigma_u=1.0),
    "growth_deterministic": lambda: E.stochastic_growth(sigma_z=0, width=0.8),
    "growth_stochastic": E.stochastic_growth,
    "growth_crra_half": lambda: E.stochastic_growth(sigma_u=0.5, delta=0.05),
    "energy_storage": E.energy_storage,
}
EPS = np.finfo(float).eps
H = EPS ** (1 / 3)  # the relative step that balances truncation h^2 against rounding eps / h


def sample(p, n=50, seed=0):
    """States in the box, next exogenous states, and actions the policy map can produce."""
    rng = np.random.default_rng(seed)
    s1 = rng.uniform(*p.s1_bounds, n)
    if p.process.continuous:
        s2, s2n = (rng.uniform(*p.s2_bounds, n) for _ in range(2))
    else:
        s2, s2n = (rng.choice(p.process.states, n) for _ in range(2))
    a = p.action.action(rng.uniform(-1.5, 1.5, n), s1, s2)  # a share in (0.18, 0.82) or a level
    a = np.where(np.abs(a) < 0.1, 0.1 + a, a)  # relative steps in a need a away from 0
    return s1, s2, a, s2n


def central_difference(g, x, exact, parts):
    """Compare ``(g(x + d) - g(x - d)) / (x+ - x-)``, ``d = H |x|``, with the hand-written
    derivative ``exact``; return the gap and the bound it must meet.

    Truncation: ``d^2 |g'''| / 6``; for the functions here (powers c^(1-sigma) with sigma <= 2, log,
    z k^alpha, and polynomials of degree <= 2) ``x^2 |g'''| <= 6 |g'|`` (sigma (sigma + 1) = 6 is
    the largest), so it is at most ``H^2 |g'(x)|``: O(h^2). Rounding: g is a sum of terms whose
    sizes ``|g| + parts`` bounds (``parts = |s1 g_s1| + |a g_a|``: for the sums of powers and
    products here, the terms' magnitudes); each evaluation is off by at most 8 eps times that, so
    the difference is off by ``16 eps (|g| + parts) / (x+ - x-)``: O(eps / h). The denominator is
    the step actually taken (x +- d, rounded), exact by Sterbenz's lemma. A factor 10 on their sum
    covers the neglected higher-order terms.
    """
    d = H * np.where(x != 0, np.abs(x), 1.0)
    xp, xm = x + d, x - d
    gp, gm = g(xp), g(xm)
    fd = (gp - gm) / (xp - xm)
    exact = np.broadcast_to(exact, fd.shape)
    scale = np.maximum(np.abs(gp), np.abs(gm)) + np.abs(parts)
    return np.abs(fd - exact), 10 * (H**2 * np.abs(exact) + 16 * EPS * scale / (xp - xm))


@pytest.mark.parametrize("name", PROBLEMS)
def test_hand_written_derivatives_match_central_differences(name):
    """r_s1 = dr/ds1, r_a = dr/da, f_a = df/da, and the Euler-class condition df/ds1 = f_a h for
    every next exogenous state (h does not see it), in float64, at 50 random states and actions."""
    p = PROBLEMS[name]()
    s1, s2, a, s2n = sample(p)
    r_s1, r_a = p.r_s1(s1, s2, a), p.r_a(s1, s2, a)
    r_parts = np.abs(s1 * r_s1) + np.abs(a * r_a)
    checks = {
        "r_s1": central_difference(lambda x: p.r(x, s2, a), s1, r_s1, r_parts),
        "r_a": central_difference(lambda x: p.r(s1, s2, x), a, r_a, r_parts),
    }
    for i, nxt in enumerate((s2n, s2[::-1], s2)):  # several next states, one h
        f_a = p.f_a(s1, s2, a, nxt)
        f_s1 = f_a * p.h(s1, s2, a)
        f_parts = np.abs(s1 * f_s1) + np.abs(a * f_a)
        checks[f"f_a ({i})"] = central_difference(
            lambda x, n=nxt: p.f(s1, s2, x, n), a, f_a, f_parts
        )
        checks[f"f_s1 = f_a h ({i})"] = central_difference(
            lambda x, n=nxt: p.f(x, s2, a, n), s1, f_s1, f_parts
        )
    for what, (gap, bound) in checks.items():
        assert np.all(gap <= bound), (what, float((gap / bound).max()))


@pytest.mark.parametrize("name", PROBLEMS)
def test_inverses_and_feasibility(name):
    """inv_r_a inverts r_a and a_from_next inverts f (deterministic s1' given s2'), to rounding;
    the share map's upper bound is the edge of the feasible set."""
    p = PROBLEMS[name]()
    s1, s2, a, s2n = sample(p, seed=1)
    if p.inv_r_a is not None:  # x -> x^-sigma -> (.)^(-1/sigma): two roundings, condition 1/sigma
        back = p.inv_r_a(s1, s2, p.r_a(s1, s2, a))
        assert np.all(np.abs(back - a) <= 16 * EPS * np.abs(a))
    s1n = p.f(s1, s2, a, s2n)
    again = p.f(s1, s2, p.a_from_next(s1, s2, s1n), s2n)
    # f's terms (s1 f_s1, a f_a) are each rounded to a few eps and cancel down to s1n
    scale = np.abs(s1n) + np.abs(s1 * p.f_a(s1, s2, a, s2n) * p.h(s1, s2, a)) + np.abs(a)
    assert np.all(np.abs(again - s1n) <= 16 * EPS * scale)
    assert np.all(p.feasible(s1, s2, a))
    if isinstance(p.action, E.ShareOfUpper):
        top = p.action.upper(s1, s2)
        assert np.all(p.feasible(s1, s2, 0.999 * top)) and not np.any(p.feasible(s1, s2, top))
