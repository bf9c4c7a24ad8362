import re

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


@pytest.mark.parametrize("batch", [False, True])
def test_load_state_dict_refuses_a_field_of_the_wrong_shape_or_dtype(batch):
    """A saved state whose arrays do not fit the buffer (another environment's observations,
    float64 rows, a field missing) is refused, naming the field and the shape the buffer expects,
    and nothing is loaded; before, numpy broadcast one observation dimension over three and cast
    float64 to float32 without a word."""
    from rlbook.buffer import MemberReplayBuffers

    runs = (2,) if batch else ()

    def make(obs_dim):
        bufs = [ReplayBuffer(obs_dim, 1, capacity=10, seed=s) for s in range(2)]
        buf = MemberReplayBuffers(bufs) if batch else bufs[0]
        for i in range(4):
            row = np.full((*runs, obs_dim), float(i))
            buf.add(
                row,
                np.full((*runs, 1), i / 100),
                np.full(runs, float(i)),
                row + 1,
                np.zeros(runs, bool),
                np.zeros(runs, bool),
            )
        return buf

    def shape(*dims):
        return re.escape(str((*runs, *dims)))

    saved = make(1).state_dict()  # one observation dimension
    target = make(3)
    before = target.state_dict()
    with pytest.raises(ValueError, match=rf"'obs' has shape {shape(4, 1)}.*expects {shape(4, 3)}"):
        target.load_state_dict(saved)
    after = target.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in target.fields)  # nothing loaded
    state = make(3).state_dict()
    state["rew"] = state["rew"].astype(np.float64)
    with pytest.raises(
        ValueError, match=rf"'rew' has shape {shape(4)} float64.*{shape(4)} float32"
    ):
        make(3).load_state_dict(state)
    del state["rew"]
    with pytest.raises(ValueError, match="no field 'rew'"):
        make(3).load_state_dict(state)
    good = make(3)
    good.load_state_dict(before)
    assert all(np.array_equal(good.state_dict()[k], before[k]) for k in good.fields)


@pytest.mark.parametrize("batch", [False, True])
def test_load_state_dict_checks_the_counters_and_generators_before_loading(batch):
    """A saved state with a position outside the buffer, a negative size, a missing counter, a
    position that does not follow a filling buffer, a generator state that is not one, or (in a
    batch) one generator state too few is refused with the field named, and nothing is loaded:
    before, the rows and counters were written first and the generator's state failed after, or
    a position of 50 in a buffer of 10 was taken and the next ``add`` raised an IndexError."""
    from rlbook.buffer import MemberReplayBuffers

    runs = (2,) if batch else ()

    def make():
        bufs = [ReplayBuffer(3, 1, capacity=10, seed=s) for s in range(2)]
        buf = MemberReplayBuffers(bufs) if batch else bufs[0]
        for i in range(4):
            row = np.full((*runs, 3), float(i))
            buf.add(
                row,
                np.zeros((*runs, 1)),
                np.zeros(runs),
                row,
                np.zeros(runs, bool),
                np.zeros(runs, bool),
            )
        return buf

    source = make()
    source.add(
        *(
            np.asarray(x)
            for x in (
                np.ones((*runs, 3)),
                np.zeros((*runs, 1)),
                np.zeros(runs),
                np.ones((*runs, 3)),
            )
        ),
        np.zeros(runs, bool),
        np.zeros(runs, bool),
    )
    good = source.state_dict()  # 5 rows, pos 5
    bad_rng = [{"bit_generator": "MT19937"}] * (2 if batch else 1)
    cases = [
        ({"pos": 50}, "pos must be in"),
        ({"pos": 3}, "pos must be in"),
        ({"size": -1}, "size must be in"),
        ({"rng": bad_rng if batch else bad_rng[0]}, "'rng'"),
    ]
    if batch:
        cases.append(({"rng": good["rng"][:1]}, "one generator state per run"))
    for change, message in cases:
        target = make()
        before = target.state_dict()
        with pytest.raises(ValueError, match=message):
            target.load_state_dict({**good, **change})
        after = target.state_dict()
        assert after["pos"] == before["pos"] and after["size"] == before["size"]
        assert all(np.array_equal(before[k], after[k]) for k in target.fields)
        assert repr(after["rng"]) == repr(before["rng"])  # nothing loaded
    missing = dict(good)
    del missing["pos"]
    with pytest.raises(ValueError, match="no 'pos'"):
        make().load_state_dict(missing)
