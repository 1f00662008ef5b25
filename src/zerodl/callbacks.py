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
  ``model.grads`` holds that step's gradients and ``model.train_batch`` the batch ``(x, d)``
  (work arrays, valid until the next step: copy what you keep).

Setting ``model.stop_training = True`` in any hook stops after the current batch.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ._checks import check_int
from .layers import Dense, ReLU, Sigmoid, Tanh


class Callback:
    """Base class: every hook does nothing. ``model`` is set before training starts."""

    def __init__(self) -> None:
        self.model = None

    def set_model(self, model) -> None:
        self.model = model

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
    """Several callbacks called in order, as one."""

    def __init__(self, callbacks: Iterable[Callback] = ()) -> None:
        super().__init__()
        self.callbacks = list(callbacks)
        for i, cb in enumerate(self.callbacks):
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks[{i}] must be a zerodl.callbacks.Callback; got {cb!r}.")

    def set_model(self, model) -> None:
        super().set_model(model)
        for cb in self.callbacks:
            cb.set_model(model)

    def on_train_begin(self, logs=None):
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_train_end(self, logs=None):
        for cb in self.callbacks:
            cb.on_train_end(logs)

    def on_epoch_begin(self, epoch, logs=None):
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        for cb in self.callbacks:
            cb.on_train_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        for cb in self.callbacks:
            cb.on_train_batch_end(batch, logs)


# --- LayerStats ---
#: An output within this distance of a sigmoid's 0 or 1, or of tanh's -1 or +1, counts as
#: saturated: there the derivative is below 0.0099 (sigmoid, 4 % of its peak 0.25) or 0.02
#: (tanh, 2 % of its peak 1), so almost no gradient passes.
SATURATION_MARGIN = 0.01


class LayerStats(Callback):
    """Per-layer health of a network during training, every ``every`` steps.

    For each Dense layer, keyed as in ``params`` (``"W1"``, ``"W2"``, ...),
    ``history[key][field]`` lists, one value per recorded step (``steps``):

    - ``activation_mean``, ``activation_std``: of the activation after that layer (ReLU,
      sigmoid, ...; for the last Dense layer its output ``u``), over the batch and units;
    - ``dead_fraction`` (ReLU layers only): the share of units that output 0 for every
      sample of the batch; such units pass no gradient and stop learning;
    - ``saturated_fraction`` (sigmoid and tanh only): the share of outputs within
      ``SATURATION_MARGIN`` (0.01) of the ends, 0 or 1 (sigmoid), -1 or +1 (tanh);
    - ``grad_norm``: ``||dE/dW||``, the Frobenius norm of that step's gradient of ``W``
      (``model.grads``, after any clipping);
    - ``update_ratio``: ``||W_after - W_before|| / ||W_before||`` for that step's update;
      about 1e-3 is the usual healthy size, far smaller means the layer hardly moves.

    ``x=None`` measures the activations on the step's own batch (``model.train_batch``),
    else on the given inputs (the same ones every time, so curves compare). They are taken
    after the step's update, with the new weights. Steps count from 1 within each ``fit``;
    the recorded ones are the multiples of ``every``. Costs one extra forward pass and a copy
    of each ``W`` per recorded step.
    """

    def __init__(self, every: int = 10, x=None) -> None:
        super().__init__()
        self.every = check_int("every", every, minimum=1)
        self.x = x
        self.steps: list[int] = []
        self.history: dict[str, dict[str, list[float]]] = {}
        self._before: dict[str, np.ndarray] = {}
        self._last_step = 0

    def set_model(self, model) -> None:
        super().set_model(model)
        if self.x is not None:
            self._x = model.prepare_inputs(self.x, "LayerStats x")

    def on_train_begin(self, logs=None) -> None:
        self._last_step = 0
        self._before = {}

    def _recorded(self, step: int) -> bool:
        return step % self.every == 0

    def on_train_batch_begin(self, batch, logs=None) -> None:
        if self._recorded(self._last_step + 1):
            self._before = {f"W{k}": dense.W.copy()
                            for k, dense in enumerate(self.model.dense, start=1)}

    def on_train_batch_end(self, batch, logs=None) -> None:
        step = (logs or {}).get("step", self._last_step + 1)
        self._last_step = step
        if not self._recorded(step):
            return
        model = self.model
        x = self._x if self.x is not None else model.train_batch[0]
        outputs = model.layer_outputs(x)
        k = 0
        for i, layer in enumerate(model.layers):
            if not isinstance(layer, Dense):
                continue
            k += 1
            key = f"W{k}"
            after = model.layers[i + 1] if i + 1 < len(model.layers) else None
            if after is not None and not isinstance(after, Dense):
                activation, z = after, outputs[i + 1]
            else:                               # no activation: the layer's own output u
                activation, z = None, outputs[i]
            self._record(key, layer, activation, z, self._before.pop(key, None))
        self._before = {}
        self.steps.append(step)

    def _record(self, key: str, dense, activation, z: np.ndarray, W_before) -> None:
        row = {"activation_mean": float(z.mean()), "activation_std": float(z.std())}
        if isinstance(activation, ReLU):
            row["dead_fraction"] = float(np.mean(np.all(z == 0, axis=0)))
        elif isinstance(activation, Sigmoid):
            row["saturated_fraction"] = float(np.mean((z <= SATURATION_MARGIN)
                                                      | (z >= 1 - SATURATION_MARGIN)))
        elif isinstance(activation, Tanh):
            row["saturated_fraction"] = float(np.mean(np.abs(z) >= 1 - SATURATION_MARGIN))
        row["grad_norm"] = float(np.linalg.norm(self.model.grads[key]))
        if W_before is None:        # a resumed run's first step: no snapshot was taken
            row["update_ratio"] = float("nan")
        else:
            norm = np.linalg.norm(W_before)
            change = np.linalg.norm(dense.W - W_before)
            row["update_ratio"] = float(change / norm) if norm > 0 else float("inf")
        table = self.history.setdefault(key, {})
        for field, value in row.items():
            table.setdefault(field, []).append(value)
