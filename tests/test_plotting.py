"""Training curves: what is drawn is the History's numbers, and the file is a PNG."""
import numpy as np

from zerodl import History, plot_history


def _history(steps=False, accuracy=True):
    h = History()
    h.epoch = [1, 2, 3]
    h.history = {"loss": [0.9, 0.5, 0.4], "val_loss": [1.0, 0.6, 0.5]}
    if accuracy:
        h.history.update(accuracy=[0.7, 0.8, 0.85], val_accuracy=[0.6, 0.75, 0.8])
    if steps:
        h.steps = {"step": [10, 20], "loss": [0.8, 0.6], "val_loss": [0.9, 0.7],
                   "accuracy": [0.7, 0.8], "val_accuracy": [0.65, 0.7]}
    return h


def test_epoch_curves_match_history(tmp_path):
    path = tmp_path / "c.png"
    fig = plot_history(_history(), path, title="t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_xlabel() == "epoch"
    train, test = loss_ax.get_lines()
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(train.get_ydata(), [0.9, 0.5, 0.4])
    np.testing.assert_array_equal(test.get_ydata(), [1.0, 0.6, 0.5])
    assert [line.get_label() for line in acc_ax.get_lines()] == ["train", "test"]
    np.testing.assert_array_equal(acc_ax.get_lines()[1].get_ydata(), [0.6, 0.75, 0.8])
    assert {t.get_text() for t in acc_ax.texts} == {"0.8500", "0.8000"}


def test_step_curves_preferred_and_regression_has_one_panel():
    fig = plot_history(_history(steps=True))
    assert fig.axes[0].get_xlabel() == "iteration"
    np.testing.assert_array_equal(fig.axes[1].get_lines()[0].get_xdata(), [10, 20])
    assert len(plot_history(_history(accuracy=False)).axes) == 1
