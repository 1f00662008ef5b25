"""``fit``'s own work, done as callbacks before the user's: the ``History``, the progress
bar, the learning-rate schedule, checkpoints and the ``eval_every`` curves.

Each reads the run it serves (``loop.TrainingRun``: epoch, step, batches, the ``History``)
from the object it was built with, not from attributes parked on the model.
"""
from __future__ import annotations

import sys
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


class ProgressBar(Callback):
    """``verbose=1``: a progress bar of steps; ``verbose=2``: one line per epoch."""

    def __init__(self, verbose: int, run, total: int, checkpoint) -> None:
        super().__init__()
        self.verbose, self.run, self.checkpoint = verbose, run, checkpoint
        self.bar = tqdm(total=total, initial=min(run.step, total), disable=verbose != 1,
                        unit="step", mininterval=0.5, dynamic_ncols=True, file=sys.stderr)

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        self.bar.close()

    def on_train_batch_end(self, batch, logs=None):
        self.bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        text = " ".join(f"{k}={v:.4f}" for k, v in logs.items() if k != "lr")
        text += f" lr={logs['lr']:.3g}"
        self.bar.set_postfix_str(text, refresh=False)
        if self.verbose == 2:
            print(f"epoch {epoch}: {text}", file=sys.stderr)

    def on_train_end(self, logs=None):
        if self.run.history.interrupted and self.verbose:
            by = " by SIGTERM" if self.run.history.signal == "SIGTERM" else ""
            print(f"fit: interrupted{by} after step {self.run.step} (epoch {self.run.epoch}); the "
                  f"model keeps the weights of that step and the History what was recorded"
                  f"{f', checkpoint written to {self.checkpoint}' if self.checkpoint else ''}.",
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
