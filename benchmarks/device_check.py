"""The CUDA path, checked where a GPU is present (Colab readers often have one; CI never does).

    .venv/bin/python benchmarks/device_check.py [--steps 5000] [--skip-tests]

Where ``torch.cuda.is_available()``: runs the unit tests whose agents take the default device
(``device="auto"`` is CUDA there) on the GPU, trains TD3 and SAC on Pendulum-v1 for ``--steps``
steps with the zoo settings (``rlbook.presets.pendulum_settings``) on ``cuda`` and on ``cpu``, and
stable-baselines3's on the same GPU if it is installed (``pip install -e ".[bench]"``), and prints
steps per second side by side, with the precision that ``precision="auto"`` picks on each device
(``rlbook.agent.resolve_precision``). Without CUDA it says so and exits 0: it has nothing to check.
Takes a few minutes on a GPU machine; the figures go into benchmarks/README.md with the GPU's name.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import torch

from rlbook import presets, runners, sac, td3
from rlbook.agent import resolve_precision
from rlbook.provenance import cpu_summary

ROOT = Path(__file__).resolve().parent.parent
DEVICE_TESTS = ["tests/test_actor_critic.py", "tests/test_reliability.py", "tests/test_networks.py"]


def rlbook_rate(module, algo: str, device: str, steps: int, seed: int = 0) -> float:
    settings = presets.pendulum_settings(algo)
    settings.update(total_steps=steps, eval_every=steps, eval_episodes=10, device=device)
    result = module.train("Pendulum-v1", seed=seed, progress=False, **settings)
    return result.steps_per_second


def sb3_rate(algo: str, steps: int, seed: int = 0) -> float | None:
    try:
        model, _ = runners.sb3_model(algo, "Pendulum-v1", seed, total_steps=steps, device="cuda")
    except ImportError:
        return None
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    return steps / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--skip-tests", action="store_true")
    args = parser.parse_args()
    print(cpu_summary())
    if not torch.cuda.is_available():
        print("device_check: no CUDA device here; nothing to check (the CUDA path is untested)")
        return 0
    name = torch.cuda.get_device_name(0)
    print(
        f"GPU: {name}; precision='auto' picks {resolve_precision('auto', 'cuda')} there and "
        f"{resolve_precision('auto', 'cpu')} on the CPU"
    )
    if not args.skip_tests:
        rc = subprocess.call(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *DEVICE_TESTS],
            cwd=ROOT,
        )
        print(f"device tests on cuda: exit {rc}")
        if rc:
            return rc
    print(f"\n{'algo':6s}{'cuda steps/s':>14s}{'cpu steps/s':>13s}{'SB3 cuda':>10s}")
    for module, algo in ((td3, "td3"), (sac, "sac")):
        gpu = rlbook_rate(module, algo, "cuda", args.steps)
        cpu = rlbook_rate(module, algo, "cpu", args.steps)
        peer = sb3_rate(algo, args.steps)
        peer_text = f"{peer:10.1f}" if peer else f"{'n/a':>10s}"
        print(f"{algo:6s}{gpu:14.1f}{cpu:13.1f}{peer_text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
