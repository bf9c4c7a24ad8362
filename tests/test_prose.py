"""rlbook.prose.glue writes what myst-nb's {glue:text} role reads, with or without myst-nb."""

import nbformat
import numpy as np
import pytest
import torch
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from rlbook import prose


def glued_outputs(monkeypatch, book: bool, *calls):
    if book:
        monkeypatch.setenv("RLBOOK_BOOK", "1")
    else:
        monkeypatch.delenv("RLBOOK_BOOK", raising=False)
    InteractiveShell.instance()
    with capture_output() as captured:
        for name, value in calls:
            prose.glue(name, value)
    return [
        nbformat.v4.new_output("display_data", data=o.data, metadata=o.metadata)
        for o in captured.outputs
    ]


def test_myst_nb_reads_the_values_and_hides_the_records(monkeypatch):
    from myst_nb.ext.glue import extract_glue_data

    outputs = glued_outputs(
        monkeypatch, True, ("ratio", np.float32(2.5)), ("count", torch.tensor(7)), ("s", "x")
    )
    cell = nbformat.v4.new_code_cell("...", outputs=outputs)
    nb = nbformat.v4.new_notebook(cells=[cell])
    data = extract_glue_data(nb, [0], logger=None)
    assert {k: v["data"]["text/plain"] for k, v in data.items()} == {
        "ratio": "2.5",
        "count": "7",
        "s": "x",
    }
    assert cell.outputs == []  # nothing of it shows on the page
    assert prose.glued["ratio"] == 2.5


def test_outside_the_book_each_value_is_also_shown_under_the_cell(monkeypatch):
    outputs = glued_outputs(monkeypatch, False, ("bias", -6.3125))
    shown = [o for o in outputs if prose.ECHO in o.metadata]
    assert [o.data["text/plain"] for o in shown] == ["bias = -6.312"]


@pytest.mark.parametrize("name", ["a b", "", "x-y", "{x}"])
def test_a_name_that_a_role_cannot_hold_is_refused(name):
    with pytest.raises(ValueError, match="glue name"):
        prose.glue(name, 1.0)


@pytest.mark.parametrize("value", [True, [1.0], np.zeros(2), None])
def test_a_value_that_is_not_one_number_or_a_string_is_refused(value):
    with pytest.raises(TypeError, match="glue a number or a string"):
        prose.glue("x", value)


def test_the_book_built_from_recorded_notebooks_drops_the_echo_and_keeps_the_record(monkeypatch):
    """make book-from-notebooks merges what nbval ran as a reader (echo lines and all)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "tools" / "seed_book_cache.py"
    spec = importlib.util.spec_from_file_location("seed_book_cache", path)
    seed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(seed)
    outputs = glued_outputs(monkeypatch, False, ("bias", -6.3))
    assert len(outputs) == 2
    recorded = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=outputs)])
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x")])
    merged = seed.merge(book, recorded)
    assert [o.metadata.get("scrapbook", {}).get("name") for o in merged.cells[0].outputs] == [
        "bias"
    ]
