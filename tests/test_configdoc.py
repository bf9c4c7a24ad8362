"""Every setting of the package is documented where ``help()`` shows it (rlbook.configdoc)."""

import dataclasses
import importlib
import inspect
import pydoc

import pytest

from rlbook import configdoc

MODULES = ["agent", "ddpg", "td3", "sac", "dqn", "pcl"]


def _config_classes():
    found = {}
    for module in (importlib.import_module(f"rlbook.{m}") for m in MODULES):
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and dataclasses.is_dataclass(obj) and name.endswith("Config"):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


CONFIGS = _config_classes()


def test_the_package_has_its_config_classes():
    names = {n.rsplit(".", 1)[1] for n in CONFIGS}
    assert {"OffPolicyConfig", "DDPGConfig", "TD3Config", "SACConfig", "DQNConfig"} <= names


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_field_has_a_comment_and_help_lists_it(name):
    cls = CONFIGS[name]
    comments = configdoc.field_comments(cls)
    missing = [field for field, text in comments.items() if not text]
    assert not missing, f"{name}: fields with no comment in the source: {missing}"
    text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    for field in dataclasses.fields(cls):
        assert f"{field.name} : " in text, f"help({name}) does not list {field.name}"


@pytest.mark.parametrize(
    "module, own",
    [
        ("ddpg", ["noise_sigma", "ou_theta", "target_update"]),
        ("td3", ["twin", "smoothing", "policy_delay"]),
        ("sac", ["alpha", "target_entropy"]),
        ("dqn", ["double"]),
        ("pcl", ["d", "unified", "episode_length"]),
    ],
)
def test_help_of_a_trainer_lists_its_own_settings(module, own):
    train = importlib.import_module(f"rlbook.{module}").train
    text = pydoc.render_doc(train, renderer=pydoc.plaintext)
    for field in own:
        assert f"{field} : " in text, f"help({module}.train) does not list {field}"


def test_comments_above_a_field_and_on_its_line_are_both_read():
    @dataclasses.dataclass(frozen=True)
    class Example:
        """An example."""

        # the first line of a long comment,
        # and its second
        a: int = 1
        # a heading of the fields below, not b's description
        b: float = 2.0  # on the line
        c: str = "x"

    comments = configdoc.field_comments(Example)
    assert comments == {
        "a": "the first line of a long comment, and its second",
        "b": "on the line",
        "c": "",
    }
    documented = configdoc.documented(Example)
    assert "a : int, default 1" in documented.__doc__
    assert "c : str, default 'x'\n    (undocumented)" in documented.__doc__


def test_a_class_that_is_not_a_dataclass_is_refused():
    with pytest.raises(TypeError, match="cls must be a dataclass"):
        configdoc.field_comments(int)
