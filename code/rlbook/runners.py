"""What a sweep job runs: one function per algorithm of the book, and per peer library.

Every runner has the signature ``(env, seed, **settings) -> dict`` and returns a JSON-ready
record: ``curve`` (rows ``{"step", "mean", "std"}`` of deterministic evaluations on the fixed starts
``reset(seed=i)``, i < ``eval_episodes``), ``curve_seconds`` (the online runners: training
seconds at each evaluation, evaluation excluded), ``final_return`` and ``final_std`` (after training, on
the starts i < ``final_episodes``), ``steps`` (environment steps used for learning),
``train_seconds`` (evaluation excluded) and ``steps_per_second``. :data:`rlbook.sweep.ALGORITHMS`
maps names to them.

- ``ddpg``, ``td3``, ``sac``: the online actor-critics; settings are fields of their ``Config``.
- ``sb3-ddpg``, ``sb3-td3``, ``sb3-sac``: the stable-baselines3 peers (an optional dependency:
  ``pip install -e ".[bench]"``) with the same settings names, translated to SB3's arguments.
- ``pcl``: Algorithm ``pcl`` with a Gaussian policy (:func:`rlbook.pcl.train`); settings
  are ``total_steps`` and fields of :class:`~rlbook.pcl.PCLConfig`.
- ``fqi``, ``nfqca``: the offline methods of the first chapters, trained on ``total_steps``
  transitions of a uniformly random behaviour policy (the same environment-step budget, spent on
  exploration alone); their ``curve`` is indexed by iteration instead of step (``"step"`` holds the
  iteration), and ``steps_per_second`` is the dataset size over the training time.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from . import fqi as fqi_module
from . import pcl as pcl_module
from .envs import check_box_env, pendulum_dataset
from .loop import eval_row, evaluate, keeps_global_state, resolve_device, seeded_torch
from .networks import DeterministicActor
from .nfqca import nfqca as nfqca_fn
from .presets import LAPTOP, PCL_PENDULUM, PENDULUM_SAC, PENDULUM_TD3, pendulum_settings
from .validation import check_int

# the presets live in rlbook.presets; LAPTOP, PENDULUM_TD3/SAC and pendulum_settings are re-exported
# here, where the chapters, the benchmarks and the committed records name them
__all__ = [
    "LAPTOP",
    "PENDULUM_SAC",
    "PENDULUM_TD3",
    "fqi_offline",
    "nfqca_offline",
    "online",
    "pcl_online",
    "pendulum_settings",
    "sb3_model",
    "sb3_peer",
]


def _set_threads(threads):
    """Set torch's thread count for this run (every runner is wrapped in
    :func:`~rlbook.loop.keeps_global_state`, which puts the caller's back afterwards)."""
    if threads:
        torch.set_num_threads(threads)


def _final(policy, env, final_episodes):
    returns = evaluate(policy, lambda: gym.make(env), range(final_episodes))
    return {"final_return": float(returns.mean()), "final_std": float(returns.std())}


def online(module_name: str):
    """The runner of ``rlbook.<module_name>.train`` (DDPG, TD3 or SAC)."""

    def run(
        env: str, seed: int, final_episodes: int = 100, threads: int | None = None, **settings
    ) -> dict:
        _set_threads(threads)
        module = importlib.import_module(f"rlbook.{module_name}")
        result = module.train(env, seed=seed, progress=False, **settings)
        return {
            **result.to_record(_final(result.agent.act_batch, env, final_episodes)),
            "precision": result.agent.precision,  # as run ("auto" resolved on the device)
            "device": str(result.agent.device),
        }

    run.__name__ = f"run_{module_name}"
    return keeps_global_state(run)


_SB3_COMMON = {
    "total_steps",
    "gamma",
    "lr_q",
    "lr_pi",
    "buffer_size",
    "warmup_steps",
    "hidden",
    "batch_size",
    "tau",
    "eval_every",
    "eval_episodes",
    "device",
}
_SB3_NOISE = {"noise", "noise_sigma", "ou_theta", "ou_mu", "ou_dt"}
#: the settings each SB3 peer honours (rlbook's names); any other is refused
_SB3_SETTINGS = {
    "ddpg": _SB3_COMMON | _SB3_NOISE,
    "td3": _SB3_COMMON | _SB3_NOISE,
    "sac": _SB3_COMMON | {"alpha"},  # SAC explores with its own stochastic policy: no noise
}


def _sb3_config(algo: str, s: dict):
    """The settings ``s`` checked by rlbook's own ``Config`` of ``algo``: the same ranges and the
    same messages as rlbook's agents (a wrong value raises ``ValueError`` naming the setting)."""
    from .ddpg import DDPGConfig
    from .sac import SACConfig
    from .td3 import TD3Config

    cls = {"ddpg": DDPGConfig, "td3": TD3Config, "sac": SACConfig}[algo]
    fields = {f.name for f in dataclasses.fields(cls)}
    extra = {"target_update": "ema"} if algo == "ddpg" else {}  # SB3's DDPG: EMA targets
    return cls(**{k: v for k, v in s.items() if k in fields}, **extra)


def sb3_model(algo: str, env: str, seed: int, **settings):
    """A stable-baselines3 ``DDPG``, ``TD3`` or ``SAC`` model on ``gym.make(env)``, with rlbook's
    setting names on top of the zoo settings (:data:`rlbook.presets.PENDULUM_TD3`,
    :data:`~rlbook.presets.PENDULUM_SAC`); returns the model and the settings used. See :func:`sb3_peer` for the names."""
    if algo not in _SB3_SETTINGS:
        raise ValueError(f"algo must be one of {sorted(_SB3_SETTINGS)}; got {algo!r}")
    try:
        import stable_baselines3 as sb
    except ImportError as err:  # a benchmark-only dependency
        raise ImportError(
            'the SB3 peers need stable-baselines3: pip install -e ".[bench]"'
        ) from err
    from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

    unknown = set(settings) - _SB3_SETTINGS[algo]
    if unknown:
        raise ValueError(
            f"settings not understood by the SB3 {algo.upper()} peer: {sorted(unknown)}; "
            f"it takes {sorted(_SB3_SETTINGS[algo])}"
        )
    s = {
        **pendulum_settings(f"sb3-{algo}"),
        "eval_every": 2_000,
        "eval_episodes": 100,
        "device": "auto",  # as rlbook's agents: CUDA where available, else the CPU
        **settings,
    }
    c = _sb3_config(algo, s)  # every value checked as rlbook checks it
    if c.lr_pi != c.lr_q:
        raise ValueError("SB3 uses one learning rate: lr_pi must equal lr_q")
    # the device rlbook's agent would take; one that is not here was refused by the config above
    # (SB3 alone would quietly run on the CPU instead)
    device = resolve_device(c.device)
    kwargs: dict[str, Any] = dict(
        gamma=c.gamma,
        learning_rate=c.lr_q,
        buffer_size=c.buffer_size,
        learning_starts=c.warmup_steps,
        batch_size=c.batch_size,
        tau=c.tau,
        seed=seed,
        device=device,
        policy_kwargs=dict(net_arch=list(c.hidden)),
    )
    train_env = gym.make(env)
    if algo == "sac":
        kwargs["ent_coef"] = "auto" if c.alpha == "auto" else float(c.alpha)
        model = sb.SAC("MlpPolicy", train_env, **kwargs)
    else:
        dim = check_box_env(train_env, algo).shape[0]
        if c.noise == "ou":  # the same recursion as rlbook.noise, reset at every episode start
            noise = OrnsteinUhlenbeckActionNoise(
                mean=c.ou_mu * np.ones(dim),
                sigma=c.noise_sigma * np.ones(dim),
                theta=c.ou_theta,
                dt=c.ou_dt,
                initial_noise=c.ou_mu * np.ones(dim),
            )
        else:
            noise = NormalActionNoise(np.zeros(dim), c.noise_sigma * np.ones(dim))
        model = (sb.TD3 if algo == "td3" else sb.DDPG)(
            "MlpPolicy", train_env, action_noise=noise, **kwargs
        )
    if model.device.type != device.type:  # SB3 falls back to the CPU without a word
        raise ValueError(f"device={c.device!r}: SB3 placed the model on {model.device}")
    return model, s


def sb3_peer(algo: str):
    """The runner of stable-baselines3's ``DDPG``, ``TD3`` or ``SAC`` with rlbook's setting names
    (``total_steps``, ``gamma``, ``lr_q`` (SB3 has one learning rate; ``lr_pi`` must equal it),
    ``buffer_size``, ``warmup_steps``, ``hidden``, ``batch_size``, ``tau``, ``eval_every``,
    ``eval_episodes``, ``device``; DDPG and TD3: ``noise`` (``"gaussian"`` or ``"ou"``),
    ``noise_sigma``, ``ou_theta``, ``ou_mu``, ``ou_dt``; SAC: ``alpha`` (``"auto"`` or a number)).
    Values are checked by rlbook's own ``Config`` classes, and a setting the peer cannot honour
    is refused (``ValueError``), never dropped. ``device`` defaults to ``"auto"``, as rlbook's
    agents: both libraries run on CUDA where it is available, else on the CPU; the record's
    ``device`` says where it ran."""

    def run(
        env: str, seed: int, final_episodes: int = 100, threads: int | None = None, **settings
    ) -> dict:
        _set_threads(threads)
        model, s = sb3_model(algo, env, seed, **settings)
        import stable_baselines3 as sb
        from stable_baselines3.common.callbacks import BaseCallback

        make = lambda: gym.make(env)  # noqa: E731

        def predict(obs):
            return model.predict(obs, deterministic=True)[0]

        class Curve(BaseCallback):  # the same evaluation as rlbook's loop, its time excluded
            def __init__(self):
                super().__init__()
                self.curve, self.seconds, self.eval_time = [], [], 0.0
                self.start = time.perf_counter()

            def _on_step(self) -> bool:
                if s["eval_every"] and self.num_timesteps % s["eval_every"] == 0:
                    t0 = time.perf_counter()
                    ret = evaluate(predict, make, range(s["eval_episodes"]))
                    self.seconds.append(t0 - self.start - self.eval_time)
                    self.eval_time += time.perf_counter() - t0
                    self.curve.append(eval_row(self.num_timesteps, ret))
                return True

        callback = Curve()
        start = callback.start = time.perf_counter()
        model.learn(total_timesteps=s["total_steps"], callback=callback)
        seconds = time.perf_counter() - start - callback.eval_time
        return {
            "curve": callback.curve,
            "curve_seconds": callback.seconds,
            **_final(predict, env, final_episodes),
            "steps": s["total_steps"],
            "train_seconds": seconds,
            "steps_per_second": s["total_steps"] / seconds,
            "device": str(model.device),
            "sb3_version": sb.__version__,
        }

    run.__name__ = f"run_sb3_{algo}"
    return keeps_global_state(run)


@keeps_global_state
def pcl_online(
    env: str,
    seed: int,
    total_steps: int = 20_000,
    eval_every: int = 2_000,
    eval_episodes: int = 100,
    final_episodes: int = 100,
    threads: int | None = None,
    hidden=(64, 64),
    **config,
) -> dict:
    """Algorithm ``pcl`` online (:func:`rlbook.pcl.train`) for ``total_steps`` steps,
    rounded up to whole episodes, evaluated every ``eval_every`` steps (rounded down to whole
    episodes); ``config`` holds :class:`~rlbook.pcl.PCLConfig` fields on top of
    :data:`rlbook.presets.PCL_PENDULUM`."""
    _set_threads(threads)
    length = gym.spec(env).max_episode_steps or 1_000
    check_int("total_steps", total_steps, 1)
    check_int("eval_every", eval_every, length)
    config = pcl_module.PCLConfig(
        **{**PCL_PENDULUM, **config},
        hidden=hidden,
        total_steps=-(-total_steps // length) * length,
        eval_every=eval_every // length * length,
        eval_episodes=eval_episodes,
    )
    result = pcl_module.train(env, config, seed=seed, progress=False)
    return result.to_record(_final(result.agent.act_batch, env, final_episodes))


def _offline(method: str):
    def run(
        env: str,
        seed: int,
        total_steps: int = 20_000,
        iterations: int = 30,
        eval_every: int = 5,
        eval_episodes: int = 100,
        final_episodes: int = 100,
        threads: int | None = None,
        gamma: float = 0.98,
        fit_steps: int = 100,
        lr: float = 3e-3,
        hidden=(64, 64),
        episode_length: int = 200,
    ) -> dict:
        if env != "Pendulum-v1":
            raise ValueError(f"the offline runners use the Pendulum-v1 dataset; got env={env!r}")
        check_int("iterations", iterations, 1)
        check_int("eval_every", eval_every, 1)
        _set_threads(threads)
        data = pendulum_dataset(total_steps, seed=seed, episode_length=episode_length)
        low, high = np.array([-2.0], np.float32), np.array([2.0], np.float32)
        with seeded_torch(seed):
            q = fqi_module.MLPQ(3, 1, hidden)
            policy = DeterministicActor(3, low, high, hidden) if method == "nfqca" else None
        maximize = fqi_module.gradient_maximizer(low, high, restarts=2, steps=20, seed=seed)

        def act(obs):
            x = torch.as_tensor(obs, dtype=torch.float32)
            if policy is not None:  # NFQCA acts with its actor
                with torch.no_grad():
                    return policy(x).numpy()
            return maximize(q, x)[0].detach().numpy()  # explicit FQI maximizes at every step

        curve, seconds, done = [], 0.0, 0
        make = lambda: gym.make(env)  # noqa: E731
        while done < iterations:  # chunks of eval_every iterations; FQI's state is q (and pi)
            k = min(eval_every, iterations - done)
            start = time.perf_counter()
            if policy is not None:  # method == "nfqca"
                nfqca_fn(
                    data,
                    q,
                    policy,
                    gamma,
                    iterations=k,
                    k_q=fit_steps,
                    k_pi=fit_steps,
                    lr_q=lr,
                    lr_pi=lr,
                    tol=0.0,
                )
            else:
                fqi_module.fqi_explicit(
                    data, q, maximize, gamma, iterations=k, fit_steps=fit_steps, lr=lr, tol=0.0
                )
            seconds += time.perf_counter() - start
            done += k
            returns = evaluate(act, make, range(eval_episodes))
            curve.append(eval_row(done, returns))
        return {
            "curve": curve,
            **_final(act, env, final_episodes),
            "steps": total_steps,
            "train_seconds": seconds,
            "steps_per_second": total_steps / seconds,
            "curve_axis": "iteration",
        }

    run.__name__ = f"run_{method}"
    return keeps_global_state(run)


fqi_offline = _offline("fqi")
nfqca_offline = _offline("nfqca")
