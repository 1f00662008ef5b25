"""Day 2's row of ``zerodl bench``: a network with batch normalisation and dropout.

784-100-100-100-10, every hidden layer Dense -> BatchNormalization -> ReLU -> Dropout(0.2)
(``mlp(..., batch_norm=True, dropout=0.2)``), batch 100, SGD lr 0.1, one epoch of MNIST
(600 steps). Beside it, PyTorch eager with the same layers (``Linear``, ``BatchNorm1d``,
``ReLU``, ``Dropout``), the same initial weights, batch order, optimizer and threads.

The two cannot hold the same weights after training: each draws its own dropout masks.
What they share is the work of a step, which is what a speed comparison needs. (The plain
NumPy loop of the other rows has no batch normalisation: its column stays empty here.)

Each ``*_loop`` returns ``(train, state)`` as ``loops.py``'s contenders; ``bench_day2``
times them in interleaved rounds and returns rows shaped as ``suite.bench_training``'s.
"""
from __future__ import annotations

import time

from ...core.optimizers import OPTIMIZERS
from ...training.architectures import mlp
from .loops import initial_weights, torch_mlp, torch_training

#: (name, layer sizes, batch size, optimizer, lr, dropout rate, timed steps).
DAY2_CONFIGS = [
    ("784-100x3-10 BN+dropout B100 SGD", [784, 100, 100, 100, 10], 100, "sgd", 0.1, 0.2, 600),
]


def _timed(fn, clock) -> float:
    start = clock()
    fn()
    return clock() - start


def zerodl_day2_loop(x, d, sizes, batch, opt, lr, rate, steps, weights, seed):
    """``mlp(sizes, batch_norm=True, dropout=rate)`` holding ``weights``: ``(train, model)``."""
    model = mlp(sizes, init="zeros", seed=seed, batch_norm=True, dropout=rate)
    for i, (W, b) in enumerate(weights, start=1):
        model.params[f"W{i}"][...] = W
        model.params[f"b{i}"][...] = b
    optimizer = OPTIMIZERS.get(opt)(lr=lr)

    def train():
        model.fit(x, d, batch_size=batch, steps=steps, optimizer=optimizer, seed=seed, verbose=0)

    return train, model


def torch_day2_net(weights, rate: float):
    """PyTorch's Sequential of the same network (BatchNorm1d's momentum 0.1 is zerodl's 0.9)."""
    import torch        # optional: only the torch contender needs it

    return torch_mlp(weights, lambda n_out: [
        torch.nn.BatchNorm1d(n_out, eps=1e-5, momentum=0.1), torch.nn.ReLU(),
        torch.nn.Dropout(rate)])


def torch_day2_loop(x, d, sizes, batch, opt, lr, rate, steps, weights, seed):
    """PyTorch eager in training mode: ``(train, net)``."""
    import torch

    net = torch_day2_net(weights, rate).train()
    optimizer = (torch.optim.SGD(net.parameters(), lr=lr) if opt == "sgd"
                 else torch.optim.Adam(net.parameters(), lr=lr))
    return torch_training(net, optimizer, x, d, batch, steps, seed), net


DAY2_LOOPS = {"zerodl": zerodl_day2_loop, "torch": torch_day2_loop}


def bench_day2(x, d, rounds: int, use_torch: bool, seed: int = 0, clock=time.perf_counter,
               progress=None, configs=None) -> list[dict]:
    """One row per entry of ``configs`` (default ``DAY2_CONFIGS``): best samples/s of zerodl
    and (when ``use_torch``) PyTorch, and their ratio. ``x`` float32 (N, 784), ``d`` integer
    labels (N,). ``progress(row)`` is called after each configuration."""
    rows = []
    for name, sizes, batch, opt, lr, rate, steps in configs or DAY2_CONFIGS:
        weights = initial_weights(sizes, seed)
        names = ["zerodl"] + (["torch"] if use_torch else [])

        def run(k, s):
            train, _ = DAY2_LOOPS[k](x, d, sizes, batch, opt, lr, rate, s, weights, seed)
            return _timed(train, clock)

        for k in names:                                   # warm-up
            run(k, max(1, steps // 20))
        speeds = {k: [] for k in names}
        for r in range(rounds):                           # interleaved, order rotated
            for k in names[r % len(names):] + names[:r % len(names)]:
                speeds[k].append(steps * batch / run(k, steps))
        best = {k: max(v) for k, v in speeds.items()}
        row = {"name": name, "sizes": sizes, "batch": batch, "optimizer": opt, "lr": lr,
               "dropout": rate, "batch_norm": True, "steps": steps,
               "samples_per_s": {"zerodl": best["zerodl"], "torch": best.get("torch"),
                                 "plain": None},
               "raw_samples_per_s": speeds,
               "zerodl_vs_torch": best["zerodl"] / best["torch"] if "torch" in best else None,
               "zerodl_vs_plain": None,
               "note": "no plain NumPy loop for batch norm and dropout; dropout masks differ"}
        rows.append(row)
        if progress is not None:
            progress(row)
    return rows
