"""The batched path of the sweep and of the benchmark scripts: a ``BatchJob`` trains several
seeds in one process and writes one record per seed that says so; the time-to-threshold tables
read single and batched records alike (``benchmarks/time_to_threshold.py --table`` on a folder
holding both)."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from rlbook.sweep import (
    BatchJob,
    Job,
    load_records,
    seed_set_table,
    seeds_to_threshold,
    sweep,
    threshold_table,
)

pytestmark = pytest.mark.usefixtures("one_thread")

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(
    total_steps=300,
    warmup_steps=100,
    eval_every=100,
    eval_episodes=2,
    final_episodes=2,
    hidden=(8,),
    batch_size=16,
    threads=1,
)


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "benchmarks"))  # pendulum.py imports tables.py beside it
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return module


def test_a_batch_job_writes_a_record_per_seed_that_names_its_path(tmp_path):
    records = sweep(
        [BatchJob("td3", (0, 3), settings=dict(TINY))], out=tmp_path, command="python b.py"
    )
    assert [r["seed"] for r in records] == [0, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["td3-seed0.json", "td3-seed3.json"]
    for r in records:
        assert r["error"] is None, r["error"]
        assert r["name"] == "td3" and r["path"] == "batched"
        assert r["batch_seeds"] == [0, 3] and r["batch_size"] == 2
        assert r["clock"].startswith("shared") and r["command"] == "python b.py"
        assert [c["step"] for c in r["curve"]] == [100, 200, 300]
        assert r["steps"] == 300 and r["final_return"] < 0 and r["commit"] and r["versions"]
    zero, three = records
    # a curve per seed, its own: seed 3's is that of the batch of seed 3 alone, bit for bit
    alone = sweep([BatchJob("td3", (3,), settings=dict(TINY))])[0]
    assert three["curve"] == alone["curve"] and three["final_return"] == alone["final_return"]
    assert zero["curve"] != three["curve"]
    # one clock for the batch: the same training seconds at every evaluation, for every seed
    assert zero["curve_seconds"] == three["curve_seconds"]
    assert zero["train_seconds"] == three["train_seconds"] >= zero["curve_seconds"][-1]
    assert json.loads((tmp_path / "td3-seed3.json").read_text())["curve"] == three["curve"]
    assert [r["seed"] for r in load_records(tmp_path)["td3"]] == [0, 3]
    single = sweep([Job("td3", 3, settings=dict(TINY))])[0]
    assert single["path"] == "single" and "batch_seeds" not in single


def test_a_failed_batch_reports_every_seed_and_bad_batches_are_refused():
    records = sweep([BatchJob("sac", (0, 1), settings={**TINY, "gamma": 2.0})])
    assert [r["seed"] for r in records] == [0, 1]
    assert all("gamma must be in [0, 1)" in r["error"] for r in records)
    with pytest.raises(ValueError, match="BatchJob's algorithm must be one of"):
        sweep([BatchJob("pcl", (0, 1))])
    with pytest.raises(ValueError, match="seeds must name at least one seed"):
        sweep([BatchJob("td3", ())])
    with pytest.raises(ValueError, match="seeds must be an iterable of integers"):
        sweep([BatchJob("td3", 5)])  # pyright: ignore[reportArgumentType]
    with pytest.raises(ValueError, match="seeds must name seeds"):
        sweep([BatchJob("td3", "01")])  # pyright: ignore[reportArgumentType]
    with pytest.raises(ValueError, match="must not repeat"):
        sweep([BatchJob("td3", (1, 1))])
    with pytest.raises(ValueError, match="seeds"):
        sweep([BatchJob("td3", (0, -1))])


def _record(seed, hit, train_seconds=10.0, batch=None, name="td3"):
    """A run whose mean return first reaches -200 at ``hit`` training seconds (None: never)."""
    seconds = [1.0, hit if hit is not None else 5.0, train_seconds]
    means = [-900.0, -150.0 if hit is not None else -900.0, -140.0 if hit else -800.0]
    r = dict(
        name=name,
        seed=seed,
        curve=[{"step": 500 * (k + 1), "mean": m, "std": 0.0} for k, m in enumerate(means)],
        curve_seconds=seconds,
        train_seconds=train_seconds,
        final_return=means[-1],
        steps_per_second=100.0,
    )
    if batch is not None:
        r.update(path="batched", batch_seeds=batch, batch_size=len(batch))
    return r


def test_seeds_to_threshold_schedules_single_runs_and_shares_a_batch_clock():
    runs = [_record(0, 2.0), _record(1, 3.0), _record(2, 4.0)]
    one = seeds_to_threshold(runs, -200, processes=1)  # one after another, each stopped at -200
    assert one["seconds"] == {0: 2.0, 1: 5.0, 2: 9.0} and one["all"] == 9.0
    assert one["mean"] == pytest.approx(16 / 3) and one["path"] == "single"
    two = seeds_to_threshold(runs, -200, processes=2)  # seed 2 waits for the first free process
    assert two["seconds"] == {0: 2.0, 1: 3.0, 2: 6.0} and two["all"] == 6.0
    # a run that never reaches it holds its process for its whole training time
    late = seeds_to_threshold([_record(0, None, 10.0), _record(1, 1.0)], -200, processes=1)
    assert late["seconds"][1] == 11.0 and math.isinf(late["all"])
    batch = [_record(s, t, batch=[0, 1, 2]) for s, t in enumerate((2.0, 3.0, 4.0))]
    shared = seeds_to_threshold(batch, -200, processes=2)
    assert shared["seconds"] == {0: 2.0, 1: 3.0, 2: 4.0} and shared["mean"] == 3.0
    assert shared["path"] == "batched"
    with pytest.raises(ValueError, match="processes"):
        seeds_to_threshold(runs, -200, processes=0)


def test_the_tables_read_a_folder_of_batched_and_single_records(tmp_path):
    """``time_to_threshold.py --table`` on a folder with rlbook's TD3 batched, rlbook's SAC as
    single runs and SB3's TD3 as records from before ``path`` existed, and a second folder with
    rlbook's TD3 as single runs."""
    out, single = tmp_path / "set", tmp_path / "single"
    out.mkdir()
    single.mkdir()
    records = {
        out: [_record(s, t, batch=[0, 1]) for s, t in ((0, 2.0), (1, 3.0))]
        + [_record(s, t, name="sac") for s, t in ((0, 1.0), (1, 1.5))]
        + [_record(s, t, 40.0, name="sb3-td3") for s, t in ((0, 20.0), (1, 30.0))],
        single: [_record(s, t) for s, t in ((0, 1.0), (1, 2.0))],
    }
    for folder, rs in records.items():
        for r in rs:
            (folder / f"{r['name']}-seed{r['seed']}.json").write_text(json.dumps(r))
    groups, ones = load_records(out), load_records(single)
    text = threshold_table(groups, -200)
    assert "td3  rlbook batch " in text and "sac  rlbook laptop" in text
    assert "their seconds on its clock" in text
    assert "SB3-zoo / rlbook-batch time to -200: 10.0x" in text  # 25 s against 2.5 s
    table = seed_set_table(groups, -200, single=ones).splitlines()
    rows = {line[:25].rstrip() + f" {line.split()[-4]}": line.split()[-3:] for line in table[1:-2]}
    assert rows["td3  rlbook, 1 batch 1"] == ["3.0s", "2.5s", "2/2"]  # the batch's clock
    assert rows["td3  rlbook, single runs 1"] == ["3.0s", "2.0s", "2/2"]  # 1 s, then 1 + 2 s
    assert rows["td3  rlbook, single runs 2"] == ["2.0s", "1.5s", "2/2"]
    assert rows["td3  SB3, single runs 2"] == ["30.0s", "25.0s", "2/2"]
    assert rows["sac  rlbook, single runs 1"] == ["2.5s", "1.8s", "2/2"]
    assert max(len(line) for line in table) <= 80  # the chapter prints it
    final = _script("tables").final_table(groups).splitlines()  # pendulum.py's table
    assert final[0].endswith("path") and final[1].startswith("sac ") and final[1].endswith("single")
    assert final[3].startswith("td3 ") and final[3].endswith("batched")
    done = subprocess.run(
        [sys.executable, "benchmarks/time_to_threshold.py", "--table", "--out", str(out)]
        + ["--single", str(single)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert text in done.stdout and "\n".join(table) in done.stdout


def test_the_scripts_batched_option_makes_one_batch_job_per_algorithm():
    threshold = _script("time_to_threshold")
    jobs = threshold.jobs_for(["td3", "sac"], 3, threads=1, batched=True)
    batches = [j for j in jobs if isinstance(j, BatchJob)]
    assert [(j.algorithm, j.seeds) for j in batches] == [("td3", (0, 1, 2)), ("sac", (0, 1, 2))]
    single = threshold.jobs_for(["td3", "sac"], 3, threads=1)
    assert batches[0].settings == single[0].settings  # the same runs, batched
    assert [j.name for j in jobs[2:]] == [j.name for j in single if j.name.startswith("sb3")]
    assert threshold.jobs_for(["td3"], 3, threads=1, batched=True, sb3=False) == batches[:1]
    pendulum = _script("pendulum")
    jobs = pendulum.jobs_for(["td3", "sb3-td3", "fqi"], 2, 1000, [1], 1, batched=True)
    assert isinstance(jobs[0], BatchJob) and jobs[0].seeds == (0, 1)
    assert [j.name for j in jobs[1:]] == ["sb3-td3", "fqi", "sb3-td3", "fqi"]
    single = pendulum.jobs_for(["td3"], 2, 1000, [1], 1)
    assert jobs[0].settings == single[0].settings
    assert pendulum.files(jobs[0]) == ["td3-seed0.json", "td3-seed1.json"]
