"""`zerodl bench`'s command layer: the Markdown table from the suite's data, and usage errors."""
import json

from zerodl.tools.benchmarks import suite
from zerodl.cli import main
from zerodl.cli.bench import markdown, row_text

ROW = {"name": "course 784-40-10 B100 SGD", "samples_per_s": {"zerodl": 300_000.0,
       "torch": None, "plain": 250_000.0}, "gflops": {"zerodl": 40.0, "plain": 33.3},
       "zerodl_vs_torch": None, "zerodl_vs_plain": 1.2, "matmul_only_gflops": 116.0}
REPORT = {"machine": {"cpu": "CPU", "cores": 2, "python": "3.11", "numpy": "2", "blas": "B",
                      "blas_threads": 1, "torch": "left out (--no-torch)", "openblas_env": {}},
          "command": "zerodl bench --no-torch", "clock": "cpu", "sgemm_peak_gflops": 200.0,
          "training": [ROW], "predict": [],
          "memory": {"peak_rss_mb": 327.4}}


def test_markdown_row_from_the_suite_data():
    lines = markdown(REPORT).splitlines()
    assert lines[2] == ("| course 784-40-10 B100 SGD | 300,000 | - | 250,000 | - | 1.20 | "
                        "40.0 / - / 33.3 | 20% / - / 17% | 116.0 |")
    assert "Clock: cpu time. float32 sgemm peak (2048 x 2048): 200.0 GFLOP/s." in lines
    assert lines[-1] == "Peak memory of `zerodl train` (defaults): 327 MB."
    assert row_text(ROW).split() == ["course", "784-40-10", "B100", "SGD", "zerodl", "300,000",
                                     "torch", "-", "plain", "250,000", "samples/s",
                                     "zerodl/torch", "-", "zerodl/plain", "1.20"]
    json.dumps(REPORT)                  # the report is plain data


def test_bad_rounds_is_a_usage_error(capsys):
    assert main(["bench", "--rounds", "0"]) == 2
    err = capsys.readouterr().err
    assert err == "zerodl bench: --rounds must be >= 1; got 0.\n"


def test_rotations_give_every_contender_every_position():
    orders = list(suite._rotations(["zerodl", "plain", "torch"], 3))
    assert orders == [["zerodl", "plain", "torch"], ["plain", "torch", "zerodl"],
                      ["torch", "zerodl", "plain"]]
