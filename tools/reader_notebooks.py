"""Write each chapter's notebook for readers: ``chapters/NAME.md`` -> ``chapters/NAME.ipynb``.

    python tools/reader_notebooks.py            write every chapter's notebook (``make sync``)
    python tools/reader_notebooks.py --check    exit 1, naming them, if any is stale
    python tools/reader_notebooks.py --downloads _build/html    the download button's notebooks

The ``.md`` is the one source. The ``.ipynb`` beside it is what Colab's launch button opens, what
the download button hands out, what a student opens in JupyterLab, VS Code or on GitHub, and what
nbval runs (``tools/colab_alone.sh``). It is not a jupytext pair: its Markdown is the book's
MyST markup rewritten as Markdown that any front end renders, with the numbers the HTML book
shows, and its code cells are the chapter's, one for one (same source, same tags).

* Algorithm boxes (``prf:algorithm``): a blockquote headed "Algorithm N (title)", numbered as
  sphinx-proof numbers them (Sphinx's numfig without section numbers: one counter per kind
  through the whole book, in ``_toc.yml`` order).
* Labelled display equations: ``\\tag{N}`` inside the math (Sphinx numbers them through the
  book the same way; a numbered ``align`` consumes a number, as it does there, and shows none).
* ``{prf:ref}``, ``{ref}``, ``{numref}``, ``{eq}``: the text the book shows ("Algorithm 6",
  "Exercise 3", a section's title, "(12)"), linked to the anchor in this notebook or to the other
  chapter's notebook (or to the online book, if ``html.baseurl`` is set in ``_config.yml``).
  The book's "Algorithm {prf:ref}`x`" reads "Algorithm Algorithm 6" on the page; here the word
  is not repeated.
* ``{glue:text}`name:FORMAT```: a number a cell computes (``rlbook.prose.glue``): in the
  notebook for downloads (the build's outputs beside it), the build's value, formatted; in the
  committed notebook, ``name`` in code font, which the cell prints as ``name = value`` when run.
* ``{cite}``: sphinxcontrib-bibtex's own author-year style on ``references.bib`` (the text the
  page shows), linked to a references list at the end of the notebook (pybtex's plain style).
* Admonitions: a blockquote headed by the title; dropdown admonitions (the "code of this
  algorithm" boxes) a ``<details>`` block, folded as on the page.
* ``literalinclude``: the package code, read by Sphinx's own reader (same ``:pyobject:`` cut as
  the page), pasted in as a fenced Python block.
* Exercises: "Exercise N (title)", then its text, skeleton and checker as in the chapter.
  Solutions are never shown: a Markdown solution is a ``<details>`` block (folded in Colab,
  JupyterLab, VS Code and on GitHub); a solution's code cells keep their place and source (nbval
  runs them) and are hidden: ``metadata.jupyter.source_hidden`` and ``outputs_hidden`` (JupyterLab,
  VS Code) and ``"cellView": "form"`` (Colab: the cell shows only a "Show code" button). Cells
  tagged ``hide-input`` have their code hidden the same way, their outputs shown, as on the page.
* The book's MathJax macros (``_config.yml``) are expanded, since a front end knows none of them.

Anything the generator does not know (another directive or role) stops it with an error, so a
new construct in a chapter cannot reach students as raw markup.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
GENERATOR = "tools/reader_notebooks.py"

# ---------------------------------------------------------------------------------------------
# Block structure of MyST Markdown: directives (``` or ::: fences), display math, targets.

OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|:{3,}|~{3,})(?P<info>.*)$")
DIRECTIVE_INFO = re.compile(r"^\s*\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*?)\s*$")
TARGET = re.compile(r"^\((?P<label>[\w:.-]+)\)=\s*$")
MATH_CLOSE = re.compile(r"\$\$\s*(?:\((?P<label>[\w:.-]+)\))?\s*$")
AMSMATH = re.compile(
    r"^\\begin\{(?P<env>align|equation|gather|multline|alignat|flalign)(?P<star>\*?)\}"
)


@dataclass
class Directive:
    name: str
    arg: str
    options: dict
    body: str
    fence: str


@dataclass
class Math:
    content: str
    label: str | None


@dataclass
class AmsMath:
    content: str
    numbered: bool


@dataclass
class Target:
    label: str


@dataclass
class CodeFence:
    text: str


def parse_blocks(text: str) -> list:
    """Split MyST Markdown into text (str), Directive, Math, AmsMath, Target and CodeFence."""
    lines = text.split("\n")
    out, buf, i = [], [], 0

    def flush():
        if buf:
            out.append("\n".join(buf))
            buf.clear()

    while i < len(lines):
        line = lines[i]
        m = OPEN.match(line)
        if m:
            fence, char = m["fence"], m["fence"][0]
            close = re.compile(rf"^ {{0,3}}{re.escape(char)}{{{len(fence)},}}\s*$")
            j = i + 1
            while j < len(lines) and not close.match(lines[j]):
                j += 1
            body = lines[i + 1 : j]
            flush()
            d = DIRECTIVE_INFO.match(m["info"])
            if d and char != "~":
                options, k = {}, 0
                while k < len(body) and re.match(r"^:[\w-]+:", body[k]):
                    key, _, value = body[k][1:].partition(":")
                    options[key] = value.strip()
                    k += 1
                out.append(Directive(d["name"], d["arg"], options, "\n".join(body[k:]), fence))
            else:
                out.append(CodeFence("\n".join(lines[i : j + 1])))
            i = j + 1
            continue
        if TARGET.match(line):
            flush()
            out.append(Target(TARGET.match(line)["label"]))
            i += 1
            continue
        if line.lstrip().startswith("$$"):
            flush()
            first = line.lstrip()[2:]
            j, content = i, [first]
            closed = MATH_CLOSE.search(first)
            while not closed:
                j += 1
                if j >= len(lines):
                    raise ValueError(f"unclosed $$ at: {line[:60]}")
                content.append(lines[j])
                closed = MATH_CLOSE.search(lines[j])
            content[-1] = content[-1][: closed.start()]
            out.append(Math("\n".join(content).strip("\n"), closed["label"]))
            i = j + 1
            continue
        a = AMSMATH.match(line)
        if a:
            flush()
            end = rf"\end{{{a['env']}{a['star']}}}"
            j = i
            while end not in lines[j]:
                j += 1
            out.append(AmsMath("\n".join(lines[i : j + 1]), not a["star"]))
            i = j + 1
            continue
        buf.append(line)
        i += 1
    flush()
    return out


def walk(blocks):
    """Every block in document order, directives' bodies included."""
    for b in blocks:
        yield b
        if isinstance(b, Directive) and b.name not in ("literalinclude", "code-cell"):
            yield from walk(parse_blocks(b.body))


HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.M)

# ---------------------------------------------------------------------------------------------
# The book's numbering and targets, read from every document in the table of contents.


@dataclass
class Entry:
    kind: str  # algorithm, exercise, equation, section, target, figure
    doc: str  # chapters/ddpg
    number: int | None = None
    title: str = ""


@dataclass
class Book:
    docs: list[str]
    labels: dict[str, Entry] = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    bib: object = None
    cite_style: object = None
    formatted: dict = field(default_factory=dict)


def toc_docs() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf8"))
    docs = [toc["root"]]

    def add(items):
        for item in items:
            if "file" in item:
                docs.append(item["file"])
            add(item.get("sections", []))

    for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]):
        add(part.get("chapters", []))
    return docs


def figures_of(doc: str) -> list[tuple[str, str]]:
    """``(label, caption)`` of each figure of a document, in order: the code cells whose metadata
    names a myst-nb figure (``mystnb: figure: name:``)."""
    path = ROOT / f"{doc}.md"
    if not path.exists():
        return []
    found = []
    for cell in jupytext.read(path).cells:
        figure = (cell.metadata.get("mystnb") or {}).get("figure") or {}
        if cell.cell_type == "code" and figure.get("name"):
            found.append((figure["name"], str(figure.get("caption", "")).strip()))
    return found


def markdown_of(doc: str) -> str:
    """The Markdown of a document, code cells left out."""
    path = ROOT / f"{doc}.md"
    if not path.exists():
        return ""
    nb = jupytext.read(path)
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def load_book() -> Book:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf8"))
    book = Book(docs=toc_docs(), config=config)
    counters = {"algorithm": 0, "exercise": 0, "equation": 0, "figure": 0}
    for doc in book.docs:
        for label, caption in figures_of(doc):  # numbered through the book, as Sphinx's numfig
            counters["figure"] += 1
            if label in book.labels:
                raise ValueError(f"label {label!r} defined twice ({doc})")
            book.labels[label] = Entry("figure", doc, counters["figure"], caption)
        blocks = list(walk(parse_blocks(markdown_of(doc))))
        for i, b in enumerate(blocks):
            entry = None
            if isinstance(b, Directive) and b.name == "prf:algorithm":
                label = b.options.get("label")
                if "nonumber" not in b.options:
                    counters["algorithm"] += 1
                entry = Entry("algorithm", doc, counters["algorithm"], b.arg)
            elif isinstance(b, Directive) and b.name in ("exercise", "exercise-start"):
                label = b.options.get("label")
                if "nonumber" not in b.options:
                    counters["exercise"] += 1
                entry = Entry("exercise", doc, counters["exercise"], b.arg)
            elif isinstance(b, Math) and b.label:
                label = b.label
                counters["equation"] += 1
                entry = Entry("equation", doc, counters["equation"])
            elif isinstance(b, AmsMath) and b.numbered:
                counters["equation"] += 1  # numbered (an id) but shows no number on the page
            elif isinstance(b, Target):
                label = b.label
                nxt = blocks[i + 1] if i + 1 < len(blocks) else ""
                heading = HEADING.match(nxt.lstrip("\n")) if isinstance(nxt, str) else None
                after = next(
                    (x for x in blocks[i + 1 :] if not (isinstance(x, str) and not x.strip())), ""
                )
                if isinstance(after, Math) and not after.label:
                    # a target on an unlabelled display equation gives it an id, and Sphinx
                    # numbers every display equation with an id (no number is shown for it)
                    counters["equation"] += 1
                if heading:
                    entry = Entry("section", doc, title=heading[2])
                elif isinstance(nxt, Directive) and nxt.name == "admonition":
                    entry = Entry("target", doc, title=nxt.arg)
                else:
                    entry = Entry("target", doc)
            if entry is not None and label:
                if label in book.labels:
                    raise ValueError(f"label {label!r} defined twice ({doc})")
                book.labels[label] = entry
    load_bibliography(book)
    return book


def load_bibliography(book: Book) -> None:
    import pybtex.plugin
    from pybtex.database import parse_file
    from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

    files = book.config.get("bibtex_bibfiles", ["references.bib"])
    book.bib = parse_file(str(ROOT / files[0]))
    sphinx_config = book.config.get("sphinx", {}).get("config", {})
    if sphinx_config.get("bibtex_reference_style", "label") != "author_year":
        raise ValueError("only bibtex_reference_style: author_year is rendered")
    style = sphinx_config.get("bibtex_default_style", "alpha")
    formatter = pybtex.plugin.find_plugin("pybtex.style.formatting", style)()
    book.formatted = {e.key: e for e in formatter.format_entries(book.bib.entries.values())}
    book.cite_style = AuthorYearReferenceStyle()


# ---------------------------------------------------------------------------------------------
# Inline roles and math.

ROLE_OR_CODE = re.compile(
    r"(?P<role>\{(?P<name>[\w:-]+)\})?(?P<ticks>`+)(?P<code>.+?)(?P=ticks)", re.S
)
EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)
INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)(?P<m>[^$]+?)(?<!\\)\$")


class Renderer:
    def __init__(self, book: Book, doc: str, glued: dict[str, str] | None = None):
        self.book = book
        self.doc = doc
        self.glued = glued  # name -> text/plain of the executed notebook's glue, if there is one
        self.glued_names: list[str] = []  # the glue roles met, in order
        self.cited: list[str] = []
        sphinx = book.config.get("sphinx", {}).get("config", {})
        self.macros = sphinx.get("mathjax3_config", {}).get("tex", {}).get("macros", {})
        self.baseurl = (book.config.get("html", {}) or {}).get("baseurl", "")

    # -- links --------------------------------------------------------------------------------
    def href(self, label: str) -> str:
        target = self.book.labels[label].doc
        if target == self.doc:
            return f"#{label}"
        if self.baseurl:
            return f"{self.baseurl.rstrip('/')}/{target}.html#{label}"
        if Path(target).parent != Path(self.doc).parent:
            raise ValueError(f"{self.doc}: {label!r} is in {target}, which has no notebook")
        return f"{Path(target).name}.ipynb#{label}"

    def label(self, label: str, kinds: tuple[str, ...]) -> Entry:
        entry = self.book.labels.get(label)
        if entry is None or entry.kind not in kinds:
            raise ValueError(f"{self.doc}: unresolved reference to {label!r} (expected {kinds})")
        return entry

    # -- roles --------------------------------------------------------------------------------
    def role(self, name: str, content: str, before: str) -> tuple[str, int]:
        """Markdown for one role, and how many characters of ``before`` it replaces."""
        explicit = EXPLICIT.match(content)
        text, target = (explicit["text"], explicit["target"]) if explicit else (None, content)
        if name == "prf:ref":
            entry = self.label(target, ("algorithm",))
            if text:
                return f"[{text}]({self.href(target)})", 0
            word = re.search(r"(Algorithm)\s$", before)
            shown = f"Algorithm {entry.number}"
            return f"[{shown}]({self.href(target)})", len(word[0]) if word else 0
        if name in ("ref", "numref"):
            kinds = ("algorithm", "exercise", "section", "target", "equation", "figure")
            entry = self.label(target, kinds)
            if text and name == "ref":
                return f"[{self.inline(text)}]({self.href(target)})", 0
            if entry.kind == "exercise" or name == "numref":
                kind = {"exercise": "Exercise", "algorithm": "Algorithm", "figure": "Fig."}.get(
                    entry.kind
                )
                if kind is None or entry.number is None:
                    raise ValueError(f"{self.doc}: cannot number {target!r}")
                fmt = text.replace("%s", str(entry.number)) if text else f"{kind} {entry.number}"
                word = re.search(rf"({re.escape(kind)})\s$", before, flags=re.I)
                if word and not text:
                    fmt = f"{word[1]} {entry.number}"
                return f"[{fmt}]({self.href(target)})", len(word[0]) if word and not text else 0
            if not entry.title:
                raise ValueError(f"{self.doc}: {{ref}} to {target!r}, which has no title")
            return f"[{self.inline(entry.title)}]({self.href(target)})", 0
        if name == "eq":
            entry = self.label(target, ("equation",))
            return f"[({entry.number})]({self.href(target)})", 0
        if name in ("cite", "cite:p", "cite:t", "cite:ps", "cite:ts"):
            role = "p" if name == "cite" else name.split(":")[1]
            return self.cite(role, [k.strip() for k in content.split(",")]), 0
        if name == "math":
            return f"${self.expand(content)}$", 0
        if name in ("glue", "glue:text"):
            return self.glue(content), 0
        raise ValueError(f"{self.doc}: the role {{{name}}} is not rendered for notebooks")

    def glue(self, content: str) -> str:
        """A number the chapter's cell computed (rlbook.prose.glue): the executed notebook's
        value, formatted as the book formats it; without one, the name, in code, which the
        cell prints as ``name = value`` when it runs outside the book's build."""
        key, _, spec = content.partition(":")
        self.glued_names.append(key)
        if self.glued is None or key not in self.glued:
            return f"`{key}`"
        from myst_nb.core.variables import format_plain_text  # the book's own formatting

        return format_plain_text(self.glued[key], spec)

    def cite(self, role: str, keys: list[str]) -> str:
        from pybtex.backends.markdown import Backend
        from sphinxcontrib.bibtex.style.referencing import format_references
        from sphinxcontrib.bibtex.style.template import SphinxReferenceInfo, SphinxReferenceText

        missing = [k for k in keys if k not in self.book.bib.entries]
        if missing:
            raise ValueError(f"{self.doc}: not in references.bib: {missing}")
        for k in keys:
            if k not in self.cited:
                self.cited.append(k)
        refs = [
            (
                self.book.bib.entries[k],
                self.book.formatted[k],
                SphinxReferenceInfo(None, self.doc, "", f"cite-{k}", None, "", ""),
            )
            for k in keys
        ]
        backend = Backend()
        original = SphinxReferenceText.render

        def render(self, backend):  # a Markdown link to the notebook's references list
            inner = "".join(part.render(backend) for part in self.parts)
            return f"[{inner}](#{self.info[0].citation_id})"

        SphinxReferenceText.render = render
        try:
            text = format_references(self.book.cite_style, role, refs).render(backend)
        finally:
            SphinxReferenceText.render = original
        return unescape(text)

    def expand(self, tex: str) -> str:
        for name, value in self.macros.items():
            if not isinstance(value, str):
                raise ValueError(f"macro {name} with arguments is not expanded")
            tex = re.sub(rf"\\{name}(?![A-Za-z])", lambda _m, v=value: v, tex)
        return tex

    def inline(self, text: str) -> str:
        """Roles resolved, inline math's macros expanded, links to .md made links to .ipynb."""
        out, pos = [], 0
        for m in ROLE_OR_CODE.finditer(text):
            chunk = self.prose(text[pos : m.start()])
            if m["role"]:
                md, eat = self.role(m["name"], m["code"], chunk)
                out.append(chunk[: len(chunk) - eat] + md)
            else:
                out.append(chunk + m[0])
            pos = m.end()
        out.append(self.prose(text[pos:]))
        return "".join(out)

    def prose(self, text: str) -> str:
        text = INLINE_MATH.sub(lambda m: f"${self.expand(m['m'])}$", text)
        return re.sub(r"\]\(([\w./-]+)\.md(#[\w-]+)?\)", r"](\1.ipynb\2)", text)

    # -- blocks -------------------------------------------------------------------------------
    def blocks(self, text: str, state: dict) -> str:
        """Markdown of MyST ``text``; what lies inside a solution (``state["solution"]``, set by
        solution-start and cleared by solution-end) is folded into a <details> block."""
        parts, folded = [], []

        def fold():
            body = "\n".join(folded).strip()
            if body:
                parts.append(details(folding, body))
            folded.clear()

        folding = None
        for b in parse_blocks(text):
            rendered = self.block(b, state)
            if state.get("solution") and folding == state["solution"]:
                folded.append(rendered)
                continue
            fold()
            parts.append(rendered)
            folding = state.get("solution")
        fold()
        return "\n".join(parts)

    def block(self, b, state: dict) -> str:
        if isinstance(b, str):
            return self.inline(b)
        if isinstance(b, CodeFence):
            return b.text
        if isinstance(b, Target):
            return anchor(b.label)
        if isinstance(b, Math):
            tex = self.expand(b.content)
            if b.label:
                number = self.label(b.label, ("equation",)).number
                return f"{anchor(b.label)}\n$$\n{tex}\n\\tag{{{number}}}\n$$\n"
            return f"$$\n{tex}\n$$"
        if isinstance(b, AmsMath):
            tex = self.expand(b.content)
            tex = re.sub(r"\\(begin|end)\{(align|alignat|flalign)\*?\}", r"\\\1{aligned}", tex)
            tex = re.sub(r"\\(begin|end)\{(gather)\*?\}", r"\\\1{gathered}", tex)
            tex = re.sub(r"\\(begin|end)\{(equation|multline)\*?\}\n?", "", tex)
            return f"$$\n{tex}\n$$"
        return self.directive(b, state)

    def directive(self, d: Directive, state: dict) -> str:
        name = d.name
        if name == "prf:algorithm":
            label = d.options["label"]
            entry = self.label(label, ("algorithm",))
            title = (
                f"Algorithm {entry.number} ({self.inline(d.arg)})"
                if d.arg
                else (f"Algorithm {entry.number}")
            )
            body = self.blocks(d.body, state)
            return f"{anchor(label)}\n{blockquote(f'**{title}**', body)}"
        if name in (
            "admonition",
            "note",
            "tip",
            "warning",
            "important",
            "caution",
            "hint",
            "attention",
            "danger",
            "error",
            "seealso",
        ):
            title = d.arg if name == "admonition" else name.capitalize()
            if name == "seealso":
                title = "See also"
            body = self.blocks(d.body, state)
            if "dropdown" in d.options.get("class", "").split():
                return details(self.plain(title), body)
            return blockquote(f"**{self.inline(title)}**", body)
        if name == "literalinclude":
            return self.literalinclude(d)
        if name in ("exercise", "exercise-start"):
            label = d.options["label"]
            entry = self.label(label, ("exercise",))
            title = f"Exercise {entry.number}" + (f" ({self.inline(d.arg)})" if d.arg else "")
            state["exercise"] = label
            head = f"{anchor(label)}\n**{title}**"
            if name == "exercise":
                return f"{head}\n\n{self.blocks(d.body, state)}"
            return head
        if name == "exercise-end":
            return ""
        if name in ("solution", "solution-start"):
            label = d.arg.strip()
            entry = self.label(label, ("exercise",))
            title = f"Solution to Exercise {entry.number}" + (
                f" ({self.plain(entry.title)})" if entry.title else ""
            )
            if name == "solution":
                return details(title, self.blocks(d.body, state))
            state["solution"] = title
            return (
                f"**{title}**: folded below; open it once you have tried (its code is a "
                "collapsed cell: click it in JupyterLab and VS Code, *Show code* in Colab)."
            )
        if name == "solution-end":
            state.pop("solution", None)
            return ""
        raise ValueError(f"{self.doc}: the directive {{{name}}} is not rendered for notebooks")

    def plain(self, text: str) -> str:
        """A title for a <summary>, where Markdown is not rendered: roles as plain text."""
        rendered = self.inline(text)
        return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", rendered)

    def literalinclude(self, d: Directive) -> str:
        from sphinx.directives.code import LiteralIncludeReader

        class Config:
            source_encoding = "utf-8-sig"

        unsupported = set(d.options) - {
            "pyobject",
            "lines",
            "start-after",
            "end-before",
            "start-at",
            "end-at",
            "dedent",
            "language",
        }
        if unsupported:
            raise ValueError(f"{self.doc}: literalinclude options {unsupported} not rendered")
        path = (ROOT / self.doc).parent / d.arg
        options = dict(d.options)
        if "dedent" in options:
            options["dedent"] = int(options["dedent"]) if options["dedent"] else None
        code, _ = LiteralIncludeReader(str(path), options, Config()).read()
        lang = d.options.get("language", "python")
        fence = "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", code)), default=0))
        source = path.resolve().relative_to(ROOT)
        where = f"`{source}`" + (f", `{d.options['pyobject']}`" if "pyobject" in d.options else "")
        return f"From {where}:\n\n{fence}{lang}\n{code.rstrip()}\n{fence}"


def unescape(markdown: str) -> str:
    """pybtex's Markdown less the escapes that no Markdown needs there: a bracket before a link
    is literal text, and a backslash before a parenthesis would read as math to some renderers."""
    return re.sub(r"\\([\[\]().,:;!?'\-])", r"\1", markdown)


def anchor(label: str) -> str:
    return f'<a id="{label}"></a>\n'


def details(summary: str, body: str) -> str:
    return f"\n<details>\n<summary><b>{summary}</b></summary>\n\n{body.strip()}\n\n</details>\n"


def reflow(markdown: str) -> list[str]:
    """Lines of ``markdown`` for a blockquote: each paragraph and list item on one line, each
    display formula on one line, so that no math is split by the "> " of a continuation line
    (front ends take math out of the text before they parse the Markdown)."""
    out: list[str] = []
    in_fence = None
    in_math = False
    block_start = re.compile(r"^\s*([-*+]|\d+[.)])\s|^\s*#|^\s*\||^\s*<|^\s*>|^\s*$")
    for line in markdown.split("\n"):
        if in_fence:
            out.append(line)
            if line.strip().startswith(in_fence):
                in_fence = None
            continue
        m = re.match(r"^\s*(`{3,}|~{3,})", line)
        if m:
            in_fence = m[1]
            out.append(line)
            continue
        stripped = line.strip()
        if in_math:
            out[-1] += " " + stripped
            if stripped.endswith("$$"):
                in_math = False
            continue
        if stripped.startswith("$$"):
            out.append(stripped)
            in_math = not (len(stripped) > 2 and stripped.endswith("$$"))
            continue
        if (
            out
            and out[-1].strip()
            and not block_start.match(line)
            and not out[-1].strip().startswith(("$$", "<"))
        ):
            out[-1] += " " + stripped
        else:
            out.append(line)
    return out


def blockquote(head: str, body: str) -> str:
    lines = [head, ""] + reflow(body.strip())
    return "\n".join(f"> {line}".rstrip() for line in lines) + "\n"


# ---------------------------------------------------------------------------------------------
# The notebook.

HIDDEN = {"jupyter": {"source_hidden": True, "outputs_hidden": True}, "cellView": "form"}


def tidy(markdown: str) -> str:
    markdown = re.sub(r"\n{3,}", "\n\n", markdown)
    return markdown.strip("\n")


def glued_values(executed) -> dict[str, str]:
    """``{name: text/plain}`` of the glue records (rlbook.prose.glue, myst_nb.glue) in an
    executed notebook."""
    found = {}
    for cell in executed.cells:
        for out in cell.get("outputs", []):
            meta = out.get("metadata", {}).get("scrapbook")
            if meta:
                data = out.get("data", {})
                text = data.get(meta.get("mime_prefix", "") + "text/plain", data.get("text/plain"))
                if text is not None:
                    found[meta["name"]] = "".join(text) if isinstance(text, list) else text
    return found


def reader_notebook(
    md: Path, book: Book | None = None, glued: dict[str, str] | None = None
) -> nbformat.NotebookNode:
    book = book or load_book()
    doc = md.relative_to(ROOT).with_suffix("").as_posix()
    source = jupytext.read(md)
    r = Renderer(book, doc, glued)
    state: dict = {}
    cells = []
    for cell in source.cells:
        if cell.cell_type == "markdown":
            text = tidy(r.blocks(cell.source, state))
            if text:
                cells.append(nbformat.v4.new_markdown_cell(text))
        elif cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(cell.source)
            metadata = copy.deepcopy(dict(cell.metadata))
            if state.get("solution"):  # neither the code nor what it prints
                metadata.update(copy.deepcopy(HIDDEN))
            elif "hide-input" in metadata.get("tags", []):  # the code folded, its figure shown
                metadata.update({"jupyter": {"source_hidden": True}, "cellView": "form"})
            new.metadata = nbformat.from_dict(metadata)
            cells.append(new)
            figure = (metadata.get("mystnb") or {}).get("figure") or {}
            if figure.get("name") and not state.get("solution"):
                # the caption under the figure, as the book shows it, with its anchor
                entry = book.labels[figure["name"]]
                caption = tidy(r.blocks(entry.title, state)) if entry.title else ""
                text = f"{anchor(figure['name'])}**Fig. {entry.number}.** {caption}".strip()
                cells.append(nbformat.v4.new_markdown_cell(text))
        else:
            raise ValueError(f"{md.name}: a {cell.cell_type} cell")
    if r.cited:
        items = []
        for key in r.cited:
            text = unescape(book.formatted[key].text.render_as("markdown"))
            items.append(f'- <a id="cite-{key}"></a>{text}')
        cells.append(nbformat.v4.new_markdown_cell("## References\n\n" + "\n".join(items)))
    # the title cell says where the notebook comes from
    first = cells[0]
    if first.cell_type != "markdown" or not first.source.startswith("# "):
        raise ValueError(f"{md.name} does not start with its title")
    first.source += (
        f"\n\n*A chapter of the book {book.config['title']}, as a notebook, generated from "
        f"`{doc}.md` by `{GENERATOR}` (`make sync`): edit the `.md`, not this notebook.*"
    )
    if r.glued_names and not glued:
        first.source += (
            "\n\n*Numbers that the text quotes from this chapter's runs appear in it as names "
            "in code font, like `"
            + r.glued_names[0]
            + "`: the cell that computes each one prints `name = value` under it when you run "
            "it.*"
        )
    for i, cell in enumerate(cells):
        cell.id = f"{md.stem[:24]}-{i}"
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = nbformat.from_dict(
        {
            "kernelspec": dict(source.metadata.get("kernelspec", {})),
            "language_info": {"name": "python"},
            "colab": {"provenance": []},
            "rlbook": {"generated_from": f"{doc}.md", "generator": GENERATOR},
        }
    )
    nbformat.validate(nb)
    return nb


def with_outputs(nb, executed) -> nbformat.NotebookNode:
    """``nb`` with the outputs of ``executed``, the same code cells run (the book's build)."""
    nb = copy.deepcopy(nb)
    ours = [c for c in nb.cells if c.cell_type == "code"]
    run = [c for c in executed.cells if c.cell_type == "code"]
    if [c.source.strip() for c in ours] != [c.source.strip() for c in run]:
        raise ValueError("the executed notebook's code cells are not the chapter's")
    for cell, done in zip(ours, run, strict=True):
        cell.outputs, cell.execution_count = done.get("outputs", []), done.get("execution_count")
    if "widgets" in executed.metadata:  # the state that widget outputs display from
        nb.metadata["widgets"] = executed.metadata["widgets"]
    return nb


def downloads(html: Path, mds: list[Path], book: Book) -> int:
    """The book's download button (sphinx-book-theme) hands out ``_sources/chapters/NAME.ipynb``,
    which the build writes as the executed MyST notebook, markup and all: replace it by the
    reader's notebook with the build's outputs (``make book`` and ``make book-from-notebooks``
    run this after the build)."""
    done = []
    for md in mds:
        target = html / "_sources" / md.relative_to(ROOT).with_suffix(".ipynb")
        if not target.exists():
            raise SystemExit(f"reader_notebooks: {target} is missing: is the book built?")
        executed = nbformat.read(target, as_version=4)
        nb = reader_notebook(md, book, glued_values(executed))
        target.write_text(dumps(with_outputs(nb, executed)), "utf8")
        done.append(md.stem)
    print(f"reader_notebooks: the download button hands out the reader's notebook: {len(done)}")
    return 0


def dumps(nb) -> str:
    return nbformat.writes(nb, version=4) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale notebooks")
    parser.add_argument(
        "--downloads",
        type=Path,
        metavar="HTML_DIR",
        help="replace the built book's download notebooks (HTML_DIR/_sources/chapters/*.ipynb)",
    )
    parser.add_argument("chapters", nargs="*", type=Path, help="default: every chapters/*.md")
    args = parser.parse_args(argv)
    book = load_book()
    mds = [p.resolve() for p in args.chapters] or sorted(CHAPTERS.glob("*.md"))
    if args.downloads:
        return downloads(args.downloads, mds, book)
    stale = []
    for md in mds:
        text = dumps(reader_notebook(md, book))
        out = md.with_suffix(".ipynb")
        if out.exists() and out.read_text(encoding="utf8") == text:
            continue
        stale.append(out.relative_to(ROOT).as_posix())
        if not args.check:
            out.write_text(text, encoding="utf8")
    if args.check and stale:
        print(f"stale (run `make sync`): {', '.join(stale)}", file=sys.stderr)
        return 1
    if not args.check:
        print(f"reader_notebooks: {len(mds)} notebooks, {len(stale)} rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
