"""Fitted Q-iteration for finite action sets, the background chapter's two offline algorithms:
batch FQI with a warm-started neural fit (NFQI, Algorithm ``fitted-q-iteration-batch``)
and flattened NFQI with an EMA target (Algorithm ``nfqi-flattened-ema``). Continuous
actions: :mod:`rlbook.fqi`; the online agents DQN and Double DQN: :mod:`rlbook.dqn`, whose target
and loss (:func:`~rlbook.dqn.dqn_target`, :func:`~rlbook.dqn.td_loss`) these two share.

A Q-network maps a state to one value per action, ``q(s) -> (n_actions,)``; the dataset is
``(s, a, r, s', terminated)`` with integer actions (:func:`rlbook.mdp.mdp_dataset` makes one from
a finite MDP). Both return an :class:`~rlbook.fqi.FQIResult`, as every offline algorithm of the
book does, and take the callback of :func:`rlbook.nfqca.nfqca`, ``callback(n, q, policy)`` after
iteration ``n`` (from 1; ``policy`` is ``None`` here, the greedy policy of ``q`` being implicit);
:func:`rlbook.fqi.fqi_explicit` and :func:`rlbook.fqi.fqi_amortized` take no callback.
Iterations are the unit: an outer iteration of batch FQI, a gradient step of NFQI-EMA. The
bootstrap is masked by ``terminated`` (never by a time-limit truncation).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .agent import adam, gradient_step
from .buffer import dataset_tensors
from .dqn import dqn_target, td_loss
from .fqi import FQIResult, fit_regression
from .targets import ema_update, make_target
from .validation import check_int, check_real

__all__ = ["NFQIResult", "fitted_q_iteration", "nfqi_ema"]


class _Chosen(nn.Module):
    """``(s, a) -> q(s)[a]``: a Q-network seen as the regression model ``fit`` trains."""

    def __init__(self, q: nn.Module):
        super().__init__()
        self.q = q

    def forward(self, obs, act):
        return self.q(obs).gather(-1, act.long().reshape(-1, 1)).squeeze(-1)


def fitted_q_iteration(
    data,
    q: nn.Module,
    gamma: float,
    iterations: int = 100,
    tol: float = 1e-10,
    fit_steps: int | None = None,
    lr: float = 1e-2,
    callback: Callable | None = None,
) -> FQIResult:
    """Algorithm ``fitted-q-iteration-batch`` with ``fit`` = warm-started Adam steps
    (``fit_steps``, or until the regression loss stalls when ``None``): NFQI. ``q`` (as passed in)
    is theta_0; ``result.deltas`` holds the stopping measure of line 4 per iteration.
    ``callback(n, q, None)``, if given, is called after iteration ``n`` (from 1)."""
    gamma = check_real("gamma", gamma, 0.0, 1.0, high_open=True)
    check_int("iterations", iterations, 1)
    obs, act, rew, next_obs, term = dataset_tensors(data, discrete=True)
    model = _Chosen(q)
    result = FQIResult(q=q)  # fitted-q-iteration-batch 1
    for n in range(1, iterations + 1):  # fitted-q-iteration-batch 3
        start = time.perf_counter()
        y = dqn_target(q, rew, next_obs, term, gamma)  # fitted-q-iteration-batch 3.2.1
        result.target_seconds.append(time.perf_counter() - start)
        with torch.no_grad():
            before = model(obs, act).clone()
        fit_regression(model, (obs, act), y, fit_steps, lr)  # fitted-q-iteration-batch 3.3
        with torch.no_grad():
            result.deltas.append(float(((model(obs, act) - before) ** 2).mean()))
        if callback is not None:
            callback(n, q, None)
        if result.deltas[-1] < tol:  # fitted-q-iteration-batch 4
            break
    return result


@dataclass
class NFQIResult(FQIResult):
    """:class:`~rlbook.fqi.FQIResult` of :func:`nfqi_ema`, with its target network and, every
    ``eval_every`` gradient steps, the step and the mini-batch loss (``deltas`` stays empty: the
    flattened algorithm has no outer iteration to measure)."""

    q_target: nn.Module | None = None
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)


def nfqi_ema(
    data,
    q: nn.Module,
    gamma: float,
    steps: int = 5_000,
    tau: float = 0.01,
    batch_size: int = 32,
    lr: float = 1e-2,
    seed: int = 0,
    eval_every: int = 100,
    callback: Callable | None = None,
    optimizer: str = "adam",
) -> NFQIResult:
    """Algorithm ``nfqi-flattened-ema``: one gradient step per mini-batch on a fixed
    dataset, targets from an EMA copy with rate ``tau``. Returns an :class:`NFQIResult`: ``q``, ``q_target`` and,
    every ``eval_every`` steps, the step (``steps``) and the mini-batch loss (``losses``);
    ``callback(t, q, None)``, if given, is called at those steps ``t`` (from 1), e.g. to measure
    the error of ``q`` (the FQI chapter's figure).

    ``optimizer``: ``"adam"`` (the default, and a departure from line 2.3, which is a plain
    gradient step) or ``"sgd"`` (line 2.3 as written: ``theta -= lr * gradient``). Near
    convergence the gradients are tiny, and Adam's running mean of their squares ``v_hat`` keeps
    decaying, so its effective step ``lr / sqrt(v_hat)`` keeps growing until the iteration turns
    unstable and the error jumps back up by orders of magnitude; this needs no bootstrapping (it
    happens with ``gamma = 0`` too). Plain gradient steps have a fixed step size and keep
    shrinking the error; a decaying ``lr`` or a larger Adam ``eps`` also avoids the jumps."""
    gamma = check_real("gamma", gamma, 0.0, 1.0, high_open=True)
    tau = check_real("tau", tau, 0.0, 1.0, low_open=True)
    check_int("steps", steps, 1)
    check_int("batch_size", batch_size, 1)
    check_int("eval_every", eval_every, 1)
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    obs, act, rew, next_obs, term = dataset_tensors(data, discrete=True)
    rng = np.random.default_rng(seed)
    q_target = make_target(q)  # nfqi-flattened-ema 1
    params = list(q.parameters())
    opt = adam(params, lr) if optimizer == "adam" else torch.optim.SGD(params, lr=lr)
    result = NFQIResult(q=q, q_target=q_target)
    for t in range(steps):  # nfqi-flattened-ema 2
        i = torch.as_tensor(rng.integers(0, len(rew), batch_size))  # nfqi-flattened-ema 2.1
        y = dqn_target(q_target, rew[i], next_obs[i], term[i], gamma)  # nfqi-flattened-ema 2.2
        loss = td_loss(q, obs[i], act[i], y)
        gradient_step(opt, loss, params)  # nfqi-flattened-ema 2.3
        ema_update(q_target, q, tau)  # nfqi-flattened-ema 2.4
        if (t + 1) % eval_every == 0:
            result.steps.append(t + 1)
            result.losses.append(float(loss.detach()))
            if callback is not None:
                callback(t + 1, q, None)
    return result
