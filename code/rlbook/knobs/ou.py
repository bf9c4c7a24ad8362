"""The OU-noise knob: OU against Gaussian exploration noise (Algorithm ``ddpg`` line 6.3)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np

from ..noise import GaussianNoise, OrnsteinUhlenbeckNoise, ou_path_std, ou_stationary_std
from ..validation import check_int


# --------------------------------------------------------------------------------------------
# OU noise
# --------------------------------------------------------------------------------------------
def autocorrelation(
    x: np.ndarray, max_lag: int, mean: float | None = None, var: float | None = None
) -> np.ndarray:
    """Sample autocorrelation of the rows of ``x`` (pooled over rows) at lags 0..max_lag.

    Pass the process's known ``mean`` and ``var`` when the rows are shorter than its correlation
    time: centring each short row on its own mean biases the estimate towards zero.
    """
    x = np.atleast_2d(np.asarray(x, dtype=float))
    max_lag = check_int("max_lag", max_lag, 0, x.shape[1] - 1)
    x = x - (x.mean() if mean is None else mean)
    var = (x**2).mean() if var is None else var
    return np.array([(x[:, : x.shape[1] - k] * x[:, k:]).mean() / var for k in range(max_lag + 1)])


def ou_experiment(
    theta: float = 0.15,
    sigma: float = 0.2,
    mu: float = 0.0,
    dt: float = 1e-2,
    steps: int = 200,
    episodes: int = 3,
    seed: int = 0,
) -> dict:
    """OU noise with the given parameters against Gaussian noise of the same amplitude within an
    episode: ``episodes`` sample paths of ``steps`` steps each (reset to ``mu`` at every episode,
    as the loop does), their autocorrelation (empirical, from 1,000 long stationary paths, and the
    exact ``(1 - theta dt)^k``), and the pendulum trajectories (angle, angular velocity) that each
    noise produces as the only torque, ``2 * noise`` clipped to [-2, 2], starting each episode
    hanging down at rest (so that all motion comes from the noise).

    The Gaussian's standard deviation is the OU path's root-mean-square deviation from ``mu``
    over an episode, ``sqrt(mean_t Var(eta_t))`` for ``t = 1..steps`` (``episode_rms``, from
    :func:`rlbook.noise.ou_path_std`): a path reset every episode is still far from its stationary
    spread (``stationary_std``) when ``theta dt`` is small, so matching the stationary spread
    would give the Gaussian a larger amplitude than the OU noise it is compared with. ``theta``
    is the mean-reversion rate, written kappa in the DDPG chapter.
    """
    steps = check_int("steps", steps, 2)
    episodes = check_int("episodes", episodes, 1)
    ou = OrnsteinUhlenbeckNoise(1, theta, sigma, mu, dt, seed=seed)  # validates the parameters
    std = ou_stationary_std(theta, sigma, dt)
    gauss_std = float(np.sqrt(np.mean(ou_path_std(theta, sigma, dt, steps) ** 2)))
    gauss = GaussianNoise(1, gauss_std, seed=seed + 1)
    paths = {"ou": np.zeros((episodes, steps)), "gaussian": np.zeros((episodes, steps))}
    trajectories = {"ou": [], "gaussian": []}
    for name, noise in (("ou", ou), ("gaussian", gauss)):
        env = gym.make("Pendulum-v1")
        env.reset(seed=seed)
        for e in range(episodes):
            noise.reset()
            env.reset()
            pendulum: Any = env.unwrapped  # gymnasium types it as a plain Env
            pendulum.state = np.array([math.pi, 0.0])  # hanging down, at rest
            angles, speeds = [], []
            for t in range(steps):
                eta = noise()
                paths[name][e, t] = eta[0]
                obs, *_ = env.step(np.clip(2.0 * eta, -2.0, 2.0).astype(np.float32))
                angles.append(math.atan2(obs[1], obs[0]))
                speeds.append(obs[2])
            trajectories[name].append((np.array(angles), np.array(speeds)))
        env.close()
    # autocorrelation from long paths started in the stationary distribution
    max_lag = min(steps - 1, 100)
    rng = np.random.default_rng(seed + 2)
    phi = 1.0 - theta * dt  # the lag-1 autocorrelation (phi in the DDPG chapter)
    n, length = 1000, 4 * max_lag + 4
    x = np.empty((n, length))
    x0_std = std if math.isfinite(std) else sigma  # theta = 0: a random walk, no stationary law
    x[:, 0] = mu + x0_std * rng.standard_normal(n)
    for t in range(1, length):
        x[:, t] = x[:, t - 1] + theta * (mu - x[:, t - 1]) * dt
        x[:, t] += sigma * math.sqrt(dt) * rng.standard_normal(n)
    lags = np.arange(max_lag + 1)
    white = rng.standard_normal((n, length))
    return dict(
        theta=theta,
        sigma=sigma,
        mu=mu,
        dt=dt,
        stationary_std=std,
        episode_rms=gauss_std,
        gaussian_std=gauss_std,
        paths=paths,
        trajectories=trajectories,
        lags=lags,
        acf_ou=autocorrelation(x, max_lag, mu, x0_std**2),
        acf_ou_exact=phi**lags,
        acf_gaussian=autocorrelation(white, max_lag, 0.0, 1.0),
    )


def draw_ou(data: dict):
    """Three panels: sample paths, autocorrelation, pendulum trajectories driven by the noise
    (two above, one below beside the settings, so that the figure fits the book's column)."""
    fig, grid = plt.subplots(2, 2, figsize=(7.5, 5.8))
    axes = [grid[0, 0], grid[0, 1], grid[1, 0]]
    grid[1, 1].axis("off")
    ax = axes[0]
    for e in range(data["paths"]["ou"].shape[0]):
        ax.plot(
            data["paths"]["gaussian"][e],
            color="tab:gray",
            lw=0.6,
            alpha=0.6,
            label="Gaussian" if e == 0 else None,
        )
        ax.plot(data["paths"]["ou"][e], color="tab:blue", lw=1.2, label="OU" if e == 0 else None)
    ax.set(xlabel="step in the episode", ylabel=r"noise $\eta_t$", title="sample paths")
    ax.legend(frameon=False)
    ax = axes[1]
    ax.plot(data["lags"], data["acf_gaussian"], color="tab:gray", label="Gaussian")
    ax.plot(data["lags"], data["acf_ou"], color="tab:blue", label="OU (sampled)")
    ax.plot(data["lags"], data["acf_ou_exact"], "k--", lw=1, label=r"$(1-\kappa\,\Delta t)^k$")
    low = min(-0.2, float(data["acf_ou_exact"].min()) - 0.05)  # theta dt > 1: it alternates
    ax.set(xlabel="lag k", ylabel="autocorrelation", ylim=(low, 1.05), title="autocorrelation")
    ax.legend(frameon=False)
    ax = axes[2]
    for name, color in (("gaussian", "tab:gray"), ("ou", "tab:blue")):
        for e, (angle, speed) in enumerate(data["trajectories"][name]):
            from_bottom = np.angle(np.exp(1j * (angle - np.pi)))  # 0 = hanging down
            ax.plot(
                from_bottom,
                speed,
                ".",
                ms=1.5,
                color=color,
                label=("OU" if name == "ou" else "Gaussian") if e == 0 else None,
            )
    ax.set(
        xlabel="angle from the bottom (rad)",
        ylabel="angular velocity (rad/s)",
        title="pendulum driven by the noise",
    )
    ax.legend(frameon=False, markerscale=5)
    grid[1, 1].text(
        0.05,
        0.5,
        rf"OU: $\kappa$ = {data['theta']:g}, $\sigma$ = {data['sigma']:g}, "
        rf"$\mu$ = {data['mu']:g}, $\Delta t$ = {data['dt']:g}"
        f"\nstationary std {data['stationary_std']:.3g}"
        f"\nRMS over the episode {data['episode_rms']:.3g}"
        "\n(the Gaussian's std)",
        transform=grid[1, 1].transAxes,
        va="center",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def swing_angle(trajectories) -> float:
    """Mean over episodes of the largest angle from the bottom (pi - |theta|) reached."""
    return float(np.mean([np.max(math.pi - np.abs(angle)) for angle, _ in trajectories]))


def draw_ou_grid(runs: Sequence[dict]):
    """The comparison across a grid of OU settings: autocorrelations, and how far each noise alone
    swings the pendulum from hanging at rest (largest angle from the bottom per episode, mean
    over episodes), each OU setting beside the Gaussian noise of its own episode RMS."""
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.6))
    for k, run in enumerate(runs):
        axes[0].plot(
            run["lags"],
            run["acf_ou_exact"],
            color=f"C{k}",
            label=rf"OU $\kappa$ = {run['theta']:g}",
        )
    axes[0].plot(runs[0]["lags"], runs[0]["acf_gaussian"], color="tab:gray", label="Gaussian")
    axes[0].set(xlabel="lag k", ylabel="autocorrelation", title="autocorrelation")
    axes[0].legend(frameon=False)
    x = np.arange(len(runs))
    ou = [swing_angle(run["trajectories"]["ou"]) for run in runs]
    gauss = [swing_angle(run["trajectories"]["gaussian"]) for run in runs]
    axes[1].bar(x - 0.2, ou, width=0.4, color=[f"C{k}" for k in range(len(runs))], label="OU")
    axes[1].bar(x + 0.2, gauss, width=0.4, color="tab:gray", label="Gaussian, same RMS")
    names = [rf"$\kappa$={run['theta']:g}" + f"\nRMS {run['episode_rms']:.3f}" for run in runs]
    axes[1].set_xticks(x, names)
    axes[1].set(
        ylabel="largest angle from the bottom,\nmean over episodes (rad)",
        title="swing from the noise alone",
    )
    axes[1].legend(frameon=False)
    for ax in axes:
        ax.title.set_fontsize(10)
    fig.tight_layout()
    return fig
