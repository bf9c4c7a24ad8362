"""The book's knobs: ipywidgets 8 controls in a live kernel, plain HTML in the book's pages.

Every knob has two parts:

- its static part, a slider (or a row of toggle buttons) over a grid of values whose figures were
  computed when the cell ran (:func:`knob_figures`). In a kernel it is a :class:`StaticKnob`, a
  slider linked *in the browser* (``ipywidgets.jslink``) to a ``Stack`` holding one image per
  value; in the book's pages, where no kernel runs, it is the same slider and figures written as
  HTML with a short script (:func:`static_knob_html`), which needs no widget manager (the pages
  load none: it weighed 2 MB);
- a :class:`LivePanel`: controls that recompute for any value in a live kernel (Jupyter, Colab);
  expensive computations wait for a Run button and show a progress bar.

:func:`knob` puts both in one widget, the live part in a collapsed section; displayed, the widget
also carries the HTML as a fallback (``text/html`` beside the widget view, as ipympl carries a
PNG), which a page or a viewer without widgets (nbviewer, an untrusted notebook) shows. The
book's build sets ``RLBOOK_BOOK=1``: there :func:`knob` creates no widget at all and returns the
HTML alone (:class:`StaticKnobHTML`), so the page embeds no widget state. The computations and
drawings live in :mod:`rlbook.knobs`; the ``*_knob`` functions here wire them to controls.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as w
import matplotlib.pyplot as plt

from . import knobs
from .plotting import book_png
from .replay import HTMLPlayer, player_script

__all__ = [
    "KnobFigures",
    "LivePanel",
    "SCALE",
    "StaticKnob",
    "StaticKnobHTML",
    "css_width",
    "figure_png",
    "knob",
    "knob_figures",
    "ou_knob",
    "path_length_knob",
    "static_knob_html",
    "tau_record_knob",
    "tau_lag_knob",
    "twin_record_knob",
]


#: image pixels per CSS pixel of the knobs' figures: 2x, sharp on high-density screens
SCALE = 2

_IDS = itertools.count()  # the knobs' element ids: a counter after the content's hash


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


def _book_build() -> bool:
    """True in the book's build (``RLBOOK_BOOK=1``, set by the Makefile): no kernel will ever
    move a widget there, so the knobs are written as HTML only."""
    return bool(os.environ.get("RLBOOK_BOOK"))


@dataclass
class KnobFigures:
    """A knob's static part as data: ``description`` names the control, ``values`` its grid,
    ``labels`` what is shown for each value, ``pngs`` the figure of each value
    (:func:`figure_png`), ``index`` the value shown first, ``toggle`` buttons instead of a
    slider. Both the widget (:class:`StaticKnob`) and the page's HTML (:func:`static_knob_html`)
    are drawn from it."""

    description: str
    values: list
    labels: list[str]
    pngs: list[bytes]
    index: int = 0
    toggle: bool = False


def knob_figures(
    description: str,
    values: Sequence[Any],
    render: Callable[[Any], Any],
    labels: Sequence[str] | None = None,
    value: Any = None,
    toggle: bool = False,
) -> KnobFigures:
    """The figures ``render(value)`` draws for each of ``values`` (matplotlib figures, turned
    into 2x palette PNGs), with the labels shown for them (``str(value)`` by default), the value
    shown first (``value``, by default the first) and the kind of control (``toggle``: a few
    named options as buttons; otherwise a slider over a scale)."""
    values = list(values)
    if not values:
        raise ValueError("values must hold at least one value of the knob")
    labels = [str(v) for v in values] if labels is None else [str(x) for x in labels]
    if len(labels) != len(values):
        raise ValueError(f"labels must have one entry per value ({len(values)})")
    if value is not None and value not in values:
        raise ValueError(f"value must be one of values {values}; got {value!r}")
    index = 0 if value is None else values.index(value)
    pngs = [figure_png(render(v)) for v in values]
    return KnobFigures(description, values, labels, pngs, index, toggle)


class StaticKnob(w.VBox):
    """The widget of a knob's static part: a ``SelectionSlider`` over ``figures.labels``
    (``ToggleButtons`` with ``figures.toggle``), linked in the browser to a ``Stack`` of the
    figures' images, each shown at its CSS width. Works with no kernel once displayed (the link
    runs in the browser)."""

    def __init__(self, figures: KnobFigures):
        self.figures = figures
        self.values, self.pngs = figures.values, figures.pngs
        self.images = [_image(png) for png in self.pngs]
        self.stack = w.Stack(self.images, selected_index=figures.index)
        if figures.toggle:  # a choice between a few named options, not a scale: buttons
            self.slider = w.ToggleButtons(
                options=figures.labels,
                index=figures.index,
                description=figures.description,
                style={"description_width": "initial", "button_width": "auto"},
            )
        else:
            self.slider = w.SelectionSlider(
                options=figures.labels,
                index=figures.index,
                description=figures.description,
                continuous_update=True,
                style={"description_width": "initial"},
                layout=w.Layout(width="480px"),
            )
        self.link = w.jslink((self.slider, "index"), (self.stack, "selected_index"))
        super().__init__([self.slider, self.stack])
        self.add_class("rlbook-static-knob")


# The static knob's look, in the output itself so that it is the same in the book, JupyterLab and
# Colab: the theme's colours (currentColor), a touch target of at least 32 px, the figure no wider
# than the column. Scoped to the knob's class; every knob of a page repeats it (0.9 kB).
_KNOB_CSS = (
    ".rlbook-static-knob{margin:.5em 0 1em}"
    ".rlbook-static-knob .rlbook-knob-control{display:flex;flex-wrap:wrap;align-items:center;"
    "gap:.3em .6em;margin:.3em 0 .5em}"
    ".rlbook-static-knob label,.rlbook-static-knob .rlbook-knob-name{font-weight:600}"
    # the slider and its value stay on one row (on a phone the label goes above them)
    ".rlbook-static-knob .rlbook-knob-range{display:flex;align-items:center;gap:.6em;"
    "flex:1 1 260px;max-width:540px;min-width:0}"
    ".rlbook-static-knob input[type=range]{flex:1 1 auto;min-width:0;height:32px;"
    "margin:0 4px;accent-color:#2f6db5}"
    ".rlbook-static-knob output{font-weight:600;font-variant-numeric:tabular-nums;min-width:3em}"
    ".rlbook-static-knob button{font:inherit;color:inherit;background:transparent;"
    "border:1px solid currentColor;border-radius:4px;padding:.25em .8em;min-height:32px;"
    "cursor:pointer;opacity:.7}"
    ".rlbook-static-knob button[aria-pressed=true]{opacity:1;font-weight:700;"
    "box-shadow:inset 0 -3px 0 #2f6db5}"
    ".rlbook-static-knob :disabled,.rlbook-static-knob button:disabled{cursor:default;opacity:.45}"
    ".rlbook-static-knob .rlbook-knob-figures img{display:block;max-width:100%;height:auto}"
    ".rlbook-static-knob .rlbook-knob-figures img[hidden]{display:none}"
    ".rlbook-static-knob .rlbook-knob-note{font-size:.9em;font-style:italic;margin:.3em 0 0}"
    # on paper: the title stays with its control and figure (the control says which is printed)
    "@media print{.rlbook-static-knob .rlbook-knob-title{break-after:avoid}"
    ".rlbook-static-knob .rlbook-knob-control,.rlbook-static-knob .rlbook-knob-figures"
    "{break-inside:avoid}}"
)

# The script: the control (range input or buttons) shows the figure of its value, keeps the value
# shown beside a slider and the slider's spoken value (aria-valuetext, "κ = 0.15", not an index)
# current, and marks the pressed button. The controls are written disabled: they work once this
# runs (where scripts do not run, an untrusted notebook, the first figure stays, and the disabled
# control says so).
_KNOB_JS = """\
  var imgs = q('.rlbook-knob-figures img'), range = q('input[type=range]')[0];
  var out = q('output')[0], buttons = q('button[data-i]'), k;
  var show = function (i) {
    for (k = 0; k < imgs.length; k++) {
      if (k === i) { imgs[k].removeAttribute('hidden'); } else { imgs[k].setAttribute('hidden', ''); }
    }
    for (k = 0; k < buttons.length; k++) {
      buttons[k].setAttribute('aria-pressed', k === i ? 'true' : 'false');
    }
    if (range) {
      range.value = String(i);
      range.setAttribute('aria-valuetext', D.description + ' = ' + D.labels[i]);
      out.textContent = D.labels[i];
    }
    root.setAttribute('data-index', String(i));
  };
  if (range) {
    range.addEventListener('input', function () { show(parseInt(range.value, 10)); });
    range.disabled = false;
  }
  for (k = 0; k < buttons.length; k++) {
    buttons[k].addEventListener('click', function (e) {
      show(parseInt(e.currentTarget.getAttribute('data-i'), 10));
    });
    buttons[k].disabled = false;
  }
  show(D.index);
"""


def _setting(description: str, label: str) -> str:
    """ "description = label", or the label alone where it names its setting ("τ = 0.005")."""
    return label if "=" in label else f"{description} = {label}"


def static_knob_html(title: str, figures: KnobFigures, note: str = "") -> str:
    """The knob's static part as HTML with its script (ES5, :func:`rlbook.replay.player_script`),
    for pages without a widget manager: a titled slider (a native range input named by its label,
    announcing "description = label") or a group of toggle buttons (``aria-pressed``), and one
    image per value, all but the shown one hidden. ``note`` is a line under the figure."""
    esc = html.escape
    desc, labels, i0 = figures.description, figures.labels, figures.index
    # an id from the content (the same page from the same figures, build after build) and a
    # counter (two equal knobs on one page stay apart), as the replay players do
    digest = hashlib.sha1(json.dumps([title, desc, labels, i0]).encode())
    for png in figures.pngs:
        digest.update(png)
    kid = f"rlbook-knob-{digest.hexdigest()[:8]}-{next(_IDS)}"
    if figures.toggle:
        buttons = "".join(
            f'<button type="button" data-i="{i}" aria-pressed="{str(i == i0).lower()}" disabled>'
            f"{esc(label)}</button>"
            for i, label in enumerate(labels)
        )
        control = (
            f'<div class="rlbook-knob-control" role="group" aria-label="{esc(desc)}">'
            f'<span class="rlbook-knob-name" aria-hidden="true">{esc(desc)}</span>{buttons}</div>'
        )
    else:
        ticks = "".join(f'<option value="{i}"></option>' for i in range(len(labels)))
        control = (
            f'<div class="rlbook-knob-control"><label for="{kid}-r">{esc(desc)}</label>'
            f'<span class="rlbook-knob-range">'
            f'<input type="range" id="{kid}-r" min="0" max="{len(labels) - 1}" step="1" '
            f'value="{i0}" list="{kid}-t" aria-valuetext="{esc(desc)} = {esc(labels[i0])}" '
            f'disabled><datalist id="{kid}-t">{ticks}</datalist>'
            f'<output for="{kid}-r" aria-hidden="true">{esc(labels[i0])}</output></span></div>'
        )
    images = "".join(
        f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" '
        f'width="{css_width(png)}" alt="{esc(title)}: the figure for {esc(_setting(desc, label))}"'
        f"{'' if i == i0 else ' hidden'}>"
        for i, (png, label) in enumerate(zip(figures.pngs, labels, strict=True))
    )
    # no "<" in the script element's text ("</script>" or "<!--" would end or change it early)
    data = json.dumps({"description": desc, "labels": labels, "index": i0}).replace("<", "\\u003c")
    note_html = f'<p class="rlbook-knob-note">{esc(note)}</p>' if note else ""
    return (
        f'<div class="rlbook-static-knob" id="{kid}" data-rlbook-knob="1">'
        f"<style>{_KNOB_CSS}</style>"
        f'<p class="rlbook-knob-title"><b>{esc(title)}</b></p>{control}'
        f'<div class="rlbook-knob-figures">{images}</div>{note_html}'
        f'<script type="application/json" class="rlbook-knob-data">{data}</script>'
        f"{player_script('knob', kid, _KNOB_JS)}</div>"
    )


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


#: how the line under a knob's figure begins where only its static part is shown (the book's
#: pages); each knob says what its live panel does (:func:`live_note`)
LIVE_NOTE = "In Jupyter or Colab, running this cell also gives a panel that"


def live_note(does: str) -> str:
    """The line under a knob's figure in the book's pages: what its live panel ``does``."""
    return f"{LIVE_NOTE} {does}."


class Knob(w.VBox):
    """What :func:`knob` returns in a kernel: a box whose ``static`` is its :class:`StaticKnob`,
    ``live`` its :class:`LivePanel` (``None`` if it has none) and ``html`` the static part as HTML
    (:func:`static_knob_html`), which its display carries beside the widget view for pages and
    viewers without widgets. A notebook saved from a kernel so holds the knob's figures twice,
    in the widget state and in that HTML (about 0.5-0.8 MB for the TD3 chapter's knobs)."""

    static: StaticKnob
    live: LivePanel | None
    html: str

    def _repr_mimebundle_(self, **kwargs):
        # ipywidgets returns the view (and text/plain) while the widget is open; a closed widget
        # has no _repr_mimebundle_ at all (close() sets it to None), so this is not called then
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.html
        return bundle


@dataclass(repr=False)
class StaticKnobHTML(HTMLPlayer):
    """What :func:`knob` returns in the book's build (``RLBOOK_BOOK=1``): the static part as
    HTML only (:func:`static_knob_html`), shown through :meth:`_repr_html_`; no widget exists."""

    def __repr__(self) -> str:  # the text/plain beside the HTML: short, not the whole page
        return (
            f"<static knob {self.data['title']!r}: {len(self.data['labels'])} figures, "
            f"{self.size / 1e3:.0f} kB>"
        )


def knob(
    title: str,
    figures: KnobFigures,
    live: Callable[[], LivePanel] | None = None,
    does: str = "recomputes the figure for any value",
) -> Knob | StaticKnobHTML:
    """A titled knob: the static slider over ``figures`` and, from ``live()``, the live panel in
    a collapsed section (a :class:`Knob`). ``live`` is called only where widgets are made: in the
    book's build (``RLBOOK_BOOK=1``) the knob is its static part as HTML (a
    :class:`StaticKnobHTML`) with a line that says what the live panel ``does``
    (:func:`live_note`)."""
    if not isinstance(figures, KnobFigures):
        raise TypeError(
            f"figures must be a KnobFigures (made by knob_figures); got {type(figures).__name__}"
        )
    if live is not None and (isinstance(live, w.Widget) or not callable(live)):
        raise TypeError(
            "live must be a function that makes the LivePanel (called only where widgets are "
            f"made), or None; got {type(live).__name__}"
        )
    page = static_knob_html(title, figures, live_note(does) if live is not None else "")
    if _book_build():
        return StaticKnobHTML(page, {"title": title, "labels": list(figures.labels)})
    static = StaticKnob(figures)
    panel = live() if live is not None else None
    parts = [w.HTML(f"<b>{html.escape(title)}</b>"), static]
    if panel is not None:
        acc = w.Accordion([panel], selected_index=None)
        acc.set_title(0, "Recompute for any value (needs a running kernel)")
        acc.add_class("rlbook-live")
        parts.append(acc)
    box = Knob(parts)
    box.static, box.live, box.html = static, panel, page
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
) -> Knob | StaticKnobHTML:
    """OU noise: a slider over ``thetas`` (static); theta, sigma, mu and dt live."""

    def render(theta):
        return knobs.draw_ou(knobs.ou_experiment(theta=theta, sigma=sigma, dt=dt, seed=seed))

    # the chapter writes kappa for the rate (theta in rlbook and the DDPG paper), as the figure does
    static = knob_figures("OU mean reversion κ", thetas, render, [f"{t:g}" for t in thetas])

    def live() -> LivePanel:
        return LivePanel(
            {
                "theta": _slider(w.FloatLogSlider, "κ", 0.15, base=10, min=-2, max=2.2, step=0.05),
                # from 0.01: at sigma = 0 the path is constant and its autocorrelation undefined
                "sigma": _slider(w.FloatSlider, "σ", sigma, min=0.01, max=1.0, step=0.01),
                "mu": _slider(w.FloatSlider, "μ", 0.0, min=-1.0, max=1.0, step=0.05),
                # up to the unit step dt = 1 of rllab and TF-Agents
                "dt": _slider(w.FloatLogSlider, "Δt", dt, base=10, min=-3, max=0.0, step=0.05),
            },
            lambda **kw: knobs.ou_experiment(**kw, seed=seed),
            knobs.draw_ou,
        )

    return knob(
        "Ornstein-Uhlenbeck noise",
        static,
        live,
        "redraws the figure for any κ, σ, μ and Δt (with κΔt < 2, where the recursion is stable)",
    )


def tau_lag_knob(
    taus: Sequence[float] = (0.001, 0.005, 0.02, 0.1, 0.5, 1.0),
) -> Knob | StaticKnobHTML:
    """tau: how far an EMA target lags the online parameters."""

    def render(tau):
        return knobs.draw_ema_lag(knobs.ema_lag_experiment(tau))

    static = knob_figures("EMA rate τ", taus, render, [f"{t:g}" for t in taus])

    def live() -> LivePanel:
        return LivePanel(
            {"tau": _slider(w.FloatLogSlider, "τ", 0.005, base=10, min=-3.5, max=0, step=0.05)},
            knobs.ema_lag_experiment,
            knobs.draw_ema_lag,
        )

    return knob("EMA target lag", static, live, "redraws the figure for any τ")


def _steps_slider(value: int) -> w.IntSlider:
    return _slider(w.IntSlider, "steps", value, min=2_000, max=20_000, step=1_000)


def _seed_text() -> w.BoundedIntText:
    return w.BoundedIntText(value=5, min=0, max=10**6, description="first seed")


def _five_seed_panel(choice: dict, compute: Callable, draw: Callable) -> LivePanel:
    """The live panel of a TD3 record knob: the ``choice`` control, the first of five seeds and
    the step count; ``compute(value, first_seed, steps)`` trains them on Run and returns the
    variants with the new one and its key, which ``draw`` highlights."""
    return LivePanel(
        {
            **choice,
            "first_seed": _seed_text(),
            "steps": _steps_slider(knobs.KNOB_TD3["total_steps"]),
        },
        compute,
        lambda data: draw(data[0], highlight=data[1]),
        run_button=True,
    )


def tau_record_knob(variants: dict) -> Knob | StaticKnobHTML:
    """tau: TD3's five-seed record for several tau (``knobs.seed_record("tau")["variants"]``);
    the buttons show each tau's seeds; the live panel trains five seeds (one batch) for any tau."""
    taus = list(variants)
    static = knob_figures(
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

    def live() -> LivePanel:
        tau = _slider(w.FloatLogSlider, "τ", 0.02, base=10, min=-3, max=0, step=0.05)
        return _five_seed_panel({"tau": tau}, compute, knobs.draw_tau_record)

    return knob(
        "EMA rate τ in TD3, five seeds",
        static,
        live,
        "trains five new seeds of TD3 for any τ when Run is pressed (2,000 to 20,000 steps; "
        "they take the place of that τ's recorded seeds, if it has any)",
    )


def twin_record_knob(variants: dict) -> Knob | StaticKnobHTML:
    """Twin critics: the five-seed record of each target rule
    (``knobs.seed_record("twin")["variants"]``); the buttons show each rule's seeds; the live
    panel trains five seeds (one batch) of any rule."""
    rules = list(variants)
    static = knob_figures(
        "target rule",
        rules,
        lambda rule: knobs.draw_twin_record(variants, highlight=rule),
        [knobs.RULE_LABELS[r] for r in rules],
        toggle=True,
    )

    def compute(rule, first_seed, steps):
        seeds = range(first_seed, first_seed + 5)
        return {**variants, **knobs.rule_seeds(rule, seeds, steps, progress=True)}, rule

    def live() -> LivePanel:
        rule = w.ToggleButtons(
            options=[(knobs.RULE_LABELS[r], r) for r in knobs.RULES],
            value="min",
            description="target rule",
            style={"description_width": "initial", "button_width": "auto"},
        )
        return _five_seed_panel({"rule": rule}, compute, knobs.draw_twin_record)

    return knob(
        "Twin critics and the critic's bias, five seeds",
        static,
        live,
        "trains five new seeds of any target rule when Run is pressed (2,000 to 20,000 steps; "
        "they take the place of that rule's recorded seeds)",
    )


def path_length_knob(runs: Sequence[dict]) -> Knob | StaticKnobHTML:
    """Path length d: PCL on the corridor; ``runs`` are :func:`rlbook.knobs.pcl_path_length`'s
    outputs (the static grid); the live panel runs any d, episode count and lambda."""
    ds = [run["d"] for run in runs]
    static = knob_figures(
        "path length d",
        ds,
        lambda d: knobs.draw_pcl_path_length(runs, highlight=d),
        [str(d) for d in ds],
    )

    def live() -> LivePanel:
        return LivePanel(
            {
                "d": _slider(w.IntSlider, "d", 3, min=1, max=30),
                "episodes": _slider(w.IntSlider, "episodes", 400, min=20, max=2000, step=20),
                "lam": _slider(w.FloatSlider, "λ", 0.0, min=0.0, max=5.0, step=0.1),
            },
            lambda **kw: knobs.pcl_path_length(**kw, progress=True),
            # the new run in place of the grid's run with the same d (two lines "d = 5" otherwise)
            lambda run: knobs.draw_pcl_path_length(
                [*(r for r in runs if r["d"] != run["d"]), run], highlight=run["d"]
            ),
            run_button=True,
        )

    return knob(
        "Path length d in PCL",
        static,
        live,
        "runs PCL for any d, number of episodes and λ when Run is pressed (the new run takes "
        "the place of the grid's run with that d)",
    )
