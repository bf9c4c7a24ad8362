"""Where a chapter's execution time goes: every chapter's total and its slowest cells.

    make notebooks                        # nbval executes every chapter and records it
    .venv/bin/python benchmarks/chapter_times.py [--dir _build/nbval] [--cells 3]

Reads the notebooks that ``make notebooks`` recorded (``tools/nbval_record.py`` keeps each cell's
seconds), prints the CPU they ran on, each chapter's total with its slowest cells (named by their
first line, usually a comment saying what the cell does: training, evaluation, a knob's grid, a
plot), and, when ``make test`` ran, its stage times (``_build/test-stages.txt``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rlbook.provenance import cpu_summary

ROOT = Path(__file__).resolve().parent.parent


def first_line(source: str) -> str:
    """What a cell does, in one line: its first statement other than an import (the chapters'
    cells open with their imports), or its first comment."""
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    for line in lines:
        if not line.startswith(("import ", "from ", "#", "%")):
            return line[:70]
    return (lines[0] if lines else "(empty)")[:70]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=ROOT / "_build" / "nbval")
    parser.add_argument("--cells", type=int, default=3, help="slowest cells shown per chapter")
    args = parser.parse_args()
    files = sorted(args.dir.glob("*.ipynb"))
    if not files:
        raise SystemExit(f"no recorded notebooks in {args.dir}: run `make notebooks` first")
    print(f"CPU: {cpu_summary()}")
    rows = []
    for path in files:
        nb = json.loads(path.read_text(encoding="utf8"))
        meta = nb["metadata"].get("rlbook", {})
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        cells = sorted(
            zip(meta.get("cell_seconds", []), code, strict=False),
            key=lambda x: -(x[0] or 0),
        )
        rows.append((meta.get("execution_seconds", float("nan")), path.stem, cells))
    total = sum(r[0] for r in rows)
    print(f"\n{'chapter':24s}{'seconds':>9s}   slowest cells (seconds, first line)")
    for seconds, name, cells in sorted(rows, key=lambda r: -r[0]):
        print(f"{name:24s}{seconds:9.1f}")
        for cell_seconds, cell in cells[: args.cells]:
            if cell_seconds:
                src = (
                    "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                )
                print(f"{'':24s}{cell_seconds:9.1f}   {first_line(src)}")
    print(f"{'all chapters':24s}{total:9.1f}")
    stages = ROOT / "_build" / "test-stages.txt"
    if stages.exists():
        print("\n" + stages.read_text(encoding="utf8").rstrip())


if __name__ == "__main__":
    main()
