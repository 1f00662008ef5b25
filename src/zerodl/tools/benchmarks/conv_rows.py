"""``zerodl bench``'s rows for the book's convolutional networks, beside PyTorch eager.

Each row trains ``simple_convnet`` (chapter 7) or ``deep_convnet`` (chapter 8) on MNIST's
images with Adam (lr 0.001, batch 100, as the book trains them): zerodl through
``model.fit``, PyTorch through a ``torch.nn.Sequential`` twin holding the same initial
weights (``torch_twin``), on the same batches (one ``default_rng(seed).permutation`` per
epoch), with as many threads as NumPy's BLAS. There is no plain NumPy loop for these rows:
its column stays empty. As in ``suite.bench_training``, the two take turns, each figure is
the best of the rounds, and work is counted in GFLOP/s of matrix products
(``conv_step_flops``), which ``zerodl bench`` sets against the sgemm peak.
"""
from __future__ import annotations

import time

import numpy as np

from ...core.datasets import load_mnist
from ...core.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU
from ...core.optimizers import OPTIMIZERS
from ...training.architectures import deep_convnet, simple_convnet
from .loops import ADAM_BETAS, ADAM_EPS
from .suite import CLOCK, Clock, blas_threads, setup_torch, sgemm_peak, timed

#: (name, network builder, batch size, steps timed per round). A timed run is one call of
#: fit, shorter than the suite's whole epoch to keep the rows to minutes; every fit first
#: measures the loss of 1000 training samples (its guard's reference), which costs about
#: 10 steps' forward passes, so the runs are long enough that it weighs little (DeepConvNet:
#: about 1 s of CPU per call, against 40 steps of about 0.25 s).
CONV_CONFIGS = [
    ("SimpleConvNet B100 Adam", simple_convnet, 100, 100),
    ("DeepConvNet B100 Adam", deep_convnet, 100, 40),
]
LR = 0.001


def conv_step_flops(model, batch: int) -> int:
    """Matrix-product flops of one training step of ``model`` on ``batch`` samples.

    A Conv2D of K = in_channels*kh*kw inputs per window, O filters and P = out_h*out_w
    windows is a product of an (O, K) and a (K, B*P) matrix: 2 B O K P flops forward, as
    many for dW and for dx; a Dense layer 2 B n_in n_out each. The first layer skips dx
    (nobody needs the gradient of the input images). Pools, ReLU and the loss are not
    counted (no products).
    """
    shape, total, first = model.input_shape, 0, True
    for layer in model.layers:
        out = layer.output_shape(shape)
        if isinstance(layer, Conv2D):
            K = layer.in_channels * layer.kernel_size[0] * layer.kernel_size[1]
            forward = 2 * batch * layer.out_channels * K * out[1] * out[2]
        elif isinstance(layer, Dense):
            forward = 2 * batch * layer.n_in * layer.n_out
        else:
            forward = 0
        if forward:
            total += forward * (2 if first else 3)
            first = False
        shape = out
    return total


def torch_twin(model):
    """A ``torch.nn.Sequential`` of the same layers, holding copies of ``model``'s weights
    (Dense's W, (n_in, n_out), becomes Linear's weight, (n_out, n_in))."""
    import torch        # optional: only the torch contender needs it
    nn, layers = torch.nn, []
    for layer in model.layers:
        if isinstance(layer, Conv2D):
            twin = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                             layer.stride, layer.padding)
            weight = layer.W
        elif isinstance(layer, Dense):
            twin, weight = nn.Linear(layer.n_in, layer.n_out), layer.params["W"].T
        else:
            layers.append(_plain_twin(nn, layer))
            continue
        with torch.no_grad():
            twin.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight)))
            twin.bias.copy_(torch.from_numpy(layer.params["b"]))
        layers.append(twin)
    return nn.Sequential(*layers)


def _plain_twin(nn, layer):
    """The PyTorch module of a layer without parameters."""
    if isinstance(layer, ReLU):
        return nn.ReLU()
    if isinstance(layer, MaxPool2D):
        return nn.MaxPool2d(layer.pool_size, layer.stride, layer.padding)
    if isinstance(layer, Flatten):
        return nn.Flatten()
    if isinstance(layer, Dropout):
        return nn.Dropout(layer.rate)
    raise TypeError(f"layer must be one that torch_twin knows; got {layer!r}.")


def _zerodl_train(model, x, d, batch, steps, seed):
    optimizer = OPTIMIZERS.get("adam")(lr=LR)
    return lambda: model.fit(x, d, batch_size=batch, steps=steps, optimizer=optimizer,
                             seed=seed, verbose=0)


def _torch_train(net, x, d, batch, steps, seed):
    import torch
    optimizer = torch.optim.Adam(net.parameters(), lr=LR, betas=ADAM_BETAS, eps=ADAM_EPS)
    xt, dt = torch.from_numpy(x), torch.from_numpy(d.astype(np.int64))
    net.train()

    def train():
        order = torch.from_numpy(np.random.default_rng(seed).permutation(len(x)))
        for start in range(0, steps * batch, batch):
            idx = order[start:start + batch]
            loss = torch.nn.functional.cross_entropy(net(xt[idx]), dt[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return train


def bench_conv(x, d, rounds: int, use_torch: bool, seed: int = 0,
               clock: Clock = time.perf_counter, progress=None) -> list[dict]:
    """One row per entry of ``CONV_CONFIGS``, in ``suite.bench_training``'s format (the
    ``plain`` column None). ``x``: MNIST's images, flat (N, 784) or (N, 1, 28, 28)."""
    x = np.ascontiguousarray(np.asarray(x).reshape(-1, 1, 28, 28))
    results = []
    for name, build, batch, steps in CONV_CONFIGS:
        model = build(seed=seed)
        runs = {"zerodl": _zerodl_train(model, x, d, batch, steps, seed)}
        if use_torch:
            runs["torch"] = _torch_train(torch_twin(build(seed=seed)), x, d, batch, steps,
                                         seed)
        for train in runs.values():                        # warm-up
            train()
        speeds = {k: [] for k in runs}
        names = list(runs)
        for r in range(rounds):                            # take turns, the order rotated
            for k in names[r % len(names):] + names[:r % len(names)]:
                speeds[k].append(steps * batch / timed(runs[k], clock))
        flops = conv_step_flops(model, batch) / batch
        best = {k: max(v) for k, v in speeds.items()}
        row = {"name": name, "batch": batch, "optimizer": "adam", "lr": LR, "steps": steps,
               "flops_per_sample": flops,
               "samples_per_s": {"zerodl": best["zerodl"], "torch": best.get("torch"),
                                 "plain": None},
               "gflops": {k: v * flops / 1e9 for k, v in best.items()},
               "raw_samples_per_s": speeds,
               "zerodl_vs_torch": best["zerodl"] / best["torch"] if "torch" in best else None,
               "zerodl_vs_plain": None}
        results.append(row)
        if progress is not None:
            progress(row)
    return results


def main(rounds: int = 5, clock_name: str = "wall") -> None:
    """``python -m zerodl.tools.benchmarks.conv_rows [ROUNDS] [wall|cpu]``: these rows
    alone, with the sgemm peak measured before and after (the larger counts)."""
    clock = CLOCK[clock_name]
    torch_info = setup_torch(blas_threads())
    peak = sgemm_peak(clock=clock)
    (x, d), _ = load_mnist()
    rows = bench_conv(x, d, rounds, torch_info is not None, clock=clock)
    peak = max(peak, sgemm_peak(clock=clock))
    print(f"{blas_threads()} BLAS threads, torch {torch_info}, {clock_name} clock, sgemm peak "
          f"{peak:.1f} GFLOP/s, best of {rounds} rounds")
    for row in rows:
        s, g = row["samples_per_s"], row["gflops"]
        torch_part = (f"torch {s['torch']:7.0f} samples/s ({g['torch']:5.1f} GFLOP/s, "
                      f"{100 * g['torch'] / peak:3.0f}% of peak)  zerodl/torch "
                      f"{row['zerodl_vs_torch']:.2f}" if s["torch"] else "torch -")
        print(f"{row['name']:<24} zerodl {s['zerodl']:7.0f} samples/s ({g['zerodl']:5.1f} "
              f"GFLOP/s, {100 * g['zerodl'] / peak:3.0f}% of peak)  {torch_part}")


if __name__ == "__main__":
    import sys
    main(*(int(v) for v in sys.argv[1:2]), *sys.argv[2:3])
