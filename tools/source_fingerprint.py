"""A fingerprint of the book's source chapter, committed so the tests need no file outside the repository.

The book grew from one source chapter (Pierre-Luc Bacon's "Fitted Q-Iteration for Continuous
Action Spaces", ``amortization.md``), which is not part of this repository. This tool reads it and
writes ``tests/source_fingerprint.json``: its sha256, its headings (level and text), the labels of
its algorithm boxes, its citation keys, its display equations, normalised by
:func:`normalise_equation` (with the ``$$ (label)`` each carries), and the hashes of every run of
:data:`SHINGLE` words of its prose (:func:`prose_shingles`; hashes, so the source's sentences are
not copied into this repository). ``tests/test_book.py`` checks the
book against that file, and against ``tests/source_map.yml`` (which section of the book covers
each heading, which equations the book changes and where it says why). Run it again when the
source changes::

    python tools/source_fingerprint.py [PATH_TO_SOURCE]          # write the fingerprint
    python tools/source_fingerprint.py --check [PATH_TO_SOURCE]  # exit 1 if it is stale
    python tools/source_fingerprint.py --overlap chapters/*.md    # the book's passages that
                                                # share a run of SHINGLE words with the source

``PATH_TO_SOURCE`` defaults to ``../shared/source/amortization.md`` relative to the repository root.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "source" / "amortization.md"
FINGERPRINT = ROOT / "tests" / "source_fingerprint.json"

FENCE = re.compile(r"^(`{3,}|~{3,})")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
ALGORITHM_LABEL = re.compile(r"```\{prf:algorithm\}[^\n]*\n:label: ([\w-]+)")
# a display equation, and the label MyST writes after it: $$ ... $$ (label)
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$(?:[ \t]*\(([\w-]+)\))?", re.S)
CITATION = re.compile(r"\{cite[pt]?\}`([^`]+)`")
# Runs of this many words that the book's prose shares with the source's count as kept verbatim
# (tests/test_book.py); shorter runs are the field's common phrases ("the replay buffer").
SHINGLE = 10


def body(text: str) -> str:
    """The text without its YAML front matter."""
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            return text[end + 4 :]
    return text


def headings(text: str) -> list[tuple[int, str]]:
    """``(level, text)`` of every Markdown heading outside fenced blocks (code cells, directives)."""
    found, fence = [], None
    for line in body(text).splitlines():
        m = FENCE.match(line)
        if m:
            if fence is None:
                fence = m.group(1)
            elif line.strip() == fence:
                fence = None
            continue
        h = HEADING.match(line) if fence is None else None
        if h:
            found.append((len(h.group(1)), h.group(2).strip()))
    return found


def algorithm_labels(text: str) -> list[str]:
    return ALGORITHM_LABEL.findall(text)


def normalise_equation(tex: str) -> str:
    r"""Whitespace collapsed to one space, ``\label{..}``, ``\tag{..}`` and ``\nonumber`` removed."""
    tex = re.sub(r"\\(label|tag\*?)\{[^{}]*\}|\\nonumber\b", " ", tex)
    return re.sub(r"\s+", " ", tex).strip()


def equations(text: str) -> list[dict]:
    """Every display equation, normalised, with its MyST label (or None)."""
    return [
        {"tex": normalise_equation(m.group(1)), "label": m.group(2)}
        for m in DISPLAY_MATH.finditer(text)
    ]


def citations(text: str) -> list[str]:
    keys = set()
    for group in CITATION.findall(text):
        keys |= {k.strip() for k in group.split(",")}
    return sorted(keys)


def prose_words(text: str) -> list[str]:
    """The words of the prose: fenced blocks (code, directives' fences), display math, MyST
    targets and roles' markup dropped, inline math one token ``$``, lower case, punctuation
    stripped. Paragraph breaks are kept as ``None`` so that no run spans two paragraphs."""
    lines, fence, code = [], None, False
    for line in body(text).splitlines():
        m = FENCE.match(line)
        if m:
            if fence is None:
                fence = m.group(1)
                # a code cell or code block is not prose; a directive's body (an admonition, an
                # algorithm box) is
                code = not line[len(fence) :].lstrip().startswith("{") or "code" in line
            elif line.strip() == fence:
                fence = None
            lines.append("")
            continue
        if (fence and code) or line.startswith(":") or re.match(r"^\([\w:.-]+\)=\s*$", line):
            lines.append("")
        else:
            lines.append(line)
    prose = "\n".join(lines)
    prose = re.sub(r"\$\$.+?\$\$", "\n\n", prose, flags=re.S)
    prose = re.sub(r"\$[^$\n]+\$", " $ ", prose)
    prose = re.sub(r"\{[\w:-]+\}`[^`]*`", " ", prose)  # roles: {cite}`x`, {prf:ref}`y`
    words: list[str | None] = []
    for para in re.split(r"\n\s*\n", prose):
        for w in para.split():
            w = re.sub(r"[^\w$'-]", "", w.lower())
            if w:
                words.append(w)
        words.append(None)
    return words


def shingle_hash(run: list[str]) -> str:
    return hashlib.sha256(" ".join(run).encode()).hexdigest()[:16]


def prose_shingles(text: str, n: int = SHINGLE) -> dict[str, int]:
    """``{hash of a run of n words: index of its first word in prose_words(text)}``."""
    words = prose_words(text)
    found = {}
    for i in range(len(words) - n + 1):
        run = words[i : i + n]
        if None not in run:
            found.setdefault(shingle_hash(run), i)
    return found


def overlap(text: str, shingles: set[str], n: int = SHINGLE) -> list[str]:
    """The passages of ``text``'s prose (as normalised words) that share a run of ``n`` words
    with the source (``shingles``: the fingerprint's hashes), merged where they touch."""
    words = prose_words(text)
    hit = [False] * len(words)
    for i in range(len(words) - n + 1):
        run = words[i : i + n]
        if None not in run and shingle_hash(run) in shingles:
            hit[i : i + n] = [True] * n
    passages, start = [], None
    for i, h in enumerate(hit + [False]):
        if h and start is None:
            start = i
        elif not h and start is not None:
            passages.append(" ".join(w for w in words[start:i] if w))
            start = None
    return passages


def fingerprint(path: Path) -> dict:
    raw = path.read_bytes()
    text = raw.decode("utf8")
    return {
        "source": path.name,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "made_by": "python tools/source_fingerprint.py [PATH_TO_SOURCE]",
        "headings": [{"level": level, "text": t} for level, t in headings(text)],
        "algorithm_labels": algorithm_labels(text),
        "citations": citations(text),
        "equations": equations(text),
        "prose_shingles": sorted(prose_shingles(text)),
    }


def dumps(fp: dict) -> str:
    """JSON with one list item a line, so a diff of the fingerprint shows what changed."""

    def value(v):
        if isinstance(v, list):
            items = ",\n".join(f"  {json.dumps(x, ensure_ascii=False)}" for x in v)
            return f"[\n{items}\n ]"
        return json.dumps(v, ensure_ascii=False)

    return "{\n" + ",\n".join(f" {json.dumps(k)}: {value(v)}" for k, v in fp.items()) + "\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--out", type=Path, default=FINGERPRINT)
    parser.add_argument(
        "--overlap",
        nargs="+",
        type=Path,
        metavar="PAGE",
        help="list passages of these pages kept from the source (reads only the fingerprint)",
    )
    args = parser.parse_args(argv)
    if args.overlap:
        shingles = set(json.loads(FINGERPRINT.read_text())["prose_shingles"])
        total = 0
        for page in args.overlap:
            found = overlap(page.read_text(), shingles)
            words = sum(len(p.split()) for p in found)
            total += words
            print(f"{page}: {len(found)} passages, {words} words kept from the source")
            for p in found:
                print(f"    - {p}")
        return 1 if total else 0
    if not args.source.exists():
        print(f"no source at {args.source}", file=sys.stderr)
        return 2
    text = dumps(fingerprint(args.source))
    if args.check:
        same = args.out.exists() and args.out.read_text() == text
        print(f"{args.out} is {'up to date' if same else 'STALE: run without --check'}")
        return 0 if same else 1
    args.out.write_text(text)
    fp = json.loads(text)
    print(
        f"wrote {args.out}: {len(fp['headings'])} headings, {len(fp['algorithm_labels'])} "
        f"algorithm labels, {len(fp['equations'])} equations, {len(fp['citations'])} citation keys, "
        f"{len(fp['prose_shingles'])} runs of {SHINGLE} words"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
