"""Training curves as PNG files (matplotlib, drawn off-screen)."""
from __future__ import annotations

import io
import os

from ..core._fileio import atomic_write, check_output_path

COLORS = {"train": "#1f77b4", "val": "#d62728"}


def new_figure(width: float, height: float):
    """A matplotlib ``Figure`` of ``width`` x ``height`` inches, as every zerodl plot draws
    them: 110 dpi, constrained layout, no pyplot (no GUI backend, no global state)."""
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def plot_history(history, path: str | os.PathLike | None = None, title: str | None = None,
                 val_label: str = "test"):
    """Draw loss and accuracy curves side by side; write a PNG to ``path`` if given.

    Uses ``history.steps`` (metrics every few steps) when it has points, else the per-epoch
    ``history.history``. Returns the matplotlib ``Figure``. ``path`` is checked before
    drawing (``save_png``).
    """
    _check_history(history)
    if path is not None:
        path = check_output_path("path", path)
    by_step = bool(history.steps.get("step"))
    table = history.steps if by_step else history.history
    xs = table["step"] if by_step else history.epoch
    xlabel = "iteration" if by_step else "epoch"
    metrics = [m for m in ("loss", "accuracy") if m in table]

    fig = new_figure(5.2 * len(metrics), 4.0)
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, metric in zip(axes, metrics):
        finals = [table[k][-1] for k in (metric, "val_" + metric) if table.get(k)]
        for prefix, name in (("", "train"), ("val_", val_label)):
            ys = table.get(prefix + metric)
            if not ys:
                continue
            ax.plot(xs, ys, color=COLORS["val" if prefix else "train"], lw=2,
                    marker="o" if len(xs) <= 30 else None, ms=3.5, label=name)
            # The higher curve's final value goes above its end, the lower one's below.
            above = ys[-1] >= max(finals) if not prefix else ys[-1] > min(finals)
            ax.annotate(f"{ys[-1]:.4f}", (xs[-1], ys[-1]), textcoords="offset points",
                        xytext=(-4, 6 if above else -12), ha="right", fontsize=9,
                        color=COLORS["val" if prefix else "train"])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(metric)
        ax.set_title(metric.capitalize())
        ax.grid(True, alpha=0.3)
        ax.margins(y=0.08)          # room for the final-value labels at the curves' ends
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if metric == "accuracy":
            low = min(min(table.get(k) or [1.0]) for k in ("accuracy", "val_accuracy"))
            ax.set_ylim(max(0.0, low - 0.02), 1.0)
        ax.legend(frameon=False, loc="best")
    if title:
        fig.suptitle(title, fontsize=11)
    if path is not None:
        save_png(fig, path)
    return fig


def _check_history(history) -> None:
    """What ``plot_history`` draws from: a History (or alike) with at least one point."""
    if not all(hasattr(history, k) for k in ("history", "epoch", "steps")):
        raise TypeError(f"history must be a zerodl History; got {history!r}.")
    if not history.epoch and not history.steps.get("step"):
        raise ValueError(f"history must hold at least one epoch or step (fit records them); "
                         f"got an empty {history!r}.")


def save_png(fig, path: str | os.PathLike) -> None:
    """Render ``fig`` to PNG in memory, then write it atomically: no half-drawn file.

    ``path`` must be in an existing folder (no folder is created) and must not be a folder,
    a device or other special file; a symbolic link is written through (``zerodl._fileio``).
    """
    path = check_output_path("path", path)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    with atomic_write(path, make_parents=False) as f:
        f.write(buffer.getvalue())
