"""The amortization gap: how far the actor's action falls short of its critic's maximum.

DDPG, TD3 and SAC replace the maximization of fitted Q-iteration, ``max_a q(s, a)``, by a network
``pi(s)`` trained to output the maximizer (line 6.9 of ``ddpg``, 5.13 of ``td3``,
5.12-5.13 of ``sac``). How well it does is measured, at a state ``s``, by the gap

    g(s) = max_a q(s, a) - q(s, pi(s)) >= 0,

computed here for a batch of states by :func:`amortization_gap`:

- **the critic** is the one the actor ascends: DDPG's only critic; TD3's ``q_a`` (member 0): its
  actor loss (line 5.13.1, :func:`rlbook.ddpg.actor_loss`) uses ``q_a`` alone, the twin minimum
  entering only the target (``critic="min"`` measures against the minimum instead); SAC's (and
  SAC-V's) minimum of the twins, which its actor loss uses (:func:`rlbook.sac.actor_loss`);
- **the max**, in one action dimension, by a dense grid of ``points`` actions over the interval
  ``[low, high]`` (step ``h = (high - low) / (points - 1)``), refined by ``refine`` steps of a
  golden-section search on the two cells around the best grid point (the bracket shrinks to
  ``2 h 0.618^refine``); the larger of the grid's and the search's values is kept, so refining
  never lowers the max. :func:`maximize_1d` also returns, per state, an **estimate** of what the
  grid may have missed (the ``bound``): ``max_k [(q_k + q_{k+1}) / 2 + L_k h / 2] - max``, clipped
  at 0, a bound only when the slope of ``q`` in cell ``k`` stays below ``L_k``, the largest
  finite-difference slope of that cell and its two neighbours (a ReLU critic is piecewise linear
  in ``a``, so this fails only if a cell hides a kink much steeper than the cells around it: a
  narrow bump between two grid points is missed, and the estimate does not see it either). For a
  quadratic critic it is
  about three times the grid's error ``H h^2 / 4``; the tests check it against the closed form;
- in more action dimensions, by the book's maximizer for actions, projected gradient ascent with
  restarts (:func:`rlbook.fqi.gradient_maximizer`, the one :func:`rlbook.fqi.pendulum_q` uses for
  its targets), with ``pi(s)`` kept when it is better: the max is then a lower bound, and so is the gap (no bound is given).

**SAC.** SAC's actor is not asked for the argmax: it minimizes
``E_pi[alpha log pi(a|s) - q(s, a)] = alpha KL(pi(.|s) || pi_q(.|s)) - v_soft(s)`` with
``pi_q(a|s) = exp(q(s, a) / alpha) / Z_theta(s)`` the Boltzmann distribution of the critic (the
chapter's soft-greedy policy of ``q``; ``pi*`` there is the optimal policy, that of ``q*``),
``Z_theta(s) = int exp(q(s, a) / alpha) da`` over the action interval and
``v_soft(s) = alpha log Z_theta(s)``. Its own target is ``pi_q``, and the gap it can close is the
**soft gap**

    g_soft(s) = v_soft(s) - E_pi[q(s, a) - alpha log pi(a|s)] = alpha KL(pi(.|s) || pi_q(.|s)) >= 0,

zero exactly when the actor outputs ``pi_q`` (which a squashed Gaussian can only approach: the
soft gap counts the family's shortfall too). The hard gap of its evaluation action
``bias + scale tanh(mu)``, the median of ``pi``, mixes that error with the spread SAC keeps on
purpose, and does not vanish for a perfect actor whenever the median of ``pi_q`` is not its
mode (a skewed ``pi_q``). That part is the **spread gap**, the hard gap of the median of ``pi_q``
(:func:`boltzmann_median`), what an actor that output ``pi_q`` exactly would have. All three are
returned. ``v_soft`` integrates ``exp(q / alpha)`` exactly
for ``q`` linear between the grid points (a ReLU critic is piecewise linear in ``a``; the
trapezoid rule would be far off where ``q`` changes by more than ``alpha`` in one cell), in
log-sum-exp form; ``soft_bound`` estimates its error (an estimate, not a bound) as the change from
the same rule on every other grid point. ``E_pi`` is Gauss-Hermite quadrature with ``nodes`` nodes
in the pre-squash variable ``u ~ N(mu, sigma^2)``, ``a = bias + scale tanh(u)``,
with the log-density of :class:`rlbook.networks.SquashedGaussianActor` (the environment action's,
``-sum log scale`` included, the same measure ``da`` as ``v_soft``'s); its error is not estimated
here: compare with more ``nodes``.

:class:`GapRecorder` is a ``callback`` for the trainers (``ddpg.train(..., callback=...)``) that
records the gap along training without changing the run.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .validation import check_choice, check_int, check_real

__all__ = [
    "GAP_ANGLES",
    "GAP_LABELS",
    "GAP_NAMES",
    "GAP_SPEEDS",
    "GapRecorder",
    "GapResult",
    "amortization_gap",
    "boltzmann_median",
    "critic_of",
    "maximize_1d",
    "plot_gap",
    "plot_q_snapshots",
    "soft_gap",
]

GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0  # 0.618...

#: the three Pendulum-v1 states whose ``q(s, .)`` the chapters draw (angle 0 is upright):
#: horizontal at rest, hanging at rest, and 45 degrees before upright, swinging up at 2 rad/s
GAP_ANGLES = np.array([np.pi / 2, np.pi, -np.pi / 4])
GAP_SPEEDS = np.array([0.0, 0.0, 2.0])
GAP_NAMES = ("horizontal at rest", "hanging at rest", "45 degrees before upright, swinging up")
GAP_LABELS = (
    r"$\theta = 90°$, $\dot\theta = 0$",
    r"$\theta = 180°$, $\dot\theta = 0$",
    r"$\theta = -45°$, $\dot\theta = 2$",
)


@dataclass
class GapResult:
    """What :func:`amortization_gap` returns, one entry per state (numpy arrays).

    ``gap = q_max - q_pi``; ``fraction`` is the share of states whose gap exceeds ``threshold``.
    For SAC, ``soft_gap``, ``v_soft`` and ``soft_value`` (``E_pi[q - alpha log pi]``), ``alpha``,
    ``pi_q_median`` (the median of the critic's Boltzmann distribution ``pi_q``) and
    ``spread_gap`` (its hard gap, ``q_max - q(s, pi_q_median)``) are set, and ``gap`` is the hard
    gap of the median action.
    """

    states: np.ndarray
    actions: np.ndarray  # pi(s) (SAC: the median action bias + scale tanh(mu))
    argmax: np.ndarray
    q_pi: np.ndarray
    q_max: np.ndarray
    gap: np.ndarray
    bound: np.ndarray  # what the grid may have missed (NaN in more than one action dimension)
    threshold: float
    critic: str
    soft_gap: np.ndarray | None = None
    v_soft: np.ndarray | None = None
    soft_value: np.ndarray | None = None
    soft_bound: np.ndarray | None = None
    alpha: float | None = None
    pi_q_median: np.ndarray | None = None
    spread_gap: np.ndarray | None = None
    grid: np.ndarray | None = field(default=None, repr=False)  # the action grid (1-D actions)
    q_grid: np.ndarray | None = field(default=None, repr=False)  # q(s, grid), (states, points)

    @property
    def fraction(self) -> float:
        """Share of states whose gap (SAC: soft gap) exceeds ``threshold``."""
        g = self.gap if self.soft_gap is None else self.soft_gap
        return float((g > self.threshold).mean())


def critic_of(agent, critic: str = "actor"):
    """``q(obs, act) -> (batch,)``: the critic the actor ascends (``"actor"``: DDPG's, TD3's
    ``q_a``, SAC's twin minimum), or the minimum of the critics (``"min"``)."""
    check_choice("critic", critic, ("actor", "min"))
    q = agent.q
    soft = hasattr(agent, "log_alpha")  # SAC and SAC-V: the actor ascends the twin minimum
    if critic == "min" or soft:
        return lambda obs, act: q(obs, act).min(dim=-2).values
    return lambda obs, act: q(obs, act, members=slice(0, 1))[..., 0, :]


def _check_states(states, obs_dim: int | None = None) -> torch.Tensor:
    s = np.asarray(states, dtype=np.float32)
    if s.ndim != 2 or s.shape[0] == 0 or (obs_dim is not None and s.shape[1] != obs_dim):
        want = f"(n, {obs_dim})" if obs_dim is not None else "(n, obs_dim)"
        raise ValueError(f"states must be an array of shape {want} with n >= 1; got {s.shape}")
    if not np.isfinite(s).all():
        raise ValueError("states must be finite")
    return torch.as_tensor(s)


def _check_box(low, high) -> tuple[float, float]:
    low, high = np.asarray(low, dtype=float).reshape(-1), np.asarray(high, dtype=float).reshape(-1)
    if low.size != 1 or high.size != 1:
        raise ValueError(f"low and high must be scalars (one action dimension); got {low}, {high}")
    if not (np.isfinite(low[0]) and np.isfinite(high[0]) and high[0] > low[0]):
        raise ValueError(f"the action interval needs finite low < high; got [{low[0]}, {high[0]}]")
    return float(low[0]), float(high[0])


@torch.no_grad()
def maximize_1d(q, obs: torch.Tensor, low: float, high: float, points: int = 201, refine: int = 30):
    """``max_a q(s, a)`` over ``[low, high]`` for each state of ``obs`` (one action dimension).

    Returns ``(argmax, q_max, bound, grid, q_grid)``: the refined argmax and max (shape ``(n,)``),
    the per-state bound on what the grid may have missed (see the module's docstring), the grid
    ``(points,)`` and ``q`` on it ``(n, points)``.
    """
    points = check_int("points", points, 3)
    refine = check_int("refine", refine, 0)
    low, high = _check_box(low, high)
    n = obs.shape[0]
    grid = torch.linspace(low, high, points, dtype=torch.float64).float()
    h = (high - low) / (points - 1)

    def values(acts: torch.Tensor) -> torch.Tensor:  # acts (n, k) -> q (n, k)
        k = acts.shape[1]
        o = obs.repeat_interleave(k, 0)
        return q(o, acts.reshape(-1, 1)).reshape(n, k).double()

    q_grid = values(grid.expand(n, points))
    best = q_grid.argmax(1)
    q_max = q_grid[torch.arange(n), best].clone()
    argmax = grid[best].double().clone()
    # golden-section search on the two cells around the best grid point
    a = grid[(best - 1).clamp(min=0)].double()
    b = grid[(best + 1).clamp(max=points - 1)].double()
    c, d = b - GOLDEN * (b - a), a + GOLDEN * (b - a)
    fc, fd = values(c[:, None].float())[:, 0], values(d[:, None].float())[:, 0]
    for _ in range(refine):
        left = fc >= fd  # the max of a unimodal q is in [a, d]: d <- c; else in [c, b]: c <- d
        a, b = torch.where(left, a, c), torch.where(left, d, b)
        x = torch.where(left, b - GOLDEN * (b - a), a + GOLDEN * (b - a))  # the one new point
        fx = values(x[:, None].float())[:, 0]
        c, d, fc, fd = (
            torch.where(left, x, d),
            torch.where(left, c, x),
            torch.where(left, fx, fd),
            torch.where(left, fc, fx),
        )
    for f, at in ((fc, c), (fd, d)):
        better = f > q_max
        q_max = torch.where(better, f, q_max)
        argmax = torch.where(better, at, argmax)
    # what the grid may hide: the Lipschitz bound on each cell with the local slope estimate
    slope = (q_grid[:, 1:] - q_grid[:, :-1]).abs() / h  # (n, points - 1), one per cell
    padded = torch.nn.functional.pad(slope, (1, 1), mode="replicate")
    local = torch.maximum(torch.maximum(padded[:, :-2], padded[:, 1:-1]), padded[:, 2:])
    ceiling = (q_grid[:, 1:] + q_grid[:, :-1]) / 2 + local * h / 2
    bound = (ceiling.max(1).values - q_max).clamp(min=0.0)
    return (
        argmax.float().numpy(),
        q_max.numpy(),
        bound.numpy(),
        grid.numpy(),
        q_grid.numpy(),
    )


@torch.no_grad()
def soft_gap(
    q,
    actor,
    obs: torch.Tensor,
    alpha: float,
    grid: np.ndarray,
    q_grid: np.ndarray,
    nodes: int = 64,
):
    """SAC's soft gap ``v_soft(s) - E_pi[q - alpha log pi]`` for each state (one action dimension).

    ``grid`` and ``q_grid`` are :func:`maximize_1d`'s (``q`` on an even grid of the interval).
    Returns ``(soft_gap, v_soft, soft_value, soft_bound)``, each of shape ``(n,)``.
    """
    alpha = check_real("alpha", alpha, 0.0, low_open=True)
    nodes = check_int("nodes", nodes, 2)
    qg = torch.as_tensor(q_grid, dtype=torch.float64)
    h = float(grid[1] - grid[0])

    def log_integral(values: torch.Tensor, step: float) -> torch.Tensor:
        """log int exp(q / alpha) da with q linear between grid points: on a cell with ends
        q_k, q_k+1, exactly step exp(q_k / alpha) (e^x - 1) / x with x = (q_k+1 - q_k) / alpha."""
        x = (values[:, 1:] - values[:, :-1]) / alpha
        small = x.abs() < 1e-6
        safe = torch.where(small, torch.ones_like(x), x)
        # log((e^x - 1) / x), stably for both signs: x + log(1 - e^-x) - log x when x > 0
        pos = safe + torch.log(-torch.expm1(-safe.abs())) - torch.log(safe.abs())
        neg = torch.log(-torch.expm1(-safe.abs())) - torch.log(safe.abs())
        factor = torch.where(small, x / 2, torch.where(x > 0, pos, neg))
        return torch.logsumexp(values[:, :-1] / alpha + factor, dim=1) + math.log(step)

    v_soft = alpha * log_integral(qg, h)
    if qg.shape[1] % 2 == 1:  # every other point: the same rule with step 2h
        coarse = alpha * log_integral(qg[:, ::2], 2 * h)
        soft_bound = (v_soft - coarse).abs()
    else:
        soft_bound = torch.full_like(v_soft, float("nan"))
    # E_pi[q - alpha log pi] by Gauss-Hermite quadrature in u ~ N(mu, sigma^2)
    with np.errstate(all="ignore"):
        z, w = np.polynomial.hermite_e.hermegauss(nodes)
    if not (np.isfinite(z).all() and np.isfinite(w).all()):
        raise ValueError(f"nodes must be at most about 350 (the rule overflows); got {nodes}")
    z = torch.as_tensor(z, dtype=torch.float32)
    w = torch.as_tensor(w / np.sqrt(2 * np.pi), dtype=torch.float64)
    mu, log_std = actor.distribution_params(obs)  # (n, 1)
    u = mu + log_std.exp() * z  # (n, nodes)
    acts = actor.rescale(torch.tanh(u)[..., None])  # (n, nodes, 1)
    logp = actor.log_prob_from_pre_tanh(u[..., None], mu[:, None, :], log_std[:, None, :])
    n = obs.shape[0]
    q_u = q(obs.repeat_interleave(nodes, 0), acts.reshape(-1, 1)).reshape(n, nodes).double()
    soft_value = ((q_u - alpha * logp.double()) * w).sum(1)
    return (
        (v_soft - soft_value).numpy(),
        v_soft.numpy(),
        soft_value.numpy(),
        soft_bound.numpy(),
    )


def boltzmann_median(grid: np.ndarray, q_grid: np.ndarray, alpha: float) -> np.ndarray:
    """The median of ``pi_q(a|s) = exp(q(s, a) / alpha) / Z_theta(s)`` for each state (one action
    dimension), with ``q`` linear between the points of the even ``grid`` (``q_grid``: shape
    ``(n, points)``, :func:`maximize_1d`'s), as ``v_soft`` in :func:`soft_gap` integrates it.

    On a cell of width ``h`` with ends ``q_k``, ``q_k+1``, the mass up to the fraction ``t`` of the
    cell is ``h exp(q_k / alpha) (e^(x t) - 1) / x`` with ``x = (q_k+1 - q_k) / alpha``; the median
    is found in the cell where the cumulative mass passes one half by inverting this exactly.
    """
    alpha = check_real("alpha", alpha, 0.0, low_open=True)
    grid = np.asarray(grid, dtype=float)
    qg = np.asarray(q_grid, dtype=float)
    if grid.ndim != 1 or grid.size < 2 or qg.ndim != 2 or qg.shape[1] != grid.size:
        raise ValueError(
            f"grid must have shape (points,) and q_grid (n, points); got {grid.shape}, {qg.shape}"
        )
    h = float(grid[1] - grid[0])
    x = (qg[:, 1:] - qg[:, :-1]) / alpha
    small = np.abs(x) < 1e-6
    safe = np.where(small, 1.0, x)
    # log((e^x - 1) / x) per cell, stably for both signs (as in soft_gap)
    log_tail = np.log(-np.expm1(-np.abs(safe))) - np.log(np.abs(safe))
    factor = np.where(small, x / 2, np.where(x > 0, safe + log_tail, log_tail))
    log_mass = qg[:, :-1] / alpha + factor  # log of each cell's mass, up to log h
    mass = np.exp(log_mass - log_mass.max(1, keepdims=True))
    cum = np.cumsum(mass, 1)
    half = cum[:, -1] / 2
    rows = np.arange(len(qg))
    k = np.minimum((cum < half[:, None]).sum(1), mass.shape[1] - 1)  # the cell passing one half
    before = np.where(k > 0, cum[rows, np.maximum(k - 1, 0)], 0.0)
    f = np.clip((half - before) / mass[rows, k], 0.0, 1.0)  # the fraction of that cell's mass
    xk = x[rows, k]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        # solve (e^(x t) - 1) / (e^x - 1) = f for t in [0, 1]
        t_pos = 1.0 + np.log(f + (1.0 - f) * np.exp(-np.abs(xk))) / np.where(xk > 0, xk, 1.0)
        t_neg = np.log1p(f * np.expm1(xk)) / np.where(xk < 0, xk, -1.0)
    t = np.where(np.abs(xk) < 1e-6, f, np.where(xk > 0, t_pos, t_neg))
    return grid[k] + np.clip(t, 0.0, 1.0) * h


def amortization_gap(
    agent,
    states,
    *,
    points: int = 201,
    refine: int = 30,
    threshold: float = 1.0,
    critic: str = "actor",
    nodes: int = 64,
    restarts: int = 8,
    steps: int = 100,
    seed: int = 0,
) -> GapResult:
    """The amortization gap of a trained DDPG, TD3, SAC or SAC-V ``agent`` on ``states``.

    ``states``: observations, shape ``(n, obs_dim)``. ``points`` grid actions and ``refine``
    golden-section steps in one action dimension (see the module's docstring for the bound);
    ``restarts`` and ``steps`` of :func:`rlbook.fqi.gradient_maximizer` (seeded by ``seed``) in
    more. ``threshold`` (>= 0, in the critic's units, return units): ``GapResult.fraction`` is the
    share of states whose gap (SAC: soft gap) exceeds it. ``critic``: ``"actor"`` (the critic the
    actor ascends) or ``"min"`` (the twin minimum). ``nodes``: SAC's Gauss-Hermite nodes.
    Nothing of the agent changes: no random generator is drawn from, no parameter or gradient is
    touched, no mode is switched.
    """
    threshold = check_real("threshold", threshold, 0.0)
    check_choice("critic", critic, ("actor", "min"))
    if getattr(agent, "members", None) is not None:
        raise ValueError(
            "agent is a batch of runs: measure one run, result.runs[i].agent or agent.member(i)"
        )
    if not hasattr(agent, "q") or not hasattr(agent, "policy"):
        raise ValueError(f"agent must be a DDPG, TD3, SAC or SAC-V agent; got {type(agent)}")
    obs = _check_states(states, agent.obs_dim).to(agent.device)
    if agent.device.type != "cpu":
        raise ValueError("amortization_gap runs on the CPU: train with device='cpu'")
    q = critic_of(agent, critic)
    soft = hasattr(agent, "log_alpha")
    with torch.no_grad():
        actions = agent.policy(obs)  # SAC: bias + scale tanh(mu), the median action
        q_pi = q(obs, actions).double().numpy()
    out: dict[str, Any] = dict(  # GapResult's fields, filled as they are measured
        states=obs.numpy(), actions=actions.numpy(), q_pi=q_pi, threshold=threshold
    )
    out["critic"] = "min" if soft or critic == "min" else "q_a"
    if agent.act_dim == 1:
        argmax, q_max, bound, grid, q_grid = maximize_1d(
            q, obs, agent.low[0], agent.high[0], points, refine
        )
        # pi(s) itself is an action of the interval: where it beats the search, it is the argmax
        better = q_pi > q_max
        argmax = np.where(better, actions[:, 0].double().numpy(), argmax)
        q_max = np.where(better, q_pi, q_max)
        out.update(argmax=argmax[:, None], q_max=q_max, bound=bound, grid=grid, q_grid=q_grid)
        if soft:
            alpha = float(agent.alpha)
            if alpha > 0:
                sg, v, sv, sb = soft_gap(q, agent.policy, obs, alpha, grid, q_grid, nodes)
                out.update(soft_gap=sg, v_soft=v, soft_value=sv, soft_bound=sb, alpha=alpha)
                med = boltzmann_median(grid, q_grid, alpha)
                with torch.no_grad():
                    q_med = q(obs, torch.as_tensor(med[:, None], dtype=torch.float32))
                spread = q_max - q_med.double().numpy()
                out.update(pi_q_median=med, spread_gap=spread)
    else:
        from .fqi import gradient_maximizer

        check_int("restarts", restarts, 1)
        check_int("steps", steps, 1)
        maximize = gradient_maximizer(agent.low, agent.high, restarts, steps, seed=seed)
        params = dict(agent.q.named_parameters())
        frozen = {k: v.detach() for k, v in params.items()}

        def q_frozen(o, a):  # the critic with its parameters cut off the graph: only a gets grads
            values = torch.func.functional_call(agent.q, frozen, (o, a))
            return values.min(dim=-2).values if (soft or critic == "min") else values[0]

        acts, _ = maximize(q_frozen, obs)
        with torch.no_grad():
            found = q(obs, acts).double().numpy()
        better = found > q_pi
        argmax = np.where(better[:, None], acts.numpy(), actions.numpy())
        q_max = np.maximum(found, q_pi)
        out.update(argmax=argmax, q_max=q_max, bound=np.full(len(q_pi), np.nan))
    out["gap"] = out["q_max"] - q_pi
    return GapResult(**out)


class GapRecorder:
    """A ``callback(agent, step)`` for the trainers that records the amortization gap.

    Every ``every`` environment steps (it runs after the evaluations, every ``eval_every`` steps,
    so ``every`` must be a multiple of the config's ``eval_every``), it measures
    :func:`amortization_gap` on a fixed set of ``n_states`` states, drawn once, at its first call,
    from the replay buffer, without replacement, with its own generator (``numpy``
    ``default_rng(seed)``). Each call returns the summary the loop keeps in ``Result.logs``
    (``gap_median``, ``gap_high`` the ``quantile`` of the gaps, ``gap_fraction`` above
    ``threshold``, and for SAC the same of the soft gap, ``soft_*``, and of the spread gap,
    ``spread_*``), and keeps in
    :attr:`snapshots` ``q(s, .)`` on the grid, ``pi(s)`` and the argmax for the observations
    ``snapshot_obs`` (default: the first three fixed states). :attr:`rows` holds the summaries.

    The run is unchanged: nothing is drawn from torch's global generator, the agent's generator or
    the buffer's, no parameter, gradient or mode of a network is touched, and everything runs
    under ``torch.no_grad`` (in more than one action dimension the maximizer differentiates a
    copy of the critic's function with detached parameters). It is for one run
    (``train(seed=...)``): with ``seeds=...`` the loop calls the one callback once per run at
    each evaluation, and the recorder refuses a second call at the same step.
    """

    def __init__(
        self,
        every: int = 1_000,
        n_states: int = 256,
        threshold: float = 1.0,
        quantile: float = 0.9,
        points: int = 201,
        snapshot_obs=None,
        seed: int = 0,
        critic: str = "actor",
    ):
        self.every = check_int("every", every, 1)
        self.n_states = check_int("n_states", n_states, 1)
        self.threshold = check_real("threshold", threshold, 0.0)
        self.quantile = check_real("quantile", quantile, 0.0, 1.0)
        self.points = check_int("points", points, 3)
        check_choice("critic", critic, ("actor", "min"))
        self.critic = critic
        self.rng = np.random.default_rng(check_int("seed", seed, 0))
        self.snapshot_obs = None
        if snapshot_obs is not None:
            self.snapshot_obs = _check_states(snapshot_obs).numpy()
        self.states: np.ndarray | None = None
        self.rows: list[dict] = []
        self.snapshots: list[dict] = []
        self.seconds: list[float] = []  # the time of each call, to say what the recording costs

    def draw_states(self, agent) -> np.ndarray:
        size = len(agent.buffer)
        if size == 0:
            raise ValueError("the replay buffer is empty: call the recorder after warm-up")
        idx = self.rng.choice(size, size=min(self.n_states, size), replace=False)
        return np.array(agent.buffer.obs[np.sort(idx)], copy=True)

    def __call__(self, agent, step: int) -> dict | None:
        eval_every = getattr(agent.config, "eval_every", 0)
        if eval_every and self.every % eval_every:
            raise ValueError(
                f"every must be a multiple of the config's eval_every ({eval_every}), the steps "
                f"at which the trainer calls the recorder; got every={self.every}"
            )
        if step % self.every:
            return None
        start = time.perf_counter()
        try:
            return self.record(agent, step)
        finally:
            self.seconds.append(time.perf_counter() - start)

    def record(self, agent, step: int) -> dict:
        """Measure at ``step`` (what a call does when ``step`` is a multiple of ``every``)."""
        if self.rows and self.rows[-1]["step"] == step:
            raise ValueError(
                "GapRecorder was called twice at one step: a batch of runs needs one recorder "
                "per run (train each seed with its own)"
            )
        if self.states is None:
            self.states = self.draw_states(agent)
            if self.snapshot_obs is None:
                self.snapshot_obs = self.states[:3].copy()
        g = amortization_gap(
            agent, self.states, points=self.points, threshold=self.threshold, critic=self.critic
        )
        row = {"step": int(step), **self.summary(g.gap, g.threshold, "gap")}
        row["bound_max"] = float(np.nanmax(g.bound)) if np.isfinite(g.bound).any() else np.nan
        if g.soft_gap is not None:
            # amortization_gap sets the soft fields together (SAC with alpha > 0)
            assert g.soft_bound is not None and g.spread_gap is not None
            row.update(self.summary(g.soft_gap, g.threshold, "soft"))
            row["alpha"] = g.alpha
            row["soft_bound_max"] = float(np.max(g.soft_bound))
            row.update(self.summary(g.spread_gap, g.threshold, "spread"))
        self.rows.append(row)
        if agent.act_dim == 1:
            snap = amortization_gap(
                agent,
                self.snapshot_obs,
                points=self.points,
                threshold=self.threshold,
                critic=self.critic,
            )
            self.snapshots.append(
                {
                    "step": int(step),
                    "grid": snap.grid,
                    "q_grid": snap.q_grid,
                    "actions": snap.actions[:, 0],
                    "argmax": snap.argmax[:, 0],
                    "gap": snap.gap,
                    "soft_gap": snap.soft_gap,
                    "pi_q_median": snap.pi_q_median,
                    "spread_gap": snap.spread_gap,
                }
            )
        return {k: v for k, v in row.items() if k != "step"}

    def summary(self, gaps: np.ndarray, threshold: float, prefix: str) -> dict:
        return {
            f"{prefix}_median": float(np.median(gaps)),
            f"{prefix}_high": float(np.quantile(gaps, self.quantile)),
            f"{prefix}_fraction": float((gaps > threshold).mean()),
        }

    def arrays(self) -> dict[str, np.ndarray]:
        """The recorded summaries as arrays, by key (``step``, ``gap_median``, ...)."""
        keys = self.rows[0].keys() if self.rows else ()
        return {k: np.array([r.get(k, np.nan) for r in self.rows]) for k in keys}


def plot_gap(recorder: GapRecorder, axes=None, label: str = "gap"):
    """Two panels from ``recorder.rows``: left, the median and the ``quantile`` of the gap over
    the fixed states against environment steps (SAC: the soft gap, and the hard gap of the median
    action dashed); right, the percentage of states whose gap exceeds the threshold."""
    import matplotlib.pyplot as plt

    if not recorder.rows:
        raise ValueError("the recorder has no rows: train with it as the callback first")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(7.5, 3.0))
    r = recorder.arrays()
    q = f"{100 * recorder.quantile:g}%"
    soft = "soft_median" in r
    key = "soft" if soft else "gap"
    name = "soft gap" if soft else label
    axes[0].plot(r["step"], r[f"{key}_median"], marker="o", label=f"{name}, median")
    axes[0].plot(r["step"], r[f"{key}_high"], marker="s", label=f"{name}, {q} quantile")
    if soft:
        axes[0].plot(r["step"], r["gap_median"], ls=":", color="0.4", label="hard gap, median")
        axes[0].plot(
            r["step"], r["gap_high"], ls="--", color="0.4", label=f"hard gap, {q} quantile"
        )
    axes[0].set(xlabel="environment steps", ylabel="gap (return units)", ylim=(0, None))
    axes[0].legend(fontsize=9, ncol=2, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    axes[1].plot(r["step"], 100 * r[f"{key}_fraction"], marker="o", color="C2")
    axes[1].set(
        xlabel="environment steps",
        ylabel=f"% of states with {name} > {recorder.threshold:g}",
        ylim=(0, None),
    )
    return axes


def plot_q_snapshots(recorder: GapRecorder, steps, state_labels=None, axes=None):
    """``q(s, .)`` over the action interval for the snapshot states (columns) at the recorded
    ``steps`` (rows), with ``pi(s)`` (a circle on the curve) and the argmax (a cross). For SAC
    (snapshots with a soft gap) the circle is labelled "evaluation action": ``pi(s)`` is then a
    distribution, and the circle its median."""
    import matplotlib.pyplot as plt

    by_step = {s["step"]: s for s in recorder.snapshots}
    missing = [s for s in steps if s not in by_step]
    if missing:
        raise ValueError(f"steps must be recorded steps {sorted(by_step)}; got {missing}")
    if recorder.snapshot_obs is None:
        raise ValueError("recorder has no snapshot states yet: train with it as the callback")
    k = len(recorder.snapshot_obs)
    if axes is None:
        _, axes = plt.subplots(len(steps), k, figsize=(7.5, 2.3 * len(steps)), squeeze=False)
    for row, step in enumerate(steps):
        snap = by_step[step]
        sac_like = snap.get("soft_gap") is not None
        pi_label = "evaluation action" if sac_like else r"$\pi(s)$"
        for j in range(k):
            ax = axes[row][j]
            grid, qg = snap["grid"], snap["q_grid"][j]
            ax.plot(grid, qg, color="C0")
            a_pi, a_max = snap["actions"][j], snap["argmax"][j]
            ax.plot([a_pi], [np.interp(a_pi, grid, qg)], "o", color="C1", label=pi_label)
            ax.plot(
                [a_max], [np.interp(a_max, grid, qg)], "x", color="k", ms=8, mew=2, label=r"argmax"
            )
            title = state_labels[j] if state_labels is not None else f"state {j}"
            ax.set_title(f"{title}\nstep {step:,}, gap {snap['gap'][j]:.2f}", fontsize=10)
            if row == len(steps) - 1:
                ax.set_xlabel("action $a$")
            if j == 0:
                ax.set_ylabel(r"$q(s, a)$")
    axes[0][0].legend(fontsize=9)
    return axes
