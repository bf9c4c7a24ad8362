"""The built book's layout, measured in the browser (issue 28, item 3).

- at 1366x768 nothing on a page is wider than the text column: no display formula, table, code
  block, printed output, figure or widget needs a scroll bar or sticks out of the column (folded
  parts are opened first: what a reader unfolds must fit too);
- a cell's printed output has no line longer than 80 characters;
- at 390x844 no page is wider than the screen (a formula may scroll inside its own box, the page
  never does), and a knob's slider and its value stay on the screen;
- the kernel-only part of a knob ("Recompute for any value", its Run button) is not shown in the
  static page, where no kernel runs;
- in print, code wraps instead of being clipped, folded solutions print open and marked as
  folded, and the kernel-only controls are hidden.

The chapters' code lines are checked in tests/test_book.py (at most 88 characters).
"""

import re

import pytest

from browser_support import HTML, SHOTS, built_pages

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

#: every page of the book but the generated ones (search, genindex)
PAGES = [p for p in built_pages() if p not in {"search.html", "genindex.html"}] or ["(not built)"]
CHAPTERS = [p for p in PAGES if p.startswith("chapters/")] or ["(not built)"]
#: a page with knobs (rlbook.widgets.knob: their class is in the page's widget state), for the
#: checks of kernel-only controls and of print
KNOB_PAGES = [
    p for p in CHAPTERS if p != "(not built)" and "rlbook-static-knob" in (HTML / p).read_text()
]
KNOB_PAGE = KNOB_PAGES[0] if KNOB_PAGES else "(no knob)"
MAX_OUTPUT_LINE = 80

#: what can be wider than its column: display formulas, tables (and the theme's scrolling box
#: around them), code blocks and outputs, images, figures and widgets
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
    'div.highlight pre', 'div.cell_output', 'img', 'figure', '.jupyter-widgets',
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
    # the widgets (knobs) are drawn by the widget manager after the page has loaded
    if page.locator("script[type='application/vnd.jupyter.widget-view+json']").count():
        page.wait_for_selector(".jupyter-widgets", state="attached", timeout=30_000)
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


def _knob_page(browser, server, media="screen"):
    if KNOB_PAGE == "(no knob)":
        pytest.fail("no chapter of the built book has a knob (rlbook.widgets.knob)")
    page = _open(browser, server, KNOB_PAGE, LAPTOP, media)
    page.wait_for_selector(".rlbook-static-knob", state="attached", timeout=30_000)
    return page


def _kernel_only_shown(page):
    """The visible elements that only a running kernel can use: the live panel's Run button and
    the section that holds it."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.jupyter-widgets *'))
          .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height > 0)
          .filter(e => (e.tagName === 'BUTTON' && /^\\s*Run\\s*$/.test(e.textContent))
            || (e.children.length === 0 && /needs a running kernel/.test(e.textContent)))
          .map(e => e.tagName.toLowerCase() + ': ' + e.textContent.trim().slice(0, 60))"""
    )


def test_kernel_only_controls_are_hidden_in_the_static_page(browser, server):
    page = _knob_page(browser, server)
    try:
        knobs = page.locator(".rlbook-static-knob").count()
        shown = _kernel_only_shown(page)
        SHOTS.mkdir(exist_ok=True)
        page.locator(".rlbook-static-knob").first.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "layout-knob-static-1366x768.png"))
    finally:
        page.close()
    assert knobs >= 1
    assert not shown, f"kernel-only controls shown in the static page: {shown}"


def test_print_wraps_code_marks_folded_solutions_and_hides_kernel_only_controls(browser, server):
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
        shown = _kernel_only_shown(page)
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
    assert not shown, f"kernel-only controls printed: {shown}"
    assert re.match(rb"%PDF", pdf)


def test_a_knobs_slider_and_its_value_stay_on_a_phones_screen(browser, server):
    """The slider (480 px in rlbook.widgets) is held to the column: its value, drawn at its right
    end, and its last position are on the screen."""
    page = _open(browser, server, "chapters/pcl.html", PHONE)
    try:
        page.wait_for_selector(".rlbook-static-knob .widget-readout", timeout=30_000)
        out = page.evaluate(
            """() => Array.from(document.querySelectorAll('.rlbook-static-knob .widget-slider'))
              .map(s => [s.getBoundingClientRect().right,
                         s.querySelector('.widget-readout').getBoundingClientRect().right])
              .filter(([slider, value]) => Math.max(slider, value) > innerWidth)"""
        )
    finally:
        page.close()
    assert not out, f"sliders or their values beyond the {PHONE['width']} px screen: {out}"
