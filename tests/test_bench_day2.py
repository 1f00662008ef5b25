"""Day 2's `zerodl bench` row (batch norm and dropout) runs, and its PyTorch twin is the same
network: tiny sizes, nothing timed."""
import numpy as np
import pytest

from zerodl.cli.bench import markdown, row_text
from zerodl.tools.benchmarks import day2_rows, suite
from zerodl.tools.benchmarks.loops import initial_weights

TINY = [("tiny BN+dropout", [12, 8, 8, 3], 10, "sgd", 0.1, 0.2, 4)]


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 12), dtype=np.float32), rng.integers(0, 3, n)


def test_the_row_runs_and_has_the_suites_shape():
    x, d = _data()
    seen = []
    rows = suite.bench_day2(x, d, rounds=2, use_torch=False, configs=TINY, progress=seen.append)
    assert seen == rows and len(rows) == 1
    row = rows[0]
    assert row["name"] == "tiny BN+dropout" and row["samples_per_s"]["zerodl"] > 0
    assert row["samples_per_s"]["torch"] is None and row["zerodl_vs_torch"] is None
    assert len(row["raw_samples_per_s"]["zerodl"]) == 2
    assert row_text(row).split()[:4] == ["tiny", "BN+dropout", "zerodl", row_text(row).split()[3]]
    report = {"machine": {"cpu": "CPU", "cores": 2, "python": "3", "numpy": "2", "blas": "B",
                          "blas_threads": 1, "torch": "-", "openblas_env": {}},
              "command": "zerodl bench", "sgemm_peak_gflops": 100.0, "training": rows,
              "predict": []}
    table = markdown(report)
    assert "| tiny BN+dropout * |" in table and "\\* tiny BN+dropout: no plain NumPy" in table


def test_the_default_config_is_day_2s_network():
    (name, sizes, batch, opt, lr, rate, steps), = day2_rows.DAY2_CONFIGS
    assert sizes == [784, 100, 100, 100, 10] and rate > 0


def test_the_zerodl_contender_holds_the_given_weights_with_bn_and_dropout():
    x, d = _data()
    weights = initial_weights([12, 8, 8, 3], 0)
    train, model = day2_rows.zerodl_day2_loop(x, d, [12, 8, 8, 3], 10, "sgd", 0.1, 0.2, 3,
                                              weights, 0)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds[:4] == ["Dense", "BatchNormalization", "ReLU", "Dropout"]
    assert np.array_equal(model.params["W2"], weights[1][0])
    train()
    assert not np.array_equal(model.params["W2"], weights[1][0])


def test_torch_contender_is_the_same_network():
    torch = pytest.importorskip("torch")
    x, d = _data()
    sizes = [12, 8, 8, 3]
    weights = initial_weights(sizes, 0)
    _, model = day2_rows.zerodl_day2_loop(x, d, sizes, 10, "sgd", 0.1, 0.2, 1, weights, 0)
    net = day2_rows.torch_day2_net(weights, 0.2)
    # training mode with the masks switched off: batch statistics, no dropout, on both sides
    for layer in net:
        if isinstance(layer, torch.nn.Dropout):
            layer.p = 0.0
    net.train()
    for layer in model.layers:
        if type(layer).__name__ == "Dropout":
            layer.rate = 0.0
    ours = model.layers[0].forward(x)
    for layer in model.layers[1:]:
        ours = layer.forward(ours, training=True)
    with torch.no_grad():
        theirs = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    train, net = day2_rows.torch_day2_loop(x, d, sizes, 10, "sgd", 0.1, 0.2, 3, weights, 0)
    train()
