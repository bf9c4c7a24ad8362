"""Every named setting the chapters and the benchmarks train with, in one place.

A preset is a plain ``dict`` of keyword arguments (the fields of an algorithm's ``Config``, or of
the function named below), so ``Config(**preset, eval_every=1_000)`` or ``{**preset, **changes}``
builds a run from it. Each says what it is for and who uses it.

- :data:`LAPTOP`: the chapters' own Pendulum-v1 runs (DDPG, TD3, SAC, PCL), chosen for the time to
  a good policy on a laptop CPU.
- :data:`PENDULUM_TD3`, :data:`PENDULUM_SAC` (and :func:`pendulum_settings`): the
  rl-baselines3-zoo settings on Pendulum-v1, for like-for-like comparisons with stable-baselines3.
- :data:`HALFCHEETAH`: the zoo's HalfCheetah settings (``benchmarks/mujoco_tasks.py``).
- :data:`KNOB_TD3`: the small TD3 runs behind the TD3 chapter's tau and twin-critic knobs.
- :data:`FQI_PENDULUM`: offline fitted Q-iteration on Pendulum-v1 (embedded-optimization chapter).
- :data:`PCL_PENDULUM`: continuous PCL with a Gaussian policy on Pendulum-v1 (PCL chapter).

This module imports nothing from the package, so every module can import from it. The older
names (``rlbook.runners.LAPTOP``, ``rlbook.knobs.KNOB_TD3``, ``rlbook.fqi.PENDULUM``,
``rlbook.pcl.PENDULUM``, ...) are the same objects, re-exported for the chapters and records that
name them.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "FQI_PENDULUM",
    "HALFCHEETAH",
    "KNOB_TD3",
    "LAPTOP",
    "PCL_PENDULUM",
    "PENDULUM_SAC",
    "PENDULUM_TD3",
    "pendulum_settings",
]

#: The chapters' settings for Pendulum-v1, chosen for the time to a good policy on a laptop CPU
#: (a 2-core machine without AVX-512), not for a like-for-like comparison (the benchmarks keep
#: the zoo's, below): 64-wide networks, whose updates cost a fraction of the zoo's 400x300 or
#: 256x256 and still represent the swing-up policy; gamma 0.99; a warm-up of 1,000 random steps
#: (the zoo's TD3 waits 10,000); the step budget at which five seeds end near the ceiling.
#: DDPG keeps its box's Ornstein-Uhlenbeck noise, with hard target copies every 200 updates (the
#: variant ``target_update="hard"``, not the box's soft update); PCL's entry holds the
#: overrides of ``rlbook.pcl.train`` in its chapter: 10,000 steps, 50 episodes of 200 steps (it
#: was ``episodes=50``, an argument of the former ``rlbook.pcl.train_env``: the same run).
#: Used by the training cells of the DDPG, TD3, SAC and PCL chapters (as
#: ``rlbook.runners.LAPTOP``), ``benchmarks/time_to_threshold.py`` (which measures them against
#: SB3 with the zoo's settings), ``benchmarks/chapter_seeds.py``, ``benchmarks/seed_batch.py`` and
#: ``benchmarks/pendulum_optimum.py``.
LAPTOP: dict[str, Any] = {
    "ddpg": dict(
        total_steps=10_000,
        warmup_steps=1_000,
        hidden=(64, 64),
        gamma=0.99,
        noise="ou",
        noise_sigma=0.2,
        target_update="hard",
        target_period=200,
    ),
    "td3": dict(total_steps=14_000, warmup_steps=1_000, hidden=(64, 64), gamma=0.99),
    "sac": dict(total_steps=10_000, warmup_steps=1_000, hidden=(64, 64), gamma=0.99),
    "pcl": dict(total_steps=10_000, hidden=(64, 64)),
}

#: The rl-baselines3-zoo settings of TD3 and DDPG for Pendulum-v1, in rlbook's names. Used through
#: :func:`pendulum_settings` by ``benchmarks/pendulum.py``, ``benchmarks/time_to_threshold.py``
#: and ``benchmarks/seed_batch.py`` (both rlbook's runs and SB3's).
PENDULUM_TD3: dict[str, Any] = dict(
    total_steps=20_000,
    gamma=0.98,
    lr_q=1e-3,
    lr_pi=1e-3,
    buffer_size=200_000,
    warmup_steps=10_000,
    noise="gaussian",
    noise_sigma=0.1,
    hidden=(400, 300),
    batch_size=256,
    tau=0.005,
)

#: SB3's SAC defaults with learning rate 1e-3 for Pendulum-v1, in rlbook's names; used as
#: :data:`PENDULUM_TD3` is, for SAC.
PENDULUM_SAC: dict[str, Any] = dict(
    total_steps=20_000,
    gamma=0.99,
    lr_q=1e-3,
    lr_pi=1e-3,
    buffer_size=1_000_000,
    warmup_steps=100,
    hidden=(256, 256),
    batch_size=256,
    tau=0.005,
    alpha="auto",
)


def pendulum_settings(algo: str) -> dict:
    """A copy of the zoo settings of ``algo`` (``"ddpg"``, ``"td3"``, ``"sac"`` or an SB3 peer
    ``"sb3-..."``) in rlbook's names: :data:`PENDULUM_SAC` for SAC, :data:`PENDULUM_TD3` otherwise;
    rlbook's DDPG also gets EMA targets (``target_update="ema"``), as SB3's and the DDPG paper's."""
    s = dict(PENDULUM_SAC if algo.removeprefix("sb3-") == "sac" else PENDULUM_TD3)
    if algo == "ddpg":
        s["target_update"] = "ema"
    return s


_HALFCHEETAH_COMMON = dict(
    buffer_size=1_000_000, batch_size=256, gamma=0.99, tau=0.005, warmup_steps=10_000
)

#: The rl-baselines3-zoo settings of TD3 and SAC for the MuJoCo HalfCheetah task, in rlbook's names
#: (SB3's runner translates them), per algorithm. Used by ``benchmarks/mujoco_tasks.py`` for
#: rlbook's runs and SB3's alike.
HALFCHEETAH: dict[str, Any] = {
    "td3": dict(
        _HALFCHEETAH_COMMON,
        hidden=(400, 300),
        lr_q=1e-3,
        lr_pi=1e-3,
        noise="gaussian",
        noise_sigma=0.1,
    ),
    "sac": dict(_HALFCHEETAH_COMMON, hidden=(256, 256), lr_q=3e-4, lr_pi=3e-4, alpha="auto"),
}

#: The TD3 runs behind the TD3 chapter's tau and twin-critic knobs: small networks, gamma 0.98,
#: tau 0.02. Used by the committed records (``benchmarks/chapter_seeds.py``, 20,000 steps) and
#: by the live panels (``rlbook.knobs.td3_seeds``, ``rlbook.widgets``: ``total_steps`` by
#: default; five seeds in a batch take about 2.5 times one seed's time). Also importable as
#: ``rlbook.knobs.KNOB_TD3`` (the same object: tests shrink it in place).
KNOB_TD3: dict[str, Any] = dict(
    total_steps=6_000,
    warmup_steps=1_000,
    hidden=(64, 64),
    gamma=0.98,
    tau=0.02,
    eval_every=1_000,
    eval_episodes=10,
)

#: Offline fitted Q-iteration on Pendulum-v1 (the arguments of ``rlbook.fqi.pendulum_q``): 3,000
#: random-torque transitions, gamma 0.9, a 64-wide tanh Q-network, 15 iterations of 100
#: warm-started Adam steps. Used by the embedded-optimization chapter and
#: ``benchmarks/maximizers.py``; also importable as ``rlbook.fqi.PENDULUM``.
FQI_PENDULUM: dict[str, Any] = dict(
    n=3_000, gamma=0.9, iterations=15, fit_steps=100, lr=3e-3, hidden=(64, 64)
)

#: Continuous PCL with a Gaussian policy on Pendulum-v1 (fields of ``rlbook.pcl.PCLConfig``; the
#: defaults of ``rlbook.pcl.train`` on a gymnasium environment). The reward scale is what made it
#: learn reliably: unscaled, two of three seeds tried were far from balancing after 40,000 steps;
#: scaled by 0.1, four of four balanced. Used by the PCL and Benchmarks chapters,
#: ``rlbook.runners.pcl_online`` and ``benchmarks/pendulum.py``; also importable as
#: ``rlbook.pcl.PENDULUM``.
PCL_PENDULUM: dict[str, Any] = dict(
    gamma=0.98,
    alpha=0.05,
    d=5,
    lr_pi=1e-3,
    lr_v=3e-3,
    optimizer="adam",
    replay_updates=200,
    capacity=1000,
    reward_scale=0.1,
)
