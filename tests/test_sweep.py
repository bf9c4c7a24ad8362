"""The sweep runner: local processes, a Dask LocalCluster, and a crashing job that loses nothing."""

import json

import joblib
import pytest

from rlbook import td3
from rlbook.provenance import CPU_FLAGS
from rlbook.sweep import Job, load_records, sweep

TINY = dict(
    total_steps=300,
    warmup_steps=100,
    eval_every=100,
    eval_episodes=2,
    hidden=(8,),
    batch_size=16,
    threads=1,
)


def _jobs():
    return [
        Job("td3", seed=0, settings=dict(TINY), label="td3"),
        Job("ddpg", seed=1, settings={**TINY, "gamma": 2.0}, label="broken"),  # invalid: raises
        Job("sac", seed=0, settings=dict(TINY), label="sac"),
    ]


def _check(records):
    assert [r["name"] for r in records] == ["td3", "broken", "sac"]
    ok, broken = [records[0], records[2]], records[1]
    assert "gamma must be in [0, 1)" in broken["error"]
    for r in ok:
        assert r["error"] is None, r["error"]
        assert [c["step"] for c in r["curve"]] == [100, 200, 300]
        assert r["steps"] == 300 and r["steps_per_second"] > 0
        assert r["final_return"] < 0 and r["commit"] and r["versions"]["torch"]
        assert isinstance(r["cpu_bf16_native"], bool)  # one CPU model name, with or without bf16
        assert set(r["cpu_flags"]) <= set(CPU_FLAGS)


def test_sweep_in_local_processes_reports_a_crash_without_losing_the_others(tmp_path):
    records = sweep(_jobs(), n_jobs=2, out=tmp_path)
    _check(records)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["broken-seed1.json", "sac-seed0.json", "td3-seed0.json"]
    assert json.loads((tmp_path / "td3-seed0.json").read_text())["curve"] == records[0]["curve"]
    loaded = load_records(tmp_path)  # what the chapters read: failed runs left out
    assert sorted(loaded) == ["sac", "td3"] and loaded["td3"][0]["curve"] == records[0]["curve"]
    with pytest.raises(FileNotFoundError, match="no sweep records"):
        load_records(tmp_path / "missing")


def test_the_same_sweep_runs_unchanged_on_a_dask_cluster():
    distributed = pytest.importorskip("dask.distributed")
    local = sweep(_jobs()[:1], n_jobs=1)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster), joblib.parallel_config(backend="dask"):
            records = sweep(_jobs())
    _check(records)
    # same seed, same result, in whichever process it ran: bit-identical on purpose, the same
    # computation on the same machine (another CPU gives other digits)
    assert records[0]["curve"] == local[0]["curve"]


def test_bad_jobs_are_refused():
    with pytest.raises(ValueError, match="algorithm must be one of"):
        sweep([Job("ppo")])
    with pytest.raises(ValueError, match="seed"):
        sweep([Job("td3", seed=-1)])
    with pytest.raises(ValueError, match="n_jobs"):
        sweep([Job("td3")], n_jobs=0)


def test_every_pendulum_runner_returns_a_full_record():
    """PCL online and the offline FQI/NFQCA runners, tiny: curve, final return and timing."""
    small = dict(eval_episodes=2, final_episodes=2, hidden=(8,), threads=1)
    jobs = [
        Job("pcl", settings=dict(total_steps=400, eval_every=200, replay_updates=1, **small)),
        Job(
            "fqi", settings=dict(total_steps=300, iterations=3, eval_every=2, fit_steps=2, **small)
        ),
        Job(
            "nfqca",
            settings=dict(total_steps=300, iterations=2, eval_every=1, fit_steps=2, **small),
        ),
    ]
    pcl, fqi, nfqca = sweep(jobs)
    for r in (pcl, fqi, nfqca):
        assert r["error"] is None, r["error"]
        assert r["final_return"] < 0 and r["train_seconds"] > 0 and r["steps_per_second"] > 0
    assert [c["step"] for c in pcl["curve"]] == [200, 400] and pcl["steps"] == 400
    assert [c["step"] for c in fqi["curve"]] == [2, 3] and fqi["curve_axis"] == "iteration"
    assert [c["step"] for c in nfqca["curve"]] == [1, 2] and nfqca["steps"] == 300


def test_runner_settings_are_checked():
    records = sweep(
        [
            Job("pcl", settings=dict(total_steps=400, d=0)),
            Job("fqi", env="MountainCarContinuous-v0"),
            Job("sb3-td3", settings=dict(total_steps=400, lr_pi=3e-4)),
            Job("sb3-td3", settings=dict(total_steps=400, polyak=0.1)),
        ]
    )
    errors = [r["error"] for r in records]
    assert "d must be" in errors[0]
    assert "Pendulum-v1 dataset" in errors[1]
    # the peer's own checks (stable-baselines3 is pinned in requirements.txt: make test has it)
    assert "lr_pi must equal lr_q" in errors[2]
    assert "settings not understood by the SB3 TD3 peer: ['polyak']" in errors[3]


def test_seed_curves_stacks_the_seeds_and_refuses_mismatched_steps():
    from rlbook.sweep import seed_curves

    rec = [
        {
            "name": "x",
            "curve": [{"step": 1, "mean": m, "std": 0.0}, {"step": 2, "mean": m + 1, "std": 0.0}],
        }
        for m in (0.0, 2.0)
    ]
    steps, curves = seed_curves(rec)
    assert steps.tolist() == [1, 2] and curves.tolist() == [[0.0, 1.0], [2.0, 3.0]]
    rec[1]["curve"][1]["step"] = 3
    with pytest.raises(ValueError, match="differ in their steps"):
        seed_curves(rec)


def test_time_to_threshold_reads_the_first_evaluation_at_or_above_it():
    from rlbook.sweep import threshold_table, time_to_threshold

    def record(name, seed, means, seconds):
        curve = [{"step": 500 * (i + 1), "mean": m, "std": 0.0} for i, m in enumerate(means)]
        return dict(
            name=name,
            seed=seed,
            curve=curve,
            curve_seconds=seconds,
            final_return=means[-1],
            steps_per_second=100.0,
        )

    fast = record("td3", 0, [-900, -199.9, -300, -150], [1.0, 2.0, 3.0, 4.0])
    assert time_to_threshold(fast, -200) == (2.0, 1000)  # the first crossing, not a later one
    assert time_to_threshold(fast, -100) is None
    slow = record("sb3-td3", 0, [-900, -800, -200, -140], [10.0, 20.0, 30.0, 40.0])
    assert time_to_threshold(slow, -200) == (30.0, 1500)  # "reaches" includes equality
    text = threshold_table({"td3": [fast], "sb3-td3": [slow]}, -200, algos=("td3",))
    assert "15.0x" in text  # 30 s against 2 s
    with pytest.raises(ValueError, match="curve_seconds"):
        time_to_threshold({**fast, "curve_seconds": None}, -200)


def test_online_runs_record_the_training_seconds_of_each_evaluation():
    result = td3.train(
        "Pendulum-v1",
        total_steps=60,
        warmup_steps=20,
        batch_size=8,
        hidden=(8,),
        eval_every=20,
        eval_episodes=1,
        progress=False,
    )
    assert len(result.curve_seconds) == len(result.curve) == 3
    seconds = result.curve_seconds
    assert seconds[0] > 0 and all(b > a for a, b in zip(seconds, seconds[1:], strict=False))
    assert result.curve_seconds[-1] <= result.wall_time - result.eval_time + 1e-9
