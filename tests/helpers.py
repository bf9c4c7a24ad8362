"""Small hand-built networks and environments for the tests."""

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from rlbook.buffer import Batch

# Tolerance for comparing two different float32 computations of the same quantity (another order
# of operations, another code path, another kernel set): float32 rounds each operation to
# eps = 1.2e-7 relative, and a short chain on values of order 1 agrees to a few ulp, so 1e-6
# absolute (8 ulp at 1) plus 1e-5 relative. torch's default atol (1e-8) is below one ulp of a
# value of order 1 and fails when an exact result happens to be near zero.
FLOAT32 = dict(rtol=1e-5, atol=1e-6)


class ConstantPolicy(nn.Module):
    """A deterministic 'actor' returning a fixed action, with the rescale interface of actors."""

    def __init__(self, action, low, high):
        super().__init__()
        from rlbook.networks import BoxRescale

        self.rescale = BoxRescale(low, high)
        self.register_buffer("action", torch.as_tensor(action, dtype=torch.float32))

    def forward(self, obs):
        return self.action.expand(obs.shape[0], -1)


class LinearQ(nn.Module):
    """``q_j(s, a) = c_j + w_j . a`` for each member j: shape (n, batch), like QEnsemble."""

    def __init__(self, consts, slopes):
        super().__init__()
        self.c = torch.as_tensor(consts, dtype=torch.float32)
        self.w = torch.as_tensor(slopes, dtype=torch.float32)

    def forward(self, obs, act, members=slice(None)):
        return (self.c[None, :] + act @ self.w.T).T[members]


class TableQ(nn.Module):
    """A fixed Q-table over integer-coded states held in the first observation entry."""

    def __init__(self, table):
        super().__init__()
        self.table = torch.as_tensor(table, dtype=torch.float32)

    def forward(self, obs):
        return self.table[obs[..., 0].long()]


def make_batch(n=4, obs_dim=3, act_dim=1, terminated=None, truncated=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    term = (
        torch.zeros(n) if terminated is None else torch.as_tensor(terminated, dtype=torch.float32)
    )
    trunc = torch.zeros(n) if truncated is None else torch.as_tensor(truncated, dtype=torch.float32)
    return Batch(
        obs=torch.randn(n, obs_dim, generator=g),
        act=torch.rand(n, act_dim, generator=g) * 2 - 1,
        rew=torch.randn(n, generator=g),
        next_obs=torch.randn(n, obs_dim, generator=g),
        terminated=term,
        truncated=trunc,
    )


class ShortEpisodes(gym.Env):
    """1-D toy task: episodes end after ``length`` steps, by termination or by truncation."""

    def __init__(self, length=5, terminate=False):
        self.length, self.terminate = length, terminate
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.t = 0
        self.resets = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        self.resets += 1
        return np.array([0.0, 0.0], dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        done = self.t >= self.length
        obs = np.array([self.t, float(np.asarray(action).ravel()[0])], dtype=np.float32)
        return (
            obs,
            -float(np.square(action).sum()),
            done and self.terminate,
            done and not self.terminate,
            {},
        )
