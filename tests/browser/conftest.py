"""Fixtures for checking the built book (``_build/html``) in headless Chromium, offline.

These tests run after ``jupyter-book build`` (``make browser``, part of ``make test``). Chromium is
Debian's (``/usr/bin/chromium``), driven by Playwright from PyPI; Playwright's own browser download
is never used. Every request that does not go to the local server is aborted and recorded, so a page
that needs the network fails its test instead of silently loading from a CDN.
"""

import functools
import http.server
import threading
from pathlib import Path

import pytest

import chromium
from browser_support import HTML


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def server():
    if not (HTML / "index.html").exists():
        pytest.fail("the book is not built: run `make book` first (make test does)")
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HTML))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(chromium.EXECUTABLE).exists():
        pytest.fail("Debian's chromium is not installed: run `make browser-deps` (make test does)")
    with sync_playwright() as p:
        b = chromium.launch(p)
        yield b
        b.close()
