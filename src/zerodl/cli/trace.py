"""``zerodl trace``: print every intermediate value of one forward and backward pass.

The options become a model, an input and labels; ``zerodl.trace.trace`` does the printing.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from .. import load          # zerodl.load: the public reader of model files
from .common import UsageError, parse_layers, setting_type
from ..core.datasets import load_mnist
from ..core.layers import ACTIVATIONS, Step
from ..core.losses import OUTPUTS
from ..training.architectures import mlp
from ..training.recipe import SETTINGS
from ..tools.trace import LABELS, course_232, trace


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
                   help="with --layers (default: relu)")
    p.add_argument("--output", default="softmax", choices=OUTPUTS.names(),
                   help="with --layers (default: softmax)")
    p.add_argument("--init", default="xavier", type=setting_type("init", SETTINGS["init"]),
                   help="with --layers: initialiser name or a normal's standard deviation "
                        "(default: xavier)")
    p.add_argument("--seed", type=int, default=0, help="with --layers (default: 0)")
    data = p.add_mutually_exclusive_group()
    data.add_argument("--x", type=_matrix, help="input rows, e.g. 1,5 or 1,5;2,3")
    data.add_argument("--mnist", type=int, metavar="INDEX",
                      help="trace MNIST test image INDEX with its label")
    p.add_argument("--d", type=_matrix, help="labels (one-hot or targets), e.g. 0,1; "
                                             "omit for the forward pass only")
    p.add_argument("--lang", default="ja", choices=sorted(LABELS),
                   help="language of the labels: " + ", ".join(sorted(LABELS)))
    p.add_argument("--precision", type=int, default=4, metavar="DIGITS",
                   help="digits after the point in the printed values")
    p.add_argument("--data-dir", help="folder with the MNIST files (with --mnist)")
    return p


def _model(args):
    if args.model:
        return load(args.model)
    if args.layers:
        try:
            sizes = parse_layers(args.layers)
        except argparse.ArgumentTypeError as exc:
            raise UsageError(str(exc)) from None
        return mlp(sizes, activation=args.activation, output=args.output,
                   init=args.init, seed=args.seed, dtype=np.float64)
    return course_232()


def run(args) -> int:
    """Run ``zerodl trace`` with parsed ``args``."""
    model = _model(args)
    x, d = args.x, args.d
    if args.mnist is not None:
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
    if d is not None and any(isinstance(layer, Step) for layer in model.layers):
        raise UsageError("the step activation has no gradient to trace; omit --d to trace "
                         "the forward pass only")
    trace(model, x, d, lang=_printable_lang(args.lang), precision=args.precision)
    return 0


def _printable_lang(lang: str) -> str:
    """``lang``, or ``"en"`` when the output's encoding cannot show its labels (an ASCII-only
    terminal, ``PYTHONIOENCODING=ascii``): English labels rather than a UnicodeEncodeError."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        "".join(LABELS[lang].values()).encode(encoding)
        return lang
    except (UnicodeEncodeError, LookupError):
        print(f"zerodl trace: the output's encoding ({encoding}) cannot show the --lang {lang} "
              f"labels; printing the English ones (--lang en)", file=sys.stderr)
        return "en"
