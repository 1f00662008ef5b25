"""confusion_matrix and the inspection plots: the drawn values are the model's own."""
import numpy as np
import pytest

import zerodl
from zerodl.inspection import activation_data, decision_field, worst_mistakes
from zerodl.metrics import class_labels
from zerodl.optimizers import Adam


@pytest.fixture(scope="module")
def spiral_model():
    x, d = zerodl.make_toy("spiral", 400, seed=0)
    model = zerodl.mlp([2, 32, 32, 2], activation="relu", seed=0)
    model.fit(x, d, epochs=150, batch_size=50, optimizer=Adam(lr=0.01), verbose=0, seed=0)
    return model, x, d


def test_a_2_32_32_2_relu_network_learns_the_spiral_with_adam(spiral_model):
    model, x, d = spiral_model
    assert model.evaluate(x, d)["accuracy"] >= 0.9


# -- confusion_matrix ---------------------------------------------------------------------
def test_confusion_matrix_against_a_hand_count():
    true = [0, 0, 1, 1, 1, 2, 2, 2, 2]
    pred = [0, 1, 1, 1, 2, 2, 2, 0, 2]
    # true 0: predicted 0 once, 1 once; true 1: 1 twice, 2 once; true 2: 2 three times, 0 once.
    expected = np.array([[1, 1, 0], [0, 2, 1], [1, 0, 3]])
    counts = zerodl.confusion_matrix(true, pred)
    assert counts.dtype == np.int64
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_array_equal(zerodl.confusion_matrix(true, pred, n_classes=4)[:3, :3], expected)
    assert zerodl.confusion_matrix(true, pred, n_classes=4)[3].sum() == 0


def test_confusion_matrix_takes_one_hot_and_probabilities():
    true = np.eye(3)[[0, 2, 1, 2]]
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.5, 0.4, 0.1], [0.3, 0.3, 0.4]])
    np.testing.assert_array_equal(zerodl.confusion_matrix(true, probabilities),
                                  [[1, 0, 0], [1, 0, 0], [0, 0, 2]])
    # One sigmoid column: >= 0.5 is class 1, and the matrix is 2 x 2 even if no 1 appears.
    np.testing.assert_array_equal(zerodl.confusion_matrix([0, 0], [[0.2], [0.6]]), [[1, 1], [0, 0]])


def test_class_labels_forms():
    np.testing.assert_array_equal(class_labels([2.0, 0.0]), [2, 0])
    np.testing.assert_array_equal(class_labels([[0.5], [0.49]]), [1, 0])


@pytest.mark.parametrize("true, pred, kwargs, exc, match", [
    ([0, 1], [0], {}, ValueError, "one prediction per label"),
    ([0, 1.5], [0, 1], {}, ValueError, "d_true must be class indices"),
    ([0, -1], [0, 1], {}, ValueError, "d_true must be class indices"),
    ([0, 1], [0, 3], {"n_classes": 2}, ValueError, "n_classes must be larger than every label"),
    ([0, 1], [0, 1], {"n_classes": 0}, ValueError, "n_classes must be an integer >= 1"),
    ([0, 1], [0, 1], {"n_classes": 2.0}, TypeError, "n_classes must be an integer"),
    ([], [], {}, ValueError, "d_true must hold at least one sample"),
    (np.zeros((2, 2, 2)), [0, 1], {}, ValueError, "d_true must be class indices of shape"),
])
def test_confusion_matrix_errors(true, pred, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        zerodl.confusion_matrix(true, pred, **kwargs)


# -- plots --------------------------------------------------------------------------------
def test_plot_confusion_draws_the_hand_countable_counts(tmp_path, spiral_model):
    model, x, d = spiral_model
    predicted = model.predict(x).argmax(1)
    fig = zerodl.plot_confusion(model, x, d, path=tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    ax = fig.axes[0]
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): int(t.get_text())
             for t in ax.texts}
    for i in range(2):
        for j in range(2):
            assert texts[(i, j)] == int(np.sum((d == i) & (predicted == j)))
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert len(fig.axes) == 2                                     # the colour bar


def test_activation_histograms_are_the_models_layer_outputs(spiral_model):
    model, x, _ = spiral_model
    outputs = model.layer_outputs(x)        # Dense, ReLU, Dense, ReLU, Dense
    data = activation_data(model, x)
    assert list(data) == ["layer 1 (ReLU)", "layer 2 (ReLU)"]
    np.testing.assert_array_equal(data["layer 1 (ReLU)"], outputs[1].ravel())
    np.testing.assert_array_equal(data["layer 2 (ReLU)"], outputs[3].ravel())
    fig = zerodl.plot_activations(model, x)
    for ax, values in zip(fig.axes, [outputs[1].ravel(), outputs[3].ravel()]):
        heights = np.array([p.get_height() for p in ax.patches])
        counts, _ = np.histogram(values, bins=30)
        np.testing.assert_allclose(heights, counts / values.size, rtol=1e-6)


def test_activation_data_without_activation_layers():
    model = zerodl.Sequential([zerodl.Dense(2, 3, rng=np.random.default_rng(0)),
                               zerodl.Dense(3, 2, rng=np.random.default_rng(1))])
    x = np.ones((4, 2), np.float32)
    data = activation_data(model, x)
    np.testing.assert_array_equal(data["layer 1 (linear)"], model.layer_outputs(x)[0].ravel())


def test_decision_field_is_predict_on_the_grid(spiral_model):
    model, x, d = spiral_model
    g0, g1, field = decision_field(model, x, resolution=25)
    assert field.shape == (25, 25)
    i, j = 7, 19
    point = np.array([[g0[j], g1[i]]], np.float32)
    np.testing.assert_allclose(field[i, j], model.predict(point)[0, 1], rtol=1e-5)
    grid = np.stack(np.meshgrid(g0, g1), -1).reshape(-1, 2)
    np.testing.assert_array_equal(field.ravel(), model.predict(grid)[:, 1])
    assert g0[0] < x[:, 0].min() and g0[-1] > x[:, 0].max()
    fig = zerodl.plot_decision_boundary(model, x, d, resolution=25)
    np.testing.assert_array_equal(np.asarray(fig.axes[0].images[0].get_array()), field)
    assert "accuracy" in fig.axes[0].get_title()


def test_decision_field_for_three_classes_and_regression():
    three = zerodl.mlp([2, 5, 3], seed=1)
    x = np.random.default_rng(0).uniform(-1, 1, (30, 2)).astype(np.float32)
    g0, g1, field = decision_field(three, x, resolution=6)
    grid = np.stack(np.meshgrid(g0, g1), -1).reshape(-1, 2)
    np.testing.assert_array_equal(field.ravel(), three.predict(grid).argmax(1))
    zerodl.plot_decision_boundary(three, x, np.arange(30) % 3, resolution=6)
    regression = zerodl.mlp([2, 4, 1], output="identity", seed=1)
    xp, dp = zerodl.make_toy("plane", 20, seed=0)
    g0, g1, field = decision_field(regression, xp, resolution=5)
    grid = np.stack(np.meshgrid(g0, g1), -1).reshape(-1, 2)
    np.testing.assert_array_equal(field.ravel(), regression.predict(grid)[:, 0])
    zerodl.plot_decision_boundary(regression, xp, dp, resolution=5)


def test_worst_mistakes_by_hand():
    # A sigmoid network with one weight: p(class 1) = sigmoid(w x). Points chosen so that
    # the mistakes and their order are known.
    model = zerodl.mlp([1, 1], output="sigmoid", seed=0)
    model.params["W1"][...] = 1.0
    model.params["b1"][...] = 0.0
    x = np.array([[-3.0], [-1.0], [2.0], [0.5], [-0.2]], np.float32)
    d = np.array([1, 1, 0, 1, 1])       # wrong: rows 0 (p1 = s(-3)), 1 (s(-1)), 2 (1 - s(2)), 4
    got = worst_mistakes(model, x, d, n=3)
    np.testing.assert_array_equal(got["index"], [0, 2, 1])   # s(-3) < 1-s(2)=s(-2) < s(-1)
    np.testing.assert_array_equal(got["true"], [1, 0, 1])
    np.testing.assert_array_equal(got["predicted"], [0, 1, 0])
    s = lambda v: 1 / (1 + np.exp(-v))
    np.testing.assert_allclose(got["p_true"], [s(-3), s(-2), s(-1)], rtol=1e-5)
    assert len(worst_mistakes(model, x, d, n=10)["index"]) == 4


def test_plot_mistakes_on_points_and_images(tmp_path):
    x, d = zerodl.make_toy("xor", 100, noise=0.3, seed=0)
    model = zerodl.mlp([2, 4, 2], seed=0)
    fig = zerodl.plot_mistakes(model, x, d, n=5, path=tmp_path / "m.png")
    wrong = worst_mistakes(model, x, d, n=5)
    circled = fig.axes[0].collections[-1].get_offsets()
    np.testing.assert_array_equal(np.asarray(circled), x[wrong["index"]])
    images = np.random.default_rng(0).random((12, 64)).astype(np.float32)
    labels = np.arange(12) % 3
    model = zerodl.mlp([64, 3], seed=0)
    fig = zerodl.plot_mistakes(model, images, labels, n=4)
    wrong = worst_mistakes(model, images, labels, n=4)
    shown = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(shown) == len(wrong["index"])
    np.testing.assert_array_equal(shown[0], images[wrong["index"][0]].reshape(8, 8))


def test_plot_weights_images_and_heat_map():
    model = zerodl.mlp([64, 5, 3], seed=0)
    fig = zerodl.plot_weights(model, 1)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 5
    np.testing.assert_array_equal(images[2].get_array(), model.params["W1"][:, 2].reshape(8, 8))
    fig = zerodl.plot_weights(model, 2)
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), model.params["W2"])
    with pytest.raises(ValueError, match=r"layer must be in 1..2"):
        zerodl.plot_weights(model, 3)


def test_plots_refuse_what_they_cannot_show():
    regression = zerodl.mlp([2, 3, 1], output="identity", seed=0)
    x, d = zerodl.make_toy("plane", 10, seed=0)
    with pytest.raises(ValueError, match="model must be a classifier"):
        zerodl.plot_confusion(regression, x, d)
    with pytest.raises(ValueError, match="x must have 2 features"):
        zerodl.plot_decision_boundary(zerodl.mlp([3, 2], seed=0), np.ones((4, 3)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="at least one hidden layer"):
        zerodl.plot_activations(zerodl.mlp([2, 2], seed=0), x)
    with pytest.raises(ValueError, match=r"d must hold classes 0..1, one per output"):
        zerodl.plot_mistakes(zerodl.mlp([2, 2], seed=0), np.ones((3, 2)), [0, 1, 2])
    with pytest.raises(ValueError, match="d must have one label per sample"):
        zerodl.plot_mistakes(zerodl.mlp([2, 2], seed=0), np.ones((3, 2)), [0, 1])
    with pytest.raises(ValueError, match="x must be images"):
        zerodl.plot_mistakes(zerodl.mlp([3, 2], seed=0), np.ones((4, 3)), [0, 1, 0, 1])
