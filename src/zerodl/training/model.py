"""The model: a stack of layers ending in a fused output layer and loss.

``Sequential`` runs the layers forward and backward and owns their arrays under the course's
names (``params["W1"]``); its ``fit`` is the training loop of ``loop.py``. ``mlp`` and the
other ready-made networks are in ``architectures.py``; ``load`` (``files.py``) reads a model
file back.
"""
from __future__ import annotations

import math
import os
from typing import Sequence

import numpy as np

from ..core._checks import check_array, check_labels, check_seed
from ..core.io import save_model
from ..core.layers import Dense, Layer, ParamDict, Step
from ..core.losses import Output, get_output
from ..core.optimizers import clip_grad_norm, clip_grad_value
from .assembly import build_layers, call_plan, checked_layers, numbered_arrays
from .fit_callbacks import History
from .loop import TrainingRun

#: Rows per chunk in predict/evaluate: bounds memory on large inputs.
PREDICT_CHUNK = 10_000


class Sequential:
    """Layers applied in order, then a fused output layer and loss.

    ``params`` and ``grads`` are dicts keyed ``"W1", "b1", "W2", ...`` (the course's names: the
    n-th weighted layer's weights and bias; batch normalisation's are ``gamma1``, ``beta1``)
    whose arrays are the layers' own; assigning to a key copies into that array
    (``zerodl.layers.ParamDict``), so there is one truth. ``buffers`` holds the layers'
    arrays that are not trained (``running_mean1``, ...), keyed the same way.

    ``input_shape`` is one sample's shape without the batch axis: ``(784,)`` for an MLP (read
    from its first Dense layer), ``(1, 28, 28)`` for a network of images, which must say it.
    Each layer is built for the shape it receives, so a mistake in the sizes is refused here.
    """

    def __init__(self, layers: Sequence[Layer], output="softmax",
                 seed: int | np.random.Generator | None = None,
                 input_shape: Sequence[int] | None = None) -> None:
        self.layers = checked_layers(layers)
        check_seed("seed", seed)
        self.output: Output = get_output(output)
        self.input_shape, (n_out,) = build_layers(self.layers, input_shape)
        self._n_out = n_out
        if self.output.name == "softmax" and n_out < 2:
            raise ValueError(f"a softmax output must have at least 2 units (with 1 its "
                             f"probability is always 1 and the loss always 0); got a last "
                             f"layer with {n_out} output. For one yes/no output use "
                             f"output='sigmoid'.")
        arrays = [a for layer in self.layers for a in layer.params.values()]
        if not arrays:
            raise ValueError("layers must include at least one layer with parameters, such "
                             "as Dense.")
        dtypes = {a.dtype for a in arrays}
        if len(dtypes) != 1:
            raise ValueError(f"all layers must share one dtype; got {sorted(map(str, dtypes))}.")
        self.dtype = dtypes.pop()
        self._params = ParamDict(numbered_arrays(self.layers, "params"), "params")
        self._grads = ParamDict(numbered_arrays(self.layers, "grads"), "grads")
        self._buffers = ParamDict(numbered_arrays(self.layers, "buffers"), "buffers")
        self._plan = call_plan(self.layers)
        self._work: tuple | None = None       # training's work arrays (_work_arrays)
        # The last layer's output u may be overwritten by the output layer (softmax in place)
        # only when no layer keeps it for backward: a Dense keeps its input, not its output;
        # an activation at the end keeps its output (ReLU's mask, sigmoid's y).
        self._u_is_free = isinstance(self.layers[-1], Dense)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        for layer in self.layers:
            # A layer that draws (dropout) and was given no seed of its own draws from a
            # generator seeded through the model's, so one seed gives one run.
            if isinstance(getattr(layer, "rng", None), np.random.Generator) and \
                    getattr(layer, "seed", 0) is None:
                layer.rng = np.random.default_rng(int(self.rng.integers(2**63)))
        self._penalized = [layer for layer in self.layers
                           if getattr(layer, "kernel_regularizer", None) is not None]
        self.stop_training = False

    # -- arrays --------------------------------------------------------------------------
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

    @property
    def buffers(self) -> ParamDict:
        """The arrays the layers keep but do not train (running statistics), the layers' own."""
        return self._buffers

    # -- sizes ---------------------------------------------------------------------------
    @property
    def n_in(self) -> int:
        """Inputs per sample: the first Dense layer's ``n_in``, or the product of
        ``input_shape`` (784 for ``(1, 28, 28)``)."""
        return math.prod(self.input_shape)

    @property
    def n_out(self) -> int:
        return self._n_out

    @property
    def dense(self) -> list[Dense]:
        """The Dense layers, in order."""
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    # -- passes --------------------------------------------------------------------------
    # A layer that takes ``out=`` right after a Dense layer gets the Dense's output as
    # ``out`` (a fresh array or a work array of the model, which nobody else holds), and
    # one right before a Dense gets the Dense's dx the same way: in place, no array per
    # layer. Training (``train_step``) also gives each Dense a work array of the model for
    # its output and dx, kept between steps; other calls return new arrays.
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """The last layer's output ``u`` for prepared inputs (before the output function)."""
        return self._forward(x, [None] * len(self.layers), training)

    def backward(self, du: np.ndarray) -> None:
        """Backpropagate ``dE/du`` of the last layer; fills ``grads``."""
        self._backward(du, [None] * len(self.layers))

    def _forward(self, x: np.ndarray, outs: list, training: bool) -> np.ndarray:
        """``outs[i]``: the array layer ``i`` writes its output into (None: a new one)."""
        for (layer, takes_out, in_place, _, _, takes_training), out in zip(self._plan, outs):
            if takes_out:
                x = layer.forward(x, training, out=x if in_place else out)
            elif takes_training:
                x = layer.forward(x, training=training)
            else:
                x = layer.forward(x)        # a layer that behaves the same in both modes
        return x

    def _backward(self, du: np.ndarray, dxs: list) -> None:
        """``dxs[i]``: the array layer ``i`` writes its dE/dx into (None: a new one)."""
        plan = self._plan
        for i in range(len(plan) - 1, 0, -1):
            layer, _, _, takes_out, before_dense, _ = plan[i]
            if takes_out:
                du = layer.backward(du, out=du if before_dense else dxs[i])
            else:
                du = layer.backward(du)
        first = plan[0]
        if first[3]:
            first[0].backward(du, need_dx=False)    # nobody reads the network's dE/dx
        else:
            first[0].backward(du)

    def _work_arrays(self, n: int) -> tuple[np.ndarray, list, list]:
        """Training's arrays for batches of ``n`` samples: the gathered batch, each Dense
        layer's output and dE/dx (None elsewhere, and for the first layer's dE/dx); kept
        while ``n`` stays the same."""
        if self._work is None or self._work[0] != n:
            def per_dense(size, skip_first=False) -> list:
                return [np.empty((n, size(layer)), self.dtype)
                        if isinstance(layer, Dense) and not (skip_first and i == 0) else None
                        for i, layer in enumerate(self.layers)]
            self._work = (n, np.empty((n, *self.input_shape), self.dtype),
                          per_dense(lambda layer: layer.n_out),
                          per_dense(lambda layer: layer.n_in, skip_first=True))
        return self._work[1:]

    def release_work_arrays(self) -> None:
        """Let go of training's work arrays (a full batch's are as large as the data)."""
        self._work = None

    def _forward_one(self, i: int, x: np.ndarray) -> np.ndarray:
        """Layer ``i``'s output for ``x`` in inference mode (a new array)."""
        layer, _, _, _, _, takes_training = self._plan[i]
        return layer.forward(x, training=False) if takes_training else layer.forward(x)

    def layer_outputs(self, x) -> list[np.ndarray]:
        """The output of every layer in ``layers`` for ``x``, in order (new arrays).

        For a Dense layer that is its 総入力 ``u``; for an activation its 中間層出力 ``z``.
        """
        x = self.prepare_inputs(x)
        outputs = []
        for i, layer in enumerate(self.layers):
            x = self._forward_one(i, x)
            outputs.append(x.copy())
        return outputs

    def prepare_inputs(self, x, name: str = "x") -> np.ndarray:
        """Check ``x`` and bring it to shape ``(N, *input_shape)`` in the model's dtype.

        One sample may come without its batch axis. The values must be finite in the
        model's dtype: 1e39 is finite in float64 but inf in float32 (and 70000 in float16),
        so the check runs on the cast array.
        """
        x = check_array(name, x, dtype=self.dtype)
        shape = self.input_shape
        if x.shape == shape:
            x = x.reshape(1, *shape)
        if x.shape[1:] == shape:
            return x
        if len(shape) == 1:
            if x.ndim == 2:
                raise ValueError(f"{name} must have {shape[0]} features per sample (the "
                                 f"network's input size); got {x.shape[1]} ({name}.shape="
                                 f"{x.shape}).")
            raise ValueError(f"{name} must have shape (N, {shape[0]}), one row of {shape[0]} "
                             f"inputs per sample, for this network whose first layer is "
                             f"{self.layers[0]!r}; got shape {x.shape}. Flatten the samples "
                             f"first ({name}.reshape(len({name}), -1), or load_mnist("
                             f"flatten=True)), or start the network with Flatten().")
        raise ValueError(f"{name} must have shape (N, {', '.join(map(str, shape))}) for this "
                         f"network (its input_shape is {shape}); got shape {x.shape}.")

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
        """Mean loss over the batch, plus the layers' weight penalties (weight decay)."""
        x = self.prepare_inputs(x)
        return self.output.loss(self.forward(x), self.prepare_labels(d, len(x))) + self.penalty()

    def penalty(self) -> float:
        """The sum of the layers' weight penalties (``kernel_regularizer``; the course's
        weight decay ``0.5 * lam * sum(W**2)``), which every reported loss includes."""
        return sum(layer.kernel_regularizer(layer.params["W"]) for layer in self._penalized)

    def _add_penalty_gradients(self) -> None:
        for layer in self._penalized:
            layer.grads["W"] += layer.kernel_regularizer.gradient(layer.params["W"])

    def gradient(self, x, d) -> dict[str, np.ndarray]:
        """Backpropagation: the gradient of ``loss(x, d)`` for each key of ``params``.

        The layers run as in inference (``training=False``): dropout passes everything and
        batch normalisation uses its running statistics, so the gradient is that of
        ``loss``, which a finite-difference check can compare.
        """
        x = self.prepare_inputs(x)
        d = self.prepare_labels(d, len(x))
        _, du, _ = self.output.loss_and_grad(self.forward(x), d)
        self.backward(du)
        self._add_penalty_gradients()
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
        result = {"loss": total_loss / len(x) + self.penalty()}
        if self.output.has_accuracy:
            result["accuracy"] = correct / len(x)
        return result

    # -- training ------------------------------------------------------------------------
    def train_step(self, x: np.ndarray, d: np.ndarray, optimizer, clip_norm: float | None = None,
                   clip_value: float | None = None) -> tuple[float, np.ndarray]:
        """One gradient-descent step on a prepared batch; return ``(loss, y)``.

        The layers run in training mode and write into work arrays of the model, reused
        from the previous step: ``y`` is valid until the next step. A non-finite loss skips
        the update (the caller decides what to do).
        """
        _, outs, dxs = self._work_arrays(len(x))
        u = self._forward(x, outs, True)
        loss, du, y = self.output.loss_and_grad(u, d, overwrite_u=self._u_is_free)
        if self._penalized:
            loss += self.penalty()
        if not math.isfinite(loss):
            return loss, y      # no update: fit raises TrainingDiverged, weights stay finite
        self._backward(du, dxs)
        if self._penalized:
            self._add_penalty_gradients()
        if clip_value is not None:
            clip_grad_value(self.grads, clip_value)
        if clip_norm is not None:
            clip_grad_norm(self.grads, clip_norm)
        optimizer.update(self.params, self.grads)
        return loss, y

    def take_batch(self, x: np.ndarray, d: np.ndarray, idx: np.ndarray) -> tuple:
        """The batch ``(x[idx], d[idx])``; ``x``'s rows go into the previous batch's array,
        the one copy per batch."""
        xb = self._work_arrays(len(idx))[0]
        x.take(idx, axis=0, out=xb, mode="clip")
        return xb, d[idx]

    def check_trainable(self) -> None:
        """Refuse, before training, a model that cannot train: a Step layer, or weights that
        are already NaN or infinite."""
        for layer in self.layers:
            if isinstance(layer, Step):
                raise ValueError("the model must not contain a Step layer to be trained: Step "
                                 "has no useful gradient. Use 'sigmoid' or 'relu'.")
        for key, p in self.params.items():
            if not np.all(np.isfinite(p)):
                raise ValueError(f"params[{key!r}] must be finite before training; it holds "
                                 f"NaN or infinite values.")

    def fit(self, x, d, epochs: int = 1, batch_size: int | None = 100, optimizer="sgd",
            validation_data=None, seed: int | None = None, verbose: int = 1,
            steps: int | None = None, eval_every: int | None = None, lr_schedule=None,
            clip_norm: float | None = None, clip_value: float | None = None,
            checkpoint: str | os.PathLike | None = None,
            resume: str | os.PathLike | None = None,
            callbacks=None, validation_split: float = 0.0) -> History:
        """Train with mini-batch gradient descent; return the ``History``.

        Each epoch visits the samples in a new random order, in batches of ``batch_size``
        (``1``: online, ``None``: full batch); ``steps`` stops after that many updates
        instead. ``eval_every=n`` measures loss and accuracy on all of ``x`` and the
        validation data every ``n`` steps (``History.steps``). ``validation_split=0.2``: as
        in Keras, the last 20% of ``x`` and ``d`` (before shuffling) are never trained on and
        serve as the validation data. ``seed`` fixes the batch order (default: the model's
        generator). ``verbose``: 0 silent, 1 a bar per epoch, 2 a line per epoch (Keras's
        output; ``zerodl.training.fit_callbacks.ProgressBar``). ``lr_schedule``: a
        ``zerodl.schedules`` object or name; ``clip_value`` then ``clip_norm`` clip the
        gradients; ``callbacks``: ``Callback`` objects, run after
        ``fit``'s own. ``checkpoint=PATH`` saves the training state at every epoch end and on
        Ctrl-C, ``resume=PATH`` continues it. Arguments are checked before anything changes.
        The loop and the details (checkpoints, ``TrainingDiverged``, Ctrl-C):
        ``zerodl.training.loop``.
        """
        run = TrainingRun(self, x, d, epochs=epochs, batch_size=batch_size,
                          optimizer=optimizer, validation_data=validation_data, seed=seed,
                          verbose=verbose, steps=steps, eval_every=eval_every,
                          lr_schedule=lr_schedule, clip_norm=clip_norm, clip_value=clip_value,
                          checkpoint=checkpoint, resume=resume, callbacks=callbacks,
                          validation_split=validation_split)
        for _ in run:
            pass
        return run.history

    # -- inspection and files ------------------------------------------------------------
    def summary(self, print_fn=print) -> None:
        """Print a table of the layers, their output shapes and parameter counts."""
        rows, total, shape = [], 0, self.input_shape
        for layer in self.layers:
            shape = layer.output_shape(shape)
            count = sum(p.size for p in layer.params.values())
            total += count
            rows.append((repr(layer), f"(None, {', '.join(map(str, shape))})", f"{count:,}"))
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
        config = {"layers": [layer.get_config() for layer in self.layers],
                  "output": self.output.name, "dtype": self.dtype.name}
        first = next((layer for layer in self.layers if not layer.keeps_shape), None)
        if not isinstance(first, Dense):        # not readable from the layers: say it
            config["input_shape"] = list(self.input_shape)
        return config

    def save(self, path) -> None:
        """Write the arrays and the architecture to ``path`` (a ``.npz`` file), atomically.

        All or nothing: a path that is a folder, a device or in a missing folder, or a NaN
        or infinite weight, is refused before the file is touched; a failed write leaves the
        old file. A symbolic link is written through and stays a link (``zerodl.io``).
        """
        save_model(self, path)

    def __repr__(self) -> str:
        dense = self.dense
        if dense and isinstance(self.layers[0], Dense):
            sizes = "-".join(map(str, [self.n_in] + [layer.n_out for layer in dense]))
        else:
            sizes = f"{'x'.join(map(str, self.input_shape))} -> {self.n_out}"
        return (f"Sequential({sizes}, output={self.output.name!r}, "
                f"dtype={self.dtype.name})")
