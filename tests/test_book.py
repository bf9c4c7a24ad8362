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
# every page of the book: the chapters and the pages at the top (intro, notes, bibliography, ...)
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
    book = source_fingerprint.equations(chapter_text())
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


NOTES = ROOT / SOURCE_MAP["notes_page"]
# A departure from the source: the (note-NAME)= target above the passage that states the book's
# version, which the notes page links to.
NOTE_TARGET = re.compile(r"^\((note-[\w-]+)\)=[ \t]*$", re.M)
TEACHING = [p for p in PAGES if p != NOTES]


def test_every_departure_from_the_source_is_on_the_notes_page_and_links_to_its_passage():
    text = chapter_text()
    assert "Correction to the source" not in text, "the chapters state the right thing, no box"
    labels = NOTE_TARGET.findall(text)
    assert labels, "no (note-NAME)= target in the chapters"
    assert len(set(labels)) == len(labels), f"duplicate labels: {labels}"
    notes = NOTES.read_text()
    assert notes.startswith("# Notes on the source"), f"{NOTES.name} is not the notes page"
    assert "```{code-cell}" not in notes
    items = re.split(r"^- ", notes, flags=re.M)[1:]  # one item per departure, lines and all
    linked = []
    for item in items:
        found = re.findall(r"\{ref\}`[^`<]*<(note-[\w-]+)>`", item)
        assert len(found) == 1, f"each item of the notes page links to one passage: {item[:80]}"
        flat = " ".join(item.split())
        assert "The source:" in flat and "This book:" in flat and "Why:" in flat, item[:80]
        linked.append(found[0])
    # every passage is on the page; two departures may be stated in one passage
    assert set(linked) == set(labels), (
        f"not on the notes page: {set(labels) - set(linked)}; "
        f"on it but not a target in a chapter: {set(linked) - set(labels)}"
    )
    toc = (ROOT / "_toc.yml").read_text()
    assert toc.index(f"file: {NOTES.stem}") < toc.index("file: bibliography")


def test_the_teaching_text_never_points_to_the_source():
    """The source is named and credited on the landing page and the notes page, nowhere else:
    the chapters say what is right in their own words, with no "the source says"."""
    pattern = re.compile(
        r"\bthe source\b|\bsource(?:'s)? (?:chapter|document|text)\b|correction to the source",
        re.I,
    )
    for page in TEACHING:
        if page.name == "intro.md":
            continue
        text = page.read_text().replace("[Notes on the source]", "")  # the link to that page
        found = [line for line in text.splitlines() if pattern.search(line)]
        assert not found, f"{page.name} refers to the source: {found[:3]}"
    for page in (ROOT / "intro.md", NOTES):
        text = " ".join(page.read_text().split())
        assert "Bacon" in text and "Fitted Q-Iteration for Continuous Action Spaces" in text, (
            f"{page.name} must name and credit the source chapter"
        )


def test_no_passage_of_the_source_is_kept_verbatim():
    """No run of ``SHINGLE`` words of the book's prose is one of the source's (the fingerprint
    holds hashes of the source's runs, so the test needs no file outside the repository). The
    notes page quotes the source's claims, in quotation marks and briefly: the quotes are left
    out there, and each is at most 30 words."""
    shingles = set(FINGERPRINT["prose_shingles"])
    assert shingles, "no prose in the fingerprint"
    kept = {}
    for page in PAGES:
        text = page.read_text()
        if page == NOTES:
            quotes = re.findall(r'"([^"]+)"', text)
            long = [q for q in quotes if len(q.split()) > 30]
            assert not long, f"quotes on the notes page over 30 words: {long}"
            text = re.sub(r'"[^"]+"', '""', text)
        found = source_fingerprint.overlap(text, shingles)
        if found:
            kept[page.name] = found
    assert not kept, (
        "passages kept from the source (`python tools/source_fingerprint.py --overlap "
        "chapters/*.md` lists them): "
        + "; ".join(f"{name}: {len(found)} ({found[0][:80]}...)" for name, found in kept.items())
    )


def test_the_verbatim_check_sees_a_kept_passage():
    """Seen failing: a run of the source's words, which the fingerprint has, is found."""
    source_words = "one two three four five six seven eight nine ten eleven".split()
    run = source_fingerprint.shingle_hash(source_words[:10])
    text = "Intro.\n\nSome words " + " ".join(source_words) + " and more.\n"
    assert source_fingerprint.overlap(text, {run})
    assert not source_fingerprint.overlap(text.replace("five", "5"), {run})


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


#: a chapter's code line fits a code cell of the book's column at the 1366 px layout (88
#: characters of the 13 px code font, web/static/rlbook.css) and a notebook without scrolling
MAX_CODE_LINE = 88


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_no_code_line_of_a_chapter_is_longer_than_88_characters(md):
    """Every code cell, the hidden ones included (they are in the reader's notebook)."""
    lines = md.read_text(encoding="utf8").splitlines()
    long, at = [], 0  # at: where the search for the next line of the .md starts
    for cell in jupytext.read(md).cells:
        if cell.cell_type == "code":
            for line in cell.source.splitlines():
                if len(line) > MAX_CODE_LINE:
                    at = lines.index(line, at) + 1 if line in lines[at:] else at
                    long.append(f"line {at} ({len(line)} characters)")
    assert not long, f"{md.name}: {len(long)} code lines over {MAX_CODE_LINE}: {', '.join(long)}"
