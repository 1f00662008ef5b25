"""``zerodl show KIND``: draw what a network learned, as a PNG.

On a saved model (``--model FILE``) or after a quick training run (``--dataset``): MNIST
with the course's network by default, or a 2-D toy set (``zerodl.datasets.make_toy``).
"""
from __future__ import annotations

import argparse

from ..core.datasets import load_mnist, make_toy
from ..core.initializers import INITIALIZERS
from ..tools.inspection import (plot_activations, plot_confusion, plot_decision_boundary,
                         plot_layer_stats, plot_mistakes, plot_weights)
from ..tools.layer_stats import LayerStats
from ..training.architectures import mlp
from ..training.model import load
from ..core.layers import ACTIVATIONS
from ..core.optimizers import OPTIMIZERS
from ..core.toy import TOY_DATASETS
from ..core._fileio import check_output_path
from .common import parse_init, parse_layers, positive

KINDS = ("weights", "activations", "confusion", "mistakes", "boundary", "layers")
DATASETS = ("mnist", *TOY_DATASETS.names())

#: Quick-run defaults: the course's MNIST cell, and a network that learns every toy set.
DEFAULTS = {
    "mnist": {"layers": [784, 40, 10], "init": 0.01, "optimizer": "sgd", "lr": 0.1,
              "iters": 1000},
    "toy": {"layers": [2, 32, 32, 2], "init": "he", "optimizer": "adam", "lr": 0.01,
            "iters": 2000},
}


class ShowError(ValueError):
    """A command-line mistake found after parsing: one line, exit status 2."""


def _init(text: str) -> float | str:
    init = parse_init(text)
    if isinstance(init, str) and init not in INITIALIZERS:
        raise argparse.ArgumentTypeError(
            f"--init must be a standard deviation or one of {', '.join(INITIALIZERS.names())}; "
            f"got {text!r}")
    return init


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``zerodl show``."""
    p = subparsers.add_parser(
        "show", help="draw what a network learned (weights, activations, mistakes, ...)",
        description="Draw one view of a network as a PNG: weights (W of a layer, as images "
                    "for MNIST), activations (histograms of the hidden layers' outputs), "
                    "confusion (the confusion matrix), mistakes (the worst-classified "
                    "samples), boundary (2-D data: the decision boundary), layers (per-layer "
                    "statistics during training). The network is a saved one (--model) or "
                    "trained now (--dataset, default mnist with the course's 784-40-10).")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("--model", metavar="FILE", help="a model saved by model.save / zerodl train "
                                                    "--save (for layers: trained further)")
    p.add_argument("--dataset", choices=DATASETS,
                   help="the data to train on and to show (default mnist)")
    p.add_argument("--layers", type=parse_layers, metavar="SIZES",
                   help="layer sizes of a new network (default 784-40-10 for mnist, 2-32-32-2 "
                        "for the toy sets)")
    p.add_argument("--activation", default="relu", choices=ACTIVATIONS.names())
    p.add_argument("--init", type=_init,
                   help="initialiser name or a normal's standard deviation (default 0.01 for "
                        "mnist, he for the toy sets)")
    p.add_argument("--optimizer", choices=OPTIMIZERS.names(),
                   help="default sgd for mnist, adam for the toy sets")
    p.add_argument("--lr", type=positive(float), help="default 0.1 (sgd) or 0.01 (adam)")
    p.add_argument("--batch-size", type=positive(int), default=None,
                   help="default 100 for mnist, 50 for the toy sets")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=positive(int), help="train this many epochs")
    length.add_argument("--iters", type=positive(int),
                        help="train this many iterations (default 1000 for mnist, 2000 for toys)")
    p.add_argument("--samples", type=positive(int), default=400,
                   help="size of a toy data set (default 400)")
    p.add_argument("--noise", type=float, default=0.0, help="noise of a toy data set")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--layer", type=positive(int), default=1,
                   help="weights: which Dense layer (default 1)")
    p.add_argument("-n", type=positive(int), default=25, help="mistakes: how many (default 25)")
    p.add_argument("--every", type=positive(int),
                   help="layers: steps between records (default: 100 records)")
    p.add_argument("--out", metavar="FILE", help="the PNG to write (default show_KIND.png)")
    p.add_argument("--data-dir", help="folder with the MNIST files")
    return p


def _data(args, n_in: int):
    """``(x, d)``: what to train on and show. MNIST: the training set to train, the test set
    to show; a toy set: the same points for both."""
    name = args.dataset or ("mnist" if n_in in (None, 784) else None)
    if name is None:
        raise ShowError(f"zerodl show: --dataset is needed with a model of {n_in} inputs; choose "
                        f"one of {', '.join(TOY_DATASETS.names())}")
    if name == "mnist":
        (x_train, d_train), (x_test, d_test) = load_mnist(data_dir=args.data_dir)
        return name, (x_train, d_train), (x_test, d_test)
    x, d = make_toy(name, args.samples, noise=args.noise, seed=args.seed)
    return name, (x, d), (x, d)


def _check_sizes(sizes: list[int], dataset: str, what: str) -> None:
    n_in, n_out = (784, 10) if dataset == "mnist" else (2, 2)
    text = "-".join(map(str, sizes))
    if sizes[0] != n_in or sizes[-1] != n_out:
        raise ShowError(f"zerodl show: {what} must have {n_in} inputs and {n_out} outputs for "
                        f"{dataset}; got {text}")


def run(args) -> int:
    """Run ``zerodl show`` with parsed ``args``."""
    out = args.out or f"show_{args.kind}.png"
    check_output_path("--out", out)                 # before the data and the drawing
    model = load(args.model) if args.model else None
    n_in = model.n_in if model else (args.layers or [None])[0]
    if args.kind == "boundary" and (n_in not in (None, 2) or (args.dataset or "mnist") == "mnist"):
        raise ShowError(f"zerodl show: boundary needs 2-D data (a toy --dataset, a model of 2 "
                        f"inputs); got {f'{n_in} inputs' if n_in else 'mnist'}")
    dataset, train, test = _data(args, model.n_in if model else None)
    if model:
        _check_sizes([model.n_in, model.n_out], dataset, f"the model {args.model}")
    defaults = DEFAULTS["mnist" if dataset == "mnist" else "toy"]
    if not args.model:
        sizes = args.layers or defaults["layers"]
        _check_sizes(sizes, dataset, "--layers")
        if args.activation == "step" and len(sizes) > 2:
            raise ShowError("zerodl show: --activation step has no gradient to train with; "
                            "choose another")
        init = args.init if args.init is not None else defaults["init"]
        model = mlp(sizes, activation=args.activation, init=init, seed=args.seed)
    if args.kind == "weights" and args.layer > len(model.dense):
        raise ShowError(f"zerodl show: --layer must be in 1..{len(model.dense)}, the Dense "
                        f"layers; got {args.layer}")

    stats = None
    if not args.model or args.kind == "layers":
        name = args.optimizer or defaults["optimizer"]
        lr = args.lr or (defaults["lr"] if name == defaults["optimizer"] else None)
        optimizer = OPTIMIZERS.get(name)(**({} if lr is None else {"lr": lr}))
        batch = args.batch_size or (100 if dataset == "mnist" else 50)
        steps = None if args.epochs else (args.iters or defaults["iters"])
        total = steps or args.epochs * -(-len(train[0]) // batch)
        stats = LayerStats(every=args.every or max(1, total // 100))
        model.fit(*train, epochs=args.epochs or 1, steps=steps, batch_size=batch,
                  optimizer=optimizer, verbose=0, seed=args.seed, callbacks=[stats])
        result = model.evaluate(*test)
        print(f"trained {model!r} on {dataset}: "
              + ", ".join(f"{k} {v:.4f}" for k, v in reversed(result.items())))

    x, d = test
    if args.kind == "weights":
        plot_weights(model, args.layer, path=out)
    elif args.kind == "activations":
        plot_activations(model, x[:1000], path=out)
    elif args.kind == "confusion":
        plot_confusion(model, x, d, path=out)
    elif args.kind == "mistakes":
        plot_mistakes(model, x, d, n=args.n, path=out)
    elif args.kind == "boundary":
        plot_decision_boundary(model, x, d, path=out)
    else:
        plot_layer_stats(stats, path=out)
    print(f"{args.kind} written to {out}")
    return 0
