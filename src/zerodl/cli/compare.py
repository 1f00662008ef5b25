"""``zerodl compare-optimizers``: train one MNIST network with each optimizer, plot, tabulate.

``zerodl.compare.compare_optimizers`` computes the curves; this module parses the options,
prints the progress and the table and writes the PNG.
"""
from __future__ import annotations

import argparse

from .common import UsageError, check_outputs, parse_init, parse_layers, positive, say_unless
from ..tools.compare import compare_optimizers, format_table, plot_comparison
from ..core.datasets import load_mnist
from ..core.optimizers import OPTIMIZERS


def _name_value(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    try:
        if not sep:
            raise ValueError
        lr = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--lr must be NAME=VALUE, like adam=0.002; "
                                         f"got {text!r}") from None
    if name.lower() not in OPTIMIZERS:
        raise argparse.ArgumentTypeError(f"--lr names an unknown optimizer {name!r}; valid "
                                         f"names are {', '.join(OPTIMIZERS.names())}")
    if not lr > 0:
        raise argparse.ArgumentTypeError(f"--lr must be > 0; got {text!r}")
    return name.lower(), lr


def _names(text: str) -> list[str]:
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in OPTIMIZERS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"--optimizers must list names from "
                                         f"{','.join(OPTIMIZERS.names())}; got {text!r}")
    return names


def add_parser(subparsers) -> None:
    """Register ``zerodl compare-optimizers``."""
    p = subparsers.add_parser(
        "compare-optimizers", help="train the same MNIST network with each optimizer and "
        "plot their curves", description="Train the same network (same seed, same batches) "
        "with each optimizer on MNIST; write the loss and test-accuracy curves to one PNG "
        "and print a table of final accuracy and training time.")
    p.add_argument("--optimizers", type=_names, default=OPTIMIZERS.names(), metavar="NAMES",
                   help=f"comma-separated (default {','.join(OPTIMIZERS.names())})")
    p.add_argument("--epochs", type=positive(int), default=3, help="(default 3)")
    p.add_argument("--layers", type=parse_layers, default=[784, 100, 10], metavar="SIZES",
                   help="layer sizes joined by '-' (default 784-100-10)")
    p.add_argument("--init", type=parse_init, default="he", help="(default he)")
    p.add_argument("--batch-size", type=positive(int), default=100)
    p.add_argument("--lr", type=_name_value, action="append", default=[], metavar="NAME=VALUE",
                   help="learning rate of one optimizer, e.g. --lr sgd=0.1 (repeatable; "
                        "default: each optimizer's own)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-size", type=positive(int), metavar="N",
                   help="train on the first N training images only (quick tries)")
    p.add_argument("--points-per-epoch", type=positive(int), default=10,
                   help="test-accuracy points per epoch (default 10)")
    p.add_argument("--plot", default="optimizers.png", metavar="FILE",
                   help="PNG file for the curves (default optimizers.png)")
    p.add_argument("--data-dir", help="folder with the MNIST files")
    p.add_argument("--quiet", action="store_true", help="print only the table")


def run(args) -> int:
    """Run ``zerodl compare-optimizers`` with parsed ``args``."""
    if args.layers[0] != 784 or args.layers[-1] != 10:
        raise UsageError(f"--layers must run from 784 inputs to 10 outputs for MNIST; got "
                         f"{'-'.join(map(str, args.layers))}")
    check_outputs(args, "--plot")          # before minutes of training
    (x_train, d_train), (x_test, d_test) = load_mnist(data_dir=args.data_dir)
    if args.train_size:
        x_train, d_train = x_train[:args.train_size], d_train[:args.train_size]
    per_epoch = -(-len(x_train) // args.batch_size)
    eval_every = max(1, per_epoch // args.points_per_epoch)
    say = say_unless(args.quiet)
    say(f"comparing {', '.join(args.optimizers)}: {'-'.join(map(str, args.layers))}, init "
        f"{args.init}, batch {args.batch_size}, {args.epochs} epochs of {len(x_train)} "
        f"images, seed {args.seed}")
    results = compare_optimizers(
        args.optimizers, x_train, d_train, x_test, d_test, layers=args.layers, init=args.init,
        epochs=args.epochs, batch_size=args.batch_size, lrs=dict(args.lr), seed=args.seed,
        eval_every=eval_every,
        progress=lambda name, r: say(f"  {r['optimizer']}: test accuracy "
                                     f"{r['test_accuracy'][-1]:.4f} in {r['seconds']:.1f} s"))
    print(format_table(results))
    title = (f"MNIST {'-'.join(map(str, args.layers))}, init {args.init}, batch "
             f"{args.batch_size}, seed {args.seed}: the same batches for every optimizer")
    plot_comparison(results, args.plot, title=title)
    say(f"curves written to {args.plot}")
    return 0
