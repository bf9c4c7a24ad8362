"""Every static knob of the built book moved in headless Chromium, with no kernel.

A static knob (``rlbook.widgets.StaticKnob``) is a slider, or a row of toggle buttons, linked in
the browser to a stack of figures computed during the build. Pressing the slider's arrow keys, or
each button in turn, must switch the figure shown, through every value of its grid.
"""

import pytest

from browser_support import HTML, built_pages

KNOB_PAGES = [p for p in built_pages() if "rlbook-static-knob" in (HTML / p).read_text()]

VISIBLE_IMAGES = """k => Array.from(k.querySelectorAll('img'))
    .filter(i => i.offsetParent !== null && i.naturalWidth > 0).map(i => i.src)"""


def test_the_book_has_static_knobs():
    # OU noise (DDPG), twin-min and tau (TD3), path length d (PCL)
    names = {p.split("/")[-1] for p in KNOB_PAGES}
    assert {"ddpg.html", "td3.html", "pcl.html"} <= names, KNOB_PAGES


@pytest.mark.parametrize("name", KNOB_PAGES)
def test_moving_each_static_knob_switches_its_figure(browser, server, name):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    try:
        page.goto(f"{server}/{name}", wait_until="load")
        page.wait_for_selector(
            ".rlbook-static-knob .noUi-handle, .rlbook-static-knob .widget-toggle-button",
            timeout=30_000,
        )
        knobs = page.locator(".rlbook-static-knob")
        assert knobs.count() >= 1
        for k in range(knobs.count()):
            knob = knobs.nth(k)
            knob.scroll_into_view_if_needed()
            buttons = knob.locator(".widget-toggle-button")
            if buttons.count():  # toggle buttons: press each of the others in turn
                page.wait_for_function(
                    f"k => ({VISIBLE_IMAGES})(k).length === 1", arg=knob.element_handle()
                )
                seen = knob.evaluate(VISIBLE_IMAGES)
                active = buttons.evaluate_all(
                    "bs => bs.findIndex(b => b.classList.contains('mod-active'))"
                )
                for b in range(buttons.count()):
                    if b == active:
                        continue
                    buttons.nth(b).click()
                    page.wait_for_function(
                        f"([k, s]) => {{ const v = ({VISIBLE_IMAGES})(k);"
                        " return v.length === 1 && v[0] !== s }",
                        arg=[knob.element_handle(), seen[-1]],
                    )
                    seen.append(knob.evaluate(VISIBLE_IMAGES)[0])
                assert len(set(seen)) == buttons.count(), f"knob {k} of {name}: no switch"
                continue
            handle = knob.locator(".noUi-handle")
            n_values = round(float(handle.get_attribute("aria-valuemax"))) + 1
            seen = []
            for step in range(n_values):
                page.wait_for_function(
                    f"k => ({VISIBLE_IMAGES})(k).length === 1", arg=knob.element_handle()
                )
                shown = knob.evaluate(VISIBLE_IMAGES)
                assert len(shown) == 1, f"knob {k}: {len(shown)} figures visible at step {step}"
                seen.append(shown[0])
                readout = knob.locator(".widget-readout").inner_text()
                if step < n_values - 1:
                    handle.focus()
                    page.keyboard.press("ArrowRight")
                    page.wait_for_function(
                        "([k, r]) => k.querySelector('.widget-readout').innerText !== r",
                        arg=[knob.element_handle(), readout],
                    )
            assert len(set(seen)) == n_values, f"knob {k} of {name}: figures did not switch"
        assert not errors, errors
    finally:
        page.close()
