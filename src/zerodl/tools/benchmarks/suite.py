"""How fast zerodl trains, side by side with PyTorch and a plain NumPy loop: the measurements.

Three contenders train the same network from the same initial weights, with the same
optimizer and the same batch order (one ``default_rng(seed).permutation`` per epoch, as
``fit(seed=...)`` draws it), on the data given (``zerodl bench`` gives the MNIST training set):

- ``zerodl``: ``model.fit``, as a learner calls it;
- ``torch``: PyTorch eager on the CPU with as many threads as NumPy's BLAS (optional);
- ``plain``: a hand-written float32 NumPy loop with preallocated buffers (``loops.py``). It
  is the overhead floor: what a careful user's own loop costs.

The contenders take turns (interleaved rounds, the order rotated each round) so that the
noise of a shared machine hits them alike; each figure is the best of the rounds (other
processes only ever slow a run down, so the fastest round is the least disturbed one) and
each ratio is the ratio of the bests; every round's figure is kept in the results. Work is
counted in samples per second and in GFLOP/s of matrix products, against the float32
matrix-product peak measured here (a large sgemm).

The book's convolutional networks have their rows in ``conv_rows.py`` (zerodl and PyTorch
only), in the same format.

Every function returns plain data (dicts and lists of numbers and strings); ``zerodl bench``
(``cli_bench.py``) prints them. ``clock`` is the timer of every measurement: wall time
(``time.perf_counter``) or this process's CPU time (``time.process_time``), which other
processes on a shared machine cannot inflate (use it with one BLAS thread: threads that wait
for each other burn CPU time).
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ...training.architectures import mlp
from ...core.optimizers import OPTIMIZERS
from .loops import F32, initial_weights, plain_loop, plain_predict, torch_loop, torch_mlp, torch_predict
from .day2_rows import DAY2_CONFIGS, bench_day2     # day 2's row: batch norm and dropout

#: The clocks ``--clock`` chooses from.
CLOCK = {"wall": time.perf_counter, "cpu": time.process_time}

#: A timed run is one call of fit: a whole epoch for the batch-100 configs, as a learner runs
#: it, so that fit's one-off input checks (about 8 ms on MNIST) weigh as they do in use.
#: (name, layer sizes, batch size, optimizer, lr, timed steps).
CONFIGS = [
    ("course 784-40-10 B100 SGD", [784, 40, 10], 100, "sgd", 0.1, 600),
    ("784-100-10 B100 Adam", [784, 100, 10], 100, "adam", 0.001, 600),
    ("784-1000-1000-10 B256 Adam", [784, 1000, 1000, 10], 256, "adam", 0.001, 24),
    ("online 784-100-10 B1 SGD", [784, 100, 10], 1, "sgd", 0.01, 1000),
]
#: Predict benchmarks: (name, layer sizes, samples per call, calls timed).
PREDICTS = [
    ("predict 1 sample 784-100-10", [784, 100, 10], 1, 1000),
    ("predict 10000 samples 784-100-10", [784, 100, 10], 10_000, 5),
]
#: The fastest recipe found for 98% test accuracy. Of 784-512-512-10, 784-800-10, 784-256-10
#: and 784-128-10 with Adam (batch 100-200, lr 1e-3 or 2e-3), this one reached 98.0% in the
#: least time (6 epochs, about 7 s on 2 cores); SGD (784-512-512-10, batch 32) took 6 epochs too.
RECIPE = {"sizes": [784, 256, 10], "batch": 100, "optimizer": "adam", "lr": 0.001}

Clock = Callable[[], float]


def timed(fn, clock: Clock = time.perf_counter) -> float:
    """Seconds that ``fn()`` takes on ``clock``."""
    start = clock()
    fn()
    return clock() - start


# -- machine ------------------------------------------------------------------------------
def blas_threads() -> int | None:
    """Threads of NumPy's BLAS: the OpenBLAS/MKL variables, else the number of cores."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return os.cpu_count()


def machine() -> dict:
    """Python, NumPy, BLAS, CPU and thread settings of this process."""
    info = {"python": platform.python_version(), "numpy": np.__version__,
            "platform": platform.platform(), "cores": os.cpu_count(),
            "blas_threads": blas_threads(),
            "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")}}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next((line.split(":", 1)[1].strip() for line in f
                                if line.startswith("model name")), platform.processor())
    except OSError:
        info["cpu"] = platform.processor()
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:                       # older NumPy: no dict mode
        info["blas"] = "unknown"
    return info


def setup_torch(threads: int | None) -> str | None:
    """Give PyTorch ``threads`` threads; its version and threads as text, None if absent."""
    try:
        import torch        # optional: the torch column stays empty without it
    except ImportError:
        return None
    torch.set_num_threads(threads or 1)
    return f"{torch.__version__}, {torch.get_num_threads()} threads"


def sgemm_peak(n: int = 2048, repeats: int = 10, clock: Clock = time.perf_counter) -> float:
    """Best GFLOP/s of an ``n x n`` float32 matrix product (2 n^3 flops): the machine's peak."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), dtype=F32), rng.random((n, n), dtype=F32)
    out = np.empty((n, n), F32)
    np.matmul(a, b, out=out)
    best = min(timed(lambda: np.matmul(a, b, out=out), clock) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def step_flops(sizes: list[int], batch: int) -> int:
    """Matrix-product flops of one training step: ``x W``, ``x.T dy`` and ``dy W.T``.

    Each product of an (B, n_in) and an (n_in, n_out) matrix costs 2 B n_in n_out; the
    first layer skips ``dy W.T`` (nobody needs the gradient of the input images).
    """
    pairs = list(zip(sizes, sizes[1:]))
    forward = sum(2 * batch * a * b for a, b in pairs)
    return 2 * forward + forward - 2 * batch * pairs[0][0] * pairs[0][1]


def matmul_only_gflops(sizes: list[int], batch: int, repeats: int = 20,
                       clock: Clock = time.perf_counter) -> float:
    """GFLOP/s of one step's matrix products alone (preallocated outputs, nothing else).

    The ceiling any contender could reach on this configuration with NumPy's BLAS: these
    shapes run below the big-sgemm peak, and the rest of a step (bias, ReLU, softmax,
    optimizer) only adds time.
    """
    rng = np.random.default_rng(0)
    Ws = [rng.random((a, b), dtype=F32) for a, b in zip(sizes, sizes[1:])]
    acts = [rng.random((batch, k), dtype=F32) for k in sizes]
    gWs = [np.empty_like(W) for W in Ws]

    def step():
        for l, W in enumerate(Ws):
            np.matmul(acts[l], W, out=acts[l + 1])
        for l in range(len(Ws) - 1, -1, -1):
            np.matmul(acts[l].T, acts[l + 1], out=gWs[l])
            if l > 0:
                np.matmul(acts[l + 1], Ws[l].T, out=acts[l])

    step()
    best = min(timed(step, clock) for _ in range(repeats))
    return step_flops(sizes, batch) / best / 1e9


# -- the zerodl contender -----------------------------------------------------------------
def zerodl_model(sizes, weights, seed):
    """``mlp(sizes)`` holding ``weights`` (a list of ``(W, b)``)."""
    model = mlp(sizes, init="zeros", seed=seed)
    for i, (W, b) in enumerate(weights, start=1):
        model.params[f"W{i}"][...] = W
        model.params[f"b{i}"][...] = b
    return model


def zerodl_loop(x, d, sizes, batch, opt, lr, steps, weights, seed):
    """``(train, model)``: ``train()`` is one ``model.fit`` call of ``steps`` steps."""
    model = zerodl_model(sizes, weights, seed)
    optimizer = OPTIMIZERS.get(opt)(lr=lr)

    def train():
        model.fit(x, d, batch_size=batch, steps=steps, optimizer=optimizer, seed=seed, verbose=0)

    return train, model


LOOPS = {"zerodl": zerodl_loop, "plain": plain_loop, "torch": torch_loop}


# -- the runs -------------------------------------------------------------------------------
def _ratio(a: list[float], b: list[float]) -> float | None:
    return max(a) / max(b) if a and b else None


def _rotations(names: list[str], rounds: int):
    """The contenders' order in each round, rotated by one each round."""
    for r in range(rounds):
        yield names[r % len(names):] + names[:r % len(names)]


def bench_training(x, d, rounds: int, use_torch: bool, seed: int = 0,
                   clock: Clock = time.perf_counter, progress=None) -> list[dict]:
    """One row per entry of ``CONFIGS``: best samples/s of each contender, GFLOP/s, ratios.

    ``progress(row)`` is called after each configuration.
    """
    results = []
    for name, sizes, batch, opt, lr, steps in CONFIGS:
        weights = initial_weights(sizes, seed)
        names = ["zerodl", "plain"] + (["torch"] if use_torch else [])

        def run(k, s):
            train, _ = LOOPS[k](x, d, sizes, batch, opt, lr, s, weights, seed)
            return timed(train, clock)

        for k in names:                                   # warm-up
            run(k, max(1, steps // 20))
        speeds = {k: [] for k in names}
        for order in _rotations(names, rounds):
            for k in order:
                speeds[k].append(steps * batch / run(k, steps))
        flops = step_flops(sizes, batch) / batch
        row = {"name": name, "sizes": sizes, "batch": batch, "optimizer": opt, "lr": lr,
               "steps": steps, "flops_per_sample": flops, "samples_per_s": {}, "gflops": {},
               "raw_samples_per_s": speeds}
        for k in names:
            row["samples_per_s"][k] = max(speeds[k])
            row["gflops"][k] = row["samples_per_s"][k] * flops / 1e9
        row["samples_per_s"].setdefault("torch", None)
        row["matmul_only_gflops"] = matmul_only_gflops(sizes, batch, clock=clock)
        row["zerodl_vs_torch"] = _ratio(speeds["zerodl"], speeds.get("torch", []))
        row["zerodl_vs_plain"] = _ratio(speeds["zerodl"], speeds["plain"])
        results.append(row)
        if progress is not None:
            progress(row)
    return results


def bench_predict(rounds: int, use_torch: bool, seed: int = 0,
                  clock: Clock = time.perf_counter, progress=None) -> list[dict]:
    """One row per entry of ``PREDICTS``: best samples/s of ``predict`` and its ratios."""
    results = []
    rng = np.random.default_rng(seed)
    for name, sizes, n, calls in PREDICTS:
        weights = initial_weights(sizes, seed)
        model = zerodl_model(sizes, weights, seed)
        xs = rng.random((n, sizes[0]), dtype=F32)
        Ws, bs = [W for W, _ in weights], [b for _, b in weights]
        runners = {"zerodl": lambda: model.predict(xs), "plain": lambda: plain_predict(Ws, bs, xs)}
        if use_torch:
            import torch
            net, xt = torch_mlp(weights), torch.from_numpy(xs)
            runners["torch"] = lambda: torch_predict(net, xt)
        reference = plain_predict(Ws, bs, xs)
        for k, fn in runners.items():
            if not np.allclose(fn(), reference, atol=1e-5):
                raise AssertionError(f"{k} predicts differently from the plain loop")
        speeds = {k: [] for k in runners}
        for order in _rotations(list(runners), rounds):
            for k in order:
                fn = runners[k]
                seconds = timed(lambda: [fn() for _ in range(calls)], clock)
                speeds[k].append(calls * n / seconds)
        row = {"name": name, "sizes": sizes, "batch": n, "steps": calls,
               "samples_per_s": {k: max(v) for k, v in speeds.items()},
               "raw_samples_per_s": speeds,
               "zerodl_vs_torch": _ratio(speeds["zerodl"], speeds.get("torch", [])),
               "zerodl_vs_plain": _ratio(speeds["zerodl"], speeds["plain"])}
        row["samples_per_s"].setdefault("torch", None)
        results.append(row)
        if progress is not None:
            progress(row)
    return results


#: Run between the benchmark and ``python -m zerodl train``: it starts the command and reports
#: the command's peak resident memory. A child's high-water mark starts from the memory of
#: the process that forked it (Linux keeps the larger of the two across exec), so the child
#: is forked from this small interpreter, not from the benchmark holding MNIST and PyTorch.
_PEAK_RSS = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[1:])
print("peak_rss_kib", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def peak_memory_of_train(data_dir=None) -> dict:
    """Run the default ``python -m zerodl train --quiet`` in a child process; its peak
    resident memory in MB, its seconds and output (or ``{"error": ...}``)."""
    package_root = str(Path(__file__).resolve().parents[2])   # the same zerodl as this one
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-c", _PEAK_RSS, sys.executable, "-m", "zerodl", "train",
               "--quiet", "--plot", os.path.join(tmp, "curves.png")]
        if data_dir:
            cmd += ["--data-dir", str(data_dir)]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        seconds = time.perf_counter() - start
    lines = [line for line in done.stderr.splitlines() if line.startswith("peak_rss_kib")]
    if done.returncode != 0 or not lines:
        return {"error": done.stderr.strip()[-500:]}
    kib = int(lines[-1].split()[1])
    return {"command": "zerodl train --quiet", "peak_rss_mb": kib * 1024 / 1e6,
            "seconds": seconds, "output": done.stdout.strip()}


def time_to_accuracy(x, d, x_test, d_test, target: float = 0.98, max_epochs: int = 15,
                     seed: int = 0, clock: Clock = time.perf_counter, progress=None) -> dict:
    """Train ``RECIPE`` epoch by epoch; the training seconds until the test accuracy reaches
    ``target``. ``progress(epoch, accuracy, seconds)`` is called after each epoch."""
    recipe = RECIPE
    model = mlp(recipe["sizes"], init="he", seed=seed)
    optimizer = OPTIMIZERS.get(recipe["optimizer"])(lr=recipe["lr"])
    train_seconds, accuracy = 0.0, 0.0
    for epoch in range(1, max_epochs + 1):
        train_seconds += timed(lambda: model.fit(x, d, batch_size=recipe["batch"],
                                                 optimizer=optimizer, verbose=0), clock)
        accuracy = model.evaluate(x_test, d_test)["accuracy"]
        if progress is not None:
            progress(epoch, accuracy, train_seconds)
        if accuracy >= target:
            break
    return {"recipe": recipe, "target": target, "reached": accuracy >= target, "epochs": epoch,
            "train_seconds": train_seconds, "test_accuracy": accuracy}
