"""The built book used as a reader uses it, on a laptop (1366x768) and on a phone (390x844).

- the ☰ button opens the chapter list and a chapter is reached through it, at both sizes; the
  page-contents button opens the page's contents where that button is shown;
- one search box and one bar at the top;
- no "Algorithm Algorithm N" in any page (the cross-reference role prints "Algorithm N" itself);
- a keyboard reader reaches the first slider of the PCL chapter in a bounded number of Tab
  presses, and no formula is a Tab stop on the way;
- the weight: the whole site, and what the heaviest page transfers when opened.
"""

import gzip
import re
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from browser_support import HTML, SHOTS, built_pages
from knob_support import wait_for_knobs

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SIZES = {"1366x768": LAPTOP, "390x844": PHONE}

#: the chapter the navigation tests start from, and the one they go to through the chapter list
START, TARGET = "chapters/td3.html", "chapters/sac.html"

#: the site (every file under _build/html), and the bytes one page transfers when opened with an
#: empty cache (the page, its scripts, styles, fonts and images), from a server that does not
#: compress and from one that gzips text. Before the trimming the site was 66 MB and a slider
#: chapter 8.6-8.9 MB uncompressed; the widget manager (1.9 MB), MathJax with its menu (1.2 MB) and
#: a knob chapter's own page (0.8 MB of figures) keep it above half of that uncompressed.
#: Since the figures are drawn at 2x for high-density screens (issue 28), the site measured 18.4 MB
#: and the heaviest page (TD3, with three knobs) 6.02 MB uncompressed, 2.54 MB gzipped
#: (2026-12-05); with the replay player and the two amortization-gap figures (issue 32) TD3 became
#: 6.44 MB and 2.84 MB gzipped. Since every figure is a palette PNG (rlbook.plotting.palette_png,
#: a third of the bytes) and the knobs' images are drawn at 2x too, TD3 transfers 5.81 MB, 2.23 MB
#: gzipped (session 11), of which 4.39 MB are the widget manager, MathJax, the theme and fonts.
#: Since the pages load no widget manager (session 12: a knob is HTML with its own short script,
#: rlbook.widgets.static_knob_html), TD3 transfers 3.80 MB, 1.74 MB gzipped, Benchmarks 3.76 and
#: 1.61, DDPG 3.57 and 1.57, PCL 3.33 and 1.34: the manager took off 2.04 MB (0.61 MB gzipped) from
#: every knob page (embed.js 1.88 MB and two icon fonts 0.15 MB), and TD3's page itself 0.10 MB
#: (its knobs' figures as HTML instead of widget state); the theme's brand-icon font (0.12 MB),
#: which the manager's own Font Awesome had stood in for, is now fetched there as on other pages.
#: The page bounds below leave about 10% over the heaviest, no more. The site: issue 28 asked for
#: about a third of the 66 MB it started from (22 MB). make test's build from a fresh clone
#: measured 16.0 MB in session 11 (1.9 MB of it the HalfCheetah clip of the Benchmarks chapter, in
#: the page and again in its notebook for download) and 13.8 MB in session 12, without the widget
#: manager (2.05 MB: embed.js and its icon fonts); the bound leaves about 15% over that.
MAX_SITE_BYTES = 16_000_000
MAX_PAGE_BYTES = 4_200_000
MAX_PAGE_BYTES_GZIP = 1_920_000

#: Tab presses from the top of the PCL chapter to its first slider (the knob's range input; the
#: widget manager's slider handle before session 12). The focus walks through the header's
#: buttons, the chapter list, the contents column and the links and scrollable code blocks and
#: formulas before the slider (59 presses when this bound was set); it took 428 when every
#: formula was a stop.
MAX_TABS_TO_SLIDER = 100


def _shot(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"reader-{name}.png"))


@pytest.fixture
def open_page(browser, server):
    pages = []

    def open_(name, viewport):
        page = browser.new_page(viewport=viewport)
        pages.append(page)
        errors = []
        page.on("pageerror", lambda e: errors.append(f"{e}: {e.stack}"))
        page.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort()
        )
        page.goto(f"{server}/{name}", wait_until="load")
        page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
        page._rlbook_errors = errors
        return page

    yield open_
    for page in pages:
        page.close()


def _visible_toggle(page, cls):
    toggles = page.locator(f"button.{cls}")
    visible = [toggles.nth(i) for i in range(toggles.count()) if toggles.nth(i).is_visible()]
    assert len(visible) == 1, f"{len(visible)} visible .{cls} buttons"
    return visible[0]


def _in_view(page, locator):
    box = locator.bounding_box()
    vw, vh = page.viewport_size["width"], page.viewport_size["height"]
    return bool(box) and box["x"] >= 0 and box["x"] + box["width"] <= vw and box["y"] < vh


@pytest.mark.parametrize("size", SIZES)
def test_the_chapter_list_opens_and_leads_to_another_chapter(open_page, size):
    page = open_page(START, SIZES[size])
    link_in_sidebar = f"#pst-primary-sidebar a.reference[href$='{Path(TARGET).name}']"
    link_in_dialog = f"#pst-primary-sidebar-modal a.reference[href$='{Path(TARGET).name}']"
    toggle = _visible_toggle(page, "primary-toggle")
    if size == "390x844":
        # a phone: the list is not on the page; the button opens it over the page
        assert not page.locator(link_in_sidebar).is_visible()
        toggle.click()
        page.wait_for_function("document.getElementById('pst-primary-sidebar-modal').open")
        link = page.locator(link_in_dialog)
        link.scroll_into_view_if_needed()
        assert link.is_visible() and _in_view(page, link), "the chapter list did not open"
        _shot(page, f"chapters-open-{size}")
    else:
        # a laptop: the list is beside the page; the button hides it and shows it again
        link = page.locator(link_in_sidebar)
        assert link.is_visible()
        toggle.click()
        page.wait_for_function(
            "getComputedStyle(document.getElementById('pst-primary-sidebar')).visibility"
            " === 'hidden'"
        )
        _shot(page, f"chapters-hidden-{size}")
        toggle.click()
        page.wait_for_function(
            "getComputedStyle(document.getElementById('pst-primary-sidebar')).visibility"
            " === 'visible'"
        )
        page.wait_for_timeout(400)  # the theme slides it back in
        link.scroll_into_view_if_needed()
        assert link.is_visible() and _in_view(page, link)
    link.click()
    page.wait_for_url(re.compile(re.escape(TARGET) + "$"))
    assert page.locator("article.bd-article h1").first.is_visible()
    # (the theme and the widget manager throw errors of their own on these pages; none is ours)
    assert not [e for e in page._rlbook_errors if "rlbook-nav" in e], page._rlbook_errors


@pytest.mark.parametrize("size", ["390x844", "1024x768"])
def test_the_page_contents_open_where_their_button_is_shown(open_page, size):
    w, h = (int(x) for x in size.split("x"))
    page = open_page(START, {"width": w, "height": h})
    _visible_toggle(page, "secondary-toggle").click()
    page.wait_for_function("document.getElementById('pst-secondary-sidebar-modal').open")
    links = page.locator("#pst-secondary-sidebar-modal nav.page-toc a")
    assert links.count() >= 3, "the page's contents are not in the dialog"
    n_links = links.count()
    last = links.nth(n_links - 1)
    assert last.is_visible()
    _shot(page, f"contents-open-{size}")
    href = last.get_attribute("href")
    last.click()
    page.wait_for_function("!document.getElementById('pst-secondary-sidebar-modal').open")
    assert page.url.endswith(href), (page.url, href)
    # the contents went back to their column, for the next time
    assert page.locator("#pst-secondary-sidebar nav.page-toc a").count() == n_links


@pytest.mark.parametrize("size", SIZES)
def test_one_search_box_and_one_top_bar(open_page, size):
    page = open_page(START, SIZES[size])
    searches = page.evaluate(
        "() => Array.from(document.querySelectorAll('.search-button-field, .search-button'))"
        ".filter(e => e.offsetParent !== null).length"
    )
    # at 1366 px the sidebar's search field; on a phone the search icon of the top bar
    assert searches == 1, f"{searches} search boxes visible"
    bars = page.evaluate(
        "() => Array.from(document.querySelectorAll('#pst-header, .bd-header-article'))"
        ".map(e => e.getBoundingClientRect().height)"
    )
    assert sum(bars) <= 56, f"the bars at the top are {bars} px high"
    _shot(page, f"top-{size}")


def _text(path: Path) -> str:
    html = path.read_text(encoding="utf-8")
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


def test_no_page_says_algorithm_algorithm():
    pages = built_pages()
    assert pages
    found = {
        p: len(re.findall(r"\bAlgorithms? Algorithm \d", _text(HTML / p)))
        for p in [*pages, "index.html"]
        if (HTML / p).exists()
    }
    found = {p: n for p, n in found.items() if n}
    assert not found, f"'Algorithm Algorithm N' on {len(found)} pages: {found}"


def test_a_keyboard_reader_reaches_the_pcl_slider(open_page):
    page = open_page("chapters/pcl.html", LAPTOP)
    wait_for_knobs(page)  # the range input is written disabled (no Tab stop) until its script runs
    page.locator("body").focus()
    stops, math_stops = 0, 0
    while stops < 600:
        page.keyboard.press("Tab")
        stops += 1
        where = page.evaluate(
            "() => { const e = document.activeElement;"
            " const m = e.closest('mjx-container');"
            # a formula wider than the page scrolls, and a scroller is rightly a Tab stop
            " return m ? (m.scrollWidth > m.clientWidth ? 'scroller' : 'math')"
            " : e.matches('.rlbook-static-knob input[type=range]') ? 'slider' : 'other'; }"
        )
        if where == "slider":
            break
        math_stops += where == "math"
    assert where == "slider", f"no slider reached in {stops} Tab presses"
    print(f"{stops} Tab presses to the first slider")
    _shot(page, "pcl-slider-focused-1366x768")
    assert math_stops == 0, f"{math_stops} formulas were Tab stops"
    assert stops <= MAX_TABS_TO_SLIDER, f"{stops} Tab presses to the first slider"


def test_the_mathjax_menu_finds_its_accessibility_modules(open_page):
    """The explorer and speech of MathJax's right-click menu load from the book (their files are
    kept by web/assemble.sh, the rest of MathJax's distribution is not)."""
    page = open_page("chapters/td3.html", LAPTOP)
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.evaluate("() => MathJax.loader.load('a11y/explorer')")
    page.wait_for_timeout(300)
    assert not failed, failed


def test_the_site_is_light():
    size = sum(f.stat().st_size for f in HTML.rglob("*") if f.is_file())
    print(f"site: {size / 1e6:.1f} MB")
    assert size <= MAX_SITE_BYTES, f"the site is {size / 1e6:.1f} MB"


def _served(path: Path) -> tuple[int, int]:
    """The bytes of a file as sent by a server that does not compress, and by one that gzips text
    (HTML, scripts, styles, JSON, SVG) as the usual static hosts do; fonts and images as they are."""
    data = path.read_bytes()
    if path.suffix in {".html", ".js", ".css", ".json", ".svg", ".txt"}:
        return len(data), len(gzip.compress(data, 6))
    return len(data), len(data)


def test_the_heaviest_page_is_light(browser, server):
    sizes = {}
    for name in [p for p in built_pages() if p.startswith("chapters/")]:
        context = browser.new_context(viewport=LAPTOP)  # an empty cache for each page
        page = context.new_page()
        urls = []
        page.on("requestfinished", lambda r, urls=urls: urls.append(r.url))
        page.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort()
        )
        page.goto(f"{server}/{name}", wait_until="load")
        page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
        # scroll through the page so that images loaded lazily are counted too
        page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_timeout(500)
        context.close()
        files = [HTML / unquote(urlparse(u).path).lstrip("/") for u in urls if u.startswith(server)]
        served = [_served(f) for f in files if f.is_file()]
        sizes[name] = (sum(s[0] for s in served), sum(s[1] for s in served))
    print(
        "page transfers, MB (uncompressed, gzip): "
        + ", ".join(
            f"{n} {a / 1e6:.2f} {b / 1e6:.2f}"
            for n, (a, b) in sorted(sizes.items(), key=lambda x: -x[1][0])
        )
    )
    heaviest = max(sizes, key=lambda n: sizes[n][0])
    plain, zipped = sizes[heaviest]
    assert plain <= MAX_PAGE_BYTES, f"{heaviest} transfers {plain / 1e6:.2f} MB uncompressed"
    assert zipped <= MAX_PAGE_BYTES_GZIP, f"{heaviest} transfers {zipped / 1e6:.2f} MB gzipped"


def test_the_execution_statistics_give_every_chapter_a_time():
    """The exec-stats page shows the seconds of the run that produced each chapter's outputs,
    also when the build took them from nbval's recordings (``make test``)."""
    html = (HTML / "exec_stats.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S)
    chapters = {}
    for row in rows:
        cells = [
            " ".join(unescape(re.sub(r"<[^>]+>", "", c)).split())
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        ]
        if cells and cells[0].startswith("chapters/"):
            chapters[cells[0]] = cells
    assert len(chapters) == len([p for p in built_pages() if p.startswith("chapters/")]), chapters
    missing = [name for name, cells in chapters.items() if not re.fullmatch(r"[\d.]+", cells[3])]
    assert not missing, f"no run time for {missing}"


def test_the_landing_page_maps_every_chapter(open_page):
    """The chapter map: every chapter of the book, its algorithm boxes (numbered links), and its
    run time from the execution data."""
    page = open_page("intro.html", LAPTOP)
    rows = page.locator("table.rlbook-chapter-map tbody tr")
    chapters = [p for p in built_pages() if p.startswith("chapters/")]
    assert rows.count() == len(chapters)
    boxes = page.locator("table.rlbook-chapter-map a", has_text=re.compile(r"^Algorithm \d+$"))
    in_book = sum(
        len(re.findall(r'class="[^"]*\bproof\b[^"]*\balgorithm\b', (HTML / p).read_text()))
        for p in chapters
    )
    assert boxes.count() == in_book > 0, (boxes.count(), in_book)
    times = rows.locator("td:last-child").all_inner_texts()
    assert all(re.fullmatch(r"[\d.]+ s", t) for t in times), times
