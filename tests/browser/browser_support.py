"""Paths and page discovery shared by the browser tests."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# RLBOOK_HTML: another build to check (e.g. a cached build in another folder)
HTML = Path(os.environ.get("RLBOOK_HTML", ROOT / "_build" / "html"))
SHOTS = ROOT / "screenshots"


def built_pages() -> list[str]:
    """Pages of the built book (relative to ``_build/html``), without Sphinx's own folders."""
    if not (HTML / "index.html").exists():
        return []
    pages = [p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")]
    skip = ("_static/", "_sources/", "reports/", "@jupyter-widgets/")
    return sorted(p for p in pages if not p.startswith(skip) and p != "index.html")
