"""HalfCheetah-v5 seen: rlbook's and SB3's TD3 and SAC policies running, for the Benchmarks chapter.

Two stages, from the repository root:

    nice -n 5 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/halfcheetah_clip.py train
    MUJOCO_GL=egl .venv/bin/python benchmarks/halfcheetah_clip.py render

``train`` runs seed 0 of rlbook TD3, SB3 TD3, rlbook SAC and SB3 SAC, one after the other, with
the settings of the committed 50,000-step records (``code/rlbook/results/mujoco-halfcheetah-50k``):
the very jobs of ``benchmarks/mujoco_tasks.py`` (its ``jobs_for``, the zoo's settings of
:data:`rlbook.presets.HALFCHEETAH`), run by :func:`rlbook.sweep.run_job` through the runners of
:mod:`rlbook.runners`. It keeps each final policy (the one the runner's final evaluation scores;
its weights go to ``--work``, default ``/tmp/halfcheetah-clip``, not committed) and plays one
deterministic episode with it from ``reset(seed=0)`` (:func:`rlbook.clip.rollout`), recording the
states ``qpos``/``qvel``, the actions and the rewards of its 1,000 steps. When the four are done
it writes ``code/rlbook/results/halfcheetah-clip/trajectories.npz`` and ``clip.json`` (each
policy's episode return and its run's record: curve and final return on the 10 starts of the
committed records; command, CPU, versions and commit). One run takes 6-8 minutes on a free core
(about 30 minutes for the four; 8-14 minutes each on 2026-12-05, beside other jobs on this 2-core
machine); a finished policy's files in ``--work`` are reused on a rerun. On the committed
records' CPU (torch's AVX512 kernels) the four runs gave back their seed-0 records to the last
digit: the same curves and final returns.

``render`` reads the trajectories alone: for each policy it sets MuJoCo's state to the recorded
``qpos`` of the first ``--frames`` steps (every ``--every``-th) and renders it off-screen
(``MUJOCO_GL=egl``: Mesa's EGL, software rendering, works without a display; ``osmesa`` too
where it is installed; the script sets ``egl`` unless ``MUJOCO_GL`` is set) from a camera that
follows the body sideways, at ``--width`` x ``--height``, on a lower-contrast floor than the
model's checker, without shadows (:func:`rlbook.clip.render_frames`), into one JPEG
sprite sheet per policy, ``code/rlbook/results/halfcheetah-clip/NAME.jpg`` (frames side by side).
The package ships them (``pyproject.toml``'s package-data) and :func:`rlbook.clip.cheetah_player`
plays them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np

os.environ.setdefault("MUJOCO_GL", "egl")  # before mujoco is imported: off-screen, no display

from rlbook import clip, runners  # noqa: E402
from rlbook.provenance import cpu_summary, record_header  # noqa: E402
from rlbook.sweep import run_job  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mujoco_tasks import jobs_for  # noqa: E402 - the committed records' jobs, beside this script

TASK = "HalfCheetah-v5"
STEPS = 50_000
OUT = Path(__file__).resolve().parents[1] / "code" / "rlbook" / "results" / "halfcheetah-clip"
#: the committed records of these runs (``mujoco_tasks.py``'s default folder)
RESULTS = OUT.parent / f"mujoco-halfcheetah-{STEPS // 1000}k"


def train_one(job, work: Path) -> dict:
    """Run ``job`` as the sweep runs it, keeping its final policy: the runners hand it to
    ``runners._final`` for the final evaluation (rlbook: the agent's ``act_batch``; SB3:
    ``model.predict(obs, deterministic=True)``), which is wrapped here to take it; the SB3 model
    is taken from ``runners.sb3_model`` to save its weights. Returns the run's record and the
    recorded episode."""
    kept: dict = {}
    final, make_sb3 = runners._final, runners.sb3_model

    def final_keeping(policy, env, final_episodes):
        kept["policy"] = policy
        return final(policy, env, final_episodes)

    def sb3_keeping(*args, **kwargs):
        model, settings = make_sb3(*args, **kwargs)
        kept["model"] = model
        return model, settings

    with (
        mock.patch.object(runners, "_final", final_keeping),
        mock.patch.object(runners, "sb3_model", sb3_keeping),
    ):
        record = run_job(job)
    if record["error"]:
        raise RuntimeError(f"{job.name} failed:\n{record['error']}")
    policy = kept["policy"]
    if "model" in kept:
        kept["model"].save(work / f"{job.name}.zip")
    else:
        import torch

        torch.save(policy.__self__.state_dict(), work / f"{job.name}.pt")
    episode = clip.rollout(policy, TASK, seed=0)
    return record, episode


def train(args) -> None:
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    jobs = jobs_for(TASK, ["td3", "sac"], seeds=1, steps=STEPS, eval_every=5_000, threads=1)
    print(f"{cpu_summary()}\n{len(jobs)} runs -> {work}", flush=True)
    for job in jobs:
        done = work / f"{job.name}.json"
        if done.exists():
            print(f"{job.name}: kept from {done}", flush=True)
            continue
        t0 = time.perf_counter()
        record, episode = train_one(job, work)
        np.savez(work / f"{job.name}.npz", **episode)
        done.write_text(json.dumps(record, indent=1, default=str))
        print(
            f"{job.name}: final return {record['final_return']:.1f} (10 starts), episode from "
            f"reset(seed=0) {episode['rewards'].sum():.1f}, {time.perf_counter() - t0:.0f} s",
            flush=True,
        )
    collect(work, [j.name for j in jobs])


def collect(work: Path, names: list[str]) -> None:
    """Write the committed trajectories (float32 states and actions, float64 rewards) and
    ``clip.json`` from the four finished policies in ``work``."""
    arrays, policies = {}, {}
    for name in names:
        episode = dict(np.load(work / f"{name}.npz"))
        record = json.loads((work / f"{name}.json").read_text())
        for key in ("qpos", "qvel", "actions"):
            arrays[f"{name}/{key}"] = episode[key].astype(np.float32)
        arrays[f"{name}/rewards"] = episode["rewards"].astype(np.float64)
        committed = RESULTS / f"{name}-seed0.json"
        same = None
        if committed.exists():  # does this run give back the committed record of seed 0?
            old = json.loads(committed.read_text())
            same = old["curve"] == record["curve"] and old["final_return"] == record["final_return"]
        policies[name] = {
            "episode_return": float(episode["rewards"].sum()),
            "same_as_committed_seed0": same,
            "record": {
                k: record[k]
                for k in (
                    "settings",
                    "curve",
                    "final_return",
                    "final_std",
                    "train_seconds",
                    "steps_per_second",
                )
            },
        }
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "trajectories.npz", **arrays)
    import mujoco
    import stable_baselines3

    header = record_header()
    header["versions"] |= {
        "mujoco": mujoco.__version__,
        "stable_baselines3": stable_baselines3.__version__,
    }
    meta = {
        "env": TASK,
        "seed": 0,
        "episode_start": "reset(seed=0)",
        "command": (
            "nice -n 5 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/halfcheetah_clip.py train"
        ),
        "cpu": cpu_summary(),
        **header,
        "policies": policies,
    }
    (OUT / "clip.json").write_text(json.dumps(meta, indent=1))
    print(f"wrote {OUT / 'trajectories.npz'} and clip.json", flush=True)


def render(args) -> None:
    data = np.load(OUT / "trajectories.npz")
    meta = json.loads((OUT / "clip.json").read_text())
    steps = np.arange(0, args.frames, args.every)
    for name in meta["policies"]:
        t0 = time.perf_counter()
        frames = clip.render_frames(
            data[f"{name}/qpos"][steps], TASK, width=args.width, height=args.height
        )
        path = OUT / f"{name}.jpg"
        size = clip.write_sprite(frames, path, quality=args.quality)
        print(
            f"{name}: {len(frames)} frames -> {path} ({size / 1000:.0f} kB, "
            f"{time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    meta["render"] = {
        "command": " ".join(
            ["MUJOCO_GL=egl .venv/bin/python benchmarks/halfcheetah_clip.py render", *sys.argv[2:]]
        ),
        "steps": steps.tolist(),
        "width": args.width,
        "height": args.height,
        "quality": args.quality,
    }
    (OUT / "clip.json").write_text(json.dumps(meta, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="stage", required=True)
    t = sub.add_parser("train", help="train the four policies and record their episodes")
    t.add_argument("--work", type=Path, default=Path("/tmp/halfcheetah-clip"))
    r = sub.add_parser("render", help="render the committed trajectories to JPEG sprites")
    r.add_argument("--frames", type=int, default=101, help="steps 0 to FRAMES - 1 shown")
    r.add_argument("--every", type=int, default=1, help="render every k-th step")
    r.add_argument("--width", type=int, default=176)
    r.add_argument("--height", type=int, default=112)
    r.add_argument("--quality", type=int, default=55, help="JPEG quality (Pillow, 1-95)")
    args = parser.parse_args()
    (train if args.stage == "train" else render)(args)


if __name__ == "__main__":
    main()
