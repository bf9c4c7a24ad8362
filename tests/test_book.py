"""The book's structure: labels, citations, cross-references, install cells, and its coverage of
the source chapter (through the committed tests/source_fingerprint.json and tests/source_map.yml:
no test reads a file outside the repository, except the one that checks the fingerprint against
the source when the source lies beside the repository). The notebooks beside the chapters:
tests/test_reader_notebooks.py."""

import importlib.util
import json
import re
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = (ROOT / "_toc.yml").read_text()
# every page of the book: the chapters and the pages at the top (intro, errata, bibliography, ...)
PAGES = CHAPTERS + [ROOT / f"{name}.md" for name in re.findall(r"(?:root|file): ([\w-]+)\s", TOC)]

spec = importlib.util.spec_from_file_location(
    "source_fingerprint", ROOT / "tools" / "source_fingerprint.py"
)
source_fingerprint = importlib.util.module_from_spec(spec)
spec.loader.exec_module(source_fingerprint)
# The source chapter is not in the repository: its fingerprint is (tools/source_fingerprint.py).
SOURCE = source_fingerprint.DEFAULT_SOURCE
FINGERPRINT = json.loads(source_fingerprint.FINGERPRINT.read_text())
SOURCE_MAP = yaml.safe_load((ROOT / "tests" / "source_map.yml").read_text())

# Algorithms whose code has landed in rlbook: each of their boxes must have a cell importing
# rlbook after it, before the next box. Grows as the algorithm issues land.
IMPLEMENTED = {
    "ddpg",
    "td3",
    "sac",
    "pcl",
    "fitted-q-iteration-explicit",
    "fitted-q-iteration-amortized",
    "nfqca",
    "fitted-q-iteration-batch",
    "nfqi-flattened-ema",
    "dqn",
    "double-dqn",
}

# A "Correction to the source" admonition and the (corr-NAME)= target just above it.
CORRECTION_BOX = re.compile(
    r"^\((corr-[\w-]+)\)=\n`{3,}\{admonition\} Correction to the source: ([^\n]+)$", re.M
)
# The whole of such an admonition: what it quotes of the source does not count as the book's text.
CORRECTION_NOTE = re.compile(
    r"^(`{3,})\{admonition\} Correction to the source.*?^\1[ \t]*$", re.M | re.S
)
# A MyST target, (label)= on a line of its own.
TARGET = re.compile(r"^\(([\w-]+)\)=[ \t]*$", re.M)


def chapter_text() -> str:
    return "\n".join(p.read_text() for p in CHAPTERS)


def labels_in(text: str) -> list[str]:
    return re.findall(r"```\{prf:algorithm\}[^\n]*\n:label: ([\w-]+)", text)


def test_the_fingerprint_matches_the_source_when_the_source_is_beside_the_repository():
    """The one test that reads outside the repository, and only when the source is there."""
    if not SOURCE.exists():
        pytest.skip(f"no source at {SOURCE}: the committed fingerprint stands in for it")
    made = source_fingerprint.fingerprint(SOURCE)
    stale = [key for key in made if made[key] != FINGERPRINT.get(key)]
    assert not stale, (
        f"tests/source_fingerprint.json is stale ({', '.join(stale)} differ): "
        "run `python tools/source_fingerprint.py` and update tests/source_map.yml"
    )


def test_every_heading_of_the_source_is_mapped_to_a_section_of_the_book():
    source = [f"{'#' * h['level']} {h['text']}" for h in FINGERPRINT["headings"]]
    mapped = SOURCE_MAP["headings"]
    assert source, "no heading in the fingerprint"
    assert set(source) == set(mapped), (
        f"not mapped in tests/source_map.yml: {sorted(set(source) - set(mapped))}; "
        f"mapped but not a heading of the source: {sorted(set(mapped) - set(source))}"
    )
    for heading, where in mapped.items():
        path = ROOT / where["chapter"]
        assert path in CHAPTERS, f"{heading!r} is mapped to {where['chapter']}, not a chapter"
        text = path.read_text()
        assert ("section" in where) != ("label" in where), f"{heading!r}: a section or a label"
        if "label" in where:
            assert where["label"] in TARGET.findall(text), (
                f"{heading!r} is mapped to ({where['label']})=, not a target of {path.name}"
            )
        else:
            sections = {t for _, t in source_fingerprint.headings(text)}
            assert where["section"] in sections, (
                f"{heading!r} is mapped to the section {where['section']!r}, not a heading of "
                f"{path.name}"
            )


def test_every_algorithm_label_of_the_source_is_in_the_book():
    book = set(labels_in(chapter_text()))
    source = FINGERPRINT["algorithm_labels"]
    assert source, "no algorithm label in the fingerprint"
    assert set(source) <= book, f"algorithm boxes of the source missing: {set(source) - book}"


def test_every_prf_ref_resolves():
    text = chapter_text()
    labels = set(labels_in(text))
    refs = set(re.findall(r"\{prf:ref\}`([\w-]+)`", text))
    assert refs <= labels, f"unresolved: {refs - labels}"
    # the ones the source cites from earlier chapters are supplied by the background chapters
    assert {"fitted-q-iteration-batch", "nfqi-flattened-ema", "dqn", "double-dqn"} <= labels


def test_every_cited_key_is_in_references_bib():
    bib = (ROOT / "references.bib").read_text()
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    cited = set()
    for group in re.findall(r"\{cite[pt]?\}`([^`]+)`", chapter_text()):
        cited |= {k.strip() for k in group.split(",")}
    for group in re.findall(
        r"\{cite[pt]?\}`([^`]+)`",
        "\n".join(p.read_text() for p in (ROOT / "code" / "rlbook").rglob("*.py")),
    ):
        cited |= {k.strip() for k in group.split(",")}
    source_keys = set(FINGERPRINT["citations"])
    assert source_keys, "no citation in the fingerprint"
    assert source_keys <= cited, f"source citations missing from the book: {source_keys - cited}"
    assert cited <= keys, f"not in references.bib: {cited - keys}"


def test_links_to_other_chapters_resolve():
    for path in CHAPTERS:
        for target in re.findall(r"\]\(([\w./-]+\.md)\)", path.read_text()):
            assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


def test_every_chapter_is_in_the_toc_and_vice_versa():
    toc = (ROOT / "_toc.yml").read_text()
    in_toc = set(re.findall(r"file: (chapters/[\w-]+)", toc))
    assert in_toc == {f"chapters/{p.stem}" for p in CHAPTERS}


def _changed_equations() -> dict[str, str]:
    """``{source equation: label of the text that explains the change}``, from the map."""
    source = [e["tex"] for e in FINGERPRINT["equations"]]
    changed = {}
    for entry in SOURCE_MAP["changed_equations"]:
        hits = [eq for eq in source if entry["fragment"] in eq]
        assert len(hits) == 1, (
            f"{entry['fragment']!r} picks out {len(hits)} equations of the source, not one"
        )
        changed[hits[0]] = entry["explained_by"]
    return changed


def test_every_equation_of_the_source_is_in_the_book_or_listed_as_changed():
    # what a correction note quotes of the source is not the book's own text
    book = source_fingerprint.equations(CORRECTION_NOTE.sub("", chapter_text()))
    book_tex = {e["tex"] for e in book}
    source = FINGERPRINT["equations"]
    assert source, "no equation in the fingerprint"
    changed = _changed_equations()
    missing = [e["tex"] for e in source if e["tex"] not in book_tex and e["tex"] not in changed]
    assert not missing, (
        "equations of the source neither in the book nor listed as changed in "
        "tests/source_map.yml:\n" + "\n".join(eq[:160] for eq in missing)
    )
    unchanged = [eq[:160] for eq in changed if eq in book_tex]
    assert not unchanged, f"listed as changed but in the book as the source has them: {unchanged}"
    # the source's equation labels ({eq} references) survive
    labels = {e["label"] for e in source if e["label"]} - {e["label"] for e in book}
    assert not labels, f"equation labels of the source missing from the book: {labels}"


def test_every_changed_equation_is_explained_on_or_from_the_notes_page():
    notes_path = ROOT / SOURCE_MAP["notes_page"]
    assert notes_path in PAGES, f"the notes page {notes_path.name} is not in _toc.yml"
    notes = notes_path.read_text()
    targets = {label: page for page in PAGES for label in TARGET.findall(page.read_text())}
    changed = _changed_equations()
    for eq, label in changed.items():
        assert label in targets, f"the change to {eq[:60]!r} is explained by ({label})=: not found"
        linked = re.search(rf"<{re.escape(label)}>`|\]\(#{re.escape(label)}\)", notes)
        assert targets[label] == notes_path or linked, (
            f"({label})= explains a changed equation but is neither on nor linked from "
            f"{notes_path.name}"
        )


def test_every_correction_to_the_source_is_labelled_and_listed_on_the_errata_page():
    text = chapter_text()
    boxes = re.findall(r"\{admonition\} Correction to the source", text)
    labelled = CORRECTION_BOX.findall(text)
    assert len(labelled) == len(boxes), (
        "every 'Correction to the source' admonition needs a (corr-NAME)= target just above it"
    )
    labels = [label for label, _ in labelled]
    assert len(set(labels)) == len(labels), f"duplicate labels: {labels}"
    errata = (ROOT / "errata.md").read_text()
    assert "# Errata: corrections to the source" in errata
    assert "```{code-cell}" not in errata
    items = re.split(r"^- ", errata, flags=re.M)[1:]  # one item per correction, lines and all
    linked = []
    for item in items:
        found = re.findall(r"\{ref\}`[^`<]*<(corr-[\w-]+)>`|\]\(#(corr-[\w-]+)\)", item)
        assert len(found) == 1, f"each errata item links to one correction: {item[:80]}"
        linked.append(found[0][0] or found[0][1])
    assert sorted(linked) == sorted(labels), (
        f"not on the errata page: {set(labels) - set(linked)}; "
        f"on it but not a correction: {set(linked) - set(labels)}"
    )
    toc = (ROOT / "_toc.yml").read_text()
    assert toc.index("file: errata") < toc.index("file: bibliography")


def test_macros_used_are_defined_for_mathjax():
    macros = CONFIG["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    assert "Bellman" in macros


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_first_cell_installs_rlbook_on_colab_from_the_configured_repository(md):
    nb = jupytext.read(md)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{md.name} has no code cell"
    first = code[0].source
    assert '"google.colab" in sys.modules' in first
    assert f"git+{CONFIG['repository']['url']}" in first


# A path into the repository, quoted in code: ../anything, or a top-level folder other than the
# chapters' own (a notebook opened alone on Colab has none of them).
REPOSITORY_PATH = re.compile(r"""["'](\.\./|(\./)?(benchmarks|code|tests|tools|web)/)""")


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_code_reads_no_file_of_the_repository(md):
    """On Colab a chapter's notebook opens alone, beside nothing but the installed rlbook: what its
    code reads (the benchmark records) must ship in the package (rlbook.results.load)."""
    for cell in jupytext.read(md).cells:
        if cell.cell_type == "code":
            found = REPOSITORY_PATH.search(cell.source)
            assert not found, (
                f"{md.name} reads a repository path: {cell.source[found.start() :][:60]!r}"
            )


@pytest.mark.parametrize("label", sorted(IMPLEMENTED))
def test_implemented_algorithms_have_code_beside_their_box(label):
    for path in CHAPTERS:
        nb = jupytext.read(path)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown" and f":label: {label}\n" in cell.source:
                # from the box to the next box (or the end), a code cell must use rlbook
                rest = cell.source.split(f":label: {label}\n", 1)[1]
                following = []
                if "prf:algorithm" not in rest:
                    for nxt in nb.cells[i + 1 :]:
                        if nxt.cell_type == "markdown" and "prf:algorithm" in nxt.source:
                            break
                        following.append(nxt)
                assert any(c.cell_type == "code" and "rlbook" in c.source for c in following), (
                    f"no rlbook code after the box {label} in {path.name}"
                )
                return
    pytest.fail(f"algorithm {label} not found")
