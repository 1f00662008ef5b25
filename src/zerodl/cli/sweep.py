"""``zerodl sweep``: a grid of training settings times seeds, with a table and a plot."""
from __future__ import annotations

import argparse
import sys

from ..core.extras import install_hint
from .common import (UsageError, add_settings, check_distinct, check_outputs, given_settings,
                     positive)
from ..tools.sweeps import GRID_SETTINGS, PRESETS, sweep
from ..training.recipe import SETTINGS


def _value(name: str, text: str):
    """The text of one value of setting ``name``, read by its rule (``"none"``: None); a
    text the rule cannot read stays text, and the sweep's check refuses it by its place."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"{name} must have a value; got an empty one")
    return SETTINGS[name].rule.parse(text.strip())


def _split(option: str, text: str) -> tuple[str, str]:
    name, sep, values = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"must be NAME=VALUES, like lr=0.05,0.1; got "
                                         f"{text!r}")
    if name not in GRID_SETTINGS:
        raise argparse.ArgumentTypeError(f"unknown setting {name!r}; valid names are "
                                         f"{', '.join(GRID_SETTINGS)}")
    return name, values


def _grid(text: str) -> tuple[str, list]:
    name, values = _split("--grid", text)
    return name, [_value(name, v) for v in values.split(",")]


def _set(text: str) -> tuple[str, object]:
    name, value = _split("--set", text)
    return name, _value(name, value)


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
                   help=f"a setting and its values (repeatable); names: {', '.join(GRID_SETTINGS)}")
    p.add_argument("--preset", choices=list(PRESETS),
                   help="the course's try-it lists: " + "; ".join(
                       f"{k}: " + " x ".join(f"{name}={','.join(map(str, values))}"
                                             for name, values in grid.items())
                       for k, grid in PRESETS.items()))
    p.add_argument("--set", type=_set, action="append", default=[], metavar="NAME=VALUE",
                   help="fix a setting for every run (repeatable)")
    add_settings(p, SETTINGS, ["layers", "iters", "epochs"], exclusive=("iters", "epochs"))
    add_settings(p, SETTINGS, ["dataset"])
    p.add_argument("--seeds", type=_seeds, metavar="S1,S2",
                   help="seeds of each setting (default: 0, or 0,1,2 with --preset)")
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
                   help="measure 8 course runs serially vs on --workers (default: 2) processes")


def run(args) -> int:
    if args.bench:
        try:
            from ..tools.benchmarks.sweep_bench import format_report, run_benchmark
            import distributed  # noqa: F401
        except ImportError:
            raise UsageError(f"zerodl sweep: --bench needs Dask: {install_hint('dask')}") \
                from None
        if args.grid or args.preset or args.scheduler:
            raise UsageError("zerodl sweep: --bench takes only --workers and --iters")
        print(format_report(run_benchmark(workers=args.workers or 2,
                                          iters=getattr(args, "iters", None) or 1000)))
        return 0
    grid: dict = dict(PRESETS.get(args.preset, {}))
    for name, values in args.grid:
        if name in grid:
            raise UsageError(f"zerodl sweep: {name} is given twice (in --grid or --preset)")
        grid[name] = values
    if not grid:
        raise UsageError("zerodl sweep: give at least one --grid NAME=V1,V2 or a --preset")
    base = dict(args.set)
    for name, value in given_settings(args, ["layers", "iters", "epochs"]).items():
        if name in base:
            raise UsageError(f"zerodl sweep: {name} is given twice (--{name} and --set)")
        base[name] = value
    dataset = getattr(args, "dataset", SETTINGS["dataset"].default)
    seeds = args.seeds or ([0, 1, 2] if args.preset else [0])
    check_distinct(args, "--out", "--csv", "--plot")
    check_outputs(args, "--plot", "--csv")          # before the runs
    check_outputs(args, "--out", make_parents=True)     # the sweep creates its folder
    try:
        result = sweep(grid, base=base, dataset=dataset, seeds=seeds,
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
        title = f"{args.preset or 'sweep'} on {dataset}, seeds {','.join(map(str, seeds))}"
        result.plot(args.plot, title=title)
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0
