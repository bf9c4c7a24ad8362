"""Fitted Q-iteration with explicit and amortized maximization, and NFQCA, on a discounted LQR.

The Q-model is :class:`rlbook.fqi.QuadraticQ`, which contains the optimal Q-function of the LQR,
so FQI with exact maximization must converge to it (a gamma-contraction with exact fits). Data:
500 transitions with s ~ U[-1, 1]^2, a ~ U[-2, 2], the double integrator of ``LQREnv``, gamma 0.5.
Measured (seed 0, the same to 2 digits under ATEN_CPU_CAPABILITY=default/avx2/avx512): explicit
FQI with the grid maximizer, relative error of H 5e-5 after 16 iterations, gain error 1e-5;
amortized FQI (20% exact maximization, window 2) 1e-6 to 2e-6 with the linear policy within 3e-4
of the argmax; NFQCA gain error 1e-4 (absolute). Every fit is a convex regression inside a
gamma-contraction, so float32 rounding is damped: the tolerances below bound the grid and the
convergence, not one CPU's digits.
"""

import numpy as np
import pytest
import torch
from torch import nn

from rlbook import envs, fqi, nfqca
from rlbook.envs import LQREnv, lqr_solution

GAMMA = 0.5


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def lqr():
    env = LQREnv(max_action=5.0)
    rng = np.random.default_rng(0)
    S = rng.uniform(-1, 1, (500, 2))
    A = rng.uniform(-2, 2, (500, 1))
    R = -(np.einsum("bi,ij,bj->b", S, env.Q, S) + np.einsum("bi,ij,bj->b", A, env.R, A))
    S2 = S @ env.A.T + A @ env.B.T
    return (S, A, R, S2, np.zeros(500)), lqr_solution(env, GAMMA)


def rel_err(H, H_star):
    return np.abs(H - H_star).max() / np.abs(H_star).max()


def analytic_argmax(q: fqi.QuadraticQ, s: torch.Tensor, m: int) -> torch.Tensor:
    H = q.H.detach()
    b = q.b.detach()
    n = s.shape[1]
    return torch.linalg.solve(H[n:, n:], (b[n:] / 2)[:, None] - H[n:, :n] @ s.T).T[:, :m]


# grid: half the spacing 6 / 600 (measured 4.6e-3); gradient ascent and CEM stop after a fixed
# budget (measured 4.7e-3 and 2e-4); L-BFGS to float32 resolution (measured 1.2e-7)
@pytest.mark.parametrize(
    "name,make,tol",
    [
        ("grid", lambda: fqi.grid_maximizer([-3.0], [3.0], 601), 6e-3),
        ("gradient", lambda: fqi.gradient_maximizer([-3.0], [3.0], restarts=2, steps=100), 1e-2),
        ("cem", lambda: fqi.cem_maximizer([-3.0], [3.0], iterations=8), 1e-2),
        ("lbfgs", lambda: fqi.lbfgs_maximizer([-3.0], [3.0]), 1e-4),
    ],
)
def test_maximizers_find_the_argmax_of_a_concave_quadratic(name, make, tol):
    torch.manual_seed(1)
    q = fqi.QuadraticQ(2, 1)
    with torch.no_grad():
        q.L.copy_(torch.eye(3) + 0.3 * torch.randn(3, 3))
        q.b.normal_()
    s = torch.rand(64, 2) * 2 - 1
    a_star = analytic_argmax(q, s, 1)
    assert a_star.abs().max() < 3  # interior maximizers
    acts, values = make()(q, s)
    assert (acts - a_star).abs().max() < tol, (acts - a_star).abs().max()
    assert torch.allclose(values, q(s, acts), atol=1e-5)  # float32 q, values of order 1


def test_maximizers_respect_the_box():
    q = fqi.QuadraticQ(1, 1)
    with torch.no_grad():
        q.b.copy_(torch.tensor([0.0, 100.0]))  # the unconstrained argmax is far above the box
    s = torch.zeros(5, 1)
    for maximize in (
        fqi.grid_maximizer([-1.0], [1.0], 11),
        fqi.gradient_maximizer([-1.0], [1.0]),
        fqi.cem_maximizer([-1.0], [1.0]),
        fqi.lbfgs_maximizer([-1.0], [1.0]),
    ):
        acts, _ = maximize(q, s)
        assert torch.allclose(acts, torch.ones(5, 1), atol=1e-3)  # projected or clipped to 1


@pytest.mark.heavy
def test_explicit_fqi_recovers_the_riccati_q_and_gain(lqr):
    data, sol = lqr
    torch.manual_seed(0)
    q = fqi.QuadraticQ(2, 1)
    res = fqi.fqi_explicit(
        data,
        q,
        fqi.grid_maximizer([-5.0], [5.0], 401),
        GAMMA,
        iterations=40,
        fit_steps=300,
        lr=0.02,
    )
    H = q.H.detach().double().numpy()
    assert res.deltas[-1] < 1e-8 and len(res.deltas) < 40
    assert rel_err(H, sol.H) < 1e-3
    K = np.linalg.solve(H[2:, 2:], H[2:, :2])
    assert np.abs(K - sol.K).max() < 1e-4


@pytest.mark.heavy
def test_amortized_fqi_policy_matches_the_explicit_argmax(lqr):
    data, sol = lqr
    torch.manual_seed(0)
    q, policy = fqi.QuadraticQ(2, 1), nn.Linear(2, 1)
    res = fqi.fqi_amortized(
        data,
        q,
        policy,
        fqi.grid_maximizer([-5.0], [5.0], 401),
        GAMMA,
        opt_fraction=0.2,
        window=2,
        iterations=40,
        fit_steps=300,
        policy_steps=300,
        lr=0.02,
    )
    assert rel_err(q.H.detach().double().numpy(), sol.H) < 1e-3
    s = torch.rand(200, 2) * 2 - 1
    with torch.no_grad():
        gap = (policy(s) - analytic_argmax(q, s, 1)).abs().max()
    assert gap < 5e-3
    assert len(res.deltas_pi) == len(res.deltas)


@pytest.mark.heavy
def test_nfqca_policy_approaches_the_lqr_gain(lqr):
    data, sol = lqr
    torch.manual_seed(0)
    q, policy = fqi.QuadraticQ(2, 1), nn.Linear(2, 1)
    nfqca.nfqca(data, q, policy, GAMMA, iterations=60, k_q=300, k_pi=100, lr_q=0.02, lr_pi=0.02)
    K = -policy.weight.detach().double().numpy()
    assert np.abs(K - sol.K).max() < 1e-3
    assert abs(policy.bias.item()) < 1e-3


def test_bad_inputs_are_refused(lqr):
    data, _ = lqr
    q = fqi.QuadraticQ(2, 1)
    with pytest.raises(ValueError, match="gamma"):
        fqi.fqi_explicit(data, q, fqi.grid_maximizer([-1.0], [1.0]), 1.0)
    with pytest.raises(ValueError, match="opt_fraction"):
        fqi.fqi_amortized(
            data, q, nn.Linear(2, 1), fqi.grid_maximizer([-1.0], [1.0]), 0.5, opt_fraction=0.0
        )
    with pytest.raises(ValueError, match="points"):
        fqi.grid_maximizer([-1.0], [1.0], 1)
    with pytest.raises(ValueError, match="k_q"):
        nfqca.nfqca(data, q, nn.Linear(2, 1), 0.5, k_q=0)


def test_compare_maximizers_scores_every_method_against_the_best_value():
    def q(s, a):  # maximized at a = 1 with value s_1 + s_2 - 5
        return -((a[:, 0] - 1.0) ** 2) + s.sum(-1) - 5.0

    states = torch.rand(50, 2) * 2 - 1
    exact = fqi.grid_maximizer([-5.0], [5.0], 2001)
    rows = fqi.compare_maximizers(
        q,
        states,
        {
            "exact": exact,
            "zero action": lambda q, s: (torch.zeros(len(s), 1), None),
        },
    )
    by = {r[0]: r for r in rows}
    assert by["exact"][2] == pytest.approx(0.0, abs=1e-6)  # the best is exact's own value
    assert by["zero action"][2] > 1e-4 and by["zero action"][3] >= by["zero action"][2]
    assert all(r[1] >= 0 for r in rows)


def test_pendulum_dataset_is_deterministic_and_consistent():
    a = envs.pendulum_dataset(250, seed=3)
    b = envs.pendulum_dataset(250, seed=3)
    # bit-identical on purpose: the same computation, repeated on the same machine
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    obs, act, rew, nxt, term = a
    assert obs.shape == (250, 3) and act.shape == (250, 1) and not term.any()
    assert np.abs(act).max() <= 2.0 and rew.max() <= 0.0
    assert np.allclose(nxt[:199], obs[1:200])  # consecutive steps of the first episode (copies)
    q = fqi.MLPQ(3, 1, (8,))
    assert q(torch.as_tensor(obs), torch.as_tensor(act)).shape == (250,)
