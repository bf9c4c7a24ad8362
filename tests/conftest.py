import os
import platform
import re

import numpy as np
import pytest
import torch

# The environment variables that pick the vector code paths; printed when set.
KERNEL_VARIABLES = (
    "ATEN_CPU_CAPABILITY",
    "MKL_ENABLE_INSTRUCTIONS",
    "ONEDNN_MAX_CPU_ISA",
    "NPY_DISABLE_CPU_FEATURES",
    "OPENBLAS_CORETYPE",
)


def _cpu_model() -> str:
    try:
        text = open("/proc/cpuinfo", encoding="utf8").read()
    except OSError:
        return platform.processor() or "unknown CPU"
    model = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    flags = set(re.findall(r"\b(avx2|avx512f|avx512_bf16|amx_bf16)\b", text))
    return f"{model.group(1) if model else 'unknown CPU'} ({' '.join(sorted(flags)) or 'no avx2'})"


def pytest_configure(config):
    """Under `make unit-emulated` (tools/emulated_cpu.sh), refuse to run if torch did not get the
    kernels the emulated CPU should give it: the stage would then test this machine's CPU again."""
    expected = os.environ.get("RLBOOK_EXPECTED_CAPABILITY")
    got = torch.backends.cpu.get_cpu_capability()
    if expected and got != expected:
        raise pytest.UsageError(
            f"emulated CPU {os.environ.get('RLBOOK_EMULATED_CPU')}: torch CPU capability {got}, "
            f"expected {expected}"
        )


def pytest_report_header(config):
    """Which CPU and which kernels this run used: a failure that depends on them says so."""
    import scipy.linalg  # noqa: F401  (loads scipy's own OpenBLAS, so the BLAS lines name it too)
    from numpy._core._multiarray_umath import (
        __cpu_baseline__,
        __cpu_dispatch__,
        __cpu_features__,
    )

    numpy_simd = [t for t in __cpu_dispatch__ if __cpu_features__.get(t)] or ["none"]
    emulated = os.environ.get("RLBOOK_EMULATED_CPU")
    cpu = f"qemu-x86_64 -cpu {emulated} on {_cpu_model()}" if emulated else _cpu_model()
    lines = [
        f"cpu: {cpu}",
        f"torch {torch.__version__}: CPU capability {torch.backends.cpu.get_cpu_capability()}, "
        f"{torch.get_num_threads()} threads",
        f"numpy {np.__version__}: SIMD baseline {' '.join(__cpu_baseline__)}, dispatch targets "
        f"in use: {' '.join(numpy_simd)}",
    ]
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


@pytest.fixture(autouse=True)
def _deterministic_torch():
    torch.manual_seed(0)
    yield


@pytest.fixture
def one_thread():
    """Run a test single-threaded: on tiny tensors a second thread only adds synchronisation, and
    on a busy 2-core machine it stalls (OpenMP spinning)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
