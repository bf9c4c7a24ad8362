"""The layout the knobs' two-panel figures share."""

from __future__ import annotations


def _finish(fig, axes):
    """The common layout of the two-panel comparison figures: one legend above both panels (it
    names the lines of both, so neither panel is left without one), small titles.

    The sizes follow :func:`rlbook.plotting.use_book_style` when the chapter called it: no font
    here is set below its 9 pt."""
    handles, labels = axes[0].get_legend_handles_labels()
    if not handles:
        handles, labels = axes[1].get_legend_handles_labels()
    for ax in axes:
        ax.title.set_fontsize(10)
    fig.tight_layout(rect=(0, 0, 1, 0.86))
    if handles:
        fig.legend(
            handles,
            labels,
            loc="upper center",
            bbox_to_anchor=(0.5, 1.0),
            # as many columns as fit the figure's width (about 90 characters of legend)
            ncol=max(1, min(len(labels), 90 // (max(map(len, labels)) + 6))),
            frameon=False,
        )
    return fig
