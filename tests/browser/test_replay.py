"""The replay players of the built book (``rlbook.replay.pendulum_player``) play offline.

On every chapter page that holds a player, in headless Chromium with every request outside the
local server aborted: the player's script ran (its controls are enabled), pressing Play moves the
frame (the label's time and the pendulums' SVG rotation change), Pause stops it, the scrubber
moves by keyboard to a frame (End, Home, an arrow), the start chooser redraws the curves; at
390 px the player fits the column, the page does not widen, and its text is readable: every
label of the SVG renders at 11 CSS px or more (the SVG is shrunk to the phone's column, and the
player's script enlarges its fonts), no label leaves the SVG and the rows' labels do not overlap.

The pages are those of ``browser_support.HTML``, or of ``RLBOOK_HTML`` when set (a build
elsewhere, e.g. ``RLBOOK_HTML=/tmp/book/_build/html``).
"""

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

import browser_support

HTML = Path(os.environ.get("RLBOOK_HTML", browser_support.HTML))
PAGES = sorted(
    p.relative_to(HTML).as_posix()
    for p in HTML.glob("chapters/*.html")
    if "rlbook-player" in p.read_text(encoding="utf8")
)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():  # the pages of HTML (conftest's serves browser_support.HTML)
    if not (HTML / "index.html").exists():
        pytest.fail(f"the book is not built at {HTML}: run `make book` first (make test does)")
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HTML))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_the_four_chapters_have_a_player():
    names = {p.split("/")[-1] for p in PAGES}
    assert {"ddpg.html", "td3.html", "sac.html", "pcl.html"} <= names, PAGES


def open_page(browser, server, name, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    # the player's script reports its errors as "rlbook-player: ..." (the pages' other scripts
    # have errors of their own, not this test's business)
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if "rlbook-player" in m.text else None)
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    page.goto(f"{server}/{name}", wait_until="load")
    return page


ROD = "p => p.querySelector('.rlbook-rod').getAttribute('transform')"
#: the smallest text a reader is asked to read, CSS px
MIN_TEXT_PX = 11.0
#: each text of the player's SVG: its rendered font size (the font size in SVG units times the
#: SVG's scale), its box, and whether it is a row's label or return (the pendulums' panel, the
#: SVG's top 168 units)
TEXTS = """p => {
  const svg = p.querySelector('svg'), box = svg.getBoundingClientRect();
  const scale = box.width / svg.viewBox.baseVal.width;
  return {svg: [box.left, box.right, box.top, box.bottom], texts: [...svg.querySelectorAll('text')]
    .map(t => { const b = t.getBoundingClientRect(); return {
      text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * scale,
      box: [b.left, b.right, b.top, b.bottom], row: +t.getAttribute('y') < 170 }; })};
}"""


def text_defects(found: dict) -> list[str]:
    """What is unreadable in one player's SVG (``TEXTS``'s answer): an empty list if nothing."""
    left, right, top, bottom = found["svg"]
    defects = []
    for t in found["texts"]:
        if t["px"] < MIN_TEXT_PX:
            defects.append(f"{t['text']!r} at {t['px']:.1f} CSS px, below {MIN_TEXT_PX:g}")
        x0, x1, y0, y1 = t["box"]
        if x0 < left - 0.5 or x1 > right + 0.5 or y0 < top - 0.5 or y1 > bottom + 0.5:
            defects.append(f"{t['text']!r} leaves the SVG")
    rows = [t for t in found["texts"] if t["row"]]
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            (a0, a1, a2, a3), (b0, b1, b2, b3) = a["box"], b["box"]
            if a0 < b1 - 0.5 and b0 < a1 - 0.5 and a2 < b3 - 0.5 and b2 < a3 - 0.5:
                defects.append(f"{a['text']!r} overlaps {b['text']!r}")
    return defects


LABEL = "p => p.querySelector('.rlbook-label').textContent"


@pytest.mark.parametrize("name", PAGES)
def test_play_pause_and_scrub_move_the_frame(browser, server, name):
    page = open_page(browser, server, name, 1280, 900)
    try:
        players = page.locator(".rlbook-player")
        assert players.count() >= 1
        for k in range(players.count()):
            player = players.nth(k)
            player.scroll_into_view_if_needed()
            play, scrub = player.locator(".rlbook-play"), player.locator(".rlbook-scrub")
            label = player.locator(".rlbook-label")
            assert play.is_enabled() and scrub.is_enabled(), "the player's script did not run"
            assert label.text_content().startswith("t = 0.00 s")
            assert not player.locator(".rlbook-nojs").is_visible()  # the static text hidden
            rod0 = player.evaluate(ROD)
            handle = player.element_handle()
            play.click()
            page.wait_for_function(
                f"([p, r]) => ({ROD})(p) !== r && !({LABEL})(p).startsWith('t = 0.00 s')",
                arg=[handle, rod0],
                timeout=5_000,
            )
            assert play.text_content() == "Pause"
            assert player.evaluate(ROD) != rod0
            play.click()  # pause
            assert play.text_content() == "Play"
            paused = label.text_content()
            page.wait_for_timeout(300)  # six frames at 20 frames per second
            assert label.text_content() == paused, "Pause did not stop the player"
            # the scrubber, by keyboard
            scrub.focus()
            page.keyboard.press("End")
            assert label.text_content().startswith("t = 10.00 s")
            rod_end = player.evaluate(ROD)
            page.keyboard.press("Home")
            assert label.text_content().startswith("t = 0.00 s")
            assert player.evaluate(ROD) == rod0 != rod_end
            page.keyboard.press("ArrowRight")
            assert label.text_content().startswith("t = 0.05 s")
            assert "return" in scrub.get_attribute("aria-valuetext")
            chooser = player.locator(".rlbook-start")
            if chooser.count():  # another start redraws the curves and the pendulums
                line = "p => p.querySelector('.rlbook-line').getAttribute('points')"
                before = player.evaluate(line)
                values = chooser.locator("option").evaluate_all("os => os.map(o => o.value)")
                chooser.select_option(values[-1])
                assert player.evaluate(line) != before
        assert not page.errors, page.errors
    finally:
        page.close()


@pytest.mark.parametrize("name", PAGES)
def test_the_player_fits_a_phone_column(browser, server, name):
    page = open_page(browser, server, name, 390, 844)
    try:
        player = page.locator(".rlbook-player").first
        player.scroll_into_view_if_needed()
        box = player.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        svg = player.locator("svg").bounding_box()
        assert svg["width"] <= box["width"]
        defects = text_defects(player.evaluate(TEXTS))
        assert not defects, f"{name} at 390 px:\n" + "\n".join(defects)
        player.locator(".rlbook-play").click()  # it plays at this width too
        page.wait_for_function(
            f"p => !({LABEL})(p).startsWith('t = 0.00 s')", arg=player.element_handle()
        )
    finally:
        page.close()
