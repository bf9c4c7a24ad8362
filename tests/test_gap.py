"""The amortization gap (:mod:`rlbook.gap`) against closed forms, and its recorder's silence.

(a) On the LQR, ``q*(s, a) = -[s; a]' H [s; a]`` is a quadratic in ``a`` with its maximum at
``-K s``; an actor ``pi(s) = -K s + delta`` has the gap ``delta' H_aa delta`` exactly. The grid
(one action dimension) must find it to within its own bound, and the bound must hold; the
gradient maximizer (two dimensions) to within 1e-3 relative. TD3's gap is measured on ``q_a``,
SAC's on the twin minimum. The soft gap of SAC is checked against a closed form: when
``q(s, a) = alpha log p(a)`` with ``p`` a squashed Gaussian of pre-squash ``N(mu*, sigma*^2)``,
the soft-greedy policy is ``p`` itself (``V_soft = 0``) and the soft gap of an actor with
``N(mu, sigma^2)`` is ``alpha KL(N(mu, sigma^2) || N(mu*, sigma*^2))`` (the KL divergence does not
change under the squashing, a bijection). ``V_soft`` of the quadratic is the Gaussian integral.
(b) A run with the :class:`~rlbook.gap.GapRecorder` as its callback is the run without it, bit for
bit, for DDPG, TD3 and SAC, and the recorder leaves torch's and numpy's global generators as they
were; a recorder that draws from the agent's generator or the global one is caught.
(c) Bad inputs raise ``ValueError`` naming the parameter.
"""

import math

import numpy as np
import pytest
import torch
from torch import nn

from rlbook import ddpg, gap, sac, td3
from rlbook.envs import LQREnv, lqr_solution
from rlbook.loop import seed_everything
from rlbook.networks import SquashedGaussianActor

pytestmark = pytest.mark.usefixtures("one_thread")

GAMMA = 0.9


def lqr_env(m: int = 1, max_action: float = 1.0) -> LQREnv:
    if m == 1:
        return LQREnv(A=[[1.0]], B=[[1.0]], Q=[[1.0]], R=[[1.0]], horizon=5, max_action=max_action)
    return LQREnv(
        A=[[1.0, 0.1], [0.0, 1.0]],
        B=[[1.0, 0.0], [0.3, 1.0]],
        Q=np.eye(2),
        R=[[1.0, 0.2], [0.2, 2.0]],
        horizon=5,
        max_action=max_action,
    )


class QuadraticCritics(nn.Module):
    """``n`` critics, critic ``j`` = ``scales[j] * q*(s, a)``, in QEnsemble's ``(n, batch)`` form."""

    def __init__(self, H, scales=(1.0,)):
        super().__init__()
        self.register_buffer("H", torch.as_tensor(H, dtype=torch.float32))
        self.register_buffer("scales", torch.as_tensor(scales, dtype=torch.float32))
        self.weight = nn.Parameter(torch.zeros(()))  # a parameter, as a critic has

    def forward(self, obs, act, members=slice(None)):
        z = torch.cat([obs, act], -1)
        q = -((z @ self.H) * z).sum(-1)
        return self.scales[members, None] * q + 0 * self.weight


class LinearActor(nn.Module):
    """``pi(s) = -K s + delta``."""

    def __init__(self, K, delta):
        super().__init__()
        self.register_buffer("K", torch.as_tensor(K, dtype=torch.float32))
        self.register_buffer("delta", torch.as_tensor(delta, dtype=torch.float32))

    def forward(self, obs):
        return -obs @ self.K.T + self.delta


def agent_on(module, env, **config):
    cfg = module.train.__globals__[module.__name__.split(".")[-1].upper() + "Config"]
    agent_class = {ddpg: ddpg.DDPG, td3: td3.TD3, sac: sac.SAC}[module]
    return agent_class(env, cfg(device="cpu", hidden=(8,), **config), seed_everything(0))


# -- (a) closed forms ------------------------------------------------------------------------------
@pytest.mark.parametrize("delta", [0.0, 0.05, -0.2, 0.35])
def test_the_gap_of_a_shifted_lqr_actor_is_the_quadratic_in_delta(delta):
    env = lqr_env()
    sol = lqr_solution(env, GAMMA)
    agent = agent_on(ddpg, env)
    agent.q, agent.policy = QuadraticCritics(sol.H), LinearActor(sol.K, [delta])
    states = np.linspace(-1, 1, 41, dtype=np.float32)[:, None]  # |K s + delta| < 1: inside
    g = gap.amortization_gap(agent, states, threshold=0.01)
    exact = sol.H[1, 1] * delta**2
    assert g.critic == "q_a"
    # float32 evaluates q (values up to ~3) to ~1e-6; the grid's own error is within g.bound
    assert np.all(np.abs(g.gap - exact) <= g.bound + 1e-5)
    assert np.all(g.bound < 1e-3)  # about 3 H h^2 / 4 with h = 0.01
    np.testing.assert_allclose(g.argmax[:, 0], -sol.K[0, 0] * states[:, 0], atol=2e-3)
    np.testing.assert_allclose(g.actions[:, 0], -sol.K[0, 0] * states[:, 0] + delta, atol=1e-6)
    assert g.fraction == float(exact > 0.01)


def test_the_grid_bound_covers_a_coarse_grid_and_refining_finds_the_max():
    env = lqr_env()
    sol = lqr_solution(env, GAMMA)
    q = QuadraticCritics(sol.H)
    states = torch.linspace(-1, 1, 23)[:, None]
    exact = -(sol.H[0, 0] - sol.H[0, 1] ** 2 / sol.H[1, 1]) * states[:, 0].double().numpy() ** 2

    def q1(o, a):
        return q(o, a)[0]

    for points, refine in ((5, 0), (11, 0), (11, 40)):
        _, q_max, bound, _, q_grid = gap.maximize_1d(q1, states, -1.0, 1.0, points, refine)
        missed = exact - q_max
        assert np.all(missed >= -1e-5) and np.all(missed <= bound + 1e-5)
        if refine == 0 and points == 5:
            assert missed.max() > 1e-2  # the coarse grid misses, and its bound says so
    assert np.all(np.abs(missed) < 1e-5)  # refined: float32's rounding only


def test_where_the_actor_beats_a_coarse_search_its_action_is_the_argmax():
    # the exact actor -K s sits between the points of a 5-point grid with no refinement: the
    # search misses the max, pi(s) reaches it, and the argmax reported is pi(s), with no gap
    env = lqr_env()
    sol = lqr_solution(env, GAMMA)
    agent = agent_on(ddpg, env)
    agent.q, agent.policy = QuadraticCritics(sol.H), LinearActor(sol.K, [0.0])
    states = np.linspace(-0.9, 0.9, 19, dtype=np.float32)[:, None]
    g = gap.amortization_gap(agent, states, points=5, refine=0)
    assert np.all(g.gap == 0)
    np.testing.assert_array_equal(g.argmax[:, 0], g.actions[:, 0].astype(np.float64))
    np.testing.assert_array_equal(g.q_max, g.q_pi)


def test_td3_measures_the_critic_its_actor_ascends_and_sac_the_twin_minimum():
    env = lqr_env()
    sol = lqr_solution(env, GAMMA)
    states = np.linspace(-1, 1, 21, dtype=np.float32)[:, None]
    exact = sol.H[1, 1] * 0.2**2
    agent = agent_on(td3, env)
    agent.q, agent.policy = QuadraticCritics(sol.H, (1.0, 2.0)), LinearActor(sol.K, [0.2])
    np.testing.assert_allclose(gap.amortization_gap(agent, states).gap, exact, atol=1e-3)
    np.testing.assert_allclose(
        gap.amortization_gap(agent, states, critic="min").gap, 2 * exact, atol=2e-3
    )
    agent = agent_on(sac, env, alpha=0.0)
    agent.q = QuadraticCritics(sol.H, (1.0, 2.0))
    agent.policy = LinearActor(sol.K, [0.2])  # SAC's hard gap uses only pi(s)
    g = gap.amortization_gap(agent, states)
    assert g.critic == "min" and g.soft_gap is None  # alpha = 0: no soft gap
    np.testing.assert_allclose(g.gap, 2 * exact, atol=2e-3)


def test_two_action_dimensions_by_the_gradient_maximizer():
    env = lqr_env(m=2, max_action=3.0)
    sol = lqr_solution(env, GAMMA)
    delta = np.array([0.3, -0.25])
    agent = agent_on(ddpg, env)
    agent.q, agent.policy = QuadraticCritics(sol.H), LinearActor(sol.K, delta)
    states = np.random.default_rng(1).uniform(-1, 1, (16, 2)).astype(np.float32)
    g = gap.amortization_gap(agent, states)
    exact = delta @ sol.H[2:, 2:] @ delta
    np.testing.assert_allclose(g.gap, exact, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(g.argmax, -states @ sol.K.T, atol=2e-2)
    assert np.isnan(g.bound).all()
    assert all(p.grad is None for p in agent.q.parameters())  # no gradient left on the critic


class FixedGaussian(SquashedGaussianActor):
    """A squashed Gaussian with the same pre-squash ``N(mu, sigma^2)`` at every state."""

    def __init__(self, low, high, mu, log_std):
        super().__init__(1, low, high, hidden=(4,))
        self.mu, self.log_std = mu, log_std

    def distribution_params(self, obs):
        shape = (obs.shape[0], 1)
        return torch.full(shape, self.mu), torch.full(shape, self.log_std)


class LogDensityCritics(nn.Module):
    """Two equal critics ``q(s, a) = alpha log p(a)``, ``p`` the density of ``actor``."""

    def __init__(self, actor, alpha):
        super().__init__()
        self.actor, self.alpha = actor, alpha

    def forward(self, obs, act, members=slice(None)):
        q = self.alpha * self.actor.log_prob(obs, act)
        return torch.stack([q, q])[members]


@pytest.mark.parametrize("mu,log_std", [(0.3, math.log(0.5)), (-0.4, math.log(0.3)), (0.1, 0.0)])
def test_the_soft_gap_is_alpha_times_the_kl_to_the_soft_greedy_policy(mu, log_std):
    env = lqr_env(max_action=2.0)  # the interval [-2, 2]: scale 2, the log-density's -log 2
    alpha, mu_star, log_std_star = 0.5, 0.1, math.log(0.4)
    agent = agent_on(sac, env, alpha=alpha)
    agent.policy = FixedGaussian(agent.low, agent.high, mu, log_std)
    agent.q = LogDensityCritics(FixedGaussian(agent.low, agent.high, mu_star, log_std_star), alpha)
    states = np.zeros((4, 1), dtype=np.float32)
    g = gap.amortization_gap(agent, states, points=801)
    s, s_star = math.exp(log_std), math.exp(log_std_star)
    kl = math.log(s_star / s) + (s**2 + (mu - mu_star) ** 2) / (2 * s_star**2) - 0.5
    np.testing.assert_allclose(g.v_soft, 0.0, atol=1e-4)  # p integrates to 1 on the interval
    np.testing.assert_allclose(g.soft_gap, alpha * kl, rtol=1e-3, atol=1e-4)
    assert np.all(g.soft_bound < 1e-3)
    assert g.alpha == pytest.approx(alpha)
    # pi_q is the squashed Gaussian of mu_star: its median is 2 tanh(mu_star), and the spread gap
    # is the hard gap there
    np.testing.assert_allclose(g.pi_q_median, 2 * math.tanh(mu_star), atol=2e-4)
    with torch.no_grad():
        act = torch.as_tensor(g.pi_q_median[:, None], dtype=torch.float32)
        q_med = agent.q(torch.as_tensor(states), act).min(0).values.double().numpy()
    np.testing.assert_allclose(g.spread_gap, g.q_max - q_med, atol=1e-6)


@pytest.mark.parametrize("slope,alpha", [(2.7, 0.03), (-2.7, 0.03), (1.0, 1.0), (0.0, 0.1)])
def test_the_median_of_pi_q_for_a_linear_critic_is_the_truncated_exponential_one(slope, alpha):
    """q = slope a on [-2, 2]: pi_q has density proportional to exp(r a), r = slope / alpha, and
    CDF (e^(r (a + 2)) - 1) / (e^(4 r) - 1); steep, its median lies alpha ln 2 / |slope| inside
    the bound, so a perfect actor's hard gap there is alpha ln 2, whatever the slope."""
    grid = np.linspace(-2.0, 2.0, 201)
    median = gap.boltzmann_median(grid, slope * grid[None, :], alpha)[0]
    r = slope / alpha
    exact = 0.0 if r == 0 else -2.0 + math.log1p(0.5 * math.expm1(4 * r)) / r
    assert median == pytest.approx(exact, abs=1e-9)
    if abs(r) > 50:
        assert slope * (2.0 * np.sign(slope) - median) == pytest.approx(alpha * math.log(2))


def test_the_median_of_pi_q_for_a_quadratic_critic_matches_a_dense_sum():
    grid = np.linspace(-2.0, 2.0, 201)
    q_grid = np.stack([-3.0 * (grid - 0.3) ** 2, 0.5 * grid**3 - grid])
    dense = np.linspace(-2.0, 2.0, 400_001)
    for row, median in zip(q_grid, gap.boltzmann_median(grid, q_grid, 0.2), strict=True):
        weights = np.exp((np.interp(dense, grid, row) - row.max()) / 0.2)
        cdf = np.cumsum(weights)
        assert median == pytest.approx(dense[np.searchsorted(cdf, cdf[-1] / 2)], abs=2e-5)
    with pytest.raises(ValueError, match="alpha"):
        gap.boltzmann_median(grid, q_grid, 0.0)
    with pytest.raises(ValueError, match="q_grid"):
        gap.boltzmann_median(grid, q_grid[:, :5], 0.2)


def test_v_soft_of_the_lqr_quadratic_is_the_gaussian_integral():
    env = lqr_env(max_action=2.0)
    sol = lqr_solution(env, GAMMA)
    q = QuadraticCritics(sol.H)
    states = torch.linspace(-1, 1, 9)[:, None]
    alpha = 0.05

    def q1(o, a):
        return q(o, a)[0]

    _, q_max, _, grid, q_grid = gap.maximize_1d(q1, states, -2.0, 2.0, 801, 30)
    actor = FixedGaussian(np.float32([-2.0]), np.float32([2.0]), 0.0, 0.0)
    _, v_soft, _, soft_bound = gap.soft_gap(q1, actor, states, alpha, grid, q_grid)
    h = sol.H[1, 1]  # exp(q / alpha) is a Gaussian of variance alpha / (2 h), deep inside [-2, 2]
    exact = q_max + 0.5 * alpha * math.log(math.pi * alpha / h)
    # q linear between grid points lies below the concave q: V_soft comes out a little low, by
    # less than the change from the rule on every other point
    assert np.all(np.abs(v_soft - exact) <= soft_bound) and np.all(soft_bound < 1e-4)


# -- (b) the recorder does not change the run ------------------------------------------------------
SMALL = dict(
    total_steps=600,
    warmup_steps=200,
    eval_every=200,
    eval_episodes=2,
    hidden=(16, 16),
    batch_size=32,
    progress=False,
    device="cpu",
)
ALGOS = [(ddpg, {}), (td3, {}), (sac, {"alpha": "auto"})]


def _params(agent):
    out = {}
    for name in agent.state_modules:
        for k, v in getattr(agent, name).state_dict().items():
            out[f"{name}.{k}"] = v
    for name in agent.state_tensors:
        out[name] = getattr(agent, name).detach()
    return out


def _run(module, extra, callback=None):
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002
    result = module.train("Pendulum-v1", seed=3, callback=callback, **SMALL, **extra)
    after = np.random.get_state()  # noqa: NPY002
    kept = torch.equal(torch.get_rng_state(), torch_state) and (
        np.array_equal(after[1], np_state[1]) and after[2] == np_state[2]
    )
    return result, kept


def _same_run(a, b) -> bool:
    pa, pb = _params(a.agent), _params(b.agent)
    return (
        a.curve == b.curve
        and a.episodes == b.episodes
        and pa.keys() == pb.keys()
        and all(torch.equal(pa[k], pb[k]) for k in pa)
        and torch.equal(a.agent.generator.get_state(), b.agent.generator.get_state())
        and a.agent.buffer.rng.bit_generator.state == b.agent.buffer.rng.bit_generator.state
    )


@pytest.mark.parametrize("module,extra", ALGOS, ids=["ddpg", "td3", "sac"])
def test_the_recorder_does_not_change_the_run(module, extra):
    plain, _ = _run(module, extra)
    recorder = gap.GapRecorder(every=200, n_states=32, points=21)
    recorded, kept = _run(module, extra, recorder)
    assert _same_run(plain, recorded)
    assert kept, "the recorder changed torch's or numpy's global generator"
    assert [r["step"] for r in recorder.rows] == [200, 400, 600]
    assert [log["step"] for log in recorded.logs] == [200, 400, 600]
    assert len(recorder.snapshots) == 3 and recorder.snapshots[0]["q_grid"].shape == (3, 21)
    assert all(r["gap_median"] >= 0 for r in recorder.rows)
    if module is sac:
        assert all("soft_median" in r for r in recorder.rows)


class _DrawsFromTheAgent(gap.GapRecorder):
    def __call__(self, agent, step):
        torch.randn(1, generator=agent.generator)  # the agent's own stream: the run changes
        return super().__call__(agent, step)


class _DrawsFromTorch(gap.GapRecorder):
    def __call__(self, agent, step):
        torch.randn(1)  # the global stream: the caller's experiment changes
        return super().__call__(agent, step)


def test_the_silence_checks_catch_a_recorder_that_draws():
    """The checks above are not vacuous: a recorder drawing from the agent's generator changes
    the run (TD3 draws its target noise from it), and one drawing from torch's global generator
    leaves it changed."""
    plain, _ = _run(td3, {})
    changed, kept = _run(td3, {}, _DrawsFromTheAgent(every=200, n_states=8, points=11))
    assert not _same_run(plain, changed) and kept
    same, kept = _run(td3, {}, _DrawsFromTorch(every=200, n_states=8, points=11))
    assert _same_run(plain, same) and not kept


# -- (c) bad inputs ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"threshold": -1.0}, "threshold"),
        ({"threshold": float("nan")}, "threshold"),
        ({"points": 2}, "points"),
        ({"refine": -1}, "refine"),
        ({"critic": "q_b"}, "critic"),
        ({"nodes": 1}, "nodes"),
        ({"nodes": 1024}, "nodes"),  # numpy's Gauss-Hermite rule overflows: not a NaN gap
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, name):
    env = lqr_env(max_action=2.0)
    agent = agent_on(sac, env, alpha=0.2)
    with pytest.raises(ValueError, match=name):
        gap.amortization_gap(agent, np.zeros((3, 1), np.float32), **kwargs)


@pytest.mark.parametrize("states", [np.zeros(3), np.zeros((3, 2)), np.zeros((0, 1)), [[np.nan]]])
def test_bad_states_are_refused(states):
    agent = agent_on(ddpg, lqr_env())
    with pytest.raises(ValueError, match="states"):
        gap.amortization_gap(agent, states)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"every": 0}, "every"),
        ({"n_states": 0}, "n_states"),
        ({"quantile": 1.5}, "quantile"),
        ({"threshold": -0.1}, "threshold"),
        ({"points": 1}, "points"),
        ({"seed": -1}, "seed"),
        ({"critic": "max"}, "critic"),
        ({"snapshot_obs": np.zeros(3)}, "states"),
    ],
)
def test_bad_recorder_settings_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        gap.GapRecorder(**kwargs)


def test_a_batch_of_runs_is_refused():
    batch = ddpg.train(
        "Pendulum-v1", seeds=[0, 1], **{**SMALL, "total_steps": 210, "eval_every": 0}
    )
    with pytest.raises(ValueError, match="agent is a batch"):
        gap.amortization_gap(batch.agent, np.zeros((2, 3), np.float32))
    recorder = gap.GapRecorder(every=10, n_states=4, points=5)
    recorder(batch[0].agent, 10)
    with pytest.raises(ValueError, match="one recorder per run"):
        recorder(batch[1].agent, 10)


def test_the_figures_draw_what_was_recorded():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agent = agent_on(sac, lqr_env(max_action=2.0), alpha=0.2, eval_every=5)
    for s in np.linspace(-1, 1, 10):
        agent.store(np.float32([s]), np.float32([0.0]), 0.0, np.float32([s]), False, False)
    recorder = gap.GapRecorder(every=5, n_states=6, points=11)
    assert recorder(agent, 3) is None  # not a multiple of every: nothing measured
    for step in (5, 10):
        log = recorder(agent, step)
        assert set(log) >= {"gap_median", "gap_high", "gap_fraction", "soft_median"}
    assert len(recorder.states) == 6 and len(recorder.seconds) == 2
    axes = gap.plot_gap(recorder)
    assert len(axes[0].lines) == 4  # SAC: the soft gap's two lines and the hard gap's two
    assert set(log) >= {"spread_median", "spread_high", "spread_fraction"}
    axes = gap.plot_q_snapshots(recorder, [5, 10])
    assert np.shape(axes) == (2, 3)
    labels = axes[0][0].get_legend_handles_labels()[1]
    assert labels == ["evaluation action", "argmax"]  # SAC's pi(s) is a distribution
    with pytest.raises(ValueError, match="steps"):
        gap.plot_q_snapshots(recorder, [7])
    plt.close("all")
    with pytest.raises(ValueError, match="no rows"):
        gap.plot_gap(gap.GapRecorder())


def test_sac_v_is_measured_as_sac():
    env = lqr_env(max_action=2.0)
    config = sac.SACConfig(device="cpu", hidden=(8,), alpha=0.3, value_network=True)
    agent = sac.SAC.for_config(config)(env, config, seed_everything(0))
    assert isinstance(agent, sac.SACValueNetwork)
    g = gap.amortization_gap(agent, np.linspace(-1, 1, 5, dtype=np.float32)[:, None])
    assert g.critic == "min" and g.alpha == pytest.approx(0.3)
    assert np.all(g.gap >= 0) and np.all(g.soft_gap > -g.soft_bound - 1e-4)


def test_a_recorder_whose_every_misses_the_evaluations_is_refused():
    agent = agent_on(td3, lqr_env(), eval_every=200)
    with pytest.raises(ValueError, match="every must be a multiple of the config's eval_every"):
        gap.GapRecorder(every=300)(agent, 200)
