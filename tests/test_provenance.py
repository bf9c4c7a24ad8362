"""One provenance helper: the records' header keeps the committed records' fields and formats,
and the CPU is read from ``/proc/cpuinfo`` one way for the package, the tests' header and
``tools/timed_stages.sh``."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from rlbook import provenance, results

EPYC = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512vl
"""
OLD = """processor\t: 0
model name\t: Intel(R) Core(TM) i7 CPU 920
flags\t\t: fpu sse2 sse4_2
"""


def test_record_header_has_the_committed_records_fields_and_types():
    """New records are read by the same code as the committed ones (the Benchmarks chapter
    prints ``machine``, ``torch_cpu_capability``, ``commit``, ``cpu_flags``, ``kernel_limits``)."""
    committed = results.load("pendulum-threshold")["td3"][0]
    header = provenance.record_header()
    assert list(header) == [
        "commit",
        "versions",
        "machine",
        "cpu_flags",
        "cpu_bf16_native",
        "torch_cpu_capability",
        "kernel_limits",
    ]
    for key, value in header.items():
        assert type(value) is type(committed[key]), key
    assert list(header["versions"]) == list(committed["versions"])
    assert re.fullmatch(r".+, \d+ cores", header["machine"])
    assert set(header["cpu_flags"]) <= set(provenance.CPU_FLAGS)


def test_kernel_limits_name_the_variables_that_were_set(monkeypatch):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    monkeypatch.delenv("MKL_ENABLE_INSTRUCTIONS", raising=False)
    assert provenance.record_header()["kernel_limits"] == {"ONEDNN_MAX_CPU_ISA": "AVX2"}
    assert "kernel variables: ONEDNN_MAX_CPU_ISA=AVX2" in provenance.kernel_lines()


def test_the_cpu_is_read_from_cpuinfo_in_the_records_order(monkeypatch, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    monkeypatch.setattr(provenance, "_CPUINFO", cpuinfo)
    cpuinfo.write_text(EPYC)
    assert provenance.cpu_model() == "AMD EPYC"
    assert provenance.cpu_flags() == ["avx2", "avx512f", "avx512_bf16"]
    assert provenance.cpu_line() == "AMD EPYC (avx2 avx512f avx512_bf16)"
    assert re.fullmatch(
        r"AMD EPYC, \d+ cores; avx2 avx512f avx512_bf16; torch \S+ CPU capability \w+",
        provenance.cpu_summary(),
    )
    cpuinfo.write_text(OLD)
    assert provenance.cpu_line() == "Intel(R) Core(TM) i7 CPU 920 (no avx2)"
    assert "; none of avx2/avx512f/avx512_bf16/amx_bf16; " in provenance.cpu_summary()


def test_without_cpuinfo_the_model_comes_from_torch_or_platform(monkeypatch, tmp_path):
    monkeypatch.setattr(provenance, "_CPUINFO", tmp_path / "missing")
    assert provenance.cpu_flags() == []
    assert provenance.cpu_model()  # torch's cpu_name, platform's, or "unknown CPU"
    monkeypatch.setattr(provenance, "_torch_cpu_name", lambda: None)
    monkeypatch.setattr(provenance.platform, "processor", lambda: "")
    monkeypatch.setattr(provenance.platform, "machine", lambda: "")
    assert provenance.cpu_model() == "unknown CPU"


def test_the_committed_records_cpu_field_has_cpu_summarys_format():
    committed = results.load_json("chapter-seeds", "td3")["cpu"]
    pattern = r"[^;]+, \d+ cores; [\w ]+; torch \S+ CPU capability \w+"
    assert re.fullmatch(pattern, committed), committed
    assert re.fullmatch(pattern, provenance.cpu_summary())


def test_commit_is_unknown_outside_a_repository(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert provenance.commit() == "unknown"


def test_the_command_line_prints_the_cpu_line_and_the_header():
    run = [sys.executable, "-m", "rlbook.provenance"]
    cpu = subprocess.run([*run, "--cpu"], capture_output=True, text=True, check=True).stdout
    assert cpu.strip() == provenance.cpu_line()
    out = subprocess.run(run, capture_output=True, text=True, check=True).stdout
    header = json.loads(out[: out.index("\n}") + 2])
    assert set(header) == set(provenance.record_header())


@pytest.mark.parametrize("native", [True, False])
def test_precision_asks_provenance_about_the_cpu(monkeypatch, native):
    import rlbook.precision

    monkeypatch.setattr(
        rlbook.precision, "_cpu_bf16_flags", lambda: {"AVX512-BF16"} if native else set()
    )
    missing = rlbook.precision._bf16_missing(rlbook.precision.torch.device("cpu"))
    if native:
        assert missing is None or "oneDNN" in missing
    else:
        assert missing == (
            f"the CPU ({provenance.cpu_model()}) has no AVX512-BF16, AMX-BF16 or Arm BF16 "
            "instructions"
        )
