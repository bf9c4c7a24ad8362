"""Exploration noise for deterministic policies (Algorithm ``ddpg`` line 6.3).

Noise is expressed in **normalized action units**: a noise value of 1 is half the width of the
action box. The interaction loop adds ``scale * noise`` to the policy's action and clips to the box,
as TD3 and Stable-Baselines3 do, so the same ``sigma`` means the same thing on every task.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .validation import check_int, check_real

__all__ = [
    "GaussianNoise",
    "MemberNoise",
    "OrnsteinUhlenbeckNoise",
    "ou_path_std",
    "ou_stationary_std",
]


class GaussianNoise:
    """Independent draws ``eta_t ~ N(0, sigma^2 I)``."""

    def __init__(self, size: int, sigma: float = 0.1, seed=None):
        self.size = check_int("size", size, 1)
        self.sigma = check_real("sigma", sigma, 0.0)
        self.rng = np.random.default_rng(seed)

    def reset(self) -> None:
        """Nothing to reset: the draws are independent."""

    def __call__(self) -> np.ndarray:
        return self.sigma * self.rng.standard_normal(self.size)

    def state_dict(self, rng: bool = True) -> dict:
        """With ``rng``, the generator's state (the draws are independent: nothing else)."""
        return {"rng": self.rng.bit_generator.state} if rng else {}

    def load_state_dict(self, state: dict) -> None:
        """Put a :meth:`state_dict` back (the generator's state only if it was saved)."""
        if "rng" in state:
            self.rng.bit_generator.state = state["rng"]


class OrnsteinUhlenbeckNoise:
    """Euler-Maruyama discretisation of the Ornstein-Uhlenbeck process (Uhlenbeck and Ornstein 1930):

        eta_{t+1} = eta_t + theta * (mu - eta_t) * dt + sigma * sqrt(dt) * eps_t,  eps_t ~ N(0, I).

    ``reset()`` puts the state back to ``x0`` (default ``mu``); the interaction loop calls it at the
    start of every episode, so no correlation leaks from one episode into the next. The stationary
    standard deviation is ``sigma * sqrt(dt / (1 - (1 - theta*dt)^2))``, about
    ``sigma / sqrt(2 theta)`` for small ``theta*dt`` (see :func:`ou_stationary_std`); a path reset
    to ``mu`` approaches it only after a few ``1 / (2 theta dt)`` steps (see :func:`ou_path_std`).
    """

    def __init__(
        self,
        size: int,
        theta: float = 0.15,
        sigma: float = 0.2,
        mu: float = 0.0,
        dt: float = 1e-2,
        x0: float | None = None,
        seed=None,
    ):
        self.size = check_int("size", size, 1)
        self.dt = check_real("dt", dt, 0.0, low_open=True)
        # theta * dt in (0, 2) keeps the recursion stable (|1 - theta dt| < 1); 0 is a random walk.
        self.theta = check_real("theta", theta, 0.0)
        if self.theta * self.dt >= 2.0:
            raise ValueError(
                f"theta * dt must be in [0, 2) for a stable process; got {self.theta * self.dt:g}"
            )
        self.sigma = check_real("sigma", sigma, 0.0)
        self.mu = check_real("mu", mu)
        self.x0 = self.mu if x0 is None else check_real("x0", x0)
        self.rng = np.random.default_rng(seed)
        self.state = np.full(self.size, self.x0)

    def reset(self) -> None:
        self.state = np.full(self.size, self.x0)

    def __call__(self) -> np.ndarray:
        eps = self.rng.standard_normal(self.size)
        self.state = (
            self.state
            + self.theta * (self.mu - self.state) * self.dt
            + self.sigma * math.sqrt(self.dt) * eps
        )
        return self.state.copy()

    def state_dict(self, rng: bool = True) -> dict:
        """The process's current value ``state`` (a copy) and, with ``rng``, its generator's
        state: a run continued from them draws what the uninterrupted run would have drawn."""
        state: dict[str, Any] = {"state": self.state.copy()}
        if rng:
            state["rng"] = self.rng.bit_generator.state
        return state

    def load_state_dict(self, state: dict) -> None:
        """Put a :meth:`state_dict` back, in place (the generator's state only if it was saved)."""
        value = np.array(state["state"], copy=True)
        if value.shape != (self.size,):
            raise ValueError(
                f"the saved noise state has shape {value.shape}; this process has size {self.size}"
            )
        self.state = value
        if "rng" in state:
            self.rng.bit_generator.state = state["rng"]


class MemberNoise:
    """The exploration noise of a batch of independent runs: one process per run, each with its
    own generator and state; a call returns their draws stacked, shape ``(runs, size)``."""

    def __init__(self, processes: list):
        self.processes = list(processes)

    def reset(self, i: int | None = None) -> None:
        """Restart run ``i``'s process (all of them when ``i`` is None)."""
        for k, process in enumerate(self.processes):
            if i is None or k == i:
                process.reset()

    def __call__(self) -> np.ndarray:
        return np.stack([process() for process in self.processes])

    def state_dict(self, rng: bool = True) -> dict:
        """Each run's process's :meth:`state_dict`, in run order."""
        return {"processes": [process.state_dict(rng) for process in self.processes]}

    def load_state_dict(self, state: dict) -> None:
        """Put a :meth:`state_dict` back, in place: one saved state per run."""
        saved = state["processes"]
        if len(saved) != len(self.processes):
            raise ValueError(
                f"the saved noise has {len(saved)} processes; this batch has {len(self.processes)}"
            )
        for process, s in zip(self.processes, saved, strict=True):
            process.load_state_dict(s)


def ou_stationary_std(theta: float, sigma: float, dt: float) -> float:
    """Stationary standard deviation of the discretised OU recursion (exact, not the SDE limit)."""
    phi = 1.0 - theta * dt  # the lag-1 autocorrelation
    if theta == 0 or abs(phi) >= 1:
        return math.inf
    return sigma * math.sqrt(dt / (1.0 - phi**2))


def ou_path_std(theta: float, sigma: float, dt: float, steps: int) -> np.ndarray:
    """Standard deviations of ``eta_1, ..., eta_steps`` for a path started at ``eta_0 = mu``
    (as after ``reset()``): ``Var(eta_t) = sigma^2 dt (1 + phi^2 + ... + phi^(2(t-1)))`` with
    ``phi = 1 - theta dt``, which is ``sigma^2 dt (1 - phi^(2t)) / (1 - phi^2)`` for ``|phi| < 1``
    and grows towards the square of :func:`ou_stationary_std`. ``theta = 0`` is a random walk."""
    theta, sigma = check_real("theta", theta, 0.0), check_real("sigma", sigma, 0.0)
    dt, steps = check_real("dt", dt, 0.0, low_open=True), check_int("steps", steps, 1)
    if theta * dt >= 2.0:
        raise ValueError(f"theta * dt must be in [0, 2) for a stable process; got {theta * dt:g}")
    phi = 1.0 - theta * dt
    return sigma * np.sqrt(dt * np.cumsum(phi ** (2 * np.arange(steps))))
