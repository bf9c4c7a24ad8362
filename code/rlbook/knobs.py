"""The computations behind the book's four knobs, each a pure function of the knob's value.

- **OU noise** (:func:`ou_experiment`): sample paths and autocorrelation of Ornstein-Uhlenbeck
  noise against Gaussian noise of the same stationary variance, and the pendulum trajectories each
  produces when it is the only input (Algorithm {prf:ref}`ddpg` line 6.3);
- **tau** (:func:`ema_lag_experiment`, :func:`tau_curves`): how far an EMA target lags the online
  parameters, and learning curves of TD3 for several tau;
- **twin-min** (:func:`overestimation`): critic estimates against Monte Carlo returns of the same
  policy, for a single critic, the minimum of two and their mean (Algorithm {prf:ref}`td3`);
- **path length d** (:func:`pcl_path_length`): PCL's distance to the exact optimum and its
  consistency loss during training on the corridor of the PCL chapter (Algorithm {prf:ref}`pcl`).

Each ``draw_*`` function turns the returned data into a matplotlib figure; :mod:`rlbook.widgets`
puts both behind sliders. Keeping computation and drawing apart lets the tests compare what a
widget shows with a direct call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from . import pcl, td3
from .noise import GaussianNoise, OrnsteinUhlenbeckNoise, ou_stationary_std
from .targets import ema_update, make_target
from .validation import check_choice, check_int, check_real

__all__ = [
    "autocorrelation",
    "critic_bias",
    "draw_ema_lag",
    "draw_ema_lag_grid",
    "draw_overestimation",
    "draw_ou",
    "draw_ou_grid",
    "draw_pcl_path_length",
    "draw_tau_curves",
    "swing_angle",
    "ema_lag_experiment",
    "ou_experiment",
    "overestimation",
    "pcl_path_length",
    "tau_curves",
]


def _finish(fig, axes):
    """The common layout of the two-panel comparison figures: legend right, small titles, grid."""
    axes[1].legend(frameon=False, fontsize=8)
    for ax in axes:
        ax.title.set_fontsize(10)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


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
    """OU noise with the given parameters against Gaussian noise of its stationary standard
    deviation: ``episodes`` sample paths of ``steps`` steps each (reset to ``mu`` at every episode,
    as the loop does), their autocorrelation (empirical, from 200 long stationary paths, and the
    exact ``(1 - theta dt)^k``), and the pendulum trajectories (angle, angular velocity) that each
    noise produces as the only torque, ``2 * noise`` clipped to [-2, 2], starting each episode
    hanging down at rest (so that all motion comes from the noise).
    """
    steps = check_int("steps", steps, 2)
    episodes = check_int("episodes", episodes, 1)
    ou = OrnsteinUhlenbeckNoise(1, theta, sigma, mu, dt, seed=seed)  # validates the parameters
    std = ou_stationary_std(theta, sigma, dt)
    gauss_std = std if math.isfinite(std) else sigma
    gauss = GaussianNoise(1, gauss_std, seed=seed + 1)
    paths = {"ou": np.zeros((episodes, steps)), "gaussian": np.zeros((episodes, steps))}
    trajectories = {"ou": [], "gaussian": []}
    for name, noise in (("ou", ou), ("gaussian", gauss)):
        env = gym.make("Pendulum-v1")
        env.reset(seed=seed)
        for e in range(episodes):
            noise.reset()
            env.reset()
            env.unwrapped.state = np.array([math.pi, 0.0])  # hanging down, at rest
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
    rho = 1.0 - theta * dt
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
        gaussian_std=gauss_std,
        paths=paths,
        trajectories=trajectories,
        lags=lags,
        acf_ou=autocorrelation(x, max_lag, mu, x0_std**2),
        acf_ou_exact=rho**lags,
        acf_gaussian=autocorrelation(white, max_lag, 0.0, 1.0),
    )


def draw_ou(data: dict):
    """Three panels: sample paths, autocorrelation, pendulum trajectories driven by the noise."""
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
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
    ax.legend(frameon=False, fontsize=8)
    ax = axes[1]
    ax.plot(data["lags"], data["acf_gaussian"], color="tab:gray", label="Gaussian")
    ax.plot(data["lags"], data["acf_ou"], color="tab:blue", label="OU (sampled)")
    ax.plot(data["lags"], data["acf_ou_exact"], "k--", lw=1, label=r"$(1-\theta\,\Delta t)^k$")
    ax.set(xlabel="lag k", ylabel="autocorrelation", ylim=(-0.2, 1.05), title="autocorrelation")
    ax.legend(frameon=False, fontsize=8)
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
        ylabel=r"$\dot\theta$",
        title="pendulum driven by the noise alone",
    )
    ax.legend(frameon=False, fontsize=8, markerscale=5)
    fig.suptitle(
        rf"OU $\theta$={data['theta']:g}, $\sigma$={data['sigma']:g}, $\mu$={data['mu']:g}, "
        rf"$\Delta t$={data['dt']:g}; stationary std {data['stationary_std']:.3g}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def swing_angle(trajectories) -> float:
    """Mean over episodes of the largest angle from the bottom (pi - |theta|) reached."""
    return float(np.mean([np.max(math.pi - np.abs(angle)) for angle, _ in trajectories]))


def draw_ou_grid(runs: Sequence[dict]):
    """The comparison across a grid of OU settings: autocorrelations, and how far the noise alone
    swings the pendulum from hanging at rest (largest angle from the bottom per episode, mean
    over episodes)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for k, run in enumerate(runs):
        axes[0].plot(
            run["lags"],
            run["acf_ou_exact"],
            color=f"C{k}",
            label=rf"OU $\theta$ = {run['theta']:g}",
        )
    axes[0].plot(runs[0]["lags"], runs[0]["acf_gaussian"], color="tab:gray", label="Gaussian")
    axes[0].set(xlabel="lag k", ylabel="autocorrelation", title="autocorrelation")
    axes[0].legend(frameon=False, fontsize=8)
    names = [rf"$\theta$={run['theta']:g}" for run in runs] + ["Gaussian\n(same std\nas 1st)"]
    swing = [swing_angle(run["trajectories"]["ou"]) for run in runs]
    swing.append(swing_angle(runs[0]["trajectories"]["gaussian"]))
    axes[1].bar(range(len(swing)), swing, color=[f"C{k}" for k in range(len(runs))] + ["tab:gray"])
    axes[1].set_xticks(range(len(swing)), names, fontsize=8)
    axes[1].set(
        ylabel="largest angle from the bottom (rad)",
        title="how hard the noise alone swings the pendulum",
    )
    for ax in axes:
        ax.title.set_fontsize(10)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# tau
# --------------------------------------------------------------------------------------------
def ema_lag_experiment(
    tau: float, steps: int | None = None, drift: float = 1e-3, seed: int = 0
) -> dict:
    """An online parameter that drifts like a training run (a ramp with random-walk noise) and
    its EMA target, updated by :func:`rlbook.targets.ema_update` itself at every step.

    For a ramp of slope ``drift`` the target settles ``(1 - tau) / tau`` steps behind; the lag is
    measured as the shift that best aligns the two traces over the second half of the run, which
    is ``steps`` long (default: long enough for the target to settle, ``max(1500, 8 / tau)``).
    """
    tau = check_real("tau", tau, 0.0, 1.0, low_open=True)
    steps = check_int("steps", max(1500, int(8 / tau)) if steps is None else steps, 10)
    rng = np.random.default_rng(seed)
    online = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        online.weight.zero_()
    target = make_target(online)
    walk = np.cumsum(rng.normal(0.0, 3 * drift, steps))
    theta = drift * np.arange(steps) + walk
    trace_online, trace_target = np.empty(steps), np.empty(steps)
    for t in range(steps):
        with torch.no_grad():
            online.weight.fill_(float(theta[t]))
        ema_update(target, online, tau)
        trace_online[t] = online.weight.item()
        trace_target[t] = target.weight.item()
    half = steps // 2
    shifts = np.arange(0, half)
    errors = [
        np.mean((trace_target[half:] - trace_online[half - k : steps - k]) ** 2) for k in shifts
    ]
    return dict(
        tau=tau,
        t=np.arange(steps),
        online=trace_online,
        target=trace_target,
        lag_measured=int(shifts[int(np.argmin(errors))]),
        lag_predicted=(1 - tau) / tau,
    )


def draw_ema_lag(data: dict):
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    ax.plot(data["t"], data["online"], color="tab:blue", lw=1, label=r"online $\theta_t$")
    ax.plot(data["t"], data["target"], color="tab:orange", lw=1.6, label=r"target $\theta^-_t$")
    ax.set(xlabel="update t", ylabel="parameter value")
    ax.set_title(
        rf"$\tau$ = {data['tau']:g}: target lags {data['lag_measured']} steps "
        rf"(predicted $(1-\tau)/\tau$ = {data['lag_predicted']:.0f})",
        fontsize=10,
    )
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def draw_ema_lag_grid(runs: Sequence[dict]):
    """Measured lag of the EMA target against the prediction ``(1 - tau) / tau``, across tau."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    tau = np.array([run["tau"] for run in runs])
    measured = np.array([run["lag_measured"] for run in runs])
    grid = np.geomspace(tau.min(), tau.max(), 100)
    ax.plot(grid, (1 - grid) / grid, "k--", lw=1, label=r"$(1-\tau)/\tau$")
    ax.plot(tau, measured, "o", color="tab:orange", label="measured")
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=1)
    ax.set(xlabel=r"EMA rate $\tau$", ylabel="lag of the target (updates)")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


#: settings of the TD3 runs behind the tau and twin-min knobs: small networks and a short budget,
#: so that a grid of runs fits the chapter's execution budget on a laptop CPU
KNOB_TD3 = dict(
    total_steps=6_000,
    warmup_steps=1_000,
    hidden=(64, 64),
    gamma=0.98,
    tau=0.02,
    eval_every=1_000,
    eval_episodes=10,
)
_RUNS: dict = {}


def _td3_run(seed: int, progress: bool = False, **changes):
    """A TD3 run with :data:`KNOB_TD3` and ``changes``, with the critic bias measured at every
    evaluation; runs are cached, so the tau and twin-min knobs share the run they have in common."""
    config = td3.TD3Config(**{**KNOB_TD3, **changes})
    key = (seed, config)  # a frozen dataclass: equal settings, one run
    if key not in _RUNS:
        _RUNS[key] = td3.train(
            "Pendulum-v1", config, seed=seed, progress=progress, callback=critic_bias
        )
    return _RUNS[key]


def tau_curves(
    taus: Sequence[float] = (0.005, 0.02, 1.0), seed: int = 0, progress: bool = False
) -> dict:
    """TD3 learning curves (settings :data:`KNOB_TD3`) for each EMA rate in ``taus``."""
    taus = [check_real("tau", t, 0.0, 1.0, low_open=True) for t in taus]
    return {tau: _td3_run(seed, progress, tau=tau) for tau in taus}


def draw_tau_curves(results: dict, highlight: float | None = None):
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    for tau, res in results.items():
        steps, mean, _ = res.curve_arrays()
        strong = highlight is None or tau == highlight
        ax.plot(
            steps,
            mean,
            marker="o",
            ms=3,
            lw=2 if strong else 1,
            alpha=1 if strong else 0.3,
            label=rf"$\tau$ = {tau:g}",
        )
    ax.set(xlabel="environment steps", ylabel="evaluation return (10 starts)")
    ax.set_title("TD3 on Pendulum-v1 for several EMA rates", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# twin-min
# --------------------------------------------------------------------------------------------
def critic_bias(agent, step: int = 0, starts: int = 10, horizon: int = 500) -> dict:
    """The first critic's estimate ``q_a(s_0, policy(s_0))`` against the discounted Monte Carlo
    return of the same deterministic policy, averaged over the start states ``reset(seed=i)``,
    i < ``starts``, of Pendulum-v1.

    The rollouts run ``horizon`` steps without the 200-step time limit: the critic, which
    bootstraps through truncation, estimates the infinite-horizon value, and ``gamma^horizon``
    bounds what is cut off. Usable as the ``callback`` of ``train``.
    """
    gamma = agent.config.gamma
    envs = [gym.make("Pendulum-v1", max_episode_steps=horizon) for _ in range(starts)]
    obs = np.stack([env.reset(seed=i)[0] for i, env in enumerate(envs)]).astype(np.float32)
    with torch.no_grad():
        o = agent._obs_tensor(obs)
        estimate = agent.q(o, agent.policy(o), members=slice(0, 1))[0].cpu().numpy()
    returns, discount = np.zeros(starts), 1.0
    for _ in range(horizon):
        actions = agent.act_batch(obs)
        for i, env in enumerate(envs):
            o_i, r, *_ = env.step(actions[i])
            obs[i] = o_i
            returns[i] += discount * r
        discount *= gamma
    for env in envs:
        env.close()
    return {"estimate": float(estimate.mean()), "mc_return": float(returns.mean())}


TWINS = ("none", "min", "mean")
TWIN_LABELS = {
    "none": "single critic (DDPG)",
    "min": "min of two (TD3)",
    "mean": "mean of two",
}


def overestimation(twin: str = "min", seed: int = 0, progress: bool = False) -> dict:
    """A TD3 run (settings :data:`KNOB_TD3`) with the given ``twin`` rule, everything else equal;
    returns the steps, the critic's estimate and the Monte Carlo return at each evaluation."""
    check_choice("twin", twin, TWINS)
    res = _td3_run(seed, progress, twin=twin)
    return dict(
        twin=twin,
        step=np.array([log["step"] for log in res.logs]),
        estimate=np.array([log["estimate"] for log in res.logs]),
        mc_return=np.array([log["mc_return"] for log in res.logs]),
        result=res,
    )


def draw_overestimation(runs: Sequence[dict], highlight: str | None = None):
    """Left: estimate (solid) and Monte Carlo return (dashed) per rule; right: their gap."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.3))
    for run in runs:
        color = f"C{TWINS.index(run['twin'])}"
        strong = highlight is None or run["twin"] == highlight
        style = dict(color=color, alpha=1 if strong else 0.25, lw=2 if strong else 1)
        label = TWIN_LABELS[run["twin"]]
        axes[0].plot(run["step"], run["estimate"], marker="o", ms=3, label=label, **style)
        axes[0].plot(run["step"], run["mc_return"], ls="--", **style)
        axes[1].plot(
            run["step"], run["estimate"] - run["mc_return"], marker="o", ms=3, label=label, **style
        )
    axes[0].set(
        xlabel="environment steps",
        ylabel="value at the start states",
        title="critic estimate (solid) vs Monte Carlo return (dashed)",
    )
    axes[1].axhline(0, color="k", lw=0.8)
    axes[1].set(
        xlabel="environment steps",
        ylabel="estimate - Monte Carlo return",
        title="bias of the critic (> 0: overestimation)",
    )
    return _finish(fig, axes)


# --------------------------------------------------------------------------------------------
# path length d
# --------------------------------------------------------------------------------------------
def pcl_path_length(
    d: int,
    episodes: int = 400,
    demonstrations: int = 5,
    lam: float = 0.0,
    seed: int = 0,
    progress: bool = False,
) -> dict:
    """PCL on the corridor of the PCL chapter (``DeterministicMDP.chain(15, step_cost=0.01)``,
    gamma 0.95, alpha 0.1, episodes of 30 steps from the left end) with ``demonstrations`` expert episodes in
    the replay buffer, for path length ``d``. Returns, every 20 episodes, the distance of v and pi
    to the exact soft optimum and the mean consistency loss ``C^2 / 2`` of the updates since the
    previous point."""
    d = check_int("d", d, 1)
    mdp = pcl.DeterministicMDP.chain(n_states=15, step_cost=0.01)
    gamma, alpha = 0.95, 0.1
    v_star, _, pi_star = pcl.soft_value_iteration(mdp, gamma, alpha)
    config = pcl.PCLConfig(
        gamma=gamma,
        alpha=alpha,
        d=d,
        lam=lam,
        lr_pi=0.05,
        lr_v=0.1,
        optimizer="adam",
        episode_length=30,
        replay_updates=1,
    )
    torch.manual_seed(seed)
    agent = pcl.PCL(
        pcl.Table(mdp.n_states, mdp.n_actions), pcl.Table(mdp.n_states, 1), config, seed=seed
    )
    expert, demos = pi_star.argmax(1), []
    for _ in range(demonstrations):
        actions, s = [], 0
        for _ in range(config.episode_length):
            actions.append(expert[s])
            s = mdp.next_state[s, expert[s]]
        demos.append(
            pcl.rollout(mdp, None, config.episode_length, agent.rng, start=0, actions=actions)
        )
    result = pcl.train_tabular(
        mdp,
        agent,
        episodes,
        demonstrations=demos,
        evaluate_every=20,
        reference=(v_star, pi_star),
        start=0,
        progress=progress,
    )
    curve = pcl.distances(result)
    losses = np.array([row["loss"] for row in result.logs])
    loss = losses[: 20 * len(curve)].reshape(len(curve), -1).mean(axis=1)  # per 20 iterations
    return dict(d=d, episode=curve[:, 0], v_error=curve[:, 1], pi_error=curve[:, 2], loss=loss)


def draw_pcl_path_length(runs: Sequence[dict], highlight: int | None = None):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.3))
    for k, run in enumerate(runs):
        strong = highlight is None or run["d"] == highlight
        style = dict(color=f"C{k}", alpha=1 if strong else 0.25, lw=2 if strong else 1)
        axes[0].semilogy(run["episode"], run["v_error"], label=f"d = {run['d']}", **style)
        axes[1].semilogy(run["episode"], run["loss"], label=f"d = {run['d']}", **style)
    axes[0].set(
        xlabel="iterations (episodes)",
        ylabel=r"$\max_s |v(s) - v^*(s)|$",
        title="distance to the exact optimum",
    )
    axes[1].set(
        xlabel="iterations (episodes)",
        ylabel=r"mean $C^2/2$ of the updates",
        title="consistency loss",
    )
    return _finish(fig, axes)
