"""rlbook.results: the committed benchmark records ship inside the package, where the chapters
read them (a chapter opened alone on Colab has nothing else of the repository)."""

import importlib.util
from pathlib import Path

import pytest

from rlbook import results

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "code" / "rlbook"


def test_the_sets_the_chapters_read_load_grouped_by_run_and_sorted_by_seed():
    assert {"pendulum", "pendulum-bf16"} <= set(results.names())
    groups = results.load("pendulum")
    for name in ("ddpg", "td3", "sac", "sb3-ddpg", "sb3-td3", "sb3-sac", "pcl-d5", "fqi", "nfqca"):
        seeds = [r["seed"] for r in groups[name]]
        assert seeds == sorted(seeds) and len(seeds) >= 1, name
        assert all(r["error"] is None and r["curve"] for r in groups[name])
    bf16 = results.load("pendulum-bf16")
    assert {"ddpg-bf16", "td3-bf16", "sac-bf16", "sb3-td3"} <= set(bf16)
    assert results.path("pendulum") == PACKAGE / "results" / "pendulum"


def test_an_unknown_set_is_refused_with_the_available_ones():
    with pytest.raises(
        ValueError, match=r"no result set 'pendulum-v2'.*'pendulum', 'pendulum-bf16'"
    ):
        results.load("pendulum-v2")
    with pytest.raises(ValueError, match="available"):
        results.path("../results")


def test_an_empty_set_says_how_to_write_it(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.setattr(results, "FOLDER", tmp_path)
    assert results.names() == ["empty"]
    with pytest.raises(FileNotFoundError, match=r"'empty' has no sweep records.*make benchmarks"):
        results.load("empty")


def test_every_data_file_of_the_package_is_package_data():
    """What pyproject's package-data lists is what a non-editable install (a wheel) contains."""
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = {
        path
        for package, globs in config["package-data"].items()
        for glob in globs
        for path in (ROOT / "code" / package.replace(".", "/")).glob(glob)
    }
    data = {p for p in PACKAGE.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")}
    assert any(p.suffix == ".json" for p in data)
    missing = sorted(str(p.relative_to(PACKAGE)) for p in data - listed)
    assert not missing, f"not in pyproject's [tool.setuptools.package-data]: {missing}"


def test_the_benchmark_script_writes_where_the_package_reads():
    spec = importlib.util.spec_from_file_location(
        "pendulum_benchmark", ROOT / "benchmarks" / "pendulum.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    # one place: the script writes the folder the (editable, as `make setup` installs it) package reads
    assert script.RESULTS == results.FOLDER
    assert set(script.SETS.values()) <= set(results.names())
