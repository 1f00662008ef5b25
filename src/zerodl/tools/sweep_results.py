"""A sweep's results: its records grouped by config, as a table, a CSV file and a plot.

``zerodl.sweeps.sweep`` returns a ``Sweep``; ``Sweep(records, grid)`` also reads records
back from a sweep's JSON-lines file (``zerodl.sweeps.read_records``).
"""
from __future__ import annotations

import csv
import json
import os
from typing import Any, Mapping, Sequence

import numpy as np

from ..core._checks import check_path
from ..core._fileio import atomic_write
from ..training.recipe import SETTINGS
from .plotting import new_figure, save_png
from .sweep_file import check_record


def _mean_spread(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    a = np.asarray(values, dtype=np.float64)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "-".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class Sweep:
    """The records of a sweep, in the grid's order (config by config, seeds within).

    ``results``: the list of records (see ``run_one``); ``grid``: the names that vary.
    """

    def __init__(self, results: list[dict], grid: Sequence[str] = ()) -> None:
        if isinstance(results, (str, bytes, dict)) or not isinstance(results, Sequence):
            raise TypeError(f"results must be a list of sweep records; got {results!r:.80}.")
        for i, record in enumerate(results):      # refused here, not as a KeyError in plot
            check_record(record, f"results[{i}]")
        self.results = results
        self.grid = list(grid)

    def configs(self) -> list[tuple[dict, list[dict]]]:
        """``[(config, [its records, one per seed]), ...]`` in the grid's order."""
        groups: dict[str, tuple[dict, list[dict]]] = {}
        for record in self.results:
            key = json.dumps(record["config"], sort_keys=True)
            groups.setdefault(key, (record["config"], []))[1].append(record)
        return list(groups.values())

    def varying(self) -> list[str]:
        """The grid's names whose value differs between configs: a grid entry with one value
        (a preset fixing ``n_train``, say) names no config apart. All of them if none differs."""
        configs = [config for config, _ in self.configs()]
        names = [name for name in self.grid
                 if len({json.dumps(config.get(name)) for config in configs}) > 1]
        return names or self.grid or ["layers"]

    def label(self, config: Mapping, names: Sequence[str] | None = None) -> str:
        """A config named by the settings that vary, e.g. ``init=xavier lr=0.1``."""
        names = self.varying() if names is None else names
        return " ".join(f"{name}={_show(config[name])}" for name in names)

    def summary(self) -> list[dict]:
        """One dict per config: its label, seeds, and mean and spread of the test numbers.

        Spread: the sample standard deviation over seeds (0 with one seed). Diverged runs
        are counted in ``diverged`` and left out of the means. For classifiers also
        ``train_accuracy`` (and its spread): the trained network's accuracy on its whole
        training set, in inference mode (dropout off), as ``evaluate`` measures the test set
        (older records without it: the last epoch's mean over its batches); and ``gap``: ``train_accuracy - test_accuracy``, how far the network
        fits its training data better than new data (overfitting).
        """
        rows, names = [], self.varying()
        for config, records in self.configs():
            ok = [r for r in records if "error" not in r]
            row = {"config": config, "label": self.label(config, names), "seeds": len(records),
                   "diverged": len(records) - len(ok),
                   "seconds": float(np.mean([r["seconds"] for r in records]))}
            for metric in ("accuracy", "loss"):
                values = [r["test"][metric] for r in ok if r["test"].get(metric) is not None]
                if values:
                    row[f"test_{metric}"], row[f"test_{metric}_spread"] = _mean_spread(values)
            trains = [_train_accuracy(r) for r in ok
                      if _train_accuracy(r) is not None and r["test"].get("accuracy") is not None]
            if trains and "test_accuracy" in row:
                row["train_accuracy"], row["train_accuracy_spread"] = _mean_spread(trains)
                row["gap"] = row["train_accuracy"] - row["test_accuracy"]
            rows.append(row)
        return rows

    def table(self) -> str:
        """A text table: one row per config, test accuracy and loss as mean ± spread; for
        classifiers also the training accuracy of the last epoch and the gap (``summary``)."""
        rows = self.summary()
        gaps = any("gap" in row for row in rows)
        head = ["config", "seeds", "test accuracy", "test loss",
                *(["train accuracy", "gap"] if gaps else []), "s/run"]
        lines = []
        for row in rows:
            def cell(metric: str, digits: int) -> str:
                if f"test_{metric}" not in row:
                    return "diverged" if row["diverged"] else "-"
                return (f"{row[f'test_{metric}']:.{digits}f} ± "
                        f"{row[f'test_{metric}_spread']:.{digits}f}")
            label = row["label"] + (f" ({row['diverged']} diverged)" if row["diverged"] and
                                    "test_loss" in row else "")
            extra = []
            if gaps:
                extra = ([f"{row['train_accuracy']:.4f} ± {row['train_accuracy_spread']:.4f}",
                          f"{row['gap']:.4f}"] if "gap" in row else ["-", "-"])
            lines.append([label, str(row["seeds"]), cell("accuracy", 4), cell("loss", 4),
                          *extra, f"{row['seconds']:.2f}"])
        widths = [max(len(r[i]) for r in [head, *lines]) for i in range(len(head))]

        def fmt(cells):
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
        return "\n".join([fmt(head), fmt(["-" * w for w in widths]), *map(fmt, lines)])

    def to_csv(self, path: str | os.PathLike) -> None:
        """One row per run: every setting, the seed, test and final training numbers."""
        path = check_path("path", path)
        settings = [name for name in SETTINGS if name != "seed"]
        head = [*settings, "seed", "test_loss", "test_accuracy", "train_loss",
                "train_accuracy", "seconds", "worker", "error"]
        with atomic_write(path, "w") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(head)
            for r in self.results:
                h = r["history"]
                writer.writerow(
                    [_show(r["config"].get(k)) if r["config"].get(k) is not None else ""
                     for k in settings]
                    + [r["seed"], *(repr(v) if v is not None else "" for v in (
                        r["test"].get("loss"), r["test"].get("accuracy"),
                        (h.get("loss") or [None])[-1], (h.get("accuracy") or [None])[-1])),
                       f"{r['seconds']:.3f}", r["worker"], r.get("error", "")])

    def plot(self, path: str | os.PathLike | None = None, title: str | None = None):
        """Training curves of every config overlaid (mean over seeds), and the final test
        accuracy of each config: a dot per seed, the mean as a wide tick, ± the spread.

        Without accuracy (regression) the last panel shows the test loss. Writes a PNG to
        ``path`` if given; returns the matplotlib ``Figure``.
        """
        groups = self.configs()
        metric = "accuracy" if any(r["test"].get("accuracy") is not None
                                   for r in self.results) else "loss"
        curves = ["loss", "accuracy"] if metric == "accuracy" else ["loss"]
        fig = new_figure(5.0 * (len(curves) + 1), 4.4)
        axes = fig.subplots(1, len(curves) + 1)
        colors = [f"C{i % 10}" for i in range(len(groups))]
        for ax, name in zip(axes, curves):
            self._plot_curve(ax, name, groups, colors)
        axes[0].legend(frameon=False, fontsize=8, loc="best")
        self._plot_finals(axes[-1], metric, groups, colors)
        if title:
            fig.suptitle(title, fontsize=11)
        if path is not None:
            save_png(fig, path)
        return fig

    def _plot_curve(self, ax, name: str, groups: list, colors: list) -> None:
        """The training curve ``name`` of every config, the mean over its seeds."""
        for color, (config, records) in zip(colors, groups):
            ok = [r for r in records if r["curve"].get(name)]
            if not ok:
                continue
            length = min(len(r["curve"][name]) for r in ok)
            steps = ok[0]["curve"]["step"][:length]
            mean = np.mean([r["curve"][name][:length] for r in ok], axis=0)
            ax.plot(steps, mean, color=color, lw=1.8, label=self.label(config))
        ax.set_xlabel("iteration")
        ax.set_ylabel(f"training {name}")
        ax.set_title(f"Training {name} (mean over seeds)")
        ax.grid(True, alpha=0.3)
        if name == "loss":
            ax.set_yscale("log")

    def _plot_finals(self, ax, metric: str, groups: list, colors: list) -> None:
        """The final test ``metric`` of each config: a dot per seed, the mean ± spread."""
        summary = self.summary()
        for i, (color, row, (config, records)) in enumerate(zip(colors, summary, groups)):
            values = [r["test"][metric] for r in records if r["test"].get(metric) is not None]
            if not values:
                ax.annotate("diverged", (i, 0), ha="center", fontsize=8, rotation=90)
                continue
            # The mean as a wide tick, not a bar: the axis does not start at 0.
            ax.errorbar(i, row[f"test_{metric}"], yerr=row[f"test_{metric}_spread"],
                        color=color, fmt="_", ms=22, mew=2.5, capsize=5, lw=1.5)
            ax.plot([i] * len(values), values, "o", color=color, ms=4, alpha=0.7)
            ax.annotate(f"{row[f'test_{metric}']:.4f}", (i, max(values)),
                        textcoords="offset points", xytext=(0, 5), ha="center", fontsize=8)
            if metric == "accuracy" and "gap" in row:     # the training accuracy above it
                ax.plot([i, i], [row["test_accuracy"], row["train_accuracy"]], ":",
                        color=color, lw=1.2)
                ax.plot(i, row["train_accuracy"], "^", color=color, mfc="none", ms=8)
                ax.annotate(f"gap {row['gap']:.3f}", (i, row["train_accuracy"]),
                            textcoords="offset points", xytext=(7, -3), fontsize=7, color=color)
        gaps = metric == "accuracy" and any("gap" in row for row in summary)
        ax.set_xlim(-0.6, len(groups) - (0.1 if gaps else 0.4))     # room for "gap" labels
        ax.set_xticks(range(len(groups)), [row["label"] for row in summary], rotation=30,
                      ha="right", fontsize=8)
        ax.set_ylabel(f"test {metric}")
        seeds = max(len(records) for _, records in groups) if groups else 0
        triangles = "\ntraining accuracy (last epoch) as triangles" if gaps else ""
        ax.set_title(f"Final test {metric}: mean ± std, {seeds} seed{'s' if seeds != 1 else ''}"
                     f" as dots{triangles}")
        ax.grid(True, axis="y", alpha=0.3)
        if metric == "accuracy":
            tops = [r["test"]["accuracy"] for r in self.results
                    if r["test"].get("accuracy") is not None]
            tops += [row["train_accuracy"] for row in summary if "train_accuracy" in row]
            if tops:
                room = 0.07 if gaps else 0.03       # a triangle at 1.0 and its label fit
                ax.set_ylim(max(0.0, min(tops) - 0.05), min(1.0 + room - 0.02, max(tops) + room))

    def __repr__(self) -> str:
        return f"Sweep({len(self.configs())} configs, {len(self.results)} runs)"


def _train_accuracy(record: dict) -> float | None:
    """A run's accuracy on its training set: ``evaluate``'s after training, or for records
    written before sweeps kept it, the last epoch's mean over its batches."""
    if record.get("train", {}).get("accuracy") is not None:
        return record["train"]["accuracy"]
    accuracy = record["history"].get("accuracy")
    return accuracy[-1] if accuracy else None
