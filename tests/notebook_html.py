"""A chapter's notebook as a plain front end shows it, and what the .md says it must show.

``render`` is nbconvert's HTML of the notebook (its Markdown rendered by nbconvert's Markdown
renderer, math left to MathJax) with what JupyterLab, VS Code and Colab hide hidden: the source
of a cell with ``metadata.jupyter.source_hidden`` (Colab: ``cellView: form``), and its outputs
with ``outputs_hidden``. ``visible_text`` is its text less folded ``<details>`` blocks. ``expected``
reads the chapter's ``.md``: its algorithm boxes, labelled equations, included code, citations and
solutions, which the rendered notebook must show (or hide).
"""

from __future__ import annotations

import copy
import functools
import re
import sys
from pathlib import Path

import jupytext
import nbformat
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import reader_notebooks as rn  # noqa: E402

#: markup of the book that no front end renders: fenced directives, roles, directive options
RAW = re.compile(
    r"(`{3,}|:{3,})\s*\{[\w:-]+\}|\{(prf:ref|ref|numref|eq|cite|cite:[a-z]+|doc|math|download)\}"
    r"|^:(label|class|pyobject|tags):|:::|\(\w[\w-]*\)=$|\*\*\w|<a id=|<details",
    re.M,
)


def render(nb: nbformat.NotebookNode) -> str:
    from nbconvert import HTMLExporter

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        hidden = cell.metadata.get("jupyter", {})
        if cell.cell_type == "code":
            colab_form = cell.metadata.get("cellView") == "form"
            if hidden.get("source_hidden") or colab_form:
                cell.transient = {"remove_source": True}
            if hidden.get("outputs_hidden"):
                cell.outputs = []
    exporter = HTMLExporter(template_name="basic")
    html, _ = exporter.from_notebook_node(nb)
    return html


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def visible_text(html: str) -> str:
    """The text a reader sees before opening anything: folded <details> keep their summary."""
    s = soup(html)
    for details in s.find_all("details"):
        if details.get("open") is None:
            for child in list(details.children):
                if getattr(child, "name", None) != "summary":
                    child.extract()
    return s.get_text(" ")


def prose_text(html: str) -> str:
    """The rendered text outside code: code cells, code blocks and inline code removed."""
    s = soup(html)
    for node in s.select("pre, code, .jp-InputArea, .jp-OutputArea, .input_area"):
        node.decompose()
    return s.get_text(" ")


def words(text: str) -> str:
    text = re.sub(r"\$[^$]*\$", " ", text)
    return " ".join(re.findall(r"[A-Za-z]+", text)).lower()


@functools.cache
def book() -> rn.Book:
    return rn.load_book()


def expected(md: Path) -> dict:
    """What the chapter's page shows, read from its .md with the generator's own parser."""
    book_ = book()
    doc = md.relative_to(ROOT).with_suffix("").as_posix()
    nb = jupytext.read(md)
    algorithms, equations, includes, cited, solutions = [], [], [], [], []
    in_solution = False
    for cell in nb.cells:
        if cell.cell_type == "code":
            if in_solution:
                solutions.append(("code", cell.source))
            continue
        for b in rn.walk(rn.parse_blocks(cell.source)):
            if isinstance(b, rn.Directive):
                if b.name == "prf:algorithm":
                    entry = book_.labels[b.options["label"]]
                    algorithms.append((entry.number, b.options["label"], b.arg))
                elif b.name == "literalinclude":
                    includes.append(((md.parent / b.arg).resolve(), b.options.get("pyobject")))
                elif b.name == "solution":
                    solutions.append(("markdown", b.body))
                elif b.name == "solution-start":
                    in_solution = True
                elif b.name == "solution-end":
                    in_solution = False
            elif isinstance(b, rn.Math) and b.label:
                equations.append((book_.labels[b.label].number, b.label))
            elif isinstance(b, str):
                for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", b):
                    cited += [k.strip() for k in group.split(",")]
            if in_solution and isinstance(b, str) and b.strip():
                solutions.append(("markdown", b))
    return {
        "doc": doc,
        "algorithms": algorithms,
        "equations": equations,
        "includes": includes,
        "cited": sorted(set(cited)),
        "solutions": solutions,
    }


def tell_tale(text: str, n: int = 8) -> list[str]:
    """Runs of ``n`` words of a solution's prose (math left out), to look for in a page's text."""
    prose = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    prose = re.sub(r"\]\([^)]*\)", "]", prose)  # a link's target is not shown
    # a glued number shows as its name in the committed notebook (tools/reader_notebooks.py)
    prose = re.sub(r"\{glue(?::\w+)?\}`([^`:]*)[^`]*`", r" \1 ", prose)
    prose = re.sub(r"\{[\w:-]+\}`[^`]*`", " ", prose)  # nor another role's markup
    runs = []
    for para in re.split(r"\n\s*\n", prose):
        w = words(re.sub(r"`([^`]*)`", r" \1 ", para)).split()  # inline code shows its text
        if len(w) >= n:
            runs.append(" ".join(w[:n]))
    return runs
