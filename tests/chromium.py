"""Debian's Chromium as the browser tests and the JupyterLab test launch it (Playwright, offline)."""

import shutil

EXECUTABLE = shutil.which("chromium") or "/usr/bin/chromium"

#: headless, sandbox off (CI runs as root), and none of Chromium's own network traffic
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright):
    """A headless Chromium browser of ``playwright`` (a ``sync_playwright()`` context)."""
    return playwright.chromium.launch(executable_path=EXECUTABLE, args=ARGS)
