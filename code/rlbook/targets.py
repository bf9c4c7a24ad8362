"""Target networks: created as exact copies, then updated by hard copies or by EMA.

Convention (the book's): ``tau`` weights the **online** parameters,

    theta_target <- tau * theta + (1 - tau) * theta_target,

so ``tau = 1`` is a hard copy and a small ``tau`` makes the target lag the online network by about
``1 / tau`` updates. (Some libraries call ``1 - tau`` the "polyak" coefficient.)
"""

from __future__ import annotations

import copy
from typing import TypeVar

import torch
from torch import nn

from .validation import check_real

__all__ = ["ema_update", "hard_update", "make_target"]


Net = TypeVar("Net", bound=nn.Module)


def make_target(net: Net) -> Net:
    """An exact, frozen copy of ``net``: same parameters and buffers, no gradients."""
    target = copy.deepcopy(net)
    target.requires_grad_(False)
    return target


def hard_update(target: nn.Module, online: nn.Module) -> None:
    """``theta_target <- theta``: copy every parameter and buffer."""
    # `with`, not a decorator: mutmut (`make mutation`) leaves decorated functions unmutated
    with torch.no_grad():
        for t, o in zip(target.parameters(), online.parameters(), strict=True):
            t.copy_(o)
        for t, o in zip(target.buffers(), online.buffers(), strict=True):
            t.copy_(o)


def ema_update(target: nn.Module, online: nn.Module, tau: float) -> None:
    """``theta_target <- tau * theta + (1 - tau) * theta_target`` for every parameter.

    Buffers (e.g. the action box of an actor) are copied, not averaged.
    """
    tau = check_real("tau", tau, 0.0, 1.0, low_open=True)
    t_params: list[torch.Tensor] = list(target.parameters())
    o_params: list[torch.Tensor] = list(online.parameters())
    if len(t_params) != len(o_params):
        raise ValueError("target and online networks have different parameter lists")
    with torch.no_grad():
        # one fused lerp over all parameters (torch's private but stable foreach kernel)
        torch._foreach_lerp_(t_params, o_params, tau)  # pyright: ignore[reportPrivateImportUsage]
        for t, o in zip(target.buffers(), online.buffers(), strict=True):
            t.copy_(o)
