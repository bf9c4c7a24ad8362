"""The optimum of Pendulum-v1 on the book's 100 fixed starts (``rlbook.optimum``): the committed
record holds what it says, and no controller we know of beats it on any start."""

import importlib.util
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import scipy.linalg

from rlbook.loop import evaluate
from rlbook.optimum import LEARNED, learned_returns, pendulum_optimum, replay

ROOT = Path(__file__).resolve().parents[1]
BEST = pendulum_optimum()


def test_the_record_has_200_torques_in_the_box_for_each_of_the_100_fixed_starts():
    assert BEST.seeds.tolist() == list(range(100))
    assert BEST.actions.shape == (100, 200)
    assert np.abs(BEST.actions).max() <= 2.0
    assert BEST.mean == pytest.approx(BEST.returns.mean(), abs=1e-9)
    env = gym.make("Pendulum-v1")
    for start in BEST.record["starts"][:5]:
        env.reset(seed=start["seed"])
        assert np.array_equal(env.unwrapped.state, start["state"])


@pytest.mark.parametrize("seed", [0, 3, 41, 77, 99])
def test_replaying_a_recorded_sequence_in_the_environment_gives_its_recorded_return(seed):
    # exact where sin rounds as it did when the record was made (numpy on this AVX-512 EPYC, and
    # under qemu EPYC-Rome (AVX2) and Nehalem (SSE4.2): make unit-emulated runs this test):
    # the sequences balance an unstable equilibrium, which amplifies any rounding difference
    assert replay(BEST.actions[seed], seed) == pytest.approx(BEST.returns[seed], abs=1e-6)


def swing_up_and_balance(obs: np.ndarray) -> np.ndarray:
    """A hand-written controller: pump energy (torque along theta_dot, proportional to the energy
    missing to stand upright) and, near the top, balance with the LQR of the upright linearization."""
    A = np.array([[1 + 15 * 0.05**2, 0.05], [15 * 0.05, 1.0]])
    B = np.array([[3 * 0.05**2], [3 * 0.05]])
    P = scipy.linalg.solve_discrete_are(A, B, np.diag([1.0, 0.1]), np.array([[0.001]]))
    K = np.linalg.solve(0.001 + B.T @ P @ B, B.T @ P @ A)[0]
    cos, sin, omega = obs[:, 0], obs[:, 1], obs[:, 2]
    theta = np.arctan2(sin, cos)
    missing = -(0.5 * omega**2 + 15 * (cos - 1))  # energy below the upright's
    pump = np.where(np.abs(omega) < 1e-3, 2.0, np.clip(omega * missing, -2, 2))
    balance = np.clip(-(K[0] * theta + K[1] * omega), -2, 2)
    near = (np.abs(theta) < 0.6) & (np.abs(omega) < 4)
    return np.where(near, balance, pump)[:, None]


def below(returns, baseline) -> np.ndarray:
    """The starts where ``returns`` fall short of ``baseline``."""
    return np.flatnonzero(np.asarray(returns) < np.asarray(baseline) - 1e-9)


def test_the_record_beats_a_swing_up_and_balance_controller_on_every_start():
    baseline = evaluate(swing_up_and_balance, lambda: gym.make("Pendulum-v1"))
    assert baseline.mean() > -150  # a fair controller, not a straw man
    assert below(BEST.returns, baseline).size == 0, below(BEST.returns, baseline)
    # the check would catch a poor optimizer: doing nothing falls short on nearly every start
    doing_nothing = [replay(np.zeros(200), seed) for seed in range(100)]
    assert below(doing_nothing, baseline).size >= 90


def test_no_learned_policy_beats_the_record_on_any_start():
    if not LEARNED.exists():
        pytest.skip(f"no record of learned policies at {LEARNED}")
    for algo, rows in learned_returns().items():
        ahead = rows > BEST.returns + 1e-6
        assert not ahead.any(), (algo, np.argwhere(ahead), (rows - BEST.returns)[ahead])


def test_the_search_steps_the_pendulum_as_the_environment_does():
    spec = importlib.util.spec_from_file_location(
        "pendulum_optimum", ROOT / "benchmarks" / "pendulum_optimum.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    torques = np.random.default_rng(0).uniform(-2.5, 2.5, (3, 200))
    for seed, u in enumerate(torques):
        th, om = script.start_states([seed])[0]
        total = 0.0
        for a in u:
            cost, th, om, _ = script.step(th, om, a)
            total -= cost
        assert total == replay(u, seed)  # to the last bit
