"""pytest plugin: keep what nbval executes, so that the book build does not execute it again.

``pytest --nbval-lax -p nbval_record --nb-record DIR chapters/*.ipynb`` (with ``tools/`` on
``sys.path``) runs nbval unchanged and, beside it, feeds every kernel message nbval reads to
nbclient's own message handler (the one Jupyter Book's execution uses): outputs, ``clear_output``,
display updates, Output widgets and the widget state (which ``tools/seed_book_cache.py`` leaves out:
the book shows a knob's HTML, not its widget). Each notebook
whose cells all ran without error is written to ``DIR/NAME.ipynb`` with its execution time in
``metadata.rlbook`` (``execution_seconds``, and ``cell_seconds`` per code cell, which
``benchmarks/chapter_times.py`` prints); ``tools/seed_book_cache.py`` then hands those to the book
build's execution cache. nbval's own checks (every cell runs, ``--nbval-lax`` output checks) are
untouched: the recorder only observes.

It wraps nbval 0.11's ``IPyNbFile.setup/teardown/get_kernel_message`` and ``IPyNbCell.runtest``,
hence the pin in ``requirements.txt``.
"""

from __future__ import annotations

import copy
import time
import warnings
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete
from nbval.plugin import IPyNbCell, IPyNbFile


def pytest_addoption(parser):
    parser.addoption(
        "--nb-record",
        metavar="DIR",
        default=None,
        help="write each notebook nbval executed without error to DIR, with outputs and widgets",
    )


class _Recorder:
    """nbclient's message handling, fed by nbval's kernel instead of nbclient's own loop."""

    def __init__(self, nb, kernel):
        self.nb = copy.deepcopy(nb)
        self.code = [i for i, c in enumerate(self.nb.cells) if c.cell_type == "code"]
        for i in self.code:
            self.nb.cells[i].outputs = []
            self.nb.cells[i].execution_count = None
        self.client = NotebookClient(self.nb, record_timing=False, store_widget_state=True)
        self.client.kc = kernel.kc  # Output widgets answer the kernel through its client
        self.pending = self.index = self.msg_id = None
        self.ran, self.failed = 0, False
        self.start = time.perf_counter()
        self.cell_seconds = [None] * len(self.code)

    def begin(self, msg_id):
        # what nbclient's execute_cell resets before it polls a cell's messages
        self.index, self.msg_id = self.code[self.pending], msg_id
        self.nb.cells[self.index].outputs = []
        self.client.clear_before_next_output = False
        self.client.code_cells_executed += 1

    def observe(self, msg):
        if self.failed or self.msg_id is None or msg["parent_header"].get("msg_id") != self.msg_id:
            return
        try:
            self.client.process_message(msg, self.nb.cells[self.index], self.index)
        except CellExecutionComplete:
            pass
        except Exception as err:  # noqa: BLE001 - the recorder observes: it must not fail nbval
            self.failed = True  # this notebook is not recorded; the book build executes it
            warnings.warn(f"nbval_record: not recording this notebook: {err!r}", stacklevel=2)

    def write(self, path: Path):
        # nbval executes with store_history=False, so the kernel numbers every cell 1; number
        # them in order, as a notebook run from the top would (jupyter-cache checks this)
        for n, i in enumerate(self.code, start=1):
            self.nb.cells[i].execution_count = n
            for output in self.nb.cells[i].outputs:
                if output.output_type == "execute_result":
                    output.execution_count = n
        self.client.set_widgets_metadata()
        seconds = time.perf_counter() - self.start
        self.nb.metadata["rlbook"] = {
            "execution_seconds": round(seconds, 3),
            "cell_seconds": self.cell_seconds,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(self.nb, str(path))


def pytest_configure(config):
    out = config.getoption("--nb-record")
    if not out:
        return
    out = Path(out)
    file_setup, file_teardown = IPyNbFile.setup, IPyNbFile.teardown
    get_message, cell_runtest = IPyNbFile.get_kernel_message, IPyNbCell.runtest

    def setup(self):
        file_setup(self)
        recorder = self._rlbook_recorder = _Recorder(self.nb, self.kernel)
        execute = self.kernel.execute_cell_input

        def execute_cell_input(*args, **kwargs):
            msg_id = execute(*args, **kwargs)
            recorder.begin(msg_id)
            return msg_id

        self.kernel.execute_cell_input = execute_cell_input

    def get_kernel_message(self, *args, **kwargs):
        msg = get_message(self, *args, **kwargs)
        recorder = getattr(self, "_rlbook_recorder", None)
        if recorder is not None:
            recorder.observe(msg)
        return msg

    def runtest(self):
        recorder = self.parent._rlbook_recorder
        recorder.pending = self.cell_num
        start = time.perf_counter()
        try:
            cell_runtest(self)
        except BaseException:
            recorder.failed = True
            raise
        recorder.cell_seconds[self.cell_num] = round(time.perf_counter() - start, 3)
        recorder.ran += 1

    def teardown(self):
        recorder = getattr(self, "_rlbook_recorder", None)
        if recorder is not None and not recorder.failed and recorder.ran == len(recorder.code):
            recorder.write(out / Path(str(self.fspath)).name)
        file_teardown(self)

    IPyNbFile.setup, IPyNbFile.teardown = setup, teardown
    IPyNbFile.get_kernel_message, IPyNbCell.runtest = get_kernel_message, runtest
