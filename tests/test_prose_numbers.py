"""Numbers in the book's sentences that a cell computes come from that cell (rlbook.prose.glue).

A number in a chapter's prose (inline math included) that looks computed, i.e. one with a decimal
point or an exponent, a ratio (``3x``, ``3\\times``), a percentage or a minus sign, must be one of:

* a setting (not a ratio; a percentage only as a fraction the code sets, "on 20%" for 0.2): a
  literal of the package (``code/rlbook``, a preset such as ``gamma=0.99``) or a
  keyword argument of one of the chapter's cells (``alpha=0.02``);
* a number from a paper, in a sentence that cites it (``{cite}``);
* a line of an algorithm box ("line 5.13", "lines 8.1-8.2", "5.8.1");
* listed in ``tests/typed_numbers.yml`` with why it is typed (a value derived in the text, a
  constant such as machine epsilon);
* or glued: ``{glue:text}`name:.1f``` (not a typed number at all, so never flagged).

Anything else is a number typed by hand where the cell above computed it, which drifts when the
chapter is re-run: the test names it. It caught, on the chapters as they were, the dotted
"optimum" line typed as $-132$ and the ratios of the Benchmarks chapter's prose.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))
ALLOWED = yaml.safe_load((ROOT / "tests" / "typed_numbers.yml").read_text()) or {}

NUMBER = re.compile(
    r"(?<![\w.§])(?:[−-]\s?)?\d+(?:,\d{3})*(?:\.\d+)?(?:e[−-]?\d+)?(?:\s?(?:x|×|%))?(?![\w.]\d)"
)


def normal(number: str) -> str:
    """``−1,234.50`` -> ``-1234.50``: the sign as a hyphen, no spaces, no thousands commas,
    no ratio or percent mark."""
    n = number.replace("−", "-").replace(" ", "").replace(",", "")
    return re.sub(r"(x|×|%)$", "", n)


def looks_computed(number: str) -> bool:
    n = number.replace("−", "-")
    return bool(re.search(r"\.\d|e-?\d|^-|x$|×$|%$", n.replace(" ", "")))


def fraction(percent: str) -> set[str]:
    """The ways code writes ``percent`` / 100: ``20`` -> {"0.2", "0.20", ".2"}."""
    try:
        value = float(percent) / 100
    except ValueError:
        return set()
    text = f"{value:g}"
    return {text, text.lstrip("0"), f"{value:.2f}", repr(value)}


def package_literals() -> set[str]:
    found = set()
    for path in (ROOT / "code" / "rlbook").rglob("*.py"):
        for lit in re.findall(r"(?<![\w.])-?\d+(?:_\d{3})*(?:\.\d+)?(?:e-?\d+)?", path.read_text()):
            found.add(lit.replace("_", ""))
    return found


PACKAGE = package_literals()


def prose_and_settings(md: Path) -> tuple[list[str], set[str]]:
    """The chapter's sentences (math and roles reduced to their numbers) and the values its
    cells pass as keyword arguments."""
    nb = jupytext.read(md)
    sentences, settings = [], set()
    for cell in nb.cells:
        if cell.cell_type == "code":
            for lit in re.findall(
                r"\b\w+\s*=\s*(-?\d+(?:_\d{3})*(?:\.\d+)?(?:e-?\d+)?)", cell.source
            ):
                settings.add(lit.replace("_", ""))
            continue
        t = cell.source
        t = re.sub(r"^(`{3,})\{code-cell\}.*?^\1", " ", t, flags=re.S | re.M)
        t = re.sub(r"^:[\w-]+:.*$", " ", t, flags=re.M)  # directive options
        t = re.sub(r"^\([\w:.-]+\)=\s*$", " ", t, flags=re.M)  # targets
        t = re.sub(r"\$\$(.+?)\$\$", lambda m: " " + untex(m[1]) + " ", t, flags=re.S)
        t = re.sub(r"(?<!\\)\$([^$]+)\$", lambda m: " " + untex(m[1]) + " ", t)
        t = re.sub(r"\{glue(?::\w+)?\}`[^`]*`", " GLUED ", t)
        t = re.sub(r"\{(?!cite)[\w:-]+\}`[^`]*`", " ", t)  # references: their text is not ours
        t = re.sub(r"`[^`]*`", " ", t)  # code: names and settings
        t = re.sub(r"\]\([^)]*\)", "]", t)  # link targets
        for para in re.split(r"\n\s*\n", t):
            sentences += re.split(r"(?<=[.;:?!])\s+(?=[A-Z(*])", " ".join(para.split()))
    return sentences, settings


def untex(tex: str) -> str:
    tex = re.sub(r"\s*\\times\s*10\^\{?(-?\d+)\}?", r"e\1", tex)  # 2.8 \times 10^{-4} -> 2.8e-4
    tex = re.sub(r"\\times", "×", tex)
    tex = re.sub(r"\\[a-zA-Z]+|[{}^_&\\]", " ", tex)
    return tex


def typed_numbers(md: Path) -> list[tuple[str, str]]:
    sentences, settings = prose_and_settings(md)
    allowed = {str(entry["number"]) for entry in ALLOWED.get(md.stem, [])}
    flagged = []
    for s in sentences:
        if "{cite" in s:
            continue
        for m in NUMBER.finditer(s):
            number = m[0].strip()
            if not looks_computed(number):
                continue
            n = normal(number)
            before = s[max(0, m.start() - 30) : m.start()].lower()
            if re.search(r"\blines?\b|pseudocode", before) or n.count(".") > 1:
                continue  # a line of an algorithm box
            if n in allowed or number in allowed:
                continue
            bare = n.lstrip("-")
            ratio = number[-1] in "x×%"  # a result, never a setting
            setting = n in PACKAGE or bare in PACKAGE or n in settings or bare in settings
            if setting and not ratio:
                continue
            if number.endswith("%") and fraction(bare) & (PACKAGE | settings):
                continue  # a fraction that is a setting, written as a percentage ("on 20%")
            flagged.append((number, s[:140]))
    return flagged


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_numbers_a_cell_computes_are_glued_not_typed(md):
    flagged = typed_numbers(md)
    assert not flagged, (
        f"{md.name}: numbers typed in the prose; glue them from the cell that computes them "
        "(rlbook.prose.glue and {glue:text}`name:FORMAT`), cite the paper they come from, or "
        "list them in tests/typed_numbers.yml with why:\n"
        + "\n".join(f"  {n!r} in: {s}" for n, s in flagged)
    )


def test_every_allowed_typed_number_is_still_in_its_chapter_and_says_why():
    for stem, entries in ALLOWED.items():
        md = ROOT / "chapters" / f"{stem}.md"
        assert md.exists(), f"tests/typed_numbers.yml names a chapter that is not there: {stem}"
        text = md.read_text()
        for entry in entries:
            assert entry.get("why"), f"{stem}: {entry['number']} is listed without a reason"
            assert str(entry["number"]) in text, f"{stem}: {entry['number']} is no longer there"


def test_the_check_catches_a_typed_result():
    """Seen failing: a return typed in a sentence, with the same number only in a plot call."""
    md = ROOT / "chapters" / "_typed_probe.md"
    md.write_text(
        "---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n"
        "  name: python3\n  display_name: Python 3\n---\n\n# Probe\n\n"
        "```{code-cell} ipython3\nax.axhline(-132, ls=':')\nrun(alpha=0.02)\n```\n\n"
        "Near-optimal control scores about $-132$, and TD3 is $8.0\\times$ faster, with an "
        "error of $2.8 \\times 10^{-4}$ at $\\alpha = 0.02$; 43% of starts.\n"
    )
    try:
        flagged = {n for n, _ in typed_numbers(md)}
    finally:
        md.unlink()
    assert flagged == {"-132", "8.0×", "2.8e-4", "43%"}, flagged
