"""Sphinx extension for the pages around the chapters (loaded by ``_config.yml``).

It also turns off the theme's top navbar (``_one_top_bar``) and leaves the themes' source maps
out of the built site (``_drop_source_maps``); the book's sidebar buttons and layout fixes are
``web/static/rlbook-nav.js`` and ``web/static/rlbook.css``.

``chapter-map`` directive, used on the landing page: one line of content per chapter,
``DOCNAME: what it teaches``; it becomes a table with the chapter (a link, its title), what it
teaches, the algorithm boxes the chapter holds (links printing "Algorithm N" and the box's title,
found in the build's own sphinx-proof labels) and the chapter's run time in the execution that
produced its outputs on these pages (myst-nb's execution data: the build's own run, or the
recorded nbval run that seeded the build's cache). Nothing in the table but the one-line
summaries is typed by hand. Like myst-nb's ``nb-exec-table``, the table is filled in after every
chapter has been read, and the page is written again whenever a chapter was executed.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.addnodes import pending_xref
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

LOGGER = logging.getLogger(__name__)
HAS_MAP = "rlbook_chapter_map"


class chapter_map(nodes.General, nodes.Element):
    """Placeholder replaced by the table once every chapter has been read."""


class ChapterMap(SphinxDirective):
    has_content = True
    option_spec = {"class": directives.class_option}

    def run(self):
        rows = []
        for line in self.content:
            if not line.strip():
                continue
            docname, sep, summary = line.partition(":")
            if not sep:
                raise self.error(f"chapter-map: expected 'DOCNAME: summary', got {line!r}")
            rows.append((docname.strip(), summary.strip()))
        for docname, _ in rows:
            self.env.note_dependency(self.env.doc2path(docname))
        getattr(self.env, "rlbook_chapter_maps", set()).add(self.env.docname)
        node = chapter_map(rows=rows)
        node["classes"] += self.options.get("class", [])
        return [node]


def _box_titles(env, docname: str) -> dict[str, str]:
    """Label -> title of every algorithm box of a chapter, read from its stored doctree."""
    titles = {}
    try:
        doctree = env.get_doctree(docname)
    except FileNotFoundError:
        return titles
    for node in doctree.findall(nodes.Element):
        if "algorithm" not in node.get("classes", []) or not node.get("ids"):
            continue
        title = next(iter(node.findall(nodes.title)), None)
        text = title.astext() if title is not None else ""
        # the directive's title reads "Algorithm N (Title)": keep the part in brackets
        if "(" in text and text.endswith(")"):
            text = text[text.index("(") + 1 : -1]
        for label in node["ids"]:
            titles[label] = text
    return titles


def _seconds(env, docname: str) -> str:
    from myst_nb.sphinx_ import NbMetadataCollector

    data = NbMetadataCollector.get_doc_data(env).get(docname, {}).get("exec_data") or {}
    runtime = data.get("runtime")
    if runtime is None:
        return "not recorded"
    return f"{runtime:.0f} s" if runtime >= 10 else f"{runtime:.1f} s"


def _paragraph(*children) -> nodes.entry:
    para = nodes.paragraph()
    para.extend(children)
    return nodes.entry("", para)


def _xref(parent: str, target: str, text: str, domain: str, typ: str) -> pending_xref:
    ref = pending_xref(
        refdoc=parent,
        reftarget=target,
        reftype=typ,
        refdomain=domain,
        refexplicit=domain == "std",
        refwarn=True,
        classes=["xref", domain],
    )
    ref += nodes.inline(text=text)
    return ref


def make_table(env, parent: str, rows, classes) -> nodes.table:
    proofs = getattr(env, "proof_list", {})
    table = nodes.table(classes=["rlbook-chapter-map", *classes])
    headers = ["Chapter", "What it teaches", "Algorithm boxes", "Run time"]
    tgroup = nodes.tgroup(cols=len(headers))
    table += tgroup
    for width in (22, 40, 26, 12):
        tgroup += nodes.colspec(colwidth=width)
    head = nodes.row()
    for text in headers:
        head += _paragraph(nodes.Text(text))
    tgroup += nodes.thead("", head)
    body = nodes.tbody()
    tgroup += body
    for docname, summary in rows:
        if docname not in env.all_docs:
            LOGGER.warning(f"chapter-map: no document {docname!r}", location=parent)
            continue
        row = nodes.row()
        title = env.titles[docname].astext() if docname in env.titles else docname
        target = "/" + docname
        row += _paragraph(_xref(parent, target, title, "std", "doc"))
        row += _paragraph(nodes.Text(summary))
        labels = [
            label
            for label, info in proofs.items()
            if info["docname"] == docname and info["realtype"] == "algorithm"
        ]
        # in the order the boxes are numbered
        numbers = env.toc_fignumbers.get(docname, {})

        def order(label, numbers=numbers, proofs=proofs):
            return tuple(numbers.get(proofs[label]["countertype"], {}).get(label, (0,)))

        titles = _box_titles(env, docname) if labels else {}
        boxes = nodes.entry()
        for label in sorted(labels, key=order):
            para = nodes.paragraph()
            para += _xref(parent, label, label, "prf", "ref")
            if titles.get(label):
                para += nodes.Text(f": {titles[label]}")
            boxes += para
        if not labels:
            boxes += nodes.paragraph(text="none")
        row += boxes
        row += _paragraph(nodes.Text(_seconds(env, docname)))
        body += row
    return table


class ChapterMapTransform(SphinxPostTransform):
    default_priority = 8  # before the references are resolved (9, 10)

    def run(self, **kwargs) -> None:
        for node in list(self.document.findall(chapter_map)):
            node.replace_self(make_table(self.env, self.env.docname, node["rows"], node["classes"]))


def _init(app, env, docnames):
    if not hasattr(env, "rlbook_chapter_maps"):
        env.rlbook_chapter_maps = set()
    env.rlbook_chapter_maps -= set(docnames)


def _purge(app, env, docname):
    getattr(env, "rlbook_chapter_maps", set()).discard(docname)


def _merge(app, env, docnames, other):
    env.rlbook_chapter_maps = getattr(env, "rlbook_chapter_maps", set()) | getattr(
        other, "rlbook_chapter_maps", set()
    )


def _updated(app, env):
    """Write the pages with a map again: a chapter's boxes or run time may have changed."""
    return sorted(getattr(env, "rlbook_chapter_maps", set()))


def _one_top_bar(app, config):
    """No theme header: pydata-sphinx-theme draws its navbar (here holding only a second search
    box and a hidden menu button) when ``navbar_persistent`` is set, which it is by default."""
    config.html_theme_options = {**config.html_theme_options, "navbar_persistent": []}


def _drop_source_maps(app, exception):
    """The themes ship source maps of their scripts and styles (3.4 MB); a reader's browser never
    asks for them (only its developer tools do), so the built site goes without. So it does
    without pydata-sphinx-theme's fontawesome.js (1.5 MB), which no page loads any more
    (``_templates/static/webpack-macros.html``)."""
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    for path in {*static.rglob("*.map"), *static.glob("scripts/fontawesome.js*")}:
        path.unlink(missing_ok=True)


def _no_widget_views(app, exception):
    """The pages load no widget manager (a knob is its HTML there, ``rlbook.widgets``): a widget
    displayed by a chapter would show nothing, so the build says which page holds one (a warning,
    an error under ``-W``)."""
    if exception is not None or app.builder.format != "html":
        return
    for page in sorted(Path(app.outdir).rglob("*.html")):
        if "application/vnd.jupyter.widget-view+json" in page.read_text(encoding="utf-8"):
            name = page.relative_to(app.outdir).as_posix()
            LOGGER.warning(
                f"{name} displays an ipywidgets widget, which the book's pages cannot show (they "
                "load no widget manager): display HTML, as rlbook.widgets.knob does"
            )


def setup(app):
    app.connect("config-inited", _one_top_bar)
    app.connect("build-finished", _drop_source_maps)
    app.connect("build-finished", _no_widget_views)
    app.add_node(chapter_map)
    app.add_directive("chapter-map", ChapterMap)
    app.add_post_transform(ChapterMapTransform)
    app.connect("env-before-read-docs", _init)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-updated", _updated)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
