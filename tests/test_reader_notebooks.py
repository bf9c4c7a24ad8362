"""Each chapter's notebook (``chapters/NAME.ipynb``, what Colab, the download button, JupyterLab
and nbval open) is generated from its ``.md`` by ``tools/reader_notebooks.py``, is up to date,
has the chapter's code cells, and reads like the page when a plain front end renders it.

"Renders" is nbconvert's HTML of the notebook, with the cells JupyterLab and Colab hide hidden
(``tests/notebook_html.py``); ``tests/browser/test_notebooks_in_a_browser.py`` opens the same HTML in
Chromium with the book's MathJax and checks the math and the numbers against the built book.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import notebook_html as h
import pytest
from myst_nb.core.read import read_myst_markdown_notebook
from myst_parser.config.main import MdParserConfig
from sphinx.directives.code import LiteralIncludeReader

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))
BOOK = h.book()


def problems(md: Path, nb: nbformat.NotebookNode) -> list[str]:
    """Everything in ``nb``, rendered, that does not read like the page of ``md``."""
    found = []
    html = h.render(nb)
    page = h.soup(html)
    prose = h.prose_text(html)
    raw = sorted({m.group(0).strip() for m in h.RAW.finditer(prose)})
    if raw:
        found.append(f"raw MyST markup in the rendered text: {raw}")
    fences = sorted({c for n in page.select("code[class]") for c in n["class"] if "{" in c})
    if fences:
        found.append(f"directives rendered as code blocks: {fences}")
    want = h.expected(md)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("---"):
            found.append(
                f"a Markdown cell starts with ---, front matter to MyST: {cell.source[:40]!r}"
            )

    ids = {n.get("id") for n in page.find_all(id=True)}
    for number, label, title in want["algorithms"]:
        heads = [
            q.find("strong").get_text(" ")
            for q in page.find_all("blockquote")
            if q.find("strong") and q.find("strong").get_text().startswith("Algorithm")
        ]
        shown = [t for t in heads if h.words(t) == h.words(f"Algorithm {number} {title}")]
        if not shown:
            found.append(f"no box 'Algorithm {number} ({title})' (boxes: {heads})")
        if label not in ids:
            found.append(f"no anchor for algorithm {label}")
    for number, label in want["equations"]:
        if f"\\tag{{{number}}}" not in html or label not in ids:
            found.append(f"equation {label} is not shown as ({number})")
    pre = [re.sub(r"\s+", " ", p.get_text()) for p in page.find_all("pre")]

    class Config:
        source_encoding = "utf-8-sig"

    for path, pyobject in want["includes"]:
        options = {"pyobject": pyobject} if pyobject else {}
        code, _ = LiteralIncludeReader(str(path), options, Config()).read()
        code = re.sub(r"\s+", " ", code).strip()
        if not any(code in p for p in pre):
            found.append(f"included code missing: {path.name} {pyobject}")
    for key in want["cited"]:
        if f"cite-{key}" not in ids or not page.find("a", href=f"#cite-{key}"):
            found.append(f"citation {key} is not resolved to the references list")
    for a in page.find_all("a", href=True):
        href = a["href"]
        if href.startswith("#") and href[1:] not in ids:
            found.append(f"link to a missing anchor: {href}")
        m = re.fullmatch(r"([\w-]+)\.ipynb(?:#(.+))?", href)
        if m:
            other = md.parent / f"{m[1]}.ipynb"
            if not other.exists():
                found.append(f"link to a missing notebook: {href}")
            elif m[2] and f'id="{m[2]}"' not in other.read_text(encoding="utf8").replace(
                '\\"', '"'
            ):
                found.append(f"link to a missing anchor: {href}")
        if re.search(r"\.md(#|$)", href) and not href.startswith("http"):
            found.append(f"link to a .md file, which a notebook reader does not have: {href}")

    visible = h.words(h.visible_text(html))
    everything = h.words(page.get_text(" "))
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for kind, text in want["solutions"]:
        if kind == "code":
            cell = next((c for c in code_cells if c.source == text), None)
            meta = cell.metadata if cell is not None else {}
            hidden = meta.get("jupyter", {})
            if not (hidden.get("source_hidden") and meta.get("cellView") == "form"):
                found.append(f"solution code is not hidden: {text[:50]!r}")
            if hidden.get("outputs_hidden") is not True:
                found.append(f"solution output is not hidden: {text[:50]!r}")
            continue
        for run in h.tell_tale(text):
            if run in visible:
                found.append(f"solution shown: {run!r}")
            elif run not in everything:
                found.append(f"solution missing from the notebook: {run!r}")
    return found


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_notebook_is_generated_from_the_md(md):
    """Stale or hand-edited notebooks fail: `make sync` writes them from the .md."""
    ipynb = md.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} is missing: run `make sync`"
    fresh = h.rn.dumps(h.rn.reader_notebook(md, BOOK))
    assert ipynb.read_text(encoding="utf8") == fresh, f"{ipynb.name} is stale: run `make sync`"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_code_cells_are_the_chapters(md):
    """What nbval runs and a student runs is the book's code, cell for cell: the code cells the
    book reads from the .md (myst-nb's reader), in order, with the same source and tags."""
    config = MdParserConfig(enable_extensions=set(BOOK.config["parse"]["myst_enable_extensions"]))
    book_nb = read_myst_markdown_notebook(md.read_text(encoding="utf8"), config=config, path=md)
    nb = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    ours = [c for c in nb.cells if c.cell_type == "code"]
    theirs = [c for c in book_nb.cells if c.cell_type == "code"]
    assert [c.source.strip() for c in ours] == [c.source.strip() for c in theirs]
    assert [c.metadata.get("tags", []) for c in ours] == [
        c.metadata.get("tags", []) for c in theirs
    ]
    for cell in ours:  # the page folds these cells' code and shows their figures: so does this
        if "hide-input" in cell.metadata.get("tags", []):
            assert cell.metadata["jupyter"] == {"source_hidden": True}
            assert cell.metadata["cellView"] == "form"
    # Colab: the title, then the cell that installs rlbook; no jupytext pairing to overwrite the .md
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert nb.cells[1].cell_type == "code" and '"google.colab" in sys.modules' in nb.cells[1].source
    assert "jupytext" not in nb.metadata
    assert "ipynb" not in jupytext.read(md).metadata["jupytext"].get("formats", "")


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_notebook_reads_like_the_page(md):
    nb = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    assert problems(md, nb) == []


def test_the_check_fails_on_the_chapters_markup():
    """The check above, on the chapter as a plain jupytext notebook (what the launch button used
    to open): raw directives and roles, no numbered box, no included code, solutions shown."""
    md = ROOT / "chapters" / "ddpg.md"
    found = "\n".join(problems(md, jupytext.read(md)))
    for symptom in (
        "raw MyST markup",
        "{prf:ref}",
        "{cite}",
        "directives rendered as code blocks",
        "no box 'Algorithm 8",
        "included code missing: ddpg.py DDPG.update",
        "citation lillicrap2015continuous is not resolved",
        "solution code is not hidden",
        "solution shown",
    ):
        assert symptom in found, f"{symptom!r} not reported:\n{found}"


def test_a_new_directive_stops_the_generator(tmp_path):
    """A construct the generator does not render never reaches a student as raw markup."""
    renderer = h.rn.Renderer(BOOK, "chapters/ddpg")
    with pytest.raises(ValueError, match="margin"):
        renderer.blocks("```{margin}\nA note.\n```", {})
    with pytest.raises(ValueError, match="unresolved"):
        renderer.blocks("See {prf:ref}`no-such-box`.", {})


def test_a_glued_number_is_the_builds_value_in_downloads_and_its_name_otherwise():
    text = "The bias ends at {glue:text}`td3_bias:.1f` after {glue:text}`steps:d` steps."
    committed = h.rn.Renderer(BOOK, "chapters/td3").blocks(text, {})
    assert committed.strip() == "The bias ends at `td3_bias` after `steps` steps."
    executed = h.rn.Renderer(BOOK, "chapters/td3", {"td3_bias": "-6.3125", "steps": "6000"})
    assert executed.blocks(text, {}).strip() == "The bias ends at -6.3 after 6000 steps."
    outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"application/papermill.record/text/plain": "-6.3125"},
            metadata={
                "scrapbook": {"name": "td3_bias", "mime_prefix": "application/papermill.record/"}
            },
        )
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("", outputs=outputs)])
    assert h.rn.glued_values(nb) == {"td3_bias": "-6.3125"}
