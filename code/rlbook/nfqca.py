"""Algorithm ``nfqca``: Neural Fitted Q-Iteration with Continuous Actions (Hafner and Riedmiller 2011).

Pseudocode line -> code (``# nfqca N`` tags): 7-9 the policy-based targets; 11 ``fit_q``, ``K_q``
warm-started steps on the squared error; 13 ``fit_pi``, ``K_pi`` steps of gradient ascent on the
mean of ``q(s, pi_w(s))`` through the fitted critic (only the policy's parameters move).

Departures: the bootstrap is masked by ``terminated``; both fits take Adam steps (the box's
plain gradient steps of size ``alpha_q``, ``alpha_pi`` become Adam steps with learning rates
``lr_q``, ``lr_pi``), and each fit builds a fresh Adam, so the warm start carries the parameters
from one outer iteration to the next but not Adam's running moments; the loop stops after
``iterations`` outer iterations or when the Q-values on the dataset change by less than ``tol``.
"""

from __future__ import annotations

import time

import torch
from torch import nn

from .agent import gradient_step
from .buffer import dataset_tensors
from .fqi import FQIResult, fit_regression
from .validation import check_int, check_real

__all__ = ["nfqca", "policy_ascent"]


def policy_ascent(
    policy: nn.Module, q: nn.Module, obs: torch.Tensor, steps: int, lr: float
) -> None:
    """``fit_pi``: ``steps`` Adam steps maximizing ``mean q(s, policy(s))`` over ``policy`` only."""
    params = list(policy.parameters())
    opt = torch.optim.Adam(params, lr=lr)
    for _ in range(steps):
        loss = -q(obs, policy(obs)).mean()
        gradient_step(opt, loss, params)  # the critic's parameters get no gradient


def nfqca(
    data,
    q: nn.Module,
    policy: nn.Module,
    gamma: float,
    iterations: int = 50,
    k_q: int = 200,
    k_pi: int = 100,
    lr_q: float = 1e-2,
    lr_pi: float = 1e-2,
    tol: float = 1e-10,
    callback=None,
) -> FQIResult:
    """Algorithm ``nfqca`` on ``data = (s, a, r, s', terminated)``.

    ``callback(n, q, policy)``, if given, is called after outer iteration ``n`` (from 1), e.g. to
    record the policy's gain as it is fitted (the NFQCA chapter's figure)."""
    gamma = check_real("gamma", gamma, 0.0, 1.0, high_open=True)
    check_int("iterations", iterations, 1)
    check_int("k_q", k_q, 1)
    check_int("k_pi", k_pi, 0)
    obs, act, rew, next_obs, term = dataset_tensors(data)
    result = FQIResult(q=q, policy=policy)  # nfqca 1: theta_0, w_0 as passed in
    for n in range(1, iterations + 1):  # nfqca 3
        start = time.perf_counter()
        with torch.no_grad():
            a_next = policy(next_obs)  # nfqca 7: the actor replaces the max
            y = rew + gamma * (1 - term) * q(next_obs, a_next)  # nfqca 8
        result.target_seconds.append(time.perf_counter() - start)
        with torch.no_grad():
            before = q(obs, act).clone()
        fit_regression(q, (obs, act), y, k_q, lr_q)  # nfqca 11
        policy_ascent(policy, q, obs, k_pi, lr_pi)  # nfqca 13
        with torch.no_grad():
            result.deltas.append(float(((q(obs, act) - before) ** 2).mean()))
        if callback is not None:
            callback(n, q, policy)
        if result.deltas[-1] < tol:
            break
    return result
