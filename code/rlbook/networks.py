"""Networks shared by every algorithm of the book.

- :func:`mlp` builds a plain multilayer perceptron.
- :class:`QEnsemble` holds one or more independent critics ``q(s, a)`` evaluated in one batched
  pass: one member for DDPG and NFQCA, two for the twin critics ``q_a`` (member 0) and ``q_b``
  (member 1) of TD3 and SAC. Each member has its own parameters and its own initialisation, as if
  they were separate networks; batching them changes no number, it only saves kernel launches
  (which matters on a GPU; on one CPU thread it runs about as fast as two separate networks).
- :class:`DeterministicActor` is ``pi_w(s)``: an MLP, a ``tanh``, and an affine map onto the
  action box ``[low, high]``.
- :class:`SquashedGaussianActor` is SAC's policy: a Gaussian in an unbounded space, squashed by
  ``tanh`` and rescaled to the box, with the exact log-density of the squashed, rescaled action.
"""

from __future__ import annotations

import copy
import math
from typing import TypeAlias, cast

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .validation import check_int, check_sizes

__all__ = [
    "BoxRescale",
    "DeterministicActor",
    "EnsembleLinear",
    "Generators",
    "QEnsemble",
    "SquashedGaussianActor",
    "Float32OutputMLP",
    "float32_output",
    "member_module",
    "mlp",
    "stack_members",
    "standard_normal",
]


def mlp(
    in_dim: int, out_dim: int, hidden=(256, 256), activation: type[nn.Module] = nn.ReLU
) -> nn.Sequential:
    """A multilayer perceptron ``in_dim -> hidden... -> out_dim`` with no output activation."""
    hidden = check_sizes("hidden", hidden)
    layers: list[nn.Module] = []
    for width_in, width_out in zip((in_dim, *hidden[:-1]), hidden, strict=True):
        layers += [nn.Linear(width_in, width_out), activation()]
    layers.append(nn.Linear(hidden[-1], out_dim))
    return nn.Sequential(*layers)


def _autocast_on(x: torch.Tensor) -> bool:
    try:
        return torch.is_autocast_enabled(x.device.type)
    except TypeError:  # torch < 2.4
        if x.device.type == "cpu":
            return torch.is_autocast_cpu_enabled()
        return torch.is_autocast_enabled()


def float32_output(body: nn.Sequential, x: torch.Tensor, *args) -> torch.Tensor:
    """``body(x)``, except that under autocast (``precision="bfloat16"``) the output layer runs in
    float32 on a float32 input: Q-values near -100 would otherwise be rounded to about 0.5, and
    actions and log-densities to about 3 significant digits. Without autocast it is ``body(x)``.
    ``args`` are passed to :class:`EnsembleLinear` layers (the ``members`` slice)."""

    def run(layer, x):
        return layer(x, *args) if isinstance(layer, EnsembleLinear) else layer(x)

    *hidden, output = body
    for layer in hidden:
        x = run(layer, x)
    if not _autocast_on(x):
        return run(output, x)
    with torch.autocast(x.device.type, enabled=False):
        return run(output, x.float())


class Float32OutputMLP(nn.Sequential):
    """An :func:`mlp` whose output layer runs in float32 under autocast (:func:`float32_output`):
    DQN's Q-network. Same layers, parameters and ``state_dict`` keys as the plain ``mlp``, so
    ``Float32OutputMLP(*mlp(...))`` is a drop-in; without autocast it computes exactly the same."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return float32_output(self, x)


class EnsembleLinear(nn.Module):
    """``n`` independent linear layers applied to ``n`` stacked inputs with one batched product.

    Input shape ``(n, batch, in_features)``, output ``(n, batch, out_features)``. Each member is
    initialised exactly like ``torch.nn.Linear`` (uniform in ``+-1/sqrt(in_features)``).
    """

    #: in a stacked network (:func:`stack_members`): 0 if the layer holds one ``nn.Linear`` per
    #: run, else each run's number of members; ``None`` in a network of one run
    run_group: int | None = None

    def __init__(self, n: int, in_features: int, out_features: int):
        super().__init__()
        self.n, self.in_features, self.out_features = n, in_features, out_features
        self.weight = nn.Parameter(torch.empty(n, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(n, 1, out_features))
        bound = 1.0 / math.sqrt(in_features)
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor, members: slice | torch.Tensor = slice(None)) -> torch.Tensor:
        """``members``: a slice, or a tensor of indices, of the members to apply (default all)."""
        if isinstance(members, slice) and members == slice(None):
            # all members: no slice, whose backward fills zeros and copies
            w, b = self.weight, self.bias
        else:
            w, b = self.weight[members], self.bias[members]
        if self.out_features == 1:
            # an output layer: multiply and sum. The same numbers as baddbmm up to rounding, and
            # on CPU several times faster, because a batched product with one column is not tuned
            # there (benchmarks/profile_update.py --shapes shows the products of an update)
            return (x * w.transpose(-1, -2)).sum(-1, keepdim=True) + b
        return torch.baddbmm(b, x, w)

    def extra_repr(self) -> str:
        return f"n={self.n}, in_features={self.in_features}, out_features={self.out_features}"


class QEnsemble(nn.Module):
    """``n`` critics ``q_j(s, a)``, each an MLP on the concatenation ``[s, a]``.

    ``forward(obs, act)`` returns a tensor of shape ``(n, batch)``: row ``j`` is critic ``j``.
    For TD3 and SAC, row 0 is ``q_a`` (the book's $q^A$ or $q^1$) and row 1 is ``q_b``.
    """

    def __init__(self, obs_dim: int, act_dim: int, hidden=(256, 256), n: int = 2):
        super().__init__()
        self.n = check_int("n", n, 1)
        hidden = check_sizes("hidden", hidden)
        widths = (obs_dim + act_dim, *hidden)
        layers: list[nn.Module] = []
        for width_in, width_out in zip(widths[:-1], hidden, strict=True):
            layers += [EnsembleLinear(n, width_in, width_out), nn.ReLU()]
        layers.append(EnsembleLinear(n, hidden[-1], 1))
        self.body = nn.Sequential(*layers)
        #: the number of seeds when this is the critics of a batch of runs (:func:`stack_members`):
        #: the layers then hold ``seeds * n`` members, run ``i``'s critics at rows ``i*n .. i*n+n-1``
        self.seeds: int | None = None

    def forward(
        self, obs: torch.Tensor, act: torch.Tensor, members: slice = slice(None)
    ) -> torch.Tensor:
        """Values of the critics ``members`` (default: all), shape ``(n_members, batch)``; for the
        critics of a batch of runs (inputs ``(seeds, batch, dim)``), ``(seeds, n_members, batch)``."""
        x = torch.cat([obs, act], dim=-1)
        rows = range(self.n)[members]
        n = len(rows)
        if self.seeds is None:
            x = x.unsqueeze(0).expand(n, *x.shape)
            return float32_output(self.body, x, members).squeeze(-1)
        seeds, batch = x.shape[0], x.shape[1]
        x = x.unsqueeze(1).expand(seeds, n, *x.shape[1:]).reshape(seeds * n, *x.shape[1:])
        if n == self.n:
            members = slice(None)
        else:  # the chosen critics of every run, in the layers' row order
            index = (torch.arange(seeds)[:, None] * self.n + torch.tensor(rows)).reshape(-1)
            return float32_output(self.body, x, index.to(x.device)).reshape(seeds, n, batch)
        return float32_output(self.body, x, members).reshape(seeds, n, batch)


class BoxRescale(nn.Module):
    """Affine map from ``[-1, 1]^m`` onto the box ``[low, high]``: ``a = bias + scale * u``."""

    scale: torch.Tensor
    bias: torch.Tensor

    def __init__(self, low, high):
        super().__init__()
        low = torch.as_tensor(np.asarray(low, dtype=np.float32))
        high = torch.as_tensor(np.asarray(high, dtype=np.float32))
        if not (torch.isfinite(low).all() and torch.isfinite(high).all()):
            raise ValueError(
                "the action space must be a bounded Box (finite low and high); "
                f"got low={low.tolist()}, high={high.tolist()}"
            )
        if not (high > low).all():
            raise ValueError(f"action bounds need high > low; got low={low}, high={high}")
        self.register_buffer("scale", (high - low) / 2)
        self.register_buffer("bias", (high + low) / 2)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return self.bias + self.scale * u

    def unscale(self, a: torch.Tensor) -> torch.Tensor:
        """Inverse map: from the box back to ``[-1, 1]^m``."""
        return (a - self.bias) / self.scale


class DeterministicActor(nn.Module):
    """``pi_w(s) = bias + scale * tanh(mlp(s))``: always inside the action box ``[low, high]``."""

    rescale: BoxRescale
    body: nn.Sequential

    def __init__(self, obs_dim: int, low, high, hidden=(256, 256)):
        super().__init__()
        self.rescale = BoxRescale(low, high)
        act_dim = self.rescale.scale.numel()
        self.body = mlp(obs_dim, act_dim, hidden)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.rescale(torch.tanh(float32_output(self.body, obs)))


class SquashedGaussianActor(nn.Module):
    """SAC's policy ``pi_phi(a|s)``: ``u ~ N(mu_phi(s), sigma_phi(s)^2)``, ``a = bias + scale * tanh(u)``.

    By the change of variables ``a = g(u)`` with ``g_i(u) = bias_i + scale_i * tanh(u_i)``,

        log pi(a|s) = log N(u; mu, sigma^2) - sum_i [ log(1 - tanh(u_i)^2) + log(scale_i) ].

    This is the density of the action the environment receives. The SAC papers squash to
    ``tanh(u)`` in ``(-1, 1)^m`` (environments with normalized actions), and Stable Baselines3 and
    Spinning Up compute that density, without the ``log(scale)`` term, and rescale the action
    afterwards: their log-density is this one plus the constant ``sum(log scale)``. With a fixed
    alpha that changes nothing that matters on a task without terminations (the actor's loss moves
    by a constant, every soft q by another); with alpha tuned toward a target entropy the two aim
    at entropies of the environment's action that differ by ``sum(log scale)``, whenever the
    half-widths do not multiply to 1 (the SAC chapter derives both). The term
    ``log(1 - tanh(u)^2)`` is computed as ``2 * (log 2 - u - softplus(-2u))``, which is exact and
    does not lose precision when ``|u|`` is large.
    """

    rescale: BoxRescale
    body: nn.Sequential

    def __init__(
        self,
        obs_dim: int,
        low,
        high,
        hidden=(256, 256),
        log_std_min: float = -20.0,
        log_std_max: float = 2.0,
    ):
        super().__init__()
        if not log_std_min < log_std_max:
            raise ValueError(
                f"log_std_min must be < log_std_max; got {log_std_min} and {log_std_max}"
            )
        self.rescale = BoxRescale(low, high)
        act_dim = self.rescale.scale.numel()
        self.body = mlp(obs_dim, 2 * act_dim, hidden)
        self.log_std_min, self.log_std_max = log_std_min, log_std_max

    def distribution_params(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, log_std = float32_output(self.body, obs).chunk(2, dim=-1)
        log_std = log_std.clamp(self.log_std_min, self.log_std_max)
        return mu, log_std

    def log_prob_from_pre_tanh(
        self, u: torch.Tensor, mu: torch.Tensor, log_std: torch.Tensor
    ) -> torch.Tensor:
        """Log-density of the action ``a = bias + scale * tanh(u)`` (summed over dimensions)."""
        gaussian = -0.5 * ((u - mu) / log_std.exp()) ** 2 - log_std - 0.5 * math.log(2 * math.pi)
        log_det_tanh = 2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))
        return (gaussian - log_det_tanh).sum(-1) - self.rescale.scale.log().sum()

    def sample(
        self, obs: torch.Tensor, generator: Generators = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Reparameterised sample ``a = f_phi(s, eps)`` and its log-density ``log pi(a|s)``."""
        mu, log_std = self.distribution_params(obs)
        eps = standard_normal(mu.shape, generator, device=mu.device, dtype=mu.dtype)
        u = mu + log_std.exp() * eps
        return self.rescale(torch.tanh(u)), self.log_prob_from_pre_tanh(u, mu, log_std)

    def log_prob(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        """``log pi(a|s)`` of a given action inside the box (inverts the squashing)."""
        mu, log_std = self.distribution_params(obs)
        unit = self.rescale.unscale(act).clamp(-1 + 1e-6, 1 - 1e-6)
        return self.log_prob_from_pre_tanh(torch.atanh(unit), mu, log_std)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """The deterministic action used for evaluation: ``bias + scale * tanh(mu_phi(s))``."""
        mu, _ = self.distribution_params(obs)
        return self.rescale(torch.tanh(mu))


# ------------------------------------------------------------------------------------------------
# a batch of runs: the networks of S independent runs stacked along a leading member dimension
# ------------------------------------------------------------------------------------------------
def _stack_layer(layers: list[nn.Module]) -> nn.Module:
    """One layer holding the layers of several runs: ``nn.Linear`` -> :class:`EnsembleLinear`
    with one member per run; :class:`EnsembleLinear` ``(n)`` -> ``(runs * n)``; others shared."""
    first = layers[0]
    if isinstance(first, nn.Linear):
        linears = cast(list[nn.Linear], layers)
        stacked = EnsembleLinear(len(layers), first.in_features, first.out_features)
        with torch.no_grad():
            stacked.weight.copy_(torch.stack([layer.weight.T for layer in linears]))
            stacked.bias.copy_(torch.stack([layer.bias[None] for layer in linears]))
        stacked.run_group = 0  # one nn.Linear per run
        return stacked.to(first.weight.device)
    if isinstance(first, EnsembleLinear):
        ensembles = cast(list[EnsembleLinear], layers)
        stacked = EnsembleLinear(len(layers) * first.n, first.in_features, first.out_features)
        with torch.no_grad():
            stacked.weight.copy_(torch.cat([layer.weight for layer in ensembles]))
            stacked.bias.copy_(torch.cat([layer.bias for layer in ensembles]))
        stacked.run_group = first.n  # each run's n members
        return stacked.to(first.weight.device)
    return copy.deepcopy(first)


def stack_members(modules: list[nn.Module]) -> nn.Module:
    """The networks of ``len(modules)`` independent runs as one network with a leading member
    dimension: inputs ``(runs, batch, dim)``, outputs ``(runs, batch, out)`` (critics:
    ``(runs, n, batch)``). Each run's parameters are copied exactly (a linear layer's weight is
    stored transposed), so member ``i`` computes what ``modules[i]`` computes, with one batched
    product per layer for all runs instead of one per run. :func:`member_module` undoes it."""
    if not modules:
        raise ValueError("modules must hold at least one network")
    with torch.random.fork_rng(devices=[]):  # the new layers' initial weights draw from it
        return _stack_members(modules)


def _stack_members(modules: list[nn.Module]) -> nn.Module:
    stacked = copy.deepcopy(modules[0])
    for name, child in list(modules[0].named_modules()):
        if isinstance(child, nn.Linear | EnsembleLinear):
            parent_name, _, attr = name.rpartition(".")
            parent = stacked.get_submodule(parent_name)
            layers = [m.get_submodule(name) for m in modules]
            setattr(parent, attr, _stack_layer(layers))
    if isinstance(stacked, QEnsemble):
        stacked.seeds = len(modules)
    return stacked


def member_module(stacked: nn.Module, i: int) -> nn.Module:
    """Run ``i``'s network, taken out of a :func:`stack_members` network (a copy). Leaves torch's
    global random stream as it was (the new layers' initial weights, overwritten at once, would
    draw from it)."""
    with torch.random.fork_rng(devices=[]):
        return _member_module(stacked, i)


def _member_module(stacked: nn.Module, i: int) -> nn.Module:
    single = copy.deepcopy(stacked)
    for name, child in list(stacked.named_modules()):
        if not isinstance(child, EnsembleLinear) or child.run_group is None:
            continue
        group = child.run_group
        parent_name, _, attr = name.rpartition(".")
        parent = single.get_submodule(parent_name)
        with torch.no_grad():
            if group == 0:
                layer = nn.Linear(child.in_features, child.out_features)
                layer.weight.copy_(child.weight[i].T)
                layer.bias.copy_(child.bias[i, 0])
            else:
                layer = EnsembleLinear(group, child.in_features, child.out_features)
                layer.weight.copy_(child.weight[i * group : (i + 1) * group])
                layer.bias.copy_(child.bias[i * group : (i + 1) * group])
        setattr(
            parent, attr, layer.to(child.weight.device).requires_grad_(child.weight.requires_grad)
        )
    if isinstance(single, QEnsemble):
        single.seeds = None
    return single


#: The random generator(s) a draw uses: one ``torch.Generator`` for one run, a list of them (one
#: per run, :meth:`rlbook.agent.OffPolicyAgent.stack`) for a batch of runs, or ``None`` (torch's
#: global generator).
Generators: TypeAlias = torch.Generator | list[torch.Generator] | None


def standard_normal(shape, generator: Generators, device=None, dtype=None) -> torch.Tensor:
    """``N(0, 1)`` draws of ``shape``; ``generator`` is one ``torch.Generator`` (or ``None``), or
    a list of them, one per run of a batch: each run's slice ``[i]`` is then drawn from its own
    generator (shape ``shape[1:]``), exactly the numbers that run would draw alone."""
    if isinstance(generator, list | tuple):
        return torch.stack(
            [torch.randn(shape[1:], generator=g, device=device, dtype=dtype) for g in generator]
        )
    return torch.randn(shape, generator=generator, device=device, dtype=dtype)
