"""``zerodl bench``: run ``zerodl.benchmarks.suite``, print its rows, write JSON and Markdown.

The measurements are in ``benchmarks/suite.py`` (and the contenders other than zerodl in
``benchmarks/loops.py``); this module parses the options and prints. It needs MNIST
(``--data-dir``) and is a tool, not part of the test suite.
"""
from __future__ import annotations

import json
import sys

from ..core._fileio import atomic_write
from ..tools.benchmarks.conv_rows import bench_conv
from ..tools.benchmarks.suite import (CLOCK, bench_day2, bench_predict, bench_training,
                                      blas_threads, machine, peak_memory_of_train, setup_torch,
                                      sgemm_peak, time_to_accuracy)
from .common import DATA_DIR_HELP, UsageError, check_outputs
from .export_onnx import onnx_bench_row
from ..tools.benchmarks.onnx_rows import row_text as onnx_row_text
from ..core.datasets import load_mnist


def _fmt(v, spec=",.0f"):
    return "-" if v is None else format(v, spec)


def row_text(row: dict) -> str:
    """One benchmark row as a line of the terminal output."""
    s = row["samples_per_s"]
    return (f"{row['name']:<34} zerodl {_fmt(s['zerodl']):>10}  torch {_fmt(s.get('torch')):>10}"
            f"  plain {_fmt(s['plain']):>10} samples/s   zerodl/torch "
            f"{_fmt(row['zerodl_vs_torch'], '.2f'):>5}  zerodl/plain "
            f"{_fmt(row['zerodl_vs_plain'], '.2f'):>5}")


def markdown(report: dict) -> str:
    """The results as a Markdown table, as shown in the README."""
    peak = report["sgemm_peak_gflops"]
    pct = lambda v: "-" if v is None else f"{100 * v / peak:.0f}%"
    lines = ["| benchmark | zerodl samples/s | PyTorch samples/s | plain NumPy samples/s | "
             "zerodl/torch | zerodl/plain | GFLOP/s zerodl / torch / plain | "
             "% of sgemm peak zerodl / torch / plain | matmul-only GFLOP/s |",
             "|---|---:|---:|---:|---:|---:|---|---|---:|"]
    for row in report["training"] + report.get("conv", []) + report["predict"]:
        s, g = row["samples_per_s"], row.get("gflops", {})
        names = ("zerodl", "torch", "plain")
        gf = " / ".join(_fmt(g.get(k), ".1f") for k in names) if g else ""
        pc = " / ".join(pct(g.get(k)) for k in names) if g else ""
        lines.append(f"| {row['name']}{' *' if 'note' in row else ''} | {_fmt(s['zerodl'])} | "
                     f"{_fmt(s.get('torch'))} | {_fmt(s['plain'])} | "
                     f"{_fmt(row['zerodl_vs_torch'], '.2f')} | {_fmt(row['zerodl_vs_plain'], '.2f')}"
                     f" | {gf} | {pc} | {_fmt(row.get('matmul_only_gflops'), '.1f')} |")
    lines += [f"\n\\* {row['name']}: {row['note']}." for row in report["training"]
              if "note" in row]
    m = report["machine"]
    lines.append(f"\nMachine: {m['cpu']}, {m['cores']} cores; Python {m['python']}, NumPy "
                 f"{m['numpy']} ({m['blas']}, {m['blas_threads']} threads), PyTorch {m['torch']}; "
                 f"OPENBLAS variables: {m['openblas_env'] or 'none'}. Command: `{report['command']}`.")
    lines.append(f"Clock: {report.get('clock', 'wall')} time. "
                 f"float32 sgemm peak (2048 x 2048): {peak:.1f} GFLOP/s.")
    if "memory" in report:
        lines.append(f"Peak memory of `zerodl train` (defaults): "
                     f"{_fmt(report['memory'].get('peak_rss_mb'))} MB.")
    if "time_to_98" in report:
        t = report["time_to_98"]
        lines.append(f"Time to {t['target']:.1%} test accuracy: {t['train_seconds']:.1f} s of "
                     f"training ({t['epochs']} epochs, {'reached' if t['reached'] else 'NOT reached'}"
                     f" {t['test_accuracy']:.4f}) with {t['recipe']}.")
    if "onnxruntime" in report:
        lines.append(f"onnxruntime beside zerodl: `{onnx_row_text(report['onnxruntime'])}`.")
    return "\n".join(lines)


def add_parser(subparsers) -> None:
    """Register ``zerodl bench``."""
    p = subparsers.add_parser("bench", help="benchmark training speed against PyTorch and a "
                              "plain NumPy loop",
                              description="Train the same networks with zerodl, PyTorch (when "
                              "installed) and a plain NumPy loop, interleaved, and print "
                              "samples/s, ratios and GFLOP/s; also peak memory of `zerodl "
                              "train` and time to 98% test accuracy.")
    p.add_argument("--rounds", type=int, default=10, help="interleaved rounds (default: 10)")
    p.add_argument("--json", default="zerodl_bench.json", metavar="FILE",
                   help="where to write the results (default: zerodl_bench.json)")
    p.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown")
    p.add_argument("--data-dir", metavar="DIR", help=DATA_DIR_HELP)
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    p.add_argument("--skip-memory", action="store_true", help="skip the `zerodl train` memory run")
    p.add_argument("--skip-conv", action="store_true",
                   help="skip the SimpleConvNet and DeepConvNet rows")
    p.add_argument("--skip-accuracy", action="store_true", help="skip time to 98%% accuracy")
    p.add_argument("--clock", choices=list(CLOCK), default="wall",
                   help="wall time (default) or this process's CPU time, steadier on a busy "
                        "machine when run with OPENBLAS_NUM_THREADS=1")


def run(args) -> int:
    """Run ``zerodl bench`` with parsed ``args``."""
    if args.rounds < 1:
        raise UsageError(f"--rounds must be >= 1; got {args.rounds}.")
    clock = CLOCK[args.clock]
    check_outputs(args, "--json", "--markdown", make_parents=True)   # before minutes of work
    report: dict = {"machine": machine(), "command": "zerodl " + " ".join(sys.argv[1:]),
                    "clock": args.clock}
    m = report["machine"]
    use_torch = False
    if args.no_torch:
        m["torch"] = "left out (--no-torch)"
    else:
        m["torch"] = setup_torch(blas_threads())
        use_torch = m["torch"] is not None
        if not use_torch:
            m["torch"] = "not installed: the torch column is empty"
    print(f"machine: {m['cpu']}, {m['cores']} cores, numpy {m['numpy']} ({m['blas']}, "
          f"{m['blas_threads']} threads), torch {m['torch']}, OPENBLAS env {m['openblas_env']}")
    # The peak is measured before and after the benchmarks and reported once, at the end:
    # other processes can only lower it, so the larger of the two counts.
    first_peak = sgemm_peak(clock=clock)
    (x, d), (x_test, d_test) = load_mnist(data_dir=args.data_dir)
    print(f"samples per second ({args.clock} clock), the best of {args.rounds} interleaved "
          f"rounds:", flush=True)
    show = lambda row: print(row_text(row), flush=True)
    report["training"] = bench_training(x, d, args.rounds, use_torch, clock=clock, progress=show)
    report["training"] += bench_day2(x, d, args.rounds, use_torch, clock=clock, progress=show)
    if not args.skip_conv:
        report["conv"] = bench_conv(x, d, args.rounds, use_torch, clock=clock, progress=show)
    report["predict"] = bench_predict(args.rounds, use_torch, clock=clock, progress=show)
    report["onnxruntime"] = onnx_bench_row(args.rounds, x_test, clock)
    print(onnx_row_text(report["onnxruntime"]))
    if not args.skip_memory:
        report["memory"] = peak_memory_of_train(args.data_dir)
        print(f"peak memory of `zerodl train` (defaults): "
              f"{report['memory'].get('peak_rss_mb', float('nan')):.0f} MB "
              f"{report['memory'].get('error', '')}")
    if not args.skip_accuracy:
        report["time_to_98"] = t = time_to_accuracy(
            x, d, x_test, d_test, clock=clock,
            progress=lambda epoch, accuracy, seconds: print(
                f"  epoch {epoch}: test accuracy {accuracy:.4f} after {seconds:.1f} s"))
        print(f"time to {t['target']:.1%} test accuracy: {t['train_seconds']:.1f} s of training, "
              f"{t['epochs']} epochs, reached {t['test_accuracy']:.4f} with {t['recipe']}")
    report["sgemm_peak_gflops"] = peak = max(first_peak, sgemm_peak(clock=clock))
    print(f"float32 sgemm peak (2048 x 2048): {peak:.1f} GFLOP/s, the larger of two "
          f"measurements, before and after the benchmarks")
    table = markdown(report)        # the same rows with GFLOP/s: in the files, not again here
    with atomic_write(args.json, "w") as f:
        json.dump(report, f, indent=1)
    if args.markdown:
        with atomic_write(args.markdown, "w") as f:
            f.write(table + "\n")
    print(f"results written to {args.json}"
          f"{f' and, as a Markdown table, to {args.markdown}' if args.markdown else ''}")
    return 0
