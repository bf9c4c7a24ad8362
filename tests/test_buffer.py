import numpy as np
import pytest

from rlbook.buffer import ReplayBuffer


def fill(buf, n, start=0):
    for i in range(start, start + n):
        buf.add(
            [i, i], [i / 100], float(i), [i + 1, i + 1], terminated=i % 3 == 0, truncated=i % 5 == 0
        )


def test_termination_and_truncation_are_stored_separately():
    buf = ReplayBuffer(2, 1, capacity=20, seed=0)
    fill(buf, 15)
    idx = np.arange(15)
    b = buf.get(idx)
    assert b.terminated.tolist() == [float(i % 3 == 0) for i in range(15)]
    assert b.truncated.tolist() == [float(i % 5 == 0) for i in range(15)]


def test_wraps_around_and_overwrites_the_oldest():
    buf = ReplayBuffer(2, 1, capacity=10, seed=0)
    fill(buf, 25)
    assert len(buf) == 10
    stored = sorted(buf.rew.tolist())
    assert stored == [float(i) for i in range(15, 25)]  # the 10 newest
    assert buf.pos == 25 % 10


def test_samples_only_stored_transitions():
    buf = ReplayBuffer(2, 1, capacity=100, seed=1)
    fill(buf, 7)
    b = buf.sample(1000)
    assert set(b.rew.tolist()) <= {float(i) for i in range(7)}
    # consistency of a transition across fields
    assert np.allclose(b.obs[:, 0].numpy(), b.rew.numpy())
    assert np.allclose(b.next_obs[:, 0].numpy(), b.rew.numpy() + 1)


def test_empty_buffer_and_bad_sizes_raise():
    buf = ReplayBuffer(2, 1, capacity=3)
    with pytest.raises(ValueError, match="empty"):
        buf.sample(1)
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(2, 1, capacity=0)
    fill(buf, 1)
    with pytest.raises(ValueError, match="batch_size"):
        buf.sample(0)
