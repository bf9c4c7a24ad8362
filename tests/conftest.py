import os

import pytest
import torch

from rlbook.provenance import cpu_line, kernel_lines


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
    """Which CPU and which kernels this run used (:mod:`rlbook.provenance`): a failure that
    depends on them says so."""
    import scipy.linalg  # noqa: F401  (loads scipy's own OpenBLAS, so the BLAS lines name it too)

    emulated = os.environ.get("RLBOOK_EMULATED_CPU")
    cpu = f"qemu-x86_64 -cpu {emulated} on {cpu_line()}" if emulated else cpu_line()
    return [f"cpu: {cpu}", *kernel_lines()]


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
