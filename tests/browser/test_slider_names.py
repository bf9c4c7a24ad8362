"""Every slider of the built book has a name and announces the value shown, not an index.

ipywidgets draws a slider's handle as an element with role="slider" whose aria-valuenow is the
index of the value, and with no name: a screen reader said "slider, 0" where the page shows
"θ = 0.15". ``web/static/rlbook-knobs.js`` names each handle after the slider's label and sets
its aria-valuetext to "label = value"; this test reads both before and after a key press.
"""

import pytest

from browser_support import HTML, built_pages

SLIDER_PAGES = [p for p in built_pages() if "rlbook-static-knob" in (HTML / p).read_text()]

HANDLES = """() => Array.from(document.querySelectorAll(
    '.widget-slider [role="slider"], .widget-hslider [role="slider"]')).map(h => {
  const s = h.closest('.widget-slider, .widget-hslider');
  const label = s.querySelector('.widget-label');
  const readout = s.querySelector('.widget-readout');
  return {name: h.getAttribute('aria-label'), spoken: h.getAttribute('aria-valuetext'),
          label: label ? label.textContent.trim() : '',
          readout: readout ? (readout.value || readout.textContent).trim() : ''};
})"""


@pytest.mark.parametrize("name", SLIDER_PAGES)
def test_each_slider_is_named_and_announces_its_value(browser, server, name):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    try:
        page.goto(f"{server}/{name}", wait_until="load")
        page.wait_for_selector(
            ".rlbook-static-knob .noUi-handle, .rlbook-static-knob .widget-toggle-button",
            timeout=30_000,
        )
        handles = page.evaluate(HANDLES)
        if not handles:
            pytest.skip(f"{name}: its knobs are toggle buttons, which are named by their text")
        for h in handles:
            assert h["label"], f"{name}: a slider without a label: {h}"
            assert h["name"] == h["label"], f"{name}: handle not named after its label: {h}"
            assert h["spoken"] == f"{h['label']} = {h['readout']}", f"{name}: {h}"
        first = page.locator('.rlbook-static-knob [role="slider"]').first
        first.scroll_into_view_if_needed()
        before = first.get_attribute("aria-valuetext")
        first.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "([b]) => document.querySelector("
            "'.rlbook-static-knob [role=\"slider\"]').getAttribute('aria-valuetext') !== b",
            arg=[before],
            timeout=5_000,
        )
        after = page.evaluate(HANDLES)[0]
        assert after["spoken"] == f"{after['label']} = {after['readout']}" != before
    finally:
        page.close()
