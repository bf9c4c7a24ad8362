"""The stable-baselines3 peers behind the headline comparison (``rlbook.runners.sb3_model`` and
``sb3_peer``), run for real: every setting they are given reaches SB3's model or is refused, they
run on the device rlbook's agents run on, and a short run returns a full record."""

import pytest
import stable_baselines3
import torch
from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

from rlbook import runners, td3
from rlbook.agent import OffPolicyConfig
from rlbook.loop import resolve_device
from rlbook.sweep import Job, sweep

SMALL = dict(hidden=(8, 6), batch_size=16, buffer_size=1_000, warmup_steps=50)


def _widths(sequential):
    return [m.out_features for m in sequential if isinstance(m, torch.nn.Linear)]


def test_the_td3_and_ddpg_peers_put_every_setting_into_sb3s_model():
    model, s = runners.sb3_model(
        "td3",
        "Pendulum-v1",
        0,
        gamma=0.9,
        lr_q=2e-3,
        lr_pi=2e-3,
        tau=0.01,
        noise_sigma=0.3,
        **SMALL,
    )
    assert (model.gamma, model.learning_rate, model.tau) == (0.9, 2e-3, 0.01)
    assert (model.batch_size, model.buffer_size, model.learning_starts) == (16, 1_000, 50)
    assert _widths(model.actor.mu) == [8, 6, 1] and _widths(model.critic.qf0) == [8, 6, 1]
    assert isinstance(model.action_noise, NormalActionNoise)
    assert model.action_noise._sigma.tolist() == [0.3]
    # the device: rlbook's default setting, resolved as rlbook resolves it
    assert s["device"] == OffPolicyConfig().device == "auto"
    assert model.device == resolve_device("auto")

    model, _ = runners.sb3_model(
        "ddpg", "Pendulum-v1", 0, noise="ou", noise_sigma=0.4, ou_theta=0.3, ou_dt=0.05, **SMALL
    )
    noise = model.action_noise
    assert isinstance(noise, OrnsteinUhlenbeckActionNoise)
    assert (noise._sigma.tolist(), noise._theta, noise._dt) == ([0.4], 0.3, 0.05)
    assert _widths(model.actor.mu) == [8, 6, 1]


def test_the_sac_peer_puts_every_setting_into_sb3s_model():
    model, _ = runners.sb3_model("sac", "Pendulum-v1", 0, alpha=0.05, tau=0.02, **SMALL)
    assert model.ent_coef == 0.05 and model.tau == 0.02 and model.batch_size == 16
    assert _widths(model.actor.latent_pi) == [8, 6] and _widths(model.critic.qf0) == [8, 6, 1]


def test_the_peers_refuse_what_they_cannot_honour():
    def refused(algo, match, **settings):
        with pytest.raises(ValueError, match=match):
            runners.sb3_model(algo, "Pendulum-v1", 0, **SMALL, **settings)

    refused("sac", r"noise_sigma", noise_sigma=0.2)  # SAC has no exploration noise
    refused("sac", r"'noise'", noise="gaussian")
    refused("td3", r"'alpha'", alpha=0.1)  # DDPG and TD3 have no entropy weight
    refused("td3", r"precision", precision="bfloat16")
    refused("td3", r"lr_pi must equal lr_q", lr_pi=3e-4)
    refused("td3", r"gamma must be in \[0, 1\)", gamma=2.0)  # rlbook's own checks and messages
    refused("ddpg", r"noise must be one of", noise="pink")
    refused("ddpg", r"noise_sigma", noise_sigma=-0.1)
    refused("sac", r"alpha", alpha=-1.0)
    refused("td3", r"device", device="gpu")
    with pytest.raises(ValueError, match="algo must be one of"):
        runners.sb3_model("ppo", "Pendulum-v1", 0)
    if not torch.cuda.is_available():  # SB3 alone would quietly run on the CPU
        refused("td3", r"device='cuda' but CUDA is not available here", device="cuda")


def test_the_peers_default_device_is_rlbooks(monkeypatch):
    """Where CUDA is available both libraries take it by default. Without a GPU, the machine is
    made to report one: both then try to put their networks on CUDA (and fail on this build),
    where the peer used to stay on the CPU whatever rlbook did."""
    if torch.cuda.is_available():
        model, _ = runners.sb3_model("td3", "Pendulum-v1", 0, **SMALL)
        assert model.device.type == "cuda"
        return
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with pytest.raises((AssertionError, RuntimeError), match="CUDA"):
        td3.train("Pendulum-v1", total_steps=10, hidden=(8,), progress=False)
    with pytest.raises((AssertionError, RuntimeError), match="CUDA"):
        runners.sb3_model("td3", "Pendulum-v1", 0, **SMALL)


def test_a_short_peer_run_returns_a_full_record_on_rlbooks_device():
    tiny = dict(
        total_steps=300,
        warmup_steps=100,
        eval_every=100,
        eval_episodes=2,
        final_episodes=2,
        hidden=(8,),
        batch_size=16,
        threads=1,
    )
    ours, peer, sac_peer = sweep(
        [
            Job("td3", settings=dict(tiny)),
            Job("sb3-td3", settings={**tiny, "noise": "ou", "noise_sigma": 0.2}),
            Job("sb3-sac", settings={**tiny, "alpha": 0.1}),
        ]
    )
    for r in (ours, peer, sac_peer):
        assert r["error"] is None, r["error"]
        assert [c["step"] for c in r["curve"]] == [100, 200, 300]
        assert len(r["curve_seconds"]) == 3 and r["steps"] == 300
        assert r["final_return"] < 0 and r["train_seconds"] > 0 and r["steps_per_second"] > 0
        assert r["device"] == ours["device"] == str(resolve_device("auto"))
    assert peer["sb3_version"] == sac_peer["sb3_version"] == stable_baselines3.__version__
