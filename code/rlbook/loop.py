"""The interaction loop every online algorithm shares, evaluation, and the training result.

:func:`run_off_policy` is lines "observe, act, store, update" of Algorithms ``ddpg``,
``td3`` and ``sac``, written once. Departures from the pseudocode, all standard and
all visible here:

- **warm-up**: the first ``warmup_steps`` actions are uniform in the action box and no update is
  made before them (the pseudocode updates from the first step);
- **episodes**: when an episode ends (terminated or truncated) the environment is reset and the
  agent's ``episode_start`` hook runs (it resets OU noise);
- **bootstrap masking**: transitions are stored with ``terminated`` and ``truncated`` separately,
  and the algorithms mask the bootstrap with ``terminated`` only;
- **evaluation**: every ``eval_every`` steps the deterministic policy is evaluated on fixed starts
  (:func:`evaluate`), giving the learning curve; an optional ``callback(agent, step)`` runs right
  after, and the dicts it returns are kept in ``Result.logs`` (the book measures critic bias so).

Ctrl-C (``KeyboardInterrupt``) during training finishes the step under way and returns the partial
result, marked ``interrupted=True``, instead of losing it; :func:`rlbook.checkpoint.resume`
continues it exactly. A NaN or inf in a loss or target stops training with
:class:`TrainingDiverged`, which names the quantity and the step.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
import torch
from tqdm.auto import tqdm

from .envstate import restore_env, snapshot_env, warn_unrestored
from .validation import check_int

__all__ = [
    "BatchLearner",
    "Learner",
    "Result",
    "ResumeState",
    "SeedResults",
    "TrainingDiverged",
    "evaluate",
    "evaluate_members",
    "global_state_kept",
    "keeps_global_state",
    "resolve_device",
    "run_members",
    "run_off_policy",
    "seed_everything",
    "seeded_torch",
]


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` picks CUDA when available, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def seed_everything(seed: int) -> np.random.SeedSequence:
    """A ``SeedSequence`` from ``seed``, to spawn every generator of a run. Global generators are
    left alone: torch's is used, under :func:`seeded_torch`, only to initialise the networks."""
    return np.random.SeedSequence(check_int("seed", seed, 0))


@contextlib.contextmanager
def seeded_torch(seed: int):
    """Inside the block, torch's global generator is seeded with ``seed`` (``nn.Linear`` and
    ``nn.init`` draw initial weights from it); after it, the caller's generator is put back
    exactly as it was (CUDA's too), so a ``train`` call in the middle of a student's experiment
    leaves the student's random stream unchanged. The run's networks thus come from a generator
    of the run's own, and the same ``seed`` gives the same initial weights."""
    seed = check_int("seed", seed, 0)
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def global_state_kept():
    """Everything global a run may touch is put back on exit: torch's generators (CPU and CUDA),
    numpy's and Python's global generators (stable-baselines3 seeds all three), and torch's
    intra-op thread count (a runner's ``threads``). For code that is not ours to change."""
    threads = torch.get_num_threads()
    np_state = np.random.get_state()  # noqa: NPY002 - the legacy global is what is kept
    py_state = random.getstate()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    try:
        with torch.random.fork_rng(devices=devices):
            yield
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


def keeps_global_state(func):
    """Decorator: ``func`` runs under :func:`global_state_kept`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with global_state_kept():
            return func(*args, **kwargs)

    return wrapper


def evaluate(
    policy: Callable[[np.ndarray], np.ndarray],
    make_env: Callable[[], gym.Env],
    seeds: Sequence[int] = range(100),
    max_steps: int | None = None,
) -> np.ndarray:
    """Undiscounted returns of ``policy`` on the episodes started by ``reset(seed=i)``, i in ``seeds``.

    All episodes run in lockstep so that the policy is called once per time step on the batch of
    observations of the episodes still running. The same ``seeds`` give every algorithm the same
    start states, which matters: on Pendulum-v1 the start state moves an episode's return by
    hundreds, far more than the difference between good algorithms.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must name at least one episode")
    envs = [make_env() for _ in seeds]
    obs = np.stack([env.reset(seed=int(s))[0] for env, s in zip(envs, seeds, strict=True)])
    returns = np.zeros(len(envs))
    active = np.ones(len(envs), dtype=bool)
    steps = 0
    while active.any() and (max_steps is None or steps < max_steps):
        idx = np.flatnonzero(active)
        actions = np.asarray(policy(obs[idx]))
        for k, i in enumerate(idx):
            o, r, terminated, truncated, _ = envs[i].step(actions[k])
            obs[i] = o
            returns[i] += r
            if terminated or truncated:
                active[i] = False
        steps += 1
    for env in envs:
        env.close()
    return returns


def evaluate_members(
    policy: Callable[[np.ndarray], np.ndarray],
    make_env: Callable[[], gym.Env],
    runs: int,
    seeds: Sequence[int] = range(10),
) -> np.ndarray:
    """:func:`evaluate` for a batch of ``runs`` runs: returns of shape ``(runs, len(seeds))``,
    run ``i``'s deterministic policy on the episodes started by ``reset(seed=j)``.

    ``policy`` maps observations ``(runs, episodes, dim)`` to actions ``(runs, episodes, ...)``.
    It is called on every episode at every step until all have ended (actions of ended episodes
    are dropped), so that what a run computes does not depend on the other runs.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one episode")
    envs = [[make_env() for _ in seeds] for _ in range(runs)]
    obs = np.stack(
        [[env.reset(seed=s)[0] for env, s in zip(row, seeds, strict=True)] for row in envs]
    )
    returns = np.zeros((runs, len(seeds)))
    active = np.ones((runs, len(seeds)), dtype=bool)
    while active.any():
        actions = np.asarray(policy(obs))
        for i, j in zip(*np.nonzero(active), strict=True):
            o, r, terminated, truncated, _ = envs[i][j].step(actions[i, j])
            obs[i, j] = o
            returns[i, j] += r
            if terminated or truncated:
                active[i, j] = False
    for row in envs:
        for env in row:
            env.close()
    return returns


def eval_row(step: int, returns) -> dict:
    """One row of a learning curve, as every trainer and runner writes it: ``step`` (environment
    steps, or iterations for offline methods) and the ``mean`` and ``std`` of ``returns``."""
    returns = np.asarray(returns, dtype=float)
    return {"step": int(step), "mean": float(returns.mean()), "std": float(returns.std())}


class Learner(Protocol):
    """What the interaction loops (:func:`run_off_policy`, :func:`run_members`) ask of an agent;
    :class:`rlbook.agent.OffPolicyAgent` provides all of it. In a batch of runs (``members``
    set) observations, actions and rewards carry a leading run dimension."""

    def act(self, obs, explore: bool = True) -> Any:
        """The action to take in ``obs``: exploring (``explore=True``) or deterministic."""
        ...

    def act_batch(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic actions for a batch of observations (evaluation)."""
        ...

    def store(self, obs, act, rew, next_obs, terminated, truncated) -> None:
        """Keep one transition (of every run) for the updates."""
        ...

    def update(self) -> dict | None:
        """One update; returns the losses and targets to check for NaN (or None)."""
        ...

    def episode_start(self, member: int | None = None) -> None:
        """An episode (of run ``member`` of a batch) starts (DDPG resets its OU noise)."""
        ...

    def anneal(self, step: int, total_steps: int | None = None) -> None:
        """After the update of environment step ``step``: the learning-rate schedule, if any."""
        ...

    def autocast(self) -> contextlib.AbstractContextManager:
        """The context ``update`` runs in (bf16 autocast, or a no-op)."""
        ...


class BatchLearner(Learner, Protocol):
    """A :class:`Learner` that runs ``members`` independent runs as one batch
    (:meth:`rlbook.agent.OffPolicyAgent.stack`), as :func:`run_members` needs it."""

    members: int | None  # the number of runs

    def member(self, i: int) -> Learner:
        """Run ``i`` taken out of the batch, as an agent of its own."""
        ...


@dataclass
class ResumeState:
    """What continuing a run needs beyond its agent and config (:func:`rlbook.checkpoint.resume`).

    ``env`` is what ``train`` was given as ``env`` (an id, an instance or a factory); ``loop``
    where the interaction loop stopped (:func:`snapshot_loop`: step, observation, return of the
    episode under way, the environment's snapshot and action-sampling generator; a list of them,
    one per run, for a batch of runs), ``None`` before the loop has run or when a second Ctrl-C
    left a step half done; ``has_buffer`` whether the agent's replay buffer holds the run's
    transitions (not so for a checkpoint saved without ``buffer=True``).
    """

    env: Any = None
    loop: dict | list[dict] | None = None
    has_buffer: bool = True

    @property
    def resumable(self) -> bool:
        """Whether the run can continue exactly from here."""
        return self.loop is not None and self.has_buffer


@dataclass
class Result:
    """What ``train`` returns: the trained agent, its learning curve and timing.

    ``curve`` has one row per evaluation: ``step`` (environment steps so far), ``mean`` and ``std``
    of the deterministic returns over the evaluation episodes; ``curve_seconds`` the training time
    (evaluation excluded) at each of them, kept apart so that the curve of a seed is the same in
    every run on one machine while its timing is not. ``episodes`` lists the training
    episodes as ``(step at its end, undiscounted return)`` (with exploration). ``logs`` holds what
    the ``callback`` of ``train`` returned at each evaluation, with its ``step``.
    ``resume_state`` holds what continuing the run needs (:class:`ResumeState`; ``None`` for a
    result that cannot be continued).
    """

    agent: Any
    config: Any
    curve: list[dict] = field(default_factory=list)
    episodes: list[tuple[int, float]] = field(default_factory=list)
    logs: list[dict] = field(default_factory=list)
    curve_seconds: list[float] = field(default_factory=list)
    steps: int = 0
    wall_time: float = 0.0
    eval_time: float = 0.0
    interrupted: bool = False
    resume_state: ResumeState | None = field(default=None, repr=False)

    @property
    def steps_per_second(self) -> float:
        """Environment steps per second of training, updates included, evaluation excluded."""
        train_time = self.wall_time - self.eval_time
        return self.steps / train_time if train_time > 0 else float("nan")

    def to_record(self, final: dict | None = None) -> dict:
        """The run as a JSON-ready record (what :mod:`rlbook.runners` returns to a sweep):
        ``curve``, ``curve_seconds``, the items of ``final`` (a runner's evaluation after
        training: ``final_return``, ``final_std``), ``steps``, ``train_seconds`` (evaluation
        excluded) and ``steps_per_second``."""
        return {
            "curve": self.curve,
            "curve_seconds": self.curve_seconds,
            **(final or {}),
            "steps": self.steps,
            "train_seconds": self.wall_time - self.eval_time,
            "steps_per_second": self.steps_per_second,
        }

    def curve_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(steps, mean, std)`` of the learning curve as arrays."""
        steps = np.array([row["step"] for row in self.curve])
        mean = np.array([row["mean"] for row in self.curve])
        std = np.array([row["std"] for row in self.curve])
        return steps, mean, std

    @property
    def final_return(self) -> float:
        """Mean evaluation return at the last evaluation."""
        return self.curve[-1]["mean"] if self.curve else float("nan")


@dataclass
class SeedResults:
    """What ``train(..., seeds=...)`` returns: the runs of several seeds, made as one batch.

    ``runs[i]`` is the :class:`Result` of ``seeds[i]``: its learning curve, training episodes
    and callback logs, and (once training stops) its own agent, taken out of the batch
    (:meth:`~rlbook.agent.OffPolicyAgent.member`), which acts and evaluates as a one-seed run's.
    ``agent`` is the batch itself. Indexing and iterating give the runs; :meth:`curves` stacks
    their learning curves for plotting (``rlbook.plotting.plot_seed_band``). Timings are the
    batch's: every run shares the same wall clock.
    """

    agent: Any
    config: Any
    seeds: list[int]
    runs: list[Result] = field(default_factory=list)
    steps: int = 0
    wall_time: float = 0.0
    eval_time: float = 0.0
    interrupted: bool = False
    #: what continuing the batch needs; its ``loop`` is a list, one loop state per run
    resume_state: ResumeState | None = field(default=None, repr=False)

    def __post_init__(self):
        if not self.runs:  # a run of a batch is continued with its batch, not alone: no loop
            env = None if self.resume_state is None else self.resume_state.env
            self.runs = [
                Result(agent=None, config=self.config, resume_state=ResumeState(env, None))
                for _ in self.seeds
            ]

    def __len__(self) -> int:
        return len(self.runs)

    def __getitem__(self, i: int) -> Result:
        return self.runs[i]

    def __iter__(self):
        return iter(self.runs)

    @property
    def steps_per_second(self) -> float:
        """Environment steps per second of one run (all runs advance together), evaluation
        excluded; times ``len(self)`` for the batch's total."""
        train_time = self.wall_time - self.eval_time
        return self.steps / train_time if train_time > 0 else float("nan")

    def curves(self) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, returns)``: the evaluation steps and the mean evaluation return of each run
        at each, shape ``(runs, evaluations)``."""
        steps = np.array([row["step"] for row in self.runs[0].curve])
        return steps, np.array([[row["mean"] for row in r.curve] for r in self.runs])

    @property
    def final_returns(self) -> np.ndarray:
        """Each run's mean evaluation return at the last evaluation."""
        return np.array([r.final_return for r in self.runs])


class _DeferredInterrupt:
    """Ctrl-C during training finishes the current step before stopping, so the agent, the buffer
    and the environment stay consistent and the run can be resumed. A second Ctrl-C stops at
    once. Outside the main thread (where signal handlers cannot be set) Ctrl-C acts as usual."""

    def __enter__(self):
        self.requested = False
        try:
            self.previous = signal.signal(signal.SIGINT, self._handler)
        except ValueError:
            self.previous = None
        return self

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


def run_off_policy(
    agent: Learner,
    make_env: Callable[[], gym.Env],
    *,
    total_steps: int,
    warmup_steps: int,
    seed_seq: np.random.SeedSequence | None,
    eval_every: int = 0,
    eval_seeds: Sequence[int] = range(10),
    progress: bool | None = None,
    result: Result,
    callback: Callable[[Any, int], dict | None] | None = None,
) -> Result:
    """Run environment steps until ``total_steps``, one agent update per step after warm-up.

    ``agent`` is a :class:`Learner`: ``act(obs, explore)``, ``act_batch(obs)`` (deterministic,
    batched), ``store(obs, act, rew, next_obs, terminated, truncated)``, ``update()`` (run under
    ``autocast()``), ``anneal(step, total_steps)`` (the learning-rate schedule) and
    ``episode_start()``. If ``result.resume_state`` holds the loop state where an earlier call
    stopped, the run continues from it (``seed_seq`` is then unused); otherwise it starts with
    ``reset(seed=...)`` from ``seed_seq``; at the end the loop state is put there.
    Every loss and target the update reports is checked: a NaN or inf raises
    :class:`TrainingDiverged` naming it and the step, with the partial result attached.
    """
    total_steps = check_int("total_steps", total_steps, 1)
    warmup_steps = check_int("warmup_steps", warmup_steps, 0)
    eval_every = check_int("eval_every", eval_every, 0)
    env = make_env()
    if result.resume_state is None:
        result.resume_state = ResumeState()
    resume = result.resume_state
    if resume.loop is None:
        if seed_seq is None:
            raise ValueError("seed_seq is needed to start a run (only a resumed one may omit it)")
        env_seed, action_seed = (int(s.generate_state(1)[0]) for s in seed_seq.spawn(2))
        env.action_space.seed(action_seed)
        obs, _ = env.reset(seed=env_seed)
        agent.episode_start()
        episode_return, t = 0.0, 0
    elif isinstance(resume.loop, list):
        raise ValueError(
            "result.resume_state holds a batch's loop states: continue it with run_members"
        )
    else:
        obs, episode_return, t = restore_loop(env, resume.loop)
    start = time.perf_counter() - result.wall_time
    if progress is None:  # the book's build sets RLBOOK_PROGRESS=0: no bar in static pages
        progress = os.environ.get("RLBOOK_PROGRESS", "1") != "0"
    bar = tqdm(
        total=total_steps, initial=t, disable=not progress, desc=type(agent).__name__, leave=False
    )
    consistent = True
    try:
        with _DeferredInterrupt() as interrupt:
            while t < total_steps and not interrupt.requested:
                consistent = False
                if t < warmup_steps:
                    act = env.action_space.sample()
                else:
                    act = agent.act(obs, explore=True)
                next_obs, rew, terminated, truncated, _ = env.step(act)
                agent.store(obs, act, rew, next_obs, terminated, truncated)
                episode_return += float(rew)
                obs = next_obs
                if terminated or truncated:
                    result.episodes.append((t + 1, episode_return))
                    obs, _ = env.reset()
                    agent.episode_start()
                    episode_return = 0.0
                if t >= warmup_steps:
                    with agent.autocast():  # bf16 option, see the agent
                        info = agent.update()
                    check_finite(info, t + 1, result)
                    agent.anneal(t + 1, total_steps)  # the learning-rate schedule, if any
                t += 1
                consistent = True
                if eval_every and t % eval_every == 0:
                    eval_start = time.perf_counter()
                    trained = eval_start - start - result.eval_time
                    try:  # evaluation time stays out of the training time, even if it raises
                        returns = evaluate(agent.act_batch, make_env, eval_seeds)
                        result.curve.append(eval_row(t, returns))
                        result.curve_seconds.append(trained)
                        if callback is not None:
                            log = callback(agent, t)
                            if log is not None:
                                result.logs.append({"step": t, **log})
                    finally:
                        result.eval_time += time.perf_counter() - eval_start
                    bar.set_postfix(eval_return=f"{returns.mean():.1f}")
                bar.update(1)
            result.interrupted = interrupt.requested
    except KeyboardInterrupt:  # a second Ctrl-C, or outside the main thread
        result.interrupted = True
    finally:
        bar.close()
        result.steps = t
        result.wall_time = time.perf_counter() - start
        # where to continue from; None when a hard interrupt left a step half done
        resume.loop = snapshot_loop(env, obs, episode_return, t) if consistent else None
        env.close()
    return result


class TrainingDiverged(FloatingPointError):
    """A loss or target became NaN or infinite; ``result`` holds the run up to that step."""

    def __init__(self, message: str, result: Result | SeedResults):
        super().__init__(message)
        self.result = result


def check_finite(info: dict | None, step: int, result: Result | SeedResults) -> None:
    """Raise :class:`TrainingDiverged` if a quantity the update reported (its losses, the mean
    target, alpha, which a batch reports per run) is NaN or infinite."""
    for name, v in (info or {}).items():
        values = np.asarray(v.detach().float().cpu() if isinstance(v, torch.Tensor) else v)
        if not np.isfinite(values).all():
            value = values.flat[np.flatnonzero(~np.isfinite(values))[0]]
            raise TrainingDiverged(
                f"{name} became {value} at step {step}: training stopped instead of continuing on "
                f"garbage (try a smaller learning rate, or check the rewards and observations for "
                f"NaN or huge values)",
                result,
            )


# ------------------------------------------------------------------------------------------------
# the loop's state: what it needs to continue exactly where it stopped
# ------------------------------------------------------------------------------------------------
def snapshot_loop(env, obs, episode_return: float, t: int) -> dict:
    return {
        "t": t,
        "obs": np.array(obs, copy=True),
        "episode_return": float(episode_return),
        "env": snapshot_env(env),
        "action_rng": env.action_space.np_random.bit_generator.state,
    }


def restore_loop(env, loop: dict):
    """Put a fresh ``env`` in the saved state; returns ``(obs, episode_return, t)``. Warns for
    each attribute of a wrapper that the snapshot could not capture (here, where a run continues
    from it, not in :func:`snapshot_loop`, which runs at the end of every training run)."""
    env.reset(seed=0)  # initialise every wrapper; the saved state then overwrites it
    restore_env(env, loop["env"])
    warn_unrestored(loop["env"], "this resumed run")
    rng = np.random.default_rng()
    rng.bit_generator.state = loop["action_rng"]
    env.action_space._np_random = rng
    return np.array(loop["obs"], copy=True), float(loop["episode_return"]), int(loop["t"])


# ------------------------------------------------------------------------------------------------
# a batch of runs: one loop, one environment per run, one batched update per step
# ------------------------------------------------------------------------------------------------
def run_members(
    agent: BatchLearner,
    make_env: Callable[[], gym.Env],
    *,
    total_steps: int,
    warmup_steps: int,
    seed_seqs: Sequence[np.random.SeedSequence] | None,
    eval_every: int = 0,
    eval_seeds: Sequence[int] = range(10),
    progress: bool | None = None,
    result: SeedResults,
    callback: Callable[[Any, int], dict | None] | None = None,
) -> SeedResults:
    """:func:`run_off_policy` for a batch of runs (an agent made by ``stack``).

    Each run has its own environment, seeded as its one-seed run seeds it, and its own episodes:
    when run ``i``'s episode ends (terminated or truncated, stored apart exactly as in the one-run
    loop) its environment alone is reset and ``agent.episode_start(i)`` restarts its noise. All
    runs take the same number of steps, so after warm-up one batched ``update`` serves every run.
    At each evaluation every run is evaluated on the same starts (:func:`evaluate_members`) and
    ``callback(run_agent, step)`` runs once per run, on that run taken out of the batch, its
    dicts kept in that run's ``logs``. Ctrl-C, NaN checks and the progress bar as in the one-run
    loop; at the end each run's ``agent`` is set to its own agent.
    """
    total_steps = check_int("total_steps", total_steps, 1)
    warmup_steps = check_int("warmup_steps", warmup_steps, 0)
    eval_every = check_int("eval_every", eval_every, 0)
    runs = agent.members
    if runs is None:
        raise ValueError("run_members runs a batch of runs: agent must come from stack()")
    envs = [make_env() for _ in range(runs)]
    if result.resume_state is None:
        result.resume_state = ResumeState()
    resume = result.resume_state
    if resume.loop is None:
        if seed_seqs is None:
            raise ValueError(
                "seed_seqs is needed to start a batch (only a resumed one may omit it)"
            )
        obs = []
        for env, seq in zip(envs, seed_seqs, strict=True):
            env_seed, action_seed = (int(s.generate_state(1)[0]) for s in seq.spawn(2))
            env.action_space.seed(action_seed)
            obs.append(env.reset(seed=env_seed)[0])
        for i in range(runs):
            agent.episode_start(i)
        obs, episode_return, t = np.stack(obs), np.zeros(runs), 0
    elif not isinstance(resume.loop, list):
        raise ValueError(
            "result.resume_state holds one run's loop state: continue it with run_off_policy"
        )
    else:
        states = [restore_loop(env, loop) for env, loop in zip(envs, resume.loop, strict=True)]
        obs = np.stack([o for o, _, _ in states])
        episode_return = np.array([r for _, r, _ in states])
        t = states[0][2]
    start = time.perf_counter() - result.wall_time
    if progress is None:
        progress = os.environ.get("RLBOOK_PROGRESS", "1") != "0"
    desc = f"{type(agent).__name__} x{runs}"
    bar = tqdm(total=total_steps, initial=t, disable=not progress, desc=desc, leave=False)
    consistent = True
    try:
        with _DeferredInterrupt() as interrupt:
            while t < total_steps and not interrupt.requested:
                consistent = False
                if t < warmup_steps:
                    act = np.stack([env.action_space.sample() for env in envs])
                else:
                    act = agent.act(obs, explore=True)
                steps = [env.step(a) for env, a in zip(envs, act, strict=True)]
                next_obs = np.stack([s[0] for s in steps])
                rew = np.array([s[1] for s in steps], dtype=float)
                terminated = np.array([s[2] for s in steps])
                truncated = np.array([s[3] for s in steps])
                agent.store(obs, act, rew, next_obs, terminated, truncated)
                episode_return += rew
                obs = next_obs
                for i in np.flatnonzero(terminated | truncated):
                    result.runs[i].episodes.append((t + 1, float(episode_return[i])))
                    obs[i], _ = envs[i].reset()
                    agent.episode_start(int(i))
                    episode_return[i] = 0.0
                if t >= warmup_steps:
                    with agent.autocast():
                        info = agent.update()
                    check_finite(info, t + 1, result)
                    agent.anneal(t + 1, total_steps)
                t += 1
                consistent = True
                if eval_every and t % eval_every == 0:
                    eval_start = time.perf_counter()
                    trained = eval_start - start - result.eval_time
                    try:
                        returns = evaluate_members(agent.act_batch, make_env, runs, eval_seeds)
                        for i, run in enumerate(result.runs):
                            run.curve.append(eval_row(t, returns[i]))
                            run.curve_seconds.append(trained)
                            if callback is not None:
                                log = callback(agent.member(i), t)
                                if log is not None:
                                    run.logs.append({"step": t, **log})
                    finally:
                        result.eval_time += time.perf_counter() - eval_start
                    bar.set_postfix(eval_return=f"{returns.mean():.1f}")
                bar.update(1)
            result.interrupted = interrupt.requested
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        bar.close()
        result.steps = t
        result.wall_time = time.perf_counter() - start
        resume.loop = (
            [snapshot_loop(env, obs[i], episode_return[i], t) for i, env in enumerate(envs)]
            if consistent
            else None
        )
        for env in envs:
            env.close()
        for i, run in enumerate(result.runs):
            run.agent = agent.member(i)
            run.steps, run.wall_time, run.eval_time = t, result.wall_time, result.eval_time
            run.interrupted = result.interrupted
    return result
