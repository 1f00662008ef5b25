"""The model: a stack of layers ending in a fused output/loss, and its training loop.

One training step, top to bottom: ``fit`` draws a mini-batch -> ``train_step`` ->
``forward`` (each layer's ``forward`` in ``layers.py``: ``x @ W + b``, activations) ->
``output.loss_and_grad`` (``losses.py``: loss and ``dE/du``) -> ``backward`` (each layer's
``backward``: ``x.T @ dy``, ``dy @ W.T``) -> ``optimizer.update`` (``optimizers.py``).

What ``fit`` does around that step, in detail:

- Counting. ``steps`` counts updates, as the course counts iterations; a partial last epoch
  is recorded like a full one. ``History`` is also ``model.history``, as in Keras.
- Schedules. ``lr_schedule`` is an object of ``zerodl.schedules`` or a name (``"step"``,
  ``"exponential"``, ``"cosine"``, ``"plateau"``); ``"plateau"`` watches the validation loss,
  or the epoch's training loss when there is no validation data. ``history.history["lr"]``
  records each epoch's rate. ``clip_value`` clips every gradient entry to
  ``[-clip_value, clip_value]``, then ``clip_norm`` caps the global norm of all gradients.
- Callbacks. The hooks run at the start and end of training, of each epoch and of each
  batch (``zerodl.callbacks`` gives the numbering and the logs); one that sets
  ``model.stop_training = True`` stops training after the current batch. ``fit``'s own work
  (the ``History``, the progress bar, the schedule, the checkpoint, ``eval_every``) runs as
  callbacks too, before the given ones.
- Checkpoints. ``checkpoint=PATH`` writes the whole training state (weights, optimizer state,
  the generator's state, progress, history) atomically at every epoch end and on Ctrl-C;
  ``resume=PATH`` restores it and continues, ``epochs`` and ``steps`` counting the whole run,
  resumed part included. The weights end bit-identical to an uninterrupted run
  (``zerodl.checkpoint``). A checkpoint that does not fit this fit (damaged, of another
  run, further on than ``epochs``/``steps`` ask) is refused before anything changes.
- Divergence. A NaN or infinite loss raises ``zerodl.TrainingDiverged`` naming the epoch and
  step. The loss is computed before the update, so that step's update is skipped and the
  model keeps its last finite weights, unless the loss had been climbing above 100 times its
  start (those weights are then no good: it goes back to the epoch's start). An update that
  turns weights non-finite while the loss was still finite is caught by the next step's
  loss or, at the latest, at the epoch end; the weights then go back to a copy taken at the
  epoch's start (one copy per epoch, not per step, to keep the loop fast). A loss that
  runs away while staying finite (what the adaptive optimizers do with a far too large
  ``lr``) raises it too: the mean loss of 10 steps above 100 times the untrained model's
  loss, twice in a row, while the largest weight has grown 100 times (``_Runaway``); the
  weights go back to the copy of the start of the epoch in which the loss began to rise.
  Whenever the weights go back, the optimizer's state (moments, step count) goes back with
  them to the same moment.
- Ctrl-C (SIGINT in the main thread), and SIGTERM the same way (what ``kill``, a batch
  system or a container stop sends first). Training stops after the current batch, whose
  update is applied in full; the checkpoint is written if one is set, and ``fit`` returns
  the ``History`` with ``interrupted = True`` (``signal`` says which one) instead of raising,
  so that ``history = model.fit(...)`` in a notebook keeps what was learned. A second signal
  acts at once (``KeyboardInterrupt``, or the end of the process for SIGTERM). Outside the
  main thread the ``KeyboardInterrupt`` arrives inside the step, which is then not counted.
"""
from __future__ import annotations

import inspect
import math
import os
import signal
import sys
import threading
import zipfile
from typing import Sequence

import numpy as np
from tqdm import tqdm

from ..core.initializers import describe
from ..core._fileio import check_output_path
from ..core.io import MODEL_FILE, check_params, invalid_file, read_model, save_model
from ..core.layers import (ACTIVATIONS, Dense, Layer, ParamDict, Step, check_fits_in_memory,
                     dense_bytes, layer_from_config)
from ..core.losses import Output, get_output
from ..core.optimizers import clip_grad_norm, clip_grad_value, get_optimizer
from ..core.schedules import get_schedule
from ..core._checks import (check_array, check_float_dtype, check_int, check_labels, check_number,
                      check_path, check_seed, plain)
from .callbacks import Callback, CallbackList
from .checkpoint import STATE_KEY, CheckpointState, read_checkpoint, save_checkpoint
from ..core.errors import ResumeBeyondEnd, TrainingDiverged

#: Rows per chunk in predict/evaluate: bounds memory on large inputs.
PREDICT_CHUNK = 10_000

#: Runaway training (see ``_Runaway``): the mean loss of ``RUNAWAY_WINDOW`` steps above
#: ``RUNAWAY_FACTOR`` times the loss at the start of ``fit``, ``RUNAWAY_WINDOWS`` windows in
#: a row, while the largest weight has grown more than ``RUNAWAY_FACTOR`` times.
RUNAWAY_FACTOR = 100.0
RUNAWAY_WINDOW = 10
RUNAWAY_WINDOWS = 2
#: Samples (the first ones of x) on which the loss at the start of ``fit`` is measured.
RUNAWAY_REFERENCE_SAMPLES = 1000


class History(Callback):
    """What ``fit`` recorded; ``fit`` fills it as its first callback.

    ``history``: per-epoch lists keyed ``loss``, ``accuracy`` (classifiers) and, with
    validation data, ``val_loss``, ``val_accuracy``; ``epoch``: the epoch numbers (from 1).
    ``history["lr"]``: the learning rate of each epoch.
    ``steps``: with ``fit(eval_every=n)``, the same metrics every ``n`` steps on the whole
    training and validation sets, plus ``step``; empty otherwise. ``interrupted``: True when
    Ctrl-C or SIGTERM stopped ``fit`` early (the epoch in progress is not in ``history``);
    ``signal``: then ``"SIGINT"`` or ``"SIGTERM"``, else None. ``n_steps``: the updates of the
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

    def _append(self, table: dict, values: dict) -> None:
        for key, value in values.items():
            table.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"


class _Run:
    """Where a ``fit`` stands; a checkpoint stores exactly this (see ``zerodl.checkpoint``).

    ``batches``: batches finished in the current epoch; ``loss_sum``, ``correct``, ``seen``:
    its running sums; ``epoch_rng``: the generator's state before this epoch's order.
    """

    def __init__(self, rng: np.random.Generator, n_samples: int, batch_size: int) -> None:
        self.rng, self.n_samples, self.batch_size = rng, n_samples, batch_size
        self.epoch = self.step = self.batches = 0
        self.loss_sum, self.correct, self.seen = 0.0, 0, 0
        self.epoch_rng = rng.bit_generator.state
        self.resumed_batches = 0    # an interrupted epoch read from a checkpoint: skip these

    def resume(self, progress: dict) -> None:
        self.step, self.epoch = progress["step"], progress["epoch"]
        if progress["batches"]:            # an interrupted epoch: run it again from there
            self.epoch -= 1
            self.resumed_batches = progress["batches"]
            self.loss_sum, self.correct, self.seen = (progress["loss_sum"], progress["correct"],
                                                      progress["seen"])

    def start_epoch(self) -> None:
        self.epoch_rng = self.rng.bit_generator.state
        if not self.resumed_batches:
            self.loss_sum, self.correct, self.seen = 0.0, 0, 0
        self.batches, self.resumed_batches = self.resumed_batches, 0

    def progress(self) -> dict:
        return {"epoch": self.epoch, "step": self.step, "batches": self.batches,
                "loss_sum": self.loss_sum, "correct": self.correct, "seen": self.seen,
                "n_samples": self.n_samples, "batch_size": self.batch_size}


def _largest_weight(params: dict[str, np.ndarray]) -> float:
    return max(float(np.abs(p).max()) for p in params.values())


class _Runaway:
    """Watches ``fit`` for a loss that runs away while staying finite.

    With a learning rate far too large, SGD's weights usually overflow to inf within a few
    steps, but the adaptive optimizers (AdaGrad, RMSProp, AdaDelta, Adam) move each weight
    by about ``lr`` per step whatever the gradient, and softmax's loss grows only linearly
    in the logits: they can train for ever at a loss of 1e3-1e6 with weights near 1e7, and
    never produce a NaN. Runaway is both, at once: the mean loss of ``RUNAWAY_WINDOW``
    steps stays above ``RUNAWAY_FACTOR`` times the loss of the untrained model (measured on
    the first ``RUNAWAY_REFERENCE_SAMPLES`` samples, once) for ``RUNAWAY_WINDOWS`` windows
    in a row (a mean, because with huge weights a batch that happens to be all right has a
    loss near 0), and the largest weight is more than ``RUNAWAY_FACTOR`` times the largest
    at the start. Normal training lowers the loss; a loss that only rises (a too-large lr
    on a model that had converged, a new data set) leaves the weights near their size, and
    weights that legitimately grow by 100 (a tiny initialisation) do so while the loss
    falls. The cost per step is an addition and a comparison; the weights are read only
    when the loss says so.
    """

    def __init__(self, model: "Sequential", x: np.ndarray, d: np.ndarray) -> None:
        n = RUNAWAY_REFERENCE_SAMPLES
        self.start_loss = model.evaluate_prepared(x[:n], d[:n])["loss"]
        self.start_weight = _largest_weight(model.params)
        self.limit = RUNAWAY_FACTOR * self.start_loss   # inf or NaN: never reached
        self.total, self.count, self.windows = 0.0, 0, 0
        self.mean = self.weight = 0.0

    @property
    def rising(self) -> bool:
        """Whether the last window's mean loss was above the limit."""
        return self.windows > 0

    def climbing(self) -> bool:
        """Whether the loss is above the limit: the last window's mean or this one's so far."""
        return self.windows > 0 or (self.count > 0 and self.total / self.count > self.limit)

    def ran_away(self, loss: float, params: dict[str, np.ndarray]) -> bool:
        """Count one step's loss; True when training has run away."""
        self.total += loss
        self.count += 1
        if self.count < RUNAWAY_WINDOW:
            return False
        self.mean = self.total / self.count
        self.total, self.count = 0.0, 0
        if not self.mean > self.limit:
            self.windows = 0
            return False
        self.windows += 1
        if self.windows < RUNAWAY_WINDOWS:
            return False
        self.weight = _largest_weight(params)
        return self.weight > RUNAWAY_FACTOR * self.start_weight


class _Guard:
    """``fit``'s watch for divergence, and the copy of the weights it goes back to.

    At each epoch start it copies the weights and the optimizer's state (moments, step
    count), unless the loss is already climbing: then the copy from before the climb stays.
    A NaN or infinite loss (that step's update was skipped), weights made NaN or infinite by
    an update, or a runaway (``_Runaway``) raise ``TrainingDiverged``; whenever the weights
    are no good any more, they and the optimizer's state go back to the copy first.
    """

    def __init__(self, model: "Sequential", optimizer, run: _Run, x: np.ndarray,
                 d: np.ndarray) -> None:
        self.model, self.optimizer, self.run = model, optimizer, run
        self.runaway = _Runaway(model, x, d)
        self.loss = math.nan
        self.params: dict[str, np.ndarray] = {}
        self.state: dict = {}
        self.epoch = 0

    def start_epoch(self) -> None:
        if not self.runaway.rising:      # keep the copy from before the loss rose
            self.params = {key: p.copy() for key, p in self.model.params.items()}
            self.state, self.epoch = self.optimizer.state_dict(), self.run.epoch

    def check_loss(self, loss: float) -> None:
        """A step's loss, before the step is counted: raise if it is NaN or infinite."""
        self.loss = loss
        if math.isfinite(loss):
            return
        # After a climb, the last finite weights are no good: go back to the copy.
        climbed = self.runaway.climbing()
        if climbed:
            self._go_back()
        rolled_back = climbed or self._go_back_if_not_finite()
        raise self._error(self.run.step + 1, rolled_back, climbed=climbed)

    def check_runaway(self, loss: float) -> None:
        """A counted step's loss: raise if training has run away."""
        if self.runaway.ran_away(loss, self.model.params):
            self._go_back()
            raise self._error(self.run.step, True, runaway=True)

    def check_weights(self) -> None:
        """At an epoch's end: raise if an update left NaN or infinite weights."""
        if self._go_back_if_not_finite():
            raise self._error(self.run.step, True)

    def _go_back(self) -> None:
        """Put back the copied weights and the optimizer's state."""
        for key, p in self.model.params.items():
            p[...] = self.params[key]
        # Not load_state_dict: that rebuilds the optimizer from its config, which a subclass
        # with its own constructor may not accept; the step count and buffers are the state.
        self.optimizer.t = self.state["t"]
        self.optimizer.buffers = self.state["buffers"]

    def _go_back_if_not_finite(self) -> bool:
        """``_go_back`` if any weight is NaN or infinite; say whether it did."""
        if all(np.isfinite(p).all() for p in self.model.params.values()):
            return False
        self._go_back()
        return True

    def _error(self, at_step: int, rolled_back: bool, climbed: bool = False,
               runaway: bool = False) -> TrainingDiverged:
        """The error for a non-finite loss or weights, or (``runaway``) a loss running away;
        ``climbed``: a non-finite loss after losses above ``RUNAWAY_FACTOR`` times the start."""
        loss, watch, optimizer = self.loss, self.runaway, self.optimizer
        lr = getattr(optimizer, "lr", None)
        where = f"epoch {self.run.epoch}, step {at_step}"
        if runaway:
            what = (f"the loss ran away (mean {watch.mean:.4g} over the last "
                    f"{RUNAWAY_WINDOW} steps, more than {RUNAWAY_FACTOR:g} times its "
                    f"{watch.start_loss:.4g} at the start) and the largest weight grew from "
                    f"{watch.start_weight:.4g} to {watch.weight:.4g}")
            loss = watch.mean
        elif not math.isfinite(loss):
            what = f"the loss became {loss}"
            if climbed:
                what += (f" after climbing to more than {RUNAWAY_FACTOR:g} times its "
                         f"{watch.start_loss:.4g} at the start")
        else:
            what = "an update made the weights NaN or infinite"
        kept = (f"the weights went back to those of the start of epoch {self.epoch}"
                if rolled_back else "the model keeps the weights from before this step")
        name = type(optimizer).__name__
        default = inspect.signature(type(optimizer)).parameters.get("lr")
        hint = (f"; {name}'s default is {default.default}" if default is not None
                and isinstance(default.default, float) else "")
        return TrainingDiverged(
            f"training diverged at {where}: {what} with {name}"
            f"{f' (lr is {lr})' if lr is not None else ''}; {kept}. Try a smaller learning "
            f"rate{hint}.", epoch=self.run.epoch, step=at_step, loss=loss,
            history=self.model.history)


class _Progress(Callback):
    """``verbose=1``: a progress bar of steps; ``verbose=2``: one line per epoch."""

    def __init__(self, verbose: int, run: _Run, total: int, checkpoint) -> None:
        super().__init__()
        self.verbose, self.run, self.checkpoint = verbose, run, checkpoint
        self.bar = tqdm(total=total, initial=min(run.step, total), disable=verbose != 1,
                        unit="step", mininterval=0.5, dynamic_ncols=True, file=sys.stderr)

    def __enter__(self) -> "_Progress":
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
        if self.model.history.interrupted and self.verbose:
            by = " by SIGTERM" if self.model.history.signal == "SIGTERM" else ""
            print(f"fit: interrupted{by} after step {self.run.step} (epoch {self.run.epoch}); the "
                  f"model keeps the weights of that step and the History what was recorded"
                  f"{f', checkpoint written to {self.checkpoint}' if self.checkpoint else ''}.",
                  file=sys.stderr)


class _Schedule(Callback):
    """Sets ``optimizer.lr`` before each epoch from a ``zerodl.schedules`` object."""

    def __init__(self, schedule, optimizer, epochs: int) -> None:
        super().__init__()
        self.schedule, self.optimizer, self.epochs = schedule, optimizer, epochs

    def on_train_begin(self, logs=None):
        # After a resume this continues from the restored state.
        self.schedule.start(self.optimizer, epochs=self.epochs)

    def on_epoch_end(self, epoch, logs=None):
        self.schedule.step(self.optimizer, logs.get("val_loss", logs["loss"]))


class _Checkpoint(Callback):
    """Writes the training state at every epoch end and, mid-epoch, on Ctrl-C."""

    def __init__(self, path, run: _Run, optimizer, schedule) -> None:
        super().__init__()
        self.path, self.run, self.optimizer, self.schedule = path, run, optimizer, schedule

    def save(self) -> None:
        run = self.run
        # Mid-epoch, the generator goes back to before this epoch's order, drawn again.
        rng_state = run.epoch_rng if run.batches else run.rng.bit_generator.state
        save_checkpoint(self.path, self.model, self.optimizer, rng_state, self.model.history,
                        run.progress(), schedule=self.schedule)

    def on_epoch_end(self, epoch, logs=None):
        self.save()

    def on_train_end(self, logs=None):
        if self.model.history.interrupted and self.run.batches:
            self.save()                     # mid-epoch: save where it stands


class _EvalEvery(Callback):
    """``fit(eval_every=n)``: metrics on all the training and validation data every n steps."""

    def __init__(self, every: int, train: tuple, validation: tuple | None) -> None:
        super().__init__()
        self.every, self.train, self.validation = every, train, validation

    def on_train_batch_end(self, batch, logs=None):
        step = logs["step"]
        if step % self.every:
            return
        values = {"step": step, **self.model.evaluate_prepared(*self.train)}
        if self.validation is not None:
            values.update({f"val_{k}": v
                           for k, v in self.model.evaluate_prepared(*self.validation).items()})
        self.model.history._append(self.model.history.steps, values)


class _StopOnSigint:
    """While active, Ctrl-C (SIGINT) or SIGTERM asks ``fit`` to stop after the current batch.

    Python's default handler raises ``KeyboardInterrupt`` wherever the program is, possibly
    half-way through an update, and SIGTERM's default ends the process with nothing saved;
    this handler only sets ``requested`` (and ``name``, the signal's), which the loop reads
    between batches. It then puts the previous handlers back, so a second signal acts at
    once. Installed only in the main thread and only over the defaults (Python's
    ``default_int_handler``, which a notebook kernel uses while it runs a cell, and
    ``SIG_DFL`` for SIGTERM): a program's own handlers are left alone.
    """

    DEFAULTS = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}

    def __enter__(self) -> "_StopOnSigint":
        self.requested = False
        self.name: str | None = None
        self._previous: dict = {}
        if threading.current_thread() is threading.main_thread():
            for signum, default in self.DEFAULTS.items():
                if signal.getsignal(signum) == default:
                    self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        self.requested = True
        self.name = signal.Signals(signum).name
        self._restore()

    def _restore(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous = {}

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._restore()
        if exc_type is KeyboardInterrupt and not self.requested:
            # Raised inside a step (outside the main thread, or by other code): stop there.
            self.requested, self.name = True, "SIGINT"
            return True
        return False            # a second signal, or any other error, goes on up


def _fit_hooks(history: History, progress: _Progress, run: _Run, optimizer, schedule,
               checkpoint: str | None, n_epochs: int, eval_every: int | None, train: tuple,
               val, callbacks: Sequence[Callback] | None) -> CallbackList:
    """``fit``'s own work as callbacks, in this order, before the user's: History first, so
    that the schedule, the checkpoint and every user callback see the epoch recorded; the
    ``eval_every`` curves last."""
    own: list[Callback] = [history]
    if schedule is not None:
        own.append(_Schedule(schedule, optimizer, n_epochs))
    if checkpoint is not None:
        own.append(_Checkpoint(checkpoint, run, optimizer, schedule))
    own.append(progress)
    after = [] if eval_every is None else [_EvalEvery(eval_every, train, val)]
    return CallbackList([*own, *(callbacks or ()), *after])


class Sequential:
    """Layers applied in order, then a fused output layer and loss.

    ``params`` and ``grads`` are dicts keyed ``"W1", "b1", "W2", ...`` (the course's names:
    the n-th Dense layer's weights and bias) whose arrays are the layers' own; assigning to
    a key copies into that array (``zerodl.layers.ParamDict``), so there is one truth.
    """

    def __init__(self, layers: Sequence[Layer], output="softmax",
                 seed: int | np.random.Generator | None = None) -> None:
        if isinstance(layers, Layer) or not hasattr(layers, "__iter__"):
            raise TypeError(f"layers must be a list of zerodl Layers; got {layers!r}.")
        layers = list(layers)
        check_seed("seed", seed)
        if not layers:
            raise ValueError("layers must hold at least one layer; got an empty list.")
        first_use: dict[int, int] = {}
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{i}] must be a zerodl Layer; got {layer!r}.")
            # A layer caches its input or output for backward: used twice, the second
            # forward overwrites what the first use's backward needs.
            j = first_use.setdefault(id(layer), i)
            if j != i:
                raise ValueError(f"layers must hold each layer object once; got the same "
                                 f"{type(layer).__name__} object at layers[{j}] and "
                                 f"layers[{i}]. Create a new layer for each position.")
        self.layers = layers
        self.output: Output = get_output(output)
        self.dense = [layer for layer in layers if isinstance(layer, Dense)]
        if not self.dense:
            raise ValueError("layers must include at least one Dense layer.")
        if self.output.name == "softmax" and self.dense[-1].n_out < 2:
            raise ValueError(f"a softmax output must have at least 2 units (with 1 its "
                             f"probability is always 1 and the loss always 0); got a last "
                             f"Dense layer with n_out={self.dense[-1].n_out}. For one yes/no "
                             f"output use output='sigmoid'.")
        dtypes = {layer.W.dtype for layer in self.dense}
        if len(dtypes) != 1:
            raise ValueError(f"all Dense layers must share one dtype; got {sorted(map(str, dtypes))}.")
        self.dtype = dtypes.pop()
        for prev, nxt in zip(self.dense, self.dense[1:]):
            if prev.n_out != nxt.n_in:
                raise ValueError(f"layer sizes do not chain: a Dense layer with n_out={prev.n_out} "
                                 f"is followed by one with n_in={nxt.n_in}.")
        # Which activations may work in place (see "passes" below).
        self._after_dense = [not isinstance(layer, Dense) and i > 0
                             and isinstance(layers[i - 1], Dense)
                             for i, layer in enumerate(layers)]
        self._before_dense = [not isinstance(layer, Dense) and i + 1 < len(layers)
                              and isinstance(layers[i + 1], Dense)
                              for i, layer in enumerate(layers)]
        self._work: tuple | None = None       # training's work arrays (_work_arrays)
        # The last layer's output u may be overwritten by the output layer (softmax in place)
        # only when no layer keeps it for backward: a Dense keeps its input, not its output;
        # an activation at the end keeps its output (ReLU's mask, sigmoid's y).
        self._u_is_free = isinstance(layers[-1], Dense)
        self._params = ParamDict({f"{name}{i}": p for i, layer in enumerate(self.dense, start=1)
                                  for name, p in layer.params.items()}, "params")
        self._grads = ParamDict({f"{name}{i}": g for i, layer in enumerate(self.dense, start=1)
                                 for name, g in layer.grads.items()}, "grads")
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    # -- parameters ----------------------------------------------------------------------
    @property
    def params(self) -> ParamDict:
        """The weights, ``{"W1": W, "b1": b, ...}``: the layers' own arrays, not copies.

        ``params["W1"] = value`` copies ``value`` into the layer's array (same shape, finite,
        cast to the model's dtype) and ``params = {...}`` does so for every key at once, all
        or nothing; anything else is refused (``ParamDict``), so the layers, this dict,
        ``save`` and the optimizers never disagree.
        """
        return self._params

    @params.setter
    def params(self, values) -> None:
        self._params.assign_all(values)

    @property
    def grads(self) -> ParamDict:
        """The gradients of the last ``backward``, keyed like ``params`` (the layers' arrays)."""
        return self._grads

    @grads.setter
    def grads(self, values) -> None:
        self._grads.assign_all(values)

    # -- sizes ---------------------------------------------------------------------------
    @property
    def n_in(self) -> int:
        return self.dense[0].n_in

    @property
    def n_out(self) -> int:
        return self.dense[-1].n_out

    # -- passes --------------------------------------------------------------------------
    # An activation right after a Dense layer gets the Dense's output as ``out`` (it is a
    # fresh array or a work array of the model, which nobody else holds), and one right
    # before a Dense gets the Dense's dx the same way: in place, no array per layer.
    # Training (``train_step``) also gives each Dense a work array of the model for its
    # output and dx, kept between steps; other calls return new arrays.
    def forward(self, x: np.ndarray) -> np.ndarray:
        """The last layer's output ``u`` for prepared inputs (before the output function)."""
        return self._forward(x, [None] * len(self.layers))

    def backward(self, du: np.ndarray) -> None:
        """Backpropagate ``dE/du`` of the last layer; fills ``grads``."""
        self._backward(du, [None] * len(self.layers))

    def _forward(self, x: np.ndarray, outs: list) -> np.ndarray:
        """``outs[i]``: the array layer ``i`` writes its output into (None: a new one)."""
        for layer, out, in_place in zip(self.layers, outs, self._after_dense):
            x = layer.forward(x, out=x if in_place else out)
        return x

    def _backward(self, du: np.ndarray, dxs: list) -> None:
        """``dxs[i]``: the array layer ``i`` writes its dE/dx into (None: a new one)."""
        for i in range(len(self.layers) - 1, 0, -1):
            du = self.layers[i].backward(du, out=du if self._before_dense[i] else dxs[i])
        self.layers[0].backward(du, need_dx=False)      # nobody reads the network's dE/dx

    def _work_arrays(self, n: int) -> tuple[np.ndarray, list, list]:
        """Training's arrays for batches of ``n`` samples: the gathered batch, each Dense
        layer's output and dE/dx (None elsewhere, and for the first layer's dE/dx); kept
        while ``n`` stays the same."""
        if self._work is None or self._work[0] != n:
            def per_dense(size, skip_first=False) -> list:
                return [np.empty((n, size(layer)), self.dtype)
                        if isinstance(layer, Dense) and not (skip_first and i == 0) else None
                        for i, layer in enumerate(self.layers)]
            self._work = (n, np.empty((n, self.n_in), self.dtype),
                          per_dense(lambda layer: layer.n_out),
                          per_dense(lambda layer: layer.n_in, skip_first=True))
        return self._work[1:]

    def layer_outputs(self, x) -> list[np.ndarray]:
        """The output of every layer in ``layers`` for ``x``, in order (new arrays).

        For a Dense layer that is its 総入力 ``u``; for an activation its 中間層出力 ``z``.
        """
        x = self.prepare_inputs(x)
        outputs = []
        for layer in self.layers:
            x = layer.forward(x)
            outputs.append(x.copy())
        return outputs

    def prepare_inputs(self, x, name: str = "x") -> np.ndarray:
        """Check ``x`` and bring it to shape (N, n_in) in the model's dtype.

        The values must be finite in that dtype: 1e39 is finite in float64 but inf in
        float32 (and 70000 in float16), so the check runs on the cast array.
        """
        x = check_array(name, x, dtype=self.dtype)
        if x.ndim == 1:
            x = x.reshape(1, -1)
        elif x.ndim > 2:
            x = x.reshape(len(x), -1)     # images (N, 1, 28, 28) -> (N, 784)
        if x.shape[1] != self.n_in:
            raise ValueError(f"{name} must have {self.n_in} features per sample (the network's "
                             f"input size); got {x.shape[1]} ({name}.shape={x.shape}).")
        return x

    def prepare_labels(self, d, n: int, name: str = "d") -> np.ndarray:
        """Check labels for ``n`` samples and bring them to the form the output layer takes."""
        d = check_labels(name, d, kind=getattr(self.output, "label_kind", "targets"),
                         n_samples=n, n_out=self.n_out, dtype=self.dtype)
        return self.output.prepare_labels(d, self.n_out, self.dtype)

    def predict(self, x) -> np.ndarray:
        """Output of the network, shape (N, n_out): probabilities for softmax/sigmoid."""
        x = self.prepare_inputs(x)
        free = self._u_is_free      # forward's u is a new array: the output may reuse it
        if len(x) <= PREDICT_CHUNK:
            return self.output.predict(self.forward(x), overwrite_u=free)
        return np.concatenate([self.output.predict(self.forward(x[i:i + PREDICT_CHUNK]),
                                                   overwrite_u=free)
                               for i in range(0, len(x), PREDICT_CHUNK)])

    def loss(self, x, d) -> float:
        """Mean loss over the batch."""
        x = self.prepare_inputs(x)
        return self.output.loss(self.forward(x), self.prepare_labels(d, len(x)))

    def gradient(self, x, d) -> dict[str, np.ndarray]:
        """Backpropagation: the gradient of ``loss(x, d)`` for each key of ``params``."""
        x = self.prepare_inputs(x)
        d = self.prepare_labels(d, len(x))
        _, du, _ = self.output.loss_and_grad(self.forward(x), d)
        self.backward(du)
        return {key: g.copy() for key, g in self.grads.items()}

    def evaluate(self, x, d) -> dict[str, float]:
        """Mean loss and, for classifiers, accuracy over the whole of ``x``."""
        x = self.prepare_inputs(x)
        d = self.prepare_labels(d, len(x))
        return self.evaluate_prepared(x, d)

    def evaluate_prepared(self, x: np.ndarray, d: np.ndarray) -> dict[str, float]:
        """``evaluate`` on arrays already checked by ``prepare_inputs``/``prepare_labels``."""
        total_loss, correct = 0.0, 0
        for i in range(0, len(x), PREDICT_CHUNK):
            xb, db = x[i:i + PREDICT_CHUNK], d[i:i + PREDICT_CHUNK]
            loss, _, y = self.output.loss_and_grad(self.forward(xb), db,
                                                   overwrite_u=self._u_is_free)
            total_loss += loss * len(xb)
            if self.output.has_accuracy:
                correct += self.output.correct(y, db)
        result = {"loss": total_loss / len(x)}
        if self.output.has_accuracy:
            result["accuracy"] = correct / len(x)
        return result

    # -- training ------------------------------------------------------------------------
    def train_step(self, x: np.ndarray, d: np.ndarray, optimizer, clip_norm: float | None = None,
                   clip_value: float | None = None) -> tuple[float, np.ndarray]:
        """One gradient-descent step on a prepared batch; return ``(loss, y)``.

        The layers write into work arrays of the model, reused from the previous step:
        ``y`` is valid until the next step. A non-finite loss skips the update (the caller
        decides what to do).
        """
        _, outs, dxs = self._work_arrays(len(x))
        u = self._forward(x, outs)
        loss, du, y = self.output.loss_and_grad(u, d, overwrite_u=self._u_is_free)
        if not math.isfinite(loss):
            return loss, y      # no update: fit raises TrainingDiverged, weights stay finite
        self._backward(du, dxs)
        if clip_value is not None:
            clip_grad_value(self.grads, clip_value)
        if clip_norm is not None:
            clip_grad_norm(self.grads, clip_norm)
        optimizer.update(self.params, self.grads)
        return loss, y

    def fit(self, x, d, epochs: int = 1, batch_size: int | None = 100, optimizer="sgd",
            validation_data=None, seed: int | None = None, verbose: int = 1,
            steps: int | None = None, eval_every: int | None = None, lr_schedule=None,
            clip_norm: float | None = None, clip_value: float | None = None,
            checkpoint: str | os.PathLike | None = None,
            resume: str | os.PathLike | None = None,
            callbacks: Sequence[Callback] | None = None) -> History:
        """Train with mini-batch gradient descent; return the ``History``.

        Each epoch visits the samples in a new random order, in batches of ``batch_size``
        (``1``: online, ``None``: full batch); ``steps`` stops after that many updates
        instead. ``eval_every=n`` measures loss and accuracy on all of ``x`` and the
        validation data every ``n`` steps (``History.steps``). ``seed`` fixes the batch
        order (default: the model's generator). ``verbose``: 0 silent, 1 a progress bar, 2 a
        line per epoch. ``lr_schedule``: a ``zerodl.schedules`` object or name; ``clip_value``
        then ``clip_norm`` clip the gradients; ``callbacks``: ``Callback`` objects, run after
        ``fit``'s own. ``checkpoint=PATH`` saves the training state at every epoch end and on
        Ctrl-C, ``resume=PATH`` continues it. Arguments are checked here, once. Details
        (checkpoints, ``TrainingDiverged``, Ctrl-C): the module docstring.
        """
        x, d, val, batch, total, optimizer, schedule, clipping, rng = self._check_fit(
            x, d, epochs, batch_size, optimizer, validation_data, seed, steps, eval_every,
            lr_schedule, clip_norm, clip_value)
        verbose = check_int("verbose", verbose, minimum=0)
        checkpoint = None if checkpoint is None else check_output_path("checkpoint", checkpoint)
        resume = None if resume is None else check_path("resume", resume)
        n = len(x)
        steps_per_epoch = math.ceil(n / batch)
        n_epochs = math.ceil(total / steps_per_epoch)
        callbacks = self._check_start(optimizer, schedule, callbacks, n_epochs, resume)
        restored = None if resume is None else self._read_resume(
            resume, optimizer, schedule, rng, n, batch, total, n_epochs,
            ("steps", steps) if steps is not None else ("epochs", epochs))
        # Everything is checked: only from here on does fit change anything.
        run = _Run(rng, n, batch)
        self.history = history = History()
        if restored is not None:
            run.resume(restored.apply(self, optimizer, rng, history, schedule))
        progress = _Progress(verbose, run, total, checkpoint)
        hooks = _fit_hooks(history, progress, run, optimizer, schedule, checkpoint, n_epochs,
                           eval_every, (x, d), val, callbacks)
        stop = _StopOnSigint()
        self.stop_training = False
        hooks.set_model(self)
        hooks.on_train_begin({})
        logs: dict = {}
        guard = _Guard(self, optimizer, run, x, d)
        with progress, stop:     # stop: Ctrl-C ends the loop between batches
            while run.step < total and not (stop.requested or self.stop_training):
                run.epoch += 1
                hooks.on_epoch_begin(run.epoch, {})
                run.start_epoch()
                guard.start_epoch()
                order = rng.permutation(n)
                lr = optimizer.lr        # this epoch's rate: a schedule changes it between epochs
                for start in range(run.batches * batch, n, batch):
                    if run.step == total or stop.requested or self.stop_training:
                        break
                    hooks.on_train_batch_begin(run.batches, {})
                    xb, db = self.train_batch = self._gather(x, d, order[start:start + batch])
                    loss, y = self.train_step(xb, db, optimizer, **clipping)
                    guard.check_loss(loss)
                    batch_logs = self._count_batch(run, loss, y, db)
                    guard.check_runaway(loss)
                    hooks.on_train_batch_end(run.batches - 1, batch_logs)
                guard.check_weights()
                if ((stop.requested or self.stop_training) and run.batches < steps_per_epoch
                        and run.step < total):
                    break                           # mid-epoch: not a finished epoch
                logs = self._epoch_logs(run, lr, val)
                run.batches = 0
                hooks.on_epoch_end(run.epoch, dict(logs))
        history.interrupted, history.signal, history.n_steps = stop.requested, stop.name, run.step
        self.train_batch = None
        self._work = None       # a full-batch fit's work arrays are as large as x
        hooks.on_train_end(dict(logs))
        return history

    def _gather(self, x: np.ndarray, d: np.ndarray, idx: np.ndarray) -> tuple:
        """The batch ``(x[idx], d[idx])``; ``x``'s rows go into the previous batch's array,
        the one copy per batch."""
        xb = self._work_arrays(len(idx))[0]
        x.take(idx, axis=0, out=xb, mode="clip")
        return xb, d[idx]

    def _check_fit(self, x, d, epochs, batch_size, optimizer, validation_data, seed, steps,
                   eval_every, lr_schedule, clip_norm, clip_value) -> tuple:
        """Check ``fit``'s arguments, once: the loop itself does no validation."""
        x = self.prepare_inputs(x)
        d = self.prepare_labels(d, len(x))
        epochs = check_int("epochs", epochs, minimum=1)
        batch = len(x) if batch_size is None else min(check_int("batch_size", batch_size,
                                                                minimum=1), len(x))
        if steps is not None:
            steps = check_int("steps", steps, minimum=1)
        if eval_every is not None:
            check_int("eval_every", eval_every, minimum=1)
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError(f"validation_data must be a pair (x_val, d_val); got a value "
                                 f"of type {type(validation_data).__name__}.")
            x_val = self.prepare_inputs(validation_data[0], "validation_data[0]")
            val = (x_val, self.prepare_labels(validation_data[1], len(x_val),
                                              "validation_data[1]"))
        seed = check_seed("seed", seed)
        for layer in self.layers:
            if isinstance(layer, Step):
                raise ValueError("the model must not contain a Step layer to be trained: Step "
                                 "has no useful gradient. Use 'sigmoid' or 'relu'.")
        for key, p in self.params.items():
            if not np.all(np.isfinite(p)):
                raise ValueError(f"params[{key!r}] must be finite before training; it holds "
                                 f"NaN or infinite values.")
        optimizer = get_optimizer(optimizer)
        schedule = get_schedule(lr_schedule)
        clipping = {}    # only passed when asked for, so train_step keeps its short call
        if clip_norm is not None:
            clipping["clip_norm"] = check_number("clip_norm", clip_norm, low=0.0, low_open=True)
        if clip_value is not None:
            clipping["clip_value"] = check_number("clip_value", clip_value, low=0.0,
                                                  low_open=True)
        rng = self.rng if seed is None else np.random.default_rng(seed)
        total = steps if steps is not None else epochs * math.ceil(len(x) / batch)
        return x, d, val, batch, total, optimizer, schedule, clipping, rng

    def _check_start(self, optimizer, schedule, callbacks, n_epochs: int,
                     resume) -> list | None:
        """What could still fail once training has begun, checked before anything changes:
        the callbacks, the optimizer's tie to these parameters (not needed on a resume,
        which replaces its state) and the schedule's start. Return the callbacks as a list."""
        if callbacks is not None:
            if isinstance(callbacks, (Callback, str, bytes)) or not hasattr(callbacks,
                                                                             "__iter__"):
                raise TypeError(f"callbacks must be a list of zerodl Callbacks; got "
                                f"{callbacks!r}.")
            callbacks = list(callbacks)
            CallbackList(callbacks)         # refuses an entry that is not a Callback
        if resume is None:
            optimizer.check_params(self.params)
            if schedule is not None:
                schedule.check_start(n_epochs)
        return callbacks

    def _read_resume(self, resume, optimizer, schedule, rng, n: int, batch: int, total: int,
                     n_epochs: int, length: tuple) -> CheckpointState:
        """Read and check the checkpoint ``resume`` for this fit, changing nothing.

        ``epochs`` and ``steps`` count the whole run, so a checkpoint that has gone further
        than this fit asks is refused (restoring it would train nothing and leave weights
        from beyond the requested end). A checkpoint exactly at the end restores it."""
        restored = read_checkpoint(resume, self, optimizer, rng, n_samples=n, batch_size=batch,
                                   schedule=schedule)
        done = restored.progress["step"]
        if done > total:
            name, value = length
            raise ResumeBeyondEnd(
                f"{name} must count the whole run when resuming, at least the {done} steps "
                f"(epoch {restored.progress['epoch']}) that {resume} has done; got "
                f"{name}={value!r} ({total} steps in all).", path=str(resume), done_steps=done,
                done_epoch=restored.progress["epoch"], asked_steps=total)
        if schedule is not None:
            # the schedule that will start is the checkpoint's
            type(schedule)(**restored.schedule["config"]).check_start(n_epochs)
        return restored

    def _count_batch(self, run: _Run, loss: float, y: np.ndarray, db: np.ndarray) -> dict:
        """Add a finished batch to the epoch's sums; return its logs."""
        size = len(db)
        run.loss_sum += loss * size
        run.seen += size
        logs = {"loss": loss}
        if self.output.has_accuracy:
            n_correct = self.output.correct(y, db)
            run.correct += n_correct
            logs["accuracy"] = n_correct / size
        run.step += 1
        run.batches += 1
        logs.update(size=size, step=run.step)
        return logs

    def _epoch_logs(self, run: _Run, lr: float, val: tuple | None) -> dict:
        """What ``History.history`` records for the epoch just finished."""
        logs = {"loss": run.loss_sum / run.seen}
        if self.output.has_accuracy:
            logs["accuracy"] = run.correct / run.seen
        if val is not None:
            logs.update({f"val_{k}": v for k, v in self.evaluate_prepared(*val).items()})
        logs["lr"] = lr
        return logs

    # -- inspection and files ------------------------------------------------------------
    def summary(self, print_fn=print) -> None:
        """Print a table of the layers, their output shapes and parameter counts."""
        rows, width, total = [], None, 0
        for layer in self.layers:
            if isinstance(layer, Dense):
                width = layer.n_out
            count = sum(p.size for p in layer.params.values())
            total += count
            rows.append((repr(layer), f"(None, {width})", f"{count:,}"))
        rows.append((f"output: {self.output.name} + {self.output.loss_name}",
                     f"(None, {self.n_out})", "0"))
        head = ("Layer", "Output shape", "Params")
        widths = [max(len(r[i]) for r in rows + [head]) for i in range(3)]
        line = "-" * (sum(widths) + 4)
        fmt = lambda r: f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}"
        text = [fmt(head), line, *map(fmt, rows), line,
                f"Total params: {total:,} ({self.dtype.name}, "
                f"{sum(p.nbytes for p in self.params.values()):,} bytes)"]
        for t in text:
            print_fn(t)

    def get_config(self) -> dict:
        return {"layers": [layer.get_config() for layer in self.layers],
                "output": self.output.name, "dtype": self.dtype.name}

    def save(self, path) -> None:
        """Write parameters and architecture to ``path`` (a ``.npz`` file), atomically.

        All or nothing: a path that is a folder, a device or in a missing folder, or a NaN
        or infinite weight, is refused before the file is touched; a failed write leaves the
        old file. A symbolic link is written through and stays a link (``zerodl.io``).
        """
        save_model(self, path)

    def __repr__(self) -> str:
        sizes = [self.n_in] + [layer.n_out for layer in self.dense]
        return (f"Sequential({'-'.join(map(str, sizes))}, output={self.output.name!r}, "
                f"dtype={self.dtype.name})")


def mlp(sizes: Sequence[int], activation: str = "relu", output: str = "softmax", init="he",
        seed: int | None = None, dtype=np.float32) -> Sequential:
    """A fully connected network, e.g. ``mlp([784, 40, 10])``: Dense, activation, ..., Dense.

    ``activation`` goes after every hidden layer; ``output`` ("softmax", "sigmoid",
    "identity") picks the output layer and its loss. ``init`` is a registered initialiser
    name ("he", "xavier", ...) or a number, the standard deviation of a normal (the course's
    0.01). ``seed`` makes the weights (and, through the model's generator, training)
    reproducible. Biases start at 0.
    """
    if (isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__")
            or (isinstance(sizes, np.ndarray) and sizes.ndim != 1)):
        raise TypeError(f"sizes must be a list of layer sizes, like [784, 40, 10]; got "
                        f"{plain(sizes)!r}.")
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output size, like "
                         f"[784, 40, 10]; got {sizes!r}.")
    sizes = [check_int(f"sizes[{i}]", s, minimum=1) for i, s in enumerate(sizes)]
    activation_cls = ACTIVATIONS.get(activation)
    if get_output(output).name == "softmax" and sizes[-1] < 2:
        raise ValueError(f"sizes must end with at least 2 outputs for output='softmax' (with "
                         f"1 the probability is always 1 and the loss always 0); got {sizes}. "
                         f"For one yes/no output use output='sigmoid'.")
    dtype = check_float_dtype("dtype", dtype)
    check_seed("seed", seed)
    # All layers at once, before any is allocated.
    check_fits_in_memory(f"the network {sizes}",
                         sum(dense_bytes(a, b, dtype) for a, b in zip(sizes, sizes[1:])), dtype)
    rng = np.random.default_rng(seed)
    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(Dense(n_in, n_out, init=init, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(activation_cls())
    model = Sequential(layers, output=output, seed=rng)
    model.init = describe(init)
    return model


def load(path: str | os.PathLike) -> Sequential:
    """Read a model written by ``model.save``; raise ``ValueError`` for anything else.

    A missing file is ``FileNotFoundError``; any other problem (not an archive, damaged,
    object arrays, unknown format version, arrays whose names, shapes or dtypes do not fit
    the architecture, NaN or infinite weights) is a ``ValueError`` naming the file. The
    format and its checks are in ``zerodl.io``.
    """
    path = check_path("path", path)
    if _is_checkpoint(path):
        raise ValueError(f"{path} is a training checkpoint written by fit(checkpoint=...) or "
                         f"zerodl train --checkpoint, not a model file: continue its run with "
                         f"fit(resume=...) or zerodl train --resume {path}, and write a model "
                         f"file with model.save or zerodl train --save.")
    config, arrays = read_model(path)
    try:
        layers = [layer_from_config(c, config["dtype"]) for c in config["layers"]]
        model = Sequential(layers, output=config["output"])
    except (KeyError, TypeError, ValueError, MemoryError) as exc:
        raise invalid_file(path, f"its architecture is invalid ({type(exc).__name__}: "
                                 f"{exc})") from None
    check_params(path, arrays, model.params, MODEL_FILE)
    for key, target in model.params.items():
        target[...] = arrays[key]
    for layer, c in zip(layers, config["layers"]):
        if "init" in c:
            layer.init = c["init"]
    return model


def _is_checkpoint(path) -> bool:
    """Whether ``path`` is an archive holding a checkpoint's header (its zip directory only
    is read, nothing is decompressed)."""
    if not path.is_file():          # a FIFO would block the reading; read_model reports it
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return f"{STATE_KEY}.npy" in archive.namelist()
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return False
