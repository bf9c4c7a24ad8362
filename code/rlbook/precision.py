"""Which floating-point precision an agent's updates run in: float32, or bfloat16 autocast where
the device has native bfloat16 units (a CUDA GPU with them, a CPU with AVX512-BF16 or AMX-BF16):
elsewhere bfloat16 runs several times slower than float32, so it is refused, and ``"auto"``
picks float32."""

from __future__ import annotations

import platform
from pathlib import Path

import torch

from .validation import check_choice

__all__ = ["BF16_SLOW", "PRECISIONS", "bf16_native", "resolve_precision"]

PRECISIONS = ("float32", "bfloat16", "auto")

#: why ``precision="bfloat16"`` is refused where the device has no bfloat16 units
BF16_SLOW = (
    "bf16 autocast runs 7-8x slower than float32 on such a CPU (measured on a 2-core AMD EPYC "
    "with AVX2 only: 185-220 ms per update against 24-26 ms in float32), its products falling "
    "back to a generic kernel; without bf16 units a GPU emulates them, also slower"
)


def _cpu_bf16_flags() -> set[str]:
    """The CPU's bfloat16 instruction sets among AVX512-BF16, AMX-BF16 (x86) and BF16 (Arm):
    from ``torch.cpu.get_capabilities()`` (torch 2.8 on), else the older private queries, else
    the kernel's ``/proc/cpuinfo`` flags."""
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
    try:  # the kernel's flags (x86 "flags", Arm "Features"), on Linux
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("flags", "features")):
                flags = set(line.split(":", 1)[1].split())
                found |= {label for key, label in names.items() if key in flags}
                break
    except OSError:
        pass
    return found


def _cpu_name() -> str:
    get_capabilities = getattr(torch.cpu, "get_capabilities", None)
    try:
        name = get_capabilities().get("cpu_name") if get_capabilities else None
    except Exception:  # noqa: BLE001
        name = None
    return name or platform.processor() or platform.machine() or "unknown CPU"


def _bf16_missing(device: torch.device) -> str | None:
    """None if ``device`` multiplies bfloat16 matrices in hardware; else what it lacks."""
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return "CUDA is not available"
        if torch.version.hip:
            return None
        index = device.index if device.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        if props.major < 8:
            return (
                f"{props.name} has compute capability {props.major}.{props.minor}; bf16 "
                "tensor cores need 8.0 (Ampere) or later"
            )
        return None
    if device.type == "cpu":
        name = _cpu_name()
        if not _cpu_bf16_flags():
            return f"the CPU ({name}) has no AVX512-BF16, AMX-BF16 or Arm BF16 instructions"
        # torch's bf16 products use those instructions only through oneDNN (mkldnn), and only
        # while oneDNN is enabled and allowed an ISA with bf16 (ONEDNN_MAX_CPU_ISA=AVX2, e.g.,
        # turns that off: measured 14x slower). ATEN_CPU_CAPABILITY does not matter here: it
        # picks ATen's own vectorized kernels, not oneDNN's (measured: no change in speed).
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
    return f"rlbook does not know whether {device.type} devices run bfloat16 natively"


def bf16_native(device) -> bool:
    """Whether ``device`` multiplies bfloat16 matrices natively, where ``precision="bfloat16"``
    can be faster than float32: a CUDA GPU of compute capability 8.0 or more (or ROCm); a CPU with
    AVX512-BF16 or AMX-BF16 instructions (Arm: BF16) whose bf16 products oneDNN runs (it is
    enabled in ``torch.backends.mkldnn`` and not limited by ``ONEDNN_MAX_CPU_ISA``). Other device
    types: False."""
    return _bf16_missing(torch.device(device)) is None


def resolve_precision(precision: str, device) -> str:
    """The precision updates run in on ``device``: ``"auto"`` is ``"bfloat16"`` where
    :func:`bf16_native`, else ``"float32"``; ``"bfloat16"`` where not native raises ValueError."""
    check_choice("precision", precision, PRECISIONS)
    device = torch.device(device)
    if precision == "float32":
        return precision
    missing = _bf16_missing(device)
    if precision == "auto":
        return "float32" if missing else "bfloat16"
    if missing:
        raise ValueError(
            f"precision='bfloat16' needs native bfloat16 matrix units on the device, and device "
            f"{str(device)!r} has none usable: {missing}. {BF16_SLOW}. Use precision='float32', or "
            f"precision='auto' (bfloat16 where the device runs it natively, float32 elsewhere)."
        )
    return precision
