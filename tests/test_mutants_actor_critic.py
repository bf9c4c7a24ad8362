"""Properties of the actor-critic updates (rlbook.agent, ddpg, td3, sac) that mutation testing
(``make mutation``) found no test for: each test kills mutants that the other fast tests let
survive (tests/mutation-report.md).

The update tests replay what ``update()`` draws: the next mini-batch (a copy of the buffer's
generator) and the next torch draws (a copy of the agent's generator), then compare the scalars
the update reports (``TrainingDiverged`` names them) with the pure functions of the algorithm.
"""

import copy

import gymnasium as gym
import numpy as np
import pytest
import torch

from helpers import FLOAT32, ConstantPolicy, LinearQ, make_batch
from rlbook import agent as agent_module
from rlbook import ddpg, sac, td3
from rlbook.networks import DeterministicActor


def _agent(cls, config):
    agent = cls(gym.make("Pendulum-v1"), config, np.random.SeedSequence(0))
    rng = np.random.default_rng(0)
    for _ in range(64):
        obs = rng.normal(size=3).astype(np.float32)
        next_obs = rng.normal(size=3).astype(np.float32)
        agent.store(obs, rng.uniform(-2, 2, 1), rng.normal(), next_obs, rng.random() < 0.2, False)
    return agent


def _next_draws(agent):
    """The mini-batch and a generator in the state that the next ``update()`` will use."""
    rng = copy.deepcopy(agent.buffer.rng)
    batch = agent.buffer.get(rng.integers(0, len(agent.buffer), size=agent.config.batch_size))
    generator = torch.Generator(device=agent.device)
    generator.set_state(agent.generator.get_state())
    return batch, generator


def _params(net):
    return [p.detach().clone() for p in net.parameters()]


def _close(value, expected):
    # the same float32 operations on the same inputs, possibly in another order: a few ulp
    return torch.allclose(torch.as_tensor(value), torch.as_tensor(expected), **FLOAT32)


# --- DDPG ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("target_update", ["hard", "ema"])
def test_ddpg_update_reports_the_loss_and_target_of_its_batch(target_update):
    """``loss_q`` is the critic's squared error on the sampled batch against the target of
    line 6.7, ``target`` that target's mean, both before the step; ``loss_pi`` is reported."""
    agent = _agent(
        ddpg.DDPG,
        ddpg.DDPGConfig(hidden=(8,), batch_size=16, gamma=0.8, target_update=target_update),
    )
    batch, _ = _next_draws(agent)
    y = ddpg.critic_target(agent.q_target, agent.policy_target, batch, 0.8)
    with torch.no_grad():
        loss_q = agent_module.critic_loss(agent.q, y, batch)
    info = agent.update()
    assert _close(info["target"], y.mean()) and _close(info["loss_q"], loss_q)
    assert torch.isfinite(info["loss_pi"])


def test_ddpg_ema_targets_move_a_fraction_tau_toward_the_updated_networks():
    """With ``target_update="ema"`` every update moves both targets (critic and actor) a
    fraction tau of the way toward the freshly updated online networks."""
    tau = 0.25
    agent = _agent(
        ddpg.DDPG, ddpg.DDPGConfig(hidden=(8,), batch_size=16, target_update="ema", tau=tau)
    )
    for _ in range(3):
        q_t, pi_t = _params(agent.q_target), _params(agent.policy_target)
        agent.update()
        for before, net, target in (
            (q_t, agent.q, agent.q_target),
            (pi_t, agent.policy, agent.policy_target),
        ):
            for b, o, t in zip(before, _params(net), _params(target), strict=True):
                assert not torch.equal(o, b)  # the online network moved
                assert _close(t, b + tau * (o - b))
    assert agent.updates == 3  # the pseudocode's t: updates made so far


# --- TD3 -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "switches",
    [
        dict(),
        dict(twin="mean", target_noise=0.3, noise_clip=0.1),
        dict(twin="min", smoothing=False),
        dict(twin="none", target_noise=0.05, noise_clip=1.0),
    ],
    ids=["defaults", "mean-narrow-noise", "no-smoothing", "single-critic"],
)
def test_td3_update_uses_its_configured_target(switches):
    """The update's target is line 8.1-8.2 with the config's switches (twin rule, smoothing,
    target noise and clip) and the agent's own generator: ``target`` and ``loss_q`` equal the
    pure functions' on the same batch and draws."""
    config = td3.TD3Config(hidden=(8,), batch_size=16, gamma=0.8, **switches)
    agent = _agent(td3.TD3, config)
    torch.manual_seed(123)  # the global generator must not be the one the target noise uses
    batch, generator = _next_draws(agent)
    y = td3.critic_target(
        agent.q_target,
        agent.policy_target,
        batch,
        0.8,
        twin=config.twin,
        smoothing=config.smoothing,
        target_noise=config.target_noise,
        noise_clip=config.noise_clip,
        generator=generator,
    )
    with torch.no_grad():
        loss_q = agent_module.critic_loss(agent.q, y, batch)
    torch.manual_seed(456)
    info = agent.update()
    assert _close(info["target"], y.mean()) and _close(info["loss_q"], loss_q)
    assert torch.isfinite(info["loss_pi"])  # the first update moves the actor (policy_delay)


def _generator(seed):
    return torch.Generator().manual_seed(seed)


def test_td3_target_without_switches_is_td3_with_the_papers_settings():
    """Called without switches, ``td3.critic_target`` is TD3 as the config's defaults set it:
    twin minimum, smoothing with target noise 0.2 and clip 0.5 (the paper's values)."""
    # 2,000 transitions: the noise passes the clip 0.5 = 2.5 sigma on about 25 of them
    batch = make_batch(2000, obs_dim=3, terminated=[0, 1] * 1000)
    policy = DeterministicActor(3, [-2.0], [2.0], hidden=(8,))
    q = LinearQ([0.5, -0.2], [[1.0], [-2.0]])
    c = td3.TD3Config()
    y_default = td3.critic_target(q, policy, batch, 0.9, generator=_generator(3))
    y_explicit = td3.critic_target(
        q,
        policy,
        batch,
        0.9,
        twin=c.twin,
        smoothing=c.smoothing,
        target_noise=c.target_noise,
        noise_clip=c.noise_clip,
        generator=_generator(3),
    )
    assert (c.twin, c.smoothing, c.target_noise, c.noise_clip) == ("min", True, 0.2, 0.5)
    assert torch.equal(y_default, y_explicit)  # the same operations on the same draws


def test_td3_target_noise_comes_from_the_generator_passed_in():
    """The smoothing noise is drawn from the given generator only: the same generator state
    gives the same target whatever the global torch generator did (runs are reproducible)."""
    batch = make_batch(32, obs_dim=3)
    policy = DeterministicActor(3, [-1.0], [1.0], hidden=(8,))
    q = LinearQ([0.0, 0.0], [[1.0], [1.0]])
    ys = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        ys.append(td3.critic_target(q, policy, batch, 0.9, generator=_generator(5)))
        torch.manual_seed(global_seed)
        a = td3.smoothed_target_action(policy, batch.next_obs, 0.2, 0.5, _generator(5))
        ys.append(a)
    assert torch.equal(ys[0], ys[2]) and torch.equal(ys[1], ys[3])


def test_td3_smoothed_action_stays_in_the_box_at_the_lower_bound():
    """Near the lower bound the clipped noise cannot push the target action below ``low``:
    the smoothed action is clipped to the box on both sides."""
    low, high = [-2.0], [2.0]
    pi_t = ConstantPolicy([-1.9], low, high)
    a = td3.smoothed_target_action(pi_t, torch.zeros(10_000, 3), 0.2, 0.5, _generator(0))
    assert a.min() >= -2.0  # the box, exactly: clamp(-1, 1) is rescaled to [low, high]
    # noise below -0.05 (normalized units) reaches the bound: P(N(0, 0.2^2) < -0.05) = 0.40,
    # and 10,000 draws estimate it to a standard error of 0.005
    assert (a == -2.0).float().mean() > 0.3


def test_td3_mean_rule_averages_the_two_critics_per_transition():
    """``twin="mean"`` averages q_a and q_b transition by transition (each next action has its
    own pair of values), not over the whole batch."""
    batch = make_batch(16, obs_dim=3, terminated=[0, 0, 1, 0] * 4)
    policy = DeterministicActor(3, [-1.0], [1.0], hidden=(8,))  # actions differ per state
    q = LinearQ([1.0, -1.0], [[2.0], [0.5]])
    y = td3.critic_target(q, policy, batch, 0.9, twin="mean", smoothing=False)
    with torch.no_grad():
        a = policy(batch.next_obs)[:, 0]
    mean_q = ((1.0 + 2.0 * a) + (-1.0 + 0.5 * a)) / 2
    assert a.std() > 0.01  # the test needs different next actions
    assert _close(y, batch.rew + 0.9 * (1 - batch.terminated) * mean_q)


# --- SAC -----------------------------------------------------------------------------------------
def test_sac_update_reports_the_losses_of_its_batch_and_draws():
    """One SAC update: ``target`` and ``loss_q`` are lines 5.7-5.10 on the sampled batch with the
    alpha before the update, ``loss_pi`` line 5.12 against the updated critics with the next
    draws of the agent's generator, and (automatic alpha) ``alpha`` and ``loss_alpha`` the
    temperature and its loss on that actor sample."""
    agent = _agent(sac.SAC, sac.SACConfig(hidden=(8,), batch_size=16, gamma=0.8, init_alpha=0.3))
    torch.manual_seed(7)  # the global generator must not be the one the samples use
    batch, generator = _next_draws(agent)
    alpha = agent.alpha
    log_alpha = agent.log_alpha.detach().clone()
    policy = copy.deepcopy(agent.policy)
    y = sac.critic_target(agent.q_target, policy, batch, 0.8, alpha, generator)
    with torch.no_grad():
        loss_q = agent_module.critic_loss(agent.q, y, batch)
    torch.manual_seed(8)
    info = agent.update()
    with torch.no_grad():
        loss_pi, logp = sac.actor_loss(agent.q, policy, batch.obs, alpha, generator)
        loss_alpha = sac.alpha_loss(log_alpha, logp, agent.target_entropy)
    assert _close(info["target"], y.mean()) and _close(info["loss_q"], loss_q)
    assert _close(info["loss_pi"], loss_pi)
    assert info["alpha"] == pytest.approx(0.3, rel=1e-6)  # float32 log, then exp
    assert _close(info["loss_alpha"], loss_alpha)
    assert agent.updates == 1
    agent.update()
    assert agent.updates == 2  # the pseudocode's t: updates made so far


# --- the critics' loss shared by DDPG, TD3 and SAC -----------------------------------------------
def test_critic_loss_sums_over_critics_the_mean_squared_error_over_the_batch():
    """``critic_loss`` is sum_j mean_i (q_j(s_i, a_i) - y_i)^2: each critic regressed on the same
    target, the critics' losses added (so each critic gets the gradient of its own loss)."""
    batch = make_batch(4, obs_dim=1)
    q = LinearQ([0.5, -1.0], [[2.0], [1.0]])
    y = torch.tensor([1.0, -0.5, 2.0, 0.0])
    a = batch.act[:, 0]
    expected = ((0.5 + 2.0 * a - y) ** 2).mean() + ((-1.0 + a - y) ** 2).mean()
    assert _close(agent_module.critic_loss(q, y, batch), expected)


def test_td3_smoothing_noise_is_drawn_on_the_actions_device():
    """The smoothing noise is drawn on the device of the target actions (a GPU in training; here
    PyTorch's data-less "meta" device stands for one), so the sum never mixes devices."""
    pi_t = ConstantPolicy([0.5], [-1.0], [1.0]).to("meta")
    a = td3.smoothed_target_action(pi_t, torch.zeros(4, 3, device="meta"), 0.2, 0.5)
    assert a.device.type == "meta" and a.shape == (4, 1)


def test_the_value_network_variant_of_sac_follows_its_equations():
    """SAC-V (``value_network=True``), replayed from the same draws: the critics' target is
    ``r + gamma (1 - terminated) v_target(s')``; the value network is regressed, by one Adam step
    on the mean squared error, onto ``min_j q_j(s, a) - alpha log pi(a|s)`` with a fresh
    ``a ~ pi(.|s)`` drawn from the agent's own generator after the critics' and actor's steps;
    the update reports every loss under its name and counts one update per call."""
    config = sac.SACConfig(
        value_network=True, alpha=0.2, batch_size=16, hidden=(8,), gamma=0.9, tau=0.1
    )
    agent = _agent(sac.SACValueNetwork, config)
    ref = copy.deepcopy(agent.state_dict())
    twin = _agent(sac.SACValueNetwork, config)
    twin.load_state_dict(ref)
    batch, generator = _next_draws(agent)
    torch.manual_seed(123)  # a global generator in another state: the update must not use it
    info = agent.update()
    assert {"loss_q", "loss_pi", "target", "loss_v"} <= set(info) and agent.updates == 1
    # the same steps, written from the equations above, on the twin
    with torch.no_grad():
        v_next = twin.v_target(batch.next_obs)[:, 0]
        y = batch.rew + 0.9 * (1.0 - batch.terminated) * v_next
    assert torch.equal(info["target"], y.mean())
    agent_module.gradient_step(twin.q_optimizer, sac.critic_loss(twin.q, y, batch), twin.q_params)
    alpha = twin.alpha  # exp(log 0.2) in float32, as the agent uses it
    loss_pi, _ = sac.actor_loss(twin.q, twin.policy, batch.obs, alpha, generator)
    assert torch.equal(info["loss_pi"], loss_pi)
    agent_module.gradient_step(twin.policy_optimizer, loss_pi, twin.policy_params)
    with torch.no_grad():
        act, logp = twin.policy.sample(batch.obs, generator)
        v_y = twin.q(batch.obs, act).min(dim=0).values - alpha * logp
    loss_v = ((twin.v(batch.obs)[:, 0] - v_y) ** 2).mean()
    assert torch.equal(info["loss_v"], loss_v)
    agent_module.gradient_step(twin.v_optimizer, loss_v, twin.v_params)
    for a, b in zip(agent.v.parameters(), twin.v.parameters(), strict=True):
        assert torch.equal(a, b)
    agent.update()
    assert agent.updates == 2
