"""The committed benchmark records that the chapters show, shipped inside the package.

Each set is a folder of sweep records (one ``NAME-seedS.json`` per run, written by
:func:`rlbook.sweep.sweep`) beside this file, so a chapter opened alone (on Colab, with only
``pip install rlbook``) finds them::

    from rlbook import results
    groups = results.load("pendulum")     # {"ddpg": [record of seed 0, seed 1, ...], ...}

``benchmarks/pendulum.py`` writes them here, in the repository's ``code/rlbook/results/``
(``make benchmarks`` regenerates every set): ``pendulum`` (every algorithm, float32, with the SB3
peers) and ``pendulum-bf16`` (DDPG, TD3 and SAC with ``precision="bfloat16"``, with their SB3 peers).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..sweep import load_records

__all__ = ["FOLDER", "REGENERATE", "load", "load_json", "names", "path"]

#: the folder holding one subfolder per set of records
FOLDER = Path(__file__).resolve().parent

#: the command, from the repository root, that writes every set again
REGENERATE = "make benchmarks"


def names() -> list[str]:
    """The sets of records shipped with the package, e.g. ``["pendulum", "pendulum-bf16"]``."""
    return sorted(
        p.name for p in FOLDER.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))
    )


def path(name: str) -> Path:
    """The folder of the set ``name``; ``ValueError`` naming the available sets if there is none."""
    available = names()
    if not isinstance(name, str) or name not in available:
        raise ValueError(f"no result set {name!r} in rlbook.results; available: {available}")
    return FOLDER / name


def load(name: str) -> dict[str, list[dict]]:
    """The records of the set ``name`` grouped by run name and sorted by seed, failed runs left out
    (:func:`rlbook.sweep.load_records` on :func:`path`)."""
    folder = path(name)
    try:
        return load_records(folder)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"the result set {name!r} has no sweep records (*.json) in {folder}; "
            f"`{REGENERATE}` (from the repository root) writes them"
        ) from None


def load_json(name: str, record: str) -> dict:
    """The single record ``record`` (``record.json``) of the set ``name``: the experiments of
    ``benchmarks/chapter_seeds.py`` (set ``"chapter-seeds"``, records ``"td3"``, ``"twin"``...),
    which hold every seed of an experiment in one file, with the command that regenerates it."""
    file = path(name) / f"{record}.json"
    if not file.is_file():
        have = sorted(p.stem for p in path(name).glob("*.json"))
        raise ValueError(f"no record {record!r} in the result set {name!r}; available: {have}")
    return json.loads(file.read_text())
