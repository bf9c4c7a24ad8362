"""Replays of Pendulum-v1 (``rlbook.replay``): the frames come from the policy acting in the real
environment (the returns are ``evaluate``'s, to the last bit), the optimal sequences replay to
their record, the player holds the rollout's frames, the recorded seeds' actors come back as they
were, and bad inputs are refused with the parameter named."""

import json
import re

import gymnasium as gym
import numpy as np
import pytest

from rlbook import replay as rp
from rlbook.loop import evaluate
from rlbook.optimum import pendulum_optimum
from rlbook.optimum import replay as replay_sequence
from rlbook.sweep import cpu_summary

STARTS = [0, 5, 17, 42, 93]
BEST = pendulum_optimum()


def make_env():
    return gym.make("Pendulum-v1")


@pytest.mark.parametrize("name", ["ddpg", "sac"])
def test_a_replay_returns_what_evaluate_returns_on_the_same_starts_to_the_last_bit(name):
    # an untrained agent: its deterministic action path (act_batch) is the one the book evaluates
    agent = rp.untrained_agent(name)
    run = rp.rollout(agent, STARTS)
    expected = evaluate(agent.act_batch, make_env, STARTS)
    assert np.array_equal(run.returns, expected)
    assert np.array_equal(run.running[:, -1], run.returns)
    assert np.allclose(run.rewards.sum(axis=1), run.returns, rtol=0, atol=1e-9)


def test_the_frames_are_the_environment_states_and_the_torques_the_policy_s_actions():
    agent = rp.untrained_agent("td3")
    run = rp.rollout(agent, STARTS)
    assert run.theta.shape == (len(STARTS), 201) and run.torque.shape == (len(STARTS), 200)
    assert run.dt == 0.05
    for k, seed in enumerate(STARTS):
        env = make_env()
        obs, _ = env.reset(seed=seed)
        for t in range(200):
            # the observation the policy sees is the frame's state; the torque is its action
            assert np.arctan2(obs[1], obs[0]) == pytest.approx(run.theta[k, t], abs=1e-6)
            assert obs[2] == pytest.approx(run.theta_dot[k, t], abs=1e-6)
            # the policy's action at that state (alone, not in the batch: equal to rounding)
            assert agent.act_batch(obs[None])[0, 0] == pytest.approx(run.torque[k, t], abs=1e-5)
            # stepping the recorded torque (a float32 action, as the policy gave it) from the
            # recorded state gives the recorded reward and next state, exactly
            obs, reward, *_ = env.step(np.array([run.torque[k, t]], dtype=np.float32))
            assert reward == run.rewards[k, t]
            assert env.unwrapped.state[1] == run.theta_dot[k, t + 1]
        env.close()


def test_the_optimal_sequences_replay_to_their_recorded_returns():
    run = rp.rollout(BEST.actions[STARTS], STARTS)
    # bit for bit the record's own replay (same float64 torques, same environment) ...
    assert run.returns.tolist() == [replay_sequence(BEST.actions[s], s) for s in STARTS]
    # ... and the record's return to 1e-6, where sin rounds as it did when the record was made
    # (the argument of tests/test_pendulum_optimum.py: the sequences balance an unstable
    # equilibrium, so a difference in the last place of sin grows along the episode)
    assert run.returns == pytest.approx(BEST.returns[STARTS], abs=1e-6)
    assert np.abs(run.theta[:, -1]).max() < 0.05  # each ends upright


def test_a_callable_and_a_start_order_give_each_start_its_own_episode():
    def no_torque(obs):
        return 0 * obs[:, :1]

    forward = rp.rollout(no_torque, STARTS)
    backward = rp.rollout(no_torque, STARTS[::-1])
    assert np.array_equal(forward.returns, backward.returns[::-1])
    assert np.array_equal(forward.take([42]).theta[0], backward.theta[STARTS[::-1].index(42)])
    zero = [replay_sequence(np.zeros(200), s) for s in STARTS]
    assert forward.returns.tolist() == zero


def test_the_hardest_start_is_the_one_of_least_return():
    def no_torque(obs):
        return 0 * obs[:, :1]

    returns = [replay_sequence(np.zeros(200), s) for s in range(100)]
    assert rp.hardest_start(no_torque) == int(np.argmin(returns))
    assert rp.hardest_start(no_torque, starts=[3, 4]) == [3, 4][int(np.argmin(returns[3:5]))]


def player_data(html):
    block = re.search(
        r'<script type="application/json" class="rlbook-player-data">(.*?)</script>', html, re.S
    )
    return json.loads(block.group(1).replace("<\\/", "</"))


def test_the_player_holds_the_rollouts_frames_and_plays_without_any_file_or_network():
    agent = rp.untrained_agent("ddpg")
    starts = [5, 42]
    rows = {
        "untrained": rp.rollout(agent, starts),
        "optimal": rp.rollout(BEST.actions[starts], starts),
    }
    player = rp.pendulum_player(rows, title="a <test>", start_labels={42: "hard"})
    html = player._repr_html_()
    data = player_data(html)
    assert data == player.data
    assert data["starts"] == starts and data["labels"] == ["untrained", "optimal"]
    for j, run in enumerate(rows.values()):
        assert np.array_equal(data["theta"][j], np.rint(run.theta * 100))
        assert np.array_equal(data["torque"][j], np.rint(run.torque * 100))
        assert np.array_equal(data["ret"][j], np.rint(run.running * 10))
    # rounded for the eye, not changed: within half a unit of the rounding
    assert np.abs(np.array(data["theta"][1]) / 100 - rows["optimal"].theta).max() <= 0.005
    # one player, self-contained: its script, its data, no external source; text escaped
    assert html.count("<script") == 2 and "src=" not in html and "http" not in html
    assert "a &lt;test&gt;" in html and "start 42: hard" in html
    assert 'class="rlbook-nojs"' in html  # the static picture's text, hidden by the script
    assert player.size == len(html.encode()) < 60_000
    # two players of the same rollouts on one page do not share ids
    twins = [rp.pendulum_player(rows).html for _ in range(2)]
    assert len({re.search(r'<div id="([^"]+)"', h).group(1) for h in twins}) == 2


def test_the_player_script_is_es5_and_finds_its_own_root():
    html = rp.pendulum_player({"zero": rp.rollout(lambda o: 0 * o[:, :1], [1])}).html
    script = html.rsplit("<script>", 1)[1]
    for es6 in ("=>", "let ", "const ", "`"):
        assert es6 not in script
    assert "document.currentScript" in script


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(start_seeds=[]), "start_seeds"),
        (dict(start_seeds=[-1]), "start_seeds"),
        (dict(start_seeds=[1, 1]), "start_seeds"),
        (dict(start_seeds=[1.5]), "start_seeds"),
        (dict(start_seeds=None), "start_seeds"),
        (dict(env_id="NoSuchEnv-v0"), "env_id"),
        (dict(env_id="CartPole-v1"), "env_id"),
        (dict(policy=np.zeros((2, 200))), "policy"),
        (dict(policy=np.full((1, 200), np.nan)), "policy"),
        (dict(policy="torques"), "policy"),
    ],
)
def test_bad_rollout_inputs_name_the_parameter(kwargs, name):
    args = dict(policy=lambda o: 0 * o[:, :1], start_seeds=[3], env_id="Pendulum-v1") | kwargs
    with pytest.raises(ValueError, match=name):
        rp.rollout(args["policy"], args["start_seeds"], args["env_id"])


def test_bad_player_and_loader_inputs_name_the_parameter():
    zero = rp.rollout(lambda o: 0 * o[:, :1], [1, 2])
    with pytest.raises(ValueError, match="rows"):
        rp.pendulum_player([])
    with pytest.raises(ValueError, match="rows"):
        rp.pendulum_player([("a", zero), ("b", zero.take([2, 1]))])
    with pytest.raises(ValueError, match="rows"):
        rp.pendulum_player([("", zero)])
    with pytest.raises(ValueError, match="rows"):
        rp.pendulum_player([zero])
    with pytest.raises(ValueError, match="start_labels"):
        rp.pendulum_player([("a", zero)], start_labels={7: "x"})
    with pytest.raises(ValueError, match="ghosts"):
        rp.pendulum_player([("a", zero)], ghosts=[11.0])
    with pytest.raises(ValueError, match="seeds"):
        zero.take([3])
    with pytest.raises(ValueError, match="name"):
        rp.recorded_actor("dqn", 1)
    with pytest.raises(ValueError, match="seed"):
        rp.recorded_actor("td3", 0)  # seed 0 is trained on the page, not recorded
    with pytest.raises(ValueError, match="name"):
        rp.untrained_agent("dqn")


@pytest.mark.parametrize("name", rp.RECORDED)
def test_the_untrained_agent_is_the_one_a_run_of_its_seed_starts_from(name):
    import importlib

    import torch

    module = importlib.import_module(f"rlbook.{name}")
    fresh = rp.untrained_agent(name, seed=3)
    config = fresh.config.replace(total_steps=20, warmup_steps=20, eval_every=20, eval_episodes=1)
    run = module.train("Pendulum-v1", config, seed=3, progress=False)  # warm-up only: no update
    assert run.agent.updates == 0
    for (key, a), b in zip(
        fresh.policy.state_dict().items(), run.agent.policy.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), key
    other = rp.untrained_agent(name, seed=4).policy.state_dict()  # another seed, other weights
    assert not torch.equal(other["body.0.weight"], fresh.policy.state_dict()["body.0.weight"])


@pytest.mark.usefixtures("one_thread")  # as the records were made: a second thread rounds apart
@pytest.mark.parametrize("name", rp.RECORDED)
def test_each_recorded_seed_s_actor_returns_what_it_returned_when_recorded(name):
    # The record keeps, per seed, the returns on the 10 evaluation starts of the actor taken out
    # of the batch (``actor_returns``), the network the loader rebuilds: same class, same float32
    # parameters, same computation, hence the same returns to the last bit where the kernels
    # round as they did (the record's CPU). Elsewhere no tolerance holds for every start: a
    # policy on the edge between two ways of swinging up (TD3's seed 5 on start 7) moves its
    # return by hundreds for a difference of one unit in the last place of a torque, as the
    # batch's own curve shows (its final mean differs from the actor's alone by 0.38).
    record = rp._record(name)
    if "actors" not in record:
        pytest.skip(f"the record {name} keeps no actors")
    if cpu_summary() != record["cpu"]:
        pytest.skip(f"exact on the record's CPU ({record['cpu']}); this is {cpu_summary()}")
    runs = record["variants"][name]["runs"]
    assert sorted(rp.final_returns(name)) == record["seeds"] == [r["seed"] for r in runs]
    for run in runs:
        actor = rp.recorded_actor(name, run["seed"])
        returns = evaluate(actor.act_batch, make_env, range(10))
        assert returns.tolist() == run["actor_returns"], (name, run["seed"])
        # and near what the batch's curve says at its last evaluation: within 5e-7 on every
        # seed but TD3's seed 5 (0.38); the exact comparison above is what tells seeds apart
        assert returns.mean() == pytest.approx(run["return"][-1], abs=1.0), (name, run["seed"])


@pytest.mark.parametrize("name", rp.RECORDED)
def test_the_seeds_are_ranked_by_the_recorded_actors_own_returns(name):
    # The chapters pick the best and worst seeds by final_returns and then replay the recorded
    # actor: the ranking must be that actor's return on the 10 evaluation starts (actor_returns),
    # not the batch curve's last value, which rounds apart (TD3's seed 5: -199.21 against -199.58)
    record = rp._record(name)
    if "actors" not in record:
        pytest.skip(f"the record {name} keeps no actors")
    finals = rp.final_returns(name)
    for run in record["variants"][name]["runs"]:
        assert len(run["actor_returns"]) == 10
        assert finals[run["seed"]] == np.mean(run["actor_returns"]), (name, run["seed"])


def test_the_upright_time_is_when_the_pendulum_stays_up_to_the_end():
    run = rp.rollout(BEST.actions[[93, 1]], [93, 1])
    up = run.upright_time()
    for k in range(2):
        since = int(round(up[k] / run.dt))
        assert np.abs(run.theta[k, since:]).max() <= 0.2
        assert since == 0 or abs(run.theta[k, since - 1]) > 0.2
    # no torque at all: hanging down at the end, never upright
    down = rp.rollout(lambda o: 0 * o[:, :1], [93]).upright_time()
    assert np.isnan(down).all()
    with pytest.raises(ValueError, match="tolerance"):
        run.upright_time(tolerance=0)
    with pytest.raises(ValueError, match="hold"):
        run.upright_time(hold=11)


def test_the_player_gives_each_role_its_own_look_on_every_page():
    zero = rp.rollout(lambda o: 0 * o[:, :1], [1])
    pcl_like = rp.pendulum_player({"untrained": zero, "trained": zero, "optimal": zero}).data
    five = rp.pendulum_player(
        {"untrained": zero, "seed 0": zero, "a": zero, "b": zero, "optimal": zero}
    ).data
    assert pcl_like["colors"][0] == five["colors"][0] == "#7F7F7F"  # untrained: grey
    assert pcl_like["colors"][-1] == five["colors"][-1] == "#000000"  # optimal: black
    assert pcl_like["colors"][1] == five["colors"][1]
    seven = rp.pendulum_player({str(i): zero for i in range(7)}).data
    assert len(set(seven["colors"])) == 7
