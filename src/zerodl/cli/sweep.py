"""``zerodl sweep``: a grid of training settings times seeds, with a table and a plot."""
from __future__ import annotations

import argparse
import sys

from .common import UsageError, check_outputs, positive
from ..tools.sweeps import DEFAULTS, PRESETS, dataset_names, sweep

#: How the text of each setting is read; ``None`` from the word "none".
_INT, _FLOAT, _TEXT = "an integer", "a number", "a word"
TYPES = {"layers": _TEXT, "activation": _TEXT, "output": _TEXT, "init": _TEXT,
         "optimizer": _TEXT, "lr": _FLOAT, "batch_size": _INT, "epochs": _INT, "iters": _INT,
         "lr_schedule": _TEXT, "clip_norm": _FLOAT, "n_train": _INT, "n_test": _INT,
         "noise": _FLOAT}
assert set(TYPES) == set(DEFAULTS)


def _value(option: str, name: str, text: str):
    text = text.strip()
    if not text:
        raise argparse.ArgumentTypeError(f"{name} must have a value; got an empty one")
    if text.lower() == "none":
        return None
    kind = TYPES[name]
    try:
        return int(text) if kind is _INT else float(text) if kind is _FLOAT else text
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{name} must be {kind}; got {text!r}") from None


def _split(option: str, text: str) -> tuple[str, str]:
    name, sep, values = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"must be NAME=VALUES, like lr=0.05,0.1; got "
                                         f"{text!r}")
    if name not in TYPES:
        raise argparse.ArgumentTypeError(f"unknown setting {name!r}; valid names are "
                                         f"{', '.join(TYPES)}")
    return name, values


def _grid(text: str) -> tuple[str, list]:
    name, values = _split("--grid", text)
    return name, [_value("--grid", name, v) for v in values.split(",")]


def _set(text: str) -> tuple[str, object]:
    name, value = _split("--set", text)
    return name, _value("--set", name, value)


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds must be integers joined by ',', like 0,1,2; "
                                         f"got {text!r}") from None
    if min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"--seeds must be distinct integers >= 0; got {text!r}")
    return seeds


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep", help="train every combination of settings with several seeds; table + plot",
        description="Train the product of the --grid values (or a --preset of the course's "
        "try-it lists) with each seed, serially, on local worker processes (--workers, needs "
        "Dask) or on a Dask cluster (--scheduler); print one row per setting with the test "
        "accuracy's mean and spread over the seeds.")
    p.add_argument("--grid", type=_grid, action="append", default=[], metavar="NAME=V1,V2",
                   help=f"a setting and its values (repeatable); names: {', '.join(TYPES)}")
    p.add_argument("--preset", choices=list(PRESETS),
                   help="the course's try-it lists: " + "; ".join(
                       f"{k}: " + " x ".join(f"{name}={','.join(map(str, values))}"
                                             for name, values in grid.items())
                       for k, grid in PRESETS.items()))
    p.add_argument("--set", type=_set, action="append", default=[], metavar="NAME=VALUE",
                   help="fix a setting for every run (repeatable)")
    p.add_argument("--layers", metavar="SIZES", help="layer sizes joined by '-' (default "
                   "784-40-10 for MNIST, 2-16-2 for the toy sets)")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--iters", type=positive(int), help="iterations per run (default 1000)")
    length.add_argument("--epochs", type=positive(int), help="epochs per run")
    p.add_argument("--dataset", default="mnist", choices=dataset_names())
    p.add_argument("--seeds", type=_seeds, metavar="S1,S2",
                   help="seeds of each setting (default 0, or 0,1,2 with --preset)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive(int), metavar="N",
                       help="run on N local single-threaded worker processes (Dask)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on an existing Dask cluster, e.g. tcp://host:8786")
    p.add_argument("--out", metavar="FILE.jsonl",
                   help="append each finished run here; runs already in it are skipped")
    p.add_argument("--plot", metavar="FILE.png", help="curves and final accuracies as a PNG")
    p.add_argument("--csv", metavar="FILE.csv", help="one row per run as CSV")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--bench", action="store_true",
                   help="measure 8 course runs serially vs on --workers (default 2) processes")


def run(args) -> int:
    if args.bench:
        try:
            from ..tools.benchmarks.sweep_bench import format_report, run_benchmark
            import distributed  # noqa: F401
        except ImportError:
            raise UsageError("zerodl sweep: --bench needs Dask: pip install 'zerodl[dask]'") \
                from None
        if args.grid or args.preset or args.scheduler:
            raise UsageError("zerodl sweep: --bench takes only --workers and --iters")
        print(format_report(run_benchmark(workers=args.workers or 2, iters=args.iters or 1000)))
        return 0
    grid: dict = dict(PRESETS.get(args.preset, {}))
    for name, values in args.grid:
        if name in grid:
            raise UsageError(f"zerodl sweep: {name} is given twice (in --grid or --preset)")
        grid[name] = values
    if not grid:
        raise UsageError("zerodl sweep: give at least one --grid NAME=V1,V2 or a --preset")
    base = dict(args.set)
    for name in ("layers", "iters", "epochs"):
        if getattr(args, name) is not None:
            if name in base:
                raise UsageError(f"zerodl sweep: {name} is given twice (--{name} and --set)")
            base[name] = getattr(args, name)
    seeds = args.seeds or ([0, 1, 2] if args.preset else [0])
    check_outputs(args, "--plot", "--csv")          # before the runs
    check_outputs(args, "--out", make_parents=True)     # the sweep creates its folder
    try:
        result = sweep(grid, base=base, dataset=args.dataset, seeds=seeds,
                       workers=args.workers, scheduler=args.scheduler, out=args.out,
                       verbose=0 if args.quiet else 1)
    except ImportError as exc:          # --scheduler without Dask installed
        raise UsageError(f"zerodl sweep: {exc}") from None
    print(result.table())
    if args.out:
        print(f"runs recorded in {args.out}", file=sys.stderr)
    if args.csv:
        result.to_csv(args.csv)
        print(f"table of runs written to {args.csv}", file=sys.stderr)
    if args.plot:
        title = f"{args.preset or 'sweep'} on {args.dataset}, seeds {','.join(map(str, seeds))}"
        result.plot(args.plot, title=title)
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0
