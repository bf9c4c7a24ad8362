"""PCL properties that mutation testing (``make mutation``) found no test for: each test kills
mutants of rlbook.pcl that the other tests let survive (tests/mutation-report.md)."""

import numpy as np
import pytest
import torch

from rlbook import pcl as P

pytestmark = pytest.mark.usefixtures("one_thread")


def _agent(d, seed=0):
    mdp = P.DeterministicMDP.random(4, 3, seed=seed)
    config = P.PCLConfig(gamma=0.9, alpha=0.5, d=d, lr_pi=0.1, lr_v=0.1)
    policy, value = P.Table(4, 3), P.Table(4, 1, init=0.3)
    with torch.no_grad():  # a non-uniform policy and value, so that every term of C counts
        policy.theta.copy_(torch.randn(4, 3, generator=torch.Generator().manual_seed(seed)))
        value.theta.copy_(torch.rand(4, 1, generator=torch.Generator().manual_seed(seed + 1)))
    return mdp, P.PCL(policy, value, config, seed=seed)


def _episode(mdp, length, seed=0):
    rng = np.random.default_rng(seed)
    actions = rng.integers(mdp.n_actions, size=length)
    return P.rollout(mdp, None, length, rng, start=0, actions=actions)


def _tables(agent):
    return [p.detach().clone() for p in (*agent.policy.parameters(), *agent.value.parameters())]


def test_path_windows_of_a_truncated_episode_shorter_than_d_are_empty():
    """After a time-limit truncation only full paths of length d are used: an episode shorter
    than d gives none (not one short path whose end value would stand for a terminal state)."""
    starts, lengths = P.path_windows(2, 3, terminated=False)
    assert starts.size == 0 and lengths.size == 0
    starts, lengths = P.path_windows(2, 3, terminated=True)  # terminated: cut at the end
    assert starts.tolist() == [0, 1] and lengths.tolist() == [2, 1]


def test_path_windows_accept_d_1_and_refuse_d_0_naming_it():
    """d = 1 (single-step consistency) is a valid path length; d = 0 is refused by name."""
    starts, lengths = P.path_windows(3, 1, terminated=False)
    assert starts.tolist() == [0, 1, 2] and lengths.tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match=r"^d must be an integer in \[1, "):
        P.path_windows(3, 0, terminated=False)


def test_an_episode_shorter_than_d_makes_no_update_and_reports_nan():
    """A truncated episode with no full path gives no consistency error: the loss is NaN (the
    training log's nanmean skips it) and the tables are untouched."""
    mdp, agent = _agent(d=5)
    before = _tables(agent)
    loss = agent.update_on_episode(_episode(mdp, 3))
    assert np.isnan(loss)
    assert all(torch.equal(a, b) for a, b in zip(before, _tables(agent), strict=True))


def test_an_episode_with_exactly_one_path_updates_on_it_and_reports_its_error():
    """An episode of exactly d steps has one path: the update uses it, and the returned loss is
    C^2 / 2 of that path, C computed by consistency_error from the tables before the step."""
    d = 4
    mdp, agent = _agent(d=d)
    ep = _episode(mdp, d)
    with torch.no_grad():
        v = agent.values(torch.as_tensor(ep.obs)).double().numpy()
        log_pi = agent.log_pi(torch.as_tensor(ep.obs[:-1]), torch.as_tensor(ep.actions))
    c = agent.config
    C = P.consistency_error(
        v[0], v[d], ep.rewards[None], log_pi.double().numpy()[None], c.gamma, c.alpha
    )
    before = _tables(agent)
    loss = agent.update_on_episode(ep)
    # float32 (the agent) against float64 (here) over 2 d + 2 terms of order 1: ~1e-6 relative
    assert loss == pytest.approx(0.5 * C[0] ** 2, rel=1e-4, abs=1e-6)
    assert not all(torch.equal(a, b) for a, b in zip(before, _tables(agent), strict=True))


def test_update_reports_half_the_mean_squared_consistency_error_of_all_paths():
    """The loss ``update_on_episode`` returns is mean C^2 / 2 over the episode's paths (the
    objective whose gradient the value step follows), computed before the step."""
    d, length = 3, 9
    mdp, agent = _agent(d=d, seed=2)
    ep = _episode(mdp, length, seed=2)
    with torch.no_grad():
        v = agent.values(torch.as_tensor(ep.obs)).double().numpy()
        log_pi = agent.log_pi(torch.as_tensor(ep.obs[:-1]), torch.as_tensor(ep.actions))
    log_pi = log_pi.double().numpy()
    starts = np.arange(length - d + 1)
    windows = starts[:, None] + np.arange(d)
    c = agent.config
    C = P.consistency_error(
        v[starts], v[starts + d], ep.rewards[windows], log_pi[windows], c.gamma, c.alpha
    )
    assert agent.update_on_episode(ep) == pytest.approx(0.5 * np.mean(C**2), rel=1e-4, abs=1e-6)


def test_sampling_an_empty_episode_replay_is_refused_with_a_reason():
    """An empty replay cannot be sampled: a ValueError that says so, not an index error."""
    with pytest.raises(ValueError, match="^cannot sample from an empty episode replay$"):
        P.EpisodeReplay(3, 0.0).sample()


def test_consistency_error_stays_on_the_device_of_its_inputs():
    """On torch tensors the discount powers are made on the inputs' device, so the error can be
    computed on a GPU (here PyTorch's data-less "meta" device stands for one)."""
    v = torch.zeros(3, device="meta")
    rewards = torch.zeros(3, 4, device="meta")
    C = P.consistency_error(v, v, rewards, rewards, 0.9, 0.5)
    assert C.device.type == "meta" and C.shape == (3,)
