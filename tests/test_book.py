"""The book's structure: labels, citations, cross-references, install cells (the notebooks
beside the chapters: tests/test_reader_notebooks.py)."""

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

# Display equations of the source that the book corrects: the label of the "Correction to the
# source" admonition that explains each, and a fragment that identifies the source's equation.
CORRECTED = {
    "corr-euler-envelope": r"\partial v^*(s_1, s_2)",  # the sign of the h term
    "corr-pcl-consistency": r"\gamma^{d-1} v^*(s_d)",  # path consistency over d transitions
    "corr-pcl-box": r"\sum_{t=0}^T r(s_t, a_t)",  # the priority sums T rewards, not T + 1
}

# Paragraphs of the source that the book edits: a prefix of each (whitespace collapsed) and the
# label of the "Correction to the source" admonition that explains the edit (None: a notation fix).
EDITED = {
    "Note that the policy": None,  # D_d renamed D_pi, the name of the box
    "A natural approach to handle this staleness": None,  # D_d renamed D_pi
    "Double DQN (Algorithm": "corr-td3-selection",
    "TD3 also replaces DDPG": "corr-td3-ema",
    r"1. Initialize $\boldsymbol{\theta}_0$ 2. $n \leftarrow 0$ 3. **repeat** 1. $\mathcal{D} ": (
        "corr-maximize"
    ),
    r"1. Initialize $\boldsymbol{\theta}_0$, $\boldsymbol{w}_0$ 2. $n \leftarrow 0$": "corr-bopt",
    "In scalar problems, this means the derivative": "corr-euler-affine",
    "However, later work (including TD3, discussed below)": None,  # TD3 linked: the next chapter
    "Like DQN, DDPG uses the flattened FQI structure": "corr-ddpg-targets",
    "The algorithm structure parallels DQN (Algorithm": "corr-ddpg-targets",
    "The policy gradient in line 9 uses": None,  # line 6.9: the box's nested numbering
    "The algorithm interleaves three updates. The Q-networks (lines 7-10)": None,  # 5.7-5.10 ...
    r"where $\tilde{a}_i = \pi_{\boldsymbol{w}_{\text{target}}}(s'_i)$. This minimum": (
        "corr-td3-min"
    ),
    "When the dynamics are deterministic, $s' = f(s,a)$": "corr-pcl-consistency",
    "This is the soft Bellman equation under deterministic dynamics. Chain": "corr-pcl-consistency",
    "This is path consistency. The actions": "corr-pcl-consistency",
    "Standard off-policy methods require importance weights": "corr-pcl-importance",
    r"1. Initialize $\boldsymbol{\phi}_0$, $\boldsymbol{\psi}_0$": "corr-pcl-box",
    "which is precisely the $d$-step advantage estimate used in A3C": "corr-pcl-alpha-zero",
    r"In the limit $\alpha \to 0$ (no entropy regularization)": "corr-pcl-alpha-zero",
    "Substituting into the first-order condition eliminates": None,  # the kernel q renamed p_z
    "This is exactly the soft Bellman error minimized by SAC": "corr-pcl-sac",
    "SAC introduced the idea that both policy and values": "corr-pcl-unified-origin",
    "SAC requires target networks and careful decorrelation": "corr-pcl-sac-targets",
}

# A "Correction to the source" admonition and the (corr-NAME)= target just above it.
CORRECTION_BOX = re.compile(
    r"^\((corr-[\w-]+)\)=\n`{3,}\{admonition\} Correction to the source: ([^\n]+)$", re.M
)


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
        "\n".join(p.read_text() for p in (ROOT / "code" / "rlbook").rglob("*.py")),
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
    # only the corrected equations may differ, each explained by its correction admonition
    labels = {label for label, _ in CORRECTION_BOX.findall(book)}
    for eq in missing:
        reasons = [label for label, fragment in CORRECTED.items() if fragment in eq]
        assert reasons, f"a source equation is missing from the book: {eq[:80]}"
        assert set(reasons) <= labels, f"no correction admonition {reasons} for {eq[:60]}"
    assert len(missing) <= len(CORRECTED), missing
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
            missing.append(re.sub(r"\s+", " ", para)[:120])
    # the paragraphs we edited to correct the source, each explained by its correction admonition
    unexpected = [m for m in missing if not m.startswith(tuple(EDITED))]
    assert not unexpected, unexpected
    labels = {label for label, _ in CORRECTION_BOX.findall(chapter_text())}
    cited = {label for label in EDITED.values() if label is not None}
    assert cited <= labels, f"edits explained by missing admonitions: {cited - labels}"


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
