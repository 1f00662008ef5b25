"""A trace of every intermediate value of one forward (and backward) pass.

The course teaches with cells that print, layer by layer, the weights (重み), biases
(バイアス), the input (入力), the total input (総入力) ``u = x W + b``, the layer output
(中間層出力) ``z = f(u)``, the network output (出力) and the error, and, for
backpropagation, ``dE/du`` of every layer (偏微分_dE/du) and the gradient of every
parameter (偏微分_重み, 偏微分_バイアス). ``trace(model, x, d)`` prints the same quantities in
the same order for any ``Sequential`` model, with shapes, and returns them in a dict.

Order printed (the course's): the input; then for each Dense layer i its 重み i, バイアス i,
総入力 i and, after its activation, 中間層出力 i; the output 出力 (with 出力合計, the row sums,
for softmax) and the error 誤差. With ``d``: 偏微分_dE/du from the last layer to the first,
then 偏微分_重み i and 偏微分_バイアス i for each layer.

The ``zerodl trace`` command (``cli_trace.py``) parses its options and calls ``trace``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..core._checks import check_choice, check_int
from ..core.layers import Dense, ReLU
from ..training.model import Sequential

#: Label of each quantity, by language. ``{i}`` is the layer number.
LABELS = {
    "ja": {"x": "入力", "W": "重み{i}", "b": "バイアス{i}", "u": "総入力{i}",
           "z": "中間層出力{i}", "y": "出力", "sum": "出力合計", "loss": "誤差",
           "delta": "偏微分_dE/du{i}", "dW": "偏微分_重み{i}", "db": "偏微分_バイアス{i}",
           "forward": "順伝播", "backward": "逆伝播"},
    "en": {"x": "input x", "W": "weights W{i}", "b": "bias b{i}", "u": "total input u{i}",
           "z": "hidden output z{i}", "y": "output y", "sum": "output sum", "loss": "loss E",
           "delta": "dE/du{i}", "dW": "gradient dE/dW{i}", "db": "gradient dE/db{i}",
           "forward": "forward pass", "backward": "backward pass"},
}


def format_array(a: np.ndarray, precision: int = 4, threshold: int = 64,
                 edgeitems: int = 3) -> str:
    """``a`` as text: every value up to ``threshold`` elements, else the corners plus
    min / mean / max, so a 784 x 40 weight matrix stays a few lines long."""
    a = np.asarray(a)
    text = np.array2string(a, precision=precision, threshold=threshold, edgeitems=edgeitems,
                           suppress_small=True, max_line_width=100)
    if a.size > threshold:
        text += (f"\n(min {a.min():.{precision}g}, mean {a.mean():.{precision}g}, "
                 f"max {a.max():.{precision}g})")
    return text


def trace(model, x, d=None, lang: str = "ja", print_fn: Callable[[str], None] | None = print,
          precision: int = 4, threshold: int = 64) -> dict:
    """Run ``x`` (and, with labels ``d``, the backward pass) through ``model``, printing
    every intermediate value in the course's order; return them in a dict.

    Keys of the result (copies, safe to keep): ``"x"``; per Dense layer ``i`` (from 1)
    ``"W{i}"``, ``"b{i}"``, ``"u{i}"`` (total input ``x W + b``, shape (N, n_out)) and, for
    layers followed by an activation, ``"z{i}"`` (its output); ``"y"`` (the network's output,
    e.g. softmax probabilities). With ``d`` also ``"loss"`` (a float), ``"delta{i}"``
    (``dE/du{i}``, shape of ``u{i}``) and ``"grad"``, a dict keyed like ``model.params``.

    ``lang``: "ja" (the course's labels) or "en". ``print_fn=None`` prints nothing.
    The model's parameters are not changed (``model.grads`` is overwritten, as by
    ``model.gradient``).
    """
    lang = check_choice("lang", lang, LABELS)
    precision = check_int("precision", precision, minimum=0)
    threshold = check_int("threshold", threshold, minimum=1)
    labels = LABELS[lang]
    say = (lambda text: None) if print_fn is None else print_fn

    def show(kind: str, value, i: int | None = None, note: str = "") -> None:
        value = np.asarray(value)
        label = labels[kind].format(i="" if i is None else i)
        say(f"*** {label}{note} shape {value.shape} ***")
        say(format_array(value, precision=precision, threshold=threshold))

    x = model.prepare_inputs(x)
    values: dict = {"x": x.copy()}
    say(f"=== {labels['forward']}: {model!r} ===")
    show("x", x)

    u_out = _forward(model, x, values, show)
    y = model.output.predict(u_out)
    values["y"] = np.array(y, copy=True)
    show("y", y, note=f" ({model.output.name})")
    if model.output.name == "softmax":
        show("sum", y.sum(axis=1))
    if d is None:
        return values

    d = model.prepare_labels(d, len(x))
    loss, delta, _ = model.output.loss_and_grad(u_out, d)
    values["loss"] = float(loss)
    say(f"*** {labels['loss']} ({model.output.loss_name}) ***")
    say(f"{loss:.{max(precision, 6)}g}")

    say(f"=== {labels['backward']} ===")
    _backward(model, delta, values, show)
    return values


def _forward(model, x, values: dict, show) -> np.ndarray:
    """Forward, one layer at a time, so that each total input u and output z is seen;
    return the last layer's output u."""
    h, i = x, 0
    for layer in model.layers:
        h = layer.forward(h)
        if isinstance(layer, Dense):
            i += 1
            values[f"W{i}"], values[f"b{i}"], values[f"u{i}"] = (layer.W.copy(), layer.b.copy(),
                                                                 h.copy())
            show("W", layer.W, i)
            show("b", layer.b, i)
            show("u", h, i)
        else:
            values[f"z{i}"] = h.copy()
            show("z", h, i, f" ({type(layer).__name__})")
    return h


def _backward(model, delta: np.ndarray, values: dict, show) -> None:
    """Backward: the gradient arriving at a Dense layer's output is dE/du of that layer."""
    i = len(model.dense)
    for layer in reversed(model.layers):
        if isinstance(layer, Dense):
            values[f"delta{i}"] = delta.copy()
            show("delta", delta, i)
            i -= 1
        delta = layer.backward(delta)
    values["grad"] = {key: g.copy() for key, g in model.grads.items()}
    for i in range(1, len(model.dense) + 1):
        show("dW", model.grads[f"W{i}"], i)
        show("db", model.grads[f"b{i}"], i)


def course_232() -> Sequential:
    """The course's 2-3-2 backpropagation network (ReLU, softmax) with its fixed weights."""
    model = Sequential([Dense(2, 3, dtype=np.float64), ReLU(), Dense(3, 2, dtype=np.float64)],
                       output="softmax")
    model.params["W1"][:] = [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]
    model.params["b1"][:] = [0.1, 0.2, 0.3]
    model.params["W2"][:] = [[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]
    model.params["b2"][:] = [0.1, 0.2]
    return model
