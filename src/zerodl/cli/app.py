"""The ``zerodl`` command: ``zerodl train``, ``zerodl evaluate MODEL``, ``zerodl gradcheck``.

Exit statuses: 0 done; 1 training diverged (or a gradient check failed); 2 a mistake in the
command line or a file, in one line on stderr, found before any long work where it can be
(output files are checked before the data is loaded); 130 stopped by Ctrl-C and 143 by
SIGTERM (128 plus the signal's number, the shell's convention, so that whoever sent the
signal sees that the run ended because of it), in both cases after writing the curves, the
model and the checkpoint. A reader of the output that goes away (``zerodl train | head -1``)
changes nothing: the run finishes, writes its files and exits with its own status (0 when it
completed), printing no more.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from . import bench as cli_bench, compare as cli_compare, coursekit as cli_coursekit
from . import playground as cli_playground, show as cli_show, sweep as cli_sweep
from . import trace as cli_trace
from . import export_onnx as cli_export_onnx
from .. import load          # zerodl.load: the public reader of model files
from ..training.callbacks import Callback
from .. import __version__
from .common import (DATA_DIR_HELP, Parser, QuietStdout, UsageError, add_settings, check_outputs,
                     given_settings, parse_layers, positive, say_unless)
from ..core.datasets import MNISTUnavailable, load_mnist
from ..core.errors import ResumeBeyondEnd
from ..tools.gradcheck import GRADIENT_CHECK_TOLERANCE, gradient_errors
from ..core.layers import ACTIVATIONS
from ..core.losses import OUTPUTS
from ..training.architectures import mlp
from ..training.recipe import SETTINGS, RunConfig
from ..tools.plotting import plot_history
from ..core.schedules import ReduceOnPlateau

# The subcommands that live in their own module: each has add_parser(subparsers) and run(args).
SUBCOMMANDS = {"trace": cli_trace, "course-kit": cli_coursekit, "compare-optimizers": cli_compare,
               "bench": cli_bench, "show": cli_show, "playground": cli_playground,
               "sweep": cli_sweep, "export-onnx": cli_export_onnx}
#: ``zerodl train``'s options: every setting of a run.
TRAIN_SETTINGS = list(SETTINGS)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="zerodl", description="Neural networks from zero on NumPy.",
                    epilog="`zerodl COMMAND --help` describes a command and its options.")
    parser.add_argument("--version", action="version", version=f"zerodl {__version__}",
                        help="print zerodl's version and exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser,
                                title="commands")
    sub.required = True

    train = sub.add_parser("train", help="train a network on MNIST (or a toy set) and plot "
                           "its accuracy curves",
                           description="Train on MNIST or a 2-D toy set (--dataset). Defaults "
                           "are the course's cell: 784-40-10, ReLU, softmax, normal init std "
                           "0.01, SGD lr 0.1, batch 100, 1000 iterations. Every setting of the "
                           "run is an option (zerodl.RunConfig's settings).")
    add_settings(train, SETTINGS, TRAIN_SETTINGS, exclusive=("epochs", "iters"))
    train.add_argument("--eval-every", type=positive(int),
                       help="iterations between points of the curves (default: 40 points)")
    train.add_argument("--plot", default="mnist_accuracy.png", metavar="FILE",
                       help="PNG file for the curves (default: mnist_accuracy.png)")
    train.add_argument("--save", metavar="FILE", help="save the trained model (.npz)")
    train.add_argument("--data-dir", metavar="DIR", help=DATA_DIR_HELP)
    train.add_argument("--quiet", action="store_true", help="print only the final result")
    train.add_argument("--checkpoint", metavar="FILE",
                       help="write the training state to FILE at every epoch end and on Ctrl-C")
    train.add_argument("--resume", metavar="FILE",
                       help="continue the run saved in FILE (give the same options as the first "
                            "time); checkpoints keep going to FILE unless --checkpoint says "
                            "otherwise")

    evaluate = sub.add_parser("evaluate", help="test accuracy and loss of a saved model on MNIST")
    evaluate.add_argument("model", help="a file written by zerodl train --save or model.save")
    evaluate.add_argument("--data-dir", metavar="DIR", help=DATA_DIR_HELP)

    check = sub.add_parser("gradcheck", help="check backpropagation against finite differences")
    check.add_argument("--layers", type=parse_layers, default="5-4-3", metavar="SIZES",
                       help="layer sizes of the network checked, joined by '-'")
    check.add_argument("--activation", default="sigmoid", choices=ACTIVATIONS.names(),
                       metavar="NAME", help="activation of the hidden layers; one of "
                       + ", ".join(ACTIVATIONS.names()))
    check.add_argument("--output", default="softmax", choices=OUTPUTS.names(), metavar="NAME",
                       help="output layer and its loss; one of " + ", ".join(OUTPUTS.names()))
    check.add_argument("--samples", type=positive(int), default=4, metavar="N",
                       help="random input samples the loss is averaged over")
    check.add_argument("--seed", type=int, default=0, metavar="N",
                       help="seed of the weights and the samples")
    for module in SUBCOMMANDS.values():
        module.add_parser(sub)
    return parser


class _LearningRateOverride(Callback):
    """``--lr`` given with ``--resume``: train at the command line's rate, not the checkpoint's.

    ``fit(resume=...)`` restores the optimizer as it was (its ``lr`` included); this runs
    after that, on train begin, once the schedule (if any) has continued from its saved
    state. An epoch-indexed schedule gets ``--lr`` as its base rate, so its curve goes on
    from there; ``plateau`` and no schedule get it as the current rate.
    """

    def __init__(self, lr: float, optimizer, schedule, say) -> None:
        super().__init__()
        self.lr, self.optimizer, self.schedule, self.say = lr, optimizer, schedule, say

    def on_train_begin(self, logs=None):
        if self.schedule is None or isinstance(self.schedule, ReduceOnPlateau):
            saved, self.optimizer.lr = self.optimizer.lr, self.lr
        else:
            saved, self.schedule.base_lr = self.schedule.base_lr, self.lr
            self.optimizer.lr = self.schedule.lr_at(self.schedule.epoch)
        if saved != self.lr:
            self.say(f"--lr {self.lr:g} replaces the checkpoint's learning rate {saved:g}")


def _check_train_args(args) -> None:
    """Every file ``zerodl train`` reads or writes, checked before minutes of data loading
    and training (the settings were checked by ``RunConfig``)."""
    if args.resume and not os.path.isfile(os.path.expanduser(args.resume)):
        raise UsageError(f"--resume: checkpoint not found: {args.resume}")
    check_outputs(args, "--plot", "--save", "--checkpoint")
    if args.resume and not args.checkpoint:
        check_outputs(args, "--resume")            # the run's checkpoints go on there
    _check_distinct(args, "--plot", "--save", "--checkpoint" if args.checkpoint else "--resume")


def _network_words(config) -> str:
    """The network in a few words for a figure's title: its sizes or family, and day 2's
    cures when they are on."""
    if config.arch != "mlp":
        return config.arch
    words = [f"{'-'.join(map(str, config.network()))} {config.activation}, init {config.init}"]
    if config.batch_norm:
        words.append("batch norm")
    if config.dropout:
        words.append(f"dropout {config.dropout:g}")
    if config.weight_decay:
        words.append(f"weight decay {config.weight_decay:g}")
    return ", ".join(words)


def _write_results(args, config, model, history, optimizer, say) -> list[str]:
    """Write the model (``--save``) and the curves (``--plot``); the model first, the most
    costly to lose, and a failed write does not stop the next one. Returns what was
    written ("the model", "the curves"), for the messages that follow."""
    title = (f"{config.dataset if config.toy else 'MNIST'} {_network_words(config)}, "
             f"{optimizer}, batch {config.batch_size}")
    writes = []
    if args.save:
        writes.append((lambda: model.save(args.save), f"model saved to {args.save}",
                       "the model"))
    if history.epoch or history.steps.get("step"):  # an early Ctrl-C may leave nothing to draw
        writes.append((lambda: plot_history(history, args.plot, title=title),
                       f"curves written to {args.plot} (loss and accuracy on all the "
                       f"training and test data at each point, with the weights of that "
                       f"moment: not the bars' running means over an epoch's batches)",
                       "the curves"))
    failed, written = [], []
    for write, done, what in writes:
        try:
            write()
            say(done)
            written.append(what)
        except (OSError, ValueError) as exc:
            failed.append(exc)
    for exc in failed[:-1]:
        print(f"zerodl train: {' '.join(str(exc).split())}", file=sys.stderr)
    if failed:
        raise failed[-1]
    return written


def cmd_train(args) -> int:
    say = say_unless(args.quiet)
    config = RunConfig(**given_settings(args, TRAIN_SETTINGS))
    _check_train_args(args)
    model, optimizer = config.build_model(), config.build_optimizer()
    schedule = config.build_schedule()
    data = config.load_data(data_dir=args.data_dir, mnist_loader=load_mnist)
    n = len(data[0][0])
    total = config.total_steps(n)
    eval_every = args.eval_every or max(1, total // 40)
    if not args.quiet:
        model.summary()
        say(f"training on {n} {'points of ' + config.dataset if config.toy else 'images'}: "
            f"{optimizer}, batch {config.batch_size}, {total} iterations "
            f"({total / config.steps_per_epoch(n):.2f} epochs)"
            f"{f', resuming the run in {args.resume}' if args.resume else ''}")
    start = time.perf_counter()
    counter = _CountSteps()
    callbacks = [counter]
    if args.resume and config.lr is not None:
        callbacks.append(_LearningRateOverride(config.lr, optimizer, schedule, say))
    try:
        history = config.fit(model, optimizer, data=data, schedule=schedule,
                             verbose=0 if args.quiet else 1, eval_every=eval_every,
                             checkpoint=args.checkpoint or args.resume, resume=args.resume,
                             callbacks=callbacks)
    except ResumeBeyondEnd as exc:
        # The library's words are epochs/steps; here the run's length is --epochs/--iters.
        option = "--epochs" if config.epochs else "--iters"
        raise UsageError(f"{option} must count the whole run when resuming: {exc.path} already "
                         f"holds {exc.done_steps:,} iterations (epoch {exc.done_epoch}), and "
                         f"{option} {config.epochs or total} asks for "
                         f"{exc.asked_steps:,}; nothing was trained or written") from None
    seconds = time.perf_counter() - start
    result = model.evaluate(*data[1])
    scores = ", ".join(f"test {name} {value:.4f}" for name, value in reversed(result.items()))
    print(f"{scores} after {_what_ran(history, counter.steps, total, args.resume)} "
          f"in {seconds:.1f} s")
    if args.resume and not counter.steps and not history.interrupted:
        print(f"zerodl train: nothing was trained: the checkpoint {args.resume} already holds "
              f"{history.n_steps:,} iterations and this run asks for {total:,}; the model, "
              f"curves and scores are the checkpoint's", file=sys.stderr)
    written = _write_results(args, config, model, history, optimizer, say)
    if history.interrupted:
        # fit stopped after a whole batch and kept everything: report it as an interruption,
        # naming only what was really written (no curves before the first point).
        by = "SIGTERM" if history.signal == "SIGTERM" else "Ctrl-C"
        if args.checkpoint or args.resume:
            written.append("the checkpoint")
        held = (", ".join(written[:-1]) + " and " + written[-1] if len(written) > 1
                else "".join(written))
        print(f"zerodl train: interrupted by {by}; "
              + (f"{held} hold the training done so far" if written
                 else "nothing was written (nothing had been recorded yet)"),
              file=sys.stderr)
        return 143 if history.signal == "SIGTERM" else 130
    return 0


def _check_distinct(args, *options: str) -> None:
    """Two outputs on one file would overwrite each other (the model over the checkpoint)."""
    seen: dict[str, str] = {}
    for option in options:
        value = getattr(args, option.lstrip("-"))
        if value is None:
            continue
        real = os.path.realpath(os.path.expanduser(value))
        if real in seen:
            raise UsageError(f"{option} must name another file than {seen[real]}; got {value} "
                             f"for both (one would overwrite the other)")
        seen[real] = option


class _CountSteps(Callback):
    """Counts the updates that this ``fit`` call made (a resumed run's earlier ones aside)."""

    def __init__(self) -> None:
        super().__init__()
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1


def _what_ran(history, ran: int, total: int, resume: str | None) -> str:
    """The iterations actually done, from the ``History``, not the ones asked for:
    ``"an interrupted run: 1,026 of 300,000 iterations"``, ``"1,000 iterations"``, and for a
    resumed run ``"... (400 in this run, resumed from ck.npz)"``."""
    done = history.n_steps
    if history.interrupted:
        text = f"an interrupted run: {done:,} of {total:,} iterations"
    else:
        text = f"{done:,} iterations"
    if resume:
        text += f" ({ran:,} in this run, resumed from {resume})"
    return text


def cmd_evaluate(args) -> int:
    model = load(args.model)
    one_hot = model.output.name != "softmax"
    _, (x_test, d_test) = load_mnist(one_hot_label=one_hot, data_dir=args.data_dir)
    result = model.evaluate(x_test, d_test)
    print(f"{args.model}: {model!r}")
    print(" ".join(f"test {k} {v:.4f}" for k, v in result.items()))
    return 0


def cmd_gradcheck(args) -> int:
    if args.activation == "step":
        raise UsageError("--activation step has no gradient to check; choose another")
    model = mlp(args.layers, activation=args.activation, output=args.output, init="xavier",
                seed=args.seed, dtype=np.float64)
    rng = np.random.default_rng(args.seed)
    x = rng.standard_normal((args.samples, args.layers[0]))
    k = args.layers[-1]
    if args.output == "softmax":
        d = rng.integers(0, k, args.samples)
    elif args.output == "sigmoid":
        d = rng.integers(0, 2, (args.samples, k)).astype(float)
    else:
        d = rng.standard_normal((args.samples, k))
    errors = gradient_errors(model, x, d)
    print(f"gradient check of {model!r}, {args.activation}, {args.samples} samples "
          f"(relative error, backprop vs central differences):")
    for key, err in errors.items():
        print(f"  {key:<4} {err:.2e}  {'ok' if err < GRADIENT_CHECK_TOLERANCE else 'MISMATCH'}")
    worst = max(errors.values())
    agrees = worst < GRADIENT_CHECK_TOLERANCE
    print(f"max {worst:.2e}: {'backpropagation agrees' if agrees else 'MISMATCH'} "
          f"(tolerance {GRADIENT_CHECK_TOLERANCE:.0e})")
    return 0 if agrees else 1


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "gradcheck": cmd_gradcheck}
COMMANDS.update({name: module.run for name, module in SUBCOMMANDS.items()})


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    stdout = sys.stdout
    if stdout is None:                     # no console at all (pythonw): nothing to guard
        return _main(argv)
    sys.stdout = QuietStdout(stdout)       # a closed pipe must not end a run (QuietStdout)
    try:
        return _main(argv)
    finally:
        sys.stdout.flush()
        sys.stdout = stdout


def _main(argv: list) -> int:
    debug = "--debug" in argv
    parser = build_parser()
    if not [arg for arg in argv if arg != "--debug"]:
        # No command: the usage and the list of commands, as a mistake (exit status 2).
        parser.print_help(sys.stderr)
        return 2
    # Every error reads "zerodl COMMAND: ...", even one the top parser finds (an unknown
    # option after the command).
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    who = f"zerodl {command}" if command in COMMANDS else "zerodl"
    try:
        args = parser.parse_args(argv)
        return COMMANDS[args.command](args)
    except KeyboardInterrupt as exc:    # one exit status per signal, as train's
        if getattr(exc, "signal", None) == "SIGTERM":
            print(f"{who}: terminated (SIGTERM)", file=sys.stderr)
            return 143
        print(f"{who}: interrupted", file=sys.stderr)
        return 130
    except MNISTUnavailable as exc:     # its message lists every source tried, one per line
        if debug:
            raise
        print(f"{who}: {exc}", file=sys.stderr)
        return 2
    except ArithmeticError as exc:      # zerodl.TrainingDiverged: not a usage error
        if debug:
            raise
        print(f"{who}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except (UsageError, ValueError, TypeError, FileNotFoundError, OSError) as exc:
        if debug:
            raise
        message = " ".join(str(exc).split())
        if message.startswith("zerodl: "):      # the top parser's, about the command's options
            message = message[len("zerodl: "):]
        if not message.startswith("zerodl"):    # a command's parser names itself already
            message = f"{who}: {message}"
        print(message, file=sys.stderr)
        return 2
