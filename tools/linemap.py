"""The pseudocode line map: numbered lines of every algorithm box, and the tags in the package.

An algorithm box (```{prf:algorithm}``` with ``:label: NAME``) numbers its steps as nested
Markdown lists; line ``6.10.2`` is the second item of the tenth item of the sixth. Code in
``code/rlbook`` cites a line with a comment ``# NAME 6.10.2`` (or a range ``# NAME 4.7-4.8``, or
several: ``# ddpg 6.8, td3 5.10-5.11``).
``tests/test_linemap.py`` uses this module; run it directly to print the map.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOX = re.compile(r"^```\{prf:algorithm\}[^\n]*\n(?P<body>.*?)^```\s*$", re.S | re.M)
ITEM = re.compile(r"^(?P<indent>\s*)(?P<n>\d+)\.\s+(?P<text>.*)$")
TAG = re.compile(r"(?P<label>[a-z][a-z0-9-]*)\s+(?P<a>\d+(?:\.\d+)*)(?:-(?P<b>\d+(?:\.\d+)*))?")


def algorithm_lines(chapters: Path = ROOT / "chapters") -> dict[str, dict[str, str]]:
    """``{label: {line number: text}}`` for every algorithm box of the book."""
    boxes = {}
    for md in sorted(chapters.glob("*.md")):
        for m in BOX.finditer(md.read_text()):
            body = m.group("body")
            label = re.search(r"^:label:\s*(\S+)", body, re.M)
            if not label:
                continue
            lines, stack = {}, []  # stack of (indent, number)
            for raw in body.splitlines():
                item = ITEM.match(raw)
                if not item:
                    continue
                indent = len(item.group("indent").expandtabs(4))
                while stack and stack[-1][0] >= indent:
                    stack.pop()
                stack.append((indent, item.group("n")))
                lines[".".join(n for _, n in stack)] = item.group("text").strip()
            boxes[label.group(1)] = lines
    return boxes


def _expand(a: str, b: str | None, known: list[str]) -> list[str]:
    if b is None:
        return [a]
    i, j = known.index(a), known.index(b)  # a range cites every line between, in box order
    return known[i : j + 1]


def package_tags(package: Path = ROOT / "code" / "rlbook", labels=None) -> dict[str, dict]:
    """``{label: {line number: [file:line, ...]}}`` for every tag in the package whose label is in
    ``labels``; tags citing a line that does not exist are collected under ``"?"``."""
    boxes = algorithm_lines() if labels is None else labels
    found: dict[str, dict] = {}
    for py in sorted(package.rglob("*.py")):  # subpackages too (rlbook/checks/)
        for k, line in enumerate(py.read_text().splitlines(), start=1):
            if "#" not in line:
                continue
            for m in TAG.finditer(line[line.index("#") :]):
                label = m.group("label")
                if label not in boxes:
                    continue
                known = list(boxes[label])
                where = f"{py.relative_to(package)}:{k}"
                try:
                    numbers = _expand(m.group("a"), m.group("b"), known)
                except ValueError:
                    numbers = []
                if not numbers or any(n not in boxes[label] for n in numbers):
                    found.setdefault(label, {}).setdefault("?", []).append(f"{where} {m.group(0)}")
                    continue
                for n in numbers:
                    found.setdefault(label, {}).setdefault(n, []).append(where)
    return found


def is_update(text: str) -> bool:
    """Does this pseudocode line change parameters, targets, the replay buffer or the noise?

    Yes for an assignment whose left side is a parameter vector (``\\boldsymbol{...}
    \\leftarrow``), an initialisation of parameters, a buffer or a noise process, storing in or
    removing from a buffer, and an action that adds exploration noise (``\\eta``). Counters
    (``t <- t + 1``), scratch datasets and control flow are not updates.
    """
    if "\\leftarrow" in text:
        lhs = text.split("\\leftarrow", 1)[0]
        if "\\boldsymbol" in lhs or ("\\eta" in text.split("\\leftarrow", 1)[1] and "a" in lhs):
            return True
    low = text.lower()
    if low.startswith("initiali") and any(w in low for w in ("boldsymbol", "buffer", "noise")):
        return True
    return low.startswith(("store", "remove")) or " store " in low


def update_lines(boxes=None) -> dict[str, list[str]]:
    """The lines of each box that change state (:func:`is_update`), which must carry a tag."""
    boxes = algorithm_lines() if boxes is None else boxes
    return {
        label: [n for n, text in lines.items() if is_update(text)] for label, lines in boxes.items()
    }


if __name__ == "__main__":
    boxes = algorithm_lines()
    tags = package_tags(labels=boxes)
    for label, lines in boxes.items():
        print(f"== {label}")
        updates = set(update_lines(boxes)[label])
        for n, text in lines.items():
            cited = tags.get(label, {}).get(n, [])
            flag = "U" if n in updates else " "
            print(
                f"  {flag} {n:8s} {'[' + ', '.join(cited) + ']' if cited else '-':34s} {text[:70]}"
            )
        if "?" in tags.get(label, {}):
            print("  bad tags:", tags[label]["?"])
