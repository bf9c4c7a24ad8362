"""The state of a gymnasium environment, so that a resumed run continues where it stopped.

:func:`snapshot_env` records, for every layer of the wrapper stack and for the base environment,
its plain attributes (numbers, strings, arrays, and dicts, lists and tuples of them), the plain
attributes of objects that hold only such values (e.g. ``NormalizeObservation``'s running
statistics, a ``RunningMeanStd``), and the state of every numpy random generator it holds (the
base environment's ``_np_random``, a noise wrapper's own); :func:`restore_env` puts them back into a freshly made
environment of the same stack. Any other attribute of any layer (a simulator handle, a model
object, a deque) gets a warning naming the layer and the attribute: a resumed run may not
restore it exactly. Attributes that are configuration rather than state (spaces, the spec,
the metadata, the wrapped ``env``, ``_saved_kwargs``) are passed over. Arrays shared between
layers are restored as separate copies.
"""

from __future__ import annotations

import copy
import warnings

import gymnasium as gym
import numpy as np

__all__ = ["restore_env", "snapshot_env"]

_PLAIN = (bool, int, float, str, type(None), np.ndarray, np.generic)
_CONFIG = (gym.spaces.Space, gym.envs.registration.EnvSpec)
#: attributes that configure a layer rather than hold its state
_CONFIG_KEYS = {"env", "_saved_kwargs", "metadata", "_metadata", "spec", "_cached_spec"}


def _layers(env):
    while True:
        yield env
        if not isinstance(env, gym.Wrapper):
            return
        env = env.env


def _copy(value):
    return copy.deepcopy(value) if isinstance(value, np.ndarray | dict | list | tuple) else value


def _all_plain(value) -> bool:
    """A number, string, array, or a dict/list/tuple of them (nested)."""
    if isinstance(value, dict):
        return all(isinstance(k, _PLAIN) and _all_plain(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_all_plain(v) for v in value)
    return isinstance(value, _PLAIN)


def _plain_object(value) -> dict | None:
    """The attributes of an object that holds only plain values (e.g. ``RunningMeanStd``)."""
    fields = getattr(value, "__dict__", None)
    if not fields or not all(_all_plain(v) for v in fields.values()):
        return None
    return {k: _copy(v) for k, v in fields.items()}


def snapshot_env(env: gym.Env) -> dict:
    """The state of ``env`` (see the module docstring); warns for what it cannot capture."""
    layers = []
    for layer in _layers(env):
        saved = {"plain": {}, "nested": {}, "generators": {}}
        for key, value in vars(layer).items():
            if key in _CONFIG_KEYS or isinstance(value, _CONFIG):
                continue
            if isinstance(value, np.random.Generator):
                saved["generators"][key] = copy.deepcopy(value.bit_generator.state)
            elif _all_plain(value):
                saved["plain"][key] = _copy(value)
            elif (fields := _plain_object(value)) is not None:
                saved["nested"][key] = fields
            else:
                warnings.warn(
                    f"{type(layer).__name__}.{key} ({type(value).__name__}) is not a number, an "
                    f"array, a container or an object of them: a resumed run may not restore the "
                    f"environment exactly",
                    stacklevel=3,
                )
        layers.append(saved)
    return {"layers": layers}


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
        for key, state in saved["generators"].items():
            rng = np.random.default_rng()
            rng.bit_generator.state = state
            setattr(layer, key, rng)  # the attribute itself, not a setter that resets a seed
