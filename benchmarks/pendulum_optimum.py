"""Pendulum-v1's optimum on the book's 100 fixed starts, and learned policies' returns beside it.

Usage (from the repository root, after `make setup`; one thread, about 3 minutes on this 2-core
AMD EPYC):

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pendulum_optimum.py

searches, for each start ``reset(seed=i)``, i < 100, for the best sequence of 200 torques in
[-2, 2], with the dynamics of gymnasium's Pendulum-v1 known (theta_dot clipped to [-8, 8], the
torque to [-2, 2], cost angle^2 + 0.1 theta_dot^2 + 0.001 u^2 per step, no discount):

1. finite-horizon dynamic programming over the 200 steps on a periodic (theta, theta_dot) grid
   with a set of evenly spaced torques and bilinear interpolation of the value tables, on three
   grids (``--grids``: 801 x 641 points with 41 torques, 501 x 401 and 201 x 161 with 21); the
   greedy policy of each grid's tables, choosing among ``--rollout-actions`` torques by one exact
   step plus the interpolated value, is rolled out from each start: three initial sequences (the
   grids differ, near the hanging position, in which swing-up they pick);
2. four more initial sequences from energy-pumping controllers (bang-bang or proportional pumping,
   a first push in either direction) that switch to an LQR balance near the top;
3. each of the seven refined by iLQR with box-constrained controls (Gauss-Newton DDP: the exact
   Jacobians of the clipped dynamics, a backtracking line search on a closed-loop forward pass,
   adaptive regularisation), all starts and initialisations at once (``--iters`` iterations).
   iLQR rather than gradient descent on the 200 torques: held upright, the pendulum is unstable
   (a deviation grows by a factor of about 1.21 per step), so the gradient of the return with
   respect to the first torques reaches 1e11 and open-loop descent stalls, where DDP's forward
   pass runs in closed loop;
4. every candidate (the seven initial sequences and their refinements) *measured* by stepping the
   real ``gymnasium`` Pendulum-v1 from ``reset(seed=i)``; a refined one is stepped in closed loop
   with its iLQR feedback gains, each applied torque rounded to ``--decimals`` decimals, so the
   torques recorded are the ones applied and replaying them in open loop gives the recorded
   return on the same arithmetic. The best per start is kept.

It writes ``code/rlbook/results/pendulum-optimum/optimum.json``: per start the seed, the start
state, the best return and its torque sequence, which candidate it came from, and the return of
each candidate; the mean return; the settings; timings; provenance (commit, versions, CPU model
and flags). ``rlbook.optimum.pendulum_optimum()`` loads it. ``--check`` replays the recorded
sequences in the real environment and compares.

Learned policies' returns on each start (the Benchmarks chapter's gap figure):

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pendulum_optimum.py --learned --seeds 5

trains rlbook's DDPG, TD3 and SAC with the chapters' laptop settings (``rlbook.presets.LAPTOP``,
as the DDPG, TD3 and SAC chapters train), one thread, seeds 0..S-1, and evaluates each final
deterministic policy on the 100 starts, writing the returns per start to
``code/rlbook/results/pendulum-optimum/learned.json`` (``rlbook.optimum.learned_returns()``);
``--skip-done`` keeps the runs already there.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import scipy
import scipy.linalg
import scipy.sparse

from rlbook.optimum import LEARNED, RECORD, replay
from rlbook.provenance import record_header

T = 200  # steps per episode (the TimeLimit of Pendulum-v1)
DT, MAX_SPEED, MAX_TORQUE = 0.05, 8.0, 2.0  # Pendulum-v1's dt, max_speed, max_torque
G3, B3 = 15.0, 3.0  # 3 g / (2 l) and 3 / (m l^2) with g = 10, m = l = 1
TWO_PI = 2 * math.pi


def wrap(theta):
    """Pendulum-v1's ``angle_normalize``: the angle in [-pi, pi)."""
    return ((theta + np.pi) % TWO_PI) - np.pi


def start_states(seeds) -> np.ndarray:
    """``(len(seeds), 2)``: the state (theta, theta_dot) after ``reset(seed=i)``, in float64."""
    env = gym.make("Pendulum-v1")
    out = []
    for s in seeds:
        env.reset(seed=int(s))
        out.append(np.array(env.unwrapped.state, dtype=float))
    env.close()
    return np.array(out)


def step(theta, omega, u):
    """One step of Pendulum-v1 on arrays (the environment's own arithmetic, in float64):
    ``(cost, theta', omega', unclipped)``; ``unclipped`` is where theta_dot stayed in the box."""
    u = np.clip(u, -MAX_TORQUE, MAX_TORQUE)
    cost = wrap(theta) ** 2 + 0.1 * omega**2 + 0.001 * (u**2)
    new_omega = omega + (G3 * np.sin(theta) + B3 * u) * DT
    free = np.abs(new_omega) < MAX_SPEED
    new_omega = np.clip(new_omega, -MAX_SPEED, MAX_SPEED)
    return cost, theta + new_omega * DT, new_omega, free


# ------------------------------------------------------------------ dynamic programming


class Grid:
    """A periodic grid in theta (``n_theta`` points on [-pi, pi)) times ``n_omega`` points on
    [-8, 8], with bilinear interpolation of a table of values on it."""

    def __init__(self, n_theta: int, n_omega: int):
        self.n_theta, self.n_omega = n_theta, n_omega
        self.d_theta, self.d_omega = TWO_PI / n_theta, 2 * MAX_SPEED / (n_omega - 1)
        theta = -np.pi + self.d_theta * np.arange(n_theta)
        omega = np.linspace(-MAX_SPEED, MAX_SPEED, n_omega)
        th, om = np.meshgrid(theta, omega, indexing="ij")
        self.theta, self.omega = th.ravel(), om.ravel()

    def corners(self, theta, omega):
        """The four grid indices around each point and their bilinear weights."""
        x = ((theta + np.pi) % TWO_PI) / self.d_theta
        i0 = np.floor(x).astype(np.int64)
        fx = x - i0
        i0 %= self.n_theta
        i1 = (i0 + 1) % self.n_theta
        y = (omega + MAX_SPEED) / self.d_omega
        j0 = np.clip(np.floor(y).astype(np.int64), 0, self.n_omega - 2)
        fy = y - j0
        m = self.n_omega
        idx = np.stack([i0 * m + j0, i0 * m + j0 + 1, i1 * m + j0, i1 * m + j0 + 1], -1)
        w = np.stack([(1 - fx) * (1 - fy), (1 - fx) * fy, fx * (1 - fy), fx * fy], -1)
        return idx, w

    def interpolate(self, table, theta, omega):
        idx, w = self.corners(theta, omega)
        return (table[idx] * w).sum(-1)


def dp_tables(grid: Grid, actions) -> list[np.ndarray]:
    """Finite-horizon value tables ``V[t]`` (return to go with 200 - t steps left, float32) of
    the grid's interpolated Bellman recursion over the torques ``actions``."""
    n = grid.theta.size
    rows = np.repeat(np.arange(n), 4)
    moves, rewards = [], []
    for a in actions:
        cost, th, om, _ = step(grid.theta, grid.omega, np.full(n, a))
        idx, w = grid.corners(th, om)
        moves.append(scipy.sparse.csr_matrix((w.ravel(), (rows, idx.ravel())), shape=(n, n)))
        rewards.append(-cost)
    v = np.zeros(n)
    tables = [v.astype(np.float32)]
    for _ in range(T):
        v = np.max([r + p @ v for r, p in zip(rewards, moves, strict=True)], axis=0)
        tables.append(v.astype(np.float32))
    return tables[::-1]


def dp_rollout(grid: Grid, tables, starts, actions) -> np.ndarray:
    """``(starts, 200)`` torques of the greedy policy of ``tables``, choosing among ``actions``
    by one exact step plus the interpolated value of the state it reaches."""
    th, om = starts[:, 0].copy(), starts[:, 1].copy()
    a = np.asarray(actions)[None, :]
    rows = np.arange(len(th))
    out = np.empty((len(th), T))
    for t in range(T):
        cost, th2, om2, _ = step(th[:, None], om[:, None], a)
        q = -cost + grid.interpolate(tables[t + 1], th2, om2)
        best = q.argmax(1)
        out[:, t] = a[0, best]
        th, om = th2[rows, best], om2[rows, best]
    return out


# ------------------------------------------------------------------ hand-written controllers


def lqr_gain() -> np.ndarray:
    """The infinite-horizon LQR gain of Pendulum-v1 linearised upright (u = -K x)."""
    A = np.array([[1 + G3 * DT * DT, DT], [G3 * DT, 1.0]])
    B = np.array([[B3 * DT * DT], [B3 * DT]])
    Q, R = np.diag([1.0, 0.1]), np.array([[0.001]])
    P = scipy.linalg.solve_discrete_are(A, B, Q, R)
    return np.linalg.solve(R + B.T @ P @ B, B.T @ P @ A)[0]


def energy_pumping(starts, kick: float, gain: float | None) -> np.ndarray:
    """``(starts, 200)`` torques of an energy-pumping swing-up: a first push ``kick`` (+-2) for 5
    steps, then torque along theta_dot while the energy ``E = theta_dot^2 / 2 + 15 (cos theta - 1)``
    is below the upright's (0): bang-bang (``gain`` None) or ``clip(gain * theta_dot * -E)``; an
    LQR balance once near the top."""
    K = lqr_gain()
    th, om = starts[:, 0].copy(), starts[:, 1].copy()
    out = np.empty((len(th), T))
    for t in range(T):
        n = wrap(th)
        energy = 0.5 * om**2 + G3 * (np.cos(th) - 1)
        if gain is None:
            pump = MAX_TORQUE * np.sign(om) * np.sign(-energy)
        else:
            pump = gain * om * -energy
        u = kick if t < 5 else pump
        near = (np.abs(n) < 0.6) & (np.abs(om) < 4)
        u = np.clip(np.where(near & (t >= 5), -(K[0] * n + K[1] * om), u), -2, 2)
        out[:, t] = u
        _, th, om, _ = step(th, om, u)
    return out


# ------------------------------------------------------------------ iLQR


def simulate(starts, u_bar, x_bar=None, k=None, K=None, alpha=1.0):
    """Roll out all problems at once: open loop on ``u_bar``, or in closed loop
    ``u = clip(u_bar + alpha k + K (x - x_bar))``. Returns torques, angles, speeds, where
    theta_dot stayed unclipped (each ``(B, 200)``) and the total cost ``(B,)``."""
    B = u_bar.shape[0]
    th, om = starts[:, 0].copy(), starts[:, 1].copy()
    U, TH, OM = np.empty((B, T)), np.empty((B, T)), np.empty((B, T))
    free = np.empty((B, T), dtype=bool)
    total = np.zeros(B)
    for t in range(T):
        u = u_bar[:, t]
        if K is not None:
            dx = (th - x_bar[0][:, t], om - x_bar[1][:, t])
            u = u + alpha * k[:, t] + K[:, t, 0] * dx[0] + K[:, t, 1] * dx[1]
        u = np.clip(u, -MAX_TORQUE, MAX_TORQUE)
        U[:, t], TH[:, t], OM[:, t] = u, th, om
        cost, th, om, free[:, t] = step(th, om, u)
        total += cost
    return U, TH, OM, free, total


def backward(U, TH, OM, free, mu):
    """One Gauss-Newton DDP backward pass with box-clamped torques: feedforward ``k (B, 200)``,
    gains ``K (B, 200, 2)``, and the model's predicted decrease terms ``(sum k Q_u, sum k^2 Q_uu / 2)``."""
    B = U.shape[0]
    v1, v2, a, b, d = (np.zeros(B) for _ in range(5))  # V_x, V_xx of the step after
    k, K = np.empty((B, T)), np.empty((B, T, 2))
    lin, quad = np.zeros(B), np.zeros(B)
    for t in range(T - 1, -1, -1):
        m = free[:, t].astype(float)
        c = G3 * DT * np.cos(TH[:, t]) * m
        f11, f12, f21, f22 = 1 + DT * c, DT * m, c, m  # d(theta', omega') / d(theta, omega)
        g1, g2 = B3 * DT * DT * m, B3 * DT * m  # d(theta', omega') / du
        qx1 = 2 * wrap(TH[:, t]) + f11 * v1 + f21 * v2
        qx2 = 0.2 * OM[:, t] + f12 * v1 + f22 * v2
        qu = 0.002 * U[:, t] + g1 * v1 + g2 * v2
        p1, p2 = a * g1 + b * g2, b * g1 + d * g2
        quu = 0.002 + g1 * p1 + g2 * p2
        qux1, qux2 = f11 * p1 + f21 * p2, f12 * p1 + f22 * p2
        m11, m12 = a * f11 + b * f21, a * f12 + b * f22
        m21, m22 = b * f11 + d * f21, b * f12 + d * f22
        qxx11 = 2 + f11 * m11 + f21 * m21
        qxx12 = f11 * m12 + f21 * m22
        qxx22 = 0.2 + f12 * m12 + f22 * m22
        h = quu + mu
        kt, K1, K2 = -qu / h, -qux1 / h, -qux2 / h
        target = U[:, t] + kt
        clamped = np.abs(target) > MAX_TORQUE
        kt = np.clip(target, -MAX_TORQUE, MAX_TORQUE) - U[:, t]
        K1, K2 = np.where(clamped, 0.0, K1), np.where(clamped, 0.0, K2)
        k[:, t], K[:, t, 0], K[:, t, 1] = kt, K1, K2
        lin += kt * qu
        quad += 0.5 * kt * kt * quu
        v1 = qx1 + K1 * quu * kt + K1 * qu + qux1 * kt
        v2 = qx2 + K2 * quu * kt + K2 * qu + qux2 * kt
        a = qxx11 + K1 * quu * K1 + 2 * K1 * qux1
        b = qxx12 + K1 * quu * K2 + K1 * qux2 + qux1 * K2
        d = qxx22 + K2 * quu * K2 + 2 * K2 * qux2
    return k, K, lin, quad


ALPHAS = np.array([1.0, 0.5, 0.25, 0.1, 0.03, 0.01, 0.001])


def ilqr(starts, u0, iters: int, log_every: int = 50):
    """Refine every sequence of ``u0 (B, 200)`` from its start ``starts (B, 2)``; returns the
    final torques, states ``(theta, theta_dot)`` and the feedback gains of the last backward pass
    (for a closed-loop replay), and the final costs."""
    B = u0.shape[0]
    U, TH, OM, free, cost = simulate(starts, u0)
    mu = np.full(B, 1e-6)
    n_a = len(ALPHAS)
    rep = np.repeat(starts, n_a, axis=0)
    for it in range(iters):
        k, K, _, _ = backward(U, TH, OM, free, mu)
        trial = simulate(
            rep,
            np.repeat(U, n_a, axis=0),
            (np.repeat(TH, n_a, axis=0), np.repeat(OM, n_a, axis=0)),
            np.repeat(k, n_a, axis=0),
            np.repeat(K, n_a, axis=0),
            np.tile(ALPHAS, B),
        )
        costs = trial[4].reshape(B, n_a)
        best = costs.argmin(1)
        better = costs[np.arange(B), best] < cost - 1e-12 * np.abs(cost)
        pick = np.arange(B) * n_a + best
        for arr, new in zip((U, TH, OM, free), trial[:4], strict=True):
            arr[better] = new[pick[better]]
        cost = np.where(better, costs[np.arange(B), best], cost)
        mu = np.where(better, np.maximum(mu / 4, 1e-9), np.minimum(mu * 10, 1e4))
        if log_every and (it + 1) % log_every == 0:
            print(
                f"  iLQR {it + 1:4d}: mean cost {cost.mean():.6f}, improved {better.sum()}/{B}",
                flush=True,
            )
    k, K, _, _ = backward(U, TH, OM, free, np.zeros(B))
    return U, (TH, OM), K, cost


# ------------------------------------------------------------------ measuring in the real env


def measure(seed: int, u_bar, x_bar=None, K=None, decimals: int = 6):
    """Step ``gym.make("Pendulum-v1")`` from ``reset(seed=seed)``: torques ``u_bar`` (rounded to
    ``decimals``), or in closed loop around ``x_bar`` with gains ``K``, each applied torque
    rounded. Returns the applied torques and the return."""
    env = gym.make("Pendulum-v1")
    env.reset(seed=int(seed))
    applied, total = [], 0.0
    for t in range(T):
        u = float(u_bar[t])
        if K is not None:
            th, om = env.unwrapped.state
            u += K[t, 0] * (th - x_bar[0][t]) + K[t, 1] * (om - x_bar[1][t])
        u = round(min(MAX_TORQUE, max(-MAX_TORQUE, u)), decimals) + 0.0  # no -0.0
        applied.append(u)
        total += env.step(np.array([u]))[1]
    env.close()
    return applied, float(total)


def worktree_changes() -> list[str] | None:
    """The tracked files of the package with uncommitted changes when the record was written
    (empty: the commit named is the code that ran; None where git is unavailable)."""
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "code/rlbook"],
            cwd=Path(__file__).resolve().parents[1],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return sorted(line[3:] for line in out.stdout.splitlines()) if out.returncode == 0 else None


def optimum(args) -> dict:
    clock = {}
    t0 = time.perf_counter()
    seeds = list(range(args.starts))
    starts = start_states(seeds)
    inits = {}

    t = time.perf_counter()
    rollout_actions = np.linspace(-MAX_TORQUE, MAX_TORQUE, args.rollout_actions)
    for k, spec in enumerate(args.grids):
        n_theta, n_omega, n_torques = spec
        grid = Grid(n_theta, n_omega)
        tables = dp_tables(grid, np.linspace(-MAX_TORQUE, MAX_TORQUE, n_torques))
        inits[f"dp-{n_theta}x{n_omega}"] = dp_rollout(grid, tables, starts, rollout_actions)
        if k == 0:  # the finest grid's estimate of each start's optimum, for comparison
            dp_value = grid.interpolate(tables[0], starts[:, 0], starts[:, 1]).astype(float)
        del tables
        print(f"  grid {n_theta} x {n_omega}, {n_torques} torques: done", flush=True)
    clock["dynamic_programming"] = time.perf_counter() - t
    print(f"dynamic programming: {clock['dynamic_programming']:.1f} s", flush=True)

    for kick in (2.0, -2.0):
        inits[f"energy-bang{kick:+.0f}"] = energy_pumping(starts, kick, None)
        inits[f"energy-prop{kick:+.0f}"] = energy_pumping(starts, kick, 0.05)
    names = list(inits)

    t = time.perf_counter()
    u0 = np.concatenate([inits[n] for n in names])
    rep = np.concatenate([starts] * len(names))
    U, X, K, _ = ilqr(rep, u0, args.iters)
    clock["ilqr"] = time.perf_counter() - t
    print(f"iLQR: {clock['ilqr']:.1f} s", flush=True)

    t = time.perf_counter()
    per_start = []
    for i, seed in enumerate(seeds):
        candidates = {}
        for j, name in enumerate(names):
            row = j * len(seeds) + i
            candidates[name] = measure(seed, inits[name][i], decimals=args.decimals)
            candidates[f"{name}+ilqr"] = measure(
                seed, U[row], (X[0][row], X[1][row]), K[row], decimals=args.decimals
            )
        best = max(candidates, key=lambda c: candidates[c][1])
        per_start.append(
            {
                "seed": seed,
                "state": [float(starts[i, 0]), float(starts[i, 1])],
                "return": candidates[best][1],
                "source": best,
                "dp_value": float(dp_value[i]),
                "candidates": {c: round(v[1], 6) for c, v in candidates.items()},
                "actions": candidates[best][0],
            }
        )
    clock["measure"] = time.perf_counter() - t
    clock["total"] = time.perf_counter() - t0
    returns = np.array([s["return"] for s in per_start])
    print(f"measured: {clock['measure']:.1f} s; mean return {returns.mean():.4f}")
    return {
        "what": (
            "best torque sequences found from the starts reset(seed=i) of Pendulum-v1 "
            "(200 steps); each return measured by stepping gymnasium's environment"
        ),
        "command": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pendulum_optimum.py",
        "mean_return": float(returns.mean()),
        "method": {
            "dynamic_programming": {
                "grids": [{"theta": a, "theta_dot": b, "torques": c} for a, b, c in args.grids],
                "theta": "periodic, n points on [-pi, pi)",
                "theta_dot": "n points on [-8, 8]",
                "torques": "n evenly spaced on [-2, 2]",
                "interpolation": "bilinear",
                "rollout_torques": args.rollout_actions,
            },
            "initial_sequences": names,
            "energy_pumping": "first push of +-2 for 5 steps; bang-bang or gain 0.05; LQR near top",
            "ilqr": {
                "iterations": args.iters,
                "line_search_steps": ALPHAS.tolist(),
                "regularisation": "mu on Q_uu, from 1e-6, x10 on failure, /4 on success",
                "controls": "box-clamped in the backward pass, gains zero where clamped",
            },
            "measurement": (
                "gymnasium Pendulum-v1 from reset(seed); refined sequences in closed loop with "
                f"the final iLQR gains; applied torques rounded to {args.decimals} decimals"
            ),
        },
        "seconds": {k: round(v, 1) for k, v in clock.items()},
        **record_header(),
        "worktree_changes": worktree_changes(),
        "scipy": scipy.__version__,
        "python_platform": platform.platform(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "starts": per_start,
    }


def dumps(rec: dict) -> str:
    """JSON with one line per start (or run) of the list ``starts`` (``runs``)."""
    key = "starts" if "starts" in rec and isinstance(rec["starts"][0], dict) else "runs"
    head = json.dumps({k: v for k, v in rec.items() if k != key}, indent=1)
    rows = ",\n".join("  " + json.dumps(row) for row in rec[key])
    return f'{head[:-2]},\n "{key}": [\n{rows}\n ]\n}}\n'


def check(path: Path) -> None:
    rec = json.loads(path.read_text())
    worst = 0.0
    for s in rec["starts"]:
        worst = max(worst, abs(replay(s["actions"], s["seed"]) - s["return"]))
    mean = np.mean([s["return"] for s in rec["starts"]])
    print(f"{len(rec['starts'])} starts replayed: largest difference {worst:.2e}")
    print(f"mean return {mean:.6f} (recorded {rec['mean_return']:.6f})")


# ------------------------------------------------------------------ learned policies


def learned(args) -> None:
    import torch

    from rlbook import ddpg, sac, td3
    from rlbook.loop import evaluate
    from rlbook.presets import LAPTOP

    torch.set_num_threads(1)
    modules = {"ddpg": (ddpg, ddpg.DDPGConfig), "td3": (td3, td3.TD3Config)}
    modules["sac"] = (sac, sac.SACConfig)
    rec = json.loads(args.out.read_text()) if args.out.exists() and args.skip_done else None
    rec = rec or {"runs": []}
    done = {(r["algo"], r["seed"]) for r in rec["runs"]}
    for seed in range(args.seeds):
        for algo in args.algos:
            if (algo, seed) in done:
                continue
            module, cls = modules[algo]
            config = cls(**LAPTOP[algo], eval_every=0)
            t = time.perf_counter()
            result = module.train("Pendulum-v1", config, seed=seed, progress=False)
            seconds = time.perf_counter() - t
            returns = evaluate(result.agent.act_batch, lambda: gym.make("Pendulum-v1"))
            rec["runs"].append(
                {
                    "algo": algo,
                    "seed": seed,
                    "settings": {**LAPTOP[algo], "eval_every": 0},
                    "train_seconds": round(seconds, 2),
                    "returns": [float(r) for r in returns],
                }
            )
            print(f"{algo} seed {seed}: {seconds:.1f} s, mean {returns.mean():.2f}", flush=True)
            rec.update(
                what=(
                    "returns of the final deterministic policies of rlbook's DDPG, TD3 and SAC "
                    "(rlbook.runners.LAPTOP settings) on the starts reset(seed=i), i < 100"
                ),
                command=(
                    "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pendulum_optimum.py "
                    f"--learned --seeds {args.seeds}"
                ),
                starts=list(range(100)),
                **record_header(),
                worktree_changes=worktree_changes(),
            )
            rec["runs"].sort(key=lambda r: (r["algo"], r["seed"]))
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(dumps(rec))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--grids",
        nargs="+",
        type=lambda g: tuple(int(n) for n in g.split("x")),
        default=[(801, 641, 41), (501, 401, 21), (201, 161, 21)],
        help="DP grids, finest first, as THETAxTHETADOTxTORQUES (e.g. 801x641x41)",
    )
    parser.add_argument("--rollout-actions", type=int, default=401)
    parser.add_argument("--iters", type=int, default=600, help="iLQR iterations")
    parser.add_argument("--decimals", type=int, default=6, help="of each recorded torque")
    parser.add_argument("--starts", type=int, default=100)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--check", action="store_true", help="replay the record and compare")
    parser.add_argument("--learned", action="store_true", help="learned policies' returns")
    parser.add_argument("--algos", nargs="+", default=["ddpg", "td3", "sac"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--skip-done", action="store_true")
    args = parser.parse_args()
    if args.learned:
        args.out = args.out or LEARNED
        learned(args)
        return
    args.out = args.out or RECORD
    if args.check:
        check(args.out)
        return
    rec = optimum(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dumps(rec))
    print(f"wrote {args.out}")
    check(args.out)


if __name__ == "__main__":
    main()
