"""Property-based tests (hypothesis): random invalid inputs are refused with a ValueError naming
the field; replay buffers and target updates keep their invariants on random sequences."""

import dataclasses
import math
import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch import nn

from rlbook import ddpg, pcl, sac, td3
from rlbook.buffer import ReplayBuffer
from rlbook.noise import GaussianNoise, OrnsteinUhlenbeckNoise
from rlbook.targets import ema_update, hard_update, make_target

CONFIGS = [ddpg.DDPGConfig, td3.TD3Config, sac.SACConfig, pcl.PCLConfig]
FIELDS = [(cls, f.name) for cls in CONFIGS for f in dataclasses.fields(cls)]
ANYTHING = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**9), 10**9),
    st.text(max_size=6),
    st.none(),
    st.booleans(),
    st.lists(st.integers(-3, 3), max_size=3),
    st.tuples(st.integers(-3, 300)),
)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _real(low=None, high=None, low_open=False, high_open=False):
    def ok(v):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            return False
        above = low is None or (v > low if low_open else v >= low)
        below = high is None or (v < high if high_open else v <= high)
        return above and below

    return ok


def _int(low):
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low


def _one_of(*choices):
    return lambda v: isinstance(v, str) and v in choices


def _sizes(v):
    if isinstance(v, int) and not isinstance(v, bool):
        return v >= 1
    return isinstance(v, list | tuple) and len(v) > 0 and all(_int(1)(h) for h in v)


def _device(v):
    cuda = "|cuda(:0)?" if torch.cuda.is_available() else ""
    return isinstance(v, str) and re.fullmatch(f"auto|cpu(:[0-9]+)?{cuda}", v) is not None


def _bool(v):
    return isinstance(v, bool)


def _or_none(ok):
    return lambda v: v is None or ok(v)


# What each field admits, written from the configs' documentation (not from their code): a value
# outside it must be refused, a value inside it accepted (``device``: a device this machine has).
COMMON = {
    "total_steps": _int(1),
    "warmup_steps": _int(0),
    "gamma": _real(0, 1, high_open=True),
    "lr_q": _real(0, low_open=True),
    "lr_pi": _real(0, low_open=True),
    "batch_size": _int(1),
    "buffer_size": _int(1),
    "hidden": _sizes,
    "eval_every": _int(0),
    "eval_episodes": _int(1),
    "device": _device,
    "precision": _one_of("float32", "bfloat16", "auto"),
    "lr_schedule": _one_of("constant", "linear"),
    "tau": _real(0, 1, low_open=True),
}
NOISE = {
    "target_period": _int(1),
    "noise": _one_of("ou", "gaussian"),
    "noise_sigma": _real(0),
    # a stable OU step needs ou_theta * ou_dt < 2; the other field at its default (0.01, 0.15)
    "ou_theta": lambda v: _real(0)(v) and v * 0.01 < 2,
    "ou_mu": _real(),
    "ou_dt": lambda v: _real(0, low_open=True)(v) and 0.15 * v < 2,
}
DOMAINS = {
    ddpg.DDPGConfig: {**COMMON, **NOISE, "target_update": _one_of("hard", "ema")},
    td3.TD3Config: {
        **COMMON,
        **NOISE,
        "target_update": _one_of("ema"),
        "twin": _one_of("min", "mean", "none"),
        "smoothing": _bool,
        "target_noise": _real(0),
        "noise_clip": _real(0),
        "policy_delay": _int(1),
    },
    sac.SACConfig: {
        **COMMON,
        "alpha": lambda v: v == "auto" or _real(0)(v),
        "init_alpha": _real(0, low_open=True),
        "lr_alpha": _or_none(_real(0, low_open=True)),
        "target_entropy": _or_none(_real()),
        "value_network": _bool,
    },
    pcl.PCLConfig: {
        "gamma": _real(0, 1, high_open=True),
        "alpha": _real(0, low_open=True),
        "d": _int(1),
        "lr_pi": _real(0, low_open=True),
        "lr_v": _real(0, low_open=True),
        "capacity": _int(1),
        "lam": _real(0),
        "episode_length": _int(1),
        "replay_updates": _int(0),
        "optimizer": _one_of("sgd", "adam"),
        "lr_decay": _real(0, 1, low_open=True),
        "reward_scale": _real(0, low_open=True),
        "total_steps": _int(1),
        "eval_every": _int(0),
        "eval_episodes": _int(1),
        "hidden": _sizes,
        "start": _or_none(_int(0)),
        "unified": _bool,
    },
}


def test_every_field_has_a_stated_domain():
    for cls, name in FIELDS:
        assert name in DOMAINS[cls], f"{cls.__name__}.{name}: add its domain to DOMAINS"


@pytest.mark.parametrize("cls,name", FIELDS, ids=[f"{c.__name__}.{n}" for c, n in FIELDS])
@FAST
@given(value=ANYTHING)
def test_a_value_is_accepted_exactly_when_it_is_in_the_field_domain(cls, name, value):
    """Accepted if and only if valid: an invalid value accepted silently fails, and so does a
    refusal that does not name the field (or a valid value refused)."""
    valid = DOMAINS[cls][name](value)
    try:
        cls(**{name: value})
    except ValueError as err:
        assert not valid, f"{name}={value!r} is valid but was refused: {err}"
        assert re.search(rf"\b{name}\b", str(err)), f"{name}={value!r}: {err} does not name it"
    else:
        assert valid, f"{name}={value!r} is outside its domain but was accepted"


@pytest.mark.parametrize("cls,name", FIELDS, ids=[f"{c.__name__}.{n}" for c, n in FIELDS])
@pytest.mark.parametrize("boundary", ["low", "high"])
def test_the_edges_of_each_numeric_domain(cls, name, boundary):
    """Values at and just past each numeric edge, where an off-by-one (``<`` for ``<=``) hides."""
    ok = DOMAINS[cls][name]
    probes = [-1, 0, 1, 2, -1e-9, 1e-9, 1 - 1e-9, 1 + 1e-9, 0.5, 1e9]
    probes = probes[:4] if boundary == "low" else probes[4:]
    for value in probes:
        try:
            cls(**{name: value})
            accepted = True
        except ValueError:
            accepted = False
        assert accepted == ok(value), f"{name}={value!r}: accepted={accepted}, valid={ok(value)}"


@pytest.mark.parametrize("cls,name", FIELDS, ids=[f"{c.__name__}.{n}" for c, n in FIELDS])
def test_values_of_the_wrong_kind_are_always_refused(cls, name):
    default = next(f.default for f in dataclasses.fields(cls) if f.name == name)
    bad = [object(), ["a"], [0]] if isinstance(default, tuple) else [object(), [1]]
    if default is not None:
        bad.append(None)
    if isinstance(default, int | float) and not isinstance(default, bool):
        bad += [math.nan, math.inf, "1"]
    if isinstance(default, int) and not isinstance(default, bool):
        bad.append(2.5)
    for value in bad:
        with pytest.raises(ValueError, match=f"^{name}"):
            cls(**{name: value})


@FAST
@given(
    theta=st.floats(-10, 300),
    sigma=st.floats(-1, 2),
    dt=st.floats(-1, 1),
    size=st.integers(-2, 3),
)
def test_noise_parameters_are_validated(theta, sigma, dt, size):
    valid = size >= 1 and sigma >= 0 and dt > 0 and theta >= 0 and theta * dt < 2
    try:
        OrnsteinUhlenbeckNoise(size, theta, sigma, dt=dt)
        assert valid
    except ValueError as err:
        assert not valid and str(err).split()[0] in ("size", "theta", "sigma", "dt", "theta")
    if size >= 1 and sigma < 0:
        with pytest.raises(ValueError, match="^sigma"):
            GaussianNoise(size, sigma)


# --- replay buffer -------------------------------------------------------------------------------
@FAST
@given(capacity=st.integers(1, 20), n=st.integers(0, 60), batch=st.integers(1, 16))
def test_replay_buffer_keeps_the_last_capacity_transitions_and_samples_only_them(
    capacity, n, batch
):
    buf = ReplayBuffer(2, 1, capacity, seed=0)
    for i in range(n):
        buf.add([i, -i], [i], i, [i + 1, -i - 1], i % 7 == 6, i % 5 == 4)
    assert len(buf) == min(n, capacity)
    stored = sorted(buf.rew[: len(buf)].tolist())
    assert stored == list(range(max(0, n - capacity), n))  # the newest, the oldest overwritten
    assert buf.pos == n % capacity
    if n == 0:
        with pytest.raises(ValueError, match="empty"):
            buf.sample(batch)
        return
    b = buf.sample(batch)
    assert b.obs.shape == (batch, 2) and set(b.rew.tolist()) <= set(stored)
    # every sampled transition is internally consistent (the fields come from one slot); exact:
    # small integers are exact in float32
    assert torch.equal(b.obs[:, 0], b.rew) and torch.equal(b.next_obs[:, 0], b.rew + 1)
    assert torch.equal(b.terminated, (b.rew % 7 == 6).float())
    assert torch.equal(b.truncated, (b.rew % 5 == 4).float())


@FAST
@given(
    returns=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=12),
    lam=st.floats(0, 1e3),
    capacity=st.integers(1, 8),
)
def test_episode_replay_priorities_are_a_stable_softmax_and_removal_is_oldest_first(
    returns, lam, capacity
):
    replay = pcl.EpisodeReplay(capacity, lam, seed=0)
    for k, r in enumerate(returns):
        replay.add(pcl.Episode(np.zeros(2), np.zeros(1, dtype=int), np.array([r]), bool(k % 2)))
    kept = returns[-capacity:]
    assert replay.returns == kept
    p = replay.probabilities()
    # float64 sum of <= 8 normalised terms: 1 to a few ulp (rel_tol 1e-9)
    assert np.all(np.isfinite(p)) and np.all(p >= 0) and math.isclose(p.sum(), 1.0)
    logits = lam * np.array(kept)
    order = np.argsort(logits, kind="stable")
    # a higher return is never less likely: numpy's exp (its SIMD loops differ by CPU) is accurate
    # to a few ulp but not exactly monotone for logits an ulp apart, so a decrease up to 8 ulp
    # of p is rounding, more is an error
    assert np.all(np.diff(p[order]) >= -8 * np.finfo(float).eps * p[order][1:])
    if len(kept) > 1:  # ratios follow exp(lambda (R_i - R_j)) where that is representable
        i, j = 0, len(kept) - 1
        diff = lam * (kept[i] - kept[j])
        assume(abs(diff) < 50 and p[i] > 0 and p[j] > 0)
        # the logits lambda R reach 1e9, where a float64 ulp is 1.2e-7: rounding lambda R_i,
        # lambda R_j and the shift by the max moves the exponent by up to ~4e-7
        assert math.isclose(p[i] / p[j], math.exp(diff), rel_tol=1e-6)


# --- target updates ----------------------------------------------------------------------------
@FAST
@given(tau=st.floats(1e-6, 1.0), seed=st.integers(0, 10**6), steps=st.integers(1, 5))
def test_ema_update_weights_the_online_parameters_by_tau(tau, seed, steps):
    torch.manual_seed(seed)
    online = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    target = make_target(online)
    expected = [p.detach().double().clone() for p in target.parameters()]
    for _ in range(steps):
        with torch.no_grad():
            for p in online.parameters():
                p.add_(torch.randn_like(p))
        ema_update(target, online, tau)
        expected = [
            tau * o.detach().double() + (1 - tau) * e
            for o, e in zip(online.parameters(), expected, strict=True)
        ]
    for t, e in zip(target.parameters(), expected, strict=True):
        # float32 lerp against a float64 recursion: <= 5 steps, parameters |theta| < ~10, each
        # step rounding to eps = 1.2e-7 relative: a few 1e-6 at most
        assert torch.allclose(t.double(), e, atol=1e-5, rtol=1e-5)
        assert not t.requires_grad


@FAST
@given(seed=st.integers(0, 10**6))
def test_targets_start_as_exact_independent_copies_and_hard_update_copies_exactly(seed):
    torch.manual_seed(seed)
    online = nn.Linear(3, 2)
    target = make_target(online)
    # bit-identical on purpose: copies, no arithmetic
    assert all(
        torch.equal(a, b) for a, b in zip(online.parameters(), target.parameters(), strict=True)
    )
    with torch.no_grad():
        online.weight.add_(1.0)
    assert not torch.equal(online.weight, target.weight)  # no shared storage
    hard_update(target, online)
    assert torch.equal(online.weight, target.weight) and torch.equal(online.bias, target.bias)
