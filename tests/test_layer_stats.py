"""LayerStats: each recorded number recomputed from the model's own gradients and outputs."""
import numpy as np
import pytest

import zerodl
from zerodl.callbacks import Callback
from zerodl.layer_stats import SATURATION_MARGIN, LayerStats
from zerodl.optimizers import SGD


class Snapshots(Callback):
    """Keeps each step's batch and the weights before its update (placed before LayerStats)."""

    def __init__(self):
        super().__init__()
        self.before, self.batches = [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.before.append({k: p.copy() for k, p in self.model.params.items()})

    def on_train_batch_end(self, batch, logs=None):
        x, d = self.run.batch
        self.batches.append((x.copy(), d.copy()))


def twin(model, params):
    other = zerodl.mlp([model.n_in] + [dense.n_out for dense in model.dense],
                       activation=type(model.layers[1]).__name__.lower(), seed=0)
    for key, p in params.items():
        other.params[key][...] = p
    return other


@pytest.fixture(scope="module")
def run():
    x, d = zerodl.make_toy("moons", 300, noise=0.1, seed=0)
    model = zerodl.mlp([2, 16, 8, 2], activation="relu", seed=1)
    snaps, stats = Snapshots(), LayerStats(every=3)
    model.fit(x, d, steps=20, batch_size=32, optimizer=SGD(lr=0.1), verbose=0, seed=0,
              callbacks=[snaps, stats])
    return model, snaps, stats


def test_steps_keys_and_fields(run):
    _, _, stats = run
    assert stats.steps == [3, 6, 9, 12, 15, 18]
    assert list(stats.history) == ["W1", "W2", "W3"]
    relu_fields = ["activation_mean", "activation_std", "dead_fraction", "grad_norm", "update_ratio"]
    assert list(stats.history["W1"]) == relu_fields
    assert list(stats.history["W3"]) == ["activation_mean", "activation_std", "grad_norm",
                                         "update_ratio"]
    assert all(len(v) == 6 for table in stats.history.values() for v in table.values())


def test_grad_norm_is_the_norm_of_model_gradient_on_the_same_batch(run):
    model, snaps, stats = run
    for n, step in enumerate(stats.steps):
        x, d = snaps.batches[step - 1]
        g = twin(model, snaps.before[step - 1]).gradient(x, d)
        for key in stats.history:
            np.testing.assert_allclose(stats.history[key]["grad_norm"][n],
                                       np.linalg.norm(g[key]), rtol=1e-5)


def test_update_ratio_of_an_sgd_step_is_lr_times_grad_norm_over_weight_norm(run):
    model, snaps, stats = run
    for n, step in enumerate(stats.steps):
        after = snaps.before[step] if step < len(snaps.before) else model.params
        for key in stats.history:
            W0 = snaps.before[step - 1][key]
            ratio = stats.history[key]["update_ratio"][n]
            np.testing.assert_allclose(ratio, np.linalg.norm(after[key] - W0) / np.linalg.norm(W0),
                                       rtol=1e-5)
            np.testing.assert_allclose(ratio, 0.1 * stats.history[key]["grad_norm"][n]
                                       / np.linalg.norm(W0), rtol=1e-3)


def test_activation_statistics_are_those_of_layer_outputs_on_the_batch(run):
    model, snaps, stats = run
    step = stats.steps[-1]
    x, _ = snaps.batches[step - 1]
    outputs = twin(model, snaps.before[step]).layer_outputs(x)   # weights after that update
    for key, z in (("W1", outputs[1]), ("W2", outputs[3]), ("W3", outputs[4])):
        np.testing.assert_allclose(stats.history[key]["activation_mean"][-1], z.mean(), rtol=1e-5)
        np.testing.assert_allclose(stats.history[key]["activation_std"][-1], z.std(), rtol=1e-5)
    dead = np.mean(np.all(outputs[1] == 0, axis=0))
    assert stats.history["W1"]["dead_fraction"][-1] == dead


def test_dead_units_counted_by_hand():
    x, d = zerodl.make_toy("circle", 100, seed=0)
    model = zerodl.mlp([2, 8, 2], activation="relu", seed=0)
    model.params["b1"][:3] = -100.0     # three units can never output anything but 0
    model.params["b1"][3:] = 100.0      # and the five others are always on
    stats = LayerStats(every=1, x=x)
    model.fit(x, d, steps=4, batch_size=25, optimizer=SGD(lr=1e-4), verbose=0, callbacks=[stats])
    assert stats.history["W1"]["dead_fraction"] == [3 / 8] * 4
    assert stats.steps == [1, 2, 3, 4]


@pytest.mark.parametrize("activation, saturated", [
    ("sigmoid", lambda z: (z <= SATURATION_MARGIN) | (z >= 1 - SATURATION_MARGIN)),
    ("tanh", lambda z: np.abs(z) >= 1 - SATURATION_MARGIN),
])
def test_saturated_fraction_on_a_fixed_x(activation, saturated):
    x, d = zerodl.make_toy("gaussian", 60, seed=0)
    model = zerodl.mlp([2, 10, 2], activation=activation, init=8.0, seed=0)   # large weights
    stats = LayerStats(every=5, x=x)
    model.fit(x, d, steps=10, batch_size=20, optimizer=SGD(lr=0.01), verbose=0, callbacks=[stats])
    z = model.layer_outputs(x)[1]
    expected = np.mean(saturated(z))
    assert 0.1 < expected < 0.9                  # a test that can fail both ways
    np.testing.assert_allclose(stats.history["W1"]["saturated_fraction"][-1], expected)
    assert "dead_fraction" not in stats.history["W1"]


def test_plot_layer_stats_draws_the_history(run, tmp_path):
    _, _, stats = run
    fig = zerodl.plot_layer_stats(stats, path=tmp_path / "s.png")
    assert (tmp_path / "s.png").exists()
    panels = {ax.get_title(): ax for ax in fig.axes if ax.get_title()}
    assert set(panels) == {"activation mean", "activation std", "dead fraction", "grad norm",
                           "update ratio"}
    lines = {line.get_label(): line for line in panels["grad norm"].get_lines()}
    for key in ("W1", "W2", "W3"):
        np.testing.assert_array_equal(lines[key].get_xdata(), stats.steps)
        np.testing.assert_array_equal(lines[key].get_ydata(), stats.history[key]["grad_norm"])
    assert panels["grad norm"].get_yscale() == "log"
    with pytest.raises(ValueError, match="stats must hold recorded steps"):
        zerodl.plot_layer_stats(LayerStats())


def test_bad_arguments():
    with pytest.raises(ValueError, match="every must be an integer >= 1"):
        LayerStats(every=0)
    with pytest.raises(TypeError, match="every must be an integer"):
        LayerStats(every=2.5)
    model = zerodl.mlp([2, 3, 2], seed=0)
    with pytest.raises(ValueError, match="LayerStats x must have 2 features"):
        model.fit(np.ones((4, 2)), [0, 1, 0, 1], steps=1, verbose=0,
                  callbacks=[LayerStats(x=np.ones((4, 3)))])


def test_with_batch_norm_the_activation_is_the_one_after_it():
    model = zerodl.mlp([4, 8, 8, 2], batch_norm=True, dropout=0.2, activation="sigmoid", seed=0)
    x = np.random.default_rng(0).random((64, 4))
    d = (x[:, 0] > 0.5).astype(int)
    stats = LayerStats(every=1, x=x)
    model.fit(x, d, epochs=1, batch_size=32, verbose=0, callbacks=[stats])
    assert "saturated_fraction" in stats.history["W1"]        # the sigmoid's, not batch norm's
    sigmoid_out = model.layer_outputs(x)[2]                    # Dense, BN, Sigmoid
    assert stats.history["W1"]["activation_mean"][-1] == pytest.approx(float(sigmoid_out.mean()),
                                                                      rel=1e-6)
