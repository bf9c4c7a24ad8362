"""The layout the knobs' two-panel figures share."""

from __future__ import annotations


def _finish(fig, axes):
    """The common layout of the two-panel comparison figures: legend right, small titles, grid."""
    axes[1].legend(frameon=False, fontsize=8)
    for ax in axes:
        ax.title.set_fontsize(10)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
