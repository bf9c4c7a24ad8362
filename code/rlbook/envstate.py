"""The state of a gymnasium environment, so that a resumed run continues where it stopped.

:func:`snapshot_env` records, for every layer of the wrapper stack and for the base environment,
its plain attributes (numbers, strings, arrays, and dicts, lists and tuples of them), the plain
attributes of objects that hold only such values (e.g. ``NormalizeObservation``'s running
statistics, a ``RunningMeanStd``), and the state of every numpy random generator it holds (the
base environment's ``_np_random``, a noise wrapper's own); :func:`restore_env` puts them back into a freshly made
environment of the same stack. Any other attribute of any layer (a simulator handle, a model
object, a deque) is listed in the snapshot's ``"unrestored"`` entry, naming the layer and the
attribute; :func:`warn_unrestored` warns about them where it matters, when the snapshot is used
to continue a run (a checkpoint saved with it, a resumed run), not at the end of every training
run. Attributes that are configuration rather than state (spaces, the spec, the metadata, the
wrapped ``env``, ``_saved_kwargs``) are passed over. Arrays shared between layers are restored as
separate copies.
"""

from __future__ import annotations

import copy
import warnings

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import EnvSpec

__all__ = ["restore_env", "snapshot_env", "warn_unrestored"]

_PLAIN = (bool, int, float, str, type(None), np.ndarray, np.generic)
_CONFIG = (gym.spaces.Space, EnvSpec)
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
    """The state of ``env`` (see the module docstring), with the list ``"unrestored"`` of what it
    cannot capture (``"Layer.attribute (type)"``); it does not warn (:func:`warn_unrestored`)."""
    layers, unrestored = [], []
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
                unrestored.append(f"{type(layer).__name__}.{key} ({type(value).__name__})")
        layers.append(saved)
    return {"layers": layers, "unrestored": unrestored}


def warn_unrestored(snapshot: dict, where: str, stacklevel: int = 2) -> None:
    """One warning per attribute ``snapshot`` could not capture; ``where`` names what the snapshot
    is used for (e.g. ``"a run resumed from this checkpoint"``). ``stacklevel`` as for
    :func:`warnings.warn`, counted from the caller of this function."""
    for item in snapshot.get("unrestored", ()):  # a snapshot saved before the list: nothing known
        warnings.warn(
            f"{item} is not a number, an array, a container or an object of them: {where} may "
            f"not restore the environment exactly",
            stacklevel=stacklevel + 1,
        )


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
