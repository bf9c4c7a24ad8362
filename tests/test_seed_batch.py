"""Many seeds in one process: ``train(..., seeds=...)`` runs a batch of independent runs.

What a batch must be: run ``i`` of a batch is the run of ``seeds[i]``, whatever the other runs
and however many there are. Here that holds **bit for bit**, on any one machine, because nothing
a run computes mixes with another run's numbers: each batched product (``torch.baddbmm``, the
output layer's multiply-and-sum) computes run ``i``'s slice from run ``i``'s operands alone with
the same kernel at every batch size; every other operation is elementwise or reduces over a run's
own batch; each loss is summed over runs (never averaged, which would scale each run's gradient
by ``1 / S``); Adam is elementwise; and each run draws its minibatches, noise and target noise
from its own generators. The tests compare a run of an ``S = 3`` batch with the ``S = 1`` batch
of the same seed exactly (they run in ``unit-emulated`` too, so the claim is checked on the AVX2
and SSE4.2 kernels as well). Against a one-seed ``train(seed=i)`` a member starts from exactly the
same weights, buffer and environment (checked exactly with updates off) and then differs by
rounding only: the one-seed actor multiplies with ``nn.Linear``'s kernel, the batch with
``baddbmm``, and training amplifies the last bits (the ground-truth tests hold for every member).
"""

import signal

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlbook import checkpoint, ddpg, dqn, sac, td3
from rlbook.envs import LQREnv, lqr_solution, soft_lqr_solution
from rlbook.loop import SeedResults, TrainingDiverged

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = dict(
    total_steps=600,
    warmup_steps=200,
    eval_every=200,
    eval_episodes=2,
    hidden=(16, 16),
    batch_size=32,
    lr_q=3e-3,  # larger steps than the defaults: rounding differences grow faster
    progress=False,
)
ALGOS = [
    pytest.param(ddpg, dict(noise="ou", target_update="ema"), id="ddpg-ou"),
    pytest.param(
        ddpg, dict(noise="gaussian", target_update="hard", target_period=50), id="ddpg-hard"
    ),
    pytest.param(td3, dict(), id="td3"),
    pytest.param(sac, dict(alpha="auto"), id="sac"),
    pytest.param(sac, dict(alpha="auto", value_network=True), id="sac-v"),
]


def _params(agent):
    return {
        f"{name}.{k}": v
        for name in agent.state_modules
        for k, v in getattr(agent, name).state_dict().items()
    }


def _same_run(a, b):
    assert a.curve == b.curve
    assert a.episodes == b.episodes
    assert a.logs == b.logs
    pa, pb = _params(a.agent), _params(b.agent)
    assert pa.keys() == pb.keys()
    assert all(torch.equal(pa[k], pb[k]) for k in pa), "parameters differ"
    for name in a.agent.state_tensors:
        assert torch.equal(getattr(a.agent, name), getattr(b.agent, name))


def _log_q(agent, step):
    """A callback: the first critic at a fixed state-action, to compare logs exactly."""
    o = torch.zeros(1, 3)
    with torch.no_grad():
        return {"q": float(agent.q(o, agent.policy(o))[0, 0])}


@pytest.mark.parametrize("module,extra", ALGOS)
def test_a_run_of_a_batch_does_not_depend_on_the_other_runs(module, extra):
    """Every run of a batch of five, at every position, against the batch of its seed alone.

    Every position, because where a run's numbers sit in a stacked tensor can matter: torch's
    fused Adam rounded the critics' output biases (two numbers per run) differently at some
    positions, and this test failed for it (the batch now uses the foreach Adam)."""
    seeds = [4, 7, 2, 9, 5]
    batch = module.train("Pendulum-v1", seeds=seeds, callback=_log_q, **SMALL, **extra)
    assert isinstance(batch, SeedResults) and len(batch) == 5 and batch.seeds == seeds
    assert batch.steps == 600 and [len(r.curve) for r in batch] == [3] * 5
    assert all(len(r.logs) == 3 for r in batch)
    for i, seed in enumerate(seeds):
        alone = module.train("Pendulum-v1", seeds=[seed], callback=_log_q, **SMALL, **extra)
        _same_run(batch[i], alone[0])
    # and the runs of the batch are different runs
    assert batch[0].curve != batch[1].curve


@pytest.mark.parametrize("module", [td3, sac], ids=["td3", "sac"])
def test_a_short_batch_does_not_depend_on_the_other_runs(module):  # 50 updates
    """The same check, short enough for the emulated CPUs of ``make unit-emulated`` (AVX2 without
    AVX-512, and SSE4.2), whose vector kernels have other widths and other tails."""
    kw = {**SMALL, "total_steps": 250, "warmup_steps": 200, "eval_every": 250, "eval_episodes": 1}
    seeds = [3, 1, 4]
    batch = module.train("Pendulum-v1", seeds=seeds, **kw)
    for i, seed in enumerate(seeds):
        _same_run(batch[i], module.train("Pendulum-v1", seeds=[seed], **kw)[0])


@pytest.mark.parametrize("module,extra", ALGOS)
def test_a_run_of_a_batch_starts_as_the_one_seed_run(module, extra):
    """Updates off (warm-up to the end): the batch's run i and train(seed=i) see the same
    environment, store the same transitions and hold the same initial networks, exactly."""
    kw = {**SMALL, "total_steps": 450, "warmup_steps": 450, "eval_every": 0}
    batch = module.train("Pendulum-v1", seeds=[0, 3], **kw, **extra)
    alone = module.train("Pendulum-v1", seed=3, **kw, **extra)
    assert batch[1].episodes == alone.episodes
    pa, pb = _params(batch[1].agent), _params(alone.agent)
    assert all(torch.equal(pa[k], pb[k]) for k in pa)
    buffer = batch.agent.buffer
    for k in buffer.fields:
        np.testing.assert_array_equal(
            getattr(buffer, k)[1, :450], getattr(alone.agent.buffer, k)[:450]
        )


class _RandomEnd(gym.Env):
    """Episodes that end at a random step, by termination or by truncation: each run of a batch
    ends its episodes at its own times."""

    def __init__(self):  # spaces per instance: each run's warm-up draws from its own space
        self.observation_space = gym.spaces.Box(-1, 1, (2,), np.float32)
        self.action_space = gym.spaces.Box(-1, 1, (1,), np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.np_random.uniform(-1, 1, 2).astype(np.float32), {}

    def step(self, action):
        self.t += 1
        obs = self.np_random.uniform(-1, 1, 2).astype(np.float32)
        terminated = bool(self.np_random.random() < 0.05)
        truncated = not terminated and self.t >= 15
        return obs, -float(np.square(action).sum()), terminated, truncated, {}


def test_terminated_and_truncated_are_kept_apart_per_run():
    kw = {**SMALL, "total_steps": 300, "warmup_steps": 300, "eval_every": 0}
    batch = td3.train(_RandomEnd, seeds=[1, 2, 5], **kw)
    buffer = batch.agent.buffer
    for i, seed in enumerate([1, 2, 5]):
        alone = td3.train(_RandomEnd, seed=seed, **kw)
        b = alone.agent.buffer
        np.testing.assert_array_equal(buffer.terminated[i, :300], b.terminated[:300])
        np.testing.assert_array_equal(buffer.truncated[i, :300], b.truncated[:300])
        assert batch[i].episodes == alone.episodes
    # both kinds of ending occur, at different steps in different runs, never both at once
    assert buffer.terminated[:, :300].sum() > 0 and buffer.truncated[:, :300].sum() > 0
    assert not (buffer.terminated[:, :300] * buffer.truncated[:, :300]).any()
    assert not np.array_equal(buffer.terminated[0, :300], buffer.terminated[1, :300])


@pytest.mark.parametrize("module,extra", ALGOS[:1] + ALGOS[2:4])
def test_ctrl_c_and_resume_of_a_batch_match_the_uninterrupted_batch(module, extra, tmp_path):
    straight = module.train("Pendulum-v1", seeds=[0, 1], **SMALL, **extra)

    def interrupt(agent, t):
        if t == 400:
            signal.raise_signal(signal.SIGINT)

    part = module.train("Pendulum-v1", seeds=[0, 1], callback=interrupt, **SMALL, **extra)
    assert part.interrupted and part.steps == 400
    assert [r.curve for r in part] == [r.curve[:2] for r in straight]
    path = checkpoint.save(part, tmp_path / "batch.pt", buffer=True, rng=True)
    from_file = checkpoint.resume(path, progress=False)
    in_memory = checkpoint.resume(part, progress=False)
    for resumed in (from_file, in_memory):
        assert isinstance(resumed, SeedResults) and resumed.steps == 600
        for a, b in zip(resumed, straight, strict=True):
            _same_run(a, b)


def test_nan_in_one_run_stops_the_batch_and_names_the_quantity():
    class NaNReward(LQREnv):
        def step(self, action):
            obs, rew, term, trunc, info = super().step(action)
            return obs, (float("nan") if self.t == 7 else rew), term, trunc, info

    with pytest.raises(TrainingDiverged, match=r"(target|loss_q) became nan at step \d+") as err:
        ddpg.train(NaNReward, seeds=[0, 1], **{**SMALL, "warmup_steps": 20, "eval_every": 0})
    assert err.value.result.steps > 0


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(seeds=[]), "at least one seed"),
        (dict(seeds=[1, 1]), "must not repeat"),
        (dict(seeds=[-1]), "seeds"),
        (dict(seeds=3), "iterable of integers"),
        (dict(seeds=[0, 1], seed=2), "not both"),
    ],
)
def test_bad_seeds_are_refused_with_the_reason(kwargs, message):
    with pytest.raises(ValueError, match=message):
        td3.train("Pendulum-v1", **SMALL, **kwargs)


def test_a_member_taken_out_of_the_batch_acts_as_the_batch_does():
    batch = sac.train("Pendulum-v1", seeds=[0, 1], **SMALL)
    obs = np.random.default_rng(0).uniform(-1, 1, size=(2, 5, 3)).astype(np.float32)
    actions = batch.agent.act_batch(obs)
    for i in range(2):  # the member's nn.Linear actor vs the batch's baddbmm: rounding only
        np.testing.assert_allclose(batch[i].agent.act_batch(obs[i]), actions[i], rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="i must be"):
        batch.agent.member(2)


# ------------------------------------------------------------------------------------------------
# ground truth for every run of a batch (see tests/test_lqr_ground_truth.py for the tolerance)
# ------------------------------------------------------------------------------------------------
GAMMA, TOLERANCE = 0.9, 0.25
LQR = dict(
    gamma=GAMMA,
    total_steps=4_000,
    warmup_steps=500,
    hidden=(64, 64),
    batch_size=256,
    eval_every=0,
    progress=False,
    seeds=range(5),
)


def _lqr_env():
    return LQREnv(
        A=[[1.0]], B=[[1.0]], Q=[[1.0]], R=[[1.0]], horizon=5, init_scale=2.0, max_action=1.0
    )


def _gain(agent) -> float:
    states = np.linspace(-1, 1, 101, dtype=np.float32)[:, None]
    slope, *_ = np.linalg.lstsq(states, -agent.act_batch(states), rcond=None)
    return float(slope[0, 0])


@pytest.mark.heavy
@pytest.mark.parametrize(
    "module,kwargs",
    [
        (ddpg, dict(target_update="ema", noise="gaussian")),
        (ddpg, dict(target_update="hard", target_period=25, noise="ou")),
        (td3, {}),
        (sac, dict(alpha=0.01)),
    ],
    ids=["ddpg-ema", "ddpg-hard", "td3", "sac"],
)
def test_every_run_of_a_batch_reaches_the_ground_truth_gain(module, kwargs):
    if module is sac:
        k_star = soft_lqr_solution(_lqr_env(), GAMMA, 0.01)[0].K[0, 0]
    else:
        k_star = lqr_solution(_lqr_env(), GAMMA).K[0, 0]
    batch = module.train(_lqr_env, **LQR, **kwargs)
    gains = [_gain(run.agent) for run in batch]
    errors = [abs(k - k_star) / k_star for k in gains]
    assert max(errors) < TOLERANCE, f"gains {np.round(gains, 3)} vs {k_star:.3f}"


def test_the_records_summaries_use_each_seed_and_the_second_half():
    from rlbook import knobs

    steps = [1000, 2000, 3000, 4000]
    runs = [
        {
            "seed": s,
            "step": steps,
            "return": [-900.0, -500.0, -200.0 + s, -150.0 - s],
            "estimate": [0.0, 0.0, 10.0 + s, 20.0 + s],
            "mc_return": [0.0, 0.0, 0.0, 0.0],
        }
        for s in range(5)
    ]
    bias = knobs.bias_summary({"min": {"runs": runs}})["min"]
    # the second half: evaluations after step 2,000, so (10 + s + 20 + s) / 2 = 15 + s per seed
    np.testing.assert_allclose(bias[3], 15.0 + np.arange(5))
    assert bias[0] == pytest.approx(17.0) and bias[1] <= 17.0 <= bias[2]
    tau = knobs.tau_summary({"0.1": {"runs": runs}})["0.1"]
    assert tau["early_step"] == 4000  # the first evaluation at or after 6,000 steps, or the last
    np.testing.assert_allclose(tau["final"][3], -150.0 - np.arange(5))


def test_seed_results_stack_the_runs_curves():
    batch = td3.train("Pendulum-v1", seeds=[0, 1], **{**SMALL, "total_steps": 400})
    steps, returns = batch.curves()
    assert list(steps) == [200, 400] and returns.shape == (2, 2)
    np.testing.assert_array_equal(batch.final_returns, returns[:, -1])
    assert batch.steps_per_second > 0


def test_a_batch_and_its_members_leave_the_callers_random_stream_alone():
    # stacking the runs' networks and taking a member out build layers whose initial weights
    # (overwritten at once) drew from torch's global generator
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    batch = td3.train("Pendulum-v1", seeds=[0, 1], **{**SMALL, "total_steps": 200})
    batch.agent.member(1)
    assert torch.equal(torch.rand(3), expected)


# ------------------------------------------------------------------------------------------------
# DQN and Double DQN (finite actions, CartPole-v1): the same contract
# ------------------------------------------------------------------------------------------------
DQN_SMALL = {**SMALL, "target_period": 50, "epsilon_decay": 200}
DQNS = [
    pytest.param(dict(), id="dqn"),
    pytest.param(dict(double=True), id="double-dqn"),
]


def _log_q_values(agent, step):
    """A callback: the Q-values at a fixed CartPole state, to compare logs exactly."""
    with torch.no_grad():
        return {"q": agent.q(torch.zeros(1, 4))[0].tolist()}


@pytest.mark.parametrize("extra", DQNS)
def test_a_dqn_run_of_a_batch_does_not_depend_on_the_other_runs(extra):
    """As for the actor-critics: every run of a batch of five, at every position, equals the batch
    of its seed alone bit for bit (its epsilon-greedy draws, buffer, updates and evaluations)."""
    seeds = [4, 7, 2, 9, 5]
    batch = dqn.train("CartPole-v1", seeds=seeds, callback=_log_q_values, **DQN_SMALL, **extra)
    assert isinstance(batch, SeedResults) and batch.seeds == seeds
    assert batch.steps == 600 and [len(r.logs) for r in batch] == [3] * 5
    for i, seed in enumerate(seeds):
        alone = dqn.train("CartPole-v1", seeds=[seed], callback=_log_q_values, **DQN_SMALL, **extra)
        _same_run(batch[i], alone[0])
        assert batch[i].agent.rng.bit_generator.state == alone[0].agent.rng.bit_generator.state
    assert batch[0].episodes != batch[1].episodes  # and they are different runs


@pytest.mark.parametrize("extra", DQNS)
def test_a_dqn_run_of_a_batch_starts_as_the_one_seed_run(extra):
    """Updates off (warm-up to the end): the same environment, transitions and initial networks
    as ``train(seed=3)``, exactly. Then acting: with epsilon kept at 1 every action after the
    warm-up is run 3's own epsilon-greedy draw, so its actions (and, through them, its episodes)
    equal the one-seed run's exactly, whatever the networks compute."""
    kw = {**DQN_SMALL, "total_steps": 450, "warmup_steps": 450, "eval_every": 0}
    batch = dqn.train("CartPole-v1", seeds=[0, 3], **kw, **extra)
    alone = dqn.train("CartPole-v1", seed=3, **kw, **extra)
    assert batch[1].episodes == alone.episodes
    pa, pb = _params(batch[1].agent), _params(alone.agent)
    assert all(torch.equal(pa[k], pb[k]) for k in pa)
    for k in batch.agent.buffer.fields:
        np.testing.assert_array_equal(
            getattr(batch.agent.buffer, k)[1, :450], getattr(alone.agent.buffer, k)[:450]
        )
    kw = {**kw, "warmup_steps": 100, "epsilon_end": 1.0}
    batch = dqn.train("CartPole-v1", seeds=[0, 3], **kw, **extra)
    alone = dqn.train("CartPole-v1", seed=3, **kw, **extra)
    np.testing.assert_array_equal(batch.agent.buffer.act[1, :450], alone.agent.buffer.act[:450])
    assert batch[1].episodes == alone.episodes
    assert batch.agent.steps == alone.agent.steps == 450  # the epsilon schedule's clock


class _RandomEndDiscrete(_RandomEnd):
    def __init__(self):
        super().__init__()
        self.action_space = gym.spaces.Discrete(3)


def test_dqn_keeps_terminated_and_truncated_apart_per_run():
    kw = {**DQN_SMALL, "total_steps": 300, "warmup_steps": 100, "eval_every": 0}
    batch = dqn.train(_RandomEndDiscrete, seeds=[1, 2, 5], **kw)
    buffer = batch.agent.buffer
    for i, seed in enumerate([1, 2, 5]):
        b = dqn.train(_RandomEndDiscrete, seed=seed, **kw).agent.buffer
        np.testing.assert_array_equal(buffer.terminated[i, :300], b.terminated[:300])
        np.testing.assert_array_equal(buffer.truncated[i, :300], b.truncated[:300])
    assert buffer.terminated[:, :300].sum() > 0 and buffer.truncated[:, :300].sum() > 0
    assert not (buffer.terminated[:, :300] * buffer.truncated[:, :300]).any()


@pytest.mark.parametrize("extra", DQNS)
def test_ctrl_c_and_resume_of_a_dqn_batch_match_the_uninterrupted_batch(extra, tmp_path):
    straight = dqn.train("CartPole-v1", seeds=[0, 1], **DQN_SMALL, **extra)

    def interrupt(agent, t):
        if t == 400:
            signal.raise_signal(signal.SIGINT)

    part = dqn.train("CartPole-v1", seeds=[0, 1], callback=interrupt, **DQN_SMALL, **extra)
    assert part.interrupted and part.steps == 400
    path = checkpoint.save(part, tmp_path / "batch.pt", buffer=True, rng=True)
    for resumed in (
        checkpoint.resume(path, progress=False),
        checkpoint.resume(part, progress=False),
    ):
        assert isinstance(resumed, SeedResults) and resumed.steps == 600
        for a, b in zip(resumed, straight, strict=True):
            _same_run(a, b)


def test_nan_in_one_dqn_run_stops_the_batch_and_names_the_quantity():
    class NaNReward(_RandomEndDiscrete):
        def step(self, action):
            obs, rew, term, trunc, info = super().step(action)
            return obs, (float("nan") if self.t == 7 else rew), term, trunc, info

    kw = {**DQN_SMALL, "warmup_steps": 20, "eval_every": 0}
    with pytest.raises(TrainingDiverged, match=r"(target|loss_q) became nan at step \d+") as err:
        dqn.train(NaNReward, seeds=[0, 1], **kw)
    assert err.value.result.steps > 0
