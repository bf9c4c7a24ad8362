"""Target updates, exploration noise and the replay buffer: properties that mutation testing
(``make mutation``) found no test for; each test kills mutants of rlbook.targets, rlbook.noise
or rlbook.buffer that the other tests let survive (tests/mutation-report.md)."""

import numpy as np
import pytest
import torch
from torch import nn

from helpers import FLOAT32
from rlbook.buffer import ReplayBuffer, dataset_tensors
from rlbook.noise import GaussianNoise, OrnsteinUhlenbeckNoise, ou_stationary_std
from rlbook.targets import ema_update, hard_update, make_target


def _normed(seed):
    """A network with parameters and buffers (BatchNorm's running statistics)."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    with torch.no_grad():
        net[1].running_mean.uniform_(-1, 1)
        net[1].running_var.uniform_(0.5, 2)
    return net


# --- targets -------------------------------------------------------------------------------------
def test_hard_update_copies_parameters_and_buffers():
    """``hard_update`` makes the target equal to the online network: parameters and buffers."""
    online, target = _normed(0), _normed(1)
    hard_update(target, online)
    for t, o in zip(target.state_dict().values(), online.state_dict().values(), strict=True):
        assert torch.equal(t, o)  # copies: bit-identical


def test_ema_update_averages_parameters_and_copies_buffers():
    """``ema_update`` moves parameters a fraction tau toward the online ones, and copies buffers
    (running statistics, an actor's action box): they are not parameters to average."""
    online, target = _normed(0), _normed(1)
    before = [p.detach().clone() for p in target.parameters()]
    ema_update(target, online, 0.3)
    for t, o, b in zip(target.parameters(), online.parameters(), before, strict=True):
        assert torch.allclose(t, b + 0.3 * (o - b), **FLOAT32)
    for t, o in zip(target.buffers(), online.buffers(), strict=True):
        assert torch.equal(t, o)


class _WithBuffer(nn.Linear):
    def __init__(self):
        super().__init__(2, 2)
        self.register_buffer("box", torch.ones(2))


def test_updates_refuse_networks_of_different_shapes():
    """A target that is not a copy of the online network (another list of parameters or of
    buffers) is refused, not updated in part."""
    small, big = nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    with pytest.raises(ValueError):
        hard_update(small, big)
    with pytest.raises(ValueError):
        hard_update(big, small)
    with pytest.raises(
        ValueError, match="^target and online networks have different parameter lists$"
    ):
        ema_update(small, big, 0.5)
    with pytest.raises(
        ValueError, match="^target and online networks have different parameter lists$"
    ):
        ema_update(big, small, 0.5)
    for a, b in ((_WithBuffer(), nn.Linear(2, 2)), (nn.Linear(2, 2), _WithBuffer())):
        with pytest.raises(ValueError):
            hard_update(a, b)
        with pytest.raises(ValueError):
            ema_update(a, b, 0.5)


@pytest.mark.parametrize("tau", [0.0, 1.5])
def test_ema_rate_outside_the_unit_interval_is_refused_by_name(tau):
    """tau in (0, 1] is the weight of the online network; anything else is refused, the message
    starting with the name of the setting."""
    with pytest.raises(ValueError, match=r"^tau must be"):
        ema_update(nn.Linear(1, 1), nn.Linear(1, 1), tau)


def test_make_target_is_frozen_and_independent():
    """The target starts equal to the network, needs no gradients, and shares no storage."""
    online = _normed(0)
    target = make_target(online)
    assert all(not p.requires_grad for p in target.parameters())
    assert all(p.requires_grad for p in online.parameters())
    with torch.no_grad():
        online[0].weight.add_(1.0)
        online[1].running_mean.add_(1.0)
    assert not torch.equal(online[0].weight, target[0].weight)
    assert not torch.equal(online[1].running_mean, target[1].running_mean)


# --- exploration noise ---------------------------------------------------------------------------
def test_gaussian_noise_defaults_shape_seed_and_size_check():
    """``GaussianNoise(size)`` draws vectors of ``size`` independent N(0, 0.1^2) values (the
    default sigma, in normalized action units), the same for the same seed; a size below 1 is
    refused by name."""
    assert GaussianNoise(3, seed=0)().shape == (3,)
    noise = GaussianNoise(2, seed=4)
    draws = np.stack([noise() for _ in range(20_000)])
    # 40,000 N(0, 0.01) values: the standard error of the std is 0.1 / sqrt(80,000) = 3.5e-4,
    # the bound is 6 of them
    assert draws.std() == pytest.approx(0.1, abs=2e-3) and abs(draws.mean()) < 2e-3
    again = GaussianNoise(2, seed=4)
    assert np.array_equal(np.stack([again() for _ in range(20_000)]), draws)
    for size in (0, -1, 1.5):
        with pytest.raises(ValueError, match=r"^size must be an integer in \[1, "):
            GaussianNoise(size)
    assert np.all(GaussianNoise(2, sigma=0.0, seed=0)() == 0.0)  # sigma 0: no exploration


def test_ou_noise_defaults_are_the_ddpg_papers_process():
    """Without arguments the OU process is DDPG's: theta 0.15, sigma 0.2, mu 0, dt 0.01,
    starting at mu; a seed fixes its path."""
    noise = OrnsteinUhlenbeckNoise(2, seed=5)
    rng = np.random.default_rng(5)
    x = np.zeros(2)
    for _ in range(5):
        x = x + 0.15 * (0.0 - x) * 0.01 + 0.2 * np.sqrt(0.01) * rng.standard_normal(2)
        assert np.allclose(noise(), x, rtol=1e-12, atol=1e-15)  # float64, the same operations


def test_ou_noise_starts_and_restarts_at_x0():
    """``x0`` is where the process starts and where ``reset`` puts it back (default ``mu``)."""
    noise = OrnsteinUhlenbeckNoise(2, theta=1.0, sigma=0.5, mu=0.3, dt=0.1, x0=-2.0, seed=1)
    assert np.array_equal(noise.state, [-2.0, -2.0])
    first = noise()
    rng = np.random.default_rng(1)
    expected = -2.0 + 1.0 * (0.3 + 2.0) * 0.1 + 0.5 * np.sqrt(0.1) * rng.standard_normal(2)
    assert np.allclose(first, expected, rtol=1e-12, atol=1e-15)
    noise.reset()
    assert np.array_equal(noise.state, [-2.0, -2.0])
    assert np.array_equal(OrnsteinUhlenbeckNoise(1, mu=0.7).state, [0.7])


def test_ou_noise_returns_a_copy_of_its_state():
    """The value returned is the process's value at that step: changing it (the loop adds it to
    an action) does not change the process."""
    noise = OrnsteinUhlenbeckNoise(1, seed=0)
    value = noise()
    value += 100.0
    assert abs(noise.state[0]) < 1.0


def test_ou_stationary_std_is_the_exact_discrete_formula_and_infinite_when_unstable():
    """The stationary std of the discretised recursion is sigma sqrt(dt / (1 - rho^2)),
    rho = 1 - theta dt, for |rho| < 1; a random walk (theta = 0) or |rho| >= 1 has none."""
    for theta, sigma, dt in (
        (0.15, 0.2, 0.01),
        (1.0, 0.3, 0.05),
        (2.0, 0.5, 0.3),
        (15.0, 0.3, 0.1),
    ):
        rho = 1 - theta * dt
        expected = sigma * np.sqrt(dt / (1 - rho**2))
        assert ou_stationary_std(theta, sigma, dt) == pytest.approx(expected, rel=1e-12)
    assert ou_stationary_std(0.0, 0.2, 0.01) == np.inf
    assert ou_stationary_std(20.0, 0.2, 0.1) == np.inf  # rho = -1: oscillates, never settles
    assert ou_stationary_std(19.0, 0.2, 0.1) < np.inf  # rho = -0.9: stable


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(size=0), "size"),
        (dict(size=1, dt=0.0), "dt"),
        (dict(size=1, theta=-0.1), "theta"),
        (dict(size=1, sigma=-0.1), "sigma"),
        (dict(size=1, mu=float("nan")), "mu"),
        (dict(size=1, x0=float("inf")), "x0"),
        (dict(size=1, theta=20.0, dt=0.1), "theta"),
    ],
)
def test_ou_noise_refuses_bad_settings_by_name(kwargs, name):
    """Each invalid setting is refused with a ValueError whose message starts with its name
    (theta * dt >= 2, an unstable recursion, names theta)."""
    with pytest.raises(ValueError, match=f"^{name}"):
        OrnsteinUhlenbeckNoise(**kwargs)


def test_unstable_ou_is_refused_with_its_theta_dt():
    """The refusal of an unstable process reports the product theta * dt it got."""
    with pytest.raises(ValueError, match=r"^theta \* dt must be in \[0, 2\) .*; got 3$"):
        OrnsteinUhlenbeckNoise(1, theta=30.0, dt=0.1)


def test_ou_noise_accepts_the_edges_of_its_ranges():
    """theta = 0 (a random walk), sigma = 0 (no noise) and theta * dt just below 2 are valid."""
    OrnsteinUhlenbeckNoise(1, theta=0.0)
    assert np.all(OrnsteinUhlenbeckNoise(2, sigma=0.0, mu=0.5, x0=0.5)() == 0.5)
    OrnsteinUhlenbeckNoise(1, theta=19.9, dt=0.1)


# --- replay buffer -------------------------------------------------------------------------------
def test_replay_buffer_batches_are_float32_tensors_of_the_stored_values():
    """A batch holds float32 tensors of the stored values, on the buffer's device (CPU by
    default), with the shapes (batch, dim) and (batch,)."""
    buf = ReplayBuffer(3, 2, capacity=4, seed=0)
    buf.add([0.5, 1, 2], [0.25, -1], 1.5, [3, 4, 5], True, False)
    b = buf.sample(5)
    assert all(t.dtype == torch.float32 and t.device.type == "cpu" for t in b)
    assert b.obs.shape == (5, 3) and b.act.shape == (5, 2) and b.rew.shape == (5,)
    assert b.obs[0].tolist() == [0.5, 1, 2] and b.act[0].tolist() == [0.25, -1]
    assert b.rew.tolist() == [1.5] * 5 and b.next_obs[0].tolist() == [3, 4, 5]
    assert b.terminated.tolist() == [1.0] * 5 and b.truncated.tolist() == [0.0] * 5


def test_replay_buffer_sampling_is_fixed_by_its_seed():
    """Two buffers with the same seed and contents draw the same batches."""
    bufs = [ReplayBuffer(1, 1, capacity=50, seed=3) for _ in range(2)]
    for buf in bufs:
        for i in range(30):
            buf.add([i], [0], i, [i], False, False)
    assert torch.equal(bufs[0].sample(20).rew, bufs[1].sample(20).rew)


def test_replay_buffer_refuses_bad_sizes_by_name():
    """A capacity or a batch size below 1 is refused with a message naming it."""
    with pytest.raises(ValueError, match=r"^capacity must be an integer in \[1, "):
        ReplayBuffer(1, 1, capacity=0)
    buf = ReplayBuffer(1, 1, capacity=1)
    buf.add([0], [0], 0, [0], False, False)
    assert len(buf) == 1 and buf.sample(1).rew.shape == (1,)  # capacity 1 works
    with pytest.raises(ValueError, match=r"^batch_size must be an integer in \[1, "):
        buf.sample(0)
    with pytest.raises(ValueError, match="^cannot sample from an empty replay buffer$"):
        ReplayBuffer(1, 1, capacity=2).sample(1)


def test_dataset_tensors_converts_a_dataset_to_float32_and_integer_actions():
    """``dataset_tensors`` turns ``(s, a, r, s', terminated)`` arrays into float32 tensors, the
    actions into integer indices when ``discrete`` (continuous actions by default)."""
    data = (
        np.array([[0.5], [1.5]]),
        np.array([1, 0]),
        np.array([1.0, -2.0]),
        np.array([[2.5], [3.5]]),
        np.array([0.0, 1.0]),
    )
    obs, act, rew, next_obs, term = dataset_tensors(data)
    assert [t.dtype for t in (obs, act, rew, next_obs, term)] == [torch.float32] * 5
    assert obs.tolist() == [[0.5], [1.5]] and act.tolist() == [1.0, 0.0]
    assert rew.tolist() == [1.0, -2.0] and next_obs.tolist() == [[2.5], [3.5]]
    assert term.tolist() == [0.0, 1.0]
    obs, act, *_ = dataset_tensors(data, discrete=True)
    assert act.dtype == torch.long and act.tolist() == [1, 0] and obs.dtype == torch.float32
    stored_as_floats = (data[0], np.array([1.0, 0.0], dtype=np.float32), *data[2:])
    act = dataset_tensors(stored_as_floats, discrete=True)[1]
    assert act.dtype == torch.long and act.tolist() == [1, 0]  # indices, whatever they came as
    assert dataset_tensors(data, device="cpu")[0].device.type == "cpu"


# PyTorch's "meta" device holds shapes without data: on a CPU-only machine it stands for another
# device (a GPU), so a tensor left on the CPU by mistake shows.
def test_replay_buffer_batches_are_on_the_buffers_device():
    """Sampled batches are moved to the buffer's device (the agent's), every field."""
    buf = ReplayBuffer(2, 1, capacity=4, seed=0, device="meta")
    buf.add([0.0, 1.0], [0.5], 1.0, [1.0, 2.0], False, True)
    assert all(t.device.type == "meta" for t in buf.sample(3))


def test_dataset_tensors_are_on_the_requested_device():
    """``dataset_tensors(..., device=d)`` puts every tensor, the actions included, on ``d``."""
    data = (np.zeros((2, 1)), np.array([1, 0]), np.zeros(2), np.zeros((2, 1)), np.zeros(2))
    for discrete in (False, True):
        tensors = dataset_tensors(data, discrete=discrete, device="meta")
        assert all(t.device.type == "meta" for t in tensors)
