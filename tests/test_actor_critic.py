import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from helpers import FLOAT32, ConstantPolicy, LinearQ, ShortEpisodes, make_batch
from rlbook import ddpg, sac, td3
from rlbook.networks import SquashedGaussianActor

GAMMA = 0.9


# --- targets on hand-built networks ------------------------------------------------------------
def test_ddpg_target_bootstraps_through_truncation_but_not_termination():
    batch = make_batch(4, terminated=[0, 1, 0, 1], truncated=[0, 0, 1, 1])
    q_t = LinearQ([2.0], [[1.0]])
    pi_t = ConstantPolicy([0.5], [-1.0], [1.0])
    y = ddpg.critic_target(q_t, pi_t, batch, GAMMA)
    bootstrap = GAMMA * (2.0 + 0.5)
    expected = batch.rew + torch.tensor([bootstrap, 0.0, bootstrap, 0.0])
    assert torch.allclose(y, expected, **FLOAT32)  # float32 gamma * q in another order


def test_td3_target_takes_the_min_of_the_twin_targets():
    batch = make_batch(3, terminated=[0, 0, 1])
    q_t = LinearQ([1.0, -3.0], [[2.0], [1.0]])  # q_a = 1 + 2a, q_b = -3 + a
    pi_t = ConstantPolicy([0.25], [-1.0], [1.0])
    y = td3.critic_target(q_t, pi_t, batch, GAMMA, twin="min", smoothing=False)
    q_min = min(1 + 2 * 0.25, -3 + 0.25)
    assert torch.allclose(y, batch.rew + GAMMA * torch.tensor([q_min, q_min, 0.0]), **FLOAT32)
    y_mean = td3.critic_target(q_t, pi_t, batch, GAMMA, twin="mean", smoothing=False)
    q_mean = (1 + 2 * 0.25 - 3 + 0.25) / 2
    assert torch.allclose(
        y_mean, batch.rew + GAMMA * torch.tensor([q_mean, q_mean, 0.0]), **FLOAT32
    )
    y_max_would_be = batch.rew + GAMMA * max(1 + 2 * 0.25, -3 + 0.25)
    assert not torch.allclose(y[:2], y_max_would_be[:2])


def test_td3_smoothing_noise_is_clipped_scaled_and_kept_in_the_box():
    low, high = [-2.0], [2.0]
    pi_t = ConstantPolicy([1.9], low, high)  # near the upper bound
    g = torch.Generator().manual_seed(0)
    a = td3.smoothed_target_action(pi_t, torch.zeros(10_000, 3), 0.2, 0.5, g)
    dev = a - 1.9
    # 1e-6: the float32 rounding of 1.9 and of the subtraction (ulp(2) = 2.4e-7)
    assert dev.max() <= 0.1 + 1e-6  # clipped to the box (high = 2.0)
    assert dev.min() >= -0.5 * 2.0 - 1e-6  # noise_clip in normalized units times scale 2
    # the clip (2.5 noise standard deviations) is passed by 0.6% of the 10,000 draws
    assert dev.min() < -0.9  # the clip is reached
    a0 = td3.smoothed_target_action(pi_t, torch.zeros(5, 3), 0.2, 0.0, g)
    assert torch.allclose(a0, torch.full((5, 1), 1.9), **FLOAT32)  # noise_clip 0: no smoothing


def test_td3_target_with_smoothing_averages_over_clipped_noise():
    batch = make_batch(20_000, obs_dim=1)
    q_t = LinearQ([0.0, 0.0], [[1.0], [1.0]])  # linear in a: smoothing noise averages out
    pi_t = ConstantPolicy([0.0], [-1.0], [1.0])
    y = td3.critic_target(
        q_t,
        pi_t,
        batch,
        GAMMA,
        smoothing=True,
        target_noise=0.2,
        noise_clip=0.5,
        generator=torch.Generator().manual_seed(0),
    )
    noise = (y - batch.rew) / GAMMA
    # N(0, 0.2^2) clipped at c = 2.5 standard deviations: mean 0, std 0.2 sqrt(1 - 2 (c phi(c)
    # + (1 - c^2) Q(c))) = 0.1977. With n = 20,000 draws the standard errors are 0.0014 (mean)
    # and at most 0.1977 / sqrt(2 n) = 0.001 (std, the clipped tails are lighter than normal):
    # bounds of 5 standard errors. (The former bound std < 0.2 was 2.3 standard errors away.)
    c = 0.5 / 0.2
    tail, pdf = 0.5 * math.erfc(c / math.sqrt(2)), math.exp(-c * c / 2) / math.sqrt(2 * math.pi)
    clipped_std = 0.2 * math.sqrt(1 - 2 * (c * pdf + (1 - c * c) * tail))
    assert abs(noise.mean()) < 5 * 0.0014
    assert abs(noise.std() - clipped_std) < 5 * 0.001, (noise.std(), clipped_std)
    assert noise.abs().max() <= 0.5 + 1e-6  # float32 rounding of (y - r) / gamma


def test_sac_target_is_single_sample_soft_value_with_twin_min():
    batch = make_batch(5, obs_dim=1, terminated=[0, 0, 0, 1, 0], truncated=[0, 1, 0, 0, 0])
    policy = SquashedGaussianActor(1, [-2.0], [2.0], hidden=(4,))
    q_t = LinearQ([0.5, 1.0], [[1.0], [-1.0]])
    alpha = 0.3
    y = sac.critic_target(q_t, policy, batch, GAMMA, alpha, torch.Generator().manual_seed(7))
    with torch.no_grad():
        a, logp = policy.sample(batch.next_obs, torch.Generator().manual_seed(7))
    q_min = torch.minimum(0.5 + a[:, 0], 1.0 - a[:, 0])
    expected = batch.rew + GAMMA * (1 - batch.terminated) * (q_min - alpha * logp)
    assert torch.allclose(y, expected, **FLOAT32)  # the same draws; float32 in another order


def test_sac_actor_loss_is_alpha_logp_minus_min_q():
    policy = SquashedGaussianActor(1, [-1.0], [1.0], hidden=(4,))
    q = LinearQ([0.0, 0.2], [[1.0], [0.5]])
    obs = torch.zeros(6, 1)
    loss, logp = sac.actor_loss(q, policy, obs, 0.1, torch.Generator().manual_seed(0))
    a, logp2 = policy.sample(obs, torch.Generator().manual_seed(0))
    expected = (0.1 * logp2 - torch.minimum(a[:, 0], 0.2 + 0.5 * a[:, 0])).mean()
    assert torch.allclose(loss, expected, **FLOAT32)


def test_alpha_loss_raises_alpha_when_entropy_is_below_target():
    log_alpha = torch.tensor(0.0, requires_grad=True)
    logp = torch.full((10,), 2.0)  # entropy about -2, below the target -1
    sac.alpha_loss(log_alpha, logp, target_entropy=-1.0).backward()
    assert log_alpha.grad < 0  # gradient descent increases log_alpha


# --- the agents' update schedules -----------------------------------------------------------
def _agent(cls, config, env=None):
    env = env or gym.make("Pendulum-v1")
    agent = cls(env, config, np.random.SeedSequence(0))
    rng = np.random.default_rng(0)
    for _ in range(300):
        obs = rng.normal(size=3).astype(np.float32)
        agent.store(obs, rng.uniform(-2, 2, 1), -1.0, obs, False, False)
    return agent


def _params(net):
    return [p.detach().clone() for p in net.parameters()]


def _same(a, b):
    """Bit-identical on purpose: used on copies (targets), on parameters left untouched, and on
    two runs of the same computation on the same machine."""
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize(
    "cls,config",
    [
        (ddpg.DDPG, ddpg.DDPGConfig(hidden=(8,), batch_size=8)),
        (td3.TD3, td3.TD3Config(hidden=(8,), batch_size=8)),
        (sac.SAC, sac.SACConfig(hidden=(8,), batch_size=8)),
    ],
)
def test_targets_start_as_exact_copies(cls, config):
    agent = _agent(cls, config)
    assert _same(_params(agent.q), _params(agent.q_target))
    if hasattr(agent, "policy_target"):
        assert _same(_params(agent.policy), _params(agent.policy_target))


def test_td3_policy_delay_and_frozen_targets_between_policy_updates():
    agent = _agent(td3.TD3, td3.TD3Config(hidden=(8,), batch_size=8, policy_delay=3))
    changed = []
    for _ in range(9):
        pol, tgt = _params(agent.policy), _params(agent.q_target)
        agent.update()
        policy_moved = not _same(pol, _params(agent.policy))
        target_moved = not _same(tgt, _params(agent.q_target))
        assert policy_moved == target_moved
        changed.append(policy_moved)
    assert changed == [True, False, False] * 3
    assert agent.updates == 9


def test_ddpg_hard_targets_copy_every_k_updates_and_stay_frozen_between():
    config = ddpg.DDPGConfig(hidden=(8,), batch_size=8, target_update="hard", target_period=4)
    agent = _agent(ddpg.DDPG, config)
    for t in range(10):
        before = _params(agent.q_target)
        agent.update()
        after = _params(agent.q_target)
        if t % 4 == 0:
            assert _same(after, _params(agent.q))  # copied the updated online critic
        else:
            assert _same(before, after)


def test_td3_actor_uses_q_a_only():
    agent = _agent(td3.TD3, td3.TD3Config(hidden=(8,), batch_size=8))
    obs = torch.randn(5, 3)
    loss = td3.actor_loss(agent.q, agent.policy, obs)
    expected = -agent.q(obs, agent.policy(obs))[0].mean()
    # the loss evaluates q_a alone (members=slice(0, 1)), another float32 path than both critics
    assert torch.allclose(loss, expected, **FLOAT32)


def test_td3_switches_reduce_to_ddpg_with_ema():
    agent = _agent(
        td3.TD3, td3.TD3Config(hidden=(8,), twin="none", smoothing=False, policy_delay=1)
    )
    assert agent.q.n == 1
    batch = agent.buffer.sample(16)
    c = agent.config
    y_td3 = td3.critic_target(
        agent.q_target, agent.policy_target, batch, c.gamma, twin=c.twin, smoothing=c.smoothing
    )
    y_ddpg = ddpg.critic_target(agent.q_target, agent.policy_target, batch, c.gamma)
    # bit-identical on purpose: with these switches td3.critic_target performs DDPG's operations
    # in the same order, on the same machine (a difference would be an extra operation)
    assert torch.equal(y_td3, y_ddpg)


# --- the loop -------------------------------------------------------------------------------
def test_ou_noise_is_reset_at_every_episode():
    env_made = []

    def make():
        env = ShortEpisodes(length=7)
        env_made.append(env)
        return env

    result = ddpg.train(
        make,
        total_steps=50,
        warmup_steps=0,
        batch_size=4,
        hidden=(8,),
        eval_every=0,
        progress=False,
        noise="ou",
    )
    agent = result.agent
    starts = []
    original = agent.noise.reset

    def spy():
        starts.append(agent.noise.state.copy())
        original()

    agent.noise.reset = spy
    from rlbook.loop import Result, run_off_policy

    run_off_policy(
        agent,
        make,
        total_steps=30,
        warmup_steps=0,
        seed_seq=np.random.SeedSequence(1),
        progress=False,
        result=Result(agent, agent.config),
    )
    assert len(starts) == 1 + 30 // 7  # the first episode and each of the 4 that followed
    assert any(np.abs(s).sum() > 0 for s in starts[1:])  # noise had wandered before each reset


def test_truncation_is_stored_as_truncation_termination_as_termination():
    for terminate in (False, True):
        res = td3.train(
            lambda t=terminate: ShortEpisodes(length=5, terminate=t),
            total_steps=20,
            warmup_steps=20,
            eval_every=0,
            hidden=(8,),
            progress=False,
        )
        buf = res.agent.buffer
        ends = np.arange(20) % 5 == 4
        assert buf.terminated[:20].astype(bool).tolist() == (ends & terminate).tolist()
        assert buf.truncated[:20].astype(bool).tolist() == (ends & (not terminate)).tolist()
        assert [e[0] for e in res.episodes] == [5, 10, 15, 20]


@pytest.mark.parametrize("module", [ddpg, td3, sac])
def test_same_seed_gives_the_same_learning_curve(module):
    kwargs = dict(
        total_steps=600,
        warmup_steps=200,
        eval_every=200,
        eval_episodes=2,
        hidden=(16, 16),
        batch_size=32,
        progress=False,
    )
    a = module.train("Pendulum-v1", seed=3, **kwargs)
    b = module.train("Pendulum-v1", seed=3, **kwargs)
    c = module.train("Pendulum-v1", seed=4, **kwargs)
    # bit-identical on purpose: the same computation, repeated on the same machine (another CPU
    # or kernel set gives other digits, and training runs then drift apart)
    assert a.curve == b.curve and a.episodes == b.episodes
    assert _same(_params(a.agent.policy), _params(b.agent.policy))
    assert not _same(_params(a.agent.policy), _params(c.agent.policy))


def test_actions_stay_in_the_box_with_noise():
    agent = _agent(ddpg.DDPG, ddpg.DDPGConfig(hidden=(8,), noise="gaussian", noise_sigma=5.0))
    acts = np.array([agent.act(np.zeros(3, dtype=np.float32)) for _ in range(200)])
    assert acts.min() >= -2.0 and acts.max() <= 2.0
    assert acts.min() == -2.0 and acts.max() == 2.0  # exact: clipping returns the bound itself


# --- validation -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cls,field,value,match",
    [
        (ddpg.DDPGConfig, "gamma", 1.0, r"gamma must be in \[0, 1\)"),
        (ddpg.DDPGConfig, "tau", 0.0, r"tau must be in \(0, 1\]"),
        (ddpg.DDPGConfig, "noise", "pink", "noise must be one of"),
        (ddpg.DDPGConfig, "target_period", 0, "target_period"),
        (ddpg.DDPGConfig, "batch_size", 2.5, "batch_size must be an integer"),
        (ddpg.DDPGConfig, "hidden", (), "hidden"),
        (td3.TD3Config, "policy_delay", 0, "policy_delay"),
        (td3.TD3Config, "twin", "max", "twin must be one of"),
        (td3.TD3Config, "noise_clip", -0.1, "noise_clip"),
        (sac.SACConfig, "alpha", -1.0, "alpha"),
        (sac.SACConfig, "lr_q", 0.0, "lr_q"),
        (sac.SACConfig, "device", "gpu0", "device"),
    ],
)
def test_config_errors_name_the_field_and_range(cls, field, value, match):
    with pytest.raises(ValueError, match=match):
        cls(**{field: value})


def test_configs_are_frozen():
    with pytest.raises(Exception, match="cannot assign"):
        td3.TD3Config().tau = 0.1


def test_discrete_and_unbounded_action_spaces_are_refused():
    with pytest.raises(ValueError, match="continuous action space"):
        ddpg.train("CartPole-v1", total_steps=10, progress=False)

    class Unbounded(ShortEpisodes):
        def __init__(self):
            super().__init__()
            self.action_space = gym.spaces.Box(-math.inf, math.inf, shape=(1,))

    with pytest.raises(ValueError, match="bounded Box"):
        sac.train(Unbounded, total_steps=10, progress=False)


@pytest.fixture
def bf16_units(monkeypatch):
    """``set(True)``: the CPU counts as running bf16 natively, ``set(False)``: as an AVX2-only
    CPU (no bf16 instructions), whatever this machine has."""
    import rlbook.precision

    def set_native(native: bool):
        monkeypatch.setattr(
            rlbook.precision, "_cpu_bf16_flags", lambda: {"AVX512-BF16"} if native else set()
        )
        if native:  # and oneDNN takes the products
            monkeypatch.setattr(torch.backends.mkldnn, "enabled", True)
            monkeypatch.setattr(
                torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True, raising=False
            )

    return set_native


@pytest.mark.parametrize("module", ["ddpg", "td3", "sac"])
def test_bfloat16_precision_trains_and_reports_float32(module, bf16_units):
    """The explicit bf16 option runs the updates under autocast (losses stay finite, parameters
    stay float32), and a wrong precision is refused by name. The CPU is made to count as bf16
    native, so the bf16 numerics are tested on any CPU (on one without bf16 units only slower:
    these networks are tiny)."""
    import importlib

    bf16_units(True)
    mod = importlib.import_module(f"rlbook.{module}")
    r = mod.train(
        "Pendulum-v1",
        seed=0,
        progress=False,
        total_steps=300,
        warmup_steps=100,
        eval_every=300,
        eval_episodes=2,
        hidden=(16,),
        batch_size=32,
        precision="bfloat16",
        device="cpu",
    )
    assert r.steps == 300 and np.isfinite(r.final_return)
    assert r.agent.precision == "bfloat16"
    assert all(p.dtype == torch.float32 for p in r.agent.policy.parameters())
    with pytest.raises(ValueError, match="precision must be one of"):
        mod.train("Pendulum-v1", precision="float16")


def _sac_agent(precision: str):
    cfg = td3.TD3Config(precision=precision, device="cpu", hidden=(8,), buffer_size=10)
    return td3.TD3(gym.make("Pendulum-v1"), cfg, np.random.SeedSequence(0))


def test_bfloat16_is_refused_where_the_cpu_has_no_bf16_units(bf16_units):
    """On a CPU without bf16 instructions (several times slower than float32 there) ``precision="bfloat16"``
    is refused when the agent meets the device, naming the parameter, the device, why, and the
    alternatives; the config itself is device-independent and accepts it."""
    from rlbook.agent import bf16_native

    bf16_units(False)
    assert not bf16_native("cpu")
    cfg = td3.TD3Config(precision="bfloat16", device="cpu")  # no device check in the config
    with pytest.raises(ValueError) as err:
        td3.TD3(gym.make("Pendulum-v1"), cfg, np.random.SeedSequence(0))
    msg = str(err.value)
    for part in (
        "precision='bfloat16'",
        "'cpu'",
        "AVX512-BF16",
        "several times slower",
        "AVX2",
        "precision='float32'",
        "precision='auto'",
    ):
        assert part in msg, (part, msg)
    with pytest.raises(ValueError, match="precision='bfloat16'"):
        sac.train("Pendulum-v1", total_steps=10, precision="bfloat16", device="cpu")


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_picks_bf16_only_where_native(native, bf16_units):
    """``precision="auto"``: bfloat16 where the device runs it natively, float32 elsewhere; the
    agent, its autocast and the sweep record say which. The default stays float32."""
    from rlbook.runners import online

    bf16_units(native)
    expected = "bfloat16" if native else "float32"
    a = _sac_agent("auto")
    assert a.config.precision == "auto" and a.precision == expected
    with a.autocast():
        assert torch.is_autocast_enabled("cpu") is native
    assert _sac_agent("float32").precision == "float32"
    assert td3.TD3Config().precision == "float32"
    record = online("td3")(
        "Pendulum-v1",
        0,
        final_episodes=1,
        total_steps=40,
        warmup_steps=20,
        batch_size=8,
        hidden=(8,),
        eval_every=0,
        precision="auto",
        device="cpu",
    )
    assert record["precision"] == expected


def test_bf16_native_needs_onednn_and_knows_its_devices(bf16_units, monkeypatch):
    """The CPU's bf16 instructions serve torch's products only through oneDNN: with it disabled
    (or limited by ONEDNN_MAX_CPU_ISA) bf16 is not native. CUDA without a GPU, and devices rlbook
    knows nothing of, are not native either."""
    from rlbook.agent import bf16_native, resolve_precision

    bf16_units(True)
    assert bf16_native("cpu") and resolve_precision("bfloat16", "cpu") == "bfloat16"
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False, raising=False)
    assert not bf16_native("cpu")
    with pytest.raises(ValueError, match="ONEDNN_MAX_CPU_ISA"):
        resolve_precision("bfloat16", "cpu")
    bf16_units(True)
    monkeypatch.setattr(torch.backends.mkldnn, "enabled", False)
    assert not bf16_native("cpu")
    if not torch.cuda.is_available():
        assert not bf16_native("cuda") and resolve_precision("auto", "cuda") == "float32"
    assert not bf16_native("meta")
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision("float16", "cpu")


def test_value_network_variant_is_its_own_class():
    """``value_network=True`` runs :class:`rlbook.sac.SACValueNetwork`; ``SAC.update`` is the box."""
    tiny = dict(
        total_steps=60,
        warmup_steps=40,
        eval_every=60,
        eval_episodes=1,
        hidden=(8,),
        batch_size=8,
        progress=False,
    )
    r = sac.train("Pendulum-v1", value_network=True, **tiny)
    assert type(r.agent) is sac.SACValueNetwork and hasattr(r.agent, "v_target")
    plain = sac.train("Pendulum-v1", **tiny)
    assert type(plain.agent) is sac.SAC and not hasattr(plain.agent, "v")


def test_linear_learning_rate_schedule_falls_to_zero_at_the_budget():
    """lr_schedule="linear": every optimizer's rates fall as initial * (1 - step / total_steps)."""
    tiny = dict(total_steps=40, warmup_steps=10, batch_size=4, hidden=(8,), eval_every=0)
    res = sac.train(ShortEpisodes, lr_schedule="linear", progress=False, **tiny)
    agent = res.agent
    for name in agent.state_optimizers:
        for group in getattr(agent, name).param_groups:
            assert group["lr"] == 0.0 and group["initial_lr"] > 0
    agent.anneal(10)
    for name in agent.state_optimizers:
        for group in getattr(agent, name).param_groups:
            assert group["lr"] == pytest.approx(group["initial_lr"] * 0.75, rel=1e-12)
    constant = td3.train(ShortEpisodes, progress=False, **tiny).agent
    assert constant.q_optimizer.param_groups[0]["lr"] == constant.config.lr_q
    with pytest.raises(ValueError, match="lr_schedule"):
        td3.TD3Config(lr_schedule="cosine")
