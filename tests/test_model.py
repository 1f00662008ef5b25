"""Sequential/mlp: backprop, the course's cells, training mechanics, files."""
import numpy as np
import pytest

import zerodl
from zerodl import Dense, ReLU, Sequential, mlp
from zerodl.gradcheck import GRADIENT_CHECK_TOLERANCE
from zerodl.layers import ACTIVATIONS
from zerodl.losses import OUTPUTS
from zerodl.optimizers import SGD
from zerodl.trace import course_232     # the course's 2-3-2 network and its fixed weights

RNG = np.random.default_rng(0)


def test_course_232_backprop_cell_hand_worked():
    model = course_232()
    x, d = np.array([[1.0, 5.0]]), np.array([[0, 1]])
    # u1 = [1.2, 2.5, 3.8], u2 = [1.86, 4.21], y = softmax(u2)
    y2 = 1 / (1 + np.exp(1.86 - 4.21))
    np.testing.assert_allclose(model.predict(x), [[1 - y2, y2]])
    grads = model.gradient(x, d)
    delta2 = np.array([1 - y2, -(1 - y2)])                 # y - d
    np.testing.assert_allclose(grads["b2"], delta2)
    np.testing.assert_allclose(grads["W2"], np.outer([1.2, 2.5, 3.8], delta2))
    delta1 = delta2 @ np.array([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]).T   # all u1 > 0
    np.testing.assert_allclose(grads["b1"], delta1)
    np.testing.assert_allclose(grads["W1"], np.outer([1.0, 5.0], delta1))
    assert grads["W1"][1, 0] == pytest.approx(-0.1306, abs=5e-5)
    # one SGD step as in the course: params -= 0.01 * grad
    before = {k: v.copy() for k, v in model.params.items()}
    SGD(lr=0.01).update(model.params, grads)
    for key in before:
        np.testing.assert_allclose(model.params[key], before[key] - 0.01 * grads[key])


@pytest.mark.parametrize("activation", [a for a in ACTIVATIONS if a != "step"])
@pytest.mark.parametrize("output", list(OUTPUTS))
def test_gradient_check_every_activation_and_output(activation, output):
    model = mlp([4, 5, 3, 3], activation=activation, output=output, init="xavier", seed=1,
                dtype=np.float64)
    x = RNG.standard_normal((6, 4))
    d = {"softmax": RNG.integers(0, 3, 6), "sigmoid": RNG.integers(0, 2, (6, 3)).astype(float),
         "identity": RNG.standard_normal((6, 3))}[output]
    assert zerodl.gradient_check(model, x, d) < GRADIENT_CHECK_TOLERANCE


def test_params_are_the_layers_arrays_with_course_keys():
    model = mlp([784, 40, 10], seed=0)
    assert list(model.params) == ["W1", "b1", "W2", "b2"]
    assert model.params["W1"].shape == (784, 40) and model.params["b2"].shape == (10,)
    assert model.params["W1"] is model.layers[0].W
    assert list(model.grads) == list(model.params)


def test_init_by_number_and_name():
    w = mlp([500, 400, 2], init=0.01, seed=0).params["W1"]
    assert w.std() == pytest.approx(0.01, rel=0.02)
    he = mlp([500, 400, 2], init="he", seed=0).params["W1"]
    assert he.std() == pytest.approx(np.sqrt(2 / 500), rel=0.02)
    xavier = mlp([500, 400, 2], init="xavier", seed=0).params["W1"]
    assert xavier.std() == pytest.approx(np.sqrt(1 / 500), rel=0.02)
    uniform = mlp([500, 400, 2], init="uniform", seed=0).params["W1"]
    assert 0 <= uniform.min() and uniform.max() < 1 and uniform.mean() == pytest.approx(0.5, abs=0.01)
    with pytest.raises(ValueError, match="valid names are: he, xavier"):
        mlp([2, 2], init="kaiming")


def test_float32_end_to_end_with_float64_inputs():
    model = mlp([6, 5, 3], seed=0)
    x = RNG.standard_normal((20, 6))                     # float64 on purpose
    d = np.eye(3)[RNG.integers(0, 3, 20)]                # float64 one-hot
    model.fit(x, d, epochs=2, batch_size=5, verbose=0)
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert all(g.dtype == np.float32 for g in model.gradient(x, d).values())
    assert model.predict(x).dtype == np.float32
    assert mlp([2, 3], dtype=np.float64).predict(np.ones((1, 2))).dtype == np.float64


def test_integer_and_one_hot_labels_agree():
    model = mlp([4, 6, 3], seed=3, dtype=np.float64)
    x = RNG.standard_normal((7, 4))
    labels = RNG.integers(0, 3, 7)
    assert model.loss(x, labels) == pytest.approx(model.loss(x, np.eye(3)[labels]))
    g_int, g_hot = model.gradient(x, labels), model.gradient(x, np.eye(3)[labels])
    for key in g_int:
        np.testing.assert_allclose(g_int[key], g_hot[key])


def test_same_seed_bit_identical_and_global_state_untouched():
    x = RNG.standard_normal((50, 4)).astype(np.float32)
    d = RNG.integers(0, 3, 50)
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    runs = []
    for _ in range(2):
        model = mlp([4, 8, 3], seed=7)
        hist = model.fit(x, d, epochs=3, batch_size=8, optimizer=SGD(0.1), verbose=0)
        runs.append((model.params, hist.history))
    for key in runs[0][0]:
        np.testing.assert_array_equal(runs[0][0][key], runs[1][0][key])
    assert runs[0][1] == runs[1][1]
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    other = mlp([4, 8, 3], seed=8)
    assert not np.array_equal(other.params["W1"], runs[0][0]["W1"])


def _recorded_batches(model, x, d, **kw):
    seen = []
    original = model.train_step

    def spy(xb, db, optimizer):
        seen.append(xb[:, 0].astype(int).tolist())
        return original(xb, db, optimizer)

    model.train_step = spy
    model.fit(x, d, verbose=0, optimizer=SGD(0.0), **kw)
    return seen


def test_batches_shuffle_without_replacement_each_epoch():
    x = np.arange(10, dtype=np.float32).reshape(-1, 1).repeat(2, axis=1)
    d = np.arange(10) % 2
    model = mlp([2, 3, 2], seed=0)
    batches = _recorded_batches(model, x, d, epochs=2, batch_size=4, seed=1)
    assert [len(b) for b in batches] == [4, 4, 2, 4, 4, 2]
    first, second = sum(batches[:3], []), sum(batches[3:], [])
    assert sorted(first) == sorted(second) == list(range(10))
    assert first != second


def test_online_full_batch_and_steps():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    d = np.arange(6) % 2
    model = mlp([2, 3, 2], seed=0)
    assert [len(b) for b in _recorded_batches(model, x, d, epochs=1, batch_size=1)] == [1] * 6
    assert [len(b) for b in _recorded_batches(model, x, d, epochs=3, batch_size=None)] == [6] * 3
    hist = mlp([2, 3, 2], seed=0).fit(x, d, batch_size=4, steps=5, verbose=0)
    assert hist.epoch == [1, 2, 3]          # 2 steps per epoch: 2 + 2 + 1


def test_history_keys_and_eval_every():
    x = RNG.standard_normal((40, 3)).astype(np.float32)
    d = (x[:, 0] > 0).astype(int)
    model = mlp([3, 6, 2], seed=0)
    hist = model.fit(x, d, epochs=4, batch_size=10, optimizer=SGD(0.5),
                     validation_data=(x[:10], d[:10]), verbose=0, eval_every=2)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert all(len(v) == 4 for v in hist.history.values()) and hist.epoch == [1, 2, 3, 4]
    assert hist.steps["step"] == list(range(2, 17, 2))
    final = model.evaluate(x, d)
    assert hist.steps["loss"][-1] == pytest.approx(final["loss"])
    assert hist.steps["accuracy"][-1] == pytest.approx(final["accuracy"])
    assert hist.history["loss"][-1] < hist.history["loss"][0]


def test_online_regression_cell_converges():
    """The course's online regression: y = 3 x0 + 2 x1, 2-10-1, SGD lr 0.07, batch 1."""
    rng = np.random.default_rng(0)
    x = rng.random((1000, 2)).astype(np.float32)
    d = (3 * x[:, 0] + 2 * x[:, 1]).reshape(-1, 1)
    model = mlp([2, 10, 1], activation="relu", output="identity", init="he", seed=0)
    start = model.loss(x, d)
    hist = model.fit(x, d, steps=1000, batch_size=1, optimizer=SGD(lr=0.07), verbose=0)
    assert start > 1.0
    assert model.loss(x, d) < 0.01 * start
    assert "accuracy" not in hist.history
    assert set(model.evaluate(x, d)) == {"loss"}


def test_sigmoid_binary_classifier_learns():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 2)).astype(np.float32)
    d = (x[:, 0] * x[:, 1] > 0).astype(np.float32)           # XOR-like quadrants
    model = mlp([2, 16, 1], activation="tanh", output="sigmoid", init="xavier", seed=0)
    model.fit(x, d, epochs=200, batch_size=30, optimizer=SGD(0.5), verbose=0)
    assert model.evaluate(x, d)["accuracy"] > 0.95


def test_summary_table(capsys):
    mlp([784, 40, 10]).summary()
    text = capsys.readouterr().out
    assert "Dense(n_in=784, n_out=40" in text and "31,400" in text and "410" in text
    assert "Total params: 31,810" in text


def test_hand_built_sequential_checks_sizes():
    with pytest.raises(ValueError, match="n_out=3 is followed by one with n_in=4"):
        Sequential([Dense(2, 3), ReLU(), Dense(4, 2)])
    with pytest.raises(ValueError, match="empty"):
        Sequential([])
    with pytest.raises(ValueError, match="valid names are: softmax, sigmoid, identity"):
        Sequential([Dense(2, 2)], output="softplus")


def test_feature_count_error_names_both_numbers():
    with pytest.raises(ValueError, match="784 features.*got 783"):
        mlp([784, 10]).predict(np.zeros((2, 783)))
    with pytest.raises(ValueError, match="3 labels for 2 samples"):
        mlp([4, 2]).loss(np.zeros((2, 4)), [0, 1, 1])
