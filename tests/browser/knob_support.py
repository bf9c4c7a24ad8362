"""The knobs of the built book's pages, as the browser tests find and wait for them.

A knob in a page is HTML with its own short script (``rlbook.widgets.static_knob_html``): a
``div.rlbook-static-knob`` holding a range input (a slider) or a row of ``button[data-i]``
(toggle buttons), one ``img`` per value under ``.rlbook-knob-figures`` (all but the shown one
``hidden``) and the script, which marks the knob ``data-ready`` as it starts and then enables the
controls, which are written ``disabled``. No widget manager draws anything.
"""

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from browser_support import HTML, built_pages

#: the pages with knobs (the knob's class is in the page's HTML)
KNOB_PAGES = [p for p in built_pages() if "rlbook-static-knob" in (HTML / p).read_text("utf8")]

#: a knob's script ran to its end: the knob is marked ready and none of its controls is disabled
#: any more (``data-ready`` alone is set before the script's body runs)
READY_JS = """k => k.hasAttribute('data-ready')
  && k.querySelectorAll('input[type=range], button[data-i]').length > 0
  && k.querySelectorAll('input[type=range]:disabled, button[data-i]:disabled').length === 0"""

#: the knobs of the page whose script did not run to its end (their ids)
NOT_READY_JS = f"""() => Array.from(document.querySelectorAll('.rlbook-static-knob'))
  .filter(k => !({READY_JS})(k)).map(k => k.id || '(no id)')"""

#: the images a knob shows: displayed (not ``hidden``) and loaded
VISIBLE_IMAGES = """k => Array.from(k.querySelectorAll('.rlbook-knob-figures img'))
    .filter(i => i.offsetParent !== null && i.naturalWidth > 0).map(i => i.src)"""


def wait_for_knobs(page, timeout: int = 10_000) -> int:
    """Wait until every knob of ``page`` is ready (:data:`READY_JS`); return how many there are.
    Fails naming the knobs whose script did not finish."""
    n = page.locator(".rlbook-static-knob").count()
    if n:
        try:
            page.wait_for_function(f"() => ({NOT_READY_JS})().length === 0", timeout=timeout)
        except PlaywrightTimeout as err:
            raise AssertionError(
                f"knobs whose script did not run (not data-ready, or controls still disabled): "
                f"{page.evaluate(NOT_READY_JS)}"
            ) from err
    return n
