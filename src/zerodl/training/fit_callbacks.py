"""``fit``'s own work, done as callbacks before the user's: the ``History``, the progress
bar, the learning-rate schedule, checkpoints and the ``eval_every`` curves.

Each reads the run it serves (``loop.TrainingRun``: epoch, step, batches, the ``History``)
from the object it was built with, not from attributes parked on the model.
"""
from __future__ import annotations

import sys
import time
from typing import Sequence

from tqdm import tqdm

from .callbacks import Callback, CallbackList
from .checkpoint import save_checkpoint


class History(Callback):
    """What ``fit`` recorded; ``fit`` fills it as its first callback.

    ``history``: per-epoch lists keyed ``loss``, ``accuracy`` (classifiers) and, with
    validation data, ``val_loss``, ``val_accuracy``; ``epoch``: the epoch numbers (from 1).
    ``history["lr"]``: the learning rate of each epoch.
    ``steps``: with ``fit(eval_every=n)``, the same metrics every ``n`` steps on the whole
    training and validation sets, plus ``step``; empty otherwise. ``interrupted``: True when
    Ctrl-C or SIGTERM stopped ``fit`` early; ``signal``: then ``"SIGINT"`` or ``"SIGTERM"``,
    else None. An epoch cut short by a stop (a signal, ``model.stop_training``, ``steps``) is
    recorded like a full one, with the means over its batches so far, as Keras does;
    ``n_steps``: the updates of the
    whole run when ``fit`` returned, a resumed part included.
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.steps: dict[str, list[float]] = {}
        self.interrupted = False
        self.signal: str | None = None
        self.n_steps = 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        self._append(self.history, logs or {})

    def add_step(self, values: dict) -> None:
        """Record the metrics of one ``eval_every`` point in ``steps``."""
        self._append(self.steps, values)

    def drop_last_epoch(self) -> None:
        """Forget the last epoch's entry (a cut-short epoch that a resume runs to its end)."""
        self.epoch.pop()
        for values in self.history.values():
            values.pop()

    def _append(self, table: dict, values: dict) -> None:
        for key, value in values.items():
            table.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"


def format_logs(logs: dict) -> str:
    """Keras's way of writing an epoch's logs: ``loss: 0.2931 - accuracy: 0.9141 - lr: 0.1``."""
    text = [f"{k}: {v:.4f}" for k, v in logs.items() if k not in ("lr", "size", "step")]
    if "lr" in logs:
        text.append(f"lr: {logs['lr']:.3g}")
    return " - ".join(text)


class ProgressBar(Callback):
    """What ``fit`` prints, as Keras prints it (on stderr).

    ``verbose=1``: one bar per epoch, headed ``Epoch 3/10``, whose ``loss`` and ``accuracy``
    are the running means over the epoch's batches so far (labelled ``running mean``), updated
    with every batch; at the epoch's end the bar stays as a line with the epoch's logs, the
    ``val_*`` scores included. ``verbose=2``: that line only, one per epoch, no bar.
    ``verbose=0``: nothing. A run that a callback stopped early (``EarlyStopping``) or a signal
    interrupted says so in a last line.

    The ``loss`` and ``accuracy`` of an epoch are means over its batches, each measured with
    the weights of that moment, while they were still changing; ``evaluate`` on the same data
    afterwards (what ``eval_every`` and ``zerodl train``'s curves measure) uses the final
    weights, so the two differ, mostly in the first epochs.
    """

    def __init__(self, verbose: int, run, total: int, checkpoint) -> None:
        super().__init__()
        self.verbose, self.run, self.total, self.checkpoint = verbose, run, total, checkpoint
        self.bar: tqdm | None = None
        self.started = 0.0

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:        # an exception ended the epoch: leave its line as it is
            self.bar.close()
            self.bar = None

    def _head(self, epoch: int) -> str:
        return f"Epoch {epoch}/{self.run.n_epochs}"

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()
        if self.verbose != 1:
            return
        run = self.run
        done = run.progress.resumed_batches     # batches of a resumed epoch already run
        this_epoch = min(run.steps_per_epoch, done + self.total - run.step)
        self.bar = tqdm(total=this_epoch, initial=done, desc=self._head(epoch), unit="step",
                        leave=True, mininterval=0.2, dynamic_ncols=True, file=sys.stderr,
                        bar_format="{desc}: {n_fmt}/{total_fmt} |{bar:20}| "
                                   "{elapsed}<{remaining}{postfix}")

    def on_train_batch_end(self, batch, logs=None):
        if self.bar is None:
            return
        progress = self.run.progress
        running = {"loss": progress.loss_sum / progress.seen}
        if "accuracy" in logs:
            running["accuracy"] = progress.correct / progress.seen
        self.bar.set_postfix_str(f"running mean {format_logs(running)}", refresh=False)
        self.bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.started
        if self.bar is not None:
            self.bar.set_postfix_str(format_logs(logs), refresh=False)
            self.bar.close()
            self.bar = None
        elif self.verbose == 2:
            print(f"{self._head(epoch)} - {seconds:.1f}s - {format_logs(logs)}", file=sys.stderr,
                  flush=True)

    def on_train_end(self, logs=None):
        run = self.run
        if not self.verbose:
            return
        if run.history.interrupted:
            by = " by SIGTERM" if run.history.signal == "SIGTERM" else ""
            print(f"fit: interrupted{by} after step {run.step} (epoch {run.epoch}); the "
                  f"model keeps the weights of that step and the History what was recorded"
                  f"{f', checkpoint written to {self.checkpoint}' if self.checkpoint else ''}.",
                  file=sys.stderr)
        elif run.step < self.total:
            print(f"fit: stopped early after epoch {run.epoch} of {run.n_epochs} (step "
                  f"{run.step} of {self.total}): a callback set model.stop_training.",
                  file=sys.stderr)


class ScheduleStep(Callback):
    """Sets ``optimizer.lr`` before each epoch from a ``zerodl.schedules`` object."""

    def __init__(self, schedule, optimizer, epochs: int) -> None:
        super().__init__()
        self.schedule, self.optimizer, self.epochs = schedule, optimizer, epochs

    def on_train_begin(self, logs=None):
        # After a resume this continues from the restored state.
        self.schedule.start(self.optimizer, epochs=self.epochs)

    def on_epoch_end(self, epoch, logs=None):
        self.schedule.step(self.optimizer, logs.get("val_loss", logs["loss"]))


class CheckpointWriter(Callback):
    """Writes the training state at every epoch end and, mid-epoch, on Ctrl-C."""

    def __init__(self, path, run, optimizer, schedule) -> None:
        super().__init__()
        self.path, self.run, self.optimizer, self.schedule = path, run, optimizer, schedule

    def save(self) -> None:
        progress = self.run.progress
        # Mid-epoch, the generator goes back to before this epoch's order, drawn again.
        rng_state = (progress.epoch_rng if progress.batches
                     else progress.rng.bit_generator.state)
        save_checkpoint(self.path, self.model, self.optimizer, rng_state, self.run.history,
                        progress.progress(), schedule=self.schedule)

    def on_epoch_end(self, epoch, logs=None):
        if not self.run.batches:            # a whole epoch (a cut-short one: on_train_end)
            self.save()

    def on_train_end(self, logs=None):
        if self.run.history.interrupted and self.run.batches:
            self.save()                     # mid-epoch: save where it stands


class EvalEvery(Callback):
    """``fit(eval_every=n)``: metrics on all the training and validation data every n steps."""

    def __init__(self, every: int, train: tuple, validation: tuple | None, history) -> None:
        super().__init__()
        self.every, self.train, self.validation = every, train, validation
        self.history = history

    def on_train_batch_end(self, batch, logs=None):
        step = logs["step"]
        if step % self.every:
            return
        values = {"step": step, **self.model.evaluate_prepared(*self.train)}
        if self.validation is not None:
            values.update({f"val_{k}": v
                           for k, v in self.model.evaluate_prepared(*self.validation).items()})
        self.history.add_step(values)


def fit_callbacks(history: History, progress: ProgressBar, run, optimizer, schedule,
               checkpoint: str | None, n_epochs: int, eval_every: int | None, train: tuple,
               val, callbacks: Sequence[Callback] | None) -> CallbackList:
    """``fit``'s own work as callbacks, in this order, before the user's: History first, so
    that the schedule, the checkpoint and every user callback see the epoch recorded; the
    ``eval_every`` curves last."""
    own: list[Callback] = [history]
    if schedule is not None:
        own.append(ScheduleStep(schedule, optimizer, n_epochs))
    if checkpoint is not None:
        own.append(CheckpointWriter(checkpoint, run, optimizer, schedule))
    own.append(progress)
    after = [] if eval_every is None else [EvalEvery(eval_every, train, val, history)]
    return CallbackList([*own, *(callbacks or ()), *after])
