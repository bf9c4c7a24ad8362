"""Fitted Q-iteration with explicit and with amortized maximization.

- Algorithm ``fitted-q-iteration-explicit``: :func:`fqi_explicit`, whose Bellman targets
  call a pluggable ``maximize(q, next_obs) -> (actions, values)``;
- Algorithm ``fitted-q-iteration-amortized``: :func:`fqi_amortized`, which maximizes
  exactly only on a subset ``B_opt`` of next states and regresses a policy on those maximizers,
  keeping a sliding window of the last ``window`` iterations (each pair stored with its timestamp).

Maximizers (all batched over states, all respecting the action box):
:func:`grid_maximizer` (exhaustive grid, small action dimensions), :func:`lbfgs_maximizer`
(scipy L-BFGS-B per state, with bounds, from one or several starts), :func:`gradient_maximizer`
(projected gradient ascent on all states at once, several restarts), :func:`cem_maximizer`
(cross-entropy method).

``fit`` is ``fit_steps`` warm-started Adam steps on the squared error (or, with
``fit_steps=None``, steps until the loss stops decreasing by more than ``fit_tol`` relative).

Departure from the boxes: the bootstrap is masked by ``terminated``. As in the boxes, delta is the
mean squared change of ``q`` over the dataset's state-action pairs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
import torch
from torch import nn

from .buffer import dataset_tensors
from .envs import pendulum_dataset
from .loop import seeded_torch
from .networks import mlp
from .presets import FQI_PENDULUM as PENDULUM  # the preset's old name, kept for the chapters
from .validation import check_int, check_real

__all__ = [
    "FQIResult",
    "MLPQ",
    "QuadraticQ",
    "cem_maximizer",
    "compare_maximizers",
    "fit_regression",
    "fqi_amortized",
    "fqi_explicit",
    "gradient_maximizer",
    "grid_maximizer",
    "lbfgs_maximizer",
    "pendulum_q",
]


class QuadraticQ(nn.Module):
    """``q(s, a) = -z' H z + b' z + c`` with ``z = [s; a]`` and ``H = L L'`` (so ``q`` is concave in
    ``a``): exactly the form of the LQR's optimal Q-function, hence the book's ground truth."""

    def __init__(self, obs_dim: int, act_dim: int):
        super().__init__()
        n = obs_dim + act_dim
        self.L = nn.Parameter(0.1 * torch.eye(n))
        self.b = nn.Parameter(torch.zeros(n))
        self.c = nn.Parameter(torch.zeros(()))

    @property
    def H(self) -> torch.Tensor:
        return self.L @ self.L.T

    def forward(self, obs, act):
        z = torch.cat([obs, act], -1)
        return -((z @ self.L) ** 2).sum(-1) + z @ self.b + self.c


class MLPQ(nn.Module):
    """``q(s, a)``: a multilayer perceptron on the concatenation ``[s; a]`` (tanh hidden layers, so
    that ``q`` is smooth in ``a`` for the gradient-based maximizers)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden=(64, 64)):
        super().__init__()
        self.net = mlp(obs_dim + act_dim, 1, hidden, activation=nn.Tanh)

    def forward(self, obs, act):
        return self.net(torch.cat([obs, act], -1)).squeeze(-1)


# --- maximizers ---------------------------------------------------------------------------------
def _box(low, high, like: torch.Tensor):
    return (torch.as_tensor(low, dtype=like.dtype), torch.as_tensor(high, dtype=like.dtype))


def grid_maximizer(low, high, points: int = 101):
    """Evaluate ``q`` on a grid of ``points`` per action dimension; best grid point per state."""
    check_int("points", points, 2)
    low, high = np.atleast_1d(low).astype(np.float32), np.atleast_1d(high).astype(np.float32)
    axes = [np.linspace(lo, hi, points, dtype=np.float32) for lo, hi in zip(low, high, strict=True)]
    grid = torch.as_tensor(np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(low)))

    @torch.no_grad()
    def maximize(q, obs):
        n, g = obs.shape[0], grid.shape[0]
        values = q(obs.repeat_interleave(g, 0), grid.repeat(n, 1)).reshape(n, g)
        best = values.argmax(1)
        return grid[best], values[torch.arange(n), best]

    return maximize


def gradient_maximizer(low, high, restarts: int = 4, steps: int = 50, lr: float = 0.1, seed=0):
    """Projected gradient ascent (Adam) on all states and restarts at once; best restart per state.

    The step size starts at ``lr`` times the widest side of the box and decays linearly to zero.
    """
    check_int("restarts", restarts, 1)
    check_int("steps", steps, 1)
    gen = torch.Generator().manual_seed(seed)

    def maximize(q, obs):
        lo, hi = _box(low, high, obs)
        n, m = obs.shape[0], lo.numel()
        rep = obs.repeat(restarts, 1)
        a = (lo + (hi - lo) * torch.rand(restarts * n, m, generator=gen)).requires_grad_(True)
        lr0 = lr * float((hi - lo).max())
        opt = torch.optim.Adam([a], lr=lr0)
        for k in range(steps):
            opt.param_groups[0]["lr"] = lr0 * (1 - k / steps)
            opt.zero_grad()
            (-q(rep, a).sum()).backward()
            opt.step()
            with torch.no_grad():
                a.copy_(torch.maximum(torch.minimum(a, hi), lo))  # projection onto the box
        with torch.no_grad():
            values = q(rep, a).reshape(restarts, n)
            best = values.argmax(0)
            acts = a.detach().reshape(restarts, n, m)[best, torch.arange(n)]
            return acts, values[best, torch.arange(n)]

    return maximize


def cem_maximizer(low, high, population: int = 64, elites: int = 8, iterations: int = 5, seed=0):
    """Cross-entropy method: Gaussian per state, refit to the best ``elites`` of ``population``."""
    gen = torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def maximize(q, obs):
        lo, hi = _box(low, high, obs)
        n, m = obs.shape[0], lo.numel()
        mean, std = ((lo + hi) / 2).expand(n, m).clone(), ((hi - lo) / 2).expand(n, m).clone()
        rep = obs.repeat_interleave(population, 0)
        for _ in range(iterations):
            samples = mean[:, None] + std[:, None] * torch.randn(n, population, m, generator=gen)
            samples = torch.maximum(torch.minimum(samples, hi), lo)
            values = q(rep, samples.reshape(-1, m)).reshape(n, population)
            top = values.topk(elites, dim=1).indices
            elite = samples[torch.arange(n)[:, None], top]
            mean, std = elite.mean(1), elite.std(1) + 1e-6
        values = q(obs, mean)
        return mean, values

    return maximize


def lbfgs_maximizer(low, high, starts: int = 1, seed=0):
    """scipy L-BFGS-B on each state separately, with the action bounds, from ``starts`` points."""
    rng = np.random.default_rng(seed)
    low, high = np.atleast_1d(low).astype(float), np.atleast_1d(high).astype(float)

    def maximize(q, obs):
        acts, vals = [], []
        for s in obs:
            s = s[None]

            def neg(a, s=s):
                a_t = torch.tensor(a[None], dtype=obs.dtype, requires_grad=True)
                v = q(s, a_t)
                (g,) = torch.autograd.grad(v.sum(), a_t)
                return -float(v.detach()), -g[0].double().numpy()

            best = None
            for k in range(starts):
                x0 = (low + high) / 2 if k == 0 else rng.uniform(low, high)
                r = scipy.optimize.minimize(
                    neg, x0, jac=True, method="L-BFGS-B", bounds=list(zip(low, high, strict=True))
                )
                if best is None or r.fun < best.fun:
                    best = r
            assert best is not None  # starts >= 1
            acts.append(best.x)
            vals.append(-best.fun)
        return (
            torch.as_tensor(np.array(acts), dtype=obs.dtype),
            torch.as_tensor(np.array(vals), dtype=obs.dtype),
        )

    return maximize


# --- fit ------------------------------------------------------------------------------------------
def fit_regression(
    model: nn.Module,
    inputs: tuple,
    targets: torch.Tensor,
    steps: int | None,
    lr: float = 1e-2,
    tol: float = 1e-7,
    max_steps: int = 20_000,
) -> int:
    """Warm-started Adam steps on ``mean (model(*inputs) - targets)^2``; returns steps taken."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    previous = float("inf")
    n = steps if steps is not None else max_steps
    for k in range(n):
        opt.zero_grad()
        loss = ((model(*inputs) - targets) ** 2).mean()
        loss.backward()
        opt.step()
        if steps is None and k % 50 == 49:
            value = float(loss)
            if previous - value <= tol * max(previous, 1e-12):
                return k + 1
            previous = value
    return n


@dataclass
class FQIResult:
    """Trained approximators and, per iteration, the convergence measures and timings."""

    q: nn.Module
    policy: nn.Module | None = None
    deltas: list[float] = field(default_factory=list)  # delta (explicit) or delta_q (amortized)
    deltas_pi: list[float] = field(default_factory=list)
    target_seconds: list[float] = field(default_factory=list)  # time spent building targets


def fqi_explicit(
    data,
    q: nn.Module,
    maximize: Callable,
    gamma: float,
    iterations: int = 50,
    tol: float = 1e-8,
    fit_steps: int | None = 200,
    lr: float = 1e-2,
) -> FQIResult:
    """Algorithm ``fitted-q-iteration-explicit`` on ``data = (s, a, r, s', terminated)``."""
    gamma = check_real("gamma", gamma, 0.0, 1.0, high_open=True)
    check_int("iterations", iterations, 1)
    obs, act, rew, next_obs, term = dataset_tensors(data)
    result = FQIResult(q=q)  # fitted-q-iteration-explicit 1: theta_0 is q as passed in
    for _ in range(iterations):  # fitted-q-iteration-explicit 3
        start = time.perf_counter()
        _, best = maximize(q, next_obs)  # fitted-q-iteration-explicit 3.2.1
        y = rew + gamma * (1 - term) * best.detach()
        result.target_seconds.append(time.perf_counter() - start)
        with torch.no_grad():
            before = q(obs, act).clone()
        fit_regression(q, (obs, act), y, fit_steps, lr)  # fitted-q-iteration-explicit 3.3
        with torch.no_grad():
            delta = float(((q(obs, act) - before) ** 2).mean())  # fitted-q-iteration-explicit 3.4
        result.deltas.append(delta)
        if delta < tol:  # fitted-q-iteration-explicit 4
            break
    return result


def fqi_amortized(
    data,
    q: nn.Module,
    policy: nn.Module,
    maximize: Callable,
    gamma: float,
    opt_fraction: float = 0.1,
    window: int = 3,
    iterations: int = 50,
    tol: float = 1e-8,
    fit_steps: int | None = 200,
    policy_steps: int = 200,
    lr: float = 1e-2,
    seed: int = 0,
) -> FQIResult:
    """Algorithm ``fitted-q-iteration-amortized``.

    Each iteration draws ``B_opt`` (a fraction ``opt_fraction`` of the transitions), maximizes
    exactly at their next states, uses ``policy(s')`` elsewhere, fits ``q`` to the targets and the
    policy to the ``(s', a*)`` pairs of the last ``window`` iterations (timestamps kept with them).
    """
    gamma = check_real("gamma", gamma, 0.0, 1.0, high_open=True)
    check_real("opt_fraction", opt_fraction, 0.0, 1.0, low_open=True)
    check_int("window", window, 1)
    obs, act, rew, next_obs, term = dataset_tensors(data)
    n = len(rew)
    rng = np.random.default_rng(seed)
    memory: list[tuple[int, torch.Tensor, torch.Tensor]] = []  # (t, s', a*) of D_pi^t
    result = FQIResult(q=q, policy=policy)  # fitted-q-iteration-amortized 1: as passed in
    for t in range(iterations):  # fitted-q-iteration-amortized 3
        start = time.perf_counter()
        in_opt = torch.zeros(n, dtype=torch.bool)
        in_opt[rng.choice(n, max(1, int(round(opt_fraction * n))), replace=False)] = True
        a_next = torch.empty_like(act)
        a_star, _ = maximize(
            q, next_obs[in_opt]
        )  # fitted-q-iteration-amortized 3.3.2.1: exact on B_opt
        a_next[in_opt] = a_star.detach()
        with torch.no_grad():
            a_next[~in_opt] = policy(next_obs[~in_opt])  # fitted-q-iteration-amortized 3.3.3.1
            y = rew + gamma * (1 - term) * q(next_obs, a_next)  # fitted-q-iteration-amortized 3.3.5
        result.target_seconds.append(time.perf_counter() - start)
        memory.append(
            (t, next_obs[in_opt], a_star.detach())
        )  # fitted-q-iteration-amortized 3.3.2.2 (+ time)
        memory = [m for m in memory if m[0] >= t - window + 1]  # keep iterations t-K+1..t
        s_pi = torch.cat([m[1] for m in memory])
        a_pi = torch.cat([m[2] for m in memory])
        with torch.no_grad():
            before = q(obs, act).clone()
        fit_regression(q, (obs, act), y, fit_steps, lr)  # fitted-q-iteration-amortized 3.5
        fit_regression(policy, (s_pi,), a_pi, policy_steps, lr)  # fitted-q-iteration-amortized 3.6
        with torch.no_grad():
            change, miss = q(obs, act) - before, policy(s_pi) - a_pi
            delta_q = float((change**2).mean())  # fitted-q-iteration-amortized 3.8
            delta_pi = float((miss**2).sum(-1).mean())  # fitted-q-iteration-amortized 3.9
        result.deltas.append(delta_q)
        result.deltas_pi.append(delta_pi)
        if max(delta_q, delta_pi) < tol:  # fitted-q-iteration-amortized 4
            break
    return result


def compare_maximizers(q: nn.Module, states: torch.Tensor, maximizers: dict, repeat: int = 1):
    """Time each maximizer on ``states`` and measure how far its values fall below the best value
    any of them found at each state: rows ``(name, seconds, mean relative gap, max relative gap)``.

    A maximizer is a function ``(q, states) -> (actions, values)``; an amortized policy enters as
    ``lambda q, s: (policy(s), q(s, policy(s)))``. Values are recomputed as ``q(s, a)`` for all,
    so that every method is scored the same way; the time is the best of ``repeat`` runs.
    """
    check_int("repeat", repeat, 1)
    results = {}
    for name, maximize in maximizers.items():
        best_time = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            acts, _ = maximize(q, states)
            best_time = min(best_time, time.perf_counter() - start)
        with torch.no_grad():
            results[name] = (best_time, q(states, acts.detach().to(states.dtype)).double())
    best = torch.stack([v for _, v in results.values()]).max(0).values
    scale = best.abs().clamp_min(1e-8)
    return [
        (name, seconds, float(((best - v) / scale).mean()), float(((best - v) / scale).max()))
        for name, (seconds, v) in results.items()
    ]


def pendulum_q(seed: int = 0, **changes):
    """Explicit-maximization FQI on the offline Pendulum-v1 dataset (settings
    :data:`rlbook.presets.FQI_PENDULUM`, also named ``rlbook.fqi.PENDULUM``, overridable), its
    targets by batched gradient ascent (2 restarts x 20 steps); returns ``(q, data, result)``.
    Deterministic under ``seed``."""
    s = {**PENDULUM, **changes}
    data = pendulum_dataset(s["n"], seed=seed)
    with seeded_torch(seed):  # initial weights from the seed; the caller's generator kept
        q = MLPQ(3, 1, s["hidden"])
    maximize = gradient_maximizer([-2.0], [2.0], restarts=2, steps=20, seed=seed)
    result = fqi_explicit(
        data, q, maximize, s["gamma"], s["iterations"], fit_steps=s["fit_steps"], lr=s["lr"]
    )
    return q, data, result
