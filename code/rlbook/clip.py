"""HalfCheetah-v5 seen: record a policy's episode, render it off-screen, play it in the page.

The Benchmarks chapter's HalfCheetah section shows rlbook's and SB3's TD3 and SAC policies
running. ``benchmarks/halfcheetah_clip.py`` makes what it shows, in two stages:

- ``train`` keeps the final policy of each run and plays one deterministic episode with it
  (:func:`rollout`), recording MuJoCo's state ``qpos``/``qvel`` at every step, the actions and the
  rewards, into the committed ``rlbook/results/halfcheetah-clip/trajectories.npz`` and
  ``clip.json`` (returns, the runs' records, command, CPU, versions, commit);
- ``render`` sets a MuJoCo model to the recorded states of the first steps and renders them
  off-screen (:func:`render_frames`, ``MUJOCO_GL=egl``) into one JPEG sprite sheet per policy
  (:func:`write_sprite`: the frames side by side), ``NAME.jpg`` in the same folder.

:func:`cheetah_player` turns the committed sprites into a self-contained HTML player (the JPEGs
as ``data:`` URIs, a small ES5 script, no file, no network), which plays in the built book, in
JupyterLab and in Colab's output iframe, with the last frame of each clip shown without
JavaScript. :func:`load` reads the committed trajectories (the tests replay their actions with
:func:`replay` and find the recorded states again); :func:`read_sprite` cuts a sprite back into
its frames. Rendering needs ``mujoco`` (the ``[mujoco]`` extra) and Pillow; the player needs
neither.
"""

from __future__ import annotations

import base64
import hashlib
import html
import importlib
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import gymnasium as gym
import numpy as np

from . import results
from .replay import HTMLPlayer, player_script
from .validation import check_choice, check_int, check_real

__all__ = [
    "NAMES",
    "SET",
    "CheetahClip",
    "ClipPlayer",
    "cheetah_player",
    "load",
    "read_sprite",
    "render_frames",
    "replay",
    "rollout",
    "write_sprite",
]

#: the result set (folder of ``rlbook.results``) that holds the committed clip
SET = "halfcheetah-clip"
#: the policies of the clip, in the player's order: TD3's row, then SAC's; rlbook, then SB3
NAMES = ("td3", "sb3-td3", "sac", "sb3-sac")
_LABELS = {
    "td3": ("rlbook", "TD3"),
    "sb3-td3": ("SB3", "TD3"),
    "sac": ("rlbook", "SAC"),
    "sb3-sac": ("SB3", "SAC"),
}


# --- recording ---------------------------------------------------------------------------------


def _state(env) -> tuple[np.ndarray, np.ndarray]:
    data = env.unwrapped.data
    return data.qpos.copy(), data.qvel.copy()


def rollout(
    policy: Callable[[np.ndarray], np.ndarray], env_id: str = "HalfCheetah-v5", seed: int = 0
) -> dict[str, np.ndarray]:
    """One episode of ``policy`` (observations ``(1, dim)`` to actions ``(1, dim_a)``, as
    :func:`rlbook.loop.evaluate` calls it) from ``gym.make(env_id).reset(seed=seed)``, until it
    terminates or is truncated (1,000 steps on HalfCheetah-v5): a dict of ``qpos`` and ``qvel``
    (``(T + 1, n)``, the start state first), ``actions`` (``(T, dim_a)``, exactly as the
    environment received them) and ``rewards`` (``(T,)``, float64)."""
    check_int("seed", seed, 0)
    env = gym.make(env_id)
    obs, _ = env.reset(seed=seed)
    states = [_state(env)]
    actions, rewards = [], []
    done = False
    while not done:
        action = np.asarray(policy(obs[None]))[0]
        obs, reward, terminated, truncated, _ = env.step(action)
        states.append(_state(env))
        actions.append(action)
        rewards.append(reward)
        done = terminated or truncated
    env.close()
    return {
        "qpos": np.array([s[0] for s in states]),
        "qvel": np.array([s[1] for s in states]),
        "actions": np.array(actions),
        "rewards": np.array(rewards, dtype=np.float64),
    }


class _Playback:
    def __init__(self, actions: np.ndarray):
        self.actions, self.t = actions, 0

    def __call__(self, obs):
        if self.t >= len(self.actions):
            raise ValueError(
                f"actions: the episode goes on after the {len(self.actions)} actions given"
            )
        action = self.actions[self.t]
        self.t += 1
        return action[None]


def replay(actions: np.ndarray, env_id: str = "HalfCheetah-v5", seed: int = 0) -> dict:
    """Step ``gym.make(env_id)`` from ``reset(seed=seed)`` with recorded ``actions``
    (``(T, dim_a)``, one row per step of the whole episode): the same dict as :func:`rollout`."""
    actions = np.asarray(actions)
    if actions.ndim != 2 or len(actions) == 0:
        raise ValueError(f"actions must be a (steps, action_dim) array; got shape {actions.shape}")
    playback = _Playback(actions)
    episode = rollout(playback, env_id, seed)
    if playback.t != len(actions):
        raise ValueError(
            f"actions: the episode ended after {playback.t} steps; {len(actions)} actions given"
        )
    return episode


@dataclass
class CheetahClip:
    """The committed clip (:func:`load`): ``meta`` is ``clip.json`` (``policies``: per name its
    ``episode_return`` and its run's ``record``; ``render``: the rendered ``steps``, ``width``,
    ``height``), ``episodes`` maps each name of :data:`NAMES` to its recorded episode (float32
    ``qpos``, ``qvel``, ``actions``; float64 ``rewards``), ``folder`` holds the sprites."""

    meta: dict
    episodes: dict[str, dict[str, np.ndarray]]
    folder: Path
    dt: float = 0.05  # HalfCheetah-v5: 5 MuJoCo steps of 0.01 s per environment step

    def episode_return(self, name: str) -> float:
        """The undiscounted return of policy ``name``'s recorded episode (1,000 steps)."""
        check_choice("name", name, self.episodes)
        return float(self.episodes[name]["rewards"].sum())

    def distance(self, name: str, steps: int | None = None) -> float:
        """How far forward (m, the change of ``qpos[0]``) policy ``name``'s cheetah ran in the
        first ``steps`` steps of its episode (default: the steps the clip shows)."""
        check_choice("name", name, self.episodes)
        qpos = self.episodes[name]["qpos"]
        if steps is None:
            steps = self.meta["render"]["steps"][-1]
        steps = check_int("steps", steps, 1, len(qpos) - 1)
        return float(qpos[steps, 0]) - float(qpos[0, 0])

    def sprite(self, name: str) -> Path:
        check_choice("name", name, self.episodes)
        return self.folder / f"{name}.jpg"


def load(folder: str | Path | None = None) -> CheetahClip:
    """The committed clip of :data:`SET` (or the one in ``folder``, as the script writes it)."""
    folder = Path(folder) if folder is not None else results.path(SET)
    meta = json.loads((folder / "clip.json").read_text())
    with np.load(folder / "trajectories.npz") as data:
        episodes = {
            name: {key: data[f"{name}/{key}"] for key in ("qpos", "qvel", "actions", "rewards")}
            for name in meta["policies"]
        }
    return CheetahClip(meta, episodes, folder)


# --- rendering (needs mujoco and Pillow) --------------------------------------------------------


def _mujoco() -> Any:
    """The ``mujoco`` module, imported when rendering (it needs a GL backend) and typed ``Any``:
    mujoco's compiled bindings ship no type information for these names."""
    return importlib.import_module("mujoco")


def _calm_floor(model) -> None:
    """The floor of the rendering model only: the model's checker (black and light grey, a
    mirror) compresses badly in JPEG and flickers at this size; keep its squares (the reference
    that shows forward motion under the tracking camera) in two close greys, without the mirror."""
    mujoco = _mujoco()

    tex = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_TEXTURE, "texplane")
    mat = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_MATERIAL, "MatPlane")
    if tex < 0 or mat < 0:
        return  # not the HalfCheetah model: its floor as it is
    start = model.tex_adr[tex]
    size = model.tex_width[tex] * model.tex_height[tex] * model.tex_nchannel[tex]
    pixels = model.tex_data[start : start + size].reshape(-1, model.tex_nchannel[tex])
    dark = pixels[:, :3].astype(int).sum(axis=1) < 3 * 102  # the checker's black squares
    pixels[dark, :3], pixels[~dark, :3] = 150, 195
    model.tex_data[start : start + size] = pixels.ravel()
    model.mat_reflectance[mat] = 0.0


def render_frames(
    qpos: np.ndarray,
    env_id: str = "HalfCheetah-v5",
    width: int = 176,
    height: int = 112,
    distance: float = 2.6,
    elevation: float = -14.0,
) -> np.ndarray:
    """Frames ``(n, height, width, 3)`` (uint8) of the states ``qpos`` (``(n, nq)``), rendered
    off-screen by MuJoCo (set ``MUJOCO_GL=egl`` or ``osmesa`` before the first import of mujoco
    where there is no display) on the floor of :func:`_calm_floor`, seen from the side by a
    camera ``distance`` m away, ``elevation`` degrees above the horizontal (negative: looking
    down), that follows the body's centre of mass along the track at a fixed height, so the
    floor's squares slide past as it runs; without shadows (Mesa's software shadow map breaks
    into dark slabs away from the light). Only positions matter for a picture: each frame is
    ``mj_forward`` of one state, velocities zero."""
    mujoco = _mujoco()

    qpos = np.asarray(qpos, dtype=np.float64)
    width = check_int("width", width, 16, 4096)
    height = check_int("height", height, 16, 4096)
    distance = check_real("distance", distance, 0.5, 20.0)
    elevation = check_real("elevation", elevation, -89.0, 89.0)
    env = gym.make(env_id)
    model = mujoco.MjModel.from_xml_path(cast(Any, env.unwrapped).fullpath)  # a MujocoEnv
    env.close()
    if qpos.ndim != 2 or qpos.shape[1] != model.nq or len(qpos) == 0:
        raise ValueError(f"qpos must be an (n, {model.nq}) array of states; got {qpos.shape}")
    _calm_floor(model)
    model.vis.global_.offwidth = max(model.vis.global_.offwidth, width)
    model.vis.global_.offheight = max(model.vis.global_.offheight, height)
    data = mujoco.MjData(model)
    camera = mujoco.MjvCamera()
    camera.type = mujoco.mjtCamera.mjCAMERA_FREE
    camera.distance, camera.elevation, camera.azimuth = distance, elevation, 90.0
    frames = np.empty((len(qpos), height, width, 3), dtype=np.uint8)
    with mujoco.Renderer(model, height, width) as renderer:
        # no shadows: the software renderer's shadow map breaks into dark slabs on the floor
        renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
        for k, q in enumerate(qpos):
            data.qpos[:] = q
            mujoco.mj_forward(model, data)
            camera.lookat[:] = (data.subtree_com[0][0], 0.0, 0.35)  # x of the whole body
            renderer.update_scene(data, camera=camera)
            frames[k] = renderer.render()
    return frames


def write_sprite(frames: np.ndarray, path: str | Path, quality: int = 70) -> int:
    """Save ``frames`` (``(n, h, w, 3)`` uint8) side by side as one JPEG of ``n * w`` by ``h``
    pixels at ``quality`` (1 to 95, Pillow's scale); returns the file's size in bytes."""
    from PIL import Image

    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be an (n, h, w, 3) uint8 array; got {frames.shape}")
    quality = check_int("quality", quality, 1, 95)
    if frames.shape[0] * frames.shape[2] > 65_535:
        raise ValueError(
            f"frames: {frames.shape[0]} frames of {frames.shape[2]} px exceed JPEG's 65,535 px"
        )
    sheet = np.concatenate(list(frames), axis=1)
    Image.fromarray(sheet).save(path, "JPEG", quality=quality, optimize=True)
    return Path(path).stat().st_size


def read_sprite(path: str | Path, frames: int) -> np.ndarray:
    """The ``frames`` frames of the sprite sheet at ``path``: ``(frames, h, w, 3)`` uint8."""
    from PIL import Image

    frames = check_int("frames", frames, 1)
    with Image.open(path) as image:
        sheet = np.asarray(image.convert("RGB"))
    if sheet.shape[1] % frames:
        raise ValueError(
            f"frames: a sheet {sheet.shape[1]} px wide does not hold {frames} equal frames"
        )
    return np.stack(np.split(sheet, frames, axis=1))


# --- the player ---------------------------------------------------------------------------------

_IDS = itertools.count()


@dataclass(repr=False)
class ClipPlayer(HTMLPlayer):
    """What :func:`cheetah_player` returns (a :class:`rlbook.replay.HTMLPlayer`)."""

    def __repr__(self) -> str:  # the text/plain beside the HTML: short, not the whole page
        n, frames = len(self.data["labels"]), self.data["frames"]
        return f"<HalfCheetah clip player: {n} policies, {frames} frames, {self.size / 1e3:.0f} kB>"


def cheetah_player(
    names: Sequence[str] = NAMES,
    title: str = "",
    speed: float = 1.0,
    clip: CheetahClip | None = None,
) -> ClipPlayer:
    """A player of the committed HalfCheetah-v5 clip: one panel per policy of ``names`` (a
    subset of :data:`NAMES`, in the order shown: four fill a row of the book's column and wrap
    to two rows of two on a phone), each labelled with its library, algorithm and episode return
    and, under the picture, how far its cheetah has run (``x``, m) at the frame shown; Play/Pause,
    a frame scrubber (its ``aria-valuetext`` says the time and the distances) and the time
    ``t = 1.25 s``. ``speed``: playback speed (1 is real time, 0.5 slow motion; 0.1 to 4).
    ``title``: a line above the player. ``clip``: another :class:`CheetahClip` (default the
    committed one, :func:`load`).

    The frames are the committed JPEG sprites, embedded as ``data:`` URIs; without JavaScript
    each panel shows its clip's last frame.
    """
    clip = clip if clip is not None else load()
    if isinstance(names, str) or not isinstance(names, Sequence) or not names:
        raise ValueError(f"names must be a non-empty sequence of {list(NAMES)}; got {names!r}")
    for name in names:
        check_choice("names", name, clip.episodes)
    if len(set(names)) != len(names):
        raise ValueError(f"names must not repeat a policy; got {list(names)}")
    if not isinstance(title, str):
        raise ValueError(f"title must be a string; got {title!r}")
    speed = check_real("speed", speed, 0.1, 4.0)
    render = clip.meta["render"]
    steps = [int(s) for s in render["steps"]]
    if len(steps) < 2:
        raise ValueError(f"the clip must hold at least 2 frames; got {len(steps)}")
    step_dt = (steps[1] - steps[0]) * clip.dt
    data = {
        "frames": len(steps),
        "dt": clip.dt,
        "steps": steps,
        "interval": round(1000 * step_dt / speed),
        "labels": [" ".join(_LABELS.get(n, (n, ""))).strip() for n in names],
        # per policy, per frame: how far it has run (the tracking camera hides it), in dm
        # as shown (rounded once from the metres, so that it reads as the prose's
        # one-decimal metres: 14.4495 m shows 14.4, not 14.45 -> 14.5)
        "dm": [_rounded(clip.episodes[n]["qpos"][:, 0], steps, 10) for n in names],
    }
    images = [base64.b64encode(clip.sprite(n).read_bytes()).decode("ascii") for n in names]
    returns = [clip.episode_return(n) for n in names]
    uid = hashlib.sha1(json.dumps(data).encode()).hexdigest()[:8]
    pid = f"rlbook-clip-{uid}-{next(_IDS)}"
    return ClipPlayer(_html(pid, data, images, returns, render, title, names), data)


def _rounded(qpos_x, steps: list[int], per_metre: int) -> list[int]:
    """The distance run from the episode's start ``qpos_x[0]`` (m) to each of ``steps``, as
    :meth:`CheetahClip.distance` gives it, in units of 1/``per_metre`` m, rounded once."""
    x = np.asarray(qpos_x, dtype=np.float64)
    return [int(v) for v in np.rint(per_metre * (x[steps] - x[0]))]


def _metres(dm: int) -> str:
    """As the script writes it: decimetres as metres with one decimal, a minus sign for
    negatives, no "-0.0"."""
    return ("\u2212" if dm < 0 else "") + f"{abs(dm) / 10:.1f}"


def _fmt_return(value: float) -> str:
    return f"{value:,.0f}".replace("-", "\u2212")


def _html(pid, data, images, returns, render, title, names) -> str:
    e = html.escape
    frames = data["frames"]
    last = frames - 1
    ratio = 100 * render["height"] / render["width"]
    horizon = data["steps"][-1] * data["dt"]
    control = 'style="font:inherit;font-size:0.9em;margin:2px 6px 2px 0;max-width:100%"'
    controls = (
        '<div style="display:flex;flex-wrap:wrap;align-items:center;gap:4px 8px">'
        f'<button type="button" class="rlbook-play" aria-controls="{pid}-panels" {control} '
        "disabled>Play</button>"
        '<label style="display:flex;align-items:center;gap:4px;flex:1 1 160px">'
        '<span style="font-size:0.9em">frame</span>'
        f'<input type="range" class="rlbook-scrub" min="0" max="{last}" step="1" '
        f'value="{last}" aria-label="time in the episode" style="flex:1 1 auto;min-width:80px" '
        "disabled></label>"
        '<output class="rlbook-label" style="font-size:0.9em;font-variant-numeric:tabular-nums">'
        f"t = {horizon:.2f} s</output></div>"
    )
    panels = []
    for j, name in enumerate(names):
        library, algo = _LABELS.get(name, (name, ""))
        x_end = _metres(data["dm"][j][-1])
        panels.append(
            '<figure class="rlbook-clip-panel" style="margin:0;min-width:0">'
            f'<figcaption style="font-size:0.85em;line-height:1.25;margin-bottom:2px">'
            f"<b>{e(library)} {e(algo)}</b><br>return {_fmt_return(returns[j])}</figcaption>"
            f'<div class="rlbook-frame" data-panel="{j}" role="img" '
            f'aria-label="{e(library)} {e(algo)} on HalfCheetah-v5, rendered by MuJoCo" '
            f'style="width:100%;height:0;padding-top:{ratio:.3f}%;'
            f"background-image:url(data:image/jpeg;base64,{images[j]});"
            f"background-size:{frames * 100}% 100%;background-repeat:no-repeat;"
            f'background-position:100% 0"></div>'
            f'<div class="rlbook-x" data-panel="{j}" style="font-size:0.85em;'
            f'font-variant-numeric:tabular-nums">x = {x_end} m</div>'
            "</figure>"
        )
    grid = (
        f'<div id="{pid}-panels" style="display:grid;gap:6px;margin-top:4px;'
        f'grid-template-columns:repeat(auto-fit,minmax(150px,1fr))">' + "".join(panels) + "</div>"
    )
    nojs = (
        '<p class="rlbook-nojs" style="font-size:0.85em;margin:4px 0">'
        f"Without JavaScript: each clip's last frame, after {horizon:g} s, and how far it ran.</p>"
    )
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    desc = (
        '<p class="rlbook-clip-desc" style="position:absolute;width:1px;height:1px;'
        'overflow:hidden;clip:rect(0 0 0 0)">'
        f"HalfCheetah-v5 clips, {frames} frames of the first {horizon:g} s of each policy's "
        "episode from reset(seed=0), side view from a camera that follows the body: "
        + e(", ".join(data["labels"]))
        + ". The floor's squares show the running.</p>"
    )
    return (
        f'<div id="{pid}" class="rlbook-clip" data-rlbook-clip="1" '
        'style="position:relative;max-width:760px;box-sizing:border-box;border:1px solid #ccc;'
        "border-radius:4px;padding:6px;margin:0.5em 0;background:#fff;color:#222;"
        'overflow:hidden">'
        + (f'<div style="font-weight:bold;margin-bottom:4px">{e(title)}</div>' if title else "")
        + desc
        + controls
        + grid
        + nojs
        + f'<script type="application/json" class="rlbook-clip-data">{payload}</script>'
        + player_script("clip", pid, _SCRIPT)
        + "</div>"
    )


# ES5 only (see rlbook.replay.player_script). The player's own part of its script
# (player_script adds what every player does first and last).
_SCRIPT = r"""
  var play = q('.rlbook-play')[0], scrub = q('.rlbook-scrub')[0];
  var label = q('.rlbook-label')[0], pics = q('.rlbook-frame'), xs = q('.rlbook-x');
  var nojs = q('.rlbook-nojs')[0]; if (nojs) { nojs.style.display = 'none'; }
  var last = D.frames - 1, frame = 0, timer = null;
  // decimetres to metres, one decimal, a minus sign for negatives and no "-0.0"
  function fmt(d) {
    return (d < 0 ? '\u2212' : '') + (Math.abs(d) / 10).toFixed(1);
  }
  function show(k) {
    frame = Math.max(0, Math.min(last, k));
    var pos = (100 * frame / last).toFixed(4) + '% 0', parts = [];
    var text = 't = ' + (D.steps[frame] * D.dt).toFixed(2) + ' s';
    for (var j = 0; j < pics.length; j++) {
      pics[j].style.backgroundPosition = pos;
      var x = fmt(D.dm[j][frame]);
      xs[j].textContent = 'x = ' + x + ' m';
      parts.push(D.labels[j] + ' ' + x + ' m');
    }
    label.textContent = text;
    scrub.value = String(frame);
    scrub.setAttribute('aria-valuetext', text + '; distance run: ' + parts.join(', '));
  }
  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.textContent = 'Play'; play.setAttribute('aria-pressed', 'false');
  }
  function go() {
    if (frame >= last) { show(0); }
    play.textContent = 'Pause'; play.setAttribute('aria-pressed', 'true');
    timer = setInterval(function () {
      if (frame >= last) { stop(); return; }
      show(frame + 1);
    }, D.interval);
  }
  play.onclick = function () { if (timer === null) { go(); } else { stop(); } };
  scrub.oninput = function () { stop(); show(+scrub.value); };
  play.disabled = false; scrub.disabled = false; play.setAttribute('aria-pressed', 'false');
  show(0);
"""
