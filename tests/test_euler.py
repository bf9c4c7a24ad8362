"""Euler-equation methods checked against closed forms, value iteration and Judd's accuracy."""

import numpy as np
import pytest

from rlbook import euler as E


def off_node_grid(problem, n=41):
    k = np.linspace(*problem.s1_bounds, n)
    if problem.process.kind == "continuous":
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


def test_accuracy_improves_with_degree_to_below_1e_minus_6():
    """Judd's log10 max Euler error off the nodes, CRRA 2, depreciation 0.1 (no closed form)."""
    p = E.stochastic_growth(sigma_z=0, width=0.8)
    k = np.linspace(*p.s1_bounds, 1001)
    errors, prev = [], None
    for degree in range(2, 11):
        prev = E.solve_collocation(p, degree, theta0=prev)
        errors.append(
            np.log10(E.euler_errors(p, prev.policy, prev.theta, k, np.ones_like(k)).max())
        )
    assert all(b < a for a, b in zip(errors, errors[1:], strict=False)), errors
    assert errors[-1] <= -6


def test_envelope_formula_sign_against_value_iteration():
    p = E.stochastic_growth(sigma_z=0, width=0.8)
    grid, v, c_vi, _ = E.value_iteration_1d(p, n=3000)
    sol = E.solve_collocation(p, 10)
    i = np.arange(300, 2700, 50)
    dv = (v[i + 1] - v[i - 1]) / (grid[i + 1] - grid[i - 1])  # finite differences of the VI value
    k, one = grid[i], np.ones(len(i))
    c = sol(k)
    r_k, r_c, h = p.r_s1(k, one, c), p.r_a(k, one, c), p.h(k, c, one)
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
        **{**p.__dict__, "initial_policy": lambda w, s2: -w, "action_transform": "log"}
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
