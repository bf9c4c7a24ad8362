"""Finite deterministic MDPs solved exactly: the ground truth of the PCL chapter and of the
DQN family's tests.

:class:`DeterministicMDP` (``s' = next_state[s, a]``, reward ``reward[s, a]``) with two
generators (:meth:`~DeterministicMDP.random`, the corridor :meth:`~DeterministicMDP.chain`);
:func:`soft_value_iteration` (the entropy-regularised optimum ``(v*, q*, pi*)``) and
:func:`q_value_iteration` (the hard-max ``Q*``); :func:`mdp_dataset` (every state-action pair,
one-hot states, for batch FQI) and :func:`rollout` (an :class:`Episode` under a tabular policy or
given actions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .validation import check_real

__all__ = [
    "DeterministicMDP",
    "Episode",
    "mdp_dataset",
    "q_value_iteration",
    "rollout",
    "soft_value_iteration",
]


@dataclass(frozen=True)
class DeterministicMDP:
    """``s' = next_state[s, a]``, reward ``reward[s, a]``; no terminal states."""

    next_state: np.ndarray  # (S, A) integers
    reward: np.ndarray  # (S, A)

    @property
    def n_states(self) -> int:
        return self.reward.shape[0]

    @property
    def n_actions(self) -> int:
        return self.reward.shape[1]

    @staticmethod
    def random(n_states=6, n_actions=3, seed=0) -> DeterministicMDP:
        rng = np.random.default_rng(seed)
        return DeterministicMDP(
            rng.integers(0, n_states, (n_states, n_actions)), rng.normal(size=(n_states, n_actions))
        )

    @staticmethod
    def chain(n_states=8, reward_at_end=1.0, step_cost=0.05) -> DeterministicMDP:
        """A corridor: action 0 moves left, 1 stays, 2 moves right; the right end pays."""
        s = np.arange(n_states)
        nxt = np.stack([np.maximum(s - 1, 0), s, np.minimum(s + 1, n_states - 1)], axis=1)
        rew = np.full((n_states, 3), -step_cost)
        rew[n_states - 1, :] = reward_at_end
        return DeterministicMDP(nxt, rew)


def soft_value_iteration(
    mdp: DeterministicMDP, gamma: float, alpha: float, tol: float = 1e-14, max_iter: int = 100_000
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(v*, q*, pi*)`` of the entropy-regularised problem, by successive approximation of the
    smooth Bellman operator (a gamma-contraction), to ``tol`` in the sup norm."""
    gamma = check_real("gamma", gamma, 0.0, 1.0, high_open=True)
    alpha = check_real("alpha", alpha, 0.0, low_open=True)
    v = np.zeros(mdp.n_states)
    for _ in range(max_iter):
        q = mdp.reward + gamma * v[mdp.next_state]
        m = q.max(1)
        v_new = m + alpha * np.log(np.exp((q - m[:, None]) / alpha).sum(1))
        done = np.max(np.abs(v_new - v)) < tol
        v = v_new
        if done:
            break
    q = mdp.reward + gamma * v[mdp.next_state]
    return v, q, np.exp((q - v[:, None]) / alpha)


def q_value_iteration(
    mdp: DeterministicMDP, gamma: float, tol: float = 1e-13, max_iter: int = 1_000_000
) -> np.ndarray:
    """The exact ``Q*`` of a deterministic finite MDP (hard max), by value iteration; ``tol`` is
    relative to the rewards' scale (an absolute 1e-13 is below float64 rounding for large ones)."""
    gamma = check_real("gamma", gamma, 0.0, 1.0, high_open=True)
    scale = max(1.0, float(np.abs(mdp.reward).max()))
    q = np.zeros_like(mdp.reward, dtype=float)
    for _ in range(max_iter):
        q_new = mdp.reward + gamma * q.max(1)[mdp.next_state]
        if np.max(np.abs(q_new - q)) < tol * scale:
            return q_new
        q = q_new
    raise RuntimeError(f"value iteration did not reach {tol:g} in {max_iter} iterations")


def mdp_dataset(mdp: DeterministicMDP, repeats: int = 1):
    """Every (state, action) pair of ``mdp`` ``repeats`` times, states one-hot encoded: a dataset
    ``(s, a, r, s', terminated)`` on which a linear Q-network is a table."""
    s, a = np.meshgrid(np.arange(mdp.n_states), np.arange(mdp.n_actions), indexing="ij")
    s, a = np.tile(s.ravel(), repeats), np.tile(a.ravel(), repeats)
    eye = np.eye(mdp.n_states, dtype=np.float32)
    return eye[s], a, mdp.reward[s, a], eye[mdp.next_state[s, a]], np.zeros(len(s))


@dataclass
class Episode:
    obs: np.ndarray  # (T + 1, ...) states s_0..s_T
    actions: np.ndarray  # (T, ...)
    rewards: np.ndarray  # (T,)
    terminated: bool = False

    @property
    def ret(self) -> float:
        return float(self.rewards.sum())


def rollout(
    mdp: DeterministicMDP, agent, length: int, rng, start: int | None = None, actions=None
) -> Episode:
    """An episode of ``length`` steps (truncated, never terminated) with the agent's policy, or
    with the given ``actions`` (demonstrations, or any behaviour policy)."""
    s = rng.integers(mdp.n_states) if start is None else start
    if actions is None:  # the policy of every state, computed once per episode
        with torch.no_grad():
            table = agent.probs(torch.arange(mdp.n_states)).double().numpy()
        cdf = np.cumsum(table / table.sum(1, keepdims=True), axis=1)
        u = rng.random(length)
    obs, acts, rews = [s], [], []
    for t in range(length):
        if actions is not None:
            a = int(actions[t])
        else:
            a = min(int(np.searchsorted(cdf[s], u[t], side="right")), mdp.n_actions - 1)
        acts.append(a)
        rews.append(mdp.reward[s, a])
        s = int(mdp.next_state[s, a])
        obs.append(s)
    return Episode(np.array(obs), np.array(acts), np.array(rews, dtype=float), terminated=False)
