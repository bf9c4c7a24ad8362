"""The book's knobs as ipywidgets 8 controls that work both in a live kernel and in static HTML.

Every knob has two parts:

- a :class:`StaticKnob`: a slider over a grid of values whose figures were computed when the cell
  ran. The slider is linked *in the browser* (``ipywidgets.jslink``) to a ``Stack`` holding one
  image per value, so moving it switches the figure in the rendered book, where no kernel runs;
- a :class:`LivePanel`: controls that recompute for any value in a live kernel (Jupyter, Colab);
  expensive computations wait for a Run button and show a progress bar.

:func:`knob` puts both in one widget, the live part in a collapsed section. The computations and
drawings live in :mod:`rlbook.knobs`; the ``*_knob`` functions here wire them to controls.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as w
import matplotlib.pyplot as plt

from . import knobs
from .plotting import book_png

__all__ = [
    "LivePanel",
    "SCALE",
    "StaticKnob",
    "css_width",
    "figure_png",
    "knob",
    "ou_knob",
    "path_length_knob",
    "tau_record_knob",
    "tau_lag_knob",
    "twin_record_knob",
]


#: image pixels per CSS pixel of the knobs' figures: 2x, sharp on high-density screens
SCALE = 2


def figure_png(fig) -> bytes:
    """A matplotlib figure as the book's PNG (:func:`rlbook.plotting.book_png`: ``SCALE`` = 2
    image pixels per CSS pixel, a palette of 256 colours, its dpi and smallest font recorded);
    the figure is closed, so it is not shown twice."""
    png, _ = book_png(fig, scale=SCALE)
    plt.close(fig)
    return png


def css_width(png: bytes) -> int:
    """The CSS width (px) at which :func:`figure_png`'s image is shown: its pixel width (the PNG
    header's) over ``SCALE``, so one inch of figure is ``fig.dpi`` CSS px, as in the book's
    other figures."""
    return round(int.from_bytes(png[16:20], "big") / SCALE)


def _image(png: bytes = b"") -> w.Image:
    image = w.Image(format="png", layout=w.Layout(max_width="100%", height="auto"))
    _show(image, png)
    return image


def _show(image: w.Image, png: bytes) -> None:
    """``png`` in ``image``, at its CSS width (the column shrinks it further if narrower)."""
    image.value = png
    image.width = str(css_width(png)) if png else ""


class StaticKnob(w.VBox):
    """A ``SelectionSlider`` over ``values`` (``ToggleButtons`` with ``toggle=True``), linked in
    the browser to a ``Stack`` of the figures ``render(value)`` computed now, one per value, each
    a 2x palette PNG (:func:`figure_png`) shown at its CSS width. Works with no kernel (static
    HTML)."""

    def __init__(
        self,
        description: str,
        values: Sequence[Any],
        render: Callable[[Any], Any],
        labels: Sequence[str] | None = None,
        value: Any = None,
        toggle: bool = False,
    ):
        values = list(values)
        if not values:
            raise ValueError("values must hold at least one value of the knob")
        labels = [str(v) for v in values] if labels is None else list(labels)
        if len(labels) != len(values):
            raise ValueError(f"labels must have one entry per value ({len(values)})")
        index = 0 if value is None else values.index(value)
        self.values = values
        self.pngs = [figure_png(render(v)) for v in values]
        self.images = [_image(png) for png in self.pngs]
        self.stack = w.Stack(self.images, selected_index=index)
        if toggle:  # a choice between a few named options, not a scale: buttons
            self.slider = w.ToggleButtons(
                options=labels,
                index=index,
                description=description,
                style={"description_width": "initial", "button_width": "auto"},
            )
        else:
            self.slider = w.SelectionSlider(
                options=labels,
                index=index,
                description=description,
                continuous_update=True,
                style={"description_width": "initial"},
                layout=w.Layout(width="480px"),
            )
        self.link = w.jslink((self.slider, "index"), (self.stack, "selected_index"))
        super().__init__([self.slider, self.stack])
        self.add_class("rlbook-static-knob")


class LivePanel(w.VBox):
    """Controls that recompute ``draw(compute(**values))`` for any values, in a live kernel.

    ``controls`` maps keyword arguments of ``compute`` to value widgets. With ``run_button`` the
    computation waits for a click (for anything that trains); otherwise it follows every change.
    ``result`` holds the last computed data, ``image`` its figure.
    """

    def __init__(
        self,
        controls: dict[str, w.ValueWidget],
        compute: Callable[..., Any],
        draw: Callable[[Any], Any],
        run_button: bool = False,
    ):
        self.controls = dict(controls)
        self.compute, self.draw = compute, draw
        self.result = None
        self.shown = None  # the values the figure on screen was computed for
        self.image = _image()
        self.status = w.Output()
        self.button = w.Button(description="Run", button_style="primary", icon="play")
        self.button.on_click(lambda _: self.run())
        hint = "press Run to compute" if run_button else "move a control to compute"
        self.message = w.HTML(f"<i>Needs a running kernel (Jupyter, Colab): {hint}.</i>")
        children: list[w.Widget] = [
            w.HBox(list(self.controls.values()), layout=w.Layout(flex_flow="row wrap"))
        ]
        if run_button:
            children.append(self.button)
        else:
            for control in self.controls.values():
                control.observe(lambda _: self.run(), names="value")
        # the image joins the page only once it has a figure: an empty one would be a broken image
        self.figure = w.Box([])
        super().__init__([*children, self.message, self.status, self.figure])

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def run(self) -> None:
        """Compute with the controls' current values and show the figure.

        Any exception (a value out of range, ``TrainingDiverged``, a bug in a student's edit) is
        shown with its type, and the figure already on screen, if any, keeps the label of the
        values it was computed for: a figure is never labelled with values it was not made with."""
        self.button.disabled = True
        self.message.value = "<i>computing...</i>"
        self.status.clear_output()
        values = self.values()
        error = None
        # A progress bar, if the computation shows one, appears in ``status``. In a kernel,
        # ``Output`` swallows exceptions raised inside it, so they are caught here explicitly.
        with self.status:
            try:
                result = self.compute(**values)
                figure = figure_png(self.draw(result))
            except Exception as err:  # noqa: BLE001 - every failure is shown, none swallowed
                error = err
        self.button.disabled = False
        if error is not None:
            kind = html.escape(type(error).__name__)
            text = f"<b>{kind}:</b> {html.escape(str(error))}"
            if self.shown is not None:
                text += f"<br><i>The figure below is still the one {_label(self.shown)}.</i>"
            self.message.value = text
            return
        self.result, self.shown = result, values
        _show(self.image, figure)
        self.figure.children = (self.image,)
        self.message.value = f"<i>{_label(values)}</i>"


def _label(values: dict) -> str:
    return "computed for " + ", ".join(f"{k} = {v}" for k, v in values.items())


class Knob(w.VBox):
    """What :func:`knob` returns: a box whose ``static`` is its :class:`StaticKnob` and ``live``
    its :class:`LivePanel` (``None`` if it has none)."""

    static: StaticKnob
    live: LivePanel | None


def knob(title: str, static: StaticKnob, live: LivePanel | None = None) -> Knob:
    """A titled knob: the static slider, and the live panel in a collapsed section."""
    parts = [w.HTML(f"<b>{title}</b>"), static]
    if live is not None:
        acc = w.Accordion([live], selected_index=None)
        acc.set_title(0, "Recompute for any value (needs a running kernel)")
        acc.add_class(
            "rlbook-live"
        )  # kernel-only: the static page hides it (web/static/rlbook.css)
        parts.append(acc)
    box = Knob(parts)
    box.static, box.live = static, live
    return box


def _slider(kind, description, value, **kw):
    return kind(
        value=value,
        description=description,
        continuous_update=False,
        style={"description_width": "initial"},
        **kw,
    )


# ------------------------------------------------------------------------------------------------
def ou_knob(
    thetas: Sequence[float] = (0.15, 1.5, 15.0, 100.0),
    sigma: float = 0.2,
    dt: float = 1e-2,
    seed: int = 0,
) -> w.VBox:
    """OU noise: a slider over ``thetas`` (static); theta, sigma, mu and dt live."""

    def render(theta):
        return knobs.draw_ou(knobs.ou_experiment(theta=theta, sigma=sigma, dt=dt, seed=seed))

    static = StaticKnob("OU mean reversion θ", thetas, render, [f"{t:g}" for t in thetas])
    live = LivePanel(
        {
            "theta": _slider(w.FloatLogSlider, "θ", 0.15, base=10, min=-2, max=2.2, step=0.05),
            "sigma": _slider(w.FloatSlider, "σ", sigma, min=0.0, max=1.0, step=0.01),
            "mu": _slider(w.FloatSlider, "μ", 0.0, min=-1.0, max=1.0, step=0.05),
            # up to the unit step dt = 1 of rllab and TF-Agents
            "dt": _slider(w.FloatLogSlider, "Δt", dt, base=10, min=-3, max=0.0, step=0.05),
        },
        lambda **kw: knobs.ou_experiment(**kw, seed=seed),
        knobs.draw_ou,
    )
    return knob("Ornstein-Uhlenbeck noise", static, live)


def tau_lag_knob(taus: Sequence[float] = (0.001, 0.005, 0.02, 0.1, 0.5, 1.0)) -> w.VBox:
    """tau: how far an EMA target lags the online parameters."""

    def render(tau):
        return knobs.draw_ema_lag(knobs.ema_lag_experiment(tau))

    static = StaticKnob("EMA rate τ", taus, render, [f"{t:g}" for t in taus])
    live = LivePanel(
        {"tau": _slider(w.FloatLogSlider, "τ", 0.005, base=10, min=-3.5, max=0, step=0.05)},
        knobs.ema_lag_experiment,
        knobs.draw_ema_lag,
    )
    return knob("EMA target lag", static, live)


def _steps_slider(value: int) -> w.IntSlider:
    return _slider(w.IntSlider, "steps", value, min=2_000, max=20_000, step=1_000)


def _seed_text() -> w.BoundedIntText:
    return w.BoundedIntText(value=5, min=0, max=10**6, description="first seed")


def tau_record_knob(variants: dict) -> w.VBox:
    """tau: TD3's five-seed record for several tau (``knobs.seed_record("tau")["variants"]``);
    the buttons show each tau's seeds; the live panel trains five seeds (one batch) for any tau."""
    taus = list(variants)
    static = StaticKnob(
        "EMA rate τ",
        taus,
        lambda tau: knobs.draw_tau_record(variants, highlight=tau),
        [f"τ = {t}" for t in taus],
        toggle=True,
    )

    def compute(tau, first_seed, steps):
        seeds = range(first_seed, first_seed + 5)
        new = knobs.tau_seeds(tau, seeds, steps, progress=True)
        return {**variants, **new}, next(iter(new))

    live = LivePanel(
        {
            "tau": _slider(w.FloatLogSlider, "τ", 0.02, base=10, min=-3, max=0, step=0.05),
            "first_seed": _seed_text(),
            "steps": _steps_slider(knobs.KNOB_TD3["total_steps"]),
        },
        compute,
        lambda data: knobs.draw_tau_record(data[0], highlight=data[1]),
        run_button=True,
    )
    return knob("EMA rate τ in TD3, five seeds", static, live)


def twin_record_knob(variants: dict) -> w.VBox:
    """Twin critics: the five-seed record of each target rule
    (``knobs.seed_record("twin")["variants"]``); the buttons show each rule's seeds; the live
    panel trains five seeds (one batch) of any rule."""
    rules = list(variants)
    static = StaticKnob(
        "target rule",
        rules,
        lambda rule: knobs.draw_twin_record(variants, highlight=rule),
        [knobs.RULE_LABELS[r] for r in rules],
        toggle=True,
    )

    def compute(rule, first_seed, steps):
        seeds = range(first_seed, first_seed + 5)
        return {**variants, **knobs.rule_seeds(rule, seeds, steps, progress=True)}, rule

    live = LivePanel(
        {
            "rule": w.ToggleButtons(
                options=[(knobs.RULE_LABELS[r], r) for r in knobs.RULES],
                value="min",
                description="target rule",
                style={"description_width": "initial", "button_width": "auto"},
            ),
            "first_seed": _seed_text(),
            "steps": _steps_slider(knobs.KNOB_TD3["total_steps"]),
        },
        compute,
        lambda data: knobs.draw_twin_record(data[0], highlight=data[1]),
        run_button=True,
    )
    return knob("Twin critics and the critic's bias, five seeds", static, live)


def path_length_knob(runs: Sequence[dict]) -> w.VBox:
    """Path length d: PCL on the corridor; ``runs`` are :func:`rlbook.knobs.pcl_path_length`'s
    outputs (the static grid); the live panel runs any d, episode count and lambda."""
    ds = [run["d"] for run in runs]
    static = StaticKnob(
        "path length d",
        ds,
        lambda d: knobs.draw_pcl_path_length(runs, highlight=d),
        [str(d) for d in ds],
    )
    live = LivePanel(
        {
            "d": _slider(w.IntSlider, "d", 3, min=1, max=30),
            "episodes": _slider(w.IntSlider, "episodes", 400, min=20, max=2000, step=20),
            "lam": _slider(w.FloatSlider, "λ", 0.0, min=0.0, max=5.0, step=0.1),
        },
        lambda **kw: knobs.pcl_path_length(**kw, progress=True),
        lambda run: knobs.draw_pcl_path_length([*runs, run], highlight=run["d"]),
        run_button=True,
    )
    return knob("Path length d in PCL", static, live)
