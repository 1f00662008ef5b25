"""How much ``LayerStats`` slows the course's MNIST training: a side-by-side ratio.

    ZERODL_DATA_DIR=... python -m zerodl.benchmarks.layer_stats [ROUNDS]

784-40-10 ReLU, std 0.01, SGD 0.1, batch 100, 1000 steps; with and without
``LayerStats(every=10)``, the two runs interleaved round after round so that any drift of the
machine's speed hits both alike. ``run_benchmark`` returns each round's times, the median
ratio and the ratio of the fastest runs; ``format_report`` puts them in lines.
"""
from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from ..layer_stats import LayerStats
from ...core.datasets import load_mnist
from ...training.architectures import mlp
from ...core.optimizers import SGD


def one_run(x: np.ndarray, d: np.ndarray, stats: bool) -> float:
    """Seconds for 1000 steps of the course's network, with ``LayerStats(every=10)`` or not."""
    model = mlp([784, 40, 10], init=0.01, seed=0)
    callbacks = [LayerStats(every=10)] if stats else None
    start = time.perf_counter()
    model.fit(x, d, steps=1000, batch_size=100, optimizer=SGD(lr=0.1), verbose=0, seed=0,
              callbacks=callbacks)
    return time.perf_counter() - start


def run_benchmark(rounds: int = 5, data_dir: str | None = None) -> dict:
    """``plain_s``, ``watched_s`` (one time per round, the second with ``LayerStats``),
    ``ratios`` (watched / plain per round), ``median_ratio`` and ``fastest_ratio``
    (fastest watched / fastest plain: less sensitive to other programs on a shared machine)."""
    (x, d), _ = load_mnist(data_dir=data_dir)
    one_run(x, d, False)                     # warm-up: caches, page faults
    plains, watcheds = [], []
    for _ in range(rounds):
        plains.append(one_run(x, d, False))
        watcheds.append(one_run(x, d, True))
    ratios = [w / p for w, p in zip(watcheds, plains)]
    return {"rounds": rounds, "plain_s": plains, "watched_s": watcheds, "ratios": ratios,
            "median_ratio": statistics.median(ratios),
            "fastest_ratio": min(watcheds) / min(plains)}


def format_report(r: dict) -> str:
    lines = [f"round {i + 1}: plain {p:.3f} s, with LayerStats {w:.3f} s, ratio {q:.3f}"
             for i, (p, w, q) in enumerate(zip(r["plain_s"], r["watched_s"], r["ratios"]))]
    lines.append(f"median ratio {r['median_ratio']:.3f} over {r['rounds']} rounds; fastest runs "
                 f"{min(r['watched_s']):.3f} s / {min(r['plain_s']):.3f} s = "
                 f"{r['fastest_ratio']:.3f} (less sensitive to other programs on a shared "
                 f"machine)")
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_report(run_benchmark(int(sys.argv[1]) if len(sys.argv) > 1 else 5)))
