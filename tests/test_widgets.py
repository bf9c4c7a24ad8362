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
    # the widget state a static page embeds holds the Stack, its images and the jslink
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    models = {m["model_name"] for m in state.values()}
    assert {"StackModel", "ImageModel", "SelectionSliderModel", "LinkModel"} <= models
    assert "ToggleButtonsModel" in models
