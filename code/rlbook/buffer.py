"""A circular replay buffer on preallocated arrays (every algorithm's $\\mathcal{B}$).

It stores ``terminated`` separately from ``truncated``. Only termination ends the future: targets
are ``r + gamma * (1 - terminated) * next_value``. A time-limit truncation still bootstraps, because
the state where the clock ran out has a future the agent never saw.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from .validation import check_int

__all__ = ["Batch", "ReplayBuffer"]


class Batch(NamedTuple):
    obs: torch.Tensor
    act: torch.Tensor
    rew: torch.Tensor
    next_obs: torch.Tensor
    terminated: torch.Tensor  # 1.0 where the episode really ended; the bootstrap is masked
    truncated: torch.Tensor  # 1.0 where a time limit cut it; kept for analysis, never masks


class ReplayBuffer:
    """Fixed-capacity FIFO store of transitions; ``add`` overwrites the oldest when full."""

    def __init__(self, obs_dim: int, act_dim: int, capacity: int, seed=None, device="cpu"):
        self.capacity = check_int("capacity", capacity, 1)
        self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.act = np.zeros((capacity, act_dim), dtype=np.float32)
        self.rew = np.zeros(capacity, dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self.truncated = np.zeros(capacity, dtype=np.float32)
        self.pos = 0  # where the next transition goes
        self.size = 0  # how many are stored
        self.rng = np.random.default_rng(seed)
        self.device = torch.device(device)

    def __len__(self) -> int:
        return self.size

    def add(self, obs, act, rew, next_obs, terminated: bool, truncated: bool) -> None:
        i = self.pos
        self.obs[i] = obs
        self.act[i] = act
        self.rew[i] = rew
        self.next_obs[i] = next_obs
        self.terminated[i] = float(terminated)
        self.truncated[i] = float(truncated)
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample_indices(self, batch_size: int) -> np.ndarray:
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        check_int("batch_size", batch_size, 1)
        return self.rng.integers(0, self.size, size=batch_size)

    def sample(self, batch_size: int) -> Batch:
        """``batch_size`` transitions drawn uniformly with replacement from those stored."""
        return self.get(self.sample_indices(batch_size))

    def get(self, idx: np.ndarray) -> Batch:
        def t(x):
            return torch.from_numpy(x[idx]).to(self.device, non_blocking=True)

        return Batch(
            t(self.obs),
            t(self.act),
            t(self.rew),
            t(self.next_obs),
            t(self.terminated),
            t(self.truncated),
        )


def dataset_tensors(data, discrete: bool = False, device=None):
    """``(s, a, r, s', terminated)`` arrays of an offline dataset as float32 tensors (the actions
    as integer indices when ``discrete``): the one conversion the batch algorithms share."""
    obs, act, rew, next_obs, term = data

    def f(x):
        return torch.as_tensor(np.asarray(x), dtype=torch.float32, device=device)

    act = torch.as_tensor(np.asarray(act), dtype=torch.long, device=device) if discrete else f(act)
    return f(obs), act, f(rew), f(next_obs), f(term)
