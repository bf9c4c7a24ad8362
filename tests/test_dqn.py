"""Batch FQI and flattened NFQI with EMA targets (rlbook.fqi_discrete), DQN and Double DQN
(rlbook.dqn) on finite action sets."""

import numpy as np
import pytest
import torch
from torch import nn

from helpers import TableQ
from rlbook import dqn, fqi_discrete, mdp
from rlbook.fqi import FQIResult

pytestmark = pytest.mark.usefixtures("one_thread")


def test_dqn_and_double_dqn_targets_on_hand_built_networks():
    online = TableQ([[0.0, 5.0], [1.0, 0.0]])  # argmax: state 0 -> action 1, state 1 -> action 0
    target = TableQ([[3.0, -1.0], [2.0, 4.0]])
    next_obs = torch.tensor([[0.0], [1.0], [1.0]])
    rew, term = torch.tensor([1.0, 1.0, 1.0]), torch.tensor([0.0, 0.0, 1.0])
    y = dqn.dqn_target(target, rew, next_obs, term, 0.5)
    assert torch.allclose(y, torch.tensor([1 + 0.5 * 3.0, 1 + 0.5 * 4.0, 1.0]))  # max of target
    y2 = dqn.dqn_target(target, rew, next_obs, term, 0.5, q_online=online)
    assert torch.allclose(y2, torch.tensor([1 + 0.5 * -1.0, 1 + 0.5 * 2.0, 1.0]))  # online picks


def test_td_loss_uses_the_taken_action():
    q = TableQ([[1.0, 2.0]])
    obs = torch.zeros(2, 1)
    loss = dqn.td_loss(q, obs, torch.tensor([0.0, 1.0]), torch.tensor([0.0, 0.0]))
    assert torch.isclose(loss, torch.tensor((1.0 + 4.0) / 2))


def test_td_loss_of_a_batch_of_runs_is_the_sum_of_their_losses():
    """Each run's loss is the mean over its own mini-batch; a batch of runs sums them (a mean
    over runs would scale each run's gradient by 1 / runs)."""
    q = TableQ([[1.0, 2.0]])
    obs = torch.zeros(2, 3, 1)  # 2 runs, 3 transitions each
    act = torch.tensor([[[0.0], [1.0], [1.0]], [[1.0], [0.0], [0.0]]])
    y = torch.tensor([[0.0, 0.0, 1.0], [3.0, 1.0, -1.0]])
    per_run = [dqn.td_loss(q, obs[i], act[i, :, 0], y[i]) for i in range(2)]
    assert per_run[0] == pytest.approx((1 + 4 + 1) / 3) and per_run[1] == pytest.approx(5 / 3)
    assert dqn.td_loss(q, obs, act, y) == pytest.approx(float(sum(per_run)))


@pytest.mark.heavy
def test_batch_fqi_and_nfqi_ema_recover_the_exact_q_star():
    """A linear Q-network on one-hot states is a table, so both must reach Q* of the MDP. Measured
    (seed 0, gamma 0.8): FQI 3e-5 after 53 iterations, NFQI-EMA 2e-5 after 5,000 steps. Each fit
    is a convex least-squares problem inside a contraction, so float32 rounding (another kernel
    set) is damped, not amplified: the tolerance 1e-3 bounds the convergence, not the digits."""
    problem = mdp.DeterministicMDP.random(6, 3, seed=0)
    q_star = mdp.q_value_iteration(problem, 0.8)
    data = mdp.mdp_dataset(problem)
    torch.manual_seed(0)
    q = nn.Linear(6, 3, bias=False)
    res = fqi_discrete.fitted_q_iteration(data, q, 0.8, iterations=80, fit_steps=200, lr=0.1)
    assert np.abs(q.weight.detach().numpy().T - q_star).max() < 1e-3
    assert res.deltas[0] > res.deltas[-1]
    q = nn.Linear(6, 3, bias=False)
    out = fqi_discrete.nfqi_ema(data, q, 0.8, steps=5_000, tau=0.05, batch_size=8, lr=0.05)
    assert np.abs(q.weight.detach().numpy().T - q_star).max() < 1e-3
    assert out.losses[-1] < out.losses[0]


def test_q_value_iteration_satisfies_the_bellman_equation():
    problem = mdp.DeterministicMDP.random(5, 2, seed=3)
    q = mdp.q_value_iteration(problem, 0.9)
    # float64, stopped at a step below 1e-13: the Bellman residual is below 0.9e-13 plus a few
    # ulp of |Q| < 6 (measured 8e-14); rtol=0, so that the default rtol (1e-5) does not swamp it
    bellman = problem.reward + 0.9 * q.max(1)[problem.next_state]
    assert np.allclose(q, bellman, rtol=0, atol=1e-12)


@pytest.mark.heavy
def test_dqn_target_copies_every_k_updates_and_epsilon_decays():
    res = dqn.train(
        "CartPole-v1",
        total_steps=400,
        warmup_steps=100,
        target_period=50,
        epsilon_decay=200,
        eval_every=0,
        hidden=(8,),
        progress=False,
    )
    agent = res.agent
    assert agent.updates == 300
    # the last copy happened at update 250: the target equals the online network as it was then,
    # so it differs now, and a copy makes them equal
    assert not all(
        torch.equal(a, b)
        for a, b in zip(agent.q.parameters(), agent.q_target.parameters(), strict=True)
    )
    assert agent.steps == 400  # every environment step, warm-up included
    assert agent.epsilon() == pytest.approx(0.05)


def test_dqn_epsilon_schedule_counts_environment_steps_from_the_end_of_warm_up():
    """Epsilon is 1 until the warm-up ends, then falls linearly over ``epsilon_decay`` environment
    steps: at environment step t it is 1 - 0.95 * min(1, max(0, t - warmup) / decay). Read through
    ``dqn.train`` (a callback after each evaluation), not by setting the counter by hand: the
    loop calls ``act`` only after the warm-up, so a clock kept by ``act`` would lag it."""
    res = dqn.train(
        "CartPole-v1",
        total_steps=350,
        warmup_steps=100,
        epsilon_decay=200,
        eval_every=50,
        eval_episodes=1,
        hidden=(8,),
        progress=False,
        callback=lambda agent, step: {"epsilon": agent.epsilon()},
    )
    got = {row["step"]: row["epsilon"] for row in res.logs}
    want = {t: 1.0 - 0.95 * min(1.0, max(0, t - 100) / 200) for t in range(50, 351, 50)}
    assert got == pytest.approx(want, abs=1e-12)
    assert got[150] == pytest.approx(0.7625) and got[300] == pytest.approx(0.05)


def test_dqn_output_layer_stays_float32_under_bf16_autocast():
    """Under ``precision="bfloat16"`` the updates run in bf16 autocast; DQN's Q-values (hundreds
    on CartPole) must come out of a float32 output layer, as the actor-critics' do
    (``networks.float32_output``): bf16 keeps 8 bits of mantissa, so 300.0 + 0.7 rounds to 300."""
    agent = dqn.train(
        "CartPole-v1", total_steps=1, warmup_steps=1, eval_every=0, hidden=(8,), progress=False
    ).agent
    obs = torch.randn(5, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        for net in (agent.q, agent.q_target):
            assert net(obs).dtype == torch.float32
    with torch.no_grad():  # a constant head: 300.7 in float32; bf16 (step 2 near 300) gives 300
        agent.q[-1].weight.zero_()
        agent.q[-1].bias.fill_(300.7)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            q = agent.q(obs)
    assert torch.allclose(q, torch.full_like(q, 300.7), rtol=0, atol=1e-4)


@pytest.mark.heavy
@pytest.mark.parametrize("double", [False, True])
def test_dqn_same_seed_same_curve(double):
    kw = dict(
        total_steps=400,
        warmup_steps=100,
        eval_every=200,
        eval_episodes=2,
        hidden=(8,),
        double=double,
        progress=False,
    )
    a, b = dqn.train("CartPole-v1", seed=1, **kw), dqn.train("CartPole-v1", seed=1, **kw)
    assert a.curve == b.curve and a.episodes == b.episodes  # bit-identical: same run, same machine


def test_dqn_refuses_continuous_actions_and_bad_settings():
    with pytest.raises(ValueError, match="finite action space"):
        dqn.train("Pendulum-v1", total_steps=10, progress=False)
    with pytest.raises(ValueError, match="epsilon_end"):
        dqn.DQNConfig(epsilon_end=1.5)
    with pytest.raises(ValueError, match="tau"):
        fqi_discrete.nfqi_ema(
            mdp.mdp_dataset(mdp.DeterministicMDP.random(3, 2)), nn.Linear(3, 2), 0.9, tau=0.0
        )


def test_offline_discrete_algorithms_return_fqi_results_and_call_back_per_iteration():
    """Batch FQI and NFQI-EMA return the offline algorithms' FQIResult and call the offline
    callback ``callback(n, q, policy)``: after every outer iteration of batch FQI, every
    ``eval_every`` gradient steps of NFQI-EMA, with ``policy`` None (the greedy policy of q)."""
    data = mdp.mdp_dataset(mdp.DeterministicMDP.random(4, 2, seed=1))
    calls = []
    q = nn.Linear(4, 2)
    res = fqi_discrete.fitted_q_iteration(
        data, q, 0.9, iterations=3, tol=0.0, fit_steps=2, callback=lambda *a: calls.append(a)
    )
    assert isinstance(res, FQIResult) and res.q is q and len(res.deltas) == 3
    assert [(n, qq is q, p) for n, qq, p in calls] == [(n, True, None) for n in (1, 2, 3)]
    calls.clear()
    out = fqi_discrete.nfqi_ema(
        data, q, 0.9, steps=10, eval_every=4, callback=lambda *a: calls.append(a)
    )
    assert isinstance(out, FQIResult) and out.q is q and out.q_target is not q
    assert out.steps == [4, 8] and len(out.losses) == 2
    assert [(n, qq is q, p) for n, qq, p in calls] == [(4, True, None), (8, True, None)]
