"""Print the pace of the built book's chapters: the longest stretch of prose without a figure,
algorithm box, table or slider, in screens at 1366x768 (the measurement of
tests/browser/test_pace.py, without pytest).

    .venv/bin/python tools/pace.py [--html BUILD/_build/html] [PAGE ...]

PAGE is a page of the build (``chapters/sac.html``, or ``sac``); by default every chapter.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "browser")]

import chromium  # noqa: E402
from browser_support import HTML  # noqa: E402


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="*", help="pages to measure (default: every chapter)")
    parser.add_argument("--html", type=Path, default=HTML, help=f"the build (default {HTML})")
    parser.add_argument(
        "--over", type=float, default=3.0, help="also list every stretch over this many screens"
    )
    parser.add_argument(
        "--exercises-as-prose",
        action="store_true",
        help="do not count an exercise box as a break (the test does)",
    )
    args = parser.parse_args(argv)
    html = args.html
    if not (html / "index.html").exists():
        parser.error(f"--html {html}: no index.html there (build the book first)")
    import test_pace  # after sys.path: the test module holds the measurement
    from playwright.sync_api import sync_playwright

    pages = [p if p.endswith(".html") else f"chapters/{p}.html" for p in args.pages] or sorted(
        p.relative_to(html).as_posix() for p in (html / "chapters").glob("*.html")
    )
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(html))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    server = f"http://127.0.0.1:{httpd.server_address[1]}"
    over = 0
    try:
        with sync_playwright() as p:
            browser = chromium.launch(p)
            for name in pages:
                page = test_pace.open_page(browser, server, name)
                try:
                    found = test_pace.measure(page, exercises=not args.exercises_as_prose)
                finally:
                    page.close()
                long = [r for r in found["runs"] if r["screens"] > args.over]
                over += found["longest"]["screens"] > test_pace.MAX_SCREENS
                print(f"{name}: longest {test_pace.describe(found['longest'])}", flush=True)
                for run in long:
                    print(f"    {test_pace.describe(run)}", flush=True)
            browser.close()
    finally:
        httpd.shutdown()
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
