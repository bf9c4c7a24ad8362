import numpy as np
import pytest
import torch
from torch import nn

from helpers import FLOAT32
from rlbook.noise import GaussianNoise, OrnsteinUhlenbeckNoise, ou_path_std, ou_stationary_std
from rlbook.targets import ema_update, hard_update, make_target


def test_make_target_is_an_exact_frozen_copy():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    target = make_target(net)
    for p, q in zip(net.parameters(), target.parameters(), strict=True):
        assert torch.equal(p, q) and p is not q  # bit-identical on purpose: a copy
        assert not q.requires_grad


def test_ema_weights_the_online_parameters_by_tau():
    online, target = nn.Linear(2, 2), nn.Linear(2, 2)
    before = [p.detach().clone() for p in target.parameters()]
    ema_update(target, online, tau=0.1)
    for t, o, b in zip(target.parameters(), online.parameters(), before, strict=True):
        # float32 lerp against another float32 formula, parameters < 0.71: a few ulp; the former
        # atol=1e-7 was about one ulp, too little where 0.1 o + 0.9 b nearly cancels
        assert torch.allclose(t, 0.1 * o + 0.9 * b, **FLOAT32)
    ema_update(target, online, tau=1.0)  # tau = 1 is a hard copy
    for t, o in zip(target.parameters(), online.parameters(), strict=True):
        # exact on every CPU: lerp with weight >= 0.5 computes o - (o - t) * (1 - w), and 1 - w = 0
        assert torch.equal(t, o)


def test_ema_lag_is_about_one_over_tau():
    # a target tracking a parameter that grows linearly lags it by (1 - tau) / tau steps
    online, target = nn.Linear(1, 1, bias=False), nn.Linear(1, 1, bias=False)
    tau = 0.02
    with torch.no_grad():
        for t in range(2000):
            online.weight.fill_(float(t))
            ema_update(target, online, tau)
    lag = online.weight.item() - target.weight.item()
    # the transient (1 - tau)^2000 = 3e-18 is gone; float32 at values ~2000 rounds each update
    # by ~1e-4, averaged over ~1/tau updates: ~1e-5 relative to the lag of 49
    assert lag == pytest.approx((1 - tau) / tau, rel=1e-3)


def test_hard_update_copies():
    online, target = nn.Linear(2, 2), nn.Linear(2, 2)
    hard_update(target, online)
    assert all(  # bit-identical on purpose: a copy
        torch.equal(t, o) for t, o in zip(target.parameters(), online.parameters(), strict=True)
    )


@pytest.mark.parametrize("tau", [0.0, -0.1, 1.5, float("nan")])
def test_bad_tau_is_refused(tau):
    with pytest.raises(ValueError, match="tau"):
        ema_update(nn.Linear(1, 1), nn.Linear(1, 1), tau)


def test_ou_noise_follows_its_recursion_and_resets():
    noise = OrnsteinUhlenbeckNoise(1, theta=0.5, sigma=0.3, mu=0.2, dt=0.1, seed=3)
    rng = np.random.default_rng(3)
    x = 0.2
    for _ in range(5):
        x = x + 0.5 * (0.2 - x) * 0.1 + 0.3 * np.sqrt(0.1) * rng.standard_normal(1)
        assert np.allclose(noise(), x)  # float64, the same draws: ~1e-16
    noise.reset()
    assert np.allclose(noise.state, 0.2)


@pytest.mark.heavy
def test_ou_stationary_std_and_autocorrelation():
    theta, sigma, dt = 0.15, 0.2, 0.5
    noise = OrnsteinUhlenbeckNoise(1, theta, sigma, dt=dt, seed=0)
    xs = np.array([noise()[0] for _ in range(200_000)])[1000:]
    # AR(1) with phi = 1 - theta dt = 0.925 over 199,000 steps: ~15,000 effective samples for the
    # variance, standard error of the std 0.6%, of the lag-1 correlation 0.0009; the bounds are
    # 8 and 11 standard errors
    assert xs.std() == pytest.approx(ou_stationary_std(theta, sigma, dt), rel=0.05)
    lag1 = np.corrcoef(xs[:-1], xs[1:])[0, 1]
    assert lag1 == pytest.approx(1 - theta * dt, abs=0.01)


@pytest.mark.heavy
def test_gaussian_noise_is_uncorrelated():
    noise = GaussianNoise(1, sigma=0.5, seed=0)
    xs = np.array([noise()[0] for _ in range(100_000)])
    # standard errors with 100,000 draws: std 1 / sqrt(2 n) = 0.22%, correlation 0.0032: the
    # bounds are 9 and 6 standard errors
    assert xs.std() == pytest.approx(0.5, rel=0.02)
    assert abs(np.corrcoef(xs[:-1], xs[1:])[0, 1]) < 0.02


def test_ou_path_std_is_the_spread_of_paths_reset_to_mu():
    theta, sigma, dt, steps = 15.0, 0.2, 0.01, 200
    std = ou_path_std(theta, sigma, dt, steps)
    rho, t = 1 - theta * dt, np.arange(1, steps + 1)
    closed = sigma * np.sqrt(dt * (1 - rho ** (2 * t)) / (1 - rho**2))
    assert np.allclose(std, closed, rtol=1e-12, atol=0)  # float64 sums of 200 terms
    assert std[0] == pytest.approx(sigma * np.sqrt(dt), rel=1e-12)  # one kick from eta_0 = mu
    assert std[-1] == pytest.approx(ou_stationary_std(theta, sigma, dt), rel=1e-12)  # rho^400
    walk = ou_path_std(0.0, sigma, dt, 5)  # theta = 0: a random walk, variance sigma^2 dt t
    assert np.allclose(walk, sigma * np.sqrt(dt * np.arange(1, 6)), rtol=1e-12, atol=0)
    # against rlbook's noise itself: 4,000 paths of 50 steps at theta dt = 0.0015, far from
    # stationary; the sample std of 4,000 Gaussian draws has a relative standard error of 1.1%
    noise = OrnsteinUhlenbeckNoise(4_000, theta=0.15, sigma=0.2, mu=0.3, dt=0.01, seed=0)
    paths = np.array([noise() for _ in range(50)])
    assert np.allclose(paths.std(axis=1), ou_path_std(0.15, 0.2, 0.01, 50), rtol=0.06, atol=0)
    with pytest.raises(ValueError, match="theta"):
        ou_path_std(200.0, sigma, dt, steps)


def test_unstable_ou_is_refused():
    with pytest.raises(ValueError, match="theta"):
        OrnsteinUhlenbeckNoise(1, theta=30.0, dt=0.1)
