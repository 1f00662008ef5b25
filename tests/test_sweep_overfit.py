"""The overfit preset of `zerodl sweep` (weight decay x dropout on 300 MNIST images) and the
train/test gap in the sweep's table and plot; tiny runs on a toy set, nothing timed."""
import numpy as np
import pytest

from zerodl import cli
from zerodl.sweeps import PRESETS, Sweep, expand, sweep

# The preset's grid with its fixed entries shrunk: a 2-6-2 network on 40 moons points.
TINY = {**PRESETS["overfit"], "layers": ["2-6-2"], "n_train": [40], "epochs": [3]}


def test_the_preset_is_day_2s_experiment_and_checks_on_mnist():
    grid = PRESETS["overfit"]
    assert grid["weight_decay"] == [0.0, 0.1] and grid["dropout"] == [0.0, 0.2]
    configs = expand(grid, dataset="mnist")
    assert len(configs) == 4
    for config in configs:
        assert config["layers"] == [784] + [100] * 6 + [10] and config["n_train"] == 300
    assert [(c["weight_decay"], c["dropout"]) for c in configs] == [
        (0.0, 0.0), (0.0, 0.2), (0.1, 0.0), (0.1, 0.2)]


@pytest.fixture(scope="module")
def tiny_result():
    return sweep(TINY, base={"n_test": 30, "batch_size": 20}, dataset="moons", seeds=(0, 1),
                 verbose=0)


def test_labels_name_only_the_settings_that_vary(tiny_result):
    assert tiny_result.varying() == ["weight_decay", "dropout"]
    assert [row["label"] for row in tiny_result.summary()] == [
        "weight_decay=0 dropout=0", "weight_decay=0 dropout=0.2",
        "weight_decay=0.1 dropout=0", "weight_decay=0.1 dropout=0.2"]


def test_gap_is_training_set_accuracy_minus_test_accuracy(tiny_result):
    for row, (config, records) in zip(tiny_result.summary(), tiny_result.configs()):
        # evaluate on the training set after training, in inference mode (dropout off)
        trains = [r["train"]["accuracy"] for r in records]
        tests = [r["test"]["accuracy"] for r in records]
        assert row["train_accuracy"] == pytest.approx(np.mean(trains))
        assert row["gap"] == pytest.approx(np.mean(trains) - np.mean(tests))
    lines = tiny_result.table().splitlines()
    assert lines[0].split() == ["config", "seeds", "test", "accuracy", "test", "loss", "train",
                                "accuracy", "gap", "s/run"]
    first = tiny_result.summary()[0]
    assert f"{first['gap']:.4f}" in lines[2] and f"{first['train_accuracy']:.4f}" in lines[2]


def test_hand_made_records_give_the_gap_in_table_and_plot(tmp_path):
    config = expand({"lr": [0.1]}, base={"layers": "2-6-2", "iters": 4}, dataset="moons")[0]
    records = [{"config": config, "seed": s, "history": {"epoch": [1, 2], "accuracy": [0.5, tr]},
                "curve": {"step": [1, 2], "loss": [1.0, 0.5], "accuracy": [0.5, tr]},
                "test": {"loss": 0.6, "accuracy": te}, "seconds": 1.0, "worker": "local"}
               for s, (tr, te) in enumerate([(1.0, 0.7), (0.9, 0.7)])]
    result = Sweep(records, ["lr"])
    (row,) = result.summary()
    # records without "train" (written before sweeps kept it): the last epoch's accuracy
    assert row["train_accuracy"] == pytest.approx(0.95) and row["gap"] == pytest.approx(0.25)
    assert "0.9500 ± 0.0707" in result.table() and "0.2500" in result.table()
    fig = result.plot(tmp_path / "gap.png")
    final_ax = fig.axes[-1]
    triangles = [line for line in final_ax.get_lines() if line.get_marker() == "^"]
    assert [list(t.get_ydata()) for t in triangles] == [[pytest.approx(0.95)]]
    assert any(t.get_text() == "gap 0.250" for t in final_ax.texts)


def test_without_accuracy_there_is_no_gap_column():
    config = expand({"lr": [0.1]}, base={"layers": "2-6-2", "iters": 4}, dataset="moons")[0]
    record = {"config": config, "seed": 0, "history": {"epoch": [1], "loss": [0.3]},
              "curve": {"step": [1], "loss": [0.3]}, "test": {"loss": 0.4}, "seconds": 1.0,
              "worker": "local"}
    result = Sweep([record], ["lr"])
    assert "gap" not in result.table() and "gap" not in result.summary()[0]


def test_cli_runs_the_preset_and_refuses_a_second_layers(capsys):
    assert cli.main(["sweep", "--preset", "overfit", "--layers", "784-10-10"]) == 2
    assert "layers" in capsys.readouterr().err
