"""State owned by what holds it: the replay buffers' and noise processes' ``state_dict`` /
``load_state_dict``, an agent's training state as the union of its parts', agents registering
themselves for loading, ``Result.to_record``, and checkpoints of format 4 (written by the code
before this layout) read and resumed exactly.

Comparisons are bit for bit, on this machine: the format-4 files in ``tests/data`` were written
on another one, so they are compared with a run made here only where this machine recomputes
their first part to the last bit (see :func:`_fixture_matches`)."""

from pathlib import Path

import numpy as np
import pytest
import torch

from rlbook import checkpoint, ddpg, sac, td3
from rlbook.agent import AGENTS, OffPolicyAgent
from rlbook.buffer import MemberReplayBuffers, ReplayBuffer
from rlbook.dqn import DQN
from rlbook.loop import Learner
from rlbook.noise import GaussianNoise, MemberNoise, OrnsteinUhlenbeckNoise

pytestmark = pytest.mark.usefixtures("one_thread")

DATA = Path(__file__).parent / "data"
# the settings of the format-4 files (tests/data), written by the code of 7e3ed5c: a DDPG run
# with OU noise, seed 7, and a TD3 batch of seeds 1 and 2, both stopped by Ctrl-C at step 200
FIXTURE = dict(
    total_steps=300,
    warmup_steps=100,
    eval_every=100,
    eval_episodes=2,
    hidden=(8, 8),
    batch_size=16,
    buffer_size=1_000,
)


def fill(buf, n):
    for i in range(n):
        buf.add([i, -i], [i / 100], float(i), [i + 1, i], terminated=i % 3 == 0, truncated=False)


def test_a_buffer_restored_from_its_state_dict_holds_and_samples_the_same():
    buf = ReplayBuffer(2, 1, capacity=10, seed=3)
    fill(buf, 13)  # wrapped around: pos 3, size 10
    buf.sample(4)  # the generator has moved
    state = buf.state_dict()
    assert (state["pos"], state["size"]) == (3, 10) and state["obs"].shape == (10, 2)
    fresh = ReplayBuffer(2, 1, capacity=10, seed=99)
    fresh.load_state_dict(state)
    for k in ReplayBuffer.fields:
        np.testing.assert_array_equal(getattr(fresh, k), getattr(buf, k))
    assert (fresh.pos, fresh.size) == (buf.pos, buf.size)
    assert all(torch.equal(x, y) for x, y in zip(fresh.sample(8), buf.sample(8), strict=True))
    fill(fresh, 2)
    fill(buf, 2)
    np.testing.assert_array_equal(fresh.rew, buf.rew)  # the next add goes to the same place


def test_a_buffer_state_without_rng_leaves_the_generator_and_a_bigger_one_is_refused():
    buf = ReplayBuffer(2, 1, capacity=10, seed=3)
    fill(buf, 4)
    state = buf.state_dict(rng=False)
    assert "rng" not in state and state["obs"].shape == (4, 2)  # only the stored rows
    fresh = ReplayBuffer(2, 1, capacity=10, seed=5)
    before = fresh.rng.bit_generator.state
    fresh.load_state_dict(state)
    assert fresh.rng.bit_generator.state == before and len(fresh) == 4
    with pytest.raises(ValueError, match=r"size must be in \[0, buffer_size = 3\]; got 4"):
        ReplayBuffer(2, 1, capacity=3).load_state_dict(state)


def test_a_batch_of_buffers_restored_from_its_state_dict_samples_the_same_per_run():
    def batch(seeds):
        return MemberReplayBuffers([ReplayBuffer(2, 1, 8, seed=s) for s in seeds])

    buf = batch([1, 2, 3])
    for i in range(5):
        buf.add(np.full((3, 2), i), np.full((3, 1), i), np.arange(3) + i, np.ones((3, 2)), [0, 1, 0],
                [0, 0, 1])  # fmt: skip
    buf.sample(2)
    state = buf.state_dict()
    assert state["obs"].shape == (3, 5, 2) and len(state["rng"]) == 3
    fresh = batch([7, 8, 9])
    fresh.load_state_dict(state)
    assert all(torch.equal(x, y) for x, y in zip(fresh.sample(6), buf.sample(6), strict=True))
    assert (fresh.pos, fresh.size) == (5, 5)


@pytest.mark.parametrize(
    "make",
    [
        lambda seed: OrnsteinUhlenbeckNoise(2, theta=0.15, sigma=0.3, dt=0.05, seed=seed),
        lambda seed: GaussianNoise(2, sigma=0.3, seed=seed),
        lambda seed: MemberNoise([OrnsteinUhlenbeckNoise(2, seed=seed + k) for k in range(3)]),
    ],
    ids=["ou", "gaussian", "member"],
)
def test_a_noise_process_restored_from_its_state_dict_draws_the_same(make):
    noise = make(1)
    for _ in range(7):
        noise()
    fresh = make(50)
    fresh.load_state_dict(noise.state_dict())
    for _ in range(5):
        np.testing.assert_array_equal(fresh(), noise())
    # without rng only the process's value travels: the next draws come from another generator
    other = make(50)
    other.load_state_dict(noise.state_dict(rng=False))
    assert not np.array_equal(other(), noise())


def test_an_ou_state_of_another_size_is_refused():
    with pytest.raises(ValueError, match=r"shape \(3,\); this process has size 2"):
        OrnsteinUhlenbeckNoise(2).load_state_dict({"state": np.zeros(3)})


def _agent(module, **extra):
    return module.train(
        "Pendulum-v1", seed=1, progress=False, **{**FIXTURE, "total_steps": 150}, **extra
    ).agent


def test_an_agents_training_state_is_the_union_of_its_declared_parts():
    agent = _agent(ddpg, noise="ou")
    assert agent.state_parts == ("buffer", "noise")
    assert _agent(sac).state_parts == ("buffer",)
    state = agent.training_state(buffer=True, rng=True)
    assert set(state) == {"agent", "parts", "rng"} and set(state["parts"]) == {"buffer", "noise"}
    assert state["parts"]["noise"].keys() == agent.noise.state_dict().keys()
    assert "buffer" not in agent.training_state()["parts"]  # the buffer only on request
    other = ddpg.train(
        "Pendulum-v1", seed=2, progress=False, noise="ou", **{**FIXTURE, "total_steps": 150}
    ).agent
    other.load_training_state(state)
    np.testing.assert_array_equal(other.noise.state, agent.noise.state)
    assert (other.buffer.pos, other.buffer.size) == (agent.buffer.pos, agent.buffer.size)
    np.testing.assert_array_equal(other.act(np.zeros(3)), agent.act(np.zeros(3)))  # noise too
    with pytest.raises(ValueError, match=r"has the parts \['buffer', 'ghost', 'noise'\]"):
        other.load_training_state({**state, "parts": {**state["parts"], "ghost": {}}})
    without_noise = {k: v for k, v in state["parts"].items() if k != "noise"}
    with pytest.raises(ValueError, match="has the parts \\['buffer'\\]; DDPG has"):
        other.load_training_state({**state, "parts": without_noise})


def test_agents_register_themselves_under_their_name():
    assert AGENTS["DDPG"] is ddpg.DDPG and AGENTS["TD3"] is td3.TD3 and AGENTS["DQN"] is DQN
    assert AGENTS["SAC"] is sac.SAC and AGENTS["SAC-V"] is sac.SACValueNetwork

    class Tweaked(td3.TD3):  # keeps TD3's name: not a new agent, TD3 still loads as TD3
        pass

    assert AGENTS["TD3"] is td3.TD3
    with pytest.raises(ValueError, match="agent name 'DDPG' is taken by rlbook.ddpg.DDPG"):

        class Impostor(OffPolicyAgent):
            name = "DDPG"

    with pytest.raises(ValueError, match="is taken by rlbook.ddpg.DDPG"):  # same name elsewhere

        class DDPG(OffPolicyAgent):
            name = "DDPG"

    assert AGENTS["DDPG"] is ddpg.DDPG


def test_result_to_record_is_the_runners_record():
    result = td3.train("Pendulum-v1", seed=0, progress=False, **{**FIXTURE, "total_steps": 200})
    record = result.to_record({"final_return": -1.0, "final_std": 0.5})
    assert list(record) == [
        "curve",
        "curve_seconds",
        "final_return",
        "final_std",
        "steps",
        "train_seconds",
        "steps_per_second",
    ]
    assert record["curve"] == result.curve and record["steps"] == 200
    assert record["train_seconds"] == result.wall_time - result.eval_time


def _params(agent):
    return [t for part in agent.state_dict()["modules"].values() for t in part.values()]


def _same(a, b):
    assert a.curve == b.curve and a.episodes == b.episodes and a.steps == b.steps
    assert all(torch.equal(x, y) for x, y in zip(_params(a.agent), _params(b.agent), strict=True))


def _runs(result):
    return getattr(result, "runs", [result])


def _fixture_matches(loaded, part) -> bool:
    """Whether this machine recomputes the file's first 200 steps to the last bit (float32
    kernels differ between CPUs; the file was written on one)."""
    same_curves = [a.curve for a in _runs(loaded)] == [b.curve for b in _runs(part)]
    return same_curves and all(
        torch.equal(x, y) for x, y in zip(_params(loaded.agent), _params(part.agent), strict=True)
    )


def _stop_at_200():
    import signal

    seen = []

    def callback(agent, t):
        if t == 200 and not seen:  # once, even in a batch (the callback runs once per run)
            seen.append(t)
            signal.raise_signal(signal.SIGINT)

    return callback


@pytest.mark.parametrize(
    "name,module,kwargs",
    [
        ("checkpoint-v4-ddpg-ou.pt", ddpg, dict(seed=7, noise="ou")),
        ("checkpoint-v4-td3-seeds.pt", td3, dict(seeds=[1, 2])),
    ],
    ids=["ddpg-ou", "td3-seeds"],
)
def test_a_format_4_checkpoint_resumes_as_the_uninterrupted_run(name, module, kwargs, tmp_path):
    path = DATA / name
    assert torch.load(path, weights_only=True)["version"] == 4
    loaded = checkpoint.load(path)
    assert loaded.resume_state.resumable and loaded.steps == 200
    # the same run read from format 4 and from its format-5 copy continues identically
    resumed = checkpoint.resume(path, progress=False)
    again = checkpoint.save(loaded, tmp_path / "v5.pt", buffer=True, rng=True)
    assert torch.load(again, weights_only=True)["version"] == checkpoint.VERSION == 5
    from_v5 = checkpoint.resume(again, progress=False)
    for a, b in zip(_runs(resumed), _runs(from_v5), strict=True):
        _same(a, b)
        assert a.steps == 300
    # and is the uninterrupted run, where this machine computes the file's digits
    part = module.train("Pendulum-v1", progress=False, callback=_stop_at_200(), **FIXTURE, **kwargs)
    if not _fixture_matches(loaded, part):
        pytest.skip("this CPU's float32 digits differ from those of the machine that wrote it")
    straight = module.train("Pendulum-v1", progress=False, **FIXTURE, **kwargs)
    for a, b in zip(_runs(resumed), _runs(straight), strict=True):
        _same(a, b)


def _same_tree(new, old, where: str) -> None:
    """``new`` equals ``old`` bit for bit, through nested dicts and lists (keys, lengths, dtypes,
    tensors, arrays, numbers); the assertion names the first place where they differ."""
    if isinstance(old, dict):
        assert isinstance(new, dict) and set(new) == set(old), (
            f"{where}: {sorted(new)} != {sorted(old)}"
        )
        for k in old:
            _same_tree(new[k], old[k], f"{where}/{k}")
    elif isinstance(old, list | tuple):
        assert isinstance(new, list | tuple) and len(new) == len(old), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(new, old, strict=True)):
            _same_tree(x, y, f"{where}[{i}]")
    elif isinstance(old, torch.Tensor):
        assert isinstance(new, torch.Tensor) and new.dtype == old.dtype, f"{where}: {new!r}"
        assert torch.equal(new.cpu(), old), f"{where}: values differ"
    elif isinstance(old, np.ndarray):
        assert isinstance(new, np.ndarray) and new.dtype == old.dtype, f"{where}: {new!r}"
        assert np.array_equal(new, old), f"{where}: values differ"
    else:
        assert type(new) is type(old) and new == old, f"{where}: {new!r} != {old!r}"


@pytest.mark.parametrize(
    "name,noise",
    [
        # one DDPG run with OU noise: the noise's value and generator side by side in the file
        (
            "checkpoint-v4-ddpg-ou.pt",
            lambda old: {"state": old["noise_state"], **_rng(old, "noise")},
        ),
        # a TD3 batch of two runs with Gaussian noise: one generator per run, no value
        (
            "checkpoint-v4-td3-seeds.pt",
            lambda old: {"processes": [{"rng": r} for r in old["rng"]["noise"]]},
        ),
    ],
    ids=["ddpg-ou", "td3-seeds"],
)
def test_a_format_4_checkpoints_fields_are_where_format_5_keeps_them(name, noise):
    """Every field of a format-4 file, read with checkpoint.load, sits unchanged where the
    format-5 layout keeps it: the agent's networks, optimizers and counters, the buffer's rows
    and positions with its generator, the noise's value and generator, the agent's generator(s),
    the loop's state and the learning curves. Compared with the file itself, not with a run made
    here, so it holds on every machine (the resume test above compares runs only where this CPU
    recomputes the file's digits)."""
    raw = checkpoint._decode(torch.load(DATA / name, weights_only=True))
    assert raw["version"] == 4
    old = raw["agent"]
    loaded = checkpoint.load(DATA / name)
    state = loaded.agent.training_state(buffer=True, rng=True)
    _same_tree(state["agent"], old["agent"], "agent")
    _same_tree(state["parts"]["buffer"], {**old["buffer"], **_rng(old, "buffer")}, "buffer")
    _same_tree(state["parts"]["noise"], noise(old), "noise")
    batch = "seeds" in raw
    generator = old["rng"]["agent"] if batch else old["rng"]["agent"]["generator"]
    _same_tree(state["rng"], {"generator": generator}, "rng")
    assert loaded.resume_state.has_buffer
    _same_tree(loaded.resume_state.loop, raw["loop"], "loop")
    records = raw["runs"] if batch else [raw["result"]]
    for run, record in zip(_runs(loaded), records, strict=True):
        assert run.curve == record["curve"] and run.curve_seconds == record["curve_seconds"]
        assert run.episodes == [tuple(e) for e in record["episodes"]] and run.steps == 200


def _rng(old: dict, part: str) -> dict:
    return {"rng": old["rng"][part]}


def test_the_agents_provide_what_the_loops_ask_of_a_learner():
    """The loops call the :class:`~rlbook.loop.Learner` methods without probing for them:
    every agent class must provide each (and a batch, ``members`` and ``member``)."""
    asked = [n for n in vars(Learner) if not n.startswith("_")]
    assert {"act", "update", "episode_start", "anneal", "autocast"} <= set(asked)
    for cls in AGENTS.values():
        assert all(callable(getattr(cls, n, None)) for n in asked), cls
        assert hasattr(cls, "members") and callable(cls.member)
