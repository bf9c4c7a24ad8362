"""The state of a gymnasium environment, so that a resumed run continues where it stopped.

:func:`snapshot_env` records, for every layer of the wrapper stack and for the base environment,
its plain attributes (numbers, strings, arrays), the plain attributes of objects that hold only
such values (e.g. ``NormalizeObservation``'s running statistics, a ``RunningMeanStd``), and the
base environment's random generator; :func:`restore_env` puts them back into a freshly made
environment of the same stack. Any other attribute of any layer (a simulator handle, a model
object, a deque) gets a warning naming the layer and the attribute: a resumed run may not
restore it exactly. Attributes that are configuration rather than state (spaces, the spec,
generators handled separately, the wrapped ``env``, and containers such as ``_saved_kwargs``)
are passed over.
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np

__all__ = ["restore_env", "snapshot_env"]

_PLAIN = (bool, int, float, str, type(None), np.ndarray, np.generic)
_KNOWN = (gym.spaces.Space, gym.envs.registration.EnvSpec, np.random.Generator, dict, list, tuple)


def _layers(env):
    while True:
        yield env
        if not isinstance(env, gym.Wrapper):
            return
        env = env.env


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def _plain_object(value) -> dict | None:
    """The attributes of an object that holds only plain values (e.g. ``RunningMeanStd``)."""
    fields = getattr(value, "__dict__", None)
    if not fields or not all(isinstance(v, _PLAIN) for v in fields.values()):
        return None
    return {k: _copy(v) for k, v in fields.items()}


def snapshot_env(env: gym.Env) -> dict:
    """The state of ``env`` (see the module docstring); warns for what it cannot capture."""
    layers = []
    for layer in _layers(env):
        plain, nested = {}, {}
        for key, value in vars(layer).items():
            if isinstance(value, _PLAIN):
                plain[key] = _copy(value)
            elif key == "env" or isinstance(value, _KNOWN):
                continue
            elif (fields := _plain_object(value)) is not None:
                nested[key] = fields
            else:
                warnings.warn(
                    f"{type(layer).__name__}.{key} ({type(value).__name__}) is not a number, an "
                    f"array or an object of them: a resumed run may not restore the environment "
                    f"exactly",
                    stacklevel=3,
                )
        layers.append({"plain": plain, "nested": nested})
    rng = getattr(env.unwrapped, "_np_random", None)
    return {"layers": layers, "np_random": None if rng is None else rng.bit_generator.state}


def restore_env(env: gym.Env, snapshot: dict) -> None:
    """Put a :func:`snapshot_env` back into ``env``, a fresh environment of the same stack."""
    layers = list(_layers(env))
    if len(layers) != len(snapshot["layers"]):
        raise ValueError(
            f"the environment has {len(layers)} wrapper layers but the saved state has "
            f"{len(snapshot['layers'])}: resume with the environment the run was trained on"
        )
    for layer, saved in zip(layers, snapshot["layers"], strict=True):
        for key, value in saved["plain"].items():
            setattr(layer, key, _copy(value))
        for key, fields in saved["nested"].items():
            target = getattr(layer, key)
            for name, value in fields.items():
                setattr(target, name, _copy(value))
    if snapshot["np_random"] is not None:
        rng = np.random.default_rng()
        rng.bit_generator.state = snapshot["np_random"]
        env.unwrapped.np_random = rng
