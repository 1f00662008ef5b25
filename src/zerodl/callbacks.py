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
