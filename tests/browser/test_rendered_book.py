"""Every page of the built book opened in headless Chromium with the network cut off, at a laptop's
size (1366x768) and a phone's (390x844); a full-page screenshot of each lands in screenshots/."""

from pathlib import Path

import pytest

from browser_support import SHOTS, built_pages

PAGES = built_pages()
SIZES = {"1366x768": (1366, 768), "390x844": (390, 844)}


@pytest.fixture
def page_report(browser, server):
    """Open a page; return the page and what went wrong while loading it."""

    def open_page(name, size="1366x768"):
        width, height = SIZES[size]
        page = browser.new_page(viewport={"width": width, "height": height})
        report = {"console": [], "failed": [], "external": []}
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


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", PAGES)
def test_page_renders_offline(page_report, name, size):
    page, report = page_report(name, size)
    try:
        assert not report["external"], f"requests to other hosts: {report['external']}"
        assert not report["failed"], f"failed requests: {report['failed']}"
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
        # every embedded widget view was rendered by the embed manager
        views = page.locator("script[type='application/vnd.jupyter.widget-view+json']").count()
        rendered = page.locator(".jupyter-widgets").count()
        assert rendered >= views, f"{views} widget views, {rendered} rendered"
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(
            path=str(
                SHOTS / f"{Path(name).with_suffix('').as_posix().replace('/', '_')}-{size}.png"
            ),
            full_page=True,
        )
    finally:
        page.close()
