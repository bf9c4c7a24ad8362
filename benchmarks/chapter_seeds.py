"""Five seeds of the actor-critic chapters' experiments, as committed records.

Usage (from the repository root, after `make setup`):

    .venv/bin/python benchmarks/chapter_seeds.py            # every record, about 30-40 minutes
    .venv/bin/python benchmarks/chapter_seeds.py --only twin tau
    .venv/bin/python benchmarks/chapter_seeds.py --table    # print the records' summary

Each experiment trains five seeds as one batch (``train(..., seeds=...)``, one process, one
torch thread: seeds 1-5 for the main runs, whose chapters train seed 0 on the page; 0-4 for the
TD3 knobs) and records, per variant and seed, the learning curve (evaluation every 1,000
steps on the 10 starts ``reset(seed=i)``) and, where measured, the critic's bias. The chapters
plot these five seeds (thin lines, their mean and its 95% bootstrap interval). The experiments:

- ``ddpg``, ``td3``, ``sac``: the chapters' main runs, with :data:`rlbook.runners.LAPTOP`;
- ``twin``: TD3 with the settings of the chapter's knobs (:data:`rlbook.knobs.KNOB_TD3`: width
  64, gamma 0.98, tau 0.02) for ``--steps`` steps (default 20,000), with the critics' target rule
  varied: one critic, the minimum of two (TD3) or their mean, with target smoothing and the policy
  delay on; and DDPG's target (one critic, no smoothing, no delay). At every evaluation the
  callback :func:`rlbook.knobs.critic_bias` compares the first critic's estimate at the 10 start
  states with the discounted return the deterministic policy collects from them (500 steps);
- ``tau``: the same TD3 runs with the EMA rate tau in 0.005, 0.02 (the twin record's TD3 run),
  0.1 and 1.

Records go to ``code/rlbook/results/chapter-seeds/NAME.json`` (the chapters read them with
``rlbook.results.load_json("chapter-seeds", NAME)``), with the settings, the command, and the
CPU and commit that made them. The main runs also keep each seed's final actor (its parameters,
float32, ``NAME-actors.npz`` beside the record, keys ``"SEED/PARAMETER"``) and that actor's
returns on the 10 evaluation starts (``actor_returns``): :func:`rlbook.replay.recorded_actor`
builds it back, for the chapters' replays of the best and the worst seed. The batch's curve
and the actor alone round float32 differently (one stacked matrix product against one per
seed); where a policy is on the edge between two ways of swinging up, that changes a return by
hundreds, so the record keeps the returns of the actor as it is rebuilt.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from rlbook import ddpg, sac, td3
from rlbook.knobs import KNOB_TD3, critic_bias
from rlbook.loop import evaluate
from rlbook.runners import LAPTOP
from rlbook.sweep import cpu_summary

OUT = Path(__file__).resolve().parents[1] / "code" / "rlbook" / "results" / "chapter-seeds"
SEEDS = range(5)  # the TD3 knobs' records
MAIN_SEEDS = range(1, 6)  # the main runs': the chapters train seed 0 on the page
TWIN = {
    "none": dict(twin="none"),
    "min": dict(twin="min"),
    "mean": dict(twin="mean"),
    "ddpg": dict(twin="none", smoothing=False, policy_delay=1),
}
TAU = {"0.005": dict(tau=0.005), "0.02": dict(tau=0.02), "0.1": dict(tau=0.1), "1": dict(tau=1.0)}
MAIN = {"ddpg": ddpg, "td3": td3, "sac": sac}
EVAL_STARTS = range(10)  # the evaluation starts of the curves (the configs' eval_episodes)


def make_env():
    return gym.make("Pendulum-v1")


def commit() -> str:
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "code"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (code/ modified)" if dirty else "")


def run_variant(changes: dict, steps: int) -> dict:
    """TD3 with the knobs' settings and ``changes``, five seeds, the critic's bias measured."""
    config = td3.TD3Config(**{**KNOB_TD3, "total_steps": steps, **changes})
    return _record(td3, config, changes, critic_bias)


def run_main(name: str) -> dict:
    """A chapter's main run (:data:`LAPTOP` settings), five seeds."""
    module = MAIN[name]
    config = module.train.__globals__[f"{name.upper()}Config"](**LAPTOP[name], eval_every=1_000)
    return _record(module, config, {}, None, actors=OUT / f"{name}-actors.npz")


def _record(module, config, changes: dict, callback, actors: Path | None = None) -> dict:
    start = time.perf_counter()
    seeds = MAIN_SEEDS if callback is None else SEEDS
    batch = module.train("Pendulum-v1", config, seeds=seeds, progress=False, callback=callback)
    seconds = time.perf_counter() - start
    if actors is not None:  # each seed's final actor, taken out of the batch (``run.agent``)
        np.savez_compressed(
            actors,
            **{
                f"{seed}/{key}": value.detach().cpu().numpy()
                for seed, run in zip(batch.seeds, batch, strict=True)
                for key, value in run.agent.policy.state_dict().items()
            },
        )
    return {
        "changes": changes,
        "seconds": seconds,
        "runs": [
            {
                "seed": seed,
                "step": [row["step"] for row in run.curve],
                "return": [row["mean"] for row in run.curve],
                **(
                    {"actor_returns": evaluate(run.agent.act_batch, make_env, EVAL_STARTS).tolist()}
                    if actors is not None
                    else {}
                ),
                **(
                    {
                        "estimate": [log["estimate"] for log in run.logs],
                        "mc_return": [log["mc_return"] for log in run.logs],
                    }
                    if callback
                    else {}
                ),
            }
            for seed, run in zip(batch.seeds, batch, strict=True)
        ],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--only", nargs="+", choices=[*MAIN, "twin", "tau"], help="these only")
    parser.add_argument("--table", action="store_true", help="summarise the saved records")
    args = parser.parse_args(argv)
    experiments = {"twin": TWIN, "tau": TAU}
    names = args.only or [*MAIN, *experiments]
    if args.table:
        for name in names:
            record = json.loads((OUT / f"{name}.json").read_text())
            print(f"{name}: {record['command']} on {record['cpu']}")
            for variant, v in record["variants"].items():
                ret = np.array([r["return"] for r in v["runs"]])
                line = (
                    f"  {variant:6s} final return {ret[:, -1].mean():8.1f} ({v['seconds']:.0f} s)"
                )
                if "estimate" in v["runs"][0]:
                    bias = np.array([np.subtract(r["estimate"], r["mc_return"]) for r in v["runs"]])
                    line += (
                        f", bias at the end {bias[:, -1].mean():7.1f} {np.round(bias[:, -1], 1)}"
                    )
                print(line)
        return 0
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    made_by = {"commit": commit(), "cpu": cpu_summary()}
    command = f"python benchmarks/{Path(__file__).name} " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    done: dict = {}
    for name in names:
        if name in MAIN:
            main_run = run_main(name)
            record = {
                "command": command.strip(),
                **made_by,
                "settings": {**LAPTOP[name], "eval_every": 1_000},
                "seeds": list(MAIN_SEEDS),
                "variants": {name: main_run},
                "actors": f"{name}-actors.npz",
            }
            (OUT / f"{name}.json").write_text(json.dumps(record) + "\n")
            print(f"{name}: {main_run['seconds']:.0f} s", flush=True)
            continue
        variants = {}
        for variant, changes in experiments[name].items():
            key = td3.TD3Config(**{**KNOB_TD3, "total_steps": args.steps, **changes})
            if key in done:  # tau = 0.02 is the twin record's TD3 run
                variants[variant] = done[key]
                continue
            variants[variant] = done[key] = run_variant(changes, args.steps)
            print(f"{name} {variant}: {variants[variant]['seconds']:.0f} s", flush=True)
        record = {
            "command": command.strip(),
            **made_by,
            "settings": {**KNOB_TD3, "total_steps": args.steps},
            "seeds": list(SEEDS),
            "variants": variants,
        }
        (OUT / f"{name}.json").write_text(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
