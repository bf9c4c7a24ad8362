"""Internal links and anchors of the built book: every toc entry, cross-reference and citation."""

from html.parser import HTMLParser
from urllib.parse import unquote, urlparse

import pytest

from browser_support import HTML, built_pages


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def _parse(path):
    c = _Collect()
    c.feed(path.read_text(encoding="utf-8"))
    return c


@pytest.fixture(scope="module")
def parsed():
    if not (HTML / "index.html").exists():
        pytest.fail("the book is not built: run `make book` first (make test does)")
    return {name: _parse(HTML / name) for name in built_pages()}


def test_internal_links_and_anchors_resolve(parsed):
    broken = []
    for name, page in parsed.items():
        base = HTML / name
        for href in page.links:
            url = urlparse(href)
            if url.scheme or href.startswith(("mailto:", "javascript:")):
                continue
            target = (base.parent / unquote(url.path)).resolve() if url.path else base
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{name}: {href} (no such file)")
                continue
            if url.fragment and target.suffix == ".html":
                rel = target.relative_to(HTML).as_posix()
                ids = parsed[rel].ids if rel in parsed else _parse(target).ids
                if unquote(url.fragment) not in ids:
                    broken.append(f"{name}: {href} (no anchor)")
    assert not broken, "\n".join(broken[:20])


def test_citations_link_to_the_bibliography(parsed):
    cites = [(n, h) for n, p in parsed.items() for h in p.links if "bibliography.html#id" in h]
    assert cites, "no citation links found"
