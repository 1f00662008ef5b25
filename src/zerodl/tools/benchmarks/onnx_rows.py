"""``zerodl bench``'s onnxruntime row: one model's inference, zerodl's ``predict`` beside
onnxruntime running the same model exported to ONNX.

The number is for comparison, not a target: onnxruntime fuses ``Gemm`` with the bias and
the activation and runs its own kernels and threads, zerodl runs NumPy's. Both get the same
input and the same number of threads (``blas_threads()``, what NumPy's BLAS uses), and their
outputs are checked to agree (1e-5) before anything is timed. The ONNX bytes come from the
caller (``zerodl.onnx``, a face, builds them), so this module needs only onnxruntime, which
it imports when it runs: without it the row says why it was skipped.
"""
from __future__ import annotations

import time

import numpy as np

from .suite import Clock, blas_threads, timed

#: How to get onnxruntime, said by a skipped row.
INSTALL_ONNXRUNTIME = "pip install onnxruntime"


def onnxruntime_session(onnx_bytes: bytes, threads: int | None = None):
    """An onnxruntime CPU session for ``onnx_bytes`` on ``threads`` threads (None: its
    default), or ``None`` when onnxruntime is not installed."""
    try:
        import onnxruntime      # optional: only this row needs it
    except ImportError:
        return None
    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(onnx_bytes, options,
                                        providers=["CPUExecutionProvider"])


def bench_onnxruntime(model, onnx_bytes: bytes, x: np.ndarray, rounds: int = 10,
                      calls: int = 5, clock: Clock = time.perf_counter,
                      name: str | None = None) -> dict:
    """The row: best samples/s over ``rounds`` of ``calls`` predictions of all of ``x``, for
    ``model.predict`` and for onnxruntime on ``onnx_bytes`` (the export of ``model``),
    alternating which goes first. ``{"name", "batch", "samples_per_s": {"zerodl",
    "onnxruntime"}, "onnxruntime_vs_zerodl"}``, or ``{"name", "skipped": reason}``."""
    x = model.prepare_inputs(x)
    if name is None:
        shape = "x".join(map(str, model.input_shape))
        name = f"predict {len(x)} samples {shape}-{model.n_out} onnxruntime"
    session = onnxruntime_session(onnx_bytes, blas_threads())
    if session is None:
        return {"name": name, "skipped": f"onnxruntime is not installed: "
                                         f"{INSTALL_ONNXRUNTIME}"}
    runners = {"zerodl": lambda: model.predict(x),
               "onnxruntime": lambda: session.run(["y"], {"x": x})[0]}
    gap = float(np.max(np.abs(runners["zerodl"]() - runners["onnxruntime"]())))
    if gap > 1e-5:
        raise AssertionError(f"onnxruntime predicts differently from zerodl (by {gap:.2e})")
    speeds: dict[str, list[float]] = {k: [] for k in runners}
    for r in range(rounds):
        for k in (list(runners) if r % 2 == 0 else list(runners)[::-1]):
            fn = runners[k]
            seconds = timed(lambda: [fn() for _ in range(calls)], clock)
            speeds[k].append(calls * len(x) / seconds)
    best = {k: max(v) for k, v in speeds.items()}
    return {"name": name, "batch": len(x), "calls": calls, "samples_per_s": best,
            "raw_samples_per_s": speeds, "max_abs_difference": gap,
            "onnxruntime_vs_zerodl": best["onnxruntime"] / best["zerodl"]}


def row_text(row: dict) -> str:
    """The row as a line of ``zerodl bench``'s output."""
    if "skipped" in row:
        return f"{row['name']:<34} skipped: {row['skipped']}"
    s = row["samples_per_s"]
    return (f"{row['name']:<34} zerodl {s['zerodl']:>10,.0f}  onnxruntime "
            f"{s['onnxruntime']:>10,.0f} samples/s   onnxruntime/zerodl "
            f"{row['onnxruntime_vs_zerodl']:>5.2f}")
