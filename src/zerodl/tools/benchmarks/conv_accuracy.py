"""How long the book's convolutional networks take to train on this machine (a script).

    python -m zerodl.tools.benchmarks.conv_accuracy simple [TARGET] [MAX_EPOCHS]
    python -m zerodl.tools.benchmarks.conv_accuracy deep [STEPS]
    python -m zerodl.tools.benchmarks.conv_accuracy deep-train [TARGET] [MAX_EPOCHS]

``simple``: ``simple_convnet`` trained as the book trains it (Adam, lr 0.001, batch 100, the
60000 MNIST images), one epoch at a time, until the test accuracy (10000 images) reaches
TARGET (default 0.985). ``deep``: ``deep_convnet`` with the same optimizer, STEPS steps
(default 30) timed after two of warm-up; the time per epoch (600 steps) is extrapolated
from them. ``deep-train``: ``deep_convnet`` trained as ``simple`` (default target 0.99, at
most 1 epoch). All print wall time and this process's CPU time (the evaluations are not
counted), so a run on a busy machine can be read either way. Set ``OPENBLAS_NUM_THREADS``
to choose the threads. Needs MNIST (``$ZERODL_DATA_DIR``).
"""
from __future__ import annotations

import sys
import time

from ...core.datasets import load_mnist
from ...core.optimizers import OPTIMIZERS
from ...training.architectures import deep_convnet, simple_convnet
from .suite import blas_threads

BATCH = 100
LR = 0.001


def _images():
    (x, d), (x_test, d_test) = load_mnist()
    return (x.reshape(-1, 1, 28, 28), d), (x_test.reshape(-1, 1, 28, 28), d_test)


def _fit(model, optimizer, x, d, **kw) -> tuple[float, float]:
    """Wall and CPU seconds of one ``model.fit`` call."""
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(x, d, batch_size=BATCH, optimizer=optimizer, verbose=0, **kw)
    return time.perf_counter() - wall, time.process_time() - cpu


def time_to_accuracy(build=simple_convnet, target: float = 0.985, max_epochs: int = 20,
                     seed: int = 0):
    """Train ``build(seed)`` epoch by epoch until ``target`` test accuracy; print each."""
    (x, d), (x_test, d_test) = _images()
    model = build(seed=seed)
    optimizer = OPTIMIZERS.get("adam")(lr=LR)
    wall = cpu = 0.0
    for epoch in range(1, max_epochs + 1):
        w, c = _fit(model, optimizer, x, d)
        wall, cpu = wall + w, cpu + c
        accuracy = model.evaluate(x_test, d_test)["accuracy"]
        print(f"epoch {epoch}: test accuracy {accuracy:.4f}; training so far {wall:.0f} s "
              f"wall, {cpu:.0f} s CPU (this epoch {w:.0f} s wall, {c:.0f} s CPU)", flush=True)
        if accuracy >= target:
            print(f"reached {target:.1%} after {epoch} epochs: {wall:.0f} s wall, {cpu:.0f} s "
                  f"CPU of training, {blas_threads()} BLAS threads")
            return
    print(f"NOT reached {target:.1%} in {max_epochs} epochs")


def deep_time_per_epoch(steps: int = 30, seed: int = 0):
    """Time ``steps`` training steps of ``deep_convnet``; print the per-epoch estimate.

    Each fit first evaluates 1000 training samples (its guard's reference loss), once per
    call: that time is measured apart and counted once per epoch, not once per step.
    """
    (x, d), _ = _images()
    model = deep_convnet(seed=seed)
    optimizer = OPTIMIZERS.get("adam")(lr=LR)
    _fit(model, optimizer, x, d, steps=2)                 # warm-up: first-call allocations
    wall, cpu = time.perf_counter(), time.process_time()
    model.evaluate(x[:1000], d[:1000])
    ref_wall, ref_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall, cpu = _fit(model, optimizer, x, d, steps=steps)
    step_wall, step_cpu = (wall - ref_wall) / steps, (cpu - ref_cpu) / steps
    per_epoch = len(x) // BATCH
    print(f"deep_convnet: {steps} steps of batch {BATCH}: {step_wall * 1e3:.0f} ms wall, "
          f"{step_cpu * 1e3:.0f} ms CPU a step (fit's 1000-sample reference: {ref_wall:.1f} s "
          f"wall, {ref_cpu:.1f} s CPU); an epoch ({per_epoch} steps) ~ "
          f"{(step_wall * per_epoch + ref_wall) / 60:.1f} min wall, "
          f"{(step_cpu * per_epoch + ref_cpu) / 60:.1f} min CPU ({blas_threads()} BLAS threads)")


if __name__ == "__main__":
    what, *rest = sys.argv[1:] or ["simple"]
    if what == "deep":
        deep_time_per_epoch(*(int(v) for v in rest[:1]))
    else:
        build, target, epochs = ((simple_convnet, 0.985, 20) if what == "simple"
                                 else (deep_convnet, 0.99, 1))
        time_to_accuracy(build, *(float(v) for v in rest[:1]) or [target],
                         *(int(v) for v in rest[1:2]) or [epochs])
