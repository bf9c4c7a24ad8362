import math

import numpy as np
import pytest
import torch
from torch.distributions import AffineTransform, Normal, TanhTransform, TransformedDistribution

from helpers import FLOAT32
from rlbook.networks import DeterministicActor, EnsembleLinear, QEnsemble, SquashedGaussianActor


def test_deterministic_actor_rescales_to_an_asymmetric_box():
    low, high = np.array([0.0, -1.0]), np.array([2.0, 3.0])
    actor = DeterministicActor(3, low, high, hidden=(8,))
    with torch.no_grad():
        last = actor.body[-1]
        last.weight.zero_()
        for bias, expected in [(0.0, [1.0, 1.0]), (50.0, [2.0, 3.0]), (-50.0, [0.0, -1.0])]:
            last.bias.fill_(bias)
            out = actor(torch.randn(5, 3))
            # zero weights: the output is tanh(bias) rescaled, float32 to a few ulp of values <= 3
            assert torch.allclose(out, torch.tensor(expected).expand(5, 2), atol=1e-5)
    out = actor(torch.randn(1000, 3) * 100)
    assert (out >= torch.tensor(low, dtype=torch.float32)).all()
    assert (out <= torch.tensor(high, dtype=torch.float32)).all()


def test_unbounded_box_is_refused():
    with pytest.raises(ValueError, match="bounded Box"):
        DeterministicActor(3, [-np.inf], [1.0])


def _actor_with_fixed_distribution(mu, log_std, low, high):
    actor = SquashedGaussianActor(1, low, high, hidden=(4,))
    with torch.no_grad():
        last = actor.body[-1]
        last.weight.zero_()
        last.bias.copy_(torch.tensor([mu, log_std]))
    return actor


@pytest.mark.parametrize("low,high", [(-1.0, 1.0), (-2.0, 2.0), (0.0, 5.0)])
def test_squashed_gaussian_log_density_matches_torch_distributions(low, high):
    mu, log_std = 0.3, -0.4
    actor = _actor_with_fixed_distribution(mu, log_std, [low], [high])
    obs = torch.zeros(2000, 1)
    act, logp = actor.sample(obs, torch.Generator().manual_seed(0))
    scale, bias = (high - low) / 2, (high + low) / 2
    reference = TransformedDistribution(
        Normal(torch.tensor([mu]), torch.tensor([math.exp(log_std)])),
        [TanhTransform(), AffineTransform(bias, scale)],
    )
    expected = reference.log_prob(act).sum(-1)
    ok = torch.isfinite(expected)
    # The reference inverts the float32 action: u = atanh((a - bias) / scale) carries an error of
    # ulp(a) / (scale (1 - tanh(u)^2)), which the log-density multiplies by |d log p / du| < 10.
    # At the largest of 2,000 draws (3.5 standard deviations, 1 - tanh^2 u ~ 0.02) that is
    # ~1e-4 (measured 8e-6 to 3.5e-5 on every kernel set); 2e-3 bounds it down to 1 - tanh^2 u ~
    # 1e-3. The same holds for log_prob of a given action, which also inverts the action.
    assert torch.allclose(logp[ok], expected[ok], atol=2e-3)
    # log_prob of a given action agrees with the density returned by sample
    assert torch.allclose(actor.log_prob(obs[:50], act[:50]), logp[:50], atol=1e-3)


@pytest.mark.parametrize("low,high", [(-2.0, 2.0), (1.0, 1.5)])
def test_squashed_gaussian_density_integrates_to_one_and_matches_samples(low, high):
    """A numerical check independent of the formula: normalisation and a histogram."""
    actor = _actor_with_fixed_distribution(-0.2, -0.7, [low], [high])
    grid = torch.linspace(low, high, 20001)[1:-1].unsqueeze(-1)
    with torch.no_grad():
        density = actor.log_prob(torch.zeros(len(grid), 1), grid).exp()
    integral = torch.trapezoid(density, grid.squeeze(-1)).item()
    # the trapezoid rule on 20,000 points of a smooth density vanishing at the ends, in float32
    # (pairwise sums): errors ~1e-6; a missing log(scale) would give (high-low)/2 or its inverse
    assert abs(integral - 1.0) < 1e-3
    n, bins, sub = 200_000, 40, 50
    with torch.no_grad():
        samples, _ = actor.sample(torch.zeros(n, 1), torch.Generator().manual_seed(1))
    counts, _ = np.histogram(samples.numpy().ravel(), bins=bins, range=(low, high))
    # the probability of each bin from the density (midpoint rule, 50 points a bin: exact to
    # ~1e-6 relative), so that only sampling noise separates the counts from n p: each count is
    # binomial, and 5 standard errors bound it (every bin expects at least 4 draws here)
    h = (high - low) / (bins * sub)
    mid = torch.tensor(low + h * (np.arange(bins * sub) + 0.5), dtype=torch.float32)[:, None]
    with torch.no_grad():
        density = actor.log_prob(torch.zeros(len(mid), 1), mid).exp().double().numpy()
    p = density.reshape(bins, sub).sum(1) * h
    z = (counts - n * p) / np.sqrt(n * p * (1 - p))
    assert np.abs(z).max() < 5, np.abs(z).max()  # measured 2.6; a missing log(scale): 67 and 141


def test_log_density_is_finite_for_saturated_actions():
    actor = _actor_with_fixed_distribution(30.0, 1.0, [-1.0], [1.0])
    _, logp = actor.sample(torch.zeros(100, 1))
    assert torch.isfinite(logp).all()


def test_q_ensemble_members_are_independent_networks():
    q = QEnsemble(3, 2, hidden=(16, 16), n=2)
    s, a = torch.randn(7, 3), torch.randn(7, 2)
    out = q(s, a)
    assert out.shape == (2, 7)
    assert not torch.allclose(out[0], out[1], **FLOAT32)  # different initialisations
    # member 0 alone takes another float32 path (a slice of the parameters) than both at once
    assert torch.allclose(q(s, a, members=slice(0, 1))[0], out[0], **FLOAT32)
    # the gradient of member 0's output touches only member 0's parameters
    out[0].sum().backward()
    for p in q.parameters():
        assert p.grad[1].abs().sum() == 0
        assert p.grad[0].abs().sum() > 0


def test_bf16_autocast_keeps_output_layers_in_float32():
    """``precision="bfloat16"``: hidden products in bf16, the output layer in float32 on a float32
    input, so Q-values, actions and log-densities are float32 and close to the float32 ones;
    without autocast the networks compute exactly what they did."""
    torch.manual_seed(0)
    q = QEnsemble(3, 1, (64, 64), n=2)
    actor = DeterministicActor(3, [-2.0], [2.0], (64, 64))
    gauss = SquashedGaussianActor(3, [-2.0], [2.0], (64, 64))
    obs, act = torch.randn(32, 3), torch.rand(32, 1) * 4 - 2
    with torch.no_grad():
        exact = q(obs, act), actor(obs), gauss.distribution_params(obs)[0]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            mixed = q(obs, act), actor(obs), gauss.distribution_params(obs)[0]
            assert q.body[0](torch.zeros(2, 32, 4)).dtype == torch.bfloat16  # hidden: bf16
    for e, m in zip(exact, mixed, strict=True):
        assert m.dtype == torch.float32
        assert torch.allclose(e, m, atol=0.05, rtol=0.02) and not torch.equal(e, m)


@pytest.mark.parametrize("out_features", [1, 3])
@pytest.mark.parametrize("members", [slice(None), slice(1, 2)])
def test_ensemble_linear_is_each_members_affine_map(out_features, members):
    """Every member computes ``b_j + x_j @ w_j`` (the one-column output layer takes a faster path
    than the batched product; both must give the same values and exact gradients)."""
    torch.manual_seed(0)
    layer = EnsembleLinear(2, 5, out_features).double()
    x = torch.randn(2, 7, 5, dtype=torch.float64)[members].requires_grad_(True)
    out = layer(x, members)
    w, b = layer.weight[members], layer.bias[members]
    for j in range(out.shape[0]):  # float64: the two paths agree to ~1e-15
        assert torch.allclose(out[j], x[j] @ w[j] + b[j], rtol=1e-12, atol=1e-12)

    def f(x, weight, bias):
        return torch.func.functional_call(layer, {"weight": weight, "bias": bias}, (x, members))

    assert torch.autograd.gradcheck(f, (x, layer.weight, layer.bias))
