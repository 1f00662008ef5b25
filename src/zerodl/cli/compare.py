"""``zerodl compare-optimizers``: train one MNIST network with each optimizer, plot, tabulate.

``zerodl.compare.compare_optimizers`` computes the curves; this module parses the options,
prints the progress and the table and writes the PNG.
"""
from __future__ import annotations

import argparse

from .common import (DATA_DIR_HELP, add_settings, check_outputs, given_settings, positive,
                     say_unless,
                     setting_type)
from ..tools.compare import COMPARISON, compare_optimizers, format_table, plot_comparison
from ..core.optimizers import OPTIMIZERS
from ..training.recipe import SETTINGS, RunConfig

#: The run's settings this command takes (``--train-size`` is ``n_train``).
COMPARE_SETTINGS = ["layers", "init", "epochs", "batch_size", "seed", "n_train"]


def _name_value(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--lr must be NAME=VALUE, like adam=0.002; "
                                         f"got {text!r}")
    if name.lower() not in OPTIMIZERS:
        raise argparse.ArgumentTypeError(f"--lr names an unknown optimizer {name!r}; valid "
                                         f"names are {', '.join(OPTIMIZERS.names())}")
    return name.lower(), setting_type("lr", SETTINGS["lr"])(value)


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
                   help=f"comma-separated (default: {','.join(OPTIMIZERS.names())})")
    add_settings(p, SETTINGS, COMPARE_SETTINGS, aliases={"n_train": ["--train-size"]},
                 defaults=COMPARISON)
    p.add_argument("--lr", type=_name_value, action="append", default=[], metavar="NAME=VALUE",
                   help="learning rate of one optimizer, e.g. --lr sgd=0.1 (repeatable; "
                        "default: zerodl train's rate, 0.1 for sgd and each other optimizer's own)")
    p.add_argument("--points-per-epoch", type=positive(int), default=10, metavar="N",
                   help="test-accuracy points per epoch (default: 10)")
    p.add_argument("--plot", default="optimizers.png", metavar="FILE",
                   help="PNG file for the curves (default: optimizers.png)")
    p.add_argument("--data-dir", metavar="DIR", help=DATA_DIR_HELP)
    p.add_argument("--quiet", action="store_true", help="print only the table")


def run(args) -> int:
    """Run ``zerodl compare-optimizers`` with parsed ``args``."""
    config = RunConfig(**{**COMPARISON, **given_settings(args, COMPARE_SETTINGS)})
    check_outputs(args, "--plot")          # before minutes of training
    (x_train, d_train), (x_test, d_test) = config.load_data(data_dir=args.data_dir)
    eval_every = max(1, config.steps_per_epoch(len(x_train)) // args.points_per_epoch)
    say = say_unless(args.quiet)
    sizes = "-".join(map(str, config.network()))
    say(f"comparing {', '.join(args.optimizers)}: {sizes}, init {config.init}, batch "
        f"{config.batch_size}, {config.epochs} epochs of {len(x_train)} images, seed "
        f"{config.seed}")
    results = compare_optimizers(
        args.optimizers, x_train, d_train, x_test, d_test, config=config, lrs=dict(args.lr),
        eval_every=eval_every,
        progress=lambda name, r: say(f"  {r['optimizer']}: test accuracy "
                                     f"{r['test_accuracy'][-1]:.4f} in {r['seconds']:.1f} s"))
    print(format_table(results))
    title = (f"MNIST {sizes}, init {config.init}, batch {config.batch_size}, seed "
             f"{config.seed}: the same batches for every optimizer")
    plot_comparison(results, args.plot, title=title)
    say(f"curves written to {args.plot}")
    return 0
