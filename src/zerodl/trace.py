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

Also the ``zerodl trace`` command (``add_parser`` / ``run``).
"""
from __future__ import annotations

import argparse
from typing import Callable

import numpy as np

from ._checks import check_choice, check_int
from .layers import ACTIVATIONS, Dense
from .losses import OUTPUTS

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

    # Forward, one layer at a time, so that each total input u and output z is seen.
    h, i = x, 0
    for layer in model.layers:
        h = layer.forward(h)
        if isinstance(layer, Dense):
            i += 1
            values[f"W{i}"], values[f"b{i}"], values[f"u{i}"] = layer.W.copy(), layer.b.copy(), h.copy()
            show("W", layer.W, i)
            show("b", layer.b, i)
            show("u", h, i)
        else:
            values[f"z{i}"] = h.copy()
            show("z", h, i, f" ({type(layer).__name__})")
    u_out = h
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

    # Backward: the gradient arriving at a Dense layer's output is dE/du of that layer.
    say(f"=== {labels['backward']} ===")
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
    return values


# -- the ``zerodl trace`` command -------------------------------------------------------------

def course_232():
    """The course's 2-3-2 backpropagation network (ReLU, softmax) with its fixed weights."""
    from .layers import ReLU
    from .model import Sequential

    model = Sequential([Dense(2, 3, dtype=np.float64), ReLU(), Dense(3, 2, dtype=np.float64)],
                       output="softmax")
    model.params["W1"][:] = [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]
    model.params["b1"][:] = [0.1, 0.2, 0.3]
    model.params["W2"][:] = [[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]
    model.params["b2"][:] = [0.1, 0.2]
    return model


def _matrix(text: str) -> np.ndarray:
    """``"1,5"`` -> [[1, 5]]; rows separated by ';': ``"1,5;2,3"``."""
    try:
        rows = [[float(v) for v in row.split(",")] for row in text.split(";")]
        return np.array(rows, dtype=np.float64)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be numbers separated by ',' (rows by ';'), like 1,5; got {text!r}") from None


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``zerodl trace``."""
    p = subparsers.add_parser(
        "trace", help="print every intermediate value of a forward and backward pass",
        description="Trace one pass layer by layer (weights, biases, total inputs u, outputs "
                    "z, the output and error, dE/du and the gradients). Without --model or "
                    "--layers: the course's 2-3-2 backpropagation cell, x=1,5 d=0,1.")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--model", help="a model file written by model.save / zerodl train --save")
    source.add_argument("--layers", help="a new network with random weights, e.g. 2-3-2")
    p.add_argument("--activation", default="relu", choices=ACTIVATIONS.names(),
                   help="with --layers (default relu)")
    p.add_argument("--output", default="softmax", choices=OUTPUTS.names(),
                   help="with --layers (default softmax)")
    p.add_argument("--init", default="xavier", help="with --layers (default xavier)")
    p.add_argument("--seed", type=int, default=0, help="with --layers (default 0)")
    data = p.add_mutually_exclusive_group()
    data.add_argument("--x", type=_matrix, help="input rows, e.g. 1,5 or 1,5;2,3")
    data.add_argument("--mnist", type=int, metavar="INDEX",
                      help="trace MNIST test image INDEX with its label")
    p.add_argument("--d", type=_matrix, help="labels (one-hot or targets), e.g. 0,1; "
                                             "omit for the forward pass only")
    p.add_argument("--lang", default="ja", choices=sorted(LABELS))
    p.add_argument("--precision", type=int, default=4)
    p.add_argument("--data-dir", help="folder with the MNIST files (with --mnist)")
    return p


def run(args) -> int:
    """Run ``zerodl trace`` with parsed ``args``."""
    from .cli import UsageError
    from .io import load
    from .model import mlp

    if args.model:
        model = load(args.model)
    elif args.layers:
        from .cli import _layers
        try:
            sizes = _layers(args.layers)
        except argparse.ArgumentTypeError as exc:
            raise UsageError(str(exc)) from None
        init = args.init
        try:
            init = float(init)
        except ValueError:
            pass
        model = mlp(sizes, activation=args.activation, output=args.output, init=init,
                    seed=args.seed, dtype=np.float64)
    else:
        model = course_232()
    x, d = args.x, args.d
    if args.mnist is not None:
        from .datasets import load_mnist
        _, (x_test, d_test) = load_mnist(one_hot_label=True, data_dir=args.data_dir)
        if not 0 <= args.mnist < len(x_test):
            raise UsageError(f"--mnist must be an index in [0, {len(x_test)}); got {args.mnist}")
        x, d = x_test[args.mnist:args.mnist + 1], d_test[args.mnist:args.mnist + 1]
        if (model.n_in, model.n_out) != (784, 10):
            raise UsageError(f"--mnist needs a model with 784 inputs and 10 outputs; got "
                             f"{model.n_in} inputs and {model.n_out} outputs")
    if x is None:
        if args.model or args.layers:
            raise UsageError("--x or --mnist is required with --model or --layers")
        x, d = np.array([[1.0, 5.0]]), (np.array([[0.0, 1.0]]) if d is None else d)
    if d is not None and args.mnist is None:
        if model.output.name == "softmax" and d.shape == (len(x), 1) and model.n_out > 1:
            d = d[:, 0].astype(np.intp)       # one number per row: class indices
        elif d.shape != (len(x), model.n_out):
            raise UsageError(f"--d must have {len(x)} row(s) of {model.n_out} values (one per "
                             f"output); got shape {d.shape}")
    if d is not None and any(type(layer).__name__ == "Step" for layer in model.layers):
        raise UsageError("the step activation has no gradient to trace; omit --d to trace "
                         "the forward pass only")
    trace(model, x, d, lang=args.lang, precision=args.precision)
    return 0
