"""The TD3 chapter's two experiments over five seeds: twin critics (the critic's bias) and tau.

Usage (from the repository root, after `make setup`):

    .venv/bin/python benchmarks/td3_knobs.py            # both records, about 20-30 minutes
    .venv/bin/python benchmarks/td3_knobs.py --table    # print the records' summary

Every run uses the settings of the chapter's knobs (:data:`rlbook.knobs.KNOB_TD3`: networks of
width 64, gamma 0.98, evaluation every 1,000 steps on the 10 starts ``reset(seed=i)``) for
``--steps`` environment steps (default 20,000), the seeds 0-4 trained as one batch
(``rlbook.td3.train(..., seeds=range(5))``). At every evaluation the callback
:func:`rlbook.knobs.critic_bias` compares the first critic's estimate at the 10 start states with
the discounted return the deterministic policy collects from them (500-step rollouts).

- ``twin``: the critics' target rule: one critic, the minimum of two (TD3) or their mean, with
  target smoothing and the policy delay on; and DDPG's target (one critic, no smoothing, no delay).
- ``tau``: the EMA rate tau in 0.005, 0.02 (the twin record's TD3 run), 0.1 and 1.

Records go to ``code/rlbook/results/td3-knobs/`` (one JSON per experiment; the chapter reads them
with ``rlbook.results.load_json``): per variant and seed, the learning curve, the estimates and
Monte Carlo returns, the settings, and the CPU and commit that made them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from rlbook import td3
from rlbook.knobs import KNOB_TD3, critic_bias
from rlbook.sweep import cpu_summary

OUT = Path(__file__).resolve().parents[1] / "code" / "rlbook" / "results" / "td3-knobs"
SEEDS = range(5)
TWIN = {
    "none": dict(twin="none"),
    "min": dict(twin="min"),
    "mean": dict(twin="mean"),
    "ddpg": dict(twin="none", smoothing=False, policy_delay=1),
}
TAU = {"0.005": dict(tau=0.005), "0.02": dict(tau=0.02), "0.1": dict(tau=0.1), "1": dict(tau=1.0)}


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
    config = td3.TD3Config(**{**KNOB_TD3, "total_steps": steps, **changes})
    start = time.perf_counter()
    batch = td3.train("Pendulum-v1", config, seeds=SEEDS, progress=False, callback=critic_bias)
    return {
        "changes": changes,
        "seconds": time.perf_counter() - start,
        "runs": [
            {
                "seed": seed,
                "step": [row["step"] for row in run.curve],
                "return": [row["mean"] for row in run.curve],
                "estimate": [log["estimate"] for log in run.logs],
                "mc_return": [log["mc_return"] for log in run.logs],
            }
            for seed, run in zip(batch.seeds, batch, strict=True)
        ],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--only", choices=["twin", "tau"], help="make one record only")
    parser.add_argument("--table", action="store_true", help="summarise the saved records")
    args = parser.parse_args(argv)
    experiments = {"twin": TWIN, "tau": TAU}
    names = [args.only] if args.only else list(experiments)
    if args.table:
        for name in names:
            record = json.loads((OUT / f"{name}.json").read_text())
            print(f"{name}: {record['command']} on {record['cpu']}")
            for variant, v in record["variants"].items():
                bias = np.array([np.subtract(r["estimate"], r["mc_return"]) for r in v["runs"]])
                ret = np.array([r["return"] for r in v["runs"]])
                print(
                    f"  {variant:6s} final return {ret[:, -1].mean():8.1f} "
                    f"bias at the end {bias[:, -1].mean():7.1f} (seeds: {np.round(bias[:, -1], 1)})"
                )
        return 0
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    made_by = {"commit": commit(), "cpu": cpu_summary()}
    command = "python benchmarks/td3_knobs.py " + " ".join(sys.argv[1:] if argv is None else argv)
    done: dict = {}
    for name in names:
        variants = {}
        for variant, changes in experiments[name].items():
            key = json.dumps(
                {**changes, "tau": changes.get("tau", KNOB_TD3["tau"])}, sort_keys=True
            )
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
