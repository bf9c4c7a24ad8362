"""Which floating-point precision an agent's updates run in: float32, or bfloat16 autocast where
the device has native bfloat16 units (a CUDA GPU with them, a CPU with AVX512-BF16 or AMX-BF16):
elsewhere bfloat16 runs several times slower than float32, so it is refused, and ``"auto"``
picks float32."""

from __future__ import annotations

import torch

from .provenance import cpu_bf16_instructions, cpu_bf16_missing
from .validation import check_choice

__all__ = ["BF16_SLOW", "PRECISIONS", "bf16_native", "resolve_precision"]

PRECISIONS = ("float32", "bfloat16", "auto")

#: why ``precision="bfloat16"`` is refused where the device has no bfloat16 units
BF16_SLOW = (
    "bf16 autocast runs several times slower than float32 on such a CPU (AVX2 only, say), its "
    "products falling back to a generic kernel (benchmarks/README.md gives a measurement); "
    "without bf16 units a GPU emulates them, also slower"
)


def _cpu_bf16_flags() -> set[str]:
    """The CPU's bfloat16 instruction sets (:func:`rlbook.provenance.cpu_bf16_instructions`): the
    one place :func:`bf16_native` asks, which tests replace to stand for another CPU."""
    return cpu_bf16_instructions()


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
        return cpu_bf16_missing(_cpu_bf16_flags())
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
