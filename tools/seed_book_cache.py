"""Hand the notebooks nbval executed to the book build, so it does not execute them again.

    python tools/seed_book_cache.py RECORDED_DIR CACHE_DIR CONFIG_OUT

For each ``chapters/NAME.md`` with a recorded ``RECORDED_DIR/NAME.ipynb`` (written by the
``nbval_record`` pytest plugin during ``make notebooks``), the chapter is read the way the book
reads it (myst-nb's MyST-notebook reader), its code cells are checked to be the recorded ones, the
recorded outputs are merged in (a knob's widget view dropped beside its HTML, no widget state: the
pages load no widget manager), and the result is stored in a fresh jupyter-cache
at ``CACHE_DIR``. ``CONFIG_OUT`` is written as ``_config.yml`` with ``execute_notebooks: cache`` on
that cache, for ``jupyter-book build --config``. A chapter without a recording, or whose code
changed since, is not seeded: the build then executes it itself (and this script says so); no
chapter is seeded if the package (``code/``) or ``pyproject.toml`` differ from what the
recordings were made from (``PROVENANCE.json``, written by ``tools/colab_alone.sh``). Each
stored notebook is looked up again the way myst-nb looks it up, so a seeded chapter is one the
build will not execute.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from myst_nb.core.read import read_myst_markdown_notebook
from myst_parser.config.main import MdParserConfig

ROOT = Path(__file__).resolve().parent.parent


def chapter_notebook(md: Path, extensions) -> nbformat.NotebookNode:
    config = MdParserConfig(enable_extensions=set(extensions))
    return read_myst_markdown_notebook(
        md.read_text(encoding="utf8"), config=config, add_source_map=True, path=md
    )


def merge(book_nb, recorded, name: str = "the chapter") -> nbformat.NotebookNode | None:
    """The book's notebook with the recorded outputs, or None if the code cells differ.
    ``name`` (``chapters/NAME.md``) names the chapter in a refusal."""
    book_code = [c for c in book_nb.cells if c.cell_type == "code"]
    run_code = [c for c in recorded.cells if c.cell_type == "code"]
    if [c.source.strip() for c in book_code] != [c.source.strip() for c in run_code]:
        return None
    lines = book_nb.metadata.get("source_map") or []
    for cell, run in zip(book_code, run_code, strict=True):
        # rlbook.prose.glue's "name = value" line is for notebooks whose prose is not filled in
        # (nbval ran them as readers do); the book fills its prose in, so the line goes
        outputs = [o for o in run.outputs if "rlbook_glue" not in o.get("metadata", {})]
        index = book_nb.cells.index(cell)
        where = f"{name} line {lines[index] + 1}" if index < len(lines) else f"{name}, a cell"
        for output in outputs:
            without_widget(output, where)
        cell.outputs, cell.execution_count = outputs, run.execution_count
    # no widget state: the book's pages load no widget manager (a knob is its HTML there)
    if "language_info" in recorded.metadata:
        book_nb.metadata["language_info"] = recorded.metadata["language_info"]
    return book_nb


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def without_widget(output, where: str) -> None:
    """The output as the book's build shows it: a knob displayed in a kernel carries its static
    part as ``text/html`` beside the widget view (``rlbook.widgets.Knob``), and the book, which
    loads no widget manager, keeps the HTML alone, as the build with ``RLBOOK_BOOK=1`` makes it.
    A widget without that HTML would show nothing in the book: refused, naming the cell."""
    data = output.get("data", {})
    if WIDGET_VIEW not in data:
        return
    if "text/html" not in data:
        raise ValueError(
            f"{where}: a cell displays a widget with no text/html beside it; the book loads no "
            "widget manager, so it would show nothing (display HTML, as rlbook.widgets.knob does)"
        )
    del data[WIDGET_VIEW]


def provenance_mismatch(recorded_dir: Path) -> str | None:
    """Why the recordings may not belong to this checkout's package, or None if they do: they
    were made from a tree whose ``code/`` and ``pyproject.toml`` must be this checkout's (tracked
    files and changes; an untracked file under ``code/`` is in the book's package only)."""
    saved = recorded_dir / "PROVENANCE.json"
    if not saved.exists():
        return f"{saved} is missing"

    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    rev = git("stash", "create").strip() or "HEAD"
    now = {
        "code": git("rev-parse", f"{rev}:code").strip(),
        "pyproject": git("rev-parse", f"{rev}:pyproject.toml").strip(),
    }
    if json.loads(saved.read_text()) != now:
        return "the package or pyproject.toml changed since `make notebooks` recorded them"
    if git("ls-files", "--others", "--exclude-standard", "--", "code").strip():
        return "untracked files under code/ are in the book's package but were not recorded"
    return None


def main(recorded_dir: Path, cache_dir: Path, config_out: Path) -> int:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf8"))
    stale = provenance_mismatch(recorded_dir)
    if stale:
        print(f"seed_book_cache: not seeding: {stale}; the build executes every chapter")
    extensions = config.get("parse", {}).get("myst_enable_extensions", [])
    if cache_dir.exists():
        shutil.rmtree(cache_dir)
    cache = get_cache(str(cache_dir))
    seeded, missing = [], []
    for md in sorted((ROOT / "chapters").glob("*.md")):
        run_path = recorded_dir / f"{md.stem}.ipynb"
        if stale:
            missing.append(md.stem)
            continue
        book_nb = chapter_notebook(md, extensions)
        recorded = nbformat.read(run_path, as_version=4) if run_path.exists() else None
        where = f"chapters/{md.name}"
        nb = merge(book_nb, recorded, where) if recorded is not None else None
        if nb is None:
            missing.append(md.stem)
            continue
        # the time of the run that produced these outputs, for the exec-stats page (read from the
        # recording: the merged notebook is the book's, which does not carry it)
        seconds = recorded.metadata.get("rlbook", {}).get("execution_seconds")
        bundle = CacheBundleIn(nb, str(md), data={"execution_seconds": seconds})
        cache.cache_notebook_bundle(bundle, check_validity=True, overwrite=True)
        cache.match_cache_notebook(chapter_notebook(md, extensions))  # raises KeyError if not
        seeded.append(md.stem)
    config["execute"] = {**config.get("execute", {}), "execute_notebooks": "cache"}
    # jupyter-book resolves local extensions' folders against the config file's folder
    extensions_at = config.get("sphinx", {}).get("local_extensions") or {}
    for name, folder in extensions_at.items():
        extensions_at[name] = str((ROOT / folder).resolve())
    config["execute"]["cache"] = str(cache_dir.resolve())
    config_out.parent.mkdir(parents=True, exist_ok=True)
    config_out.write_text(
        "# Generated by tools/seed_book_cache.py from _config.yml: the book build reuses what\n"
        "# nbval executed. Do not edit.\n" + yaml.safe_dump(config, sort_keys=False),
        encoding="utf8",
    )
    print(f"seed_book_cache: {len(seeded)} chapters from nbval's run: {', '.join(seeded)}")
    if missing:
        print(
            f"seed_book_cache: {len(missing)} chapters not recorded or changed since, the build "
            f"executes them: {', '.join(missing)}"
        )
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*(Path(a) for a in sys.argv[1:])))
