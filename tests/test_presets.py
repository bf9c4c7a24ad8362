"""The presets module: one object per preset under every name it had, each documented, each a
valid set of settings for what it is for."""

from __future__ import annotations

import inspect
import re

import pytest

from rlbook import ddpg, fqi, knobs, pcl, presets, runners, sac, td3
from rlbook.pcl import PCLConfig

PRESETS = [name for name in presets.__all__ if isinstance(getattr(presets, name), dict)]


def test_old_names_are_the_same_objects():
    """The old names are re-exports, not copies: a copy could drift from the preset, and the tests
    and widgets that shrink ``knobs.KNOB_TD3`` in place must shrink what ``td3_seeds`` reads."""
    assert runners.LAPTOP is presets.LAPTOP
    assert runners.PENDULUM_TD3 is presets.PENDULUM_TD3
    assert runners.PENDULUM_SAC is presets.PENDULUM_SAC
    assert runners.pendulum_settings is presets.pendulum_settings
    assert knobs.KNOB_TD3 is presets.KNOB_TD3
    assert knobs.td3_runs.KNOB_TD3 is presets.KNOB_TD3
    assert fqi.PENDULUM is presets.FQI_PENDULUM
    assert pcl.PENDULUM is presets.PCL_PENDULUM


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_says_what_it_is_for_and_who_uses_it(name):
    source = inspect.getsource(presets)
    block = re.search(rf"((?:^#:.*\n)+){name}(?:: [^=]+)? = ", source, re.M)
    assert block, f"presets.{name} has no '#:' comment above it"
    assert "used" in block.group(1).lower(), f"presets.{name}'s comment does not say who uses it"


@pytest.mark.parametrize("algo", ["ddpg", "td3", "sac"])
def test_online_presets_build_their_configs(algo):
    config = {"ddpg": ddpg.DDPGConfig, "td3": td3.TD3Config, "sac": sac.SACConfig}[algo]
    config(**presets.LAPTOP[algo])
    config(**presets.pendulum_settings(algo))
    if algo != "ddpg":
        config(**presets.HALFCHEETAH[algo])


def test_other_presets_build_their_configs():
    td3.TD3Config(**presets.KNOB_TD3)
    PCLConfig(**{**presets.PCL_PENDULUM, **presets.LAPTOP["pcl"]})  # what pcl.train builds
    assert set(presets.FQI_PENDULUM) == {"n", "gamma", "iterations", "fit_steps", "lr", "hidden"}


def test_pendulum_settings_returns_a_copy():
    settings = presets.pendulum_settings("ddpg")
    settings["gamma"] = 0.5
    assert presets.PENDULUM_TD3["gamma"] == 0.98
    assert "target_update" not in presets.PENDULUM_TD3
