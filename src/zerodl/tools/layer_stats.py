"""``LayerStats``: a callback that watches the inside of a network while it trains.

A diagnostic beside the other views inside a network (``inspection.py``, ``trace.py``):
per layer and per recorded step, the activations' mean and spread, dead or saturated units,
the gradient's norm and the update's relative size.
"""
from __future__ import annotations

import numpy as np

from ..core._checks import check_int
from ..core.layers import Dense, Dropout, ReLU, Sigmoid, Tanh
from ..core.layers.activations import Activation
from ..training.callbacks import Callback

# --- LayerStats ---
#: An output within this distance of a sigmoid's 0 or 1, or of tanh's -1 or +1, counts as
#: saturated: there the derivative is below 0.0099 (sigmoid, 4 % of its peak 0.25) or 0.02
#: (tanh, 2 % of its peak 1), so almost no gradient passes.
SATURATION_MARGIN = 0.01


def _activation_after(layers: list, i: int) -> int | None:
    """The index of the activation that follows the Dense layer ``i``, past batch
    normalisation (Dense -> BatchNormalization -> activation -> Dropout), or None."""
    for j in range(i + 1, len(layers)):
        if isinstance(layers[j], (Dense, Dropout)):
            return None
        if isinstance(layers[j], Activation):
            return j
    return None


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

    ``x=None`` measures the activations on the step's own batch (``self.run.batch``),
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
        x = self._x if self.x is not None else self.run.batch[0]
        outputs = model.layer_outputs(x)
        k = 0
        for i, layer in enumerate(model.layers):
            if not isinstance(layer, Dense):
                continue
            k += 1
            key = f"W{k}"
            j = _activation_after(model.layers, i)
            if j is not None:
                activation, z = model.layers[j], outputs[j]
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
