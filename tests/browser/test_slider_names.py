"""Every knob's control in the built book has a name and announces the value shown, not an index.

A knob's slider (``rlbook.widgets.static_knob_html``) is a native range input over the indices of
its values (0 .. n-1): unnamed, a screen reader would say "slider, 0" where the page shows
"θ = 0.15". It is named by its ``<label for>`` (its accessible name, as Playwright computes it for
``get_by_role``) and its ``aria-valuetext`` says "label = value", the value shown beside it; this
test reads both before and after a key press. Toggle buttons are a group named by the knob's
description, each button named by its text, the chosen one pressed (``aria-pressed``).
"""

import pytest

from knob_support import KNOB_PAGES, wait_for_knobs

#: each slider of a knob: its label (by ``for``), what it says (aria-valuetext) and the value shown
SLIDERS = """() => Array.from(document.querySelectorAll('.rlbook-static-knob input[type=range]'))
  .map(r => {
    const label = r.id ? document.querySelector(`label[for="${r.id}"]`) : null;
    const out = r.closest('.rlbook-static-knob').querySelector('output');
    return {id: r.id, label: label ? label.textContent.trim() : '',
            spoken: r.getAttribute('aria-valuetext'),
            shown: out ? out.textContent.trim() : ''};
  })"""

#: each toggle knob: its group's label and its buttons' texts and pressed states
GROUPS = """() => Array.from(document.querySelectorAll(
    '.rlbook-static-knob .rlbook-knob-control[role=group]')).map(g => ({
  label: g.getAttribute('aria-label') || '',
  buttons: Array.from(g.querySelectorAll('button[data-i]'))
    .map(b => [b.textContent.trim(), b.getAttribute('aria-pressed')]),
}))"""


def _open_knob_page(browser, server, name):
    """``name`` at 1280x900, offline, once every knob's script has run."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    page.goto(f"{server}/{name}", wait_until="load")
    wait_for_knobs(page)
    return page


@pytest.mark.parametrize("name", KNOB_PAGES)
def test_each_slider_is_named_and_announces_its_value(browser, server, name):
    page = _open_knob_page(browser, server, name)
    try:
        sliders = page.evaluate(SLIDERS)
        if not sliders:
            pytest.skip(f"{name}: its knobs are toggle buttons (checked below)")
        for s in sliders:
            assert s["label"], f"{name}: a slider without a label: {s}"
            assert s["shown"], f"{name}: a slider without its value shown: {s}"
            assert s["spoken"] == f"{s['label']} = {s['shown']}", f"{name}: {s}"
            # its accessible name is its label's text: the one slider of the page so named
            named = page.get_by_role("slider", name=s["label"], exact=True)
            assert named.count() == 1, f"{name}: {named.count()} sliders named {s['label']!r}"
            assert named.get_attribute("id") == s["id"], f"{name}: {s['label']!r} names another"
        first = page.get_by_role("slider", name=sliders[0]["label"], exact=True)
        first.scroll_into_view_if_needed()
        before = first.get_attribute("aria-valuetext")
        first.focus()
        page.keyboard.press("Home")
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "([id, b]) => document.getElementById(id).getAttribute('aria-valuetext') !== b",
            arg=[sliders[0]["id"], before],
            timeout=5_000,
        )
        after = page.evaluate(SLIDERS)[0]
        assert after["spoken"] == f"{after['label']} = {after['shown']}" != before, (before, after)
        assert first.input_value() == "1", f"{name}: Home, ArrowRight left {first.input_value()}"
    finally:
        page.close()


@pytest.mark.parametrize("name", KNOB_PAGES)
def test_each_toggle_group_is_named_and_says_which_button_is_pressed(browser, server, name):
    page = _open_knob_page(browser, server, name)
    try:
        groups = page.evaluate(GROUPS)
        if not groups:
            pytest.skip(f"{name}: its knobs are sliders (checked above)")
        for g in groups:
            assert g["label"], f"{name}: a group of toggle buttons without a name: {g}"
            group = page.get_by_role("group", name=g["label"], exact=True)
            assert group.count() == 1, f"{name}: {group.count()} groups named {g['label']!r}"
            assert [p for _, p in g["buttons"]].count("true") == 1, f"{name}: {g}"
            assert all(text for text, _ in g["buttons"]), f"{name}: a button without text: {g}"
            last = g["buttons"][-1][0]
            group.get_by_role("button", name=last, exact=True).click()
            pressed = group.get_by_role("button", pressed=True)
            assert pressed.count() == 1 and pressed.inner_text().strip() == last, (
                f"{name}: {pressed.count()} buttons pressed after clicking {last!r}"
            )
    finally:
        page.close()
