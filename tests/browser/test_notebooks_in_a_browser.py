"""Each chapter's notebook in a plain front end, and its numbers against the built book.

A plain front end: nbconvert's HTML of ``chapters/NAME.ipynb`` (``tests/notebook_html.py``:
Markdown rendered, the cells JupyterLab and Colab hide hidden), typeset by the book's own offline
MathJax (``web/dist``, configured as JupyterLab configures it: ``$``/``$$`` delimiters, no
macros) in headless Chromium with every non-local request aborted. Each page must typeset with
no MathJax error and no ``$`` left untypeset, show no solution (Chromium's ``innerText`` leaves
out folded ``<details>``), and show the numbers the built book shows (``_build/html``): every
algorithm box, exercise and labelled equation with the page's number. Screenshots land in
``screenshots/notebooks/``.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading

import nbformat
import notebook_html as h
import pytest
from bs4 import BeautifulSoup

from browser_support import HTML, ROOT, SHOTS

CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))
SHOT_DIR = SHOTS / "notebooks"

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<script>
window.MathJax = {{
  tex: {{inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]], displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]],
        processEscapes: true, processEnvironments: true}},
  options: {{ignoreHtmlClass: "tex2jax_ignore", processHtmlClass: "tex2jax_process"}},
  startup: {{typeset: true}}
}};
</script>
<script src="mathjax/tex-mml-chtml.js"></script>
<style>
body {{ font-family: sans-serif; max-width: 60rem; margin: 1rem auto; }}
blockquote {{ border-left: 4px solid #ccc; margin-left: 0; padding-left: 1rem; }}
pre {{ background: #f6f6f6; padding: 0.5rem; overflow-x: auto; }}
</style></head>
<body>{body}</body></html>
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def notebook_server(tmp_path_factory):
    site = tmp_path_factory.mktemp("notebooks")
    (site / "mathjax").symlink_to(ROOT / "web" / "dist" / "mathjax")
    for md in CHAPTERS:
        nb = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
        body = BeautifulSoup(h.render(nb), "html.parser")
        inner = body.body.decode_contents() if body.body else str(body)
        (site / f"{md.stem}.html").write_text(
            PAGE.format(title=md.stem, body=inner), encoding="utf8"
        )
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _open(browser, url: str):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    failed = []

    def route(r):
        if r.request.url.startswith("http://127.0.0.1"):
            r.continue_()
        else:
            failed.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(url)
    page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("MathJax.startup.promise")
    return page, failed


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_notebook_renders_in_a_plain_front_end(browser, notebook_server, md):
    page, failed = _open(browser, f"{notebook_server}/{md.stem}.html")
    try:
        assert not failed, f"requests outside the page: {failed}"
        errors = page.eval_on_selector_all("mjx-merror", "els => els.map(e => e.textContent)")
        assert not errors, f"MathJax errors: {errors}"
        assert page.locator("mjx-container").count() > 0
        text = page.evaluate(
            """() => { const b = document.body.cloneNode(true);
                b.querySelectorAll('pre, code').forEach(e => e.remove());
                document.documentElement.appendChild(b); const t = b.innerText; b.remove();
                return t; }"""
        )
        untypeset = re.findall(r"\$[^$\n]{1,80}\$", text)
        assert not untypeset, f"math left untypeset: {untypeset[:5]}"
        seen = h.words(page.evaluate("document.body.innerText"))
        for kind, solution in h.expected(md)["solutions"]:
            if kind == "markdown":
                for run in h.tell_tale(solution):
                    assert run not in seen, f"a solution is visible: {run!r}"
        want = h.expected(md)
        for number, _label in want["equations"]:
            tags = page.eval_on_selector_all("mjx-mtd mjx-mtext, mjx-labels", "e => e.length")
            assert tags, "no equation number typeset"
            assert (
                f"({number})" in page.evaluate("document.body.innerText")
                or page.locator(f"mjx-container:has-text('({number})')").count()
            ), f"equation ({number}) not shown"
        SHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOT_DIR / f"{md.stem}.png"))
        boxes = page.locator("blockquote:has(strong:text-matches('^Algorithm \\\\d+'))")
        if boxes.count():
            boxes.first.scroll_into_view_if_needed()
            boxes.first.screenshot(path=str(SHOT_DIR / f"{md.stem}-algorithm.png"))
    finally:
        page.close()


def _numbers_in_book(name: str) -> dict[str, str]:
    page = BeautifulSoup((HTML / "chapters" / f"{name}.html").read_text("utf8"), "html.parser")
    found = {}
    for div in page.select("div.proof.algorithm[id], div.exercise[id]"):
        caption = div.select_one(".caption-number")
        if caption:
            found[div["id"]] = caption.get_text().strip()
    for div in page.select("div.math[id^=equation-]"):
        eqno = div.select_one(".eqno")
        if eqno:
            number = eqno.find(string=True).strip()  # the text before the "#" permalink
            found[div["id"].removeprefix("equation-")] = number
    return found


def _numbers_in_notebook(md) -> dict[str, str]:
    nb = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    found = {}
    # (a long display equation runs past 400 characters before its \\tag)
    for label, rest in re.findall(r'<a id="([\w-]+)"></a>\n+(?=(.{0,1500}))', text, flags=re.S):
        box = re.match(r"(?:> )?\*\*((?:Algorithm|Exercise) \d+)", rest)
        # the \tag of the display that starts here, not of a later one
        tag = re.match(r"\$\$(?:(?!\$\$).)*?\\tag\{(\d+)\}\n\$\$", rest, flags=re.S)
        if box:
            found[label] = box[1]
        elif tag:
            found[label] = f"({tag[1]})"
    return found


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_numbers_match_the_built_book(md):
    if not (HTML / "chapters" / f"{md.stem}.html").exists():
        pytest.fail("the book is not built: run `make book` first (make test does)")
    book = _numbers_in_book(md.stem)
    ours = {label.lower(): number for label, number in _numbers_in_notebook(md).items()}
    assert ours == book  # Sphinx writes ids in lower case


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_download_button_hands_out_the_notebook_for_readers(md):
    """The page's .ipynb download (sphinx-book-theme writes the executed MyST notebook there;
    `make book` replaces it, tools/reader_notebooks.py --downloads) is chapters/NAME.ipynb with
    the build's outputs: the same cells, Markdown, code and metadata."""
    page = BeautifulSoup((HTML / "chapters" / f"{md.stem}.html").read_text("utf8"), "html.parser")
    link = page.select_one("a.btn-download-notebook-button")
    href = link.get("href") if link else None
    assert href == f"../_sources/chapters/{md.stem}.ipynb", href
    handed = nbformat.read(HTML / "_sources" / "chapters" / f"{md.stem}.ipynb", as_version=4)
    ours = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    assert [(c.cell_type, c.source, c.metadata) for c in handed.cells] == [
        (c.cell_type, c.source, c.metadata) for c in ours.cells
    ], "the download is not the notebook for readers: run `make book`"
