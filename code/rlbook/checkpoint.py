"""Save, load and resume DDPG, TD3, SAC (and its V-network variant) and DQN runs.

``save(result, path)`` writes what the agent declares it is made of
(:meth:`~rlbook.agent.OffPolicyAgent.training_state`: networks, their targets, the optimizers'
state, tensors such as SAC's ``log_alpha``, counters such as the update count and DQN's step
count, and the state of each of its parts, such as DDPG's noise), the config and the learning
curve; ``buffer=True`` adds the replay buffer, ``rng=True`` every random generator of the run's
own (the agent's, the noise's, the environment's, and with ``buffer=True`` the buffer's, which
travels in the buffer's own state) and the interaction loop's
position (the result's :class:`~rlbook.loop.ResumeState`). Each object saves and restores its
own state (``state_dict`` / ``load_state_dict``); this module only puts them in a file. ``load(path)`` reads it back with ``torch.load(weights_only=True)``,
which runs no code from the file; ``load(path, device="cpu")`` puts the agent on another device
than its config's (a run saved on CUDA, loaded where there is none). ``resume`` continues a run,
from a file saved with ``buffer=True, rng=True`` or from a :class:`~rlbook.loop.Result` still in
memory (after Ctrl-C), exactly as the uninterrupted run would have gone on: the tests check the
learning curve and every parameter to the last bit on CPU.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import ddpg, dqn, sac, td3  # noqa: F401 - defining their agents registers them in AGENTS
from .agent import AGENTS, run_config
from .envs import env_factory
from .envstate import warn_unrestored
from .loop import Result, ResumeState, SeedResults, run_members, seeded_torch
from .validation import check_device

__all__ = ["load", "resume", "save"]

FORMAT = "rlbook-checkpoint"
# 2: the agent's declared state (state_dict), DQN included; 3: curve_seconds; 4: a batch of runs
# (train(..., seeds=...)) may be saved: its seeds, and one result and loop state per run;
# 5: the agent's training_state (its state_dict and each part's: noise, buffer), see
# _upgrade_state for the layout of 2 to 4
VERSION = 5
READABLE = (2, 3, 4, 5)  # a version-2 file has no curve_seconds: read as NaN, one per curve row


# numpy arrays travel as tagged tensors: weights_only loading refuses numpy objects
def _encode(x):
    if isinstance(x, np.ndarray):
        return {"__ndarray__": torch.from_numpy(np.ascontiguousarray(x).copy())}
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, dict):
        return {k: _encode(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return type(x)(_encode(v) for v in x)
    return x


def _decode(x: Any) -> Any:
    if isinstance(x, dict):
        if set(x) == {"__ndarray__"}:
            return x["__ndarray__"].numpy().copy()
        return {k: _decode(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return type(x)(_decode(v) for v in x)
    return x


def _upgrade_state(state: dict, agent_class, runs: int | None) -> dict:
    """A version-2 to 4 file's agent state in the layout of
    :meth:`~rlbook.agent.OffPolicyAgent.training_state` (version 5).

    Those files kept the parts' states side by side: ``noise_state`` (the OU value, stacked over
    the runs of a batch), ``buffer`` (positions and rows) and ``rng`` (the agent's, the buffer's
    and the noise's generators, lists over the runs of a batch)."""
    rng = state.get("rng")
    parts = {}
    if "buffer" in state:
        parts["buffer"] = dict(state["buffer"])
        if rng is not None:
            parts["buffer"]["rng"] = rng["buffer"]
    if "noise" in agent_class.state_parts:  # DDPG and TD3: OU or Gaussian noise
        values = state.get("noise_state")
        if runs is None:
            noise = {} if values is None else {"state": values}
            if rng is not None:
                noise["rng"] = rng["noise"]
        else:
            processes = [{} for _ in range(runs)]
            if values is not None:
                processes = [{"state": x} for x in values]
            noise = {"processes": processes}
            if rng is not None:
                for process, r in zip(noise["processes"], rng["noise"], strict=True):
                    process["rng"] = r
        parts["noise"] = noise
    upgraded = {"agent": state["agent"], "parts": parts}
    if rng is not None:  # a batch's agent generators were a bare list; a version-3 file also
        # holds torch's global state: not restored
        upgraded["rng"] = {"generator": rng["agent"]} if runs is not None else rng["agent"]
    return upgraded


def _episodes(saved) -> list[tuple[int, float]]:
    """A result's saved ``episodes`` as ``(step, return)`` tuples, whatever pairs the file holds."""
    return [(step, ret) for step, ret in saved]


def _run_record(result: Result) -> dict:
    return {
        "curve": result.curve,
        "episodes": result.episodes,
        "logs": result.logs,
        "curve_seconds": result.curve_seconds,
        "steps": result.steps,
        "wall_time": result.wall_time,
        "eval_time": result.eval_time,
        "interrupted": result.interrupted,
    }


def save(result: Result | SeedResults, path, *, buffer: bool = False, rng: bool = False) -> Path:
    """Write ``result`` (from ``train`` or ``resume``; a batch of runs too) to ``path``; see the
    module docstring.

    ``buffer=True, rng=True`` is what :func:`resume` needs to continue exactly; it saves the
    environment's snapshot too, and warns for each attribute of a wrapper the snapshot could not
    capture (:func:`rlbook.envstate.warn_unrestored`).
    """
    if not isinstance(result, Result | SeedResults):
        raise ValueError(f"result must be the Result that train returned; got {type(result)}")
    agent = result.agent
    batch = isinstance(result, SeedResults)
    resume = result.resume_state or ResumeState()
    loop = resume.loop if (buffer and rng) else None
    if loop is not None:
        for one in loop if isinstance(loop, list) else [loop]:  # a batch's: one per run
            warn_unrestored(one["env"], "a run resumed from this checkpoint")
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "algorithm": agent.name,
        "device": agent.device.type,
        "config": dataclasses.asdict(result.config),
        "env": resume.env if isinstance(resume.env, str) else None,
        "agent": agent.training_state(buffer=buffer, rng=rng),
        "loop": loop,
    }
    if batch:
        payload["seeds"] = list(result.seeds)
        payload["runs"] = [_run_record(run) for run in result.runs]
        payload["result"] = {k: getattr(result, k) for k in ("steps", "wall_time", "eval_time")}
        payload["result"]["interrupted"] = result.interrupted
    else:
        payload["result"] = _run_record(result)
    path = Path(path)
    torch.save(_encode(payload), path)
    return path


def load(path, env=None, *, device=None) -> Result | SeedResults:
    """Read a checkpoint written by :func:`save`; returns a :class:`~rlbook.loop.Result` whose
    ``agent`` is ready to act. ``env`` (an id, an instance or a factory) is needed only when the
    run was trained on an environment that was not given by its registered id.

    ``device`` (``"cpu"``, ``"cuda"``, ``"auto"``...) replaces the saved ``config.device``: the
    file's tensors are read onto the CPU (``map_location="cpu"``, which works whatever device saved
    them, and where the random states and the buffer's arrays must be) and the agent's networks,
    optimizer state and tensors are copied onto ``device``; the returned ``config`` says
    ``device``. A checkpoint saved with ``rng=True`` on another device type (``"cuda"`` for
    ``"cpu"``) is refused, with or without ``device``: that generator's state cannot continue on
    this device type."""
    device = check_device("device", device, allow_none=True)
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as err:  # noqa: BLE001 - torch raises many kinds on a damaged file
        raise ValueError(
            f"{path} is not a readable rlbook checkpoint (truncated, corrupted, or not written "
            f"by torch.save): {type(err).__name__}: {str(err).splitlines()[0][:200]}"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is a torch file but not an rlbook checkpoint")
    if payload.get("version") not in READABLE:
        raise ValueError(
            f"{path} is an rlbook checkpoint of version {payload.get('version')}; this rlbook "
            f"reads versions {', '.join(map(str, READABLE))}"
        )
    payload = _decode(payload)
    agent_class = AGENTS.get(payload["algorithm"])
    if agent_class is None:
        raise ValueError(f"{path}: unknown algorithm {payload['algorithm']!r}")
    saved_config = dict(payload["config"])
    if device is not None:
        saved_config["device"] = device
    else:  # the saved device may not exist here (a GPU run loaded on a laptop): say what to do
        try:
            check_device("config.device", saved_config.get("device", "auto"))
        except ValueError as err:
            raise ValueError(f"{path} was saved with {err}; pass device='cpu' to load") from None
    config = agent_class.config_class(**saved_config)
    env = payload["env"] if env is None else env
    if env is None:
        raise ValueError(
            f"{path} was trained on an environment given as an object, not an id: pass env="
        )
    make_env = env_factory(env)
    probe = make_env()
    seeds = payload.get("seeds")
    with seeded_torch(0):  # initial weights, overwritten below; the caller's generator kept
        agents = [
            agent_class(probe, config, np.random.SeedSequence(k)) for k in range(len(seeds or [0]))
        ]
    agent = agent_class.stack(agents) if seeds is not None else agents[0]
    probe.close()
    saved_on = payload.get("device", agent.device.type)
    if "rng" in payload["agent"] and saved_on != agent.device.type:
        asked = f"config.device {config.device!r}" if device is None else f"device={device!r}"
        raise ValueError(
            f"{path} holds the random state of a run on {saved_on!r}, and {asked} gives "
            f"{agent.device.type!r} here: a {saved_on} generator's state cannot continue on "
            f"{agent.device.type}. Resume on {saved_on} (load it with device={saved_on!r}), or "
            "save without rng=True to load the networks anywhere"
        )
    state = payload["agent"]
    if payload["version"] < 5:
        state = _upgrade_state(state, agent_class, None if seeds is None else len(seeds))
    agent.load_training_state(state)
    resume = ResumeState(env, payload["loop"], has_buffer="buffer" in state["parts"])
    if seeds is not None:  # a batch of runs
        result = SeedResults(agent=agent, config=config, seeds=seeds, resume_state=resume)
        for i, (run, saved) in enumerate(zip(result.runs, payload["runs"], strict=True)):
            for k, v in saved.items():
                setattr(run, k, v)
            run.episodes = _episodes(run.episodes)
            run.agent = agent.member(i)
        for k, v in payload["result"].items():
            setattr(result, k, v)
        return result
    saved = payload["result"]
    saved.setdefault("curve_seconds", [float("nan")] * len(saved["curve"]))  # a version-2 file
    result = Result(agent=agent, config=config, resume_state=resume, **saved)
    result.episodes = _episodes(result.episodes)
    return result


def resume(
    checkpoint, total_steps: int | None = None, *, env=None, progress=None, callback=None
) -> Result | SeedResults:
    """Continue a run (or a batch of runs) to ``total_steps`` (default: its config's) from a
    checkpoint file or from a :class:`~rlbook.loop.Result` or
    :class:`~rlbook.loop.SeedResults` in memory (e.g. one that Ctrl-C interrupted)."""
    in_memory = isinstance(checkpoint, Result | SeedResults)
    result = checkpoint if in_memory else load(checkpoint, env=env)
    resume_state = result.resume_state
    if resume_state is None or resume_state.loop is None:
        raise ValueError(
            "this run cannot be resumed: save it with buffer=True and rng=True (or it was stopped "
            "by a second Ctrl-C in the middle of a step)"
        )
    if not resume_state.has_buffer:
        raise ValueError("this checkpoint has no replay buffer: save it with buffer=True")
    env = resume_state.env if env is None else env
    if env is None:
        raise ValueError("pass env= (the run was trained on an environment given as an object)")
    total = result.config.total_steps if total_steps is None else total_steps
    result.interrupted = False
    if isinstance(result, SeedResults):
        c = result.config
        return run_members(
            result.agent,
            env_factory(env),
            total_steps=total,
            warmup_steps=c.warmup_steps,
            seed_seqs=None,
            eval_every=c.eval_every,
            eval_seeds=range(c.eval_episodes),
            progress=progress,
            result=result,
            callback=callback,
        )
    return run_config(result, env_factory(env), total, None, progress, callback)
