"""The HalfCheetah-v5 clip of the built Benchmarks page (``rlbook.clip.cheetah_player``) plays
offline.

In headless Chromium with every request outside the local server aborted: the player's script
ran (its controls are enabled, the static text hidden), pressing Play moves the frame (the time
label and every panel's sprite position change), Pause stops it, the scrubber moves by keyboard
(End, Home, an arrow) and says the distances in its ``aria-valuetext``; at 390 px the panels fit
the column, wrap to two rows, and the page does not widen.

The page is that of ``browser_support.HTML``, or of ``RLBOOK_HTML`` when set (a build elsewhere,
e.g. ``RLBOOK_HTML=/tmp/book/_build/html``).
"""

import pytest

PAGE = "chapters/benchmarks.html"
LABEL = "p => p.querySelector('.rlbook-label').textContent"
#: every panel's sprite position, the frame each shows
FRAMES = (
    "p => Array.from(p.querySelectorAll('.rlbook-frame')).map(e => e.style.backgroundPosition)"
    ".join('|')"
)


def open_page(browser, server, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    # the player's script reports its errors as "rlbook-clip: ..." (the page's other scripts
    # have errors of their own, not this test's business)
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if "rlbook-clip" in m.text else None)
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    page.goto(f"{server}/{PAGE}", wait_until="load")
    return page


def test_play_pause_and_scrub_move_the_frame(browser, server):
    page = open_page(browser, server, 1366, 768)
    try:
        player = page.locator(".rlbook-clip")
        assert player.count() == 1, "the Benchmarks page has one HalfCheetah player"
        player.scroll_into_view_if_needed()
        play, scrub = player.locator(".rlbook-play"), player.locator(".rlbook-scrub")
        label = player.locator(".rlbook-label")
        assert play.is_enabled() and scrub.is_enabled(), "the player's script did not run"
        assert label.text_content() == "t = 0.00 s"
        assert not player.locator(".rlbook-nojs").is_visible()  # the static text hidden
        assert player.locator(".rlbook-frame").count() == 4
        frames0 = player.evaluate(FRAMES)
        # every panel shows its sprite: the data: URI decoded into an image of the sprite's size
        sizes = player.evaluate(
            """p => Promise.all(Array.from(p.querySelectorAll('.rlbook-frame')).map(e => {
                 const img = new Image();
                 img.src = getComputedStyle(e).backgroundImage.slice(5, -2);
                 return img.decode().then(() => [img.naturalWidth, img.naturalHeight]);
               }))"""
        )
        assert len({tuple(s) for s in sizes}) == 1 and sizes[0][0] > 10 * sizes[0][1], sizes
        handle = player.element_handle()
        play.click()
        page.wait_for_function(
            f"([p, f]) => ({FRAMES})(p) !== f && ({LABEL})(p) !== 't = 0.00 s'",
            arg=[handle, frames0],
            timeout=5_000,
        )
        assert play.text_content() == "Pause"
        moved = player.evaluate(FRAMES).split("|")
        assert all(m != f for m, f in zip(moved, frames0.split("|"), strict=True))
        play.click()  # pause
        assert play.text_content() == "Play"
        paused = label.text_content()
        page.wait_for_timeout(300)  # six frames at 20 frames per second
        assert label.text_content() == paused, "Pause did not stop the player"
        scrub.focus()
        page.keyboard.press("End")
        end = label.text_content()
        assert end != "t = 0.00 s" and player.evaluate(FRAMES) != frames0
        assert "m" in player.locator(".rlbook-x").first.text_content()
        page.keyboard.press("Home")
        assert label.text_content() == "t = 0.00 s" and player.evaluate(FRAMES) == frames0
        page.keyboard.press("ArrowRight")
        assert label.text_content() == "t = 0.05 s"
        assert "distance run" in scrub.get_attribute("aria-valuetext")
        assert not page.errors, page.errors
    finally:
        page.close()


def test_the_player_fits_a_phone_column(browser, server):
    page = open_page(browser, server, 390, 844)
    try:
        player = page.locator(".rlbook-clip")
        player.scroll_into_view_if_needed()
        box = player.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        panels = [player.locator(".rlbook-frame").nth(k).bounding_box() for k in range(4)]
        for p in panels:
            assert p["x"] >= box["x"] and p["x"] + p["width"] <= box["x"] + box["width"]
            assert p["width"] >= 140, "a panel too small to see"
        assert len({round(p["y"]) for p in panels}) == 2, "two rows of two on a phone"
        player.locator(".rlbook-play").click()  # it plays at this width too
        page.wait_for_function(f"p => ({LABEL})(p) !== 't = 0.00 s'", arg=player.element_handle())
    finally:
        page.close()


@pytest.mark.parametrize("width", [1366])
def test_four_panels_in_one_row_on_a_laptop(browser, server, width):
    page = open_page(browser, server, width, 768)
    try:
        frames = page.locator(".rlbook-clip .rlbook-frame")
        ys = {round(frames.nth(k).bounding_box()["y"]) for k in range(4)}
        assert len(ys) == 1, "the four panels side by side in the book's column"
    finally:
        page.close()
