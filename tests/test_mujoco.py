"""DDPG, TD3 and SAC on MuJoCo tasks: more state and action dimensions, and real terminations.

These need the optional extra (``pip install -e ".[mujoco]"``, which ``make setup`` installs);
without it every test here is skipped, saying so. Each run is 300 steps: enough to fill the
buffer through warm-up and updates, and on Hopper-v5 to end episodes both ways.
"""

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip(
    "mujoco", reason='the MuJoCo tasks need the optional extra: pip install -e ".[mujoco]"'
)

from rlbook import checkpoint, ddpg, sac, td3  # noqa: E402

TASKS = ("HalfCheetah-v5", "Hopper-v5")
MODULES = {"ddpg": ddpg, "td3": td3, "sac": sac}
TINY = dict(total_steps=300, warmup_steps=100, batch_size=32, hidden=(32, 32), eval_every=0)


class Flags(gym.Wrapper):
    """Records the (terminated, truncated) flags of every step the agent saw."""

    log: list = []

    def step(self, action):
        obs, rew, terminated, truncated, info = self.env.step(action)
        Flags.log.append((bool(terminated), bool(truncated)))
        return obs, rew, terminated, truncated, info


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("algo", MODULES)
def test_trains_acts_in_the_box_and_reloads(tmp_path, task, algo):
    Flags.log = []
    # a time limit of 20 steps, so that Hopper's episodes (random ones last 9 to 70 steps) end by
    # truncation as well as by termination
    result = MODULES[algo].train(
        lambda: Flags(gym.make(task, max_episode_steps=20)), seed=0, progress=False, **TINY
    )
    agent, env = result.agent, gym.make(task)
    low, high = env.action_space.low, env.action_space.high
    obs = np.stack([env.reset(seed=i)[0] for i in range(8)]).astype(np.float32)
    actions = agent.act_batch(obs)
    assert actions.shape == (8, *env.action_space.shape)
    assert (actions >= low).all() and (actions <= high).all()
    explored = np.stack([agent.act(o, explore=True) for o in obs])
    assert (explored >= low).all() and (explored <= high).all()

    # the buffer holds what the environment said: terminated from `terminated` only, so that a
    # truncated step bootstraps (its stored terminated flag is 0)
    flags = np.array(Flags.log[: agent.buffer.size], dtype=np.float32)
    assert agent.buffer.size == TINY["total_steps"]
    np.testing.assert_array_equal(agent.buffer.terminated[: agent.buffer.size], flags[:, 0])
    np.testing.assert_array_equal(agent.buffer.truncated[: agent.buffer.size], flags[:, 1])
    # within the random warm-up (its actions come from the seeded action space, not from a
    # network's digits, so these hold on any CPU): the time limit truncated some episodes, and
    # Hopper fell in others, real terminations stored as such; HalfCheetah never terminates
    warmup = flags[: TINY["warmup_steps"]]
    assert warmup[:, 1].any()
    if task == "Hopper-v5":
        assert warmup[:, 0].any()
    else:
        assert not flags[:, 0].any()

    path = checkpoint.save(result, tmp_path / f"{algo}.pt")
    loaded = checkpoint.load(path, env=lambda: gym.make(task))
    np.testing.assert_array_equal(loaded.agent.act_batch(obs), actions)
