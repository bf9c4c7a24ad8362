"""The book's structure: labels, citations, cross-references, notebook pairs, install cells."""

import re
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "source" / "amortization.md"
CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())

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

# Display equations of the source that the book corrects (see the notes in the chapters).
CORRECTED = {"envelope"}


def chapter_text() -> str:
    return "\n".join(p.read_text() for p in CHAPTERS)


def labels_in(text: str) -> list[str]:
    return re.findall(r"```\{prf:algorithm\}[^\n]*\n:label: ([\w-]+)", text)


def test_source_document_is_available():
    assert SOURCE.exists(), f"the source document is expected at {SOURCE}"


def test_every_algorithm_label_of_the_source_is_in_the_book():
    book = set(labels_in(chapter_text()))
    source = labels_in(SOURCE.read_text())
    assert source, "no algorithm found in the source"
    assert set(source) <= book, f"missing: {set(source) - book}"


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
        "\n".join(p.read_text() for p in (ROOT / "code" / "rlbook").glob("*.py")),
    ):
        cited |= {k.strip() for k in group.split(",")}
    source_keys = set()
    for group in re.findall(r"\{cite\}`([^`]+)`", SOURCE.read_text()):
        source_keys |= {k.strip() for k in group.split(",")}
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


def _display_math(text: str) -> list[str]:
    return [m.strip() for m in re.findall(r"\$\$(.+?)\$\$", text, flags=re.S)]


def test_every_equation_of_the_source_is_in_the_book():
    book = chapter_text()
    book_eqs = set(_display_math(book))
    missing = [eq for eq in _display_math(SOURCE.read_text()) if eq not in book_eqs]
    # only the corrected envelope formula may differ, and it must then carry its label
    assert len(missing) <= len(CORRECTED), missing
    for eq in missing:
        assert r"\partial v^*(s_1, s_2)" in eq
    assert "(envelope)" in book


def test_every_paragraph_of_the_source_is_in_the_book():
    book = re.sub(r"\s+", " ", chapter_text())
    src = SOURCE.read_text().split("---", 2)[2]
    missing = []
    for para in re.split(r"\n\s*\n", src):
        para = para.strip()
        if not para or para.startswith(("#", "```", "$$", ":")) or len(para) < 80:
            continue
        if re.sub(r"\s+", " ", para) not in book:
            missing.append(para[:90])
    # the paragraphs we edited to correct the source
    allowed = [
        "Note that the policy",
        "A natural approach to handle this staleness",
        "Double DQN (Algorithm",
        "TD3 also replaces DDPG",
    ]
    unexpected = [m for m in missing if not m.startswith(tuple(allowed))]
    assert not unexpected, unexpected


def test_macros_used_are_defined_for_mathjax():
    macros = CONFIG["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    assert "Bellman" in macros


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_notebook_pair_is_in_sync(md):
    ipynb = md.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} is missing: run `make sync`"
    a, b = jupytext.read(md), jupytext.read(ipynb)
    cells_a = [(c.cell_type, c.source.strip()) for c in a.cells]
    cells_b = [(c.cell_type, c.source.strip()) for c in b.cells]
    assert cells_a == cells_b, f"{md.name} and {ipynb.name} differ: run `make sync`"
    tags_a = [c.metadata.get("tags", []) for c in a.cells]
    tags_b = [c.metadata.get("tags", []) for c in b.cells]
    assert tags_a == tags_b
    assert b.metadata.get("jupytext", {}).get("formats") == "ipynb,md:myst"


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
