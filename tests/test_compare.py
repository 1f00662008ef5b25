"""zerodl compare-optimizers and the new options of zerodl train, on a slice of MNIST."""
import numpy as np
import pytest

from zerodl import Sequential
from zerodl.cli import main
from zerodl.compare import compare_optimizers, format_table, plot_comparison


def _slice(n_train=400, n_test=200):
    rng = np.random.default_rng(0)
    x = rng.random((n_train + n_test, 784), dtype=np.float32)
    d = rng.integers(0, 10, n_train + n_test)
    return x[:n_train], d[:n_train], x[n_train:], d[n_train:]


def test_same_initial_weights_and_same_batches_for_every_optimizer(monkeypatch):
    seen = []
    original = Sequential.train_step

    def spy(self, x, d, optimizer, **kw):
        seen.append((type(optimizer).__name__, x[:, :3].copy(), d.copy()))
        return original(self, x, d, optimizer, **kw)

    monkeypatch.setattr(Sequential, "train_step", spy)
    results = compare_optimizers(["sgd", "adam", "rmsprop"], *_slice(), layers=(784, 16, 10),
                                 epochs=2, batch_size=64, eval_every=3, seed=5,
                                 lrs={"sgd": 0.2})
    per = {name: [(x, d) for n, x, d in seen if n == name] for name in ("SGD", "Adam", "RMSProp")}
    assert len(per["SGD"]) == 2 * 7
    for other in ("Adam", "RMSProp"):
        for (xa, da), (xb, db) in zip(per["SGD"], per[other]):
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(da, db)
    assert results["adam"]["loss"] != results["sgd"]["loss"]
    starts = {r["test_accuracy"][0] for r in results.values()}
    assert len(starts) == 1                                   # the same initial weights
    assert results["sgd"]["lr"] == 0.2 and results["adam"]["lr"] == 0.001
    for r in results.values():
        assert len(r["loss"]) == 14 and r["eval_step"] == [0, 3, 6, 9, 12, 14]
    table = format_table(results)
    assert table.splitlines()[0].split() == ["optimizer", "lr", "train", "loss", "test", "acc",
                                             "time", "(s)"]
    assert len(table.splitlines()) == 5
    fig = plot_comparison(results, title="t")
    assert len(fig.axes[1].lines) == 3


def test_compare_optimizers_command(mnist_dir, tmp_path, capsys):
    png = tmp_path / "cmp.png"
    status = main(["compare-optimizers", "--data-dir", str(mnist_dir), "--optimizers",
                   "sgd,adam", "--epochs", "1", "--train-size", "300", "--layers", "784-20-10",
                   "--lr", "sgd=0.1", "--plot", str(png), "--quiet"])
    out = capsys.readouterr().out
    assert status == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = [line.split() for line in out.splitlines()[2:]]
    assert [r[0] for r in rows] == ["sgd", "adam"] and rows[0][1] == "0.1"
    assert all(0.0 <= float(r[3]) <= 1.0 for r in rows)


@pytest.mark.parametrize("argv, message", [
    (["--optimizers", "sgd,lion"], "--optimizers must list names"),
    (["--lr", "adam"], "--lr must be NAME=VALUE"),
    (["--lr", "lion=0.1"], "unknown optimizer 'lion'"),
    (["--layers", "784-10-3"], "layers must go from 784 inputs to 10 outputs for mnist"),
])
def test_compare_command_usage_errors(argv, message, capsys, tmp_path):
    assert main(["compare-optimizers", "--plot", str(tmp_path / "x.png"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_train_command_with_schedule_and_clipping(mnist_dir, tmp_path, capsys):
    status = main(["train", "--data-dir", str(mnist_dir), "--optimizer", "adamw", "--iters",
                   "5", "--eval-every", "5", "--lr-schedule", "cosine", "--warmup-epochs", "0",
                   "--clip-norm", "1.0", "--clip-value", "0.5", "--plot",
                   str(tmp_path / "c.png"), "--quiet"])
    out = capsys.readouterr().out
    assert status == 0 and "test accuracy" in out


@pytest.mark.parametrize("argv, message", [
    (["--lr-gamma", "0.5"], "lr_gamma needs lr_schedule"),
    (["--lr-schedule", "exponential", "--lr-step-size", "2"],
     "step_size is not used by the 'exponential' schedule"),
    (["--lr-schedule", "linear"],
     "lr_schedule must be one of step, exponential, cosine, plateau or None; got 'linear'."),
    (["--clip-norm", "0"], "clip_norm must be a number in (0.0, inf) or None; got 0.0."),
])
def test_train_command_usage_errors(argv, message, capsys, mnist_dir, tmp_path):
    assert main(["train", "--data-dir", str(mnist_dir), "--iters", "1", "--plot",
                 str(tmp_path / "x.png"), "--quiet", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
