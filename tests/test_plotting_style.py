"""The book's plotting style (rlbook.plotting.use_book_style): sizes for the text column, 2x PNGs
that record their dpi and smallest font, and a colour-blind-safe cycle with distinct dashes."""

import base64
import io

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from rlbook import plotting
from rlbook.plotting import (
    BOOK_COLORS,
    BOOK_DPI,
    BOOK_LINESTYLES,
    COLUMN_PX,
    FIG_WIDTH,
    MIN_FONT_PT,
    PALETTE_COLORS,
    book_png,
    palette_png,
    use_book_style,
)

#: the smallest rendered text the book allows, CSS px at the 1366 px layout (issue 28, item 2)
MIN_TEXT_PX = 11.0
OKABE_ITO = {"#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000"}


@pytest.fixture
def book_style():
    with mpl.rc_context():
        use_book_style()
        yield
    plt.close("all")


def test_default_figure_fits_the_column_unshrunk(book_style):
    width_in, _ = mpl.rcParams["figure.figsize"]
    assert width_in == FIG_WIDTH
    assert mpl.rcParams["figure.dpi"] == BOOK_DPI
    assert width_in * BOOK_DPI <= COLUMN_PX


def test_every_text_size_renders_at_least_11_css_px(book_style):
    keys = [
        "font.size",
        "axes.titlesize",
        "axes.labelsize",
        "xtick.labelsize",
        "ytick.labelsize",
        "legend.fontsize",
        "legend.title_fontsize",
        "figure.titlesize",
    ]
    fig = plt.figure()
    sizes = {}
    for key in keys:
        text = fig.text(0, 0, "x", fontsize=mpl.rcParams[key])
        sizes[key] = text.get_fontsize()
    assert min(sizes.values()) == MIN_FONT_PT
    # one inch is BOOK_DPI CSS px, and a figure of the default width is not shrunk
    assert MIN_FONT_PT / 72 * BOOK_DPI >= MIN_TEXT_PX


def test_colour_cycle_is_okabe_ito_with_one_dash_pattern_per_colour(book_style):
    cycle = list(mpl.rcParams["axes.prop_cycle"])
    colours = [c["color"].upper() for c in cycle]
    dashes = [str(c["linestyle"]) for c in cycle]
    assert len(set(colours)) == len(colours) == len(BOOK_COLORS) == 8
    assert len(set(dashes)) == len(dashes) == len(BOOK_LINESTYLES)
    assert OKABE_ITO <= set(colours)
    assert "#F0E442" not in colours  # Okabe-Ito's yellow: 1.3:1 contrast on white
    fig, ax = plt.subplots()
    lines = [ax.plot([0, 1], [i, i])[0] for i in range(len(cycle))]
    assert len({(ln.get_color(), str(ln.get_linestyle())) for ln in lines}) == 8


def test_book_png_is_2x_and_records_dpi_and_smallest_font(book_style):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="a line")
    ax.legend()
    png, meta = book_png(fig)
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.text["rlbook:dpi"] == str(2 * BOOK_DPI)
    assert float(image.text["rlbook:min-font-pt"]) == MIN_FONT_PT
    assert meta["width"] == round(image.width / 2)
    assert meta["width"] <= COLUMN_PX
    # a smaller label is what the metadata reports: the test of the rendered book relies on it
    ax.set_title("small", fontsize=6)
    png, _ = book_png(fig)
    image = Image.open(io.BytesIO(png))
    image.load()
    assert float(image.text["rlbook:min-font-pt"]) == 6.0


def _rgb(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    return np.asarray(image.convert("RGB"), dtype=int)


def test_book_png_is_a_palette_png_close_to_the_full_colour_one(book_style):
    """The weight of a 2x figure (issue 28): a palette of 256 colours. A line plot (thousands of
    anti-aliased colours) and a dense figure (a heat map, many translucent curves) move no
    channel by more than 24 of 255; a figure of at most 256 colours keeps every one exactly; the
    PNG is under half the bytes of matplotlib's RGBA one."""
    fig, ax = plt.subplots()
    for i in range(8):
        ax.plot(np.cumsum(np.sin(np.arange(300) * (i + 1) / 40)), label=f"line {i}")
    ax.legend()
    png, meta = book_png(fig)
    rgba, meta_rgba = book_png(fig, palette=False)
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.mode == "P" and meta == meta_rgba
    assert image.text["rlbook:dpi"] == str(2 * BOOK_DPI)  # the metadata survives the palette
    assert len(png) < 0.5 * len(rgba), (len(png), len(rgba))
    assert len(np.unique(_rgb(rgba).reshape(-1, 3), axis=0)) > PALETTE_COLORS
    assert np.abs(_rgb(png) - _rgb(rgba)).max() <= 24
    # few colours (no anti-aliasing, no text): every one kept exactly
    fig, ax = plt.subplots()
    ax.set_axis_off()
    for i in range(8):
        ax.plot(np.sin(np.arange(50) * (i + 1) / 10), antialiased=False, lw=3)
    png, _ = book_png(fig)
    full = _rgb(book_png(fig, palette=False)[0])
    assert len(np.unique(full.reshape(-1, 3), axis=0)) <= PALETTE_COLORS
    assert Image.open(io.BytesIO(png)).mode == "P" and np.array_equal(_rgb(png), full)
    # a heat map and translucent bands: thousands of colours
    fig, (left, right) = plt.subplots(1, 2)
    x = np.linspace(-3, 3, 200)
    left.pcolormesh(x, x, np.sin(x[:, None]) * np.cos(x[None, :] * 2), cmap="coolwarm")
    for i in range(20):
        right.fill_between(x, np.sin(x + i / 5) - 0.5, np.sin(x + i / 5) + 0.5, alpha=0.15)
    png, _ = book_png(fig)
    rgba, _ = book_png(fig, palette=False)
    assert len(np.unique(_rgb(rgba).reshape(-1, 3), axis=0)) > 2 * PALETTE_COLORS
    assert Image.open(io.BytesIO(png)).mode == "P"
    assert np.abs(_rgb(png) - _rgb(rgba)).max() <= 24
    assert len(png) < 0.5 * len(rgba), (len(png), len(rgba))


def test_palette_png_keeps_a_transparent_image_as_it_is():
    fig = plt.figure(figsize=(2, 1))
    fig.patch.set_alpha(0.0)
    fig.add_subplot().plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", transparent=True)
    plt.close(fig)
    assert palette_png(buf.getvalue()) == buf.getvalue()
    # through book_png: as RGBA, no bigger than matplotlib's own PNG (not zlib's fastest level)
    fig = plt.figure(figsize=(4, 2))
    fig.patch.set_alpha(0.0)
    fig.add_subplot().plot(np.sin(np.arange(200) / 10))
    png, _ = book_png(fig)
    rgba, _ = book_png(fig, palette=False)
    plt.close(fig)
    assert Image.open(io.BytesIO(png)).mode == "RGBA"
    assert np.array_equal(
        np.asarray(Image.open(io.BytesIO(png))), np.asarray(Image.open(io.BytesIO(rgba)))
    )
    assert len(png) <= 1.01 * len(rgba), (len(png), len(rgba))


def test_book_png_ignores_hidden_and_empty_text(book_style):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    ax.text(0.5, 0.5, "hidden", fontsize=4, visible=False)
    ax.text(0.5, 0.5, "   ", fontsize=4)
    fig.canvas.draw()  # tick labels get their text when drawn (book_png draws first too)
    assert plotting._smallest_font_pt(fig) == MIN_FONT_PT


def test_a_kernel_shows_figures_through_book_png():
    """In a Jupyter kernel (as when the book is built) the inline backend must not replace the
    book's PNG formatter: the output is 2x, carries the metadata and asks for half its width."""
    import nbclient
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from rlbook.plotting import use_book_style\nuse_book_style()\n"
            "import matplotlib.pyplot as plt"
        ),
        nbformat.v4.new_code_cell("fig, ax = plt.subplots()\nax.plot([0, 1], [0, 1]);"),
    ]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    (output,) = [o for o in nb.cells[1].outputs if "image/png" in o.get("data", {})]
    image = Image.open(io.BytesIO(base64.b64decode(output["data"]["image/png"])))
    image.load()
    assert image.text["rlbook:dpi"] == "200"
    assert float(image.text["rlbook:min-font-pt"]) == MIN_FONT_PT
    assert output["metadata"]["image/png"]["width"] == round(image.width / 2)
