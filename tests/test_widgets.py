"""Every knob of rlbook.widgets driven through a real Jupyter kernel.

The cells below run in a kernel started by nbclient, as a reader's notebook would: each sets a
control, checks that the displayed figure changes, and that the data behind it equals a direct
call of the function in rlbook.knobs (bit-identical on purpose: the same computation, in the same
kernel on the same machine). The TD3 runs behind two knobs are shrunk to a few hundred
steps so that the test stays fast; the wiring, not the learning, is under test here.
"""

import textwrap

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

CELLS = [
    """
    import numpy as np
    import torch
    torch.set_num_threads(1)
    from rlbook import knobs, widgets
    knobs.KNOB_TD3.update(total_steps=300, warmup_steps=100, hidden=(16, 16), eval_every=100,
                          eval_episodes=2)
    """,
    # OU: static images differ per theta; the live panel follows every control
    """
    k = widgets.ou_knob(thetas=(0.15, 15.0))
    assert len(k.static.images) == 2 and k.static.pngs[0] != k.static.pngs[1]
    # displayed, the knob is its widget view with its static part as HTML beside it (for pages
    # and viewers without widgets)
    bundle = k._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"] == k.html and 'class="rlbook-static-knob"' in k.html
    assert k.static.stack.selected_index == 0 and k.static.slider.index == 0
    # 2x images (sharp on high-density screens), shown at half their pixel width, recording their
    # dpi and smallest font as the chapters' figures do (tests/browser/test_figures.py reads them)
    import io
    from PIL import Image
    for png, image in zip(k.static.pngs, k.static.images):
        pil = Image.open(io.BytesIO(png))
        pil.load()
        assert pil.mode == "P" and pil.text["rlbook:dpi"] == "200", (pil.mode, pil.text)
        assert float(pil.text["rlbook:min-font-pt"]) >= 9
        assert image.width == str(round(pil.width / 2)), (image.width, pil.width)
    live = k.live
    assert live.result is None and live.image.value == b""
    live.controls["theta"].value = 2.0
    first = live.image.value
    assert first[:4] == b"\\x89PNG", "no figure after moving theta"
    assert live.image.width == str(round(Image.open(io.BytesIO(first)).width / 2))
    direct = knobs.ou_experiment(theta=2.0, sigma=0.2, mu=0.0, dt=1e-2, seed=0)
    np.testing.assert_array_equal(live.result["paths"]["ou"], direct["paths"]["ou"])
    live.controls["sigma"].value = 0.5
    assert live.image.value != first, "the figure did not change with sigma"
    direct = knobs.ou_experiment(theta=2.0, sigma=0.5, mu=0.0, dt=1e-2, seed=0)
    np.testing.assert_array_equal(live.result["acf_ou"], direct["acf_ou"])
    np.testing.assert_array_equal(live.result["trajectories"]["ou"][0][1],
                                  direct["trajectories"]["ou"][0][1])
    # the Gaussian it is set against has the OU path's RMS over an episode, not its stationary std
    assert direct["gaussian_std"] == direct["episode_rms"] < direct["stationary_std"]
    """,
    # tau lag
    """
    k = widgets.tau_lag_knob(taus=(0.01, 0.5))
    live = k.live
    live.controls["tau"].value = 0.1
    first = live.image.value
    assert live.result["lag_measured"] == knobs.ema_lag_experiment(0.1)["lag_measured"]
    live.controls["tau"].value = 0.01
    assert live.image.value != first
    assert live.result["lag_measured"] == knobs.ema_lag_experiment(0.01)["lag_measured"]
    """,
    # tau (TD3): the five-seed record behind toggle buttons; five seeds trained on Run
    """
    tiny = {"0.005": knobs.td3_seeds(range(2), tau=0.005), "1": knobs.td3_seeds(range(2), tau=1.0)}
    k = widgets.tau_record_knob(tiny)
    assert k.static.pngs[0] != k.static.pngs[1]
    assert type(k.static.slider).__name__ == "ToggleButtons"
    live = k.live
    live.controls["tau"].value = 0.1
    live.controls["first_seed"].value = 3
    assert live.result is None, "an expensive knob must wait for Run"
    # the steps slider starts at 2,000: the test trains 300 steps through the same compute
    live.compute = (lambda f: (lambda tau, first_seed, steps: f(tau, first_seed, 300)))(
        live.compute
    )
    live.button.click()
    variants, tau = live.result
    assert tau == "0.1" and set(variants) == {"0.005", "1", "0.1"}
    direct = knobs.tau_seeds(0.1, range(3, 8), 300)["0.1"]
    assert [r["seed"] for r in direct["runs"]] == [3, 4, 5, 6, 7]
    assert direct["runs"] == variants["0.1"]["runs"]
    assert live.image.value[:4] == b"\\x89PNG"
    """,
    # twin critics: the record's rules behind toggle buttons; five seeds of any rule on Run
    """
    tiny = {r: knobs.rule_seeds(r, range(2))[r] for r in ("ddpg", "min")}
    k = widgets.twin_record_knob(tiny)
    assert len(set(k.static.pngs)) == 2
    live = k.live
    live.controls["rule"].value = "mean"
    live.controls["first_seed"].value = 1
    live.compute = (lambda f: (lambda rule, first_seed, steps: f(rule, first_seed, 300)))(
        live.compute
    )
    live.button.click()
    first = live.image.value
    variants, rule = live.result
    assert rule == "mean" and set(variants) == {"ddpg", "min", "mean"}
    direct = knobs.rule_seeds("mean", range(1, 6), 300)["mean"]
    assert direct["runs"] == variants["mean"]["runs"]
    live.controls["rule"].value = "none"
    live.button.click()
    assert live.image.value != first
    """,
    # path length d, and a bad value reported instead of failing silently
    """
    runs = [knobs.pcl_path_length(d, episodes=40) for d in (1, 4)]
    k = widgets.path_length_knob(runs)
    assert k.static.pngs[0] != k.static.pngs[1]
    live = k.live
    live.controls["d"].value = 2
    live.controls["episodes"].value = 60
    live.button.click()
    direct = knobs.pcl_path_length(d=2, episodes=60, lam=0.0)
    np.testing.assert_array_equal(live.result["v_error"], direct["v_error"])
    np.testing.assert_array_equal(live.result["loss"], direct["loss"])
    shown = live.image.value
    live.compute = lambda **kw: knobs.pcl_path_length(d=0)
    live.button.click()
    assert "ValueError" in live.message.value and "d must be" in live.message.value
    assert not live.button.disabled
    # any exception, not only a ValueError, is shown with its type, and the figure on screen
    # keeps the values it was computed for: never relabelled with the new ones
    from rlbook.loop import TrainingDiverged

    def diverge(**kw):
        raise TrainingDiverged("loss_q became nan at step 7", None)

    live.compute = diverge
    live.controls["d"].value = 3
    live.button.click()
    message = live.message.value
    assert "TrainingDiverged" in message and "loss_q became nan" in message, message
    assert "computed for d = 2, episodes = 60" in message and "d = 3" not in message, message
    assert live.image.value == shown and not live.button.disabled
    """,
]


def test_every_knob_in_a_real_kernel(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent(c).strip()) for c in CELLS]
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    try:
        client.execute()
    except CellExecutionError as err:  # the kernel's traceback names the failing assertion
        pytest.fail(str(err), pytrace=False)
    # the widget state (what a notebook saved from a kernel keeps) holds the Stack, its images
    # and the jslink
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    models = {m["model_name"] for m in state.values()}
    assert {"StackModel", "ImageModel", "SelectionSliderModel", "LinkModel"} <= models
    assert "ToggleButtonsModel" in models


# ------------------------------------------------------------------------------------------------
# The static part as HTML: what the book's pages show (no kernel, no widget manager)
# ------------------------------------------------------------------------------------------------
import base64  # noqa: E402
import importlib.util  # noqa: E402
from html.parser import HTMLParser  # noqa: E402
from pathlib import Path  # noqa: E402


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def _figures(toggle=False):
    import matplotlib.pyplot as plt

    from rlbook import widgets

    def render(v):
        fig, ax = plt.subplots(figsize=(2, 1))
        ax.plot([0, 1], [0, v])
        return fig

    return widgets.knob_figures(
        "rate τ", [0.1, 0.5, 1.0], render, ["0.1", "0.5", "1"], value=0.5, toggle=toggle
    )


def test_the_book_build_makes_no_widget_and_writes_the_knob_as_html(monkeypatch):
    """With RLBOOK_BOOK=1 (the book's build) a knob is HTML only: no widget is created, so the
    page embeds no widget state and loads no widget manager; the live panel is not even built."""
    from ipywidgets.widgets import widget

    from rlbook import widgets

    monkeypatch.setenv("RLBOOK_BOOK", "1")
    figures = _figures()
    before = len(widget._instances)
    built = []
    k = widgets.knob("Rate", figures, live=lambda: built.append(1))
    assert isinstance(k, widgets.StaticKnobHTML) and not built
    assert len(widget._instances) == before, "a widget was created in the book's build"
    assert k._repr_html_() == k.html and "<static knob 'Rate': 3 figures" in repr(k)
    tags = _tags(k.html)
    images = [a for t, a in tags if t == "img"]
    # every figure, in order, the one of the chosen value shown, the others hidden
    assert [base64.b64decode(a["src"].split(",", 1)[1]) for a in images] == figures.pngs
    assert ["hidden" in a for a in images] == [True, False, True]
    assert [a["width"] for a in images] == [str(widgets.css_width(p)) for p in figures.pngs]
    assert all(a["alt"].startswith("Rate: the figure for rate τ = ") for a in images)
    # a native slider named by its label, announcing the value (not its index), disabled until
    # its script runs
    (slider,) = [a for t, a in tags if t == "input"]
    assert (slider["type"], slider["min"], slider["max"], slider["value"]) == (
        "range",
        "0",
        "2",
        "1",
    )
    assert slider["aria-valuetext"] == "rate τ = 0.5" and "disabled" in slider
    (label,) = [a for t, a in tags if t == "label"]
    assert label["for"] == slider["id"]
    assert widgets.LIVE_NOTE in k.html and k.html.count("<script>") == 1


def test_a_toggle_knob_is_a_group_of_pressed_buttons(monkeypatch):
    from rlbook import widgets

    monkeypatch.setenv("RLBOOK_BOOK", "1")
    k = widgets.knob("Rule", _figures(toggle=True))
    tags = _tags(k.html)
    buttons = [a for t, a in tags if t == "button"]
    assert [b["aria-pressed"] for b in buttons] == ["false", "true", "false"]
    assert [b["data-i"] for b in buttons] == ["0", "1", "2"]
    assert not [t for t, _ in tags if t == "input"] and widgets.LIVE_NOTE not in k.html
    (group,) = [a for t, a in tags if a.get("role") == "group"]
    assert group["aria-label"] == "rate τ"


def test_knob_figures_refuse_a_bad_grid():
    from rlbook import widgets

    with pytest.raises(ValueError, match="values must hold"):
        widgets.knob_figures("x", [], lambda v: None)
    with pytest.raises(ValueError, match="labels must have one entry per value"):
        widgets.knob_figures("x", [1, 2], lambda v: None, ["a"])
    with pytest.raises(ValueError, match="value must be one of values"):
        widgets.knob_figures("x", [1, 2], lambda v: None, value=3)


def _seed_book_cache():
    path = Path(__file__).resolve().parents[1] / "tools" / "seed_book_cache.py"
    spec = importlib.util.spec_from_file_location("seed_book_cache", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_book_from_recorded_notebooks_shows_the_knobs_html_and_no_widget_state():
    """make book-from-notebooks: a knob recorded in a kernel (widget view and HTML) becomes its
    HTML alone, as the book's own build makes it, and no widget state reaches the page; a widget
    recorded without HTML is refused, naming its cell."""
    seed = _seed_book_cache()
    view = {"version_major": 2, "version_minor": 0, "model_id": "abc"}
    knob_output = nbformat.v4.new_output(
        "display_data",
        data={
            "text/plain": "Knob(...)",
            "text/html": "<div>knob</div>",
            "application/vnd.jupyter.widget-view+json": view,
        },
    )
    recorded = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("k", outputs=[knob_output])]
    )
    recorded.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {"state": {"abc": {}}}
    }
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("k")])
    merged = seed.merge(book, recorded)
    assert set(merged.cells[0].outputs[0].data) == {"text/plain", "text/html"}
    assert "widgets" not in merged.metadata
    bare = nbformat.v4.new_output(
        "display_data", data={"text/plain": "w", "application/vnd.jupyter.widget-view+json": view}
    )
    recorded.cells[0].outputs = [bare]
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("k")])
    with pytest.raises(ValueError, match="no text/html beside it"):
        seed.merge(book, recorded)


def test_a_knobs_page_is_the_same_build_after_build_and_its_ids_differ_on_one_page(monkeypatch):
    """The knob's element id comes from its content and a counter: the same figures give the
    same HTML but for the counter (no random id that changes every build), and two knobs on one
    page never share an id."""
    import re

    from rlbook import widgets

    monkeypatch.setenv("RLBOOK_BOOK", "1")
    figures = _figures()
    a, b = widgets.knob("Rate", figures).html, widgets.knob("Rate", figures).html
    ids = [re.search(r'id="(rlbook-knob-[0-9a-f]{8}-\d+)"', h).group(1) for h in (a, b)]
    assert ids[0] != ids[1] and ids[0].rsplit("-", 1)[0] == ids[1].rsplit("-", 1)[0]
    assert a.replace(ids[0], "ID") == b.replace(ids[1], "ID")
    other = widgets.knob("Another title", figures).html
    assert ids[0].rsplit("-", 1)[0] not in other


def test_knob_refuses_the_former_calling_convention():
    from rlbook import widgets

    with pytest.raises(TypeError, match="figures must be a KnobFigures"):
        widgets.knob("Rate", object())
    with pytest.raises(TypeError, match="live must be a function that makes the LivePanel"):
        widgets.knob("Rate", _figures(), live=widgets.w.VBox())


def test_a_new_tau_in_the_live_panel_gets_a_colour_no_recorded_tau_has():
    """The tau panel draws a new tau beside the record's four; it once took the colour of
    tau = 0.005 (C4), so only the legend told the two apart."""
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt

    from rlbook import knobs

    record = knobs.seed_record("tau")["variants"]
    new = {"0.0316": record["0.02"]}  # any runs: only the colour is under test
    fig = knobs.draw_tau_record({**record, **new}, highlight="0.0316")
    colours = {}
    for line in fig.axes[0].get_lines():
        label = line.get_label()
        if not label.startswith("_"):
            colours[label] = mcolors.to_hex(line.get_color())
    plt.close(fig)
    assert len(colours) == len(record) + 1, colours
    assert len(set(colours.values())) == len(colours), colours
