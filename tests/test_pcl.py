"""PCL and Unified PCL against a deterministic MDP solved exactly by soft value iteration.

Convergence settings: 6 states, 3 actions, gamma 0.9, alpha 0.5, episodes of 20 steps from a
uniform start, 100 uniformly random episodes placed in the replay first (the off-policy data that
covers every action), 2 replayed episodes per new one, Adam with rates (0.05, 0.1) decaying by
0.998 (d = 1) or 0.999 (d = 5, whose paths mix more noise into a step and need more of it) per
iteration, 2,000 iterations. The final errors max|v - v*| / max|pi - pi*| are those of a stochastic
run: another seed, or a CPU whose float32 digits flip one sampled action, gives another run, so
the tolerances cover the worst of seeds 0-7 (agent seed s, exploration seed s + 1), where v*
ranges over 9-13 and the uniform policy is 0.56 from pi*: PCL worst 1e-4 / 5e-4 (typical 5e-5 /
1e-5), Unified PCL worst 0.028 / 0.013 (d = 1) and 0.007 / 0.014 (d = 5). Tolerances: 0.02 / 0.01
for PCL, 0.15 / 0.05 for Unified PCL. (With 0.998 for d = 5, seeds 1 and 7 missed PCL's policy
tolerance, and seeds 1, 2 and 5 Unified PCL's: the seed 0 of the test had passed by chance.)
"""

import numpy as np
import pytest
import torch

from helpers import FLOAT32
from rlbook import pcl as P

GAMMA, ALPHA = 0.9, 0.5


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def solved():
    mdp = P.DeterministicMDP.random(6, 3, seed=0)
    return mdp, *P.soft_value_iteration(mdp, GAMMA, ALPHA)


def random_paths(mdp, d, n, rng):
    starts, ends, rews, logp_idx = [], [], [], []
    for _ in range(n):
        s = int(rng.integers(mdp.n_states))
        path, acts, r = [s], [], []
        for _ in range(d):
            a = int(rng.integers(mdp.n_actions))  # actions from an arbitrary behaviour policy
            acts.append(a)
            r.append(mdp.reward[s, a])
            s = int(mdp.next_state[s, a])
            path.append(s)
        starts.append(path[0])
        ends.append(path[-1])
        rews.append(r)
        logp_idx.append((path[:-1], acts))
    return np.array(starts), np.array(ends), np.array(rews), logp_idx


@pytest.mark.parametrize("d", [1, 2, 3, 5, 8])
def test_optimum_has_zero_consistency_error_on_every_path(solved, d):
    mdp, v, q, pi = solved
    s0, sd, rews, idx = random_paths(mdp, d, 500, np.random.default_rng(d))
    log_pi = np.array([np.log(pi[s, a]) for s, a in idx])
    C = P.consistency_error(v[s0], v[sd], rews, log_pi, GAMMA, ALPHA)
    # float64: v* to 1e-14 (the stopping rule of soft value iteration), |v*| < 13, and C sums
    # 2d + 2 terms each exact to a few ulp (2e-15): |C| ~ 1e-13
    assert np.abs(C).max() < 1e-10


def test_a_non_optimal_pair_has_nonzero_error(solved):
    mdp, v, q, pi = solved
    s0, sd, rews, idx = random_paths(mdp, 3, 200, np.random.default_rng(0))
    uniform = np.full_like(rews, np.log(1 / 3))
    C = P.consistency_error(v[s0], v[sd], rews, uniform, GAMMA, ALPHA)
    assert np.abs(C).max() > 1e-2


def test_soft_value_iteration_fixed_point(solved):
    mdp, v, q, pi = solved
    # float64, stopped at a step below 1e-14: sum pi = exp((T v - v) / alpha) is 1 to ~1e-14
    # and v = T v to ~1e-14 plus a few ulp of |v| < 13 (measured 2e-14 and 9e-15); rtol=0, so
    # that the default rtol (1e-5) does not swamp the bound
    assert np.allclose(pi.sum(1), 1, rtol=0, atol=1e-12)
    assert np.allclose(v, ALPHA * np.log(np.exp(q / ALPHA).sum(1)), rtol=0, atol=1e-12)


def test_unified_d1_error_is_the_soft_bellman_error(solved):
    mdp = solved[0]
    torch.manual_seed(0)
    table = P.Table(mdp.n_states, mdp.n_actions)
    with torch.no_grad():
        table.theta.normal_()
    agent = P.UnifiedPCL(table, P.PCLConfig(gamma=GAMMA, alpha=ALPHA, d=1))
    s = torch.arange(mdp.n_states).repeat_interleave(mdp.n_actions)
    a = torch.arange(mdp.n_actions).repeat(mdp.n_states)
    s_next = torch.as_tensor(mdp.next_state)[s, a]
    r = torch.as_tensor(mdp.reward, dtype=torch.float32)[s, a]
    with torch.no_grad():
        C = P.consistency_error(
            agent.values(s),
            agent.values(s_next),
            r[:, None],
            agent.log_pi(s, a)[:, None],
            GAMMA,
            ALPHA,
        )
        bellman = r + GAMMA * agent.values(s_next) - table(s)[torch.arange(len(s)), a]
    # two float32 formulas for one quantity, values of order 3: a few ulp (~1e-6)
    assert torch.allclose(C, bellman, atol=1e-5)


def _train(agent_kind, d, solved):
    mdp, v, q, pi = solved
    cfg = P.PCLConfig(
        gamma=GAMMA,
        alpha=ALPHA,
        d=d,
        lr_pi=0.05,
        lr_v=0.1,
        optimizer="adam",
        episode_length=20,
        replay_updates=2,
        lr_decay=0.998 if d == 1 else 0.999,
    )
    if agent_kind == "pcl":
        agent = P.PCL(P.Table(6, 3), P.Table(6, 1), cfg, seed=0)
    else:
        agent = P.UnifiedPCL(P.Table(6, 3), cfg, seed=0)
    rng = np.random.default_rng(1)
    explore = [P.rollout(mdp, None, 20, rng, actions=rng.integers(0, 3, 20)) for _ in range(100)]
    result = P.train_tabular(
        mdp, agent, 2000, demonstrations=explore, evaluate_every=2000, reference=(v, pi)
    )
    return tuple(P.distances(result)[-1])


@pytest.mark.heavy
@pytest.mark.parametrize("d", [1, 5])
def test_pcl_converges_to_the_soft_optimum(solved, d):
    _, v_err, pi_err = _train("pcl", d, solved)
    assert v_err < 0.02 and pi_err < 0.01, (v_err, pi_err)


@pytest.mark.heavy
@pytest.mark.parametrize("d", [1, 5])
def test_unified_pcl_converges_to_the_soft_optimum(solved, d):
    _, v_err, pi_err = _train("unified", d, solved)
    assert v_err < 0.15 and pi_err < 0.05, (v_err, pi_err)


def test_replay_priorities_are_a_stable_softmax_and_capacity_is_fifo():
    replay = P.EpisodeReplay(capacity=3, lam=1.0, seed=0)
    for ret in [1000.0, 1001.0, 999.0, 1002.0]:  # exp(1000) would overflow
        replay.add(
            P.Episode(np.zeros(2, dtype=np.int64), np.zeros(1, dtype=np.int64), np.array([ret]))
        )
    assert replay.returns == [1001.0, 999.0, 1002.0]  # the oldest was removed
    p = replay.probabilities()
    expected = np.exp([1001 - 1002, 999 - 1002, 0.0])
    assert np.allclose(p, expected / expected.sum())  # float64: ~1e-16
    counts = (
        np.bincount([replay.returns.index(replay.sample().ret) for _ in range(4000)], minlength=3)
        / 4000
    )
    # 4,000 draws: standard errors sqrt(p (1 - p) / 4000) <= 0.0072, so 0.03 is > 4 of them
    assert np.allclose(counts, p, rtol=0, atol=0.03)
    uniform = P.EpisodeReplay(capacity=3, lam=0.0)
    for e in replay.episodes:
        uniform.add(e)
    assert np.allclose(uniform.probabilities(), 1 / 3)


def test_path_windows_cut_at_termination_but_not_after_truncation():
    starts, lengths = P.path_windows(5, 3, terminated=False)
    assert starts.tolist() == [0, 1, 2] and lengths.tolist() == [3, 3, 3]
    starts, lengths = P.path_windows(5, 3, terminated=True)
    assert starts.tolist() == [0, 1, 2, 3, 4] and lengths.tolist() == [3, 3, 3, 2, 1]


@pytest.mark.parametrize(
    "field,value",
    [
        ("d", 0),
        ("alpha", 0.0),
        ("lam", -1.0),
        ("gamma", 1.0),
        ("lr_pi", 0.0),
        ("capacity", 0),
        ("optimizer", "rmsprop"),
        ("reward_scale", 0.0),
    ],
)
def test_config_validation(field, value):
    with pytest.raises(ValueError, match=field):
        P.PCLConfig(**{field: value})


def test_gaussian_pcl_density_sampling_and_determinism():
    """The continuous variant: a bounded-density Gaussian (samples unclipped, the environment
    clips them), PCL's updates unchanged; same seed, same run."""
    from rlbook.envs import LQREnv

    policy = P.GaussianPolicy(2, [-2.0], [2.0], hidden=(8,))
    obs = torch.randn(5, 2)
    act = policy.sample(obs, torch.Generator().manual_seed(0))
    expected = torch.distributions.Normal(policy(obs), policy.std()).log_prob(act).sum(-1)
    assert torch.allclose(policy.log_prob(obs, act), expected, **FLOAT32)  # two float32 formulas
    assert torch.all(policy(obs).abs() <= 2.0)  # the mean stays in the box
    with torch.no_grad():
        policy.log_std.fill_(-50.0)
    # clamped: log pi stays bounded (exp of log 0.1 in float32: a few ulp)
    assert torch.allclose(policy.std(), torch.tensor([0.1]), **FLOAT32)
    config = P.PCLConfig(gamma=0.9, alpha=0.1, d=3, lr_pi=1e-3, lr_v=1e-3, optimizer="adam")
    runs = [
        P.train_env(
            lambda: LQREnv(horizon=20), config, episodes=6, eval_every=3, seed=s, hidden=(8,)
        ).curve
        for s in (1, 1, 2)
    ]
    assert runs[0] == runs[1] and runs[0] != runs[2]  # bit-identical: same run, same machine
    assert [c["step"] for c in runs[0]] == [60, 120]


def test_reward_scale_multiplies_the_rewards_the_updates_see(solved):
    """``reward_scale`` c: the consistency error is computed with c * r; with c = 2 and alpha
    doubled, C doubles exactly for a doubled value (the problem is the same, rescaled)."""
    mdp = solved[0]
    rng = np.random.default_rng(0)
    ep = P.rollout(mdp, None, 12, rng, start=0, actions=rng.integers(mdp.n_actions, size=12))
    errors = []
    for c, alpha, v_scale in ((1.0, 0.5, 1.0), (2.0, 1.0, 2.0)):
        config = P.PCLConfig(gamma=0.9, alpha=alpha, d=4, reward_scale=c)
        policy, value = P.Table(mdp.n_states, mdp.n_actions), P.Table(mdp.n_states, 1, init=0.3)
        with torch.no_grad():
            value.theta.mul_(v_scale)
        agent = P.PCL(policy, value, config)
        p = agent._paths(ep)
        windows = np.arange(9)[:, None] + np.arange(4)  # 12 steps, d = 4, truncated: 9 paths
        assert torch.allclose(
            p["rew"], torch.as_tensor(c * ep.rewards[windows], dtype=torch.float32)
        )
        errors.append(2 * agent.update_on_episode(ep))  # mean C^2 before the step
    # doubling is exact in floating point, but the doubled C's are summed and squared in float32:
    # a few ulp of the mean (eps = 1.2e-7)
    assert errors[1] == pytest.approx(4 * errors[0], rel=1e-5)
