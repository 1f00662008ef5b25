"""How much LayerStats slows the course's MNIST training: a side-by-side ratio.

    ZERODL_DATA_DIR=... PYTHONPATH=src python benchmarks/layer_stats_overhead.py [ROUNDS]

784-40-10 ReLU, std 0.01, SGD 0.1, batch 100, 1000 steps; with and without
``LayerStats(every=10)``, the two runs interleaved round after round so that any drift of the
machine's speed hits both alike. Prints each round's times, the median ratio and the
ratio of the fastest runs.
"""
import statistics
import sys
import time

import zerodl
from zerodl.callbacks import LayerStats
from zerodl.optimizers import SGD


def one_run(x, d, stats: bool) -> float:
    model = zerodl.mlp([784, 40, 10], init=0.01, seed=0)
    callbacks = [LayerStats(every=10)] if stats else None
    start = time.perf_counter()
    model.fit(x, d, steps=1000, batch_size=100, optimizer=SGD(lr=0.1), verbose=0, seed=0,
              callbacks=callbacks)
    return time.perf_counter() - start


def main(rounds: int = 5) -> None:
    (x, d), _ = zerodl.load_mnist()
    one_run(x, d, False)                     # warm-up: caches, page faults
    ratios, plains, watcheds = [], [], []
    for r in range(rounds):
        plain = one_run(x, d, False)
        watched = one_run(x, d, True)
        ratios.append(watched / plain)
        plains.append(plain)
        watcheds.append(watched)
        print(f"round {r + 1}: plain {plain:.3f} s, with LayerStats {watched:.3f} s, "
              f"ratio {ratios[-1]:.3f}")
    print(f"median ratio {statistics.median(ratios):.3f} over {rounds} rounds; fastest runs "
          f"{min(watcheds):.3f} s / {min(plains):.3f} s = {min(watcheds) / min(plains):.3f} "
          f"(less sensitive to other programs on a shared machine)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
