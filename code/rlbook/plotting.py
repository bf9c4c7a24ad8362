"""Plots the chapters share: the book's plotting style, learning curves and a pendulum policy over
its phase plane."""

from __future__ import annotations

import io
import zlib
from binascii import b2a_base64
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib.text import Text

from .loop import Result

__all__ = [
    "BOOK_COLORS",
    "BOOK_DPI",
    "BOOK_LINESTYLES",
    "COLUMN_PX",
    "FIG_WIDTH",
    "MIN_FONT_PT",
    "PALETTE_COLORS",
    "book_png",
    "bootstrap_band",
    "confidence_band",
    "palette_png",
    "pendulum_observations",
    "plot_learning_curves",
    "plot_pendulum_policy",
    "plot_seed_band",
    "plot_seeds_and_run",
    "use_book_style",
]

#: width of the book's text column at the 1366 px layout, in CSS px (sphinx-book-theme 1.3.0)
COLUMN_PX = 757
#: figure dots per inch at 1x: one inch of figure is BOOK_DPI CSS px on the page
BOOK_DPI = 100
#: default figure width in inches: FIG_WIDTH * BOOK_DPI = 750 CSS px, just inside the column
FIG_WIDTH = 7.5
#: the smallest font the style uses (ticks, legends): 9 pt at BOOK_DPI is 12.5 CSS px
MIN_FONT_PT = 9.0
#: the colours of a figure's PNG: every figure is quantized to these, a channel moving by at most
#: about 20 of 255 (palette_png); only a figure with fewer colours keeps every one exactly
PALETTE_COLORS = 256
#: Okabe & Ito's colour-blind-safe palette (its yellow, unreadable on white, left out; grey in)
BOOK_COLORS = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#E69F00",  # orange
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#7F7F7F",  # grey
)
#: one dash pattern per colour, so lines differ in two ways (and in grey-scale print)
BOOK_LINESTYLES = (
    "-",
    (0, (6, 2)),
    (0, (1, 1.5)),
    (0, (6, 2, 1, 2)),
    (0, (3, 1.5)),
    (0, (6, 2, 1, 2, 1, 2)),
    (0, (12, 3)),
    (0, (1, 1.5, 4, 1.5)),
)

# Any keys: matplotlib's stubs type them as a Literal of every rc name
_RC: dict[Any, Any] = {
    "figure.figsize": (FIG_WIDTH, 3.4),
    "figure.dpi": BOOK_DPI,
    "savefig.dpi": 2 * BOOK_DPI,
    "savefig.bbox": "tight",
    "font.size": 10.0,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10.0,
    "xtick.labelsize": MIN_FONT_PT,
    "ytick.labelsize": MIN_FONT_PT,
    "legend.fontsize": MIN_FONT_PT,
    "legend.title_fontsize": MIN_FONT_PT,
    "figure.titlesize": 11.0,
    "lines.linewidth": 1.6,
    "axes.prop_cycle": cycler(color=list(BOOK_COLORS)) + cycler(linestyle=list(BOOK_LINESTYLES)),
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "image.cmap": "viridis",
}


def _png_text_chunk(key: str, value: str) -> bytes:
    body = key.encode("latin-1") + b"\0" + value.encode("latin-1")
    head = len(body).to_bytes(4, "big") + b"tEXt"
    return head + body + zlib.crc32(b"tEXt" + body).to_bytes(4, "big")


def _smallest_font_pt(fig) -> float | None:
    """The smallest font size (pt) of the visible, non-empty text of ``fig`` (after a draw)."""
    sizes = [
        t.get_fontsize()
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and t.get_figure(root=True) is fig
    ]
    return min(sizes) if sizes else None


def palette_png(png: bytes) -> bytes:
    """``png`` (an opaque RGB or RGBA image) as a palette PNG of at most ``PALETTE_COLORS``
    colours, compressed with zlib's best level: about a third of the bytes of matplotlib's RGBA
    PNG for the book's figures.

    A figure's anti-aliased edges give it thousands of colours (an 8-line plot: about 5,000; heat
    maps, many translucent seed curves: more), which Pillow's maximum-coverage quantizer, without
    dithering, maps to the nearest of 256: a channel moves by at most about 20 of 255 on the
    book's figures (18 on tests/test_plotting_style.py's line plot). Only an image of at most 256
    colours keeps every one exactly. An image with any transparent pixel is returned unchanged
    (its alpha would be lost)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    image.load()
    if image.mode == "RGBA":
        if np.asarray(image)[..., 3].min() < 255:
            return png
        image = image.convert("RGB")
    elif image.mode != "RGB":
        return png
    quantized = image.quantize(
        PALETTE_COLORS, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE
    )
    out = io.BytesIO()
    quantized.save(out, format="png", optimize=True)
    return out.getvalue()


def _png_default_level(png: bytes) -> bytes:
    """``png`` encoded again at zlib's default level (as matplotlib's own PNG), same pixels."""
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    image.load()
    out = io.BytesIO()
    image.save(out, format="png", dpi=image.info.get("dpi"))
    return out.getvalue()


def book_png(fig, scale: int = 2, palette: bool = True) -> tuple[bytes, dict]:
    """``fig`` as a PNG of ``scale`` device pixels per CSS pixel, and the CSS width to show it at.

    The PNG is drawn at ``scale * fig.dpi`` dots per inch (tight bounding box), reduced to a
    palette of 256 colours (:func:`palette_png`; ``palette=False`` keeps matplotlib's RGBA) and
    carries, as PNG text, ``rlbook:dpi`` (that resolution) and ``rlbook:min-font-pt`` (the
    smallest font of its visible text), so a test can compute the rendered size of the figure's
    smallest text from the image alone: ``min-font-pt / 72 * dpi * displayed width / natural
    width`` CSS px. Returns ``(png bytes, {"width": natural width / scale})``.
    """
    dpi = scale * fig.dpi
    buf = io.BytesIO()
    fig.savefig(
        buf,
        format="png",
        dpi=dpi,
        bbox_inches="tight",
        facecolor=fig.get_facecolor(),
        edgecolor=fig.get_edgecolor(),
        metadata={"Software": None},
        # a palette PNG is encoded again: zlib's fastest level here saves a quarter of the time
        pil_kwargs={"compress_level": 1} if palette else None,
    )
    raw = buf.getvalue()
    png = palette_png(raw) if palette else raw
    if palette and png is raw:  # kept as it is (transparent): not at zlib's fastest level
        png = _png_default_level(raw)
    extra = _png_text_chunk("rlbook:dpi", f"{dpi:g}")
    smallest = _smallest_font_pt(fig)
    if smallest is not None:
        extra += _png_text_chunk("rlbook:min-font-pt", f"{smallest:g}")
    # after the IHDR chunk: 8-byte signature, 4 + 4 + 13 + 4 bytes of IHDR
    png = png[:33] + extra + png[33:]
    width_px = int.from_bytes(png[16:20], "big")
    return png, {"width": round(width_px / scale)}


def _book_png_b64(fig):
    if not fig.axes and not fig.lines:  # like IPython: an empty figure shows nothing
        return None
    png, meta = book_png(fig)
    return b2a_base64(png, newline=False).decode("ascii"), meta


def use_book_style() -> None:
    """The book's one plotting style; each chapter calls it once, in its first code cell.

    **Sizes, chosen for the column.** At the 1366 px layout the text column is ``COLUMN_PX`` = 757
    CSS px wide. A figure is ``FIG_WIDTH`` = 7.5 in wide by default and one inch is
    ``BOOK_DPI`` = 100 CSS px, so a figure is 750 CSS px: it is shown at its own size, never
    shrunk. Text is then ``pt / 72 * 100`` CSS px: the labels' 10 pt are 13.9 px and the smallest
    font (ticks, legends: ``MIN_FONT_PT`` = 9 pt) is 12.5 px, above the 11 px floor with room for
    a tight bounding box up to 8.5 in wide (12.5 * 757 / 850 = 11.1 px). Keep figures at most
    ``FIG_WIDTH`` wide (two panels side by side fit; three go on two rows); a wider figure is
    shrunk to the column and its text with it.

    **Sharp on high-density screens.** In IPython (Jupyter, the book's build) figures are shown
    through :func:`book_png`: a PNG at 2x (200 dpi) whose output metadata gives its CSS width
    (half its pixel width), the retina scheme of IPython's ``InlineBackend.figure_formats``; PNG
    rather than SVG because some figures are dense (phase-plane meshes, thousands of points).
    It is a palette PNG of 256 colours (:func:`palette_png`), a third of the bytes of an RGBA
    one, so that 2x costs the pages little more than 1x did. The PNG records its dpi and smallest
    font so that tests/browser/test_figures.py checks the rendered size. Outside IPython only
    rcParams change (``savefig.dpi`` is 200).

    **Colours.** Okabe and Ito's colour-blind-safe palette (``BOOK_COLORS``), each colour with its
    own dash pattern (``BOOK_LINESTYLES``): a ``plot`` call that sets ``color`` but not
    ``linestyle`` still takes the next dash pattern, so pass ``ls="-"`` for lines that should
    all be solid (e.g. one thin line per seed).
    """
    mpl.rcParams.update(_RC)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the book
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    if "inline" in (mpl.get_backend(auto_select=False) or ""):
        # loading the inline backend registers IPython's own PNG formatter (once per kernel):
        # load it now so that it cannot replace the book's later
        import matplotlib_inline.backend_inline  # noqa: F401

        mpl.rcParams.update(_RC)
    from matplotlib.figure import Figure

    for formatter in shell.display_formatter.formatters.values():
        formatter.pop(Figure, None)
    shell.display_formatter.formatters["image/png"].for_type(Figure, _book_png_b64)


def confidence_band(values, confidence: float = 0.95):
    """Mean over the first axis (seeds) and its two-sided Student-t confidence interval.

    With one seed the interval is undefined and returned as the mean itself.
    """
    from scipy import stats

    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    mean = values.mean(axis=0)
    if n < 2:
        return mean, mean.copy(), mean.copy()
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * values.std(axis=0, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def bootstrap_band(values, confidence: float = 0.95, resamples: int = 10_000, seed: int = 0):
    """Mean over the first axis (seeds) and the bootstrap percentile interval of that mean.

    The interval is the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the
    means of ``resamples`` draws of the seeds with replacement (generator seeded by ``seed``), so
    it always lies within the seeds' own range: unlike the Student-t interval, it never leaves
    the bounds a return has (a Pendulum return is never positive). With few seeds it runs
    narrow (five seeds have only 126 distinct resamples).
    """
    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    mean = values.mean(axis=0)
    if n < 2:
        return mean, mean.copy(), mean.copy()
    draws = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    means = values[draws].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - confidence) / 2, (1 + confidence) / 2], axis=0)
    return mean, lo, hi


def plot_seed_band(
    ax, steps, curves, label: str, confidence: float = 0.95, runs: bool = False, **style
):
    """Mean learning curve over seeds (rows of ``curves``) with the bootstrap percentile band of
    that mean (:func:`bootstrap_band`); with ``runs=True`` each seed's curve is drawn too, as a
    thin solid line of the same colour under the mean. The legend entry gives the number of
    seeds, ``n``."""
    curves = np.asarray(curves, dtype=float)
    mean, lo, hi = bootstrap_band(curves, confidence)
    (line,) = ax.plot(steps, mean, label=f"{label} (n={len(curves)})", **style)
    ax.fill_between(steps, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
    if runs:
        for curve in curves:
            ax.plot(steps, curve, color=line.get_color(), ls="-", lw=0.7, alpha=0.45, zorder=1)
    return line


def plot_seeds_and_run(ax, record_runs: Mapping, result: Result, label: str, seed: int):
    """A chapter's main learning-curve panel: the recorded seeds of a five-seed record
    (``rlbook.knobs.variant_arrays`` of a ``benchmarks/chapter_seeds.py`` record: each seed thin,
    their mean and its 95% bootstrap band) and the run ``result`` trained on the page (seed
    ``seed``, black, dashed), every curve the mean return over the same 10 evaluation starts.
    ``label`` (the algorithm) titles the panel."""
    seeds = record_runs["seeds"]
    name = f"seeds {seeds[0]}-{seeds[-1]}, record" if len(seeds) > 1 else f"seed {seeds[0]}"
    curves = np.asarray(record_runs["returns"])
    mean, lo, hi = bootstrap_band(curves)
    (line,) = ax.plot(record_runs["step"], mean, label=f"mean of {name}")
    ax.fill_between(record_runs["step"], lo, hi, color=line.get_color(), alpha=0.2, lw=0)
    for curve in curves:
        ax.plot(record_runs["step"], curve, color=line.get_color(), ls="-", lw=0.7, alpha=0.45)
    steps, returns, _ = result.curve_arrays()
    ax.plot(steps, returns, color="k", ls="--", lw=1.4, label=f"seed {seed}, this page")
    ax.set(xlabel="environment steps", ylabel="return (10 starts)", title=label)
    ax.legend(loc="center right")  # the curves rise early and stay high: free space
    return ax


def plot_learning_curves(
    results: Mapping[str, Result | Sequence[Result]], ax=None, title: str | None = None
):
    """Evaluation return against environment steps, one line per entry of ``results``.

    An entry holding one result shades +-1 std over its evaluation episodes; an entry holding
    several results (seeds) plots their mean and shades +-1 std across seeds.
    """
    if ax is None:
        _, ax = plt.subplots()
    for label, res in results.items():
        runs = [res] if isinstance(res, Result) else list(res)
        if not runs or not runs[0].curve:
            raise ValueError(f"result {label!r} has no learning curve (was eval_every 0?)")
        steps = runs[0].curve_arrays()[0]
        means = np.array([r.curve_arrays()[1] for r in runs])
        if len(runs) == 1:
            mean, spread = means[0], runs[0].curve_arrays()[2]
        else:
            mean, spread = means.mean(0), means.std(0)
        (line,) = ax.plot(steps, mean, label=label)
        ax.fill_between(steps, mean - spread, mean + spread, color=line.get_color(), alpha=0.2)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("evaluation return")
    if title:
        ax.set_title(title)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return ax


def pendulum_observations(theta: np.ndarray, theta_dot: np.ndarray) -> np.ndarray:
    """Pendulum-v1 observations ``(cos theta, sin theta, theta_dot)`` for arrays of angles/speeds."""
    return np.stack([np.cos(theta), np.sin(theta), theta_dot], axis=-1).astype(np.float32)


def plot_pendulum_policy(agent, ax=None, n: int = 121, title: str | None = None):
    """The deterministic action over the pendulum's phase plane (angle 0 is upright)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    theta, theta_dot = np.meshgrid(np.linspace(-np.pi, np.pi, n), np.linspace(-8, 8, n))
    obs = pendulum_observations(theta.ravel(), theta_dot.ravel())
    actions = agent.act_batch(obs)[:, 0].reshape(theta.shape)
    mesh = ax.pcolormesh(
        theta, theta_dot, actions, cmap="coolwarm", vmin=-2, vmax=2, shading="auto"
    )
    plt.colorbar(mesh, ax=ax, label="torque")
    ax.set_xlabel("angle from upright (rad)")
    ax.set_ylabel("angular velocity (rad/s)")
    if title:
        ax.set_title(title)
    return ax
