"""Every knob of the built book moved in headless Chromium, with no kernel.

A knob in the book's pages (``rlbook.widgets.static_knob_html``) is a slider (a range input), or a
row of toggle buttons, over figures computed during the build, and a short script of its own that
shows the figure of the value chosen. Pressing the slider's arrow keys, from its first value to its
last, or clicking each button in turn, must switch the figure shown through every value of its
grid, with exactly one figure shown at each step, the one of the value chosen (the slider's value,
the pressed button), and the value shown beside the slider following it.
"""

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from knob_support import KNOB_PAGES, VISIBLE_IMAGES, wait_for_knobs

#: which figure is shown (its index among the knob's images, -1 if not exactly one) and what the
#: control says: the slider's value and the label beside it, or the index of the pressed button
STATE_JS = """k => {
  const imgs = Array.from(k.querySelectorAll('.rlbook-knob-figures img'));
  const shown = imgs.map((i, n) => i.offsetParent !== null && i.naturalWidth > 0 ? n : -1)
    .filter(n => n >= 0);
  const range = k.querySelector('input[type=range]');
  const pressed = Array.from(k.querySelectorAll('button[data-i]'))
    .map((b, n) => b.getAttribute('aria-pressed') === 'true' ? n : -1).filter(n => n >= 0);
  return {shown: shown, n: imgs.length, src: shown.length === 1 ? imgs[shown[0]].src : '',
          value: range ? parseInt(range.value, 10) : null,
          output: range ? k.querySelector('output').textContent : null,
          pressed: pressed};
}"""


def test_the_book_has_knobs():
    # OU noise (DDPG), twin-min and tau (TD3), path length d (PCL)
    names = {p.split("/")[-1] for p in KNOB_PAGES}
    assert {"ddpg.html", "td3.html", "pcl.html"} <= names, KNOB_PAGES


def _wait(page, knob, condition, arg, what):
    """Wait until ``condition`` (JS, of the knob's state and ``arg``) holds; fail with the state."""
    try:
        page.wait_for_function(
            f"([k, a]) => ({condition})(({STATE_JS})(k), a)",
            arg=[knob.element_handle(), arg],
            timeout=5_000,
        )
    except PlaywrightTimeout:
        state = knob.evaluate(STATE_JS)
        del state["src"]
        pytest.fail(f"{what}: the knob is at {state}")


def _check_slider(page, knob, where):
    """Home, then ArrowRight to the last value: a new figure, the value's, at every step."""
    slider = knob.locator("input[type=range]")
    n_values = int(slider.get_attribute("max")) + 1
    assert n_values >= 2 and int(slider.get_attribute("min")) == 0, where
    labels = []
    seen = []
    slider.focus()
    page.keyboard.press("Home")
    for step in range(n_values):
        if step:
            page.keyboard.press("ArrowRight")
        _wait(
            page,
            knob,
            "(s, v) => s.value === v && s.shown.length === 1 && s.shown[0] === v",
            step,
            f"{where}: not the value's figure alone at step {step}",
        )
        state = knob.evaluate(STATE_JS)
        assert state["n"] == n_values, f"{where}: {state['n']} figures for {n_values} values"
        assert state["shown"] == [step], f"{where}: figures {state['shown']} shown at step {step}"
        seen.append(state["src"])
        labels.append(state["output"])
    assert len(set(seen)) == n_values, f"{where}: the figures did not switch ({len(set(seen))})"
    assert len(set(labels)) == n_values and all(labels), f"{where}: values shown {labels}"


def _check_buttons(page, knob, where):
    """Each button clicked in turn (the pressed one last): its figure, and only it, is shown."""
    buttons = knob.locator("button[data-i]")
    n = buttons.count()
    first = knob.evaluate(STATE_JS)
    assert len(first["shown"]) == 1 and first["pressed"] == first["shown"], f"{where}: {first}"
    order = [b for b in range(n) if b != first["pressed"][0]] + first["pressed"]
    seen = {}
    for b in order:
        buttons.nth(b).click()
        _wait(
            page,
            knob,
            "(s, b) => s.shown.length === 1 && s.shown[0] === b"
            " && s.pressed.length === 1 && s.pressed[0] === b",
            b,
            f"{where}: not button {b}'s figure alone, button {b} alone pressed, after its click",
        )
        state = knob.evaluate(STATE_JS)
        assert state["n"] == n, f"{where}: {state['n']} figures for {n} buttons"
        seen[b] = state["src"]
    assert len(set(seen.values())) == n >= 2, f"{where}: the figures did not switch"


@pytest.mark.parametrize("name", KNOB_PAGES)
def test_moving_each_knob_switches_its_figure(browser, server, name):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    try:
        page.goto(f"{server}/{name}", wait_until="load")
        n_knobs = wait_for_knobs(page)
        assert n_knobs >= 1
        knobs = page.locator(".rlbook-static-knob")
        for k in range(n_knobs):
            knob = knobs.nth(k)
            knob.scroll_into_view_if_needed()
            where = f"knob {k} ({knob.locator('.rlbook-knob-title').inner_text()!r}) of {name}"
            # before any move: one figure shown, the one the data says
            page.wait_for_function(
                f"k => ({VISIBLE_IMAGES})(k).length === 1", arg=knob.element_handle()
            )
            if knob.locator("input[type=range]").count():
                _check_slider(page, knob, where)
            else:
                _check_buttons(page, knob, where)
        assert not errors, errors
    finally:
        page.close()
