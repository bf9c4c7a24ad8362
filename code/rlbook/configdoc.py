"""Settings documented where ``help()`` shows them.

Each field of the book's config dataclasses is explained by a comment in the source, on its line
or, when its line has none, in the comment lines just above it (one place to write it, beside the
value it explains); comment lines above a field that has its own comment head a group of fields.
:func:`documented` copies those comments into the class's docstring as a ``Parameters`` section,
and :func:`trainer_parameters` into a trainer's, so that ``help(rlbook.td3.TD3Config)`` and
``help(rlbook.td3.train)`` list every setting with its type, default and meaning::

    @documented
    @dataclass(frozen=True)
    class TD3Config(DDPGConfig):
        twin: str = "min"  # "min" (TD3), "mean" or "none" (a single critic)

Inherited fields come with the comment of the class that declares them. A field with no comment
is listed with its type and default only (a test of the package checks that none is left so).
When the source cannot be read (a frozen application), the docstrings stay as written.
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import textwrap
import tokenize
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["documented", "field_comments", "parameters_section", "trainer_parameters"]

T = TypeVar("T", bound=type)
F = TypeVar("F", bound=Callable[..., Any])


def _class_comments(cls: type) -> dict[str, str]:
    """The comments of the fields declared in ``cls``'s own body (not inherited ones)."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    lines = source.splitlines()
    comments: dict[int, str] = {}  # line number (1-based) -> comment text
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#:").strip()
    declared = {
        name for name, value in vars(cls).get("__annotations__", {}).items() if value is not None
    }
    out: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        name = stripped.split(":", 1)[0].strip()
        if not (name in declared and ":" in stripped and line.startswith((" ", "\t"))):
            continue
        above = []
        k = number - 1
        while k >= 1 and lines[k - 1].strip().startswith("#"):
            above.insert(0, comments.get(k, ""))
            k -= 1
        # a comment on the field's line is its description, and comment lines above it are then
        # a heading of the group it opens; a field with none on its line is described above it
        parts = [comments[number]] if number in comments else above
        out.setdefault(name, " ".join(p for p in parts if p))
    return out


def field_comments(cls: type) -> dict[str, str]:
    """Every field of the dataclass ``cls`` (inherited ones too) with its source comment."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"cls must be a dataclass; got {cls!r}")
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if dataclasses.is_dataclass(klass):
            out.update({k: v for k, v in _class_comments(klass).items() if v})
    return {f.name: out.get(f.name, "") for f in dataclasses.fields(cls)}


def _default(field: dataclasses.Field) -> str:
    if field.default is not dataclasses.MISSING:
        return repr(field.default)
    if field.default_factory is not dataclasses.MISSING:
        return repr(field.default_factory())
    return "required"


def parameters_section(cls: type, title: str = "Parameters") -> str:
    """The ``Parameters`` section of ``cls``'s docstring: one entry per field, numpydoc style."""
    comments = field_comments(cls)
    rows = [title, "-" * len(title)]
    for field in dataclasses.fields(cls):
        kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
        rows.append(f"{field.name} : {kind}, default {_default(field)}")
        text = comments[field.name] or "(undocumented)"
        rows.extend("    " + line for line in textwrap.wrap(text, 92))
    return "\n".join(rows)


def _append(doc: str | None, section: str) -> str:
    return (inspect.cleandoc(doc or "") + "\n\n" + section).strip()


def documented(cls: T) -> T:
    """Class decorator: append the ``Parameters`` section of its fields to ``cls.__doc__``."""
    cls.__doc__ = _append(cls.__doc__, parameters_section(cls))
    return cls


_CONTRACT = {
    "env": (
        "str, callable or gymnasium.Env",
        "an environment id, a factory (``lambda: MyEnv()``), or an environment made with "
        "``gymnasium.make`` (the default is in the signature)",
    ),
    "config": (
        "{name} or None",
        "the settings (default: ``{name}()``); the keyword overrides below change single fields",
    ),
    "seed": ("int, default 0", "the run's seed: same seed, same run, on one machine"),
    "seeds": (
        "iterable of int or None",
        "train one run per seed in one process, as one batch, and return a ``SeedResults``; "
        "each run is independent of the others (bit for bit the batch of its seed alone) and "
        "starts as ``train(seed=i)`` does, from which it then differs by float rounding only",
    ),
    "progress": (
        "bool or None",
        "a tqdm progress bar; ``None`` shows it unless the environment variable "
        "``RLBOOK_PROGRESS`` is ``0`` (the book's build sets it)",
    ),
    "callback": (
        "callable(agent, step) -> dict or None",
        "runs after every evaluation; the dicts it returns are collected in ``Result.logs``",
    ),
}


def trainer_parameters(
    config_class: type, own: dict[str, tuple[str, str]] | None = None
) -> Callable[[F], F]:
    """Decorator of a trainer ``train(env, config=None, *, seed, ..., **overrides)``: appends the
    one calling contract of the book's trainers (the parameters the trainer has) and the settings
    of ``config_class``, which ``config`` holds and ``**overrides`` may change. ``own`` maps a
    parameter to ``(type, meaning)`` where the trainer's differs from the contract's, or adds one
    the contract lacks."""

    def decorate(func: F) -> F:
        name = config_class.__name__
        accepted = inspect.signature(func).parameters
        rows = ["Parameters", "----------"]
        for param, (kind, text) in {**_CONTRACT, **(own or {})}.items():
            if param in accepted:
                rows.append(f"{param} : {kind.format(name=name)}")
                rows.extend("    " + line for line in textwrap.wrap(text.format(name=name), 92))
        rows += ["**overrides", f"    any field of {name}, by name (below)"]
        section = parameters_section(
            config_class, title=f"Settings (fields of {name}: in config or as overrides)"
        )
        func.__doc__ = _append(func.__doc__, "\n".join(rows) + "\n\n" + section)
        return func

    return decorate
