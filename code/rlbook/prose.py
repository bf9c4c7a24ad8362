"""Numbers that the book's sentences quote, handed over by the cell that computed them.

A chapter's cell calls ``glue("name", value)``; the sentence after it writes
``{glue:text}`name:.1f``` where the number goes. The book's build (myst-nb) puts the value in
the sentence, so the text cannot disagree with the output above it after a re-run.

:func:`glue` writes the same record as ``myst_nb.glue(name, value, display=False)`` (a display
output whose MIME types carry myst-nb's prefix ``application/papermill.record/`` and whose
metadata names it), so it needs no myst-nb in the reader's kernel (Colab has none). Where the
prose is not filled in by a build (the chapter's notebook in Jupyter or Colab, whose Markdown
shows ``name`` in place of the number), it also shows one line, ``name = value``, under the cell;
the book's build sets ``RLBOOK_BOOK=1`` and that line is not shown there.
"""

from __future__ import annotations

import numbers
import os

GLUE_PREFIX = "application/papermill.record/"  # myst_nb.ext.glue.GLUE_PREFIX
ECHO = "rlbook_glue"  # the metadata key of the visible "name = value" line

#: Every value glued in this kernel, by name.
glued: dict[str, object] = {}


def _plain(value) -> str:
    """The text myst-nb reads back: for a number, one it can parse as a float and format."""
    if isinstance(value, bool):
        raise TypeError("glue a number or a string, not a bool")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    if isinstance(value, str):
        return value
    # a 0-d numpy array or torch tensor
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return _plain(value.item())
    raise TypeError(f"glue a number or a string, not {type(value).__name__}")


def glue(name: str, value) -> None:
    """Hand ``value`` to the sentence that writes ``{glue:text}`name:FORMAT```.

    ``name``: letters, digits and ``_``, unique in the chapter. ``value``: a number (Python,
    NumPy or a 0-d tensor) or a string.
    """
    if not isinstance(name, str) or not name.replace("_", "").isalnum():
        raise ValueError(f"glue name must be letters, digits and _, got {name!r}")
    text = _plain(value)
    glued[name] = value
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: nothing to display to
        return
    if get_ipython() is None:
        return
    display(
        {GLUE_PREFIX + "text/plain": text},
        raw=True,
        metadata={"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}},
    )
    if not os.environ.get("RLBOOK_BOOK"):
        shown = f"{float(text):.4g}" if not isinstance(value, str) else text
        display({"text/plain": f"{name} = {shown}"}, raw=True, metadata={ECHO: name})
