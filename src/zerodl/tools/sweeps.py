"""Sweeps: every variation of an experiment, several seeds each, in one call.

``sweep({"init": [0.01, "xavier", "he"], "lr": [0.05, 0.1]}, seeds=(0, 1, 2))`` trains the
product of the grid's values times the seeds (here 3 x 2 x 3 = 18 runs) and gathers one
record per run. The settings are those of ``RunConfig`` (its rules, defaults and messages),
and a run is ``RunConfig``'s training: a pure function of its settings and its seed
(``run_one``), since the weights, the batch order and a toy data set's training and test
draws all come from the seed, so its numbers are
bit-identical wherever it runs: in this process, on local worker processes or on a Dask
cluster, provided BLAS uses one thread there too (a matrix product split over several
threads may add in another order).

Records go, as they finish, to a JSON-lines file (``out=``), one line each, flushed and
fsynced; a later call with the same file skips the (config, seed) pairs already there, so an
interrupted sweep continues where it stopped. Only the calling process writes the file, so a
run recomputed after a lost worker is still recorded once.

The module is a tool: it trains through ``RunConfig``, leaves the table and the plot to
``sweep_results.Sweep``, and imports Dask only when asked to run on it.
"""
from __future__ import annotations

import contextlib
import itertools
import json
import math
import numbers
import os
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..core._checks import check_int
from ..core._fileio import check_output_path
from ..core.errors import Interrupted, TrainingDiverged
from ..core.extras import install_hint
from ..training.callbacks import Callback
from ..training.recipe import SETTINGS, RunConfig
from .sweep_file import append, hold, read_records
from .sweep_results import Sweep

#: The settings a grid or base may name: a run's settings (``RunConfig``) but the data set
#: (``dataset=``) and the seed (``seeds=``), which sweep() takes on their own.
GRID_SETTINGS = [name for name in SETTINGS if name not in ("dataset", "seed")]
#: Points of the training curve of each run (means of the batch losses over equal windows).
CURVE_POINTS = 20
#: BLAS at one thread: set in every worker process before NumPy loads.
SINGLE_THREAD_ENV = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                            "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                                            "NUMEXPR_NUM_THREADS")}
SERIAL_WORKER = "local"
#: The most runs (configs x seeds) one sweep makes: counted before the grid is expanded.
MAX_RUNS = 10_000

#: The course's "try it" variations of its MNIST network (784-40-10, ReLU, init 0.01, SGD
#: lr 0.1, batch 100, 1000 iterations), each as a grid over the course's settings.
PRESETS: dict[str, dict[str, list]] = {
    "course-init": {"init": [0.01, "xavier", "he"], "activation": ["relu", "sigmoid"]},
    "course-lr": {"lr": [0.01, 0.05, 0.1, 0.5]},
    "course-batch": {"batch_size": [10, 50, 100, 500]},
    "course-hidden": {"layers": ["784-10-10", "784-40-10", "784-100-10", "784-300-10"]},
    # Day 2: 784-100x6-10 overfits 300 images; weight decay x dropout, the gap in the table.
    "overfit": {"weight_decay": [0.0, 0.1], "dropout": [0.0, 0.2],
                "layers": ["784-100-100-100-100-100-100-10"], "n_train": [300], "epochs": [100],
                "init": ["he"], "lr": [0.05]},
}


def dataset_names() -> list[str]:
    return SETTINGS["dataset"].rule.names()


def _check_names(what: str, mapping: Mapping) -> None:
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{what} must be a dict of settings; got {mapping!r}.")
    for key in mapping:
        if key not in GRID_SETTINGS:
            raise ValueError(f"{what} has an unknown setting {key!r}; valid names are: "
                             f"{', '.join(GRID_SETTINGS)}.")


def _checked(name: str, value: Any, where: str) -> Any:
    """``value`` of setting ``name`` as JSON, checked by its rule; ``where`` names it."""
    rule = SETTINGS[name].rule
    try:
        return rule.to_json(rule.check(where, value))
    except TypeError as exc:             # one kind of error, as RunConfig
        raise ValueError(str(exc)) from None


def _config(settings: dict, where: str) -> dict:
    """The run's settings, complete and checked together, as ``record["config"]``: the
    resolved ``RunConfig`` without its seed."""
    try:
        config = RunConfig(**settings).resolved().to_dict()
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    del config["seed"]
    return config


def expand(grid: Mapping[str, Sequence], base: Mapping | None = None,
           dataset: str = "mnist") -> list[dict]:
    """The full settings of every config of the grid, in the grid's order, all checked.

    Nothing runs: an unknown name or a bad value raises here, naming the entry. A base
    setting is named as in ``RunConfig`` (``lr``), a grid value by its place
    (``grid['lr'][1]``).
    """
    dataset = _checked("dataset", dataset, "dataset")
    base = {} if base is None else base
    _check_names("base", base)
    _check_names("grid", grid)
    fixed = {"dataset": dataset}
    for key, value in base.items():
        if key in grid:
            raise ValueError(f"{key!r} is both in grid and in base; keep it in one of them.")
        fixed[key] = _checked(key, value, key)
    axes = []
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise TypeError(f"grid[{key!r}] must be a list of values; got {values!r}.")
        values = list(values)
        if not values:
            raise ValueError(f"grid[{key!r}] must list at least one value; got [].")
        checked = [_checked(key, v, f"grid[{key!r}][{i}]") for i, v in enumerate(values)]
        seen = [json.dumps(v) for v in checked]
        if len(set(seen)) != len(seen):
            raise ValueError(f"grid[{key!r}] must not repeat a value; got {values!r}.")
        axes.append([(key, v) for v in checked])
    _check_count([len(axis) for axis in axes], 1)
    configs = []
    for combo in itertools.product(*axes):
        where = "config " + ", ".join(f"{k}={v!r}" for k, v in combo) if combo else "base"
        configs.append(_config({**fixed, **dict(combo)}, where))
    return configs


def _check_count(sizes: list[int], n_seeds: int) -> None:
    """Count the runs before making any: a grid is expanded only when it is bounded."""
    runs = math.prod(sizes) * n_seeds
    if runs > MAX_RUNS:
        shown = " x ".join(map(str, sizes)) or "1"
        raise ValueError(f"grid must make at most {MAX_RUNS:,} runs (configs x seeds); got "
                         f"{runs:,} ({shown} configs x {n_seeds} seed"
                         f"{'s' if n_seeds != 1 else ''}).")


def current(config: Mapping, seed: int) -> dict:
    """A record's ``config`` in today's form: a record written before a setting was added
    lacks it; it takes its default, as the run did."""
    return _config({**config, "seed": seed}, "record")


def _check_seeds(seeds: Any) -> list[int]:
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        seeds = [seeds]
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds must be a list of integers >= 0; got {seeds!r}.")
    seeds = [check_int(f"seeds[{i}]", s, minimum=0) for i, s in enumerate(seeds)]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct integers >= 0, at least one; got {seeds!r}.")
    return seeds


def run_key(config: Mapping, seed: int) -> str:
    """The identity of a run: its settings and seed as canonical JSON."""
    return json.dumps({"config": config, "seed": seed}, sort_keys=True)


# --------------------------------------------------------------------------- one run

class _Curve(Callback):
    """Mean batch loss (and accuracy) over windows of ``every`` steps: a cheap curve."""

    def __init__(self, every: int) -> None:
        super().__init__()
        self.every = every
        self.points: dict[str, list] = {"step": [], "loss": []}
        self._sums: dict[str, float] = {}
        self._size = 0

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        size = logs["size"]
        for key in ("loss", "accuracy"):
            if key in logs:
                self._sums[key] = self._sums.get(key, 0.0) + logs[key] * size
        self._size += size
        if logs["step"] % self.every == 0:
            self._flush(logs["step"])
        self._last = logs["step"]

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._size:                  # the last, shorter window
            self._flush(self._last)

    def _flush(self, step: int) -> None:
        self.points["step"].append(step)
        for key, total in self._sums.items():
            self.points.setdefault(key, []).append(total / self._size)
        self._sums, self._size = {}, 0


def load_data(config: Mapping, seed: int):
    """``((x_train, d_train), (x_test, d_test))`` of a run: ``RunConfig.load_data``."""
    return RunConfig.from_dict({**config, "seed": seed}).load_data()


def _worker_name() -> str:
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):   # not inside a Dask task
        return SERIAL_WORKER


def run_one(config: Mapping, seed: int) -> dict:
    """Train one config with one seed; return its record.

    ``{"config", "seed", "history" (fit's per-epoch lists and "epoch"), "curve" (mean
    training loss and accuracy every ~1/20 of the run, with "step"), "test" (loss and
    accuracy on the test set), "seconds", "worker"}``. A run that diverges is recorded with
    ``"error"`` and a test of ``None`` values instead of stopping the sweep.
    """
    with one_blas_thread():
        return _run(config, seed)


def one_blas_thread():
    """A context in which NumPy's BLAS uses one thread, when ``threadpoolctl`` is installed.

    A matrix product split over several threads may add in another order and so differ in
    the last bits; one thread everywhere makes a run's numbers the same in any process.
    Without ``threadpoolctl`` only the environment (``OPENBLAS_NUM_THREADS=1``, set for the
    workers this module starts) fixes the thread count.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _blas_pinned() -> bool:
    """Whether this process's BLAS is known to run one thread."""
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        return any(os.environ.get(name) == "1" for name in SINGLE_THREAD_ENV)
    return True


def _run(config: Mapping, seed: int) -> dict:
    start = time.perf_counter()
    run = RunConfig.from_dict({**config, "seed": seed})
    data = run.load_data()
    model = run.build_model()
    curve = _Curve(max(1, run.total_steps(len(data[0][0])) // CURVE_POINTS))
    record: dict[str, Any] = {"config": dict(config), "seed": seed}
    try:
        history = run.fit(model, run.build_optimizer(), data=data, callbacks=[curve], verbose=0)
        if history.interrupted:     # Ctrl-C: fit kept a partial run, which is not a result
            raise Interrupted(history.signal or "SIGINT")
        test = {k: float(v) for k, v in model.evaluate(*data[1]).items()}
        # the trained network on its own training set, in inference mode (dropout off)
        record["train"] = {k: float(v) for k, v in model.evaluate(*data[0]).items()}
    except TrainingDiverged as exc:
        history, test = exc.history, {"loss": None}
        if model.output.has_accuracy:
            test["accuracy"] = None
        record["error"] = " ".join(str(exc).split())
    record["history"] = {"epoch": list(history.epoch),
                         **{k: [float(v) for v in vs] for k, vs in history.history.items()}}
    record["curve"] = curve.points
    record["test"] = test
    record["seconds"] = time.perf_counter() - start
    record["worker"] = _worker_name()
    return record


# --------------------------------------------------------------------------- the results file

# ``read_records`` and the file's lock: ``sweep_file``.


# --------------------------------------------------------------------------- execution

def _have_dask() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _run_serial(todo, done):
    for config, seed in todo:
        done(run_one(config, seed))


def _run_dask(todo, done, workers: int | None, scheduler: str | None, verbose: int):
    import logging

    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        # Processes, one thread each: runs do not share a GIL, and BLAS stays at one thread.
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, env=dict(SINGLE_THREAD_ENV),
                               silence_logs=logging.WARNING if verbose > 1 else logging.ERROR)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = [client.submit(run_one, config, seed, pure=False,
                                 key=f"zerodl-run-{i}-{seed}-{time.time_ns()}")
                   for i, (config, seed) in enumerate(todo)]
        # The scheduler recomputes the runs of a lost worker; each future completes once and
        # only this process writes, so every run is recorded once.
        for future in as_completed(futures):
            done(future.result())
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _note(verbose: int, message: str) -> None:
    if verbose:
        print(f"zerodl.sweep: {message}", file=sys.stderr, flush=True)


def _use_dask(any_to_run: bool, several: bool, workers: int | None, scheduler: str | None,
              verbose: int) -> bool:
    """Whether the runs go to Dask; say why not, and what that may cost, when they don't."""
    use_dask = any_to_run and (scheduler is not None or (workers or 1) > 1)
    if use_dask and not _have_dask():
        if scheduler is not None:
            raise ImportError(f"scheduler= needs Dask: {install_hint('dask')}.")
        _note(verbose, "Dask is not installed, so the runs go one after another here; "
                       f"{install_hint('dask')}, to run them in parallel")
        use_dask = False
    elif not use_dask and several:
        _note(verbose, "the runs go one after another in this process; workers=N (with "
                       "Dask) would run them in parallel")
    if not use_dask and any_to_run and not _blas_pinned():
        _note(verbose, "NumPy's BLAS may use several threads here, which can change the last "
                       "digits; set OPENBLAS_NUM_THREADS=1 (or pip install threadpoolctl) for "
                       "numbers identical to a run on workers")
    return use_dask


def _check_place(workers: int | None, scheduler: str | None) -> int | None:
    """Check where the runs go: ``workers`` (an integer >= 1) or ``scheduler``, not both."""
    if workers is not None:
        workers = check_int("workers", workers, minimum=1)
    if scheduler is not None and not isinstance(scheduler, str):
        raise ValueError(f"scheduler must be an address like 'tcp://host:8786'; got "
                         f"{scheduler!r}.")
    if scheduler is not None and workers is not None:
        raise ValueError(f"give workers or scheduler, not both; got workers={workers!r} and "
                         f"scheduler={scheduler!r}.")
    return workers


def _done_before(out: Path | None) -> dict[str, dict]:
    """The records already in ``out`` by run key; one written before a setting was added
    counts under today's key (``current``)."""
    finished: dict[str, dict] = {}
    if out is not None:
        for record in read_records(out):
            finished.setdefault(run_key(current(record["config"], record["seed"]),
                                        record["seed"]), record)
    return finished


def sweep(grid: Mapping[str, Sequence], *, base: Mapping | None = None, dataset: str = "mnist",
          seeds: Sequence[int] = (0,), workers: int | None = None, scheduler: str | None = None,
          out: str | os.PathLike | None = None, verbose: int = 1) -> "Sweep":
    """Train every config of ``grid`` (the product of its value lists) with every seed.

    ``grid``: setting name -> list of values; ``base``: fixed settings. Names: those of
    ``RunConfig`` (``layers`` as "784-40-10" or a list, ``init``, ``lr``, ``batch_size``,
    ``epochs`` or ``iters``, ``n_train``, ...) but ``dataset`` (``"mnist"`` or a toy set's
    name, given here) and ``seed`` (``seeds``). Everything is checked before the first run.

    ``workers=N`` (N >= 2) runs on a Dask ``LocalCluster`` of N single-threaded worker
    processes; ``scheduler="tcp://host:8786"`` on an existing Dask cluster; otherwise, or
    without Dask installed, one run after another in this process. ``out``: a JSON-lines file
    that receives each finished run at once; runs already in it are not run again.
    ``verbose``: 0 silent, 1 a progress bar of finished runs.
    """
    seeds = _check_seeds(seeds)
    if isinstance(grid, Mapping):       # counted before each config is checked and made
        _check_count([len(v) if isinstance(v, Sequence) else 1 for v in grid.values()],
                     len(seeds))
    configs = expand(grid, base, dataset)
    _check_count([len(configs)], len(seeds))
    workers = _check_place(workers, scheduler)
    verbose = check_int("verbose", verbose, minimum=0)
    out = None if out is None else check_output_path("out", out, make_parents=True)
    runs = [(config, seed) for config in configs for seed in seeds]
    keys = [run_key(config, seed) for config, seed in runs]
    with hold(out) if out is not None else contextlib.nullcontext() as handle:
        finished = _done_before(out)
        todo = [run for run, key in zip(runs, keys) if key not in finished]
        if len(todo) < len(runs):
            _note(verbose, f"{len(runs) - len(todo)} of {len(runs)} runs already in {out}; "
                           f"running the other {len(todo)}")
        workers = _cap_workers(workers, len(todo), verbose)
        use_dask = _use_dask(bool(todo), len(todo) > 1, workers, scheduler, verbose)
        _run_all(todo, finished, handle, use_dask, workers, scheduler, verbose, len(runs))
    return Sweep([finished[key] for key in keys], list(grid))


def _cap_workers(workers: int | None, n_runs: int, verbose: int) -> int | None:
    """No more workers than runs; a note when more than the machine's cores."""
    if workers is None or workers <= 1:
        return workers
    if n_runs and workers > n_runs:
        _note(verbose, f"workers={workers} is more than the {n_runs} runs; using {n_runs}")
        workers = n_runs
    cores = os.cpu_count()
    if cores and workers > cores:
        _note(verbose, f"workers={workers} is more than this machine's {cores} cores: the "
                       f"runs will share them and each go slower")
    return workers


def _run_all(todo, finished, handle, use_dask, workers, scheduler, verbose, n_runs) -> None:
    """Run ``todo``, recording each finished run in ``finished`` and the file ``handle``."""
    from tqdm.auto import tqdm

    bar = tqdm(total=n_runs, initial=n_runs - len(todo), unit="run", disable=verbose < 1,
               file=sys.stderr, dynamic_ncols=True)

    def done(record: dict) -> None:
        key = run_key(record["config"], record["seed"])
        if key in finished:             # never twice, whatever a scheduler does
            return
        finished[key] = record
        if handle is not None:
            append(handle, record)
        bar.update(1)

    try:
        if use_dask:
            _run_dask(todo, done, workers, scheduler, verbose)
        else:
            _run_serial(todo, done)
    finally:
        bar.close()
