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

import inspect
import math
import os
import string
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
        for i, cb in enumerate(self.callbacks):
            for name in self.HOOKS:
                if getattr(type(cb), name) is not getattr(Callback, name) or name in vars(cb):
                    check_hook(f"callbacks[{i}].{name}", name, getattr(cb, name))

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


#: What each hook is called with: a hook that cannot take it is refused before training.
HOOK_ARGUMENTS = {"on_train_begin": "(logs)", "on_train_end": "(logs)",
                  "on_epoch_begin": "(epoch, logs)", "on_epoch_end": "(epoch, logs)",
                  "on_train_batch_begin": "(batch, logs)", "on_train_batch_end": "(batch, logs)"}


def check_hook(name: str, hook: str, fn) -> None:
    """Refuse ``fn`` as the hook ``hook`` if it cannot be called with the hook's arguments
    (checked by its signature, so now, not after an epoch). Functions without a signature
    Python can read (some built-ins) are let through."""
    wanted = HOOK_ARGUMENTS[hook]
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*([None] * wanted.count(",")), None)
    except TypeError:
        shown = getattr(fn, "__qualname__", type(fn).__name__)
        raise TypeError(f"{name} must take {wanted}; got {shown}{signature}.") from None


# -- built-in callbacks -----------------------------------------------------------------
def _monitored(owner: str, monitor: str, logs: dict | None) -> float:
    """``logs[monitor]``, or a ValueError that names the keys there are."""
    logs = logs or {}
    if monitor not in logs:
        hint = (" (val_* keys need fit(validation_data=...))"
                if monitor.startswith("val_") and not any(k.startswith("val_") for k in logs)
                else "")
        raise ValueError(f"{owner} monitor must be one of the epoch's log keys "
                         f"({', '.join(logs) or 'none'}){hint}; got {monitor!r}.")
    return float(logs[monitor])


def _check_monitor_known(owner: str, monitor: str, run) -> None:
    """Refuse, before the first step, a monitor that no epoch's logs will hold."""
    keys = getattr(run, "epoch_log_keys", None)
    if keys is not None:
        _monitored(owner, monitor, dict.fromkeys(keys(), 0.0))


def _check_template(filepath: str) -> str:
    """Refuse a ``str.format`` template whose syntax is wrong or whose fields are not named
    (``{0}``, ``{}``): the fields are filled by name from the epoch's logs."""
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(filepath)
                  if field is not None]
    except ValueError as exc:
        raise ValueError(f"filepath must be a valid format string ({exc}; write {{{{ and "
                         f"}}}} for braces); got {filepath!r}.") from None
    for field in fields:
        if not field or field[0].isdigit():
            raise ValueError(f"filepath must name its fields (epoch or a log key such as "
                             f"{{val_loss:.4f}}), not number them; got {filepath!r}.")
    return filepath


def _fill(filepath: str, epoch: int, logs: dict) -> str:
    """``filepath`` with its fields filled, or a ValueError naming the fields there are or
    the format a field cannot take (``{epoch:s}``: epoch is an integer)."""
    try:
        return filepath.format(epoch=epoch, **logs)
    except KeyError as exc:
        raise ValueError(f"filepath must use only the fields epoch, {', '.join(logs)}; got "
                         f"{filepath!r} (no field {exc.args[0]!r}).") from None
    except (IndexError, ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"filepath must format each field as its value allows (epoch is an "
                         f"integer, the log keys are floats); got {filepath!r} ({exc}).") from None


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

    def set_run(self, run) -> None:
        super().set_run(run)
        _check_monitor_known("EarlyStopping", self.monitor, run)

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
        self.filepath = _check_template(os.fspath(check_output_path("filepath", filepath)))
        self.monitor = _check_monitor(monitor)
        self.save_best_only = check_bool("save_best_only", save_best_only)
        self.mode = mode
        self._direction = _direction(mode, monitor)
        self.best = math.inf if self._direction == "min" else -math.inf

    def set_run(self, run) -> None:
        super().set_run(run)
        keys = getattr(run, "epoch_log_keys", None)
        if keys is not None:        # the fields filled as after an epoch, before the first
            _fill(self.filepath, 1, dict.fromkeys(keys(), 0.5))
            if self.save_best_only:
                _check_monitor_known("ModelCheckpoint", self.monitor, run)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            current = _monitored("ModelCheckpoint", self.monitor, logs)
            if not (current < self.best if self._direction == "min" else current > self.best):
                return
            self.best = current
        self.model.save(_fill(self.filepath, epoch, logs))


class CSVLogger(Callback):
    """Write one row per epoch to ``filename``: ``epoch`` then every key of the epoch's logs.

    Values are written exactly (Python's shortest round-trip form). Each row is written and
    the file closed again as soon as the epoch ends, so a run stopped at any point (or
    failing) leaves every finished epoch on disk and no file open. An existing file is
    replaced only when the first row is written: a run refused or failing before its first
    epoch ends leaves the old log as it was. ``append=True`` adds to an existing file
    (without a second header); its header must name this run's columns (checked before
    training), and a last line without its newline (a writer killed mid-row) is ended
    first. ``filename`` is checked here, before training: its folder must exist and it must
    not be a folder or a device.
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
        self._rows = 0

    def _header(self, keys) -> str:
        return self.separator.join(["epoch", *keys])

    def set_run(self, run) -> None:
        super().set_run(run)
        keys = getattr(run, "epoch_log_keys", None)
        if not (self.append and keys is not None and self.filename.is_file()):
            return
        with open(self.filename, encoding="utf-8", errors="replace", newline="") as f:
            first = f.readline(10_000).rstrip("\r\n")
        if first and first != self._header(keys()):
            raise ValueError(f"filename must hold a log with this run's columns "
                             f"({self._header(keys())}) to append to; got {str(self.filename)!r}"
                             f" with the columns {first[:200]}.")

    def on_train_begin(self, logs=None):
        self.keys, self._rows = None, 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = list(logs)
        lines = []
        replace = self._rows == 0 and not self.append
        if self._rows == 0 and not replace:
            existing = self.filename.stat().st_size if self.filename.is_file() else 0
            if not existing:
                lines.append(self._header(self.keys))
            elif not _ends_with_newline(self.filename):
                lines.append("")            # end the torn last row first
        elif replace:
            lines.append(self._header(self.keys))
        row = [str(epoch)] + [repr(float(logs[k])) if k in logs else "" for k in self.keys]
        lines.append(self.separator.join(row))
        text = "\n".join(lines) + "\n"
        with open(self.filename, "w" if replace else "a", encoding="utf-8", newline="") as f:
            f.write(text)
        self._rows += 1


def _ends_with_newline(path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


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
            check_hook(name, name, fn)
            setattr(self, name, fn)
