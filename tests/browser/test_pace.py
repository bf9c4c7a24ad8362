"""Pace of the built book's chapters, measured in the browser (issue 28, item 4).

"At most about 4 screens (at 1366x768) of prose without a figure, algorithm box, table, or
slider": on every chapter page at 1366x768, the longest vertical stretch of the text column in
which nothing but prose (text, display formulas, code cells and their printed output, admonitions)
is shown. What breaks a stretch:

- a figure or an image (``figure``, ``img``),
- an algorithm box or any other sphinx-proof box (``div.proof``),
- a table,
- an exercise box (``div.exercise``: a numbered task set apart from the prose like an algorithm
  box; the Exercises sections at the chapters' ends are a list of such boxes, not a stretch of
  reading; ``tools/pace.py --exercises-as-prose`` measures without this rule),
- a knob (its slider or toggle buttons and its figure) or a replay player
  (``.rlbook-static-knob``, ``.rlbook-player``, ``input[type=range]``).

Folded parts (dropdown admonitions, folded solutions, hidden cell inputs) are measured as the page
shows them: closed, their title bar is all that counts, and nothing inside them breaks a stretch.
A screen is what a reader sees of the article at this size: the viewport's 768 px less the sticky
article header (48 px with sphinx-book-theme 1.3.0), measured on the page.

Each page's longest stretch is printed (``pytest -s``), with the heading of the section where it
starts and the text just after it; the test fails above ``MAX_SCREENS``. ``tools/pace.py`` prints
the same measurement for chosen pages, without pytest.
"""

import pytest

from browser_support import built_pages
from knob_support import wait_for_knobs

LAPTOP = {"width": 1366, "height": 768}
#: "about 4 screens": the issue's bound
MAX_SCREENS = 4.0

CHAPTERS = [p for p in built_pages() if p.startswith("chapters/")] or ["(not built)"]

#: elements that break a stretch of prose
BREAKS = ", ".join(
    [
        "figure",
        "img",
        "div.proof",
        "table",
        "div.exercise",
        ".rlbook-static-knob",
        ".rlbook-player",
        "input[type=range]",
    ]
)

#: the longest stretch of the article with none of BREAKS shown, in px, and where it starts
PACE_JS = """(breaks) => {
  const article = document.querySelector('article.bd-article');
  const y = window.scrollY;
  const box = article.getBoundingClientRect();
  const top = box.top + y, bottom = box.bottom + y;
  let header = 0;
  for (const e of document.querySelectorAll('.bd-header-article, #pst-header, header')) {
    const s = getComputedStyle(e), r = e.getBoundingClientRect();
    if ((s.position === 'sticky' || s.position === 'fixed') && r.height > 0 && r.top <= 0.5) {
      header = Math.max(header, r.bottom);
    }
  }
  const shown = (e) => {
    const r = e.getBoundingClientRect();
    if (r.height <= 0 || r.width <= 0) return null;
    // inside a closed fold (details, sphinx-togglebutton's hidden body): not shown
    if (e.checkVisibility && !e.checkVisibility({visibilityProperty: true})) return null;
    return [r.top + y, r.bottom + y];
  };
  const spans = [];
  for (const e of article.querySelectorAll(breaks)) {
    const s = shown(e);
    if (s) spans.push(s);
  }
  spans.sort((a, b) => a[0] - b[0]);
  // the stretches between the breaks (merged where they overlap)
  const runs = [];
  let at = top;
  for (const [a, b] of spans) {
    if (a > at) runs.push([at, a]);
    at = Math.max(at, b);
  }
  if (bottom > at) runs.push([at, bottom]);
  // the section heading above each stretch's start, and the first text inside it
  const heads = Array.from(article.querySelectorAll('h1, h2, h3, h4'))
    .filter(h => shown(h));
  const texts = Array.from(article.querySelectorAll('p, h1, h2, h3, h4, li, div.math, pre'));
  const where = (start) => {
    let heading = '(page top)';
    for (const h of heads) {
      if (h.getBoundingClientRect().top + y <= start + 2) {
        heading = h.textContent.replace(/#$/, '').replace(/\\s+/g, ' ').trim();
      }
    }
    let first = '';
    for (const e of texts) {
      const s = shown(e);
      if (s && s[0] >= start - 1) {
        first = e.textContent.replace(/\\s+/g, ' ').trim().slice(0, 60);
        break;
      }
    }
    return {heading: heading, first: first};
  };
  return {
    runs: runs.map(([a, b]) => Object.assign({px: b - a, start: a - top}, where(a))),
    screen: window.innerHeight - header, header: header, breaks: spans.length,
  };
}"""


def open_page(browser, server, name):
    """``name`` at 1366x768, once its formulas are typeset and its knobs' scripts have run."""
    page = browser.new_page(viewport=LAPTOP)
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    page.goto(f"{server}/{name}", wait_until="load")
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    wait_for_knobs(page)
    page.wait_for_timeout(200)
    return page


def measure(page, exercises: bool = True) -> dict:
    """The stretches of prose on ``page`` (open at 1366x768), in page order: ``runs``, each with
    its length ``px`` and ``screens``, its ``start`` below the article's top (px), the ``heading``
    of the section it starts in and the ``first`` text in it; ``longest``, the longest of them;
    ``screen``, the height of a screen (px). ``exercises=False``: an exercise box is prose."""
    breaks = BREAKS if exercises else BREAKS.replace(", div.exercise", "")
    found = page.evaluate(PACE_JS, breaks)
    for run in found["runs"]:
        run["screens"] = run["px"] / found["screen"]
    found["longest"] = max(found["runs"], key=lambda r: r["px"])
    return found


def describe(run: dict) -> str:
    return (
        f"{run['screens']:.2f} screens ({run['px']:.0f} px) from section {run['heading']!r}, "
        f"{run['start']:.0f} px down, starting {run['first']!r}"
    )


@pytest.mark.parametrize("name", CHAPTERS)
def test_at_most_about_four_screens_of_prose_without_a_break(browser, server, name):
    if name == "(not built)":
        pytest.fail("the book is not built: run `make book` first (make test does)")
    page = open_page(browser, server, name)
    try:
        found = measure(page)
    finally:
        page.close()
    print(f"{name}: longest {describe(found['longest'])}")
    # the sticky article header measured: a screen is the viewport less the header
    assert 600 <= found["screen"] <= LAPTOP["height"], found["screen"]
    over = [run for run in found["runs"] if run["screens"] > MAX_SCREENS]
    assert not over, (
        f"{name}: {len(over)} stretches over {MAX_SCREENS} screens (of {found['screen']:.0f} px) "
        "of prose without a figure, algorithm box, table or slider (fold a long derivation, "
        "move a figure earlier or tighten the text): " + "; ".join(describe(r) for r in over)
    )
