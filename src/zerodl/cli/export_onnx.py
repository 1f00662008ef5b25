"""``zerodl export-onnx MODEL OUT [--opset 17]``: a saved zerodl model as an ONNX file.

The graph is ``zerodl.onnx.to_onnx``'s: input ``x`` of shape ``(N, *model.input_shape)``,
output ``y`` what ``model.predict`` returns. Refused before any work, in one line and exit
status 2: a missing ``onnx`` package (with the command that installs it), an ``OUT`` that
is a folder, a device or in a missing folder, an ``OUT`` that is ``MODEL`` itself (through
a link or another spelling of the path), and a model with a layer that has no converter.
``OUT`` is written atomically: a refusal or a failed write leaves an older ``OUT`` as it was.

``onnx`` is imported when the command runs, not when ``zerodl`` starts, so that the other
commands work without it; ``onnx_bench_row``, ``zerodl bench``'s onnxruntime row, does the
same.
"""
from __future__ import annotations

import os
import time

import numpy as np

from ..core._fileio import check_output_path
from ..tools.benchmarks.onnx_rows import bench_onnxruntime
from ..training.architectures import mlp
from ..training.files import load
from .common import UsageError

#: What to run when onnx is missing, from a checkout and from a package index.
INSTALL_HINT = ('pip install onnx (in a checkout of zerodl), or pip install "zerodl[onnx]" '
                '(zerodl from a package index)')


def add_parser(subparsers) -> None:
    """Register ``zerodl export-onnx``."""
    p = subparsers.add_parser(
        "export-onnx", help="write a saved model as an ONNX file (for onnxruntime and others)",
        description="Convert a model saved by zerodl train --save or model.save to ONNX: input "
                    "x (N, ...), output y = what model.predict returns. Needs the onnx "
                    "package.")
    p.add_argument("model", help="a file written by zerodl train --save or model.save")
    p.add_argument("out", help="the ONNX file to write (e.g. model.onnx)")
    p.add_argument("--opset", type=int, default=17,
                   help="ONNX operator set, 13 up to what the installed onnx knows "
                        "(default 17)")


def _zerodl_onnx():
    """The ``zerodl.onnx`` module, or a ``UsageError`` that says how to install onnx."""
    try:
        from .. import onnx as zerodl_onnx
    except ImportError as exc:
        if exc.name != "onnx":
            raise
        raise UsageError(f"zerodl export-onnx needs the onnx package, which is not "
                         f"installed: {INSTALL_HINT}.") from None
    return zerodl_onnx


def _same_file(a: str, b: str) -> bool:
    """Whether paths ``a`` and ``b`` name one file (links and spellings resolved)."""
    try:
        return os.path.samefile(a, b)
    except OSError:                     # one of them does not exist (yet)
        return os.path.realpath(a) == os.path.realpath(b)


def run(args) -> int:
    """Run ``zerodl export-onnx`` with parsed ``args``."""
    zerodl_onnx = _zerodl_onnx()
    check_output_path("OUT", args.out)
    if _same_file(args.model, args.out):
        raise UsageError(f"zerodl: error: OUT must not be MODEL itself (it would be "
                         f"overwritten); got {args.out!r} for the model {args.model!r}.")
    model = load(args.model)
    proto = zerodl_onnx.export(model, args.out, opset=args.opset)
    nodes = len(proto.graph.node)
    shape = "x".join(map(str, model.input_shape))
    print(f"{args.model} ({model!r}) written to {args.out}: ONNX opset {args.opset}, {nodes} "
          f"nodes, input x (N, {shape.replace('x', ', ')}), output y (N, {model.n_out})")
    return 0


def onnx_bench_row(rounds: int, x: np.ndarray, clock=time.perf_counter, calls: int = 5,
                   sizes=(784, 40, 10)) -> dict:
    """``zerodl bench``'s onnxruntime row: the course network's ``predict`` on all of ``x``
    (the MNIST test images), zerodl beside onnxruntime (``bench_onnxruntime``); a row with
    ``"skipped"`` and the reason when onnx or onnxruntime is not installed."""
    name = f"predict {len(x)} samples {'-'.join(map(str, sizes))} onnxruntime"
    try:
        zerodl_onnx = _zerodl_onnx()
    except UsageError as exc:
        return {"name": name, "skipped": str(exc)}
    model = mlp(list(sizes), seed=0)
    proto = zerodl_onnx.to_onnx(model).SerializeToString()
    return bench_onnxruntime(model, proto, x, rounds=rounds, calls=calls, clock=clock,
                             name=name)
