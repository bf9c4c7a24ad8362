"""Watch a policy act: replays of Pendulum-v1 episodes, and a player that animates them.

The chapters show learning curves and a policy's torque over the phase plane; this module shows
the policy *acting*. :func:`rollout` runs real, deterministic episodes of ``gymnasium``'s
Pendulum-v1 from the book's fixed starts (``reset(seed=i)``) and keeps, at every step, the state
``(theta, theta_dot)``, the torque, the reward and the running return. Its action path is that of
:func:`rlbook.loop.evaluate`, line for line (the episodes run in lockstep and the policy is called
once per step on the batch of observations), so the return it reports on a start is, on one
machine, the very number ``evaluate`` gives on the same starts, to the last bit.

A policy is one of

- a trained agent (DDPG, TD3, SAC or SAC-V, PCL's ``GaussianPCL``, or a :class:`RecordedActor`):
  anything with ``act_batch(obs)``, its deterministic action, as the book evaluates it;
- a plain callable ``policy(obs) -> actions`` on a batch of observations;
- an open-loop torque sequence, one row of actions per start: the optimal controller's
  ``rlbook.optimum.pendulum_optimum().actions[starts]``, replayed exactly as
  :func:`rlbook.optimum.replay` replays it (float64 torques, one per step).

:func:`hardest_start` finds the start of 0..99 on which a policy returns least, and
:func:`pendulum_player` turns rollouts into a self-contained HTML player (inline SVG and a small
ES5 script, no file, no network, no require.js) that plays in the built book and in JupyterLab
(the browser tests press Play in both) and is written for Colab's output iframe too, with a
static picture for readers without JavaScript. :meth:`Rollout.upright_time` says when a
pendulum is up for good, for the chapters' sentences.

The actor of every recorded seed of the chapters' main runs (``benchmarks/chapter_seeds.py``
keeps them beside the records) is built back by :func:`recorded_actor`; :func:`untrained_agent`
builds the agent a seed starts from, before any update.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

import gymnasium as gym
import numpy as np
import torch

from . import results
from .envs import check_box_env, flat_dim
from .validation import check_choice, check_int, check_real

__all__ = [
    "HTMLPlayer",
    "PendulumPlayer",
    "RecordedActor",
    "Rollout",
    "final_returns",
    "hardest_start",
    "pendulum_player",
    "recorded_actor",
    "rollout",
    "untrained_agent",
]

#: the chapters' main runs whose seeds' final actors are recorded (``benchmarks/chapter_seeds.py``)
RECORDED = ("ddpg", "td3", "sac")


@dataclass
class Rollout:
    """Deterministic episodes of Pendulum-v1, one per start, all ``steps`` long.

    ``seeds`` (n,): the starts ``reset(seed=i)``; ``theta`` and ``theta_dot`` (n, steps + 1): the
    state before each step and after the last (angle in radians wrapped to [-pi, pi), 0 upright,
    counter-clockwise positive; angular velocity in rad/s); ``torque`` (n, steps): the torque the
    environment applied at each step (the action clipped to [-2, 2] N m, as Pendulum clips it);
    ``rewards`` (n, steps); ``running`` (n, steps + 1): the return so far, 0 before the first step;
    ``returns`` (n,): the undiscounted return, summed in the order :func:`rlbook.loop.evaluate`
    sums it; ``dt``: seconds per step.
    """

    seeds: np.ndarray
    theta: np.ndarray
    theta_dot: np.ndarray
    torque: np.ndarray
    rewards: np.ndarray
    running: np.ndarray
    returns: np.ndarray
    dt: float

    @property
    def steps(self) -> int:
        return self.torque.shape[1]

    def upright_time(self, tolerance: float = 0.2, hold: float = 1.0) -> np.ndarray:
        """Per start, the time (s) from which the pendulum stays within ``tolerance`` rad of
        upright to the end of the episode; ``nan`` where it does not stay so for the last
        ``hold`` seconds at least (a swing through the top is not a swing-up)."""
        tolerance = check_real("tolerance", tolerance, 0.0, np.pi, low_open=True)
        hold = check_real("hold", hold, 0.0, self.steps * self.dt)
        out = np.full(len(self.seeds), np.nan)
        for i, theta in enumerate(self.theta):
            away = np.flatnonzero(np.abs(theta) > tolerance)
            since = 0 if not away.size else away[-1] + 1  # the first frame of the last stretch
            if (self.steps - since) * self.dt >= hold - 1e-9:
                out[i] = since * self.dt
        return out

    def take(self, seeds: Iterable[int]) -> Rollout:
        """The episodes of the starts ``seeds`` (each one of :attr:`seeds`), in that order."""
        have = [int(s) for s in self.seeds]
        rows = []
        for s in seeds:
            if int(s) not in have:
                raise ValueError(f"seeds: start {s} is not in this rollout's starts {have}")
            rows.append(have.index(int(s)))
        return Rollout(
            seeds=self.seeds[rows],
            theta=self.theta[rows],
            theta_dot=self.theta_dot[rows],
            torque=self.torque[rows],
            rewards=self.rewards[rows],
            running=self.running[rows],
            returns=self.returns[rows],
            dt=self.dt,
        )


def _check_starts(start_seeds) -> list[int]:
    if isinstance(start_seeds, (int, np.integer)):
        start_seeds = [start_seeds]
    try:
        seeds = [check_int("start_seeds", s, 0) for s in start_seeds]
    except TypeError:
        raise ValueError(
            f"start_seeds must be integers >= 0 (the starts reset(seed=i)); got {start_seeds!r}"
        ) from None
    if not seeds:
        raise ValueError("start_seeds must name at least one start")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"start_seeds must not repeat; got {seeds}")
    return seeds


def _action_fn(policy, n: int, steps: int) -> tuple[Callable | None, np.ndarray | None]:
    """The policy as ``f(obs_batch)``, or an open-loop array of shape (n, steps)."""
    if hasattr(policy, "act_batch"):
        return policy.act_batch, None
    if callable(policy):
        return policy, None
    try:
        actions = np.asarray(policy, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            "policy must be an agent (with act_batch), a callable on a batch of observations, "
            f"or torque sequences of shape (starts, steps); got {type(policy).__name__}"
        ) from None
    if actions.ndim == 1 and n == 1:
        actions = actions[None]
    if actions.shape != (n, steps) or not np.isfinite(actions).all():
        raise ValueError(
            f"policy: an open-loop torque sequence needs shape (len(start_seeds), steps) = "
            f"({n}, {steps}) of finite numbers; got shape {actions.shape}"
        )
    return None, actions


class _Pendulum(Protocol):
    """What :func:`rollout` reads of a Pendulum (gymnasium's ``PendulumEnv``)."""

    state: np.ndarray  # (theta, theta_dot)
    max_torque: float
    dt: float


def _pendulum(env: gym.Env) -> _Pendulum:
    """``env.unwrapped``, a Pendulum: :func:`rollout` checks its ``max_torque`` and
    ``max_speed`` before it steps (``state`` exists from the first ``reset``)."""
    return cast(_Pendulum, env.unwrapped)


def rollout(policy, start_seeds, env_id: str = "Pendulum-v1") -> Rollout:
    """Deterministic episodes of ``policy`` from the starts ``reset(seed=i)``, i in ``start_seeds``
    (see the module's text for what ``policy`` may be).

    The loop is :func:`rlbook.loop.evaluate`'s: every episode steps in lockstep, the policy is
    called once per step on the observations of the episodes still running (float32, as
    ``evaluate`` stacks them) and its row ``k`` is the action of episode ``k``. An open-loop
    sequence is stepped as :func:`rlbook.optimum.replay` steps it.
    """
    seeds = _check_starts(start_seeds)
    if not isinstance(env_id, str):
        raise ValueError(f"env_id must be a registered environment id; got {env_id!r}")
    try:
        spec = gym.spec(env_id)
    except gym.error.Error as err:
        raise ValueError(f"env_id: {env_id!r} is not a registered environment ({err})") from None
    envs = [gym.make(spec) for _ in seeds]
    pendulum = _pendulum(envs[0])
    if not (hasattr(pendulum, "max_torque") and hasattr(pendulum, "max_speed")):
        for env in envs:
            env.close()
        raise ValueError(f"env_id must be a Pendulum (state theta, theta_dot); got {env_id!r}")
    steps = spec.max_episode_steps or 200
    act, sequence = _action_fn(policy, len(seeds), steps)
    n = len(seeds)
    obs = np.stack([env.reset(seed=s)[0] for env, s in zip(envs, seeds, strict=True)])
    states = np.zeros((n, steps + 1, 2))
    states[:, 0] = [_pendulum(env).state for env in envs]
    torque = np.zeros((n, steps))
    rewards = np.zeros((n, steps))
    running = np.zeros((n, steps + 1))
    returns = np.zeros(n)
    active = np.ones(n, dtype=bool)
    length = np.full(n, steps)
    t = 0
    while active.any() and t < steps:
        idx = np.flatnonzero(active)
        actions = np.asarray(act(obs[idx])) if act is not None else None
        for k, i in enumerate(idx):
            if actions is not None:
                a = actions[k]
            else:  # _action_fn gave the open-loop sequence instead
                assert sequence is not None
                a = np.array([sequence[i, t]])
            o, r, terminated, truncated, _ = envs[i].step(a)
            obs[i] = o
            returns[i] += r
            rewards[i, t] = r
            running[i, t + 1] = returns[i]
            limit = float(_pendulum(envs[i]).max_torque)  # the torque the environment applies
            torque[i, t] = np.clip(np.asarray(a, dtype=float).reshape(-1)[0], -limit, limit)
            states[i, t + 1] = _pendulum(envs[i]).state
            if terminated or truncated:
                active[i] = False
                length[i] = t + 1
        t += 1
    for env in envs:
        env.close()
    if (length != steps).any():
        raise ValueError(f"env_id: episodes of {env_id!r} ended early ({length}); expected {steps}")
    theta = (states[..., 0] + np.pi) % (2 * np.pi) - np.pi
    return Rollout(
        seeds=np.array(seeds),
        theta=theta,
        theta_dot=states[..., 1],
        torque=torque,
        rewards=rewards,
        running=running,
        returns=returns,
        dt=float(pendulum.dt),
    )


def hardest_start(policy, starts: Iterable[int] = range(100), env_id: str = "Pendulum-v1") -> int:
    """The start of ``starts`` (default the book's 100) on which ``policy`` returns least (the
    first such, if several tie)."""
    run = rollout(policy, list(starts), env_id)
    return int(run.seeds[int(np.argmin(run.returns))])


# ------------------------------------------------------------------------------------------------
# the recorded seeds of the chapters' main runs, and the untrained agent a seed starts from
# ------------------------------------------------------------------------------------------------
class RecordedActor:
    """A recorded seed's final actor: ``act_batch(obs)`` is its deterministic action, computed
    as :meth:`rlbook.agent.OffPolicyAgent.act_batch` computes it (float32 observations, no
    gradient); ``policy`` is the network, of the class the chapter's agent uses."""

    def __init__(self, policy: torch.nn.Module, name: str, seed: int):
        self.policy, self.name, self.seed = policy, name, seed

    @torch.no_grad()
    def act_batch(self, obs: np.ndarray) -> np.ndarray:
        return self.policy(torch.as_tensor(np.asarray(obs, dtype=np.float32))).numpy()

    def __repr__(self) -> str:
        return f"RecordedActor({self.name!r}, seed={self.seed})"


def _record(name: str) -> dict:
    check_choice("name", name, RECORDED)
    return results.load_json("chapter-seeds", name)


def final_returns(name: str) -> dict[int, float]:
    """Each recorded seed's final return in ``benchmarks/chapter_seeds.py``'s main run ``name``
    (``"ddpg"``, ``"td3"`` or ``"sac"``), by which the chapters pick the best and worst seeds.

    It is the return of the recorded actor itself, the policy :func:`recorded_actor` rebuilds and
    the player replays: the mean of the record's ``actor_returns``, that actor's returns on the
    10 evaluation starts (``reset(seed=i)``, ``i = 0..9``), as :func:`rlbook.loop.evaluate` gives
    them. It is not the batch curve's last value (``return[-1]``): the batch computes with other
    kernels and rounds apart from the actor alone, by up to 0.38 in the record (TD3's seed 5)."""
    runs = _record(name)["variants"][name]["runs"]
    return {int(r["seed"]): float(np.mean(r["actor_returns"])) for r in runs}


def recorded_actor(name: str, seed: int) -> RecordedActor:
    """The final actor of recorded seed ``seed`` (1-5) of the main run ``name`` (``"ddpg"``,
    ``"td3"`` or ``"sac"``), rebuilt from ``NAME-actors.npz`` with the record's settings:
    :class:`~rlbook.networks.DeterministicActor` for DDPG and TD3,
    :class:`~rlbook.networks.SquashedGaussianActor` for SAC."""
    from .networks import DeterministicActor, SquashedGaussianActor  # noqa: PLC0415

    record = _record(name)
    seeds = [int(s) for s in record["seeds"]]
    if seed not in seeds:
        raise ValueError(f"seed must be one of the recorded seeds {seeds}; got {seed!r}")
    if "actors" not in record:
        raise ValueError(
            f"the record {name!r} keeps no actors: run python benchmarks/chapter_seeds.py "
            f"--only {name}"
        )
    arrays = np.load(results.path("chapter-seeds") / record["actors"])
    state = {
        key.split("/", 1)[1]: torch.from_numpy(arrays[key])
        for key in arrays.files
        if key.split("/", 1)[0] == str(seed)
    }
    env = gym.make("Pendulum-v1")
    space = check_box_env(env, name)
    low, high = space.low, space.high
    obs_dim = flat_dim(env.observation_space)
    env.close()
    hidden = tuple(record["settings"]["hidden"])
    cls = SquashedGaussianActor if name == "sac" else DeterministicActor
    policy = cls(obs_dim, low, high, hidden)
    policy.load_state_dict(state)
    policy.eval()
    return RecordedActor(policy, name, seed)


def _algorithm(name: str):
    import importlib  # noqa: PLC0415

    return importlib.import_module(f"rlbook.{name}")


def untrained_agent(name: str, config=None, seed: int = 0, env_id: str = "Pendulum-v1"):
    """The agent a run of ``rlbook.NAME.train(env_id, config, seed=seed)`` starts from, before
    any update, built exactly as the run builds it (its initial weights drawn from ``seed``).
    ``name``: ``"ddpg"``, ``"td3"``, ``"sac"`` (``config`` defaults to the chapters' laptop
    settings) or ``"pcl"`` (:class:`rlbook.pcl.GaussianPCL`; ``config`` defaults to
    :data:`rlbook.pcl.PENDULUM`)."""
    from .agent import make_config  # noqa: PLC0415 - the algorithm modules import much
    from .loop import seed_everything, seeded_torch  # noqa: PLC0415

    check_choice("name", name, (*RECORDED, "pcl"))
    seed = check_int("seed", seed, 0)
    module = _algorithm(name)
    probe = gym.make(env_id)
    try:
        if name == "pcl":
            if config is None:
                config = module.PCLConfig(**module.PENDULUM)
            obs_dim = flat_dim(probe.observation_space)
            space = check_box_env(probe, "GaussianPCL")
            return module.GaussianPCL(obs_dim, space.low, space.high, config, config.hidden, seed)
        agent_class = getattr(module, name.upper())
        if config is None:
            from .runners import LAPTOP  # noqa: PLC0415

            config = agent_class.config_class(**LAPTOP[name])
        config = make_config(agent_class, config, {})
        agent_class = agent_class.for_config(config)
        agent_seed, _ = seed_everything(seed).spawn(2)
        with seeded_torch(seed):
            return agent_class(probe, config, agent_seed)
    finally:
        probe.close()


# ------------------------------------------------------------------------------------------------
# the player
# ------------------------------------------------------------------------------------------------
_COLORS = ("#7F7F7F", "#0072B2", "#009E73", "#D55E00", "#000000", "#CC79A7", "#E69F00")
_DASHES = ("4 3", "", "7 3", "2 2", "9 2 2 2", "5 5", "1 3")
_IDS = itertools.count()
_W = 560  # the SVG's width in its own units; it scales to the column
_CELL_H = 168  # the pendulums' panel
_PLOT_H = 84  # each time plot
_LEFT, _RIGHT = 62, 16  # room for the tick labels "-1900" and "10" at a phone's enlarged font
#: the smallest text the script lets the player show, in CSS px: on a narrow column (a phone)
#: the SVG is shrunk (344 px of its 560 units at 390 px), and the script enlarges its fonts back
_MIN_TEXT_PX = 11.5


@dataclass(repr=False)
class HTMLPlayer:
    """A player made of HTML and one script (:class:`PendulumPlayer`, and
    :class:`rlbook.clip.ClipPlayer`): ``html`` is the player; notebooks display it through
    :meth:`_repr_html_`. ``data`` is what its script animates (the JSON in the page)."""

    html: str
    data: dict

    def _repr_html_(self) -> str:
        return self.html

    @property
    def size(self) -> int:
        """The player's weight in bytes (UTF-8), any embedded pictures included."""
        return len(self.html.encode())


def player_script(kind: str, pid: str, body: str) -> str:
    """The ``<script>`` of a player whose root element carries ``data-rlbook-KIND`` and id ``pid``
    and holds its data as JSON in ``<script class="rlbook-KIND-data">``: ES5 only (no let/const,
    arrow functions or template strings), so that it runs as the page loads (the built book), when
    JupyterLab renders a trusted output, and in Colab's output iframe. It finds its root (the
    script's parent, or by id where ``document.currentScript`` is missing), runs once per root,
    parses the data into ``D``, defines ``q(selector)`` over the root, then runs ``body``; an
    error is logged under the player's name, so that a page's other errors are not taken for it."""
    head = (
        "(function () {\n try {\n"
        "  var s = document.currentScript, root = null;\n"
        "  if (s && s.parentNode && s.parentNode.getAttribute &&\n"
        f"      s.parentNode.getAttribute('data-rlbook-{kind}')) {{ root = s.parentNode; }}\n"
        f"  if (!root) {{ root = document.getElementById('{pid}'); }}\n"
        "  if (!root || root.getAttribute('data-ready')) { return; }\n"
        "  root.setAttribute('data-ready', '1');\n"
        f"  var D = JSON.parse(root.querySelector('script.rlbook-{kind}-data').textContent);\n"
        "  var q = function (sel) { return root.querySelectorAll(sel); };\n"
    )
    tail = (
        " } catch (e) {\n"
        f"  if (window.console) {{ console.error('rlbook-{kind}: ' + e); }}\n"
        " }\n})();\n"
    )
    return f"<script>{head}{body}{tail}</script>"


@dataclass(repr=False)
class PendulumPlayer(HTMLPlayer):
    """What :func:`pendulum_player` returns (an :class:`HTMLPlayer`)."""

    def __repr__(self) -> str:  # the text/plain beside the HTML: short, not the whole page
        rows, starts = len(self.data["labels"]), len(self.data["starts"])
        return f"<replay player: {rows} rows, {starts} starts, {self.size / 1e3:.0f} kB>"


def _rows(rows) -> list[tuple[str, Rollout]]:
    items = list(rows.items()) if isinstance(rows, Mapping) else list(rows)
    if not items:
        raise ValueError("rows must hold at least one (label, Rollout) pair")
    out = []
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Rollout)):
            raise ValueError(
                "rows must be (label, Rollout) pairs or a mapping label -> Rollout; got "
                f"{item!r:.80}"
            )
        label, run = item
        if not isinstance(label, str) or not label.strip() or label.count("\n") > 1:
            raise ValueError(
                f"rows: each label must be a non-empty string of one or two lines; got {label!r}"
            )
        out.append((label, run))
    first = out[0][1]
    for label, run in out[1:]:
        if list(run.seeds) != list(first.seeds) or run.steps != first.steps or run.dt != first.dt:
            raise ValueError(
                f"rows: every rollout must have the same starts, steps and dt; {label!r} has "
                f"starts {list(run.seeds)}, {run.steps} steps, dt {run.dt}, the first "
                f"{list(first.seeds)}, {first.steps} steps, dt {first.dt}"
            )
    if len(out) > len(_COLORS):
        raise ValueError(f"rows: at most {len(_COLORS)} rows fit the player; got {len(out)}")
    return out


def _ints(x, scale: float) -> list[int]:
    return [int(v) for v in np.rint(np.asarray(x) * scale)]


def pendulum_player(
    rows,
    title: str = "",
    start_labels: Mapping[int, str] | None = None,
    ghosts: Sequence[float] = (0.5, 1.0, 1.5, 2.0, 3.0),
) -> PendulumPlayer:
    """A player of Pendulum-v1 rollouts: one pendulum per row side by side, the torque and the
    running return against time under them, a moving marker; Play/Pause, a frame scrubber and a
    choice of start (when the rollouts hold several); a label ``t = 1.25 s`` and each row's return
    so far.

    ``rows``: ``(label, Rollout)`` pairs (or a mapping), every rollout on the same starts (at most
    7 rows). ``title``: a line above the player. ``start_labels``: a text per start for the
    chooser (e.g. ``{17: "the hardest for seed 0"}``). ``ghosts``: the times (s) at which the
    static picture, seen without JavaScript, draws each pendulum faintly.

    The data are the rollouts rounded for the eye (angles to 0.01 rad, torques to 0.01 N m,
    returns to 0.1), stored as integers in a JSON block that the inline ES5 script reads; the
    SVG is drawn here, for the first start, so the page shows the whole episode's curves and the
    start position even without the script. The SVG scales to the column; on a narrow one (a
    phone) the script enlarges its fonts so that no text is below 11.5 CSS px.
    """
    rows = _rows(rows)
    if not isinstance(title, str):
        raise ValueError(f"title must be a string; got {title!r}")
    start_labels = dict(start_labels or {})
    first = rows[0][1]
    seeds = [int(s) for s in first.seeds]
    for s in start_labels:
        if s not in seeds:
            raise ValueError(f"start_labels: start {s!r} is not one of the rollouts' {seeds}")
    ghosts = [float(g) for g in ghosts]
    horizon = first.steps * first.dt
    if any(not 0 <= g <= horizon for g in ghosts):
        raise ValueError(f"ghosts must be times in [0, {horizon:g}] s; got {ghosts}")
    # the same look for the same role on every page: "untrained" grey and dashed, "optimal"
    # black and dash-dotted, the other rows in the palette's order
    others = iter((1, 2, 3, 5, 6, 0, 4))  # grey and black last, if those roles are absent
    style = [
        0 if lab == "untrained" else 4 if lab == "optimal" else next(others) for lab, _ in rows
    ]
    colors = [_COLORS[i] for i in style]
    dashes = [_DASHES[i] for i in style]
    low = min(float(run.running.min()) for _, run in rows)
    r_min = -100.0 * np.ceil(-min(low, -1.0) / 100.0)
    data = {
        "dt": first.dt,
        "steps": first.steps,
        "starts": seeds,
        "start_labels": [start_labels.get(s, "") for s in seeds],
        "labels": [label for label, _ in rows],
        "colors": colors,
        "dashes": dashes,
        "r_min": r_min,
        # per row, per start: theta in 0.01 rad, torque in 0.01 N m, running return in 0.1
        "theta": [[_ints(th, 100) for th in run.theta] for _, run in rows],
        "torque": [[_ints(u, 100) for u in run.torque] for _, run in rows],
        "ret": [[_ints(g, 10) for g in run.running] for _, run in rows],
    }
    uid = hashlib.sha1(json.dumps(data).encode()).hexdigest()[:8]
    pid = f"rlbook-player-{uid}-{next(_IDS)}"
    return PendulumPlayer(_html(pid, data, title, ghosts), data)


def _plot_x(k: int, steps: int) -> float:
    return _LEFT + (_W - _LEFT - _RIGHT) * k / steps


def _polyline(values: Sequence[int], scale: float, y0: float, lo: float, hi: float, steps):
    pts = []
    for k, v in enumerate(values):
        y = y0 + _PLOT_H * (hi - v / scale) / (hi - lo)
        pts.append(f"{_plot_x(k, steps):.1f},{y:.1f}")
    return " ".join(pts)


def _html(pid: str, data: dict, title: str, ghosts: list[float]) -> str:
    n = len(data["labels"])
    steps, dt = data["steps"], data["dt"]
    cell = _W / n
    length = min(46.0, cell * 0.36)
    y_torque = _CELL_H + 22
    y_ret = y_torque + _PLOT_H + 24
    height = y_ret + _PLOT_H + 46
    e = html.escape
    svg = [
        f'<svg viewBox="0 0 {_W} {height}" width="100%" role="img" '
        f'aria-labelledby="{pid}-desc" style="display:block;max-width:100%;height:auto;'
        'font-family:sans-serif">',
        f'<desc id="{pid}-desc">Pendulum-v1 replays, one pendulum per policy: '
        + e(", ".join(data["labels"]))
        + "; under them the torque and the running return against time.</desc>",
    ]
    for j, label in enumerate(data["labels"]):
        cx, cy = cell * (j + 0.5), 96
        color = data["colors"][j]
        lines = label.split("\n")  # a label of two lines: "seed 3\n(best)"
        svg.append(
            f'<text x="{cx:.1f}" y="{17 if len(lines) > 1 else 26}" text-anchor="middle" '
            f'font-size="15" fill="{color}" font-weight="bold">'
            + "".join(
                f'<tspan x="{cx:.1f}" dy="{0 if i == 0 else 17}">{e(line)}</tspan>'
                for i, line in enumerate(lines[:2])
            )
            + "</text>"
        )
        svg.append(
            f'<circle cx="{cx:.1f}" cy="{cy}" r="{length + 8:.1f}" fill="none" '
            'stroke="#ddd" stroke-dasharray="2 3"/>'
        )
        svg.append(
            f'<line x1="{cx:.1f}" y1="{cy - length - 12:.1f}" x2="{cx:.1f}" '
            f'y2="{cy - length - 4:.1f}" stroke="#999"/>'
        )
        for g in ghosts:  # the static picture: faint positions at a few times
            k = min(steps, round(g / dt))
            deg = -data["theta"][j][0][k] / 100 * 180 / np.pi
            svg.append(
                f'<g class="rlbook-ghost" transform="rotate({deg:.1f} {cx:.1f} {cy})" '
                f'opacity="0.18"><line x1="{cx:.1f}" y1="{cy}" x2="{cx:.1f}" '
                f'y2="{cy - length:.1f}" stroke="{color}" stroke-width="5"/></g>'
            )
        deg = -data["theta"][j][0][0] / 100 * 180 / np.pi
        svg.append(
            f'<g class="rlbook-rod" data-row="{j}" transform="rotate({deg:.1f} {cx:.1f} {cy})">'
            f'<line x1="{cx:.1f}" y1="{cy}" x2="{cx:.1f}" y2="{cy - length:.1f}" '
            f'stroke="{color}" stroke-width="6" stroke-linecap="round"/>'
            f'<circle cx="{cx:.1f}" cy="{cy - length:.1f}" r="8" fill="{color}"/></g>'
        )
        svg.append(f'<circle cx="{cx:.1f}" cy="{cy}" r="3.5" fill="#333"/>')
        final = f"{data['ret'][j][0][-1] / 10:.1f}".replace("-", "\u2212")  # without the script
        svg.append(
            f'<text class="rlbook-ret" data-row="{j}" x="{cx:.1f}" y="{_CELL_H - 8}" '
            f'text-anchor="middle" font-size="15" fill="#222">return {final}</text>'
        )
    for y0, name, key, scale, lo, hi, ticks in (
        (y_torque, "torque (N m)", "torque", 100, -2.0, 2.0, (-2, 0, 2)),
        (y_ret, "return so far", "ret", 10, data["r_min"], 0.0, (data["r_min"], 0)),
    ):
        x0, x1 = _LEFT, _W - _RIGHT
        svg.append(
            f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{_PLOT_H}" fill="none" '
            'stroke="#bbb"/>'
        )
        svg.append(f'<text x="{x0}" y="{y0 - 5}" font-size="14" fill="#444">{e(name)}</text>')
        for v in ticks:
            y = y0 + _PLOT_H * (hi - v) / (hi - lo)
            svg.append(
                f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="13" '
                f'fill="#444">{v:g}</text>'
            )
        if lo < 0 < hi:
            y = y0 + _PLOT_H * hi / (hi - lo)
            svg.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="#ddd"/>')
        for j in range(n):
            values = data[key][j][0]
            svg.append(
                f'<polyline class="rlbook-line" data-key="{key}" data-row="{j}" '
                f'data-y0="{y0}" fill="none" stroke="{data["colors"][j]}" stroke-width="1.6" '
                f'stroke-dasharray="{data["dashes"][j]}" '
                f'points="{_polyline(values, scale, y0, lo, hi, steps)}"/>'
            )
    for s in range(0, int(round(steps * dt)) + 1, 2):
        x = _plot_x(s / dt, steps)
        svg.append(
            f'<text x="{x:.1f}" y="{y_ret + _PLOT_H + 19}" text-anchor="middle" '
            f'font-size="13" fill="#444">{s}</text>'
        )
    svg.append(
        f'<text x="{_W - _RIGHT}" y="{y_ret + _PLOT_H + 41}" text-anchor="end" '
        'font-size="13" fill="#444">time (s)</text>'
    )
    svg.append(
        f'<line class="rlbook-marker" x1="{_LEFT}" y1="{y_torque}" x2="{_LEFT}" '
        f'y2="{y_ret + _PLOT_H}" stroke="#333" stroke-width="1"/>'
    )
    svg.append("</svg>")
    options = "".join(
        f'<option value="{i}">start {s}' + (f": {e(lab)}" if lab else "") + "</option>"
        for i, (s, lab) in enumerate(zip(data["starts"], data["start_labels"], strict=True))
    )
    many = len(data["starts"]) > 1
    control = 'style="font:inherit;font-size:0.9em;margin:2px 6px 2px 0;max-width:100%"'
    controls = (
        f'<div style="display:flex;flex-wrap:wrap;align-items:center;gap:4px 8px">'
        f'<button type="button" class="rlbook-play" aria-controls="{pid}-svg" {control} '
        "disabled>Play</button>"
        f'<label style="display:flex;align-items:center;gap:4px;flex:1 1 160px">'
        f'<span style="font-size:0.9em">frame</span>'
        f'<input type="range" class="rlbook-scrub" min="0" max="{steps}" step="1" value="0" '
        f'aria-label="time in the episode" style="flex:1 1 auto;min-width:80px" disabled>'
        "</label>"
        f'<output class="rlbook-label" style="font-size:0.9em;font-variant-numeric:'
        f'tabular-nums">t = 0.00 s</output>'
        + (
            f'<label style="font-size:0.9em">start <select class="rlbook-start" {control} '
            f"disabled>{options}</select></label>"
            if many
            else ""
        )
        + "</div>"
    )
    nojs = (
        '<p class="rlbook-nojs" style="font-size:0.85em;margin:4px 0">'
        f"Without JavaScript: the start position of start {data['starts'][0]}, with the "
        "positions at "
        + ", ".join(f"{g:g}" for g in ghosts)
        + " s drawn faintly, under each its return over the episode, and the whole episode's "
        "torque and return.</p>"
    )
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return (
        f'<div id="{pid}" class="rlbook-player" data-rlbook-player="1" '
        'style="max-width:760px;box-sizing:border-box;border:1px solid #ccc;border-radius:4px;'
        'padding:6px;margin:0.5em 0;background:#fff;color:#222;overflow:hidden">'
        + (f'<div style="font-weight:bold;margin-bottom:4px">{e(title)}</div>' if title else "")
        + controls
        + f'<div id="{pid}-svg">'
        + "".join(svg)
        + "</div>"
        + nojs
        + f'<script type="application/json" class="rlbook-player-data">{payload}</script>'
        + player_script("player", pid, _SCRIPT)
        + "</div>"
    )


# ES5 only (see player_script). The player's own part of its script (player_script adds what every
# player does first and last).
_SCRIPT = r"""
  var play = q('.rlbook-play')[0], scrub = q('.rlbook-scrub')[0];
  var label = q('.rlbook-label')[0], chooser = q('.rlbook-start')[0];
  var rods = q('.rlbook-rod'), rets = q('.rlbook-ret'), lines = q('.rlbook-line');
  var marker = q('.rlbook-marker')[0], ghosts = q('.rlbook-ghost'), i;
  for (i = 0; i < ghosts.length; i++) { ghosts[i].style.display = 'none'; }
  var nojs = q('.rlbook-nojs')[0]; if (nojs) { nojs.style.display = 'none'; }
  var W = __W__, L = __LEFT__, R = __RIGHT__, H = __PLOTH__, MIN = __MIN__;
  var start = 0, frame = 0, timer = null;
  var centre = [];
  for (i = 0; i < rods.length; i++) {
    var m = /rotate\(([-\d.e]+) ([-\d.e]+) ([-\d.e]+)\)/.exec(rods[i].getAttribute('transform'));
    centre.push(m[2] + ' ' + m[3]);
  }
  // text no smaller than MIN CSS px however narrow the column: each font is its drawn size or
  // MIN over the SVG's scale, whichever is larger; a two-line label's lines move apart with it
  // (and down, if its first line would leave the SVG), and a row's return drops the word
  // "return" where only the number fits its cell
  var svg = root.querySelector('svg'), texts = q('svg text'), base = [], top = [];
  var narrow = false;
  for (i = 0; i < texts.length; i++) {
    base.push(+texts[i].getAttribute('font-size')); top.push(+texts[i].getAttribute('y'));
  }
  function fit() {
    var k = svg.getBoundingClientRect().width / W;
    if (!(k > 0)) { return; }
    for (var j = 0; j < texts.length; j++) {
      var size = Math.ceil(10 * Math.max(base[j], MIN / k)) / 10;
      var spans = texts[j].querySelectorAll('tspan');
      texts[j].setAttribute('font-size', size.toFixed(1));
      texts[j].setAttribute('y', Math.max(top[j], 0.92 * size).toFixed(1));  // inside the SVG
      for (var t = 1; t < spans.length; t++) {
        spans[t].setAttribute('dy', (1.1 * size).toFixed(1));
      }
    }
    if (rets.length) {
      rets[0].textContent = 'return \u22121888.8';  // the widest a return gets
      narrow = rets[0].getComputedTextLength() > 0.96 * W / rods.length;
    }
    show(frame);
  }
  function xOf(k) { return L + (W - L - R) * k / D.steps; }
  function fmt(v) { return (v < 0 ? '\u2212' : '') + Math.abs(v).toFixed(1); }
  function redraw() {
    for (var j = 0; j < lines.length; j++) {
      var el = lines[j], row = +el.getAttribute('data-row'), key = el.getAttribute('data-key');
      var v = D[key][row][start], y0 = +el.getAttribute('data-y0');
      var scale = key === 'torque' ? 100 : 10, lo = key === 'torque' ? -2 : D.r_min;
      var hi = key === 'torque' ? 2 : 0, pts = [];
      for (var k = 0; k < v.length; k++) {
        pts.push(xOf(k).toFixed(1) + ',' + (y0 + H * (hi - v[k] / scale) / (hi - lo)).toFixed(1));
      }
      el.setAttribute('points', pts.join(' '));
    }
  }
  function show(k) {
    frame = Math.max(0, Math.min(D.steps, k));
    var text = 't = ' + (frame * D.dt).toFixed(2) + ' s', parts = [];
    for (var j = 0; j < rods.length; j++) {
      var deg = -D.theta[j][start][frame] / 100 * 180 / Math.PI;
      rods[j].setAttribute('transform', 'rotate(' + deg.toFixed(1) + ' ' + centre[j] + ')');
      var g = D.ret[j][start][frame] / 10;
      rets[j].textContent = (narrow ? '' : 'return ') + fmt(g);
      parts.push(D.labels[j].replace('\n', ' ') + ' ' + fmt(g));
    }
    label.textContent = rods.length > 1 ? text : text + ', return = ' + fmt(D.ret[0][start][frame] / 10);
    scrub.value = String(frame);
    scrub.setAttribute('aria-valuetext', text + '; returns so far: ' + parts.join(', '));
    var x = xOf(frame).toFixed(1);
    marker.setAttribute('x1', x); marker.setAttribute('x2', x);
  }
  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.textContent = 'Play'; play.setAttribute('aria-pressed', 'false');
  }
  function go() {
    if (frame >= D.steps) { show(0); }
    play.textContent = 'Pause'; play.setAttribute('aria-pressed', 'true');
    timer = setInterval(function () {
      if (frame >= D.steps) { stop(); return; }
      show(frame + 1);
    }, D.dt * 1000);
  }
  play.onclick = function () { if (timer === null) { go(); } else { stop(); } };
  scrub.oninput = function () { stop(); show(+scrub.value); };
  if (chooser) {
    chooser.onchange = function () { start = +chooser.value; redraw(); show(frame); };
    chooser.disabled = false;
  }
  play.disabled = false; scrub.disabled = false; play.setAttribute('aria-pressed', 'false');
  fit();
  if (window.addEventListener) { window.addEventListener('resize', fit); }
"""
_SCRIPT = (
    _SCRIPT.replace("__W__", str(_W))
    .replace("__LEFT__", str(_LEFT))
    .replace("__RIGHT__", str(_RIGHT))
    .replace("__PLOTH__", str(_PLOT_H))
    .replace("__MIN__", str(_MIN_TEXT_PX))
)
