"""Benchmark of ``zerodl.sweep``: runs one after another vs on local Dask worker processes.

Eight runs of the course network (784-40-10, ReLU, init 0.01, SGD lr 0.1, batch 100, 1000
iterations on MNIST, seeds 0..7):

- ``serial``: ``sweep(..., workers=None)``, in this process;
- ``dask``: ``sweep(..., workers=N)``, end to end (the LocalCluster's start and stop included);
- ``warm``: the same runs submitted to an already started LocalCluster of N workers;
- ``plain``: the same runs split over N plain Python processes started at once, without
  Dask: the parallel speed-up the machine allows at that moment, Dask's ceiling;
- ``overhead``: Dask's cost per run, the round trip of a near-empty run (a 2-2-2 network, one
  step on 4 points) submitted and awaited one at a time, less the same run in this process
  (median over 20).

The results of ``serial`` and ``dask`` are also compared number for number: a sweep's result
must not depend on where it ran. Needs Dask and MNIST (``$ZERODL_DATA_DIR`` or the cache).
Run it as ``OPENBLAS_NUM_THREADS=1 zerodl sweep --bench``, so that the serial runs, like each
worker, use one BLAS thread.
"""
from __future__ import annotations

import logging
import os
import statistics
import subprocess
import sys
import time

from ..sweeps import SINGLE_THREAD_ENV, expand, run_one, sweep

COURSE = {"layers": "784-40-10"}
EMPTY = {"layers": "2-2-2", "iters": 1, "batch_size": 4, "n_train": 4, "n_test": 4}


def _numbers(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("seconds", "worker")} for r in records]


def _plain_processes(workers: int, seeds: list[int], iters: int) -> float:
    """Seconds for the same runs split over ``workers`` plain Python processes started at
    once, without Dask: the parallel speed this machine allows, the ceiling for Dask."""
    code = ("import sys; from zerodl.sweeps import expand, run_one; "
            f"c = expand({{}}, base={{'layers': '784-40-10', 'iters': {iters}}})[0]; "
            "run_one(c, 0); sys.stdout.write('ready\\n'); sys.stdout.flush(); sys.stdin.read(1); "
            "[run_one(c, int(s)) for s in sys.argv[1:]]")
    env = {**os.environ, **SINGLE_THREAD_ENV}
    procs = [subprocess.Popen([sys.executable, "-c", code, *map(str, seeds[i::workers])],
                              env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
             for i in range(workers)]
    try:
        for proc in procs:                      # MNIST read, untimed, as for the workers
            proc.stdout.readline()
        start = time.perf_counter()
        for proc in procs:
            proc.stdin.write(b"go")
            proc.stdin.close()
        for proc in procs:
            proc.wait()
        return time.perf_counter() - start
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def run_benchmark(workers: int = 2, iters: int = 1000, runs: int = 8,
                  trips: int = 20) -> dict:
    """Time the three ways; return a dict of seconds, speed-ups and the overhead per run."""
    from distributed import Client, LocalCluster

    base = {**COURSE, "iters": iters}
    seeds = list(range(runs))
    report: dict = {"workers": workers, "runs": runs, "iters": iters,
                    "blas_threads_here": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
                    "cpus": os.cpu_count()}
    run_one(expand({}, base={**base, "iters": 1})[0], 0)     # MNIST read once before timing

    start = time.perf_counter()
    serial = sweep({}, base=base, seeds=seeds, verbose=0)
    report["serial_s"] = time.perf_counter() - start
    report["run_s"] = statistics.median(r["seconds"] for r in serial.results)

    start = time.perf_counter()
    parallel = sweep({}, base=base, seeds=seeds, workers=workers, verbose=0)
    report["dask_s"] = time.perf_counter() - start
    report["identical"] = _numbers(parallel.results) == _numbers(serial.results)
    report["run_s_workers"] = statistics.median(r["seconds"] for r in parallel.results)

    report["plain_s"] = _plain_processes(workers, seeds, iters)
    report["speedup_plain"] = report["serial_s"] / report["plain_s"]

    config, empty = expand({}, base=base)[0], expand({}, base=EMPTY, dataset="moons")[0]
    start = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, env=dict(SINGLE_THREAD_ENV),
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        report["cluster_start_s"] = time.perf_counter() - start
        client.run(run_one, config, 0)          # each worker reads MNIST once, untimed
        start = time.perf_counter()
        futures = [client.submit(run_one, config, seed, pure=False) for seed in seeds]
        client.gather(futures)
        report["warm_s"] = time.perf_counter() - start
        local, remote = [], []
        for i in range(trips):
            start = time.perf_counter()
            run_one(empty, i)
            local.append(time.perf_counter() - start)
            start = time.perf_counter()
            client.submit(run_one, empty, i, pure=False).result()
            remote.append(time.perf_counter() - start)
    report["empty_run_local_s"] = statistics.median(local)
    report["empty_run_dask_s"] = statistics.median(remote)
    report["overhead_per_run_s"] = report["empty_run_dask_s"] - report["empty_run_local_s"]
    report["speedup_end_to_end"] = report["serial_s"] / report["dask_s"]
    report["speedup_warm"] = report["serial_s"] / report["warm_s"]
    return report


def format_report(r: dict) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return "\n".join([
        f"{r['runs']} runs of 784-40-10, {r['iters']} iterations each, {r['cpus']} CPUs here, "
        f"OPENBLAS_NUM_THREADS={r['blas_threads_here']} in this process",
        f"  serial in this process        {r['serial_s']:7.2f} s  "
        f"({r['run_s']:.2f} s per run, median)",
        f"  sweep(workers={r['workers']}) end to end  {r['dask_s']:7.2f} s  "
        f"speed-up {r['speedup_end_to_end']:.2f}x ({r['run_s_workers']:.2f} s per run on a "
        f"worker, median)",
        f"  on a started cluster          {r['warm_s']:7.2f} s  speed-up "
        f"{r['speedup_warm']:.2f}x (cluster start {r['cluster_start_s']:.2f} s)",
        f"  {r['workers']} plain processes at once    {r['plain_s']:7.2f} s  speed-up "
        f"{r['speedup_plain']:.2f}x (no Dask: what these CPUs allow)",
        f"  Dask overhead per run         {1000 * r['overhead_per_run_s']:7.1f} ms  (near-empty "
        f"run: {1000 * r['empty_run_dask_s']:.1f} ms round trip vs "
        f"{1000 * r['empty_run_local_s']:.1f} ms here)",
        f"  serial and Dask results bit-identical: {'yes' if r['identical'] else 'NO'}",
        f"  (load average now {load:.2f}: other processes on these CPUs slow the workers)",
    ])
