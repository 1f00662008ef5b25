"""The convolution layers against PyTorch, and im2col's loop against sliding windows.

    python -m zerodl.benchmarks.conv_speed [THREADS] [ROUNDS]

Layers: the book's first convolutional network, 100 MNIST-sized images in float32:
``Conv2D(1, 30, 5)`` on (100, 1, 28, 28), then ``MaxPool2D(2)`` and ``AvgPool2D(2)`` on
the (100, 30, 24, 24) it gives; each forward then backward (dx, and dW, db for Conv2D),
against ``torch.nn.functional.conv2d`` / ``max_pool2d`` / ``avg_pool2d`` with autograd
computing the same gradients. Both libraries get ``THREADS`` threads (default 1): NumPy's
BLAS through threadpoolctl, PyTorch through ``torch.set_num_threads``. The two are timed in
alternation, round after round, so any drift of the machine's speed hits both alike.

im2col: ``zerodl.im2col.im2col`` (a loop over the window's offsets, then a transposing
copy) against the same matrix built from ``np.lib.stride_tricks.sliding_window_view`` in one
copy, on the shapes of that network and two wider ones; and ``unfold``, the loop alone
(PyTorch's layout, which Conv2D uses).

Needs PyTorch and threadpoolctl (both come with the test dependencies).
"""
from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from ...core.layers.conv import AvgPool2D, Conv2D, MaxPool2D
from ...core.im2col import im2col, unfold


def _seconds(step, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        step()
    return (time.perf_counter() - start) / repeat


def _step(layer, x, dy):
    """One forward and backward of a zerodl layer."""
    def step():
        layer.forward(x, training=True)
        layer.backward(dy)
    return step


def _torch_step(function, inputs, dy):
    """One forward and backward of a PyTorch function, gradients for every input."""
    def step():
        torch.autograd.grad(function(*inputs), inputs, dy)
    return step


def _contenders(rng) -> dict:
    """name -> (zerodl step, torch step)."""
    x = rng.random((100, 1, 28, 28), dtype=np.float32)
    conv = Conv2D(1, 30, 5, rng=rng)
    dy = rng.standard_normal((100, 30, 24, 24), dtype=np.float32)
    h = rng.standard_normal((100, 30, 24, 24), dtype=np.float32)
    dh = rng.standard_normal((100, 30, 12, 12), dtype=np.float32)
    tx, th = torch.from_numpy(x).requires_grad_(), torch.from_numpy(h).requires_grad_()
    tW = torch.from_numpy(conv.W.copy()).requires_grad_()
    tb = torch.from_numpy(conv.b.copy()).requires_grad_()
    F = torch.nn.functional
    return {
        "Conv2D(1, 30, 5)": (_step(conv, x, dy),
                             _torch_step(F.conv2d, (tx, tW, tb), torch.from_numpy(dy))),
        "MaxPool2D(2)": (_step(MaxPool2D(2), h, dh),
                         _torch_step(lambda t: F.max_pool2d(t, 2), (th,), torch.from_numpy(dh))),
        "AvgPool2D(2)": (_step(AvgPool2D(2), h, dh),
                         _torch_step(lambda t: F.avg_pool2d(t, 2), (th,), torch.from_numpy(dh))),
    }


def run_benchmark(threads: int = 1, rounds: int = 30, repeat: int = 5) -> dict:
    """Seconds per forward+backward step, ``rounds`` times each, per layer and library."""
    times = {}
    torch.set_num_threads(threads)
    with threadpool_limits(threads):
        for name, (ours, theirs) in _contenders(np.random.default_rng(0)).items():
            ours(), theirs()                    # warm up: first-call allocations, caches
            pair = times[name] = {"zerodl": [], "torch": []}
            for _ in range(rounds):
                pair["zerodl"].append(_seconds(ours, repeat))
                pair["torch"].append(_seconds(theirs, repeat))
    return {"threads": threads, "rounds": rounds, "times": times, "im2col": _im2col_times()}


def _im2col_by_sliding_windows(x, fh, fw, stride, pad):
    """The contender: one copy of a (N, out_h, out_w, C, fh, fw) view of the padded input."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x
    windows = np.lib.stride_tricks.sliding_window_view(xp, (fh, fw), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride].transpose(0, 2, 3, 1, 4, 5)
    return np.ascontiguousarray(windows).reshape(-1, x.shape[1] * fh * fw)


def _im2col_times(repeat: int = 10) -> list:
    rng = np.random.default_rng(0)
    rows = []
    with threadpool_limits(1):
        for shape, f, stride, pad in [((100, 1, 28, 28), 5, 1, 0), ((100, 30, 24, 24), 2, 2, 0),
                                      ((100, 30, 24, 24), 3, 1, 1),
                                      ((100, 30, 24, 24), 5, 1, 0)]:
            x = rng.random(shape, dtype=np.float32)
            loop = lambda: im2col(x, f, f, stride, pad)
            windows = lambda: _im2col_by_sliding_windows(x, f, f, stride, pad)
            layout = lambda: unfold(x, f, f, stride, pad)
            assert np.array_equal(loop(), windows())
            best = [min(_seconds(step, 1) for _ in range(repeat))
                    for step in (loop, windows, layout)]
            rows.append((shape, f, stride, pad, *best))
    return rows


def format_report(result: dict) -> list[str]:
    lines = [f"forward + backward, float32, {result['threads']} thread(s), fastest and median "
             f"of {result['rounds']} rounds"]
    for name, t in result["times"].items():
        ours, theirs = t["zerodl"], t["torch"]
        mid_ours, mid_theirs = statistics.median(ours), statistics.median(theirs)
        lines.append(f"  {name:17s} zerodl {min(ours) * 1e3:6.2f} / {mid_ours * 1e3:6.2f} ms"
                     f"   torch {min(theirs) * 1e3:6.2f} / {mid_theirs * 1e3:6.2f} ms"
                     f"   zerodl/torch {min(ours) / min(theirs):.2f}x / "
                     f"{mid_ours / mid_theirs:.2f}x")
    lines.append("im2col, fastest of 10, 1 thread: offsets loop vs sliding_window_view, and "
                 "unfold (the loop without im2col's transposing copy)")
    for shape, f, stride, pad, loop, windows, layout in result["im2col"]:
        lines.append(f"  {str(shape):18s} {f}x{f} stride {stride} pad {pad}: loop "
                     f"{loop * 1e3:6.2f} ms, windows {windows * 1e3:6.2f} ms "
                     f"({windows / loop:.2f}x the loop's time), unfold {layout * 1e3:6.2f} ms")
    return lines


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    print("\n".join(format_report(run_benchmark(*args))))
