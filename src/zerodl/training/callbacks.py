"""Callbacks: code that ``fit`` calls at fixed points of training, to watch or steer it.

The hooks and their meaning follow Keras. Numbering, the same everywhere in zerodl:
``epoch`` counts from 1 (as ``History.epoch``, the progress bar and every message do);
``batch`` is the index of the batch within its epoch, from 0; ``logs["step"]`` counts the
updates of the whole run, from 1.

- ``on_train_begin(logs)`` / ``on_train_end(logs)``: once; the end's logs are the last
  epoch's (empty if none finished).
- ``on_epoch_begin(epoch, logs)`` / ``on_epoch_end(epoch, logs)``: the end's logs hold
  exactly what ``History.history`` records for that epoch (``loss``, ``accuracy``,
  ``val_*``, ``lr``).
- ``on_train_batch_begin(batch, logs)`` / ``on_train_batch_end(batch, logs)``: the end's logs
  hold the batch's ``loss``, ``accuracy`` (classifiers), ``size`` and ``step``. While it runs,
  ``model.grads`` holds that step's gradients and ``self.run.batch`` the batch ``(x, d)``
  (work arrays, valid until the next step: copy what you keep).

Setting ``model.stop_training = True`` in any hook stops after the current batch.

Built in, with Keras's names and defaults: ``EarlyStopping``, ``ModelCheckpoint``,
``CSVLogger``, ``LambdaCallback``. ``fit`` itself runs its ``History``, progress bar,
learning-rate schedule, checkpoints and ``eval_every`` curves as callbacks placed before the
user's, so a user callback's ``on_epoch_end`` sees the epoch already in ``History``.

The one difference from Keras is the numbering: Keras counts epochs from 0 in its hooks
(and from 1 in what it prints and in checkpoint file names); zerodl counts from 1
everywhere. So ``EarlyStopping.stopped_epoch`` is the epoch number ``History.epoch`` shows,
``start_from_epoch=2`` ignores epochs 1 and 2, and ``ModelCheckpoint("w{epoch}.npz")``
writes ``w1.npz`` after the first epoch, as in Keras.
"""
from __future__ import annotations

import math
import os
import sys
from typing import Iterable

import numpy as np

from ..core._checks import check_bool, check_choice, check_int, check_number
from ..core._fileio import check_output_path


class Callback:
    """Base class: every hook does nothing. Before training starts, ``model`` is set to the
    model and ``run`` to the training run (``epoch``, ``step``, ``history``, and ``batch``:
    the step's batch ``(x, d)`` while its hooks run)."""

    def __init__(self) -> None:
        self.model = None
        self.run = None

    def set_model(self, model) -> None:
        self.model = model

    def set_run(self, run) -> None:
        self.run = run

    def on_train_begin(self, logs: dict | None = None) -> None:
        pass

    def on_train_end(self, logs: dict | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        pass

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        pass

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        pass


class CallbackList(Callback):
    """Several callbacks called in order, as one.

    Each hook calls only the callbacks that define it (a hook left as ``Callback``'s does
    nothing), so that the six calls per batch cost next to nothing when nobody listens.
    """

    HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
             "on_train_batch_begin", "on_train_batch_end")

    def __init__(self, callbacks: Iterable[Callback] = ()) -> None:
        super().__init__()
        self.callbacks = list(callbacks)
        for i, cb in enumerate(self.callbacks):
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks[{i}] must be a zerodl.callbacks.Callback; got {cb!r}.")
        self._listeners = {name: [getattr(cb, name) for cb in self.callbacks
                                  if getattr(type(cb), name) is not getattr(Callback, name)
                                  or name in vars(cb)]
                           for name in self.HOOKS}

    def set_model(self, model) -> None:
        super().set_model(model)
        for cb in self.callbacks:
            cb.set_model(model)

    def set_run(self, run) -> None:
        super().set_run(run)
        for cb in self.callbacks:
            cb.set_run(run)

    def on_train_begin(self, logs=None):
        for hook in self._listeners["on_train_begin"]:
            hook(logs)

    def on_train_end(self, logs=None):
        for hook in self._listeners["on_train_end"]:
            hook(logs)

    def on_epoch_begin(self, epoch, logs=None):
        for hook in self._listeners["on_epoch_begin"]:
            hook(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        for hook in self._listeners["on_epoch_end"]:
            hook(epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        for hook in self._listeners["on_train_batch_begin"]:
            hook(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        for hook in self._listeners["on_train_batch_end"]:
            hook(batch, logs)


# -- built-in callbacks -----------------------------------------------------------------
def _monitored(owner: str, monitor: str, logs: dict | None) -> float:
    """``logs[monitor]``, or a ValueError that names the keys there are."""
    logs = logs or {}
    if monitor not in logs:
        hint = (" (val_* keys need fit(validation_data=...))"
                if monitor.startswith("val_") else "")
        raise ValueError(f"{owner} monitor must be one of the epoch's log keys "
                         f"({', '.join(logs) or 'none'}){hint}; got {monitor!r}.")
    return float(logs[monitor])


def _direction(mode: str, monitor: str) -> str:
    """"min" or "max": "auto" maximises accuracies and minimises everything else (Keras)."""
    mode = check_choice("mode", mode, ("auto", "min", "max"))
    if mode == "auto":
        return "max" if monitor.endswith(("acc", "accuracy", "auc")) else "min"
    return mode


def _check_monitor(monitor) -> str:
    if not isinstance(monitor, str):
        raise TypeError(f"monitor must be a log key such as 'val_loss'; got {monitor!r}.")
    return monitor


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has stopped improving.

    An epoch improves on the best so far when it beats it by more than ``min_delta``
    (``current < best - min_delta`` in "min" mode, ``current > best + min_delta`` in
    "max" mode; "auto" maximises names ending in ``accuracy`` and minimises the rest).
    After ``patience`` epochs in a row without improvement (at least one), training stops:
    if the best epoch is ``b``, the last one trained is ``b + max(patience, 1)``. Epochs up
    to ``start_from_epoch`` are not watched (a warm-up). With ``restore_best_weights`` the
    model ends with the weights of the best epoch. ``baseline``, as in Keras: an epoch
    resets the patience only if it improves on the best so far and on ``baseline`` too, so
    that a run that never beats the baseline stops after ``patience`` epochs. ``verbose=1``
    prints, when it stops, the epoch it stopped at and the best epoch with its value (on
    stderr, like ``fit``'s progress).

    Attributes: ``best`` (the best value), ``best_epoch``, ``stopped_epoch`` (the epoch
    after which it stopped training; 0 if it did not), ``wait``.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0,
                 mode: str = "auto", restore_best_weights: bool = False,
                 start_from_epoch: int = 0, baseline: float | None = None,
                 verbose: int = 0) -> None:
        super().__init__()
        self.monitor = _check_monitor(monitor)
        self.baseline = None if baseline is None else check_number("baseline", baseline)
        self.verbose = check_int("verbose", verbose, minimum=0)
        self.min_delta = abs(check_number("min_delta", min_delta))
        self.patience = check_int("patience", patience, minimum=0)
        self.mode = mode
        self.restore_best_weights = check_bool("restore_best_weights", restore_best_weights)
        self.start_from_epoch = check_int("start_from_epoch", start_from_epoch, minimum=0)
        self._direction = _direction(mode, monitor)
        self.on_train_begin()

    def _improves(self, current: float, reference: float | None = None) -> bool:
        reference = self.best if reference is None else reference
        if self._direction == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best = math.inf if self._direction == "min" else -math.inf
        self.best_weights: dict[str, np.ndarray] | None = None

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored("EarlyStopping", self.monitor, logs)
        if epoch <= self.start_from_epoch:
            return
        self.wait += 1
        if self._improves(current):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = {k: p.copy() for k, p in self.model.params.items()}
            if self.baseline is None or self._improves(current, self.baseline):
                self.wait = 0
                return
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        restore = self.restore_best_weights and self.best_weights is not None
        if restore:
            for key, p in self.model.params.items():
                p[...] = self.best_weights[key]
        if self.verbose and self.stopped_epoch:
            best = (f"the best {self.monitor} was {self.best:.4f} at epoch {self.best_epoch}"
                    if self.best_epoch else f"{self.monitor} never improved")
            if self.baseline is not None:
                best += f" (baseline {self.baseline:g})"
            than = "the best so far" + ("" if self.baseline is None else " and the baseline")
            print(f"Epoch {self.stopped_epoch}: early stopping after {self.wait} epoch(s) in "
                  f"which {self.monitor} did not beat {than}; {best}"
                  f"{'; restored the weights of that epoch' if restore else ''}.",
                  file=sys.stderr)


class ModelCheckpoint(Callback):
    """Save the model (``model.save``: a file ``zerodl.load`` reads, written atomically) at
    the end of every epoch, or only when ``monitor`` improved with ``save_best_only``.

    ``filepath`` may hold ``str.format`` fields filled from the epoch and its logs, e.g.
    ``"ckpt/w{epoch:02d}-{val_loss:.4f}.npz"``; without fields every save replaces the same
    file. ``mode`` as in ``EarlyStopping``. Attribute ``best``: the best value saved. The
    folder must exist (checked here, before training; nothing is created), and each file is
    written as ``model.save`` writes it (a symbolic link is written through). This saves
    the model only; ``fit(checkpoint=...)`` saves a whole training run to resume.
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss",
                 save_best_only: bool = False, mode: str = "auto") -> None:
        super().__init__()
        # Checked now, not after the first epoch: the folder must exist (a template's
        # fields in the file name are filled in later; folders are never created).
        self.filepath = os.fspath(check_output_path("filepath", filepath))
        self.monitor = _check_monitor(monitor)
        self.save_best_only = check_bool("save_best_only", save_best_only)
        self.mode = mode
        self._direction = _direction(mode, monitor)
        self.best = math.inf if self._direction == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            current = _monitored("ModelCheckpoint", self.monitor, logs)
            if not (current < self.best if self._direction == "min" else current > self.best):
                return
            self.best = current
        try:
            path = self.filepath.format(epoch=epoch, **logs)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"filepath must use only the fields epoch, {', '.join(logs)}; got "
                             f"{self.filepath!r} ({type(exc).__name__}: {exc}).") from None
        self.model.save(path)


class CSVLogger(Callback):
    """Write one row per epoch to ``filename``: ``epoch`` then every key of the epoch's logs.

    Values are written exactly (Python's shortest round-trip form). Each row is flushed as
    soon as it is written, so a run stopped at any point leaves every finished epoch on
    disk. ``append=True`` adds to an existing file (without a second header). ``filename``
    is checked here, before training: its folder must exist and it must not be a folder or
    a device.
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",",
                 append: bool = False) -> None:
        super().__init__()
        self.filename = check_output_path("filename", filename)
        if not isinstance(separator, str) or not separator:
            raise TypeError(f"separator must be a non-empty string; got {separator!r}.")
        self.separator = separator
        self.append = check_bool("append", append)
        self.keys: list[str] | None = None
        self._file = None

    def on_train_begin(self, logs=None):
        has_rows = (self.append and self.filename.is_file()
                    and self.filename.stat().st_size > 0)
        self._file = open(self.filename, "a" if self.append else "w", encoding="utf-8",
                          newline="")
        self._header_done = has_rows
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = list(logs)
        if not self._header_done:
            self._file.write(self.separator.join(["epoch", *self.keys]) + "\n")
            self._header_done = True
        row = [str(epoch)] + [repr(float(logs[k])) if k in logs else "" for k in self.keys]
        self._file.write(self.separator.join(row) + "\n")
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class LambdaCallback(Callback):
    """A callback from plain functions, one per hook, each optional.

    ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))``. The
    functions take the hook's arguments: ``(logs)`` for ``on_train_begin/end``,
    ``(epoch, logs)`` and ``(batch, logs)`` for the others.
    """

    HOOKS = CallbackList.HOOKS

    def __init__(self, on_train_begin=None, on_train_end=None, on_epoch_begin=None,
                 on_epoch_end=None, on_train_batch_begin=None, on_train_batch_end=None) -> None:
        super().__init__()
        given = dict(zip(self.HOOKS, (on_train_begin, on_train_end, on_epoch_begin,
                                      on_epoch_end, on_train_batch_begin, on_train_batch_end)))
        for name, fn in given.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"{name} must be a function or None; got {fn!r}.")
            setattr(self, name, fn)
