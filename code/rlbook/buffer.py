"""A circular replay buffer on preallocated arrays (every algorithm's $\\mathcal{B}$).

It stores ``terminated`` separately from ``truncated``. Only termination ends the future: targets
are ``r + gamma * (1 - terminated) * next_value``. A time-limit truncation still bootstraps, because
the state where the clock ran out has a future the agent never saw.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch

from .validation import check_int

__all__ = ["Batch", "MemberReplayBuffers", "ReplayBuffer"]

#: the arrays a buffer stores, one row per transition (a leading run dimension in a batch of runs)
FIELDS = ("obs", "act", "rew", "next_obs", "terminated", "truncated")


class Batch(NamedTuple):
    obs: torch.Tensor
    act: torch.Tensor
    rew: torch.Tensor
    next_obs: torch.Tensor
    terminated: torch.Tensor  # 1.0 where the episode really ended; the bootstrap is masked
    truncated: torch.Tensor  # 1.0 where a time limit cut it; kept for analysis, never masks


class ReplayBuffer:
    """Fixed-capacity FIFO store of transitions; ``add`` overwrites the oldest when full.

    :meth:`state_dict` and :meth:`load_state_dict` save and restore everything it holds: the
    stored transitions, where the next one goes, how many there are, and its generator's state.
    """

    fields = FIELDS

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        capacity: int,
        seed=None,
        device: str | torch.device = "cpu",
    ):
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

    def state_dict(self, rng: bool = True) -> dict:
        """``pos``, ``size``, copies of the ``size`` stored rows of every field and, with ``rng``,
        the sampling generator's state: what :meth:`load_state_dict` needs to continue exactly."""
        state: dict[str, Any] = {"pos": self.pos, "size": self.size}
        state.update({k: getattr(self, k)[: self.size].copy() for k in self.fields})
        if rng:
            state["rng"] = self.rng.bit_generator.state
        return state

    def load_state_dict(self, state: dict) -> None:
        """Put a :meth:`state_dict` back, in place (the generator's state only if it was saved)."""
        pos, size = _saved_counters(state, self.capacity)
        fields = _saved_fields(self, state, size, runs=())
        if "rng" in state:
            _check_generator_states([state["rng"]], self.rng)
        for k, rows in fields.items():
            getattr(self, k)[:size] = rows
        self.pos, self.size = pos, size
        if "rng" in state:
            self.rng.bit_generator.state = state["rng"]

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


class MemberReplayBuffers:
    """The replay buffers of a batch of independent runs, stored as one array per field with a
    leading run dimension, each run sampling with its own generator.

    Every run adds one transition per environment step, so ``pos`` and ``size`` are the same for
    all; run ``i``'s indices come from ``rngs[i]``, the numbers its own :class:`ReplayBuffer`
    would draw, and :meth:`sample` returns a :class:`Batch` of shape ``(runs, batch, ...)``.
    """

    fields = FIELDS
    # FIELDS, shape (runs, capacity, ...): set by name in __init__
    obs: np.ndarray
    act: np.ndarray
    rew: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray

    def __init__(self, buffers: list[ReplayBuffer]):
        first = buffers[0]
        self.capacity, self.device = first.capacity, first.device
        self.rngs = [b.rng for b in buffers]
        for k in self.fields:  # zeros: allocated lazily, page by page as runs fill them
            setattr(self, k, np.zeros((len(buffers), *getattr(first, k).shape), np.float32))
        self.pos = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, obs, act, rew, next_obs, terminated, truncated) -> None:
        """One transition for every run: arrays with the run dimension first."""
        i = self.pos
        self.obs[:, i] = obs
        self.act[:, i] = np.asarray(act).reshape(self.act.shape[0], -1)
        self.rew[:, i] = rew
        self.next_obs[:, i] = next_obs
        self.terminated[:, i] = np.asarray(terminated, dtype=np.float32)
        self.truncated[:, i] = np.asarray(truncated, dtype=np.float32)
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def state_dict(self, rng: bool = True) -> dict:
        """As :meth:`ReplayBuffer.state_dict`, for every run: the fields' stored rows with the run
        dimension first, and with ``rng`` a list of the runs' generator states."""
        state: dict[str, Any] = {"pos": self.pos, "size": self.size}
        state.update({k: getattr(self, k)[:, : self.size].copy() for k in self.fields})
        if rng:
            state["rng"] = [r.bit_generator.state for r in self.rngs]
        return state

    def load_state_dict(self, state: dict) -> None:
        """Put a :meth:`state_dict` back, in place (the generators' states only if saved)."""
        pos, size = _saved_counters(state, self.capacity)
        fields = _saved_fields(self, state, size, runs=(len(self.rngs),))
        if "rng" in state:
            saved = state["rng"]
            if not isinstance(saved, list | tuple) or len(saved) != len(self.rngs):
                raise ValueError(
                    f"the saved buffer's 'rng' must hold one generator state per run "
                    f"({len(self.rngs)}); got {type(saved).__name__} of "
                    f"{len(saved) if isinstance(saved, list | tuple) else 'no'} states"
                )
            _check_generator_states(saved, self.rngs[0])
        for k, rows in fields.items():
            getattr(self, k)[:, :size] = rows
        self.pos, self.size = pos, size
        if "rng" in state:
            for r, saved in zip(self.rngs, state["rng"], strict=True):
                r.bit_generator.state = saved

    def sample(self, batch_size: int) -> Batch:
        """``batch_size`` transitions per run, each run's drawn by its own generator."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        check_int("batch_size", batch_size, 1)
        idx = np.stack([rng.integers(0, self.size, size=batch_size) for rng in self.rngs])
        runs = np.arange(len(self.rngs))[:, None]

        def t(x):
            return torch.from_numpy(x[runs, idx]).to(self.device, non_blocking=True)

        return Batch(*(t(getattr(self, k)) for k in self.fields))

    def member(self, i: int) -> ReplayBuffer:
        """Run ``i``'s buffer as a :class:`ReplayBuffer` (a copy, with a copy of its generator)."""
        single = ReplayBuffer(self.obs.shape[-1], self.act.shape[-1], self.capacity, 0, self.device)
        for k in self.fields:
            rows = getattr(self, k)[i]
            # only the stored rows are copied: the rest stays zero pages that cost nothing until
            # written (a full copy touched the whole capacity, 20 ms a field at 10^6 rows)
            copied = np.zeros(rows.shape, rows.dtype)
            copied[: self.size] = rows[: self.size]
            setattr(single, k, copied)
        single.pos, single.size = self.pos, self.size
        single.rng.bit_generator.state = self.rngs[i].bit_generator.state
        return single


def _saved_counters(state: dict, capacity: int) -> tuple[int, int]:
    """The saved ``pos`` and ``size``, checked before anything is loaded: ``0 <= size <=
    capacity``, ``0 <= pos < capacity``, and ``pos == size`` until the buffer is full (it fills
    row by row from row 0)."""
    for k in ("pos", "size"):
        if k not in state:
            raise ValueError(f"the saved buffer has no {k!r}")
    pos, size = int(state["pos"]), int(state["size"])
    if not 0 <= size <= capacity:
        raise ValueError(
            f"the saved buffer's size must be in [0, buffer_size = {capacity}]; got {size}"
        )
    if not 0 <= pos < capacity or (size < capacity and pos != size):
        raise ValueError(
            f"the saved buffer's pos must be in [0, {capacity - 1}] and equal size ({size}) "
            f"until the buffer is full; got {pos}"
        )
    return pos, size


def _check_generator_states(states, like: np.random.Generator) -> None:
    """Each saved generator state loads into a generator of ``like``'s kind (tried on a fresh
    one, so that nothing of the buffer is touched before every check has passed)."""
    for saved in states:
        probe = np.random.Generator(type(like.bit_generator)())
        try:
            probe.bit_generator.state = saved
        except (TypeError, ValueError, KeyError) as e:
            raise ValueError(f"the saved buffer's 'rng' is not a generator state: {e}") from e


def _saved_fields(buffer, state: dict, size: int, runs: tuple[int, ...]) -> dict[str, np.ndarray]:
    """The saved rows of every field, each checked to be the ``size`` rows this buffer stores
    (shape ``(*runs, size, ...)``, the buffer's dtype) before any is loaded: a ValueError names
    the first field that is not, instead of numpy broadcasting or casting it silently."""
    fields = {}
    for k in buffer.fields:
        if k not in state:
            raise ValueError(f"the saved buffer has no field {k!r}")
        mine, rows = getattr(buffer, k), np.asarray(state[k])
        expected = (*runs, size, *mine.shape[len(runs) + 1 :])
        if rows.shape != expected or rows.dtype != mine.dtype:
            raise ValueError(
                f"the saved buffer's {k!r} has shape {rows.shape} {rows.dtype}; this buffer "
                f"expects {expected} {mine.dtype} ({size} stored rows)"
            )
        fields[k] = rows
    return fields


def dataset_tensors(data, discrete: bool = False, device=None):
    """``(s, a, r, s', terminated)`` arrays of an offline dataset as float32 tensors (the actions
    as integer indices when ``discrete``): the one conversion the batch algorithms share."""
    obs, act, rew, next_obs, term = data

    def f(x):
        return torch.as_tensor(np.asarray(x), dtype=torch.float32, device=device)

    act = torch.as_tensor(np.asarray(act), dtype=torch.long, device=device) if discrete else f(act)
    return f(obs), act, f(rew), f(next_obs), f(term)
