"""The book's knobs and an exercise as a reader meets them: in JupyterLab, in a live kernel.

A Jupyter server (JupyterLab from PyPI, pinned in requirements.txt) runs on 127.0.0.1 with a random
token, serving a temporary folder, with its own config, data, settings, workspace and runtime
folders (news, update checks and announcements off, so that it runs offline and never prompts;
``--allow-root``, since CI runs as root). Playwright drives Debian's Chromium (Playwright's own
browser download is never used) with every request that does not go to the server aborted.

Budget: ``make test`` must stay under 30 minutes on 2 cores, and executing the chapters that hold
knobs (ddpg, td3, pcl) in full takes minutes each (``make notebooks`` executes them already,
without a browser). So this test does not open the chapters: for each of the book's five knobs it
writes a small notebook, named after its chapter, with the cells a reader needs to reach it (the
import, and the knob built from cheap inputs):

- ddpg: ``ou_knob((0.15, 1.5))``;
- td3: ``tau_lag_knob((0.01, 0.5))``; ``twin_record_knob`` and ``tau_record_knob`` over the
  committed five-seed records, their live panels training five seeds with the TD3 runs
  (``rlbook.knobs.KNOB_TD3``, which their live panels do not expose) shrunk to 1000 steps, as
  tests/test_widgets.py does, so that a Run press trains for about a second;
- pcl: ``path_length_knob`` over two precomputed 40-episode runs (d = 1, 4); its live panel runs
  its default 400 episodes (about a second: its shortest, 20 episodes, ends in about 50 ms,
  before a 20 ms sampler can see its bar move).

In each notebook it runs all cells (Run > Run All Cells), waits for the kernel to go idle, checks
that no cell shows an error or stderr output, that every widget view rendered (no "Loading
widget...", no "Error displaying widget") and that the browser logged no console error; moves the
static slider one step (the figure shown must switch, through the jslink, in the browser);
then opens the collapsed live panel, which must show no figure yet. A training knob (a Run button)
is run first with its cheapest setting: a progress bar must appear and advance (sampled every
20 ms) and the run must leave a result figure. Then each slider of the live panel moves one step
(keyboard, on its handle) and its figure must change (after pressing Run, for a training knob);
toggle buttons (the twin panel's target rule) press their next option instead.

Last, a student's edit: the TD3 chapter's exercise skeleton and check cell (read from
chapters/td3.md) run as given reports "not implemented yet"; its text replaced (select all, type)
by a wrong answer, the max of the two critics, the check names that mistake; replaced by the
chapter's solution, it passes.

A replay player (``rlbook.replay.pendulum_player``, the chapters' "Watch it act"), as a cell's
output: its inline script runs in the trusted output, Play moves the frame, Pause stops it, the
scrubber moves by keyboard. The HalfCheetah-v5 clip (``rlbook.clip.cheetah_player``, the
Benchmarks chapter's "Watch them run") likewise.

Then a chapter as a student and an author open it (no kernel work): chapters/ddpg.ipynb, the
notebook for readers (numbered algorithm box with its math, package code folded, solutions
hidden, no raw MyST), and chapters/ddpg.md opened as a Jupytext notebook, whose algorithm box
jupyterlab-myst must render. Cells are not windowed (``windowingMode: none``), so that every
Markdown cell is in the page.

Screenshots of every step land in ``screenshots/jupyterlab/`` (not committed), with
``timings.txt``, the seconds each step took. The whole test takes about 70 s on 2 cores.
"""

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import unicodedata
import urllib.request
from pathlib import Path

import nbformat
import pytest

import chromium

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "screenshots" / "jupyterlab"
CHROMIUM = chromium.EXECUTABLE

SETUP = "import torch\n\ntorch.set_num_threads(1)\nfrom rlbook import knobs, widgets"
SHRINK_TD3 = (
    "knobs.KNOB_TD3.update(total_steps=1000, warmup_steps=100, hidden=(16, 16), eval_every=500,"
    " eval_episodes=2)"
)

# notebook name (chapter-knob): (its cells, a training knob behind a Run button?)
KNOBS = {
    "ddpg-ou_knob": (["from rlbook import widgets", "widgets.ou_knob((0.15, 1.5))"], False),
    "td3-tau_lag_knob": (
        ["from rlbook import widgets", "widgets.tau_lag_knob((0.01, 0.5))"],
        False,
    ),
    "td3-twin_record_knob": (
        [
            f"{SETUP}\n\n{SHRINK_TD3}",
            'widgets.twin_record_knob(knobs.seed_record("twin")["variants"])',
        ],
        True,
    ),
    "td3-tau_record_knob": (
        [
            f"{SETUP}\n\n{SHRINK_TD3}",
            'widgets.tau_record_knob(knobs.seed_record("tau")["variants"])',
        ],
        True,
    ),
    "pcl-path_length_knob": (
        [
            SETUP,
            "d_runs = [knobs.pcl_path_length(d, episodes=40) for d in (1, 4)]\n"
            "widgets.path_length_knob(d_runs)",
        ],
        True,
    ),
}
# the shortest setting of a training knob's live panel: slider: (key to press, its value then)
# Settings moved to their minimum before Run. None: the PCL knob's shortest run (20 episodes)
# takes about 50 ms, too fast for a 20 ms sampler to see its bar advance; its default (400
# episodes) takes about a second.
SHORTEST: dict[str, dict] = {}
NO_PROGRESS_BAR: set[str] = set()  # knobs whose Run shows no bar (none since pcl gained one)

TIMINGS: list[tuple[str, str, float]] = []


# ------------------------------------------------------------------------------------------------
# the server and the browser
# ------------------------------------------------------------------------------------------------
class Lab:
    def __init__(self, url: str, token: str, root: Path):
        self.url, self.token, self.root = url, token, root

    def api(self, method: str, path: str):
        req = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - our own server
            body = resp.read()
        return json.loads(body) if body else None

    def write_notebook(self, name: str, cells: list[str]) -> str:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
        nbformat.write(nb, self.root / f"{name}.ipynb")
        return f"{name}.ipynb"

    def shut_down_kernels(self):
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (requirements.txt)")
    base = tmp_path_factory.mktemp("jupyterlab")
    root, config, settings = base / "notebooks", base / "config", base / "user-settings"
    for folder in (root, config, settings):
        folder.mkdir()
    # offline, no prompts: no news feed or update check, no "receive news?" toast, no announcements
    (config / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "LabApp": {
                    "news_url": None,
                    "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                },
                "LanguageServerManager": {"autodetect": False},
            }
        )
    )
    notes = settings / "@jupyterlab" / "apputils-extension"
    notes.mkdir(parents=True)
    (notes / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    # every cell in the page (no windowing), so that a whole chapter's Markdown can be checked
    tracker = settings / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_DATA_DIR": str(base / "data"),  # no kernelspec of the user's shadows the venv's
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "RLBOOK_PROGRESS": "1",
        "OMP_NUM_THREADS": "1",
    }
    port, token = _free_port(), secrets.token_hex(16)
    log = open(base / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.terminals_enabled=False",
            "--allow-root",
        ],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Lab(f"http://127.0.0.1:{port}", token, root)
    start = time.perf_counter()
    while True:
        try:
            server.api("GET", "/api/status")
            break
        except OSError:
            if proc.poll() is not None or time.perf_counter() - start > 90:
                proc.kill()
                log.close()
                pytest.fail("JupyterLab did not start:\n" + (base / "server.log").read_text())
            time.sleep(0.3)
    TIMINGS.append(("server", "start", time.perf_counter() - start))
    yield server
    try:
        server.shut_down_kernels()
        server.api("POST", "/api/shutdown")
        proc.wait(timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()
    log.close()
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "timings.txt").write_text(
        "".join(f"{name:22s} {step:52s} {s:5.1f} s\n" for name, step, s in TIMINGS)
    )


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed: run `make browser-deps`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = chromium.launch(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def lab_page(browser, lab):
    """One JupyterLab page for the module (loading the app takes seconds): each test opens its
    notebook from the file browser and closes it (kernel shut down) when done."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.outside, page.console_errors, page.notebook = [], [], ""
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)

    def route(r):
        if r.request.url.startswith(lab.url):
            r.continue_()
        else:
            page.outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    start = time.perf_counter()
    load_lab(page, lab)
    TIMINGS.append(("JupyterLab", "app loaded in Chromium", time.perf_counter() - start))
    yield page
    page.close()


def load_lab(page, lab):
    page.goto(f"{lab.url}/lab?reset&token={lab.token}")
    page.locator(".jp-DirListing-content").wait_for()
    page.locator("#jp-main-statusbar").wait_for()


@pytest.fixture
def page(lab_page, lab):
    yield lab_page
    start = time.perf_counter()
    try:
        close_notebook(lab_page)
        TIMINGS.append((lab_page.notebook, "closed, kernel shut down", time.perf_counter() - start))
    except Exception:  # noqa: BLE001 - a test that failed half-way: start afresh
        lab.shut_down_kernels()
        load_lab(lab_page, lab)
    lab_page.console_errors.clear()
    outside, lab_page.outside[:] = list(lab_page.outside), []
    assert not outside, f"JupyterLab requested outside the server: {outside}"


# ------------------------------------------------------------------------------------------------
# driving JupyterLab
# ------------------------------------------------------------------------------------------------
class Steps:
    """Times each step of one notebook and takes a screenshot after it."""

    def __init__(self, page, name: str):
        self.page, self.name, self.n = page, name, 0
        self.start = time.perf_counter()
        SHOTS.mkdir(parents=True, exist_ok=True)

    def done(self, step: str, focus=None):
        TIMINGS.append((self.name, step, time.perf_counter() - self.start))
        self.n += 1
        if focus is not None:
            focus.scroll_into_view_if_needed()
        ascii_step = "".join(
            c if c.isascii() else unicodedata.name(c, "-").split()[-1] for c in step.lower()
        )  # θ -> theta, in file names
        slug = re.sub(r"[^a-z0-9]+", "-", ascii_step.lower()).strip("-")
        self.page.screenshot(path=SHOTS / f"{self.name}-{self.n:02d}-{slug}.png")
        self.start = time.perf_counter()


KERNEL_IDLE = """() => {
    const bar = document.querySelector('#jp-main-statusbar').innerText;
    const s = document.querySelector('.jp-Notebook-ExecutionIndicator[data-status]');
    return /ipykernel\\) \\| Idle/.test(bar) && s && s.getAttribute('data-status') === 'idle';
}"""

IDLE = f"""() => {{
    if (!({KERNEL_IDLE})()) return false;
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
    return !prompts.some(p => p.textContent.includes('*'));
}}"""

ALL_RUN = f"""() => ({IDLE})() && [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .every(p => /\\[\\d+\\]/.test(p.textContent))"""

# the outputs that display a widget: rendered (a widget's element inside), or still "Loading
# widget..." or "Error displaying widget..." (ipywidgets' JupyterLab renderer); true if rendered
WIDGET_VIEWS = """() => [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output')]
    .filter(o => o.querySelector(':scope > .jupyter-widgets') !== null
                 || /^(Loading widget|Error displaying widget)/.test(o.textContent))
    .map(o => !/^(Loading widget|Error displaying widget)/.test(o.textContent)
              && o.querySelector('.jupyter-widgets-error-widget') === null)"""

VISIBLE_IMAGE = """k => Array.from(k.querySelectorAll('img'))
    .filter(i => i.offsetParent !== null && i.naturalWidth > 0).map(i => i.src)"""

FIGURE = "c => { const i = c.querySelector('img'); return i && i.naturalWidth > 0 ? i.src : null }"

RECORD_PROGRESS = """c => {
    window.__bars = [];
    window.__timer = setInterval(() => {
        const bar = c.querySelector('.widget-hprogress .progress-bar');
        if (bar) window.__bars.push([parseFloat(bar.style.width),
                                     bar.closest('.widget-hbox').innerText.trim()]);
    }, 20);
}"""


def menu(page, top: str, item: str):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{top}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}…?$")).click()


def open_notebook(page, name: str):
    """Open ``name`` from the file browser (double click); wait for its kernel to be idle."""
    page.notebook = name.removesuffix(".ipynb")
    page.locator(".jp-FileBrowser [data-command='filebrowser:refresh']").first.click()
    page.locator(".jp-DirListing-itemText", has_text=re.compile(f"^{name}$")).dblclick()
    page.locator(".jp-NotebookPanel .jp-CodeCell .cm-content").first.wait_for()
    page.wait_for_function(KERNEL_IDLE)


def close_notebook(page):
    menu(page, "File", "Close and Shut Down Notebook")
    page.locator(".jp-Dialog .jp-mod-accept").click()
    page.locator(".jp-NotebookPanel").wait_for(state="detached", timeout=15_000)


def run_all(page):
    menu(page, "Run", "Run All Cells")
    page.wait_for_function(ALL_RUN, timeout=180_000)


def check_outputs(page, widgets: int = 1):
    """No error or stderr output, no console error; at least ``widgets`` widget views, every one
    rendered; every image loaded."""
    bad = page.locator(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], '
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
    )
    assert bad.count() == 0, "\n---\n".join(bad.all_inner_texts())
    page.wait_for_function(f"() => ({WIDGET_VIEWS})().every(ok => ok)", timeout=30_000)
    assert len(page.evaluate(WIDGET_VIEWS)) >= widgets, "a widget was not displayed"
    broken = page.evaluate("""() => [...document.querySelectorAll('.jp-OutputArea img')]
        .filter(i => i.offsetParent !== null && !(i.complete && i.naturalWidth > 0)).length""")
    assert broken == 0, f"{broken} broken images"
    assert not page.console_errors, page.console_errors


def move(page, slider, key: str = "ArrowRight"):
    """One step of a slider (keyboard, on its handle); for toggle buttons, press the next one."""
    buttons = slider.locator(".widget-toggle-button")
    if not slider.locator(".noUi-handle").count() and buttons.count():
        pressed = buttons.evaluate_all(
            "bs => bs.findIndex(b => b.classList.contains('mod-active'))"
        )
        buttons.nth((pressed + 1) % buttons.count()).click()
        return
    handle = slider.locator(".noUi-handle")
    handle.focus()
    page.keyboard.press(key)


# ------------------------------------------------------------------------------------------------
# the tests
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(KNOBS))
def test_knob_in_jupyterlab(page, lab, name):
    cells, training = KNOBS[name]
    steps = Steps(page, name)
    open_notebook(page, lab.write_notebook(name, cells))
    steps.done("opened, kernel idle")
    run_all(page)
    check_outputs(page)
    knob = page.locator(".rlbook-static-knob")
    assert knob.count() == 1
    steps.done("ran all cells", knob)

    # the static slider, linked in the browser to its stack of figures, works here too
    shown = knob.evaluate(VISIBLE_IMAGE)
    assert len(shown) == 1, f"{len(shown)} static figures visible"
    move(page, knob)
    page.wait_for_function(
        f"([k, s]) => {{ const v = ({VISIBLE_IMAGE})(k); return v.length === 1 && v[0] !== s }}",
        arg=[knob.element_handle(), shown[0]],
    )
    steps.done("static slider moved, figure switched", knob)

    # the live panel: open the collapsed section
    header = page.locator(".jupyter-widget-Collapse-header", has_text="Recompute for any value")
    header.click()
    panel = page.locator(".jupyter-widget-Collapse-open .jupyter-widget-Collapse-contents")
    panel.wait_for(state="visible")
    assert panel.evaluate(FIGURE) is None, "the live panel has a figure before any computation"
    assert "Needs a running kernel" in panel.inner_text()
    steps.done("live panel opened", panel)
    sliders = panel.locator(".widget-slider")

    def readout(description):
        box = sliders.filter(has=page.locator(".widget-label", has_text=description))
        return box, box.locator(".widget-readout")

    def computed(before):
        """Wait until the panel shows a figure other than ``before``; check the message."""
        page.wait_for_function(
            f"([c, s]) => {{ const f = ({FIGURE})(c); return f !== null && f !== s &&"
            " c.innerText.includes('computed for') }",
            arg=[panel.element_handle(), before],
            timeout=120_000,
        )
        page.wait_for_function(IDLE)
        assert "error" not in panel.locator(".widget-html").first.inner_text().lower()
        check_outputs(page)
        return panel.evaluate(FIGURE)

    figure = None
    if training:
        button = panel.locator("button", has_text="Run")
        for description, (key, shortest) in SHORTEST.get(name, {}).items():
            box, value = readout(description)
            move(page, box, key)
            page.wait_for_function(
                "([v, m]) => v.innerText.trim() === m", arg=[value.element_handle(), shortest]
            )
            steps.done(f"{description} set to its minimum {shortest}", panel)
        page.evaluate(RECORD_PROGRESS, panel.element_handle())
        button.click()
        # a progress bar appears, or (a knob without one) the result comes first
        page.wait_for_function(
            f"c => c.querySelector('.widget-hprogress') !== null || ({FIGURE})(c) !== null",
            arg=panel.element_handle(),
            timeout=120_000,
        )
        if panel.locator(".widget-hprogress").count():
            steps.done("Run pressed, progress bar shown", panel)
        figure = computed(None)
        bars = page.evaluate("() => { clearInterval(window.__timer); return window.__bars }")
        steps.done("Run finished, result figure", panel)
        widths = [w for w, _ in bars]
        if name not in NO_PROGRESS_BAR:
            assert bars, "no progress bar appeared during the run"
            assert widths == sorted(widths) and widths[-1] > widths[0], (
                f"the progress bar did not advance: {bars}"
            )
            TIMINGS.append(
                (
                    name,
                    f"progress bar seen at {len(set(widths))} widths, "
                    f"{widths[0]:g}% to {widths[-1]:g}%",
                    0.0,
                )
            )

    for k in range(sliders.count()):
        slider = sliders.nth(k)
        label = slider.locator(".widget-label").inner_text()
        before = slider.locator(".widget-readout").evaluate("r => r.innerText")
        move(page, slider)
        page.wait_for_function(
            "([r, b]) => r.innerText !== b",
            arg=[slider.locator(".widget-readout").element_handle(), before],
        )
        if training:
            button.click()
        figure = computed(figure)
        steps.done(f"live slider {label} moved one step, figure changed", panel)

    toggles = panel.locator(".widget-toggle-buttons")  # the twin panel's target rule
    for k in range(toggles.count()):
        move(page, toggles.nth(k))
        if training:
            button.click()
        figure = computed(figure)
        steps.done("live toggle set to the next option, figure changed", panel)

    menus = panel.locator("select")
    for k in range(menus.count()):
        options = menus.nth(k).locator("option").all_inner_texts()
        choice = options[(menus.nth(k).evaluate("s => s.selectedIndex") + 1) % len(options)]
        menus.nth(k).select_option(label=choice)
        if training:
            button.click()
        figure = computed(figure)
        steps.done(f"live menu set to {choice}, figure changed", panel)

    if name in NO_PROGRESS_BAR:
        if bars:
            pytest.fail(f"{name} shows a progress bar now: drop it from NO_PROGRESS_BAR")
        pytest.xfail(f"{name}: its Run shows no progress bar (pcl.train_tabular has no hook)")


def _td3_exercise() -> tuple[str, str]:
    """The TD3 chapter's exercise cell (skeleton + check) and its solution, as a student would
    type it (the solution's ``assert`` dropped: the check prints its verdict either way)."""
    text = (ROOT / "chapters" / "td3.md").read_text()
    cells = re.findall(r"```\{code-cell\} ipython3\n(.*?)```", text, re.S)
    skeleton = next(c for c in cells if "raise NotImplementedError" in c and "td3_target" in c)
    solution = next(c for c in cells if "assert checks.check_td3_target(td3_target)" in c)
    solution = solution.replace("assert checks.", "checks.")
    return skeleton.strip(), solution.strip()


def test_exercise_student_edit(page, lab):
    skeleton, right = _td3_exercise()
    wrong = right.replace("np.minimum(", "np.maximum(")
    assert wrong != right
    steps = Steps(page, "td3-exercise")
    open_notebook(page, lab.write_notebook("td3-exercise", [skeleton]))
    run_all(page)
    check_outputs(page, widgets=0)
    cell = page.locator(".jp-CodeCell").first
    output = cell.locator(".jp-OutputArea")
    assert "TD3 target: not implemented yet" in output.inner_text()
    steps.done("skeleton run: not implemented yet", cell)

    def answer(code: str, expected: str, step: str):
        before = cell.locator(".jp-InputPrompt").inner_text()
        cell.locator(".cm-content").click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(code)
        typed = cell.locator(".cm-content").inner_text()
        assert re.sub(r"\s+", "", typed) == re.sub(r"\s+", "", code), typed
        page.keyboard.press("Shift+Enter")
        page.wait_for_function(
            "([p, b]) => p.innerText !== b && /\\[\\d+\\]/.test(p.innerText)",
            arg=[cell.locator(".jp-InputPrompt").element_handle(), before],
        )
        page.wait_for_function(IDLE)
        check_outputs(page, widgets=0)
        text = output.inner_text()
        assert re.search(expected, text), text
        steps.done(step, cell)
        return text

    text = answer(
        wrong,
        r"this is what the max of the two critics instead of the min gives",
        "wrong answer: max named as the mistake",
    )
    assert "FAILED" in text
    answer(right, r"TD3 target: passed all \d+ cases\.", "right answer: passed")


# ------------------------------------------------------------------------------------------------
# a chapter as a student opens it: its notebook, and its .md
# ------------------------------------------------------------------------------------------------
RAW_MARKUP = re.compile(
    r"```\s*\{|\{(prf:ref|cite|eq|ref|numref)\}|^:label:|:::|\*\*\w|<a id=|<details", re.M
)


def test_chapter_notebook_reads_like_the_page(page, lab):
    """chapters/ddpg.ipynb, the notebook Colab's button opens and the download button hands out,
    opened in JupyterLab: Markdown rendered with no raw MyST markup, the algorithm box numbered as
    on the page with its math typeset, the package code folded, every solution hidden (Markdown
    ones in folded <details>, code ones collapsed cells), no MathJax error."""
    (lab.root / "ddpg.ipynb").write_bytes((ROOT / "chapters" / "ddpg.ipynb").read_bytes())
    steps = Steps(page, "ddpg-notebook")
    open_notebook(page, "ddpg.ipynb")
    box = page.locator(".jp-MarkdownCell blockquote", has_text="Algorithm 8 (Deep Deterministic")
    box.wait_for()
    page.wait_for_function(  # MathJax (plain JupyterLab) or KaTeX (jupyterlab-myst)
        "b => b.querySelectorAll('mjx-container, .katex').length > 10", arg=box.element_handle()
    )
    steps.done("algorithm box", box)
    text = "\n".join(page.locator(".jp-MarkdownCell").all_inner_texts())
    assert not RAW_MARKUP.findall(text), RAW_MARKUP.findall(text)
    assert page.locator(".jp-MarkdownCell :is(mjx-merror, .katex-error)").count() == 0
    code = page.locator(".jp-MarkdownCell details", has_text="The code of this algorithm")
    assert code.count() == 1 and code.get_attribute("open") is None
    code.locator("summary").click()
    code.locator("pre", has_text="def critic_target").wait_for()
    steps.done("package code unfolded", code)
    # solutions: the Markdown ones folded, the code ones collapsed (source and outputs)
    folded = page.locator(".jp-MarkdownCell details", has_text="Solution to Exercise")
    assert folded.count() >= 2
    assert all(d.get_attribute("open") is None for d in folded.all())
    assert "Subtract" not in "\n".join(folded.all_inner_texts())
    solution = page.locator(".jp-CodeCell", has_text="theta * (mu - x) * dt")
    assert solution.count() == 0, "a solution's code is shown"
    hidden = page.locator(".jp-CodeCell .jp-InputPlaceholder")
    assert hidden.count() >= 2
    hidden.first.scroll_into_view_if_needed()
    steps.done("solution collapsed", hidden.first)
    hidden.first.click()
    page.locator(".jp-CodeCell", has_text="theta * (mu - x) * dt").wait_for()
    steps.done(
        "solution opened by a click", page.locator(".jp-CodeCell", has_text="theta * (mu - x)")
    )


def test_chapter_md_renders_with_jupyterlab_myst(page, lab):
    """chapters/ddpg.md opened as a notebook (jupytext: Open With > Jupytext Notebook), as an
    author edits it: with jupyterlab-myst (requirements.txt) its algorithm box renders as a
    numbered box with its math, not as a code block of MyST. What else jupyterlab-myst renders
    of the book's markup is written to screenshots/jupyterlab/ddpg-md-rendered.txt (the README
    sums it up): it numbers boxes per notebook (Algorithm 1 here, 8 in the book) and, without
    the book's bibliography and other chapters, leaves citations and references to other
    chapters unresolved; the notebooks beside the chapters are what students open."""
    (lab.root / "ddpg.md").write_bytes((ROOT / "chapters" / "ddpg.md").read_bytes())
    steps = Steps(page, "ddpg-md")
    page.notebook = "ddpg"
    page.locator(".jp-FileBrowser [data-command='filebrowser:refresh']").first.click()
    page.locator(".jp-DirListing-itemText", has_text=re.compile("^ddpg.md$")).click(button="right")
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Open With$")).hover()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Jupytext Notebook$")).click()
    rendered = ".jp-MarkdownCell .jp-RenderedMarkdown, .jp-MarkdownCell .myst"
    box = page.locator(f":is({rendered}) aside.myst-proof", has_text="Algorithm 1 (Deep Deter")
    box.wait_for()
    page.wait_for_function(
        "b => b.querySelectorAll('.katex, mjx-container').length > 10", arg=box.element_handle()
    )
    box.scroll_into_view_if_needed()
    box.screenshot(path=SHOTS / "ddpg-md-algorithm.png")
    steps.done("algorithm box rendered by jupyterlab-myst", box)
    page.wait_for_function(  # every Markdown cell rendered (jupyterlab-myst renders them async)
        f"""() => [...document.querySelectorAll('.jp-MarkdownCell')].every(
            c => [...c.querySelectorAll(`{rendered}`)].some(r => r.innerText.trim()))"""
    )
    assert page.locator(f":is({rendered}) code[class*='{{prf']").count() == 0
    text = page.evaluate(
        f"() => [...document.querySelectorAll(`{rendered}`)].map(e => e.innerText).join('\\n')"
    )
    text = re.sub(r"\s+", " ", text)  # no-break spaces (jupyterlab-myst writes some) included
    checks = {
        "algorithm box, numbered in the notebook": "Algorithm 1 (Deep Deterministic" in text,
        "admonitions": "Correction to the source: DDPG" in text,
        "exercises (exercise-start/-end)": "Exercise 1 (One step" in text,
        "solutions (solution: a folded dropdown)": "Solution to Exercise 3" in text,
        "solution-start/-end (only a marker line)": "Start of Solution to Exercise 1" in text,
        "{cite} as author-year (it shows the key and a warning)": "Lillicrap" in text,
        "{prf:ref} to another chapter": "(Algorithm dqn" not in text,
        "literalinclude of the package code": "def critic_target" in text,
        "no raw directive left": not re.search(r"\{(exercise|solution|prf:|admonition)", text),
    }
    (SHOTS / "ddpg-md-rendered.txt").write_text(
        "".join(f"{'yes' if ok else 'NO '}  {what}\n" for what, ok in checks.items())
    )
    assert checks["algorithm box, numbered in the notebook"]


REPLAY_CELLS = [
    "from rlbook.optimum import pendulum_optimum\n"
    "from rlbook.replay import pendulum_player, rollout\n\n"
    "best = pendulum_optimum()",
    'pendulum_player({"optimal": rollout(best.actions[[3, 17]], [3, 17]),\n'
    '                 "no torque": rollout(lambda obs: 0 * obs[:, :1], [3, 17])})',
]


def test_replay_player_plays_in_jupyterlab(page, lab):
    """A replay player (``rlbook.replay.pendulum_player``, the chapters' "Watch it act") as a
    cell's output: after Run All its inline script has run in the trusted output (controls
    enabled), Play moves the frame (the label's time and the pendulum's rotation change), Pause
    stops it, and the scrubber moves by keyboard."""
    steps = Steps(page, "replay-player")
    open_notebook(page, lab.write_notebook("replay-player", REPLAY_CELLS))
    run_all(page)
    check_outputs(page, widgets=0)
    player = page.locator(".jp-OutputArea-output .rlbook-player")
    player.wait_for()
    play, label = player.locator(".rlbook-play"), player.locator(".rlbook-label")
    page.wait_for_function("b => !b.disabled", arg=play.element_handle())  # the script ran
    assert label.text_content().startswith("t = 0.00 s")
    steps.done("player shown", player)
    rod = "p => p.querySelector('.rlbook-rod').getAttribute('transform')"
    rod0 = player.evaluate(rod)
    play.click()
    page.wait_for_function(
        f"([p, r]) => ({rod})(p) !== r && !p.querySelector('.rlbook-label')"
        ".textContent.startsWith('t = 0.00 s')",
        arg=[player.element_handle(), rod0],
        timeout=5_000,
    )
    play.click()  # pause
    paused = label.text_content()
    page.wait_for_timeout(300)
    assert label.text_content() == paused, "Pause did not stop the player"
    steps.done("played, then paused", player)
    player.locator(".rlbook-scrub").focus()
    page.keyboard.press("End")
    assert label.text_content().startswith("t = 10.00 s")
    steps.done("scrubbed to the end", player)
    assert not page.console_errors, page.console_errors


CLIP_CELLS = ["from rlbook.clip import cheetah_player\n\ncheetah_player()"]


def test_halfcheetah_clip_plays_in_jupyterlab(page, lab):
    """The HalfCheetah-v5 clip (``rlbook.clip.cheetah_player``, the Benchmarks chapter's "Watch
    them run") as a cell's output: its inline script runs in the trusted output, Play moves every
    panel's frame (the sprite's position) and the time, Pause stops it, the scrubber moves by
    keyboard."""
    steps = Steps(page, "halfcheetah-clip")
    open_notebook(page, lab.write_notebook("halfcheetah-clip", CLIP_CELLS))
    run_all(page)
    check_outputs(page, widgets=0)
    player = page.locator(".jp-OutputArea-output .rlbook-clip")
    player.wait_for()
    play, label = player.locator(".rlbook-play"), player.locator(".rlbook-label")
    page.wait_for_function("b => !b.disabled", arg=play.element_handle())  # the script ran
    assert label.text_content() == "t = 0.00 s"
    steps.done("clip shown", player)
    frames = (
        "p => Array.from(p.querySelectorAll('.rlbook-frame'))"
        ".map(e => e.style.backgroundPosition).join('|')"
    )
    frames0 = player.evaluate(frames)
    play.click()
    page.wait_for_function(
        f"([p, f]) => ({frames})(p) !== f && "
        "p.querySelector('.rlbook-label').textContent !== 't = 0.00 s'",
        arg=[player.element_handle(), frames0],
        timeout=5_000,
    )
    play.click()  # pause
    paused = label.text_content()
    page.wait_for_timeout(300)
    assert label.text_content() == paused, "Pause did not stop the player"
    steps.done("played, then paused", player)
    player.locator(".rlbook-scrub").focus()
    page.keyboard.press("End")
    assert label.text_content() != paused and player.evaluate(frames) != frames0
    steps.done("scrubbed to the end", player)
    assert not page.console_errors, page.console_errors
