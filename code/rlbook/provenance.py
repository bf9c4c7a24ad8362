"""What a measurement ran on: the CPU, the package versions, the git commit.

Timings and even some digits depend on the CPU (one model name, "AMD EPYC", covers machines with
and without AVX-512 or bfloat16 units) and on the kernels torch picked, so every record and log of
this repository says where it ran, through this module:

- the records of :func:`rlbook.sweep.sweep` carry :func:`record_header` (fields ``commit``,
  ``versions``, ``machine``, ``cpu_flags``, ``cpu_bf16_native``, ``torch_cpu_capability``,
  ``kernel_limits``); the benchmark scripts' records carry :func:`cpu_summary` (field ``cpu``);
- the tests' header (``tests/conftest.py``) prints :func:`cpu_line` and :func:`kernel_lines`;
- ``tools/timed_stages.sh`` names the CPU with ``python -m rlbook.provenance --cpu``;
- :mod:`rlbook.precision` asks :func:`cpu_bf16_missing` whether bfloat16 runs natively on the CPU.

Run ``python -m rlbook.provenance`` to print the header a record would get, as JSON, and the
kernel lines.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
from pathlib import Path

__all__ = [
    "CPU_FLAGS",
    "KERNEL_LIMITS",
    "KERNEL_VARIABLES",
    "commit",
    "cpu_bf16_instructions",
    "cpu_bf16_missing",
    "cpu_flags",
    "cpu_line",
    "cpu_model",
    "cpu_summary",
    "kernel_lines",
    "machine_name",
    "record_header",
    "versions",
]

#: the instruction sets that decide a CPU's speed and digits in this book's computations, in the
#: order records list them
CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")

#: environment variables that limit torch's, MKL's and oneDNN's kernels (an AVX2 machine
#: approximated on a newer CPU): a record keeps those set, since its times depend on them
KERNEL_LIMITS = ("ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA")

#: every environment variable that picks a vector code path (numpy's and OpenBLAS's too): the
#: tests' header prints those set
KERNEL_VARIABLES = (*KERNEL_LIMITS, "NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE")

_CPUINFO = Path("/proc/cpuinfo")


def _cpuinfo() -> str:
    """The kernel's CPU description (Linux); empty where unreadable."""
    try:
        return _CPUINFO.read_text(encoding="utf8")
    except OSError:
        return ""


def _torch_cpu_name() -> str | None:
    try:
        import torch

        return torch.cpu.get_capabilities().get("cpu_name") or None
    except Exception:  # noqa: BLE001 - an older torch, or a query that fails: no name
        return None


def cpu_model() -> str:
    """The CPU's model name: ``/proc/cpuinfo``'s "model name" (Linux), else torch's
    ``torch.cpu.get_capabilities()["cpu_name"]``, else ``platform.processor()`` or
    ``platform.machine()``, else ``"unknown CPU"``."""
    for line in _cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return _torch_cpu_name() or platform.processor() or platform.machine() or "unknown CPU"


def machine_name() -> str:
    """The CPU model and core count, e.g. ``"AMD EPYC, 2 cores"`` (records' ``machine``)."""
    return f"{cpu_model()}, {os.cpu_count()} cores"


def cpu_flags() -> list[str]:
    """Which of :data:`CPU_FLAGS` the CPU has, in that order (from ``/proc/cpuinfo``; empty where
    unreadable): machines with one model name differ here, and so do their speeds."""
    words = set(_cpuinfo().split())
    return [flag for flag in CPU_FLAGS if flag in words]


def cpu_line() -> str:
    """The CPU and its flags in one phrase, e.g. ``"AMD EPYC (avx2 avx512f avx512_bf16)"``
    (``"(no avx2)"`` where it has none of them): the tests' header, ``tools/timed_stages.sh``."""
    return f"{cpu_model()} ({' '.join(cpu_flags()) or 'no avx2'})"


def cpu_summary() -> str:
    """One line for a page, a log or a record's ``cpu`` field: CPU model, cores, the flags,
    torch's CPU kernels, e.g. ``"AMD EPYC, 2 cores; avx2 avx512f avx512_bf16; torch 2.13.0+cpu
    CPU capability AVX512"``."""
    import torch

    flags = " ".join(cpu_flags()) or "none of " + "/".join(CPU_FLAGS)
    return (
        f"{machine_name()}; {flags}; torch {torch.__version__} CPU capability "
        f"{torch.backends.cpu.get_cpu_capability()}"
    )


def cpu_bf16_instructions() -> set[str]:
    """The CPU's bfloat16 instruction sets among AVX512-BF16, AMX-BF16 (x86) and BF16 (Arm):
    from ``torch.cpu.get_capabilities()`` (torch 2.8 on), else the older private queries, else
    the kernel's ``/proc/cpuinfo`` flags."""
    import torch

    names = {"avx512_bf16": "AVX512-BF16", "amx_bf16": "AMX-BF16", "bf16": "BF16"}
    get_capabilities = getattr(torch.cpu, "get_capabilities", None)
    if get_capabilities is not None:
        try:
            caps = get_capabilities()
            return {label for key, label in names.items() if caps.get(key)}
        except Exception:  # noqa: BLE001 - a capability query must not break training
            pass
    found = set()
    for query, label in (
        ("_is_avx512_bf16_supported", "AVX512-BF16"),
        ("_is_amx_tile_supported", "AMX-BF16"),
    ):
        fn = getattr(torch.cpu, query, None)
        if fn is not None and fn():
            found.add(label)
    for line in _cpuinfo().splitlines():  # the kernel's flags (x86 "flags", Arm "Features")
        if line.lower().startswith(("flags", "features")):
            flags = set(line.split(":", 1)[1].split())
            found |= {label for key, label in names.items() if key in flags}
            break
    return found


def cpu_bf16_missing(instructions: set[str] | None = None) -> str | None:
    """None if this CPU multiplies bfloat16 matrices natively under torch; else what it lacks.
    ``instructions`` are its bfloat16 instruction sets (default :func:`cpu_bf16_instructions`).

    torch's bf16 products use those instructions only through oneDNN (mkldnn), and only while
    oneDNN is enabled and allowed an ISA with bf16 (``ONEDNN_MAX_CPU_ISA=AVX2``, e.g., turns that
    off: measured 14x slower). ``ATEN_CPU_CAPABILITY`` does not matter here: it picks ATen's own
    vectorized kernels, not oneDNN's (measured: no change in speed)."""
    import torch

    name = cpu_model()
    if not (cpu_bf16_instructions() if instructions is None else instructions):
        return f"the CPU ({name}) has no AVX512-BF16, AMX-BF16 or Arm BF16 instructions"
    mkldnn = torch.backends.mkldnn
    if not (mkldnn.is_available() and mkldnn.enabled):
        return f"torch's oneDNN backend (torch.backends.mkldnn) is off on this CPU ({name})"
    try:
        supported = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    except (AttributeError, RuntimeError):
        supported = True  # an older torch without the query: the instructions decide
    if not supported:
        return f"oneDNN does not use the CPU's ({name}) bf16 instructions (ONEDNN_MAX_CPU_ISA?)"
    return None


def versions() -> dict[str, str]:
    """The versions a result depends on: torch, gymnasium, numpy, Python."""
    import gymnasium
    import numpy as np
    import torch

    return {
        "torch": torch.__version__,
        "gymnasium": gymnasium.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def commit() -> str:
    """The git commit checked out in the current directory (the repository a benchmark runs
    from), or ``"unknown"`` outside a repository or without git."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    return out or "unknown"


def record_header() -> dict:
    """Versions, machine and git commit: what a results file needs to be reproduced.
    ``cpu_bf16_native`` says whether the CPU runs bfloat16 products natively
    (:func:`cpu_bf16_missing`, what ``rlbook.precision.bf16_native("cpu")`` asks): CPUs of one
    model name differ there, and bf16 speed with them; ``torch_cpu_capability`` is the kernel set torch ran, and ``kernel_limits`` the
    :data:`KERNEL_LIMITS` variables that were set."""
    import torch

    return {
        "commit": commit(),
        "versions": versions(),
        "machine": machine_name(),
        "cpu_flags": cpu_flags(),
        "cpu_bf16_native": cpu_bf16_missing() is None,
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "kernel_limits": {k: os.environ[k] for k in KERNEL_LIMITS if k in os.environ},
    }


def kernel_lines() -> list[str]:
    """Which kernels this process uses, one line each: torch's CPU capability and threads,
    numpy's SIMD baseline and dispatch targets in use, each BLAS library loaded (with
    ``threadpoolctl``, where installed) and the :data:`KERNEL_VARIABLES` that are set.
    Import scipy first for its own OpenBLAS to be listed."""
    import numpy as np
    import torch

    lines = [
        f"torch {torch.__version__}: CPU capability {torch.backends.cpu.get_cpu_capability()}, "
        f"{torch.get_num_threads()} threads"
    ]
    try:
        from numpy._core._multiarray_umath import (
            __cpu_baseline__,
            __cpu_dispatch__,
            __cpu_features__,
        )

        simd = [t for t in __cpu_dispatch__ if __cpu_features__.get(t)] or ["none"]
        lines.append(
            f"numpy {np.__version__}: SIMD baseline {' '.join(__cpu_baseline__)}, dispatch "
            f"targets in use: {' '.join(simd)}"
        )
    except ImportError:  # numpy < 2 keeps them in numpy.core
        lines.append(f"numpy {np.__version__}")
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool["user_api"] != "blas":
                continue
            lines.append(
                f"{pool['internal_api']} {pool.get('version')} "
                f"({os.path.basename(os.path.dirname(pool['filepath']))}): "
                f"core {pool.get('architecture')}, {pool['num_threads']} threads"
            )
    except ImportError:
        pass
    env = [f"{k}={os.environ[k]}" for k in KERNEL_VARIABLES if k in os.environ]
    lines.append("kernel variables: " + (" ".join(env) or "none set"))
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m rlbook.provenance", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument(
        "--cpu", action="store_true", help="print only the CPU and its flags (cpu_line)"
    )
    args = parser.parse_args(argv)
    if args.cpu:
        print(cpu_line())
        return
    print(json.dumps(record_header(), indent=1))
    print("\n".join(kernel_lines()))


if __name__ == "__main__":
    main()
