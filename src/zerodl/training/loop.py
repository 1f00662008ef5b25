"""The training loop: ``fit`` is ``TrainingRun(model, x, d, ...)`` iterated to its end.

One training step, top to bottom: the run draws a mini-batch -> ``model.train_step`` ->
``forward`` (each layer's ``forward``: ``x @ W + b``, activations) -> ``output.loss_and_grad``
(loss and ``dE/du``) -> ``backward`` (each layer's ``backward``: ``x.T @ dy``, ``dy @ W.T``)
-> ``optimizer.update``. Around it the run calls the callbacks' hooks and the divergence
``Guard``, and counts epochs and steps.

What a run does, in detail:

- Counting. ``steps`` counts updates, as the course counts iterations. An epoch cut short
  (by ``steps``, Ctrl-C or ``model.stop_training``) is recorded in the ``History`` like a
  full one, with the means over the batches it ran, as Keras does. ``History`` is also
  ``model.history``, as in Keras.
- Schedules. ``lr_schedule`` is an object of ``zerodl.schedules`` or a name (``"step"``,
  ``"exponential"``, ``"cosine"``, ``"plateau"``); ``"plateau"`` watches the validation loss,
  or the epoch's training loss when there is no validation data. ``history.history["lr"]``
  records each epoch's rate. ``clip_value`` clips every gradient entry to
  ``[-clip_value, clip_value]``, then ``clip_norm`` caps the global norm of all gradients.
- Callbacks. The hooks run at the start and end of training, of each epoch and of each
  batch (``zerodl.callbacks`` gives the numbering and the logs); one that sets
  ``model.stop_training = True`` stops training after the current batch. The run's own work
  (the ``History``, the progress bar, the schedule, the checkpoint, ``eval_every``) runs as
  callbacks too, before the given ones (``fit_callbacks.py``).
- Checkpoints. ``checkpoint=PATH`` writes the whole training state (weights, buffers,
  optimizer state, the generators' states, progress, history) atomically at every epoch end
  and on Ctrl-C; ``resume=PATH`` restores it and continues, ``epochs`` and ``steps`` counting
  the whole run, resumed part included. The weights end bit-identical to an uninterrupted
  run (``zerodl.checkpoint``). A checkpoint that does not fit this run (damaged, of another
  run, further on than ``epochs``/``steps`` ask) is refused before anything changes.
- Divergence: ``guard.py``. A NaN, infinite or runaway loss raises ``TrainingDiverged``
  with the weights and the optimizer's state put back where they were last good.
- Ctrl-C (SIGINT in the main thread), and SIGTERM the same way: ``signals.py``. Training
  stops after the current batch, whose update is applied in full; the checkpoint is written
  if one is set, and the run ends normally with ``history.interrupted = True``, so that
  ``history = model.fit(...)`` in a notebook keeps what was learned. A second signal acts at
  once. Outside the main thread the ``KeyboardInterrupt`` arrives inside the step, which is
  then not counted.

Everything is checked when the run is made; only iterating it changes the model. A run can
also be iterated step by step (``next(steps)``): the playground does so, and gets the same
batches, in the same order, as ``fit`` with the same settings.
"""
from __future__ import annotations

import math
import os
from typing import Iterator, Sequence

import numpy as np

from ..core._checks import check_int, check_number, check_path, check_seed
from ..core._fileio import check_output_path
from ..core.errors import ResumeBeyondEnd
from ..core.optimizers import get_optimizer
from ..core.schedules import get_schedule
from .callbacks import Callback, CallbackList
from .checkpoint import CheckpointState, read_checkpoint
from .fit_callbacks import History, ProgressBar, fit_callbacks
from .guard import Guard
from .progress import Progress, steps_per_epoch
from .rollback import StartSnapshot
from .signals import StopOnSignal


class TrainingRun:
    """One ``fit``: mini-batch gradient descent over ``x``, ``d``, step by step.

    The arguments are ``fit``'s (``Sequential.fit`` documents them). Making the run checks
    all of them and reads ``resume``; iterating it trains, yielding each step's batch logs
    (``loss``, ``accuracy``, ``size``, ``step``). ``history`` is the run's ``History``;
    ``batch`` the current batch ``(x, d)`` while a step's hooks run (work arrays, valid until
    the next step), which callbacks read as ``self.run.batch``.
    """

    def __init__(self, model, x, d, epochs: int = 1, batch_size: int | None = 100,
                 optimizer="sgd", validation_data=None, seed: int | None = None,
                 verbose: int = 1, steps: int | None = None, eval_every: int | None = None,
                 lr_schedule=None, clip_norm: float | None = None,
                 clip_value: float | None = None, checkpoint: str | os.PathLike | None = None,
                 resume: str | os.PathLike | None = None,
                 callbacks: Sequence[Callback] | None = None,
                 validation_split: float = 0.0) -> None:
        self.model = model
        self.x, self.d = model.prepare_inputs(x), None
        self.d = model.prepare_labels(d, len(self.x))
        if validation_split:
            self.x, self.d, validation_data = _split_tail(self.x, self.d, validation_split,
                                                          validation_data)
        self.batch_size = _check_batch_size(batch_size, len(self.x))
        self.steps_per_epoch = steps_per_epoch(len(self.x), self.batch_size)
        epochs = check_int("epochs", epochs, minimum=1)
        steps = None if steps is None else check_int("steps", steps, minimum=1)
        self.total = steps if steps is not None else epochs * self.steps_per_epoch
        self.n_epochs = math.ceil(self.total / self.steps_per_epoch)
        if eval_every is not None:
            check_int("eval_every", eval_every, minimum=1)
        self.validation = _check_validation(model, validation_data)
        seed = check_seed("seed", seed)
        model.check_trainable()
        self.optimizer = get_optimizer(optimizer)
        self.schedule = get_schedule(lr_schedule)
        self.clipping = _check_clipping(clip_norm, clip_value)
        self.verbose = check_int("verbose", verbose, minimum=0)
        self.checkpoint = (None if checkpoint is None
                           else check_output_path("checkpoint", checkpoint))
        resume = None if resume is None else check_path("resume", resume)
        self.callbacks = _check_callbacks(callbacks)
        _check_outputs_apart(self.checkpoint, resume, self.callbacks or ())
        if resume is None:
            self.optimizer.check_params(model.params)
            if self.schedule is not None:
                self.schedule.check_start(self.n_epochs)
        self.rng = model.rng if seed is None else np.random.default_rng(seed)
        self.restored = None if resume is None else self._read_resume(
            resume, ("steps", steps) if steps is not None else ("epochs", epochs))
        self.eval_every = eval_every
        self.history = History()
        self.batch: tuple | None = None
        self._undo: StartSnapshot | None = None

    def _read_resume(self, resume, length: tuple) -> CheckpointState:
        """Read and check the checkpoint ``resume`` for this run, changing nothing.

        ``epochs`` and ``steps`` count the whole run, so a checkpoint that has gone further
        than this run asks is refused (restoring it would train nothing and leave weights
        from beyond the requested end). A checkpoint exactly at the end restores it."""
        restored = read_checkpoint(resume, self.model, self.optimizer, self.rng,
                                   n_samples=len(self.x), batch_size=self.batch_size,
                                   schedule=self.schedule)
        done = restored.progress["step"]
        if done > self.total:
            name, value = length
            raise ResumeBeyondEnd(
                f"{name} must count the whole run when resuming, at least the {done} steps "
                f"(epoch {restored.progress['epoch']}) that {resume} has done; got "
                f"{name}={value!r} ({self.total} steps in all).", path=str(resume),
                done_steps=done, done_epoch=restored.progress["epoch"],
                asked_steps=self.total)
        if self.schedule is not None:
            # the schedule that will start is the checkpoint's
            type(self.schedule)(**restored.schedule["config"]).check_start(self.n_epochs)
        return restored

    def _start(self) -> tuple[Progress, CallbackList, ProgressBar]:
        """Restore a resumed run and set up the hooks: the first change to anything.

        The user's callbacks meet the model and the run first (``set_model``, ``set_run``):
        one that refuses them (``LayerStats`` with inputs of another width, a monitor the
        logs will not have) raises before the checkpoint is applied."""
        model, history = self.model, self.history
        progress = self.progress = Progress(self.rng, len(self.x), self.batch_size)
        users = CallbackList(self.callbacks or ())
        users.set_model(model)
        users.set_run(self)
        if self.restored is not None:
            progress.resume(self.restored.apply(model, self.optimizer, self.rng, history,
                                                self.schedule))
            if progress.resumed_batches and history.epoch and \
                    history.epoch[-1] == progress.epoch + 1:
                history.drop_last_epoch()   # recorded when cut short; it is finished now
        model.history, model.stop_training = history, False
        bar = ProgressBar(self.verbose, self, self.total, self.checkpoint)
        hooks = fit_callbacks(history, bar, self, self.optimizer, self.schedule,
                              self.checkpoint, self.n_epochs, self.eval_every,
                              (self.x, self.d), self.validation, self.callbacks)
        theirs = {id(cb) for cb in users.callbacks}
        for cb in hooks.callbacks:
            if id(cb) not in theirs:
                cb.set_model(model)
                cb.set_run(self)
        hooks.model, hooks.run = model, self
        return progress, hooks, bar

    def _begin(self) -> tuple[Progress, CallbackList, ProgressBar]:
        """``_start`` and ``on_train_begin``; if either raises, everything they changed is
        put back (``rollback.StartSnapshot``) and the error goes on: fit refused."""
        before = StartSnapshot(self.model, self.optimizer, self.rng, self.schedule)
        bar = None
        try:
            progress, hooks, bar = self._start()
            hooks.on_train_begin({})
        except BaseException:
            if bar is not None:
                bar.__exit__(None, None, None)      # close an epoch's bar, if one is open
            before.put_back()
            raise
        self._undo = before         # until the first update starts (``_early``)
        return progress, hooks, bar

    def _early(self, hook, *args) -> None:
        """Call ``hook``; before the first update (the first ``on_epoch_begin`` and
        ``on_train_batch_begin``) a hook that raises also puts back everything the start
        changed: nothing was trained, so fit refused."""
        if self._undo is None:
            hook(*args)
            return
        try:
            hook(*args)
        except BaseException:
            self._undo.put_back()
            raise

    def epoch_log_keys(self) -> list[str]:
        """The keys of every epoch's logs (``on_epoch_end``), known before training."""
        keys = ["loss"] + (["accuracy"] if self.model.output.has_accuracy else [])
        if self.validation is not None:
            keys += [f"val_{k}" for k in keys]
        return keys + ["lr"]

    # Where the run stands, for the callbacks built with it.
    @property
    def epoch(self) -> int:
        return self.progress.epoch

    @property
    def step(self) -> int:
        return self.progress.step

    @property
    def batches(self) -> int:
        return self.progress.batches

    def __iter__(self) -> Iterator[dict]:
        model, optimizer, x, d, batch = self.model, self.optimizer, self.x, self.d, self.batch_size
        progress, hooks, bar = self._begin()
        stop = StopOnSignal()
        guard = Guard(model, optimizer, progress, x, d)
        logs: dict = {}
        with bar, stop:     # stop: Ctrl-C ends the loop between batches
            while progress.step < self.total and not (stop.requested or model.stop_training):
                progress.epoch += 1
                self._early(hooks.on_epoch_begin, progress.epoch, {})
                progress.start_epoch()
                guard.start_epoch()
                order = self.rng.permutation(len(x))
                lr = optimizer.lr        # this epoch's rate: a schedule changes it between epochs
                for start in range(progress.batches * batch, len(x), batch):
                    if progress.step == self.total or stop.requested or model.stop_training:
                        break
                    self._early(hooks.on_train_batch_begin, progress.batches, {})
                    xb, db = self.batch = model.take_batch(x, d, order[start:start + batch])
                    self._undo = None
                    loss, y = model.train_step(xb, db, optimizer, **self.clipping)
                    guard.check_loss(loss)
                    batch_logs = self._count_batch(loss, y, db)
                    guard.check_runaway(loss)
                    hooks.on_train_batch_end(progress.batches - 1, batch_logs)
                    yield batch_logs
                if not progress.seen:   # stopped before this epoch's first batch: it never ran
                    progress.epoch -= 1
                    break
                guard.check_weights()
                # Cut short by a stop (not by ``steps``): a checkpoint must continue it.
                cut_short = (progress.batches < self.steps_per_epoch
                             and progress.step < self.total)
                logs = self._epoch_logs(lr)
                if not cut_short:
                    progress.batches = 0
                hooks.on_epoch_end(progress.epoch, dict(logs))
        history = self.history
        history.interrupted, history.signal, history.n_steps = (stop.requested, stop.name,
                                                               progress.step)
        self.batch = None
        model.release_work_arrays()     # a full-batch fit's work arrays are as large as x
        hooks.on_train_end(dict(logs))

    def _count_batch(self, loss: float, y: np.ndarray, db: np.ndarray) -> dict:
        """Add a finished batch to the epoch's sums; return its logs."""
        progress, output = self.progress, self.model.output
        size = len(db)
        progress.loss_sum += loss * size
        progress.seen += size
        logs = {"loss": loss}
        if output.has_accuracy:
            n_correct = output.correct(y, db)
            progress.correct += n_correct
            logs["accuracy"] = n_correct / size
        progress.step += 1
        progress.batches += 1
        logs.update(size=size, step=progress.step)
        return logs

    def _epoch_logs(self, lr: float) -> dict:
        """What ``History.history`` records for the epoch just finished (or cut short)."""
        progress = self.progress
        logs = {"loss": progress.loss_sum / progress.seen}
        if self.model.output.has_accuracy:
            logs["accuracy"] = progress.correct / progress.seen
        if self.validation is not None:
            logs.update({f"val_{k}": v
                         for k, v in self.model.evaluate_prepared(*self.validation).items()})
        logs["lr"] = lr
        return logs


def _split_tail(x, d, validation_split, validation_data) -> tuple:
    """Keras's ``validation_split``: the last ``validation_split`` of the samples, as given
    (taken before any shuffling), become the validation data and are never trained on:
    ``x[:n_train]`` trains, ``x[n_train:]`` validates, ``n_train = int(len(x) * (1 - s))``.
    Keras lets ``validation_data`` override the split silently; here giving both is refused,
    since one of them would be ignored."""
    split = check_number("validation_split", validation_split, low=0.0, high=1.0,
                         low_open=True, high_open=True)
    if validation_data is not None:
        raise ValueError(f"validation_split must be 0 when validation_data is given (one of "
                         f"the two would be ignored); got validation_split={validation_split!r}.")
    n_train = int(len(x) * (1.0 - split))
    if n_train == 0 or n_train == len(x):
        raise ValueError(f"validation_split must leave samples on both sides of the split of "
                         f"{len(x)} samples; got {validation_split!r}.")
    return x[:n_train], d[:n_train], (x[n_train:], d[n_train:])


def _check_batch_size(batch_size, n: int) -> int:
    if batch_size is None:
        return n
    return min(check_int("batch_size", batch_size, minimum=1), n)


def _check_validation(model, validation_data) -> tuple | None:
    if validation_data is None:
        return None
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise ValueError(f"validation_data must be a pair (x_val, d_val); got a value "
                         f"of type {type(validation_data).__name__}.")
    x_val = model.prepare_inputs(validation_data[0], "validation_data[0]")
    return x_val, model.prepare_labels(validation_data[1], len(x_val), "validation_data[1]")


def _check_clipping(clip_norm, clip_value) -> dict:
    """Only the clippings asked for, so that ``train_step`` keeps its short call."""
    clipping = {}
    if clip_norm is not None:
        clipping["clip_norm"] = check_number("clip_norm", clip_norm, low=0.0, low_open=True)
    if clip_value is not None:
        clipping["clip_value"] = check_number("clip_value", clip_value, low=0.0, low_open=True)
    return clipping


def _check_outputs_apart(checkpoint, resume, callbacks) -> None:
    """No output may replace an input or another output: a callback's file (``CSVLogger``'s
    ``filename``, a ``ModelCheckpoint`` path without fields) must not be the checkpoint,
    the checkpoint resumed from, or another callback's file. ``checkpoint`` and ``resume``
    may be one file: the run continues it."""
    seen: dict[str, str] = {}
    for name, path in (("checkpoint", checkpoint), ("resume", resume)):
        if path is not None:
            seen.setdefault(os.path.realpath(path), name)
    for i, cb in enumerate(callbacks):
        arg, path = next(((arg, getattr(cb, arg)) for arg in ("filename", "filepath")
                          if isinstance(getattr(cb, arg, None), (str, os.PathLike))),
                         (None, None))
        if path is None or "{" in os.fspath(path):     # a template: one file per epoch
            continue
        real = os.path.realpath(path)
        if real in seen:
            raise ValueError(f"callbacks[{i}]'s {arg} must name another file than "
                             f"{seen[real]}; got {os.fspath(path)!r} for both (one would "
                             f"overwrite the other).")
        seen[real] = f"callbacks[{i}]'s {arg}"


def _check_callbacks(callbacks) -> list | None:
    if callbacks is None:
        return None
    if isinstance(callbacks, (Callback, str, bytes)) or not hasattr(callbacks, "__iter__"):
        raise TypeError(f"callbacks must be a list of zerodl Callbacks; got {callbacks!r}.")
    callbacks = list(callbacks)
    CallbackList(callbacks)         # refuses an entry that is not a Callback
    return callbacks
