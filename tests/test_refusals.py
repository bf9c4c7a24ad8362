"""The refusals added in session 11: each raises a ValueError that names what is wrong."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from rlbook import td3
from rlbook.envs import flat_dim
from rlbook.gap import GapRecorder, plot_q_snapshots
from rlbook.loop import (
    Result,
    ResumeState,
    SeedResults,
    run_members,
    run_off_policy,
    snapshot_loop,
)
from rlbook.replay import untrained_agent

PENDULUM = "Pendulum-v1"


def _agent():
    config = td3.TD3Config(device="cpu", hidden=(8,), buffer_size=10)
    return td3.TD3(gym.make(PENDULUM), config, np.random.SeedSequence(0))


def _one_run(resume=None):
    return Result(agent=None, config=None, resume_state=resume)


def _batch(resume=None):
    return SeedResults(agent=None, config=None, seeds=[0, 1], resume_state=resume)


def _loop_state():
    env = gym.make(PENDULUM)
    return snapshot_loop(env, env.reset(seed=0)[0], 0.0, 0)


def _run(loop, agent, result, **seeds):
    return loop(
        agent, lambda: gym.make(PENDULUM), total_steps=1, warmup_steps=0, result=result, **seeds
    )


def test_the_one_run_loop_needs_seed_seq_to_start():
    with pytest.raises(ValueError, match="seed_seq is needed"):
        _run(run_off_policy, _agent(), _one_run(), seed_seq=None)


def test_the_batch_loop_needs_seed_seqs_to_start():
    batch = td3.TD3.stack([_agent(), _agent()])
    with pytest.raises(ValueError, match="seed_seqs is needed"):
        _run(run_members, batch, _batch(), seed_seqs=None)


def test_the_one_run_loop_refuses_a_batchs_loop_states():
    resume = ResumeState(loop=[_loop_state(), _loop_state()])
    with pytest.raises(ValueError, match="batch's loop states: continue it with run_members"):
        _run(run_off_policy, _agent(), _one_run(resume), seed_seq=None)


def test_the_batch_loop_refuses_one_runs_loop_state():
    batch = td3.TD3.stack([_agent(), _agent()])
    resume = ResumeState(loop=_loop_state())
    with pytest.raises(ValueError, match="one run's loop state: continue it with run_off_policy"):
        _run(run_members, batch, _batch(resume), seed_seqs=None)


def test_run_members_refuses_an_agent_that_is_not_a_batch():
    with pytest.raises(ValueError, match="agent must come from stack"):
        _run(run_members, _agent(), _batch(), seed_seqs=[np.random.SeedSequence(0)])


def test_stack_refuses_batches():
    batch = td3.TD3.stack([_agent(), _agent()])
    with pytest.raises(ValueError, match="stack one-run agents, not batches"):
        td3.TD3.stack([batch, _agent()])


def test_plot_q_snapshots_refuses_a_recorder_that_recorded_nothing():
    with pytest.raises(ValueError, match="recorder has no snapshot states"):
        plot_q_snapshots(GapRecorder(), steps=[])


def test_untrained_pcl_needs_a_box_action_space():
    with pytest.raises(ValueError, match="GaussianPCL needs a continuous action space"):
        untrained_agent("pcl", env_id="CartPole-v1")


def test_flat_dim_needs_a_space_with_a_shape():
    space = spaces.Tuple((spaces.Discrete(2), spaces.Discrete(3)))
    assert space.shape is None
    with pytest.raises(ValueError, match="space must have a shape"):
        flat_dim(space)
