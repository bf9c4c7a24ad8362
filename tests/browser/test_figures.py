"""Figures a student can read and cite, checked on every chapter page of the built book at 1366x768.

Every image a code cell draws (not the knobs' images, checked apart below) must be

- a numbered figure: inside a ``<figure>`` whose caption starts "Fig. N" (myst-nb's ``figure``
  cell metadata, referenced from the text with ``{numref}``);
- captioned: a caption text that says what is drawn, not only a number;
- described: alt text in words, not a file path (myst-nb's ``image: alt:`` cell metadata);
- readable: its smallest text renders at 11 CSS px or more. The size is computed from the image and
  the layout: ``rlbook.plotting.use_book_style`` writes into each PNG the dpi it was drawn at and
  the smallest font of its text (PNG text chunks ``rlbook:dpi`` and ``rlbook:min-font-pt``), so the
  rendered size is ``min-font-pt / 72 * dpi * displayed width / natural width`` CSS px;
- sharp on high-density screens: drawn with at least 2 image pixels per displayed CSS pixel.

All figures of a page are checked before the test fails, so its message lists every defect. The
pages of DDPG, TD3 and SAC are checked like the others.

The knobs' images (``rlbook.widgets.static_knob_html``: one image per value of a slider or of its
toggle buttons, all but the chosen one hidden) are checked for the last two: readable and sharp,
every image of every knob, each shown in turn by its slider or buttons.
"""

import base64
import io
import re
from urllib.parse import unquote, urlparse

import pytest
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from browser_support import HTML, built_pages
from knob_support import KNOB_PAGES, VISIBLE_IMAGES, wait_for_knobs

LAPTOP = {"width": 1366, "height": 768}
MIN_TEXT_PX = 11.0
#: image pixels per displayed CSS pixel, at least (2x PNGs; 1.9 leaves room for rounding)
MIN_DENSITY = 1.9
#: an alt text shorter than this does not describe a figure
MIN_ALT_CHARS = 20
PATH_LIKE = re.compile(r"(\.(png|svg|jpe?g|gif)\b)|(^|/)_images/|^[\w./-]+$")

CHAPTERS = [p for p in built_pages() if p.startswith("chapters/")]

#: the figures of a page: each cell-output image outside the knobs, with what the checks need
FIGURES_JS = """() => [...document.querySelectorAll('main .cell_output img')]
  .filter(img => !img.closest('.rlbook-static-knob'))
  .map(img => {
    const fig = img.closest('figure');
    const number = fig && fig.querySelector('figcaption .caption-number');
    const text = fig && fig.querySelector('figcaption .caption-text');
    const box = img.getBoundingClientRect();
    return {
      src: img.currentSrc || img.src,
      alt: img.getAttribute('alt') || '',
      number: number ? number.textContent.trim() : '',
      caption: text ? text.textContent.trim() : '',
      id: fig ? fig.id : '',
      width: box.width,
    };
  })"""


def _png(src: str) -> Image.Image:
    path = HTML / unquote(urlparse(src).path).lstrip("/")
    image = Image.open(io.BytesIO(path.read_bytes()))
    image.load()
    return image


def figure_defects(fig: dict, image: Image.Image) -> list[str]:
    """What is wrong with one figure: an empty list when it passes every check."""
    name = fig["id"] or fig["src"].rsplit("/", 1)[-1][:16]
    defects = []
    if not re.match(r"Fig\. \d+", fig["number"]):
        defects.append(f"{name}: no figure number (no myst-nb `figure` metadata?)")
    if len(fig["caption"]) < MIN_ALT_CHARS:
        defects.append(f"{name}: no caption saying what is drawn ({fig['caption']!r})")
    alt = fig["alt"].strip()
    if len(alt) < MIN_ALT_CHARS or PATH_LIKE.search(alt):
        defects.append(f"{name}: alt text is not a description ({alt[:60]!r})")
    if fig["width"] <= 0:
        return [*defects, f"{name}: not displayed"]
    density = image.width / fig["width"]
    if density < MIN_DENSITY:
        defects.append(
            f"{name}: {density:.2f} image pixels per CSS pixel, soft on high-density screens"
        )
    try:
        dpi = float(image.text["rlbook:dpi"])
        smallest = float(image.text["rlbook:min-font-pt"])
    except (AttributeError, KeyError, ValueError):
        defects.append(
            f"{name}: the PNG records no dpi and font size (drawn without use_book_style?)"
        )
    else:
        text_px = smallest / 72 * dpi * fig["width"] / image.width
        if text_px < MIN_TEXT_PX:
            defects.append(
                f"{name}: smallest text {text_px:.1f} CSS px ({smallest:g} pt at {dpi:g} dpi, "
                f"{image.width} px shown at {fig['width']:.0f} px), below {MIN_TEXT_PX:g}"
            )
    return defects


#: the chapters with knobs (the knobs' class is in their HTML)
KNOB_CHAPTERS = [p for p in KNOB_PAGES if p.startswith("chapters/")]

#: the image a knob shows (the others are hidden): its bytes (base64, from its data: URL, where
#: rlbook.widgets.static_knob_html puts them) and the CSS width it is shown at; null unless
#: exactly one is shown
KNOB_IMAGE_JS = """knob => {
  const shown = [...knob.querySelectorAll('.rlbook-knob-figures img')]
    .filter(i => i.getBoundingClientRect().width > 0);
  if (shown.length !== 1 || !shown[0].src.startsWith('data:image/png;base64,')) { return null; }
  return {png: shown[0].src.split(',', 2)[1], width: shown[0].getBoundingClientRect().width};
}"""


def knob_images(page) -> list[dict]:
    """Every image of every knob of ``page``, each shown in turn: the toggle buttons clicked one
    by one, the slider moved by keyboard from its first value to its last. Fails if a knob shows
    no image, or more than one, at some step, or if an image of a knob is never shown."""
    found = []
    wait_for_knobs(page)
    knobs = page.locator(".rlbook-static-knob")
    for k in range(knobs.count()):
        knob = knobs.nth(k)
        knob.scroll_into_view_if_needed()
        n_images = knob.locator(".rlbook-knob-figures img").count()
        seen = []

        def shown(step, k=k, knob=knob, seen=seen):
            try:
                page.wait_for_function(
                    f"([k, i]) => ({VISIBLE_IMAGES})(k).length === 1"
                    " && k.getAttribute('data-index') === String(i)",
                    arg=[knob.element_handle(), step],
                    timeout=5_000,
                )
            except PlaywrightTimeout:
                n = len(knob.evaluate(VISIBLE_IMAGES))
                index = knob.get_attribute("data-index")
                pytest.fail(f"knob {k} at step {step}: {n} images shown, its index {index}")
            image = knob.evaluate(KNOB_IMAGE_JS)
            assert image, f"knob {k}: no image, or more than one, shown at step {step}"
            if image["png"] not in seen:
                seen.append(image["png"])
                found.append(image)

        buttons = knob.locator("button[data-i]")
        if buttons.count():
            for b in range(buttons.count()):
                buttons.nth(b).click()
                shown(b)
        else:
            slider = knob.locator("input[type=range]")
            slider.focus()
            page.keyboard.press("Home")
            shown(0)
            for step in range(1, int(slider.get_attribute("max")) + 1):
                page.keyboard.press("ArrowRight")
                shown(step)
        assert len(seen) == n_images, f"knob {k}: {len(seen)} of its {n_images} images shown"
    return found


def knob_image_defects(index: int, found: dict) -> list[str]:
    """What is wrong with one knob image (``KNOB_IMAGE_JS``'s answer): readable and sharp."""
    image = Image.open(io.BytesIO(base64.b64decode(found["png"])))
    image.load()
    name = f"knob image {index}"
    density = image.width / found["width"]
    defects = []
    if density < MIN_DENSITY:
        defects.append(
            f"{name}: {density:.2f} image pixels per CSS pixel, soft on high-density screens"
        )
    try:
        dpi = float(image.text["rlbook:dpi"])
        smallest = float(image.text["rlbook:min-font-pt"])
    except (AttributeError, KeyError, ValueError):
        return [*defects, f"{name}: the PNG records no dpi and font size"]
    text_px = smallest / 72 * dpi * found["width"] / image.width
    if text_px < MIN_TEXT_PX:
        defects.append(
            f"{name}: smallest text {text_px:.1f} CSS px ({smallest:g} pt at {dpi:g} dpi, "
            f"{image.width} px shown at {found['width']:.0f} px), below {MIN_TEXT_PX:g}"
        )
    return defects


@pytest.mark.parametrize("name", KNOB_CHAPTERS)
def test_every_knob_image_is_readable_and_sharp(browser, server, name):
    page = browser.new_page(viewport=LAPTOP)
    try:
        page.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort()
        )
        page.goto(f"{server}/{name}", wait_until="load")
        images = knob_images(page)
    finally:
        page.close()
    assert len(images) >= 2, f"{name}: {len(images)} knob images found"
    defects = [d for i, found in enumerate(images) for d in knob_image_defects(i, found)]
    assert not defects, f"{name}: {len(defects)} knob image defects:\n" + "\n".join(defects)


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_figure_is_numbered_captioned_described_and_readable(browser, server, name):
    page = browser.new_page(viewport=LAPTOP)
    try:
        page.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort()
        )
        page.goto(f"{server}/{name}", wait_until="load")
        figures = page.evaluate(FIGURES_JS)
    finally:
        page.close()
    defects = [d for fig in figures for d in figure_defects(fig, _png(fig["src"]))]
    assert not defects, f"{name}: {len(defects)} figure defects:\n" + "\n".join(defects)


def test_the_chapters_have_figures():
    """The checks above must not pass by finding nothing: the chapter pages are there, and the
    knobs' (DDPG, TD3, PCL)."""
    assert len(CHAPTERS) >= 10, CHAPTERS
    assert {"chapters/ddpg.html", "chapters/td3.html", "chapters/pcl.html"} <= set(KNOB_CHAPTERS)
