"""Nothing lost, nothing silent, the same result twice: interruption, checkpoints, resumption,
divergence, and the same seed giving the same result for every algorithm of the book.

Every comparison of runs here is bit-identical on purpose: the same computation (straight, or
stopped and resumed, or saved and loaded), repeated on the same machine. Across CPUs or kernel
sets the float32 digits differ and training runs drift apart, so no result here is compared with
one recorded elsewhere."""

import math
import re
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from rlbook import checkpoint, ddpg, dqn, fqi, nfqca, pcl, sac, td3
from rlbook.envs import LQREnv, lqr_dataset
from rlbook.loop import TrainingDiverged
from rlbook.networks import mlp

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = dict(
    total_steps=500,
    warmup_steps=100,
    eval_every=100,
    eval_episodes=2,
    hidden=(16, 16),
    batch_size=32,
)
# DDPG with OU noise (its state and generator must travel), TD3 with its delay, SAC with auto alpha
ALGOS = [
    pytest.param(ddpg, dict(noise="ou"), id="ddpg"),
    pytest.param(td3, dict(), id="td3"),
    pytest.param(sac, dict(alpha="auto"), id="sac"),
    pytest.param(sac, dict(alpha="auto", value_network=True), id="sac-v"),
    # the linear learning-rate schedule: each param group's initial_lr must travel too
    pytest.param(td3, dict(lr_schedule="linear"), id="td3-linear"),
]


def _params(agent):
    return [
        p.detach().clone() for m in (agent.policy, agent.q, agent.q_target) for p in m.parameters()
    ]


def _same_run(a, b):
    assert a.curve == b.curve, "learning curves differ"
    # the training seconds, one per evaluation, rising across the resume point
    seconds = a.curve_seconds
    assert len(seconds) == len(a.curve) and all(
        x < y for x, y in zip(seconds, seconds[1:], strict=False)
    )
    assert a.episodes == b.episodes
    assert all(torch.equal(x, y) for x, y in zip(_params(a.agent), _params(b.agent), strict=True))
    assert a.agent.updates == b.agent.updates


def _interrupt_at(step):
    """A callback that presses Ctrl-C (SIGINT) at evaluation ``step``."""

    def callback(agent, t):
        if t == step:
            signal.raise_signal(signal.SIGINT)

    return callback


@pytest.mark.parametrize("module,extra", ALGOS)
def test_ctrl_c_returns_the_partial_run_and_resuming_it_matches_an_uninterrupted_run(module, extra):
    straight = module.train("Pendulum-v1", seed=5, progress=False, **SMALL, **extra)
    # Ctrl-C at step 300 (mid-episode: episodes last 200 steps): the step finishes, the run stops
    part = module.train(
        "Pendulum-v1", seed=5, progress=False, callback=_interrupt_at(300), **SMALL, **extra
    )
    assert part.interrupted and part.steps in (300, 301)
    assert [c["step"] for c in part.curve] == [100, 200, 300]
    assert part.curve == straight.curve[:3]
    resumed = checkpoint.resume(part, progress=False)
    assert not resumed.interrupted and resumed.steps == 500
    _same_run(resumed, straight)


@pytest.mark.parametrize("module,extra", ALGOS)
def test_save_load_resume_from_a_file_matches_an_uninterrupted_run(module, extra, tmp_path):
    straight = module.train("Pendulum-v1", seed=2, progress=False, **SMALL, **extra)
    first = module.train(
        "Pendulum-v1", seed=2, progress=False, callback=_interrupt_at(300), **SMALL, **extra
    )
    path = checkpoint.save(first, tmp_path / "run.pt", buffer=True, rng=True)
    del first
    torch.manual_seed(123)  # the caller's generator: the resumed run must not depend on it...
    before = torch.get_rng_state()
    resumed = checkpoint.resume(path, progress=False)
    assert torch.equal(torch.get_rng_state(), before)  # ...and loading must not change it
    _same_run(resumed, straight)


def test_load_restores_networks_optimizers_and_config_without_buffer(tmp_path):
    run = td3.train("Pendulum-v1", seed=1, progress=False, **SMALL)
    path = checkpoint.save(run, tmp_path / "agent.pt")
    loaded = checkpoint.load(path)
    assert loaded.config == run.config and loaded.agent.updates == run.agent.updates
    assert all(
        torch.equal(x, y) for x, y in zip(_params(loaded.agent), _params(run.agent), strict=True)
    )
    opt_a = run.agent.q_optimizer.state_dict()["state"]
    opt_b = loaded.agent.q_optimizer.state_dict()["state"]
    assert all(torch.equal(opt_a[k]["exp_avg"], opt_b[k]["exp_avg"]) for k in opt_a)
    obs = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.agent.act_batch(obs), run.agent.act_batch(obs))
    assert loaded.curve == run.curve
    assert len(loaded.agent.buffer) == 0  # the buffer is saved only on request
    with pytest.raises(ValueError, match="buffer=True"):
        checkpoint.resume(path)


def test_truncated_foreign_and_missing_files_give_clear_errors(tmp_path):
    run = ddpg.train("Pendulum-v1", seed=0, progress=False, **SMALL)
    path = checkpoint.save(run, tmp_path / "good.pt", buffer=True, rng=True)
    data = path.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable rlbook checkpoint"):
        checkpoint.load(tmp_path / "cut.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="not an rlbook checkpoint"):
        checkpoint.load(tmp_path / "foreign.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(ValueError, match="not a readable rlbook checkpoint"):
        checkpoint.load(tmp_path / "text.pt")
    with pytest.raises(ValueError, match="no checkpoint"):
        checkpoint.load(tmp_path / "missing.pt")


@pytest.mark.parametrize("module", [ddpg, sac])
def test_nan_in_a_target_stops_training_and_names_it(module):
    class NaNReward(LQREnv):
        def step(self, action):
            obs, rew, term, trunc, info = super().step(action)
            return obs, (float("nan") if self.t == 7 else rew), term, trunc, info

    with pytest.raises(TrainingDiverged, match=r"(target|loss_q) became nan at step \d+") as err:
        module.train(
            NaNReward,
            seed=0,
            progress=False,
            total_steps=400,
            warmup_steps=20,
            eval_every=0,
            hidden=(8,),
            batch_size=256,
        )
    assert err.value.result.steps > 0  # the run so far is kept


def test_exploding_learning_rate_is_caught_with_the_quantity_and_step():
    with pytest.raises(TrainingDiverged, match="became (nan|inf|-inf) at step") as err:
        ddpg.train(
            LQREnv,
            seed=0,
            progress=False,
            total_steps=3_000,
            warmup_steps=10,
            eval_every=0,
            hidden=(8,),
            lr_q=1e12,
            lr_pi=1e12,
            batch_size=8,
        )
    assert "step" in str(err.value)


# --- same seed, same result, for every algorithm -----------------------------------------------
def test_pcl_and_unified_pcl_are_bit_identical_under_a_seed():
    mdp = pcl.DeterministicMDP.random(5, 3, seed=0)

    def run(unified, seed):
        config = pcl.PCLConfig(gamma=0.9, alpha=0.5, d=3, episode_length=10, replay_updates=1)
        if unified:
            agent = pcl.UnifiedPCL(pcl.Table(5, 3), config, seed=seed)
        else:
            agent = pcl.PCL(pcl.Table(5, 3), pcl.Table(5, 1), config, seed=seed)
        v, pi, _ = pcl.soft_value_iteration(mdp, 0.9, 0.5)
        result = pcl.train_tabular(mdp, agent, 60, evaluate_every=10, reference=(v, pi))
        return result.logs, agent.values(torch.arange(5)).detach()

    for unified in (False, True):
        (c1, v1), (c2, v2), (c3, _) = run(unified, 1), run(unified, 1), run(unified, 2)
        assert c1 == c2 and torch.equal(v1, v2)
        assert c1 != c3


def test_fqi_amortized_fqi_and_nfqca_are_bit_identical_under_a_seed():
    data = lqr_dataset(LQREnv(), 200, seed=0)

    def run(seed):  # random networks and a maximizer with random restarts: seeds matter
        torch.manual_seed(seed)
        q, q2, q3 = (mlp(3, 1, (16,)) for _ in range(3))
        pi2, pi3 = nn.Linear(2, 1), nn.Linear(2, 1)
        maximize = fqi.gradient_maximizer([-2.0], [2.0], restarts=2, steps=5, seed=seed)
        a = fqi.fqi_explicit(data, Critic(q), maximize, 0.5, iterations=3, fit_steps=20)
        b = fqi.fqi_amortized(
            data,
            Critic(q2),
            pi2,
            maximize,
            0.5,
            opt_fraction=0.5,
            iterations=3,
            fit_steps=20,
            policy_steps=20,
        )
        c = nfqca.nfqca(data, Critic(q3), pi3, 0.5, iterations=3, k_q=20, k_pi=20)
        return [a.deltas, b.deltas, b.deltas_pi, c.deltas], [
            p.detach().clone() for m in (q, q2, pi2, q3, pi3) for p in m.parameters()
        ]

    (d1, p1), (d2, p2), (d3, _) = run(0), run(0), run(1)
    assert d1 == d2 and all(torch.equal(x, y) for x, y in zip(p1, p2, strict=True))
    assert d1 != d3


class Critic(nn.Module):
    """q(s, a) from an MLP on the concatenation, with the (s, a) call signature of rlbook.fqi."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, s, a):
        return self.net(torch.cat([s, a], -1)).squeeze(-1)


def test_dqn_save_load_resume_matches_an_uninterrupted_run(tmp_path):
    """DQN's checkpoints: its declared state includes the epsilon schedule's step counter and
    its exploration generator, so a resumed run is the uninterrupted one (same machine)."""
    from rlbook import dqn

    small = dict(
        total_steps=500,
        warmup_steps=100,
        eval_every=100,
        eval_episodes=2,
        hidden=(16,),
        batch_size=32,
        epsilon_decay=300,
        target_period=50,
    )
    straight = dqn.train("CartPole-v1", seed=4, progress=False, **small)
    first = dqn.train("CartPole-v1", seed=4, progress=False, callback=_interrupt_at(300), **small)
    path = checkpoint.save(first, tmp_path / "dqn.pt", buffer=True, rng=True)
    del first
    resumed = checkpoint.resume(path, progress=False)
    assert resumed.curve == straight.curve and resumed.episodes == straight.episodes
    assert resumed.agent.steps == straight.agent.steps and resumed.agent.updates == 400
    for a, b in zip(resumed.agent.q.parameters(), straight.agent.q.parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize(
    "train,env,extra",
    [
        (ddpg.train, "Pendulum-v1", {}),
        (td3.train, "Pendulum-v1", {}),
        (sac.train, "Pendulum-v1", {}),
        (sac.train, "Pendulum-v1", {"value_network": True}),
        ("dqn", "CartPole-v1", {}),
    ],
)
def test_every_network_optimizer_and_tensor_of_an_agent_is_declared(train, env, extra):
    """Checkpoints save what an agent declares (state_modules, ...), not what an attribute scan
    finds: a network added without declaring it would silently not be saved; this catches it."""
    if train == "dqn":
        from rlbook.dqn import train
    agent = train(
        env,
        total_steps=10,
        warmup_steps=10,
        eval_every=10,
        eval_episodes=1,
        hidden=(4,),
        progress=False,
        **extra,
    ).agent
    found = {
        kind: {n for n, v in vars(agent).items() if isinstance(v, cls)}
        for kind, cls in (
            ("modules", nn.Module),
            ("optimizers", torch.optim.Optimizer),
            ("tensors", torch.Tensor),
        )
    }
    assert found["modules"] == set(agent.state_modules)
    assert found["optimizers"] == set(agent.state_optimizers)
    assert found["tensors"] == set(agent.state_tensors)
    state = agent.state_dict()
    agent.load_state_dict(state)  # round trip
    with pytest.raises(ValueError, match="has no modules named"):
        agent.load_state_dict({**state, "modules": {**state["modules"], "ghost": {}}})


def test_a_wrappers_running_statistics_survive_a_resume():
    """NormalizeObservation keeps its running mean and variance in an object of arrays: the
    snapshot restores it, so a resumed run equals the uninterrupted one (same machine)."""
    import gymnasium as gym

    def make():
        return gym.wrappers.NormalizeObservation(gym.make("Pendulum-v1"))

    straight = ddpg.train(make, seed=6, progress=False, **SMALL)
    part = ddpg.train(make, seed=6, progress=False, callback=_interrupt_at(300), **SMALL)
    resumed = checkpoint.resume(part, progress=False)
    _same_run(resumed, straight)


def _warned(records, pattern):
    return [str(w.message) for w in records if re.search(pattern, str(w.message))]


def test_the_snapshot_warns_for_every_layer_it_cannot_restore_where_it_matters(tmp_path):
    """The snapshot lists the wrapper state it cannot capture. Every train call takes a snapshot
    (a run can always be resumed), so training does not warn; saving a checkpoint with the
    snapshot (buffer=True, rng=True) warns, and so does a run resumed from it."""
    import collections
    import warnings

    import gymnasium as gym

    from rlbook.envstate import snapshot_env

    class Memory(gym.Wrapper):  # state in a deque: not a number, an array or an object of them
        def __init__(self, env):
            super().__init__(env)
            self.recent = collections.deque(maxlen=3)

    def make():
        return Memory(gym.make("Pendulum-v1"))

    lost = r"Memory\.recent \(deque\)"
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        snap = snapshot_env(make())
        run = td3.train(make, seed=0, progress=False, **{**SMALL, "total_steps": 200})
        checkpoint.save(run, tmp_path / "agent.pt")  # no snapshot saved: nothing to warn about
    assert snap["unrestored"] == ["Memory.recent (deque)"]
    assert not _warned(records, lost), _warned(records, lost)
    with pytest.warns(UserWarning, match=lost + ".*a run resumed from this checkpoint may not"):
        checkpoint.save(run, tmp_path / "run.pt", buffer=True, rng=True)
    with pytest.warns(UserWarning, match=lost + ".*this resumed run may not"):
        checkpoint.resume(run, total_steps=250, progress=False)


def test_the_snapshot_restores_every_layers_generator_and_containers():
    """A wrapper's own generator and a list of numbers survive snapshot and restore."""
    import gymnasium as gym

    from rlbook.envstate import restore_env, snapshot_env

    class Noisy(gym.Wrapper):
        def __init__(self, env):
            super().__init__(env)
            self.noise_rng = np.random.default_rng(0)
            self.history = [0.0]

    env = Noisy(gym.make("Pendulum-v1"))
    env.reset(seed=3)
    env.noise_rng.normal(size=5)
    env.history.append(1.5)
    snap = snapshot_env(env)
    expected = (env.noise_rng.normal(size=3), env.unwrapped.np_random.normal(size=3))
    fresh = Noisy(gym.make("Pendulum-v1"))
    fresh.reset(seed=0)
    restore_env(fresh, snap)
    assert fresh.history == [0.0, 1.5]
    np.testing.assert_array_equal(fresh.noise_rng.normal(size=3), expected[0])
    np.testing.assert_array_equal(fresh.unwrapped.np_random.normal(size=3), expected[1])


def test_a_random_state_saved_on_another_device_type_is_refused_clearly(tmp_path):
    run = td3.train("Pendulum-v1", seed=0, progress=False, **SMALL)
    path = checkpoint.save(run, tmp_path / "run.pt", buffer=True, rng=True)
    payload = torch.load(path, weights_only=True)
    payload["device"] = "cuda"  # as if saved on a GPU
    torch.save(payload, path)
    with pytest.raises(ValueError, match="random state of a run on 'cuda'"):
        checkpoint.load(path)
    with pytest.raises(ValueError, match="run on 'cuda', and device='cpu' gives 'cpu'"):
        checkpoint.load(path, device="cpu")  # the override does not make the state fit


def test_load_puts_the_agent_on_the_device_asked_for(tmp_path):
    """``load(path, device=...)`` overrides the saved config's device; the file's tensors are read
    onto the CPU first, so a checkpoint saved on CUDA (here: labelled so) loads on the CPU."""
    run = td3.train("Pendulum-v1", seed=1, progress=False, **{**SMALL, "total_steps": 200})
    path = checkpoint.save(run, tmp_path / "agent.pt")
    loaded = checkpoint.load(path, device="cpu")
    assert loaded.agent.device.type == "cpu" and loaded.config == run.config.replace(device="cpu")
    assert all(
        torch.equal(x, y) for x, y in zip(_params(loaded.agent), _params(run.agent), strict=True)
    )
    payload = torch.load(path, weights_only=True)
    payload["device"] = payload["config"]["device"] = "cuda"  # as if trained on a GPU
    torch.save(payload, path)
    loaded = checkpoint.load(path, device="cpu")  # no random state: the networks load anywhere
    assert loaded.agent.device.type == "cpu" and loaded.config.device == "cpu"
    assert all(
        torch.equal(x, y) for x, y in zip(_params(loaded.agent), _params(run.agent), strict=True)
    )
    for bad in ("gpu", "cuda:x", 0):
        with pytest.raises(ValueError, match=r"^device must be None.*'auto' or a torch device"):
            checkpoint.load(path, device=bad)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device='cuda' but CUDA is not available here"):
            checkpoint.load(path, device="cuda")


def test_a_version_2_checkpoint_loads_with_unknown_training_seconds(tmp_path):
    """Files written before curve_seconds existed still load; their seconds are NaN, one per row.
    Made from a file of format 4 (the layout of formats 2 to 4) by taking curve_seconds out."""
    path = Path(__file__).parent / "data" / "checkpoint-v4-ddpg-ou.pt"
    run = checkpoint.load(path)
    payload = torch.load(path, weights_only=False)
    payload["version"] = 2
    del payload["result"]["curve_seconds"]
    torch.save(payload, tmp_path / "v2.pt")
    old = checkpoint.load(tmp_path / "v2.pt")
    assert old.curve == run.curve and len(old.curve_seconds) == len(run.curve)
    assert all(math.isnan(x) for x in old.curve_seconds)


def test_a_device_that_is_not_there_is_refused_when_the_config_is_made(monkeypatch):
    """``device="cuda"`` on a machine without CUDA is refused by the config, naming the field,
    not by torch's "Cannot get CUDA generator" deep inside the agent; a CUDA index past the
    machine's devices too. CUDA's presence is faked both ways, so this runs the same anywhere."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    for cls in (ddpg.DDPGConfig, td3.TD3Config, sac.SACConfig, dqn.DQNConfig):
        with pytest.raises(ValueError, match=r"^device='cuda' but CUDA is not available here"):
            cls(device="cuda")
    with pytest.raises(ValueError, match=r"^device='cuda:0' but CUDA is not available here"):
        td3.train("Pendulum-v1", device="cuda:0", total_steps=10, progress=False)
    for bad in ("meta", "gpu"):
        with pytest.raises(ValueError, match=r"^device must be 'auto' or a torch device name"):
            td3.TD3Config(device=bad)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(ValueError, match=r"^device='cuda:2' but this machine has 2 CUDA device"):
        td3.TD3Config(device="cuda:2")
    assert td3.TD3Config(device="cuda:1").device == "cuda:1"  # there: accepted


def _global_draws() -> tuple:
    """The next draws of every global generator a student's code might use, and the threads."""
    import random

    return (
        torch.rand(4).tolist(),
        np.random.rand(4).tolist(),  # noqa: NPY002 - the legacy global is what is checked
        random.random(),
        torch.get_num_threads(),
    )


def _trainers():
    from rlbook import knobs, runners
    from rlbook.pcl_continuous import train_env

    mdp = pcl.DeterministicMDP.random(4, 2, seed=0)
    tiny = dict(total_steps=200, warmup_steps=50, eval_every=100, eval_episodes=1, hidden=(8,))
    online = dict(threads=1, final_episodes=1, **tiny)  # a sweep runner's job, rlbook's or SB3's
    return {
        "ddpg": lambda: ddpg.train("Pendulum-v1", seed=3, progress=False, **tiny),
        "td3": lambda: td3.train("Pendulum-v1", seed=3, progress=False, **tiny),
        "sac": lambda: sac.train("Pendulum-v1", seed=3, progress=False, **tiny),
        "dqn": lambda: dqn.train("CartPole-v1", seed=3, progress=False, **tiny),
        "pcl-tabular": lambda: pcl.train_tabular(
            mdp, pcl.PCL(pcl.Table(4, 2), pcl.Table(4, 1), pcl.PCLConfig(), seed=3), episodes=3
        ),
        "pcl-continuous": lambda: train_env(
            "Pendulum-v1",
            pcl.PCLConfig(episode_length=200),
            episodes=1,
            seed=3,
            hidden=(8,),
            eval_every=1,
            eval_episodes=1,
        ),
        "fqi": lambda: fqi.pendulum_q(seed=3, n=200, iterations=1, fit_steps=2, hidden=(8,)),
        "runner-online": lambda: runners.online("td3")("Pendulum-v1", 3, **online),
        "runner-offline": lambda: runners._offline("nfqca")(
            "Pendulum-v1",
            3,
            threads=1,
            total_steps=200,
            iterations=1,
            eval_every=1,
            eval_episodes=1,
            final_episodes=1,
            fit_steps=2,
            hidden=(8,),
        ),
        "knob-path-length": lambda: knobs.pcl_path_length(d=2, episodes=20),
        # stable-baselines3 seeds torch's, numpy's and Python's global generators itself
        "runner-sb3": lambda: runners.sb3_peer("td3")("Pendulum-v1", 3, **online),
    }


@pytest.mark.parametrize("name", list(_trainers()))
def test_training_leaves_the_callers_generators_and_threads_as_it_found_them(name):
    """A student who calls ``train`` between two draws of their own experiment gets the same
    draws as without the call: no trainer reseeds or consumes torch's, numpy's or Python's
    global generators, nor changes the thread count for good (the runners set their own)."""
    import random

    run = _trainers()[name]
    threads = torch.get_num_threads()

    def seed_all():
        torch.manual_seed(11)
        np.random.seed(11)  # noqa: NPY002
        random.seed(11)

    seed_all()
    expected = _global_draws()
    seed_all()
    run()
    assert _global_draws() == expected
    assert torch.get_num_threads() == threads
