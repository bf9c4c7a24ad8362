"""The code maps line by line to the pseudocode: every tag in the package cites a line that
exists in the book, every line of an implemented box that updates parameters, targets, the buffer
or the noise has tagged code, and every chapter shows the package's code beside its box."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("linemap", ROOT / "tools" / "linemap.py")
linemap = importlib.util.module_from_spec(spec)
spec.loader.exec_module(linemap)

#: algorithm boxes the package implements (all of the book's)
IMPLEMENTED = {
    "ddpg": "ddpg.md",
    "td3": "td3.md",
    "sac": "sac.md",
    "pcl": "pcl.md",
    "fitted-q-iteration-explicit": "embedded_optimization.md",
    "fitted-q-iteration-amortized": "embedded_optimization.md",
    "nfqca": "nfqca.md",
    "fitted-q-iteration-batch": "fqi.md",
    "nfqi-flattened-ema": "fqi.md",
    "dqn": "fqi.md",
    "double-dqn": "fqi.md",
}
BOXES = linemap.algorithm_lines()
TAGS = linemap.package_tags(labels=BOXES)


def test_the_parser_numbers_nested_lines_in_full():
    assert BOXES["td3"]["5.8.1"].startswith(r"$\tilde{a}_i \leftarrow")
    assert BOXES["ddpg"]["6.10.2"].startswith(r"$\boldsymbol{w}_{\text{target}} \leftarrow")
    assert linemap.is_update(BOXES["ddpg"]["6.5"]) and not linemap.is_update(BOXES["ddpg"]["5"])


def test_every_tag_cites_a_line_that_exists():
    bad = {label: tags["?"] for label, tags in TAGS.items() if "?" in tags}
    assert not bad, f"tags citing lines that are not in the book: {bad}"


@pytest.mark.parametrize("label", sorted(IMPLEMENTED))
def test_every_update_line_has_tagged_code(label):
    assert label in BOXES, f"no algorithm box labelled {label}"
    missing = [n for n in linemap.update_lines(BOXES)[label] if n not in TAGS.get(label, {})]
    assert not missing, (
        f"{label}: lines {missing} update parameters, targets, the buffer or the noise but no "
        f"code carries the tag '# {label} N' for them"
    )


# The package's docstrings name a box as plain text ("Algorithm ``ddpg``", "Algorithms ``dqn``
# and ``double-dqn``"): help() shows no MyST roles; the chapters add the links around the code.
CITATION = re.compile(r"Algorithms?\s+((?:``[\w-]+``(?:,\s*(?:and\s+)?|\s+and\s+)?)+)")


def test_every_algorithm_cited_in_the_package_exists_in_the_book():
    cited = set()
    for py in (ROOT / "code" / "rlbook").rglob("*.py"):
        text = py.read_text()
        assert "{prf:ref}" not in text, (
            f"{py.name}: a MyST role in a docstring (help() shows it raw)"
        )
        for names in CITATION.findall(text):
            cited |= set(re.findall(r"``([\w-]+)``", names))
    assert cited - set(BOXES) == set(), f"labels cited in docstrings but not in the book: {cited}"
    assert set(IMPLEMENTED) <= cited


@pytest.mark.parametrize("label", sorted(IMPLEMENTED))
def test_each_box_is_followed_by_the_package_code(label):
    text = (ROOT / "chapters" / IMPLEMENTED[label]).read_text()
    start = text.index(f":label: {label}")
    after = text[start : start + 6000]
    box_end = after.index("\n```\n")
    following = after[box_end : box_end + 2500]
    includes = re.findall(r"```\{literalinclude\} (\S+)\n:pyobject: (\S+)", following)
    assert includes, f"{label}: no literalinclude of the package's code right after the box"
    for path, obj in includes:
        source = (ROOT / "chapters" / path).resolve()
        assert source.is_file(), path
        name = obj.split(".")[-1]
        assert re.search(rf"^\s*(def|class) {name}\b", source.read_text(), re.M), obj
