"""DQN's loss, target and update: properties that mutation testing (``make mutation``) found no
test for; each test kills mutants of rlbook.dqn that the other fast tests let survive
(tests/mutation-report.md)."""

import copy

import gymnasium as gym
import numpy as np
import pytest
import torch

from helpers import FLOAT32, TableQ
from rlbook import dqn

pytestmark = pytest.mark.usefixtures("one_thread")


def _agent(**overrides):
    config = dqn.DQNConfig(hidden=(8,), batch_size=16, **overrides)
    agent = dqn.DQN(gym.make("CartPole-v1"), config, np.random.SeedSequence(0))
    rng = np.random.default_rng(0)
    for _ in range(64):
        obs, next_obs = rng.normal(size=(2, 4)).astype(np.float32)
        agent.store(obs, int(rng.integers(2)), rng.normal(), next_obs, rng.random() < 0.2, False)
    return agent


def _params(net):
    return [p.detach().clone() for p in net.parameters()]


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))  # copies: bit-identical


def test_td_loss_is_the_mean_squared_error_of_the_taken_actions_values():
    """``td_loss`` is mean_i (q(s_i)[a_i] - y_i)^2, with nonzero targets of both signs."""
    q = TableQ([[1.0, 2.0], [-1.0, 0.5]])
    obs = torch.tensor([[0.0], [1.0], [0.0]])
    act = torch.tensor([1.0, 0.0, 0.0])
    y = torch.tensor([0.5, 1.0, -2.0])
    expected = ((2.0 - 0.5) ** 2 + (-1.0 - 1.0) ** 2 + (1.0 + 2.0) ** 2) / 3
    assert torch.allclose(dqn.td_loss(q, obs, act, y), torch.tensor(expected), **FLOAT32)


def _next_batch(agent):
    rng = copy.deepcopy(agent.buffer.rng)
    return agent.buffer.get(rng.integers(0, len(agent.buffer), size=agent.config.batch_size))


@pytest.mark.parametrize("double", [False, True])
def test_update_regresses_on_the_target_of_its_algorithm(double):
    """DQN's update regresses on r + gamma max_a q_target(s', a) (line 4.5); Double DQN's on
    q_target(s', argmax_a q(s', a)) (line 2.4). ``target`` and ``loss_q`` report them."""
    agent = _agent(double=double, target_period=100, gamma=0.9)
    with torch.no_grad():  # an online network far from its target, so the two rules differ
        for p in agent.q.parameters():
            p.normal_(generator=torch.Generator().manual_seed(p.numel()))
    b = _next_batch(agent)
    y_max = dqn.dqn_target(agent.q_target, b.rew, b.next_obs, b.terminated, 0.9)
    y_double = dqn.dqn_target(
        agent.q_target, b.rew, b.next_obs, b.terminated, 0.9, q_online=agent.q
    )
    assert (y_max - y_double).abs().max() > 1e-4  # the two rules differ on this batch
    y = y_double if double else y_max
    with torch.no_grad():
        loss = dqn.td_loss(agent.q, b.obs, b.act, y)
    info = agent.update()
    assert torch.allclose(info["target"], y.mean(), **FLOAT32)
    assert torch.allclose(info["loss_q"], loss, **FLOAT32)


def test_target_network_is_copied_every_k_updates_and_frozen_between():
    """Line 4.7: the target becomes the freshly updated online network at updates 0, K, 2K, ...
    and does not change in between."""
    agent = _agent(target_period=3)
    for t in range(8):
        before = _params(agent.q_target)
        agent.update()
        if t % 3 == 0:
            assert _same(_params(agent.q_target), _params(agent.q))
        else:
            assert _same(_params(agent.q_target), before)
    assert agent.updates == 8


def test_act_explores_by_default_and_is_greedy_without_exploration():
    """``act(obs)`` is the behaviour policy: with epsilon = 1 every action is uniform;
    ``act(obs, explore=False)`` is greedy whatever epsilon is."""
    agent = _agent(epsilon_start=1.0, epsilon_end=1.0, warmup_steps=0)
    obs = np.zeros(4, dtype=np.float32)
    greedy = int(agent.act_batch(obs[None])[0])
    assert {agent.act(obs, explore=False) for _ in range(50)} == {greedy}
    assert {agent.act(obs) for _ in range(200)} == {0, 1}  # P(one value 200 times) = 2^-199
