"""Every page of the built book opened in headless Chromium with the network cut off, at a laptop's
size (1366x768) and a phone's (390x844); a full-page screenshot of each lands in screenshots/.

The pages load no widget manager (ipywidgets' embed.js weighed 2 MB): a knob is HTML with its own
script (``rlbook.widgets.static_knob_html``), so no page embeds widget state or views, none asks
for the manager or require.js, and every knob's script runs (its knob ``data-ready``, its controls
enabled) without logging an error (``rlbook-knob: ...``).
"""

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from browser_support import HTML, SHOTS, built_pages
from knob_support import NOT_READY_JS, wait_for_knobs

PAGES = built_pages()
SIZES = {"1366x768": (1366, 768), "390x844": (390, 844)}

#: what ipywidgets puts in a page: its widget state and views (JSON scripts), and the scripts of a
#: widget manager (the standalone embed.js, or embed-amd.js with require.js, from any host)
WIDGET_JSON = re.compile(r"application/vnd\.jupyter\.widget-(state|view)\+json")
MANAGER = re.compile(r"(^|/)(embed(-amd)?|require(\.min)?)\.js$|@jupyter-widgets/html-manager")
MANAGER_SRC = re.compile(r"<script\b[^>]*\bsrc=[\"'][^\"']*(embed(-amd)?|require(\.min)?)\.js")


@pytest.fixture
def page_report(browser, server):
    """Open a page; return the page and what went wrong while loading it."""

    def open_page(name, size="1366x768"):
        width, height = SIZES[size]
        page = browser.new_page(viewport={"width": width, "height": height})
        report = {"console": [], "failed": [], "external": [], "requests": []}
        page.on("request", lambda r: report["requests"].append(r.url))
        page.on(
            "console", lambda m: report["console"].append(m.text) if m.type == "error" else None
        )
        page.on("requestfailed", lambda r: report["failed"].append(f"{r.url} ({r.failure})"))
        page.on(
            "response",
            lambda r: (
                report["failed"].append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None
            ),
        )

        def route(route):
            if route.request.url.startswith(server) or route.request.url.startswith("data:"):
                route.continue_()
            else:  # the network is unreachable for the book
                report["external"].append(route.request.url)
                route.abort()

        page.route("**/*", route)
        page.goto(f"{server}/{name}", wait_until="load")
        page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
        page.wait_for_timeout(300)
        return page, report

    return open_page


def test_the_book_has_pages():
    assert "intro.html" in PAGES and any(p.startswith("chapters/") for p in PAGES), PAGES


def test_no_page_embeds_widget_state_or_a_widget_manager():
    """No page of the site (the generated ones too) holds widget state or views or a script tag
    for a widget manager: the knobs were built as HTML (the build's RLBOOK_BOOK=1)."""
    pages = [*PAGES, "index.html", "search.html", "genindex.html"]
    found = {}
    for name in pages:
        path = HTML / name
        if path.exists():
            text = path.read_text(encoding="utf-8")
            hits = [m.group(0) for m in (*WIDGET_JSON.finditer(text), *MANAGER_SRC.finditer(text))]
            if hits:
                found[name] = sorted(set(hits))
    assert PAGES and not found, f"widget state or a widget manager in {len(found)} pages: {found}"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", PAGES)
def test_page_renders_offline(page_report, name, size):
    page, report = page_report(name, size)
    try:
        assert not report["external"], f"requests to other hosts: {report['external']}"
        assert not report["failed"], f"failed requests: {report['failed']}"
        # no widget manager asked for (nor require.js, which would load one)
        manager = [u for u in report["requests"] if MANAGER.search(urlparse(u).path)]
        assert not manager, f"a widget manager requested: {manager}"
        # every knob's script ran to its end, without an error of its own
        knob_errors = [m for m in report["console"] if "rlbook-knob" in m]
        assert not knob_errors, f"knob scripts failed: {knob_errors}"
        wait_for_knobs(page, timeout=5_000)
        assert not page.evaluate(NOT_READY_JS)
        assert not report["console"], f"console errors: {report['console']}"
        # every math element was typeset by MathJax: no raw TeX left
        untypeset = page.evaluate(
            "() => Array.from(document.querySelectorAll('.math'))"
            ".filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 60))"
        )
        assert not untypeset, f"math left as raw TeX: {untypeset[:3]}"
        # the prose, not the code: a cell may rightly show TeX, e.g. a matplotlib label r"$\pi$"
        text = page.evaluate(
            "() => { const m = document.querySelector('main').cloneNode(true);"
            " m.querySelectorAll('pre, code, script, style').forEach(e => e.remove());"
            " return m.textContent; }"
        )
        for raw in ("\\frac", "\\boldsymbol", "\\mathcal", "$$"):
            assert raw not in text, f"raw TeX {raw!r} in the page text"
        # every algorithm box carries its number
        unnumbered = page.evaluate(
            "() => Array.from(document.querySelectorAll('div.proof.algorithm'))"
            ".filter(d => !/Algorithm \\d+/.test(d.querySelector('.admonition-title')?.innerText || ''))"
            ".map(d => d.id)"
        )
        assert not unnumbered, f"algorithm boxes without a number: {unnumbered}"
        broken = page.evaluate(
            "() => Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
            ".map(i => i.src)"
        )
        assert not broken, f"images that did not load: {broken}"
        # no widget state or view in the page (the knobs are HTML), and nothing of ipywidgets drawn
        widget_json = page.locator("script[type^='application/vnd.jupyter.widget']").count()
        drawn = page.locator(".jupyter-widgets").count()
        assert widget_json == drawn == 0, f"{widget_json} widget scripts, {drawn} widgets drawn"
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(
            path=str(
                SHOTS / f"{Path(name).with_suffix('').as_posix().replace('/', '_')}-{size}.png"
            ),
            full_page=True,
        )
    finally:
        page.close()
