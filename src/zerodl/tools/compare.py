"""The course's optimizer comparison: curves of several optimizers on the same batches.

Every optimizer trains the same network from the same initial weights (one ``seed``) on the
same mini-batches in the same order; the per-step training loss and the test accuracy every
few steps are recorded, drawn in one PNG, and summed up in a table of final accuracy and
training time (the time of the training steps alone, without the test evaluations).
``zerodl compare-optimizers`` (``cli_compare.py``) runs it on MNIST.
"""
from __future__ import annotations

import os
import time
from typing import Sequence

import numpy as np

from .plotting import new_figure, save_png
from ..training.callbacks import Callback
from ..training.recipe import RunConfig

#: The comparison's own run: the course's MNIST network widened to 100 hidden units, He
#: initialisation, 3 epochs; every other setting is ``RunConfig``'s default.
COMPARISON = {"layers": (784, 100, 10), "init": "he", "epochs": 3}


def compare_optimizers(names: Sequence[str], x_train, d_train, x_test, d_test, *,
                       config: RunConfig | None = None, lrs: dict[str, float] | None = None,
                       eval_every: int = 60, progress=None, **settings) -> dict[str, dict]:
    """Train ``config``'s network once per optimizer name; return the curves.

    ``config``: the run (default ``COMPARISON``), changed by ``settings`` (``RunConfig``
    settings: ``layers``, ``init``, ``epochs``, ``batch_size``, ``seed``, ...). Each
    optimizer starts from the same weights and trains on the same batches, those of
    ``RunConfig.train`` for the config's seed. ``lrs`` sets the learning rate of some
    optimizers; the others get the rate ``zerodl train`` gives them
    (``RunConfig.learning_rate``: the course's 0.1 for SGD, each other rule's own default).
    Each result holds ``optimizer`` (its repr), ``lr``, ``loss`` (the mini-batch loss of
    every step), ``eval_step`` and ``test_accuracy`` (every
    ``eval_every`` steps, from step 0, and at the end), ``steps_per_epoch`` and ``seconds``
    (training steps only). ``progress(name, result)`` is called after each optimizer.
    """
    config = (config or RunConfig(**COMPARISON)).replace(**settings)
    lrs = dict(lrs or {})
    results = {}
    for name in names:
        run = config.replace(optimizer=name, lr=None)
        run = run.replace(lr=lrs.get(name, run.learning_rate()))
        model, optimizer = run.build_model(), run.build_optimizer()
        test = (model.prepare_inputs(x_test), None)
        test = (test[0], model.prepare_labels(d_test, len(test[0])))
        curves = _Curves(test, eval_every)
        # fit's own loop and batches, those of RunConfig.train for this seed
        run.fit(model, optimizer, data=((x_train, d_train), None), callbacks=[curves],
                verbose=0)
        results[name] = {"optimizer": repr(optimizer), "lr": optimizer.lr,
                         "loss": curves.losses, "eval_step": curves.eval_steps,
                         "test_accuracy": curves.accuracy,
                         "steps_per_epoch": run.steps_per_epoch(len(x_train)),
                         "seconds": curves.seconds}
        if progress is not None:
            progress(name, results[name])
    return results


class _Curves(Callback):
    """Every step's loss, the test accuracy every ``every`` steps (from step 0 and at the
    end), and the time spent in the steps themselves (evaluation left out)."""

    def __init__(self, test: tuple, every: int) -> None:
        super().__init__()
        self.test, self.every = test, every
        self.losses: list[float] = []
        self.eval_steps: list[int] = []
        self.accuracy: list[float] = []
        self.seconds = 0.0
        self._begin = 0.0

    def _evaluate(self, step: int) -> None:
        self.eval_steps.append(step)
        self.accuracy.append(self.model.evaluate_prepared(*self.test)["accuracy"])

    def on_train_begin(self, logs=None):
        self._evaluate(0)

    def on_train_batch_begin(self, batch, logs=None):
        self._begin = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.seconds += time.perf_counter() - self._begin
        self.losses.append(logs["loss"])
        if logs["step"] % self.every == 0:
            self._evaluate(logs["step"])

    def on_train_end(self, logs=None):
        if self.eval_steps[-1] != len(self.losses):
            self._evaluate(len(self.losses))


def _smooth(values: Sequence[float], window: int) -> np.ndarray:
    """Moving average over the last ``window`` values (fewer at the start)."""
    cumulative = np.cumsum(np.asarray(values, dtype=np.float64))
    out = cumulative.copy()
    out[window:] = cumulative[window:] - cumulative[:-window]
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return out / counts


def plot_comparison(results: dict[str, dict], path: str | os.PathLike | None = None,
                    title: str | None = None):
    """Training loss (left, log scale, smoothed) and test accuracy (right) of every
    optimizer against epochs; writes a PNG to ``path`` if given; returns the ``Figure``."""
    fig = new_figure(12.5, 4.8)
    ax_loss, ax_acc = fig.subplots(1, 2)
    for i, (name, r) in enumerate(results.items()):
        # colour and dash both vary, so pairs that nearly coincide (adam, adamw) stay visible
        style = {"color": f"C{i % 10}", "ls": "-" if i % 2 == 0 else "--", "lw": 1.8}
        per_epoch = r["steps_per_epoch"]
        steps = np.arange(1, len(r["loss"]) + 1) / per_epoch
        ax_loss.plot(steps, _smooth(r["loss"], max(1, per_epoch // 6)), label=name, **style)
        epochs = np.asarray(r["eval_step"]) / per_epoch
        acc = np.asarray(r["test_accuracy"])
        ax_acc.plot(epochs, acc, marker="o", ms=2.5, label=f"{name}  {acc[-1]:.4f}", **style)
    ax_loss.set_yscale("log")
    ax_loss.set_title("Training loss (mini-batches, moving average)")
    ax_loss.set_ylabel("cross-entropy loss")
    ax_acc.set_title("Test accuracy")
    ax_acc.set_ylabel("accuracy")
    # The whole scale, 0 to 1: a cropped axis makes small differences look large; the
    # legend gives the final accuracies to four digits.
    ax_acc.set_ylim(0.0, 1.0)
    for ax in (ax_loss, ax_acc):
        ax.set_xlabel("epoch")
        ax.grid(True, which="both", alpha=0.25)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    ax_loss.legend(frameon=False, ncols=2, fontsize=9)
    ax_acc.legend(frameon=False, loc="lower right", fontsize=9, title="final test accuracy",
                  title_fontsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
    if path is not None:
        save_png(fig, path)
    return fig


def format_table(results: dict[str, dict]) -> str:
    """One line per optimizer: learning rate, mean training loss of the last epoch, final
    test accuracy and training time."""
    head = f"{'optimizer':<10} {'lr':>8} {'train loss':>11} {'test acc':>9} {'time (s)':>9}"
    lines = [head, "-" * len(head)]
    for name, r in results.items():
        last = r["loss"][-r["steps_per_epoch"]:]
        lines.append(f"{name:<10} {r['lr']:>8.3g} {float(np.mean(last)):>11.4f} "
                     f"{r['test_accuracy'][-1]:>9.4f} {r['seconds']:>9.2f}")
    return "\n".join(lines)
