"""The built book's layout, measured in the browser (issue 28, item 3).

- at 1366x768 nothing on a page is wider than the text column: no display formula, table, code
  block, printed output, figure or widget needs a scroll bar or sticks out of the column (folded
  parts are opened first: what a reader unfolds must fit too);
- a cell's printed output has no line longer than 80 characters;
- at 390x844 no page is wider than the screen (a formula may scroll inside its own box, the page
  never does), and a knob's slider, its value and its toggle buttons stay on the screen, every
  position of the slider reachable;
- a knob in the static page (``rlbook.widgets.static_knob_html``) has no kernel-only part (no
  "Recompute for any value" section, no Run button: that live panel exists only in Jupyter and
  Colab), and says so in its note line (``p.rlbook-knob-note``);
- in print, code wraps instead of being clipped, folded solutions print open and marked as
  folded, and a knob's control and the figure it shows are printed.

The chapters' code lines are checked in tests/test_book.py (at most 88 characters).
"""

import re

import pytest

from browser_support import SHOTS, built_pages
from knob_support import KNOB_PAGES as ALL_KNOB_PAGES
from knob_support import wait_for_knobs
from rlbook.widgets import LIVE_NOTE

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

#: every page of the book but the generated ones (search, genindex)
PAGES = [p for p in built_pages() if p not in {"search.html", "genindex.html"}] or ["(not built)"]
CHAPTERS = [p for p in PAGES if p.startswith("chapters/")] or ["(not built)"]
#: the chapters with knobs (rlbook.widgets.knob: their class is in the page's HTML), for the
#: checks of kernel-only controls, of print and of the phone
KNOB_PAGES = [p for p in ALL_KNOB_PAGES if p.startswith("chapters/")] or ["(no knob)"]
KNOB_PAGE = KNOB_PAGES[0]
MAX_OUTPUT_LINE = 80

#: what can be wider than its column: display formulas, tables (and the theme's scrolling box
#: around them), code blocks and outputs, images, figures and knobs (and their controls)
WIDE_JS = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
  const article = document.querySelector('article.bd-article');
  const style = getComputedStyle(article);
  const box = article.getBoundingClientRect();
  const left = box.left + parseFloat(style.paddingLeft);
  const right = box.right - parseFloat(style.paddingRight);
  const selector = [
    'mjx-container[display="true"]', 'div.math', 'table', 'div.pst-scrollable-table-container',
    'div.highlight pre', 'div.cell_output', 'img', 'figure', '.rlbook-static-knob',
    '.rlbook-knob-control',
  ].join(', ');
  const wide = [];
  for (const e of article.querySelectorAll(selector)) {
    const r = e.getBoundingClientRect();
    if (r.width === 0) continue;
    const over = Math.max(e.scrollWidth - e.clientWidth, r.right - right, left - r.left);
    if (over > 1) {
      const where = e.closest('[id]');
      const text = (e.innerText || e.textContent || '').replace(/\\s+/g, ' ').trim();
      wide.push(`${e.tagName.toLowerCase()} ${Math.round(over)} px too wide`
        + ` (in #${where ? where.id : '?'}): ${text.slice(0, 50)}`);
    }
  }
  return {column: right - left, wide: wide};
}"""


def _open(browser, server, name, viewport, media="screen"):
    if name == "(not built)":
        pytest.fail("the book is not built: run `make book` first (make test does)")
    page = browser.new_page(viewport=viewport)
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    page.emulate_media(media=media)
    page.goto(f"{server}/{name}", wait_until="load")
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    wait_for_knobs(page)  # their scripts run as the page loads: the controls enabled
    return page


@pytest.mark.parametrize("name", PAGES)
def test_nothing_is_wider_than_the_column_on_a_laptop(browser, server, name):
    page = _open(browser, server, name, LAPTOP)
    try:
        found = page.evaluate(WIDE_JS)
    finally:
        page.close()
    # the column of sphinx-book-theme 1.3.0 at this width (rlbook.plotting.COLUMN_PX)
    assert 740 <= found["column"] <= 770, found["column"]
    assert not found["wide"], f"{len(found['wide'])} elements wider than the column: " + "; ".join(
        found["wide"][:8]
    )


@pytest.mark.parametrize("name", CHAPTERS)
def test_printed_output_lines_are_at_most_80_characters(browser, server, name):
    page = _open(browser, server, name, LAPTOP)
    try:
        texts = page.evaluate(
            "() => Array.from(document.querySelectorAll('div.cell_output pre'))"
            ".map(e => e.textContent)"
        )
    finally:
        page.close()
    long = [line for text in texts for line in text.splitlines() if len(line) > MAX_OUTPUT_LINE]
    assert not long, f"{len(long)} output lines over {MAX_OUTPUT_LINE} characters: " + " | ".join(
        line[:60] for line in long[:5]
    )


@pytest.mark.parametrize("name", PAGES)
def test_no_page_is_wider_than_a_phone(browser, server, name):
    page = _open(browser, server, name, PHONE)
    try:
        width = page.evaluate(
            "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        )
        culprits = []
        if width > PHONE["width"]:
            culprits = page.evaluate(
                """() => Array.from(document.querySelectorAll('article.bd-article *'))
                  .filter(e => e.getBoundingClientRect().right > innerWidth + 1
                    && !e.closest('mjx-container *, pre *'))
                  .slice(0, 5)
                  .map(e => e.tagName.toLowerCase() + ': '
                    + (e.textContent || '').replace(/\\s+/g, ' ').slice(0, 50))"""
            )
    finally:
        page.close()
    assert width <= PHONE["width"], f"the page is {width} px wide: {culprits}"


def _knob_page(browser, server, name=KNOB_PAGE, viewport=LAPTOP, media="screen"):
    if name == "(no knob)":
        pytest.fail("no chapter of the built book has a knob (rlbook.widgets.knob)")
    page = _open(browser, server, name, viewport, media)
    assert page.locator(".rlbook-static-knob").count() >= 1, f"{name}: no knob"
    return page


#: what is shown of the page's knobs: the kernel-only controls that must not be there (a Run
#: button, a "Recompute" section, an ipywidgets view), and, for each knob, whether its note line is
#: shown with its text, whether its control is, and how many of its figures are
KNOBS_SHOWN_JS = """() => {
  const shown = e => e.offsetParent !== null && e.getBoundingClientRect().height > 0
    && getComputedStyle(e).visibility !== 'hidden';
  const kernelOnly = Array.from(document.querySelectorAll('main .cell_output *'))
    .filter(shown)
    .filter(e => (e.tagName === 'BUTTON' && /^\\s*Run\\s*$/.test(e.textContent))
      || (e.children.length === 0 && /Recompute|needs a running kernel/.test(e.textContent))
      || e.matches('.jupyter-widgets, .widget-accordion, .rlbook-live'))
    .map(e => e.tagName.toLowerCase() + ': ' + e.textContent.trim().slice(0, 60));
  const knobs = Array.from(document.querySelectorAll('.rlbook-static-knob')).map(k => {
    const note = k.querySelector('p.rlbook-knob-note');
    const control = k.querySelector('.rlbook-knob-control');
    return {
      title: k.querySelector('.rlbook-knob-title').textContent.trim(),
      note: note && shown(note) ? note.textContent.trim() : null,
      control: !!control && shown(control),
      figures: Array.from(k.querySelectorAll('.rlbook-knob-figures img'))
        .filter(i => shown(i) && i.naturalWidth > 0).length,
    };
  });
  return {kernelOnly: kernelOnly, knobs: knobs};
}"""


@pytest.mark.parametrize("name", KNOB_PAGES)
def test_a_knob_in_the_static_page_has_no_kernel_only_part_and_says_where_it_is(
    browser, server, name
):
    """Every knob of the book has a live panel (rlbook.widgets' *_knob functions all pass
    ``live``): in the page, where no kernel runs, none of it is there, and the note line under the
    figure says where it is."""
    page = _knob_page(browser, server, name)
    try:
        found = page.evaluate(KNOBS_SHOWN_JS)
        SHOTS.mkdir(exist_ok=True)
        page.locator(".rlbook-static-knob").first.scroll_into_view_if_needed()
        shot = name.split("/")[-1].removesuffix(".html")
        page.screenshot(path=str(SHOTS / f"layout-knob-static-{shot}-1366x768.png"))
    finally:
        page.close()
    assert not found["kernelOnly"], f"kernel-only controls shown: {found['kernelOnly']}"
    assert found["knobs"], f"{name}: no knob"
    for knob in found["knobs"]:
        assert knob["control"] and knob["figures"] == 1, f"{name}: {knob}"
        # the line that says what the knob's live panel does in Jupyter or Colab
        note = knob["note"] or ""
        assert note.startswith(LIVE_NOTE + " ") and note.endswith("."), (
            f"{name}: the live panel's note not shown: {knob}"
        )


def test_print_wraps_code_marks_folded_solutions_and_prints_the_knobs(browser, server):
    page = _knob_page(browser, server, media="print")
    try:
        code = page.evaluate(
            """() => Array.from(document.querySelectorAll('article div.highlight pre'))
              .map(e => { const s = getComputedStyle(e);
                return [s.whiteSpace, s.overflowX, e.scrollWidth - e.clientWidth]; })"""
        )
        folded = page.evaluate(
            """() => Array.from(document.querySelectorAll('.admonition.toggle'))
              .map(e => { const mark = e.querySelector('button.toggle-button');
                const body = e.querySelector('.admonition-title').nextElementSibling;
                return [mark ? getComputedStyle(mark, '::before').content : 'none',
                        mark ? getComputedStyle(mark).display : 'none',
                        body ? getComputedStyle(body).visibility : 'none']; })"""
        )
        knobs = page.evaluate(KNOBS_SHOWN_JS)
        pdf = page.pdf(format="A4")
    finally:
        page.close()
    assert code, "no code block on the page"
    clipped = [c for c in code if c[0] not in ("pre-wrap", "break-spaces") or c[2] > 1]
    assert not clipped, (
        f"{len(clipped)} of {len(code)} code blocks do not wrap in print: {clipped[:3]}"
    )
    assert folded, "no folded solution on the page"
    unmarked = [f for f in folded if "folded" not in f[0] or f[1] == "none" or f[2] != "visible"]
    assert not unmarked, f"{len(unmarked)} of {len(folded)} folded parts print unmarked or hidden"
    assert not knobs["kernelOnly"], f"kernel-only controls printed: {knobs['kernelOnly']}"
    # a knob's control says which of its figures is printed: both print, one figure
    assert knobs["knobs"], "no knob on the page"
    unprinted = [k for k in knobs["knobs"] if not k["control"] or k["figures"] != 1]
    assert not unprinted, f"knobs whose control or figure does not print: {unprinted}"
    assert re.match(rb"%PDF", pdf)


#: each knob's slider, the value shown beside it and its buttons: their right edges, the page's
#: width, and the slider's range
PHONE_KNOBS_JS = """() => ({
  page: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
  parts: Array.from(document.querySelectorAll(
      '.rlbook-static-knob input[type=range], .rlbook-static-knob output, '
      + '.rlbook-static-knob button[data-i], .rlbook-static-knob .rlbook-knob-figures img'))
    .filter(e => e.getBoundingClientRect().width > 0)
    .map(e => ({what: e.tagName.toLowerCase() + ' ' + (e.textContent || '').trim().slice(0, 30),
                left: e.getBoundingClientRect().left, right: e.getBoundingClientRect().right,
                width: e.getBoundingClientRect().width})),
})"""


@pytest.mark.parametrize("name", KNOB_PAGES)
def test_a_knobs_controls_and_figure_stay_on_a_phones_screen(browser, server, name):
    """The slider (at most 480 px, rlbook.widgets._KNOB_CSS) is held to the column: it, the value
    shown beside it, the toggle buttons and the figure are on the screen, without widening the
    page; the slider reaches its last value by keyboard (End) and its first (Home), the value
    shown following."""
    page = _knob_page(browser, server, name, viewport=PHONE)
    try:
        found = page.evaluate(PHONE_KNOBS_JS)
        ends = []
        sliders = page.locator(".rlbook-static-knob input[type=range]")
        for s in range(sliders.count()):
            slider = sliders.nth(s)
            slider.scroll_into_view_if_needed()
            out = slider.locator("xpath=ancestor::div[@data-rlbook-knob]//output")
            slider.focus()
            page.keyboard.press("End")
            last = (slider.input_value(), out.inner_text())
            page.keyboard.press("Home")
            ends.append((slider.get_attribute("max"), last, slider.input_value(), out.inner_text()))
        if sliders.count():
            page.locator(".rlbook-static-knob").first.scroll_into_view_if_needed()
            SHOTS.mkdir(exist_ok=True)
            shot = name.split("/")[-1].removesuffix(".html")
            page.screenshot(path=str(SHOTS / f"layout-knob-{shot}-390x844.png"))
        width = page.evaluate(PHONE_KNOBS_JS)["page"]
    finally:
        page.close()
    out = [p for p in found["parts"] if p["left"] < 0 or p["right"] > PHONE["width"]]
    assert not out, f"knob parts beyond the {PHONE['width']} px screen: {out}"
    assert found["page"] <= PHONE["width"] and width <= PHONE["width"], (found["page"], width)
    narrow = [p for p in found["parts"] if p["what"].startswith("input") and p["width"] < 150]
    assert not narrow, f"sliders too short to move on a phone: {narrow}"
    for top, (value, label), first, first_label in ends:
        assert value == top and first == "0" and label != first_label, ends
