"""``zerodl show KIND``: draw what a network learned, as a PNG.

On a saved model (``--model FILE``) or after a quick training run (``--dataset``): MNIST
with the course's network by default, or a 2-D toy set (``zerodl.datasets.make_toy``).
"""
from __future__ import annotations

import argparse
import os

from ..tools.conv_views import conv_layers, plot_feature_maps, plot_filters
from ..tools.inspection import (plot_activations, plot_confusion, plot_decision_boundary,
                                plot_layer_stats, plot_mistakes, plot_weights)
from ..tools.layer_stats import LayerStats
from ..training.files import load
from ..training.recipe import SETTINGS, RunConfig
from ..core._fileio import check_output_path
from ..core.errors import Interrupted
from .common import DATA_DIR_HELP, add_settings, given_settings, positive

#: The views of a convolutional network (``zerodl.tools.conv_views``).
CONV_KINDS = ("filters", "feature-maps")
KINDS = ("weights", "activations", "confusion", "mistakes", "boundary", "layers", *CONV_KINDS)
#: The run's settings this command takes (``--samples`` is ``n_train``).
SHOW_SETTINGS = ["dataset", "layers", "activation", "init", "optimizer", "lr", "batch_size",
                 "epochs", "iters", "n_train", "noise", "seed"]
#: A quick run on a toy set that learns every one of them (the course's MNIST cell is the
#: RunConfig default): settings a command line does not give. Its lr goes with its optimizer.
QUICK_TOY = {"layers": [2, 32, 32, 2], "init": "he", "optimizer": "adam", "lr": 0.01,
             "iters": 2000, "batch_size": 50}
#: The quick run of the convolution views: the book's SimpleConvNet trained as the book does
#: (Adam, lr 0.001, batch 100) for one epoch of 20000 images (200 steps, about 90%), after
#: which edges show in the filters (50 steps leave most of them noise). Its accuracy is
#: measured on 1000 test images (all 10000 take a good part of the training's time).
QUICK_CNN = {"arch": "simple-cnn", "optimizer": "adam", "lr": 0.001, "n_train": 20000,
             "epochs": 1, "n_test": 1000}


class ShowError(ValueError):
    """A command-line mistake found after parsing: one line, exit status 2."""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``zerodl show``."""
    p = subparsers.add_parser(
        "show", help="draw what a network learned (weights, activations, mistakes, ...)",
        description="Draw one view of a network as a PNG: weights (W of a layer, as images "
                    "for MNIST), activations (histograms of the hidden layers' outputs), "
                    "confusion (the confusion matrix), mistakes (the worst-classified "
                    "samples), boundary (2-D data: the decision boundary), layers (per-layer "
                    "statistics during training), filters (the first convolution's filters "
                    "before and after training), feature-maps (one test image through each "
                    "convolution). The network is a saved one (--model) or "
                    "trained now (--dataset, default mnist with the course's 784-40-10; on a "
                    "toy set 2-32-32-2, he, adam lr 0.01, batch 50, 2000 iterations; for "
                    "filters and feature-maps the book's SimpleConvNet, adam lr 0.001, one "
                    "epoch of 20000 images).")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("--model", metavar="FILE", help="a model saved by model.save / zerodl train "
                                                    "--save (for layers: trained further)")
    add_settings(p, SETTINGS, SHOW_SETTINGS, exclusive=("epochs", "iters"),
                 aliases={"n_train": ["--samples"]})
    p.add_argument("--layer", type=positive(int), default=1,
                   help="weights: which Dense layer (default: 1)")
    p.add_argument("-n", type=positive(int), default=25, help="mistakes: how many (default: 25)")
    p.add_argument("--every", type=positive(int),
                   help="layers: steps between records (default: 100 records)")
    p.add_argument("--out", metavar="FILE", help="the PNG to write (default: show_KIND.png)")
    p.add_argument("--data-dir", metavar="DIR", help=DATA_DIR_HELP)
    return p


def _config(args, n_in: int | None) -> RunConfig:
    """The run to train or to show: the command line's settings, then (on a toy set) those
    of ``QUICK_TOY``, then ``RunConfig``'s defaults."""
    given = given_settings(args, SHOW_SETTINGS)
    dataset = given.get("dataset") or ("mnist" if n_in in (None, 784) else None)
    if dataset is None:
        raise ShowError(f"zerodl show: --dataset is needed with a model of {n_in} inputs; choose "
                        f"one of {', '.join(SETTINGS['dataset'].rule.names()[1:])}")
    preset = {} if dataset == "mnist" else dict(QUICK_TOY)
    if "optimizer" in given:
        preset.pop("lr", None)
    if args.model:
        preset.pop("layers", None)      # the file's network, not a new one
    return RunConfig(**{**preset, **given, "dataset": dataset})


def run(args) -> int:
    """Run ``zerodl show`` with parsed ``args``."""
    out = args.out or f"show_{args.kind}.png"
    check_output_path("--out", out)                 # before the data and the drawing
    if args.model and os.path.realpath(out) == os.path.realpath(args.model):
        raise ShowError(f"zerodl show: --out must name another file than --model; got "
                        f"{out} for both (the picture would overwrite the model)")
    if args.kind in CONV_KINDS:
        return _show_conv(args, out)
    model = load(args.model) if args.model else None
    if model is not None and args.kind == "weights":
        return _show_weights(model, args, out)     # weights need no data, hence no --dataset
    layers = getattr(args, "layers", None)
    n_in = model.n_in if model else (layers or [None])[0]
    dataset = getattr(args, "dataset", None)
    if args.kind == "boundary" and (n_in not in (None, 2) or (dataset or "mnist") == "mnist"):
        raise ShowError(f"zerodl show: boundary needs 2-D data (a toy --dataset, a model of 2 "
                        f"inputs); got {f'{n_in} inputs' if n_in else 'mnist'}")
    config = _config(args, model.n_in if model else None)
    if model and (model.n_in, model.n_out) != config.shape():
        n_in, n_out = config.shape()
        raise ShowError(f"zerodl show: the model {args.model} must have {n_in} inputs and "
                        f"{n_out} outputs for {config.dataset}; got {model.n_in}-{model.n_out}")
    model = model or config.build_model()
    _check_layer(model, args)
    data = config.load_data(data_dir=args.data_dir)
    stats = None
    if not args.model or args.kind == "layers":
        total = config.total_steps(len(data[0][0]))
        stats = LayerStats(every=args.every or max(1, total // 100))
        history = config.fit(model, config.build_optimizer(), data=data, callbacks=[stats],
                             verbose=0)
        if history.interrupted:         # 130 or 143 as every command; no half-trained picture
            raise Interrupted(history.signal or "SIGINT")
        result = model.evaluate(*data[1])
        print(f"trained {model!r} on {config.dataset}: "
              + ", ".join(f"{k} {v:.4f}" for k, v in reversed(result.items())))

    test = data[1]
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


def _show_conv(args, out: str) -> int:
    """``filters`` and ``feature-maps``: on ``--model`` (a saved convolutional network) or
    on ``QUICK_CNN`` trained now (the command line's settings first)."""
    given = given_settings(args, SHOW_SETTINGS)
    preset = dict(QUICK_CNN)
    if "optimizer" in given:
        preset.pop("lr")
    if "epochs" in given or "iters" in given:
        preset.pop("epochs")
    config = RunConfig(**{**preset, **given})
    before = None
    if args.model:
        model = load(args.model)
        try:
            conv_layers(model)
        except ValueError as error:
            raise ShowError(f"zerodl show {args.kind}: --{error}") from None
    else:
        model = config.build_model()
        before = conv_layers(model)[0].W.copy()
    data = None
    if before is not None or args.kind == "feature-maps":
        data = config.load_data(data_dir=args.data_dir)
    if before is not None:
        config.fit(model, config.build_optimizer(), data=data, verbose=0)
        result = model.evaluate(*data[1])
        print(f"trained {config.arch} ({config.optimizer}, lr {config.learning_rate()}) on "
              f"{len(data[0][0])} images; on {len(data[1][0])} test images: "
              + ", ".join(f"{k} {v:.4f}" for k, v in reversed(result.items())))
    if args.kind == "filters":
        W = conv_layers(model)[0].W
        pairs = [(before, "before training"), (W, "after training")] if before is not None \
            else [(W, f"{args.model}")]
        plot_filters([w for w, _ in pairs], [t for _, t in pairs], path=out)
    else:
        plot_feature_maps(model, data[1][0][0], path=out)
    print(f"{args.kind} written to {out}")
    return 0


def _check_layer(model, args) -> None:
    if args.kind == "weights" and args.layer > len(model.dense):
        raise ShowError(f"zerodl show: --layer must be in 1..{len(model.dense)}, the Dense "
                        f"layers; got {args.layer}")


def _show_weights(model, args, out: str) -> int:
    """``show weights --model FILE``: drawn from the file alone."""
    _check_layer(model, args)
    plot_weights(model, args.layer, path=out)
    print(f"{args.kind} written to {out}")
    return 0
