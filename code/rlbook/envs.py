"""Environments and environment helpers.

- :func:`env_factory` turns an environment id, a factory or an instance into a factory, so that
  training and evaluation can build as many copies as they need.
- :func:`check_box_env` refuses action spaces the continuous-action algorithms cannot handle
  (discrete, or a Box with infinite bounds) with a clear message.
- :class:`LQREnv` is a discounted linear-quadratic regulator, the book's ground truth: its optimal
  Q-function is quadratic and its optimal gain comes from the discrete algebraic Riccati equation
  (:func:`lqr_solution`). With an entropy bonus the optimal policy is Gaussian with the *same* mean
  gain (:func:`soft_lqr_solution`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import gymnasium as gym
import numpy as np
import scipy.linalg
from gymnasium import spaces

from .validation import check_int, check_real

__all__ = [
    "LQREnv",
    "LQRSolution",
    "check_box_env",
    "env_factory",
    "flat_dim",
    "lqr_dataset",
    "lqr_solution",
    "pendulum_dataset",
    "soft_lqr_solution",
]


def env_factory(env) -> Callable[[], gym.Env]:
    """A zero-argument callable that builds a fresh copy of ``env``.

    ``env`` may be a registered id (``"Pendulum-v1"``), a callable returning an environment, or an
    environment instance created by ``gymnasium.make`` (rebuilt from its spec).
    """
    if isinstance(env, str):
        return lambda: gym.make(env)
    if isinstance(env, gym.Env):
        if env.spec is not None:
            spec = env.spec
            return lambda: gym.make(spec)
        raise ValueError(
            "env: pass an environment id, a factory (e.g. `lambda: MyEnv()`), or an environment "
            f"made with gymnasium.make; got an instance of {type(env).__name__} without a spec"
        )
    if callable(env):
        return cast(Callable[[], gym.Env], env)
    raise ValueError(f"env must be an id, a factory or a gymnasium.Env; got {env!r}")


def flat_dim(space: spaces.Space) -> int:
    """How many numbers one element of ``space`` holds (1 for a Discrete space: an index)."""
    if space.shape is None:
        raise ValueError(f"space must have a shape (a Box or a Discrete space); got {space}")
    return int(np.prod(space.shape))


def check_box_env(env: gym.Env, algorithm: str) -> spaces.Box:
    """Return the action space if it is a bounded 1-D Box, else raise ``ValueError``."""
    space = env.action_space
    if not isinstance(space, spaces.Box):
        raise ValueError(
            f"{algorithm} needs a continuous action space (gymnasium.spaces.Box); this environment "
            f"has {type(space).__name__}. Use DQN or Double DQN for discrete actions."
        )
    if len(space.shape) != 1:
        raise ValueError(f"{algorithm} needs a 1-D Box action space; got shape {space.shape}")
    if not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))):
        raise ValueError(
            f"{algorithm} needs a bounded Box action space (finite low and high) to rescale its "
            f"tanh output; got low={space.low}, high={space.high}. Wrap the environment with "
            "gymnasium.wrappers.ClipAction after giving it finite bounds."
        )
    obs_space = env.observation_space
    if not isinstance(obs_space, spaces.Box) or len(obs_space.shape) != 1:
        raise ValueError(
            f"{algorithm} needs a flat Box observation space; got {obs_space}. "
            "Use gymnasium.wrappers.FlattenObservation."
        )
    return space


class LQREnv(gym.Env):
    """Linear dynamics ``s' = A s + B a (+ noise)``, reward ``-(s'Qs + a'Ra)``, fixed horizon.

    Episodes start uniformly in ``[-init_scale, init_scale]^n`` and end by **truncation** after
    ``horizon`` steps; they never terminate. Actions are clipped to ``[-max_action, max_action]``.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        A=((1.0, 0.1), (0.0, 1.0)),
        B=((0.0,), (0.1,)),
        Q=((1.0, 0.0), (0.0, 1.0)),
        R=((1.0,),),
        horizon: int = 100,
        init_scale: float = 1.0,
        max_action: float = 5.0,
        noise_std: float = 0.0,
    ):
        self.A, self.B = np.atleast_2d(A).astype(float), np.atleast_2d(B).astype(float)
        self.Q, self.R = np.atleast_2d(Q).astype(float), np.atleast_2d(R).astype(float)
        n, m = self.B.shape
        if self.A.shape != (n, n) or self.Q.shape != (n, n) or self.R.shape != (m, m):
            raise ValueError(
                f"LQR shapes disagree: A {self.A.shape}, B {self.B.shape}, Q {self.Q.shape}, "
                f"R {self.R.shape}; need A (n,n), B (n,m), Q (n,n), R (m,m)"
            )
        self.horizon = check_int("horizon", horizon, 1)
        self.init_scale = check_real("init_scale", init_scale, 0.0)
        self.max_action = check_real("max_action", max_action, 0.0, low_open=True)
        self.noise_std = check_real("noise_std", noise_std, 0.0)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(n,), dtype=np.float32)
        self.action_space = spaces.Box(-max_action, max_action, shape=(m,), dtype=np.float32)
        self.state = np.zeros(n)
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        n = self.A.shape[0]
        self.state = self.np_random.uniform(-self.init_scale, self.init_scale, size=n)
        self.t = 0
        return self.state.astype(np.float32), {}

    def step(self, action):
        a = np.clip(np.asarray(action, dtype=float).reshape(-1), -self.max_action, self.max_action)
        s = self.state
        reward = -(s @ self.Q @ s + a @ self.R @ a)
        s_next = self.A @ s + self.B @ a
        if self.noise_std > 0:
            s_next = s_next + self.noise_std * self.np_random.standard_normal(s.shape)
        self.state = s_next
        self.t += 1
        truncated = self.t >= self.horizon
        return s_next.astype(np.float32), float(reward), False, truncated, {}


@dataclass(frozen=True)
class LQRSolution:
    """Optimal discounted LQR: ``v*(s) = -s'Ps - c``, ``pi*(s) = -K s``, ``q*`` quadratic."""

    P: np.ndarray
    K: np.ndarray
    H: np.ndarray  # q*(s, a) = -[s; a]' H [s; a] - c

    def q(self, s: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Optimal Q-values (without the constant from noise) for batches ``s (N,n)``, ``a (N,m)``."""
        z = np.concatenate([np.atleast_2d(s), np.atleast_2d(a)], axis=-1)
        return -np.einsum("bi,ij,bj->b", z, self.H, z)

    def policy(self, s: np.ndarray) -> np.ndarray:
        return -np.atleast_2d(s) @ self.K.T


def lqr_solution(env: LQREnv, gamma: float) -> LQRSolution:
    """Solve ``max E sum_t gamma^t r_t`` for :class:`LQREnv` (ignoring the action bounds).

    With the discount folded into the dynamics (``sqrt(gamma) A``, ``sqrt(gamma) B``), the
    value matrix ``P`` solves the standard discrete algebraic Riccati equation and
    ``K = gamma (R + gamma B'PB)^{-1} B'PA``.
    """
    gamma = check_real("gamma", gamma, 0.0, 1.0, low_open=True, high_open=True)
    A, B, Q, R = env.A, env.B, env.Q, env.R
    P = scipy.linalg.solve_discrete_are(np.sqrt(gamma) * A, np.sqrt(gamma) * B, Q, R)
    Huu = R + gamma * B.T @ P @ B
    Hua = gamma * B.T @ P @ A
    K = np.linalg.solve(Huu, Hua)
    H = np.block([[Q + gamma * A.T @ P @ A, Hua.T], [Hua, Huu]])
    return LQRSolution(P=P, K=K, H=H)


def soft_lqr_solution(env: LQREnv, gamma: float, alpha: float) -> tuple[LQRSolution, np.ndarray]:
    """Entropy-regularised LQR: ``pi*(a|s) = N(-K s, Sigma)`` with ``Sigma = alpha/2 (R + gamma B'PB)^{-1}``.

    The entropy bonus adds only constants to the quadratic value function, so ``P`` and the mean
    gain ``K`` are those of :func:`lqr_solution`; the covariance grows with the temperature.
    """
    alpha = check_real("alpha", alpha, 0.0, low_open=True)
    sol = lqr_solution(env, gamma)
    m = env.B.shape[1]
    Huu = sol.H[-m:, -m:]
    return sol, 0.5 * alpha * np.linalg.inv(Huu)


def lqr_dataset(
    env: LQREnv, n: int = 500, state_scale: float = 1.0, action_scale: float = 2.0, seed: int = 0
):
    """An offline dataset ``(s, a, r, s', terminated)`` of ``n`` transitions of ``env``'s dynamics
    with states uniform in ``[-state_scale, state_scale]^n`` and actions uniform in
    ``[-action_scale, action_scale]^m`` (a behaviour policy that ignores the state)."""
    check_int("n", n, 1)
    rng = np.random.default_rng(seed)
    s = rng.uniform(-state_scale, state_scale, (n, env.A.shape[0]))
    a = rng.uniform(-action_scale, action_scale, (n, env.B.shape[1]))
    r = -(np.einsum("bi,ij,bj->b", s, env.Q, s) + np.einsum("bi,ij,bj->b", a, env.R, a))
    return s, a, r, s @ env.A.T + a @ env.B.T, np.zeros(n)


def pendulum_dataset(n: int = 3_000, seed: int = 0, episode_length: int = 200):
    """An offline dataset ``(s, a, r, s', terminated)`` of ``n`` Pendulum-v1 transitions from a
    behaviour policy that applies uniformly random torques, in episodes of ``episode_length`` steps
    started by ``reset(seed=seed + k)``. Pendulum never terminates, so ``terminated`` is all zero."""
    check_int("n", n, 1)
    check_int("episode_length", episode_length, 1)
    env = gym.make("Pendulum-v1")
    env.action_space.seed(seed)
    rows, k = [], 0
    while len(rows) < n:
        obs, _ = env.reset(seed=seed + k)
        k += 1
        for _ in range(min(episode_length, n - len(rows))):
            act = env.action_space.sample()
            nxt, rew, term, _, _ = env.step(act)
            rows.append((obs, act, rew, nxt, float(term)))
            obs = nxt
    env.close()
    obs, act, rew, nxt, term = (np.array(x, dtype=np.float32) for x in zip(*rows, strict=True))
    return obs, act, rew, nxt, term
