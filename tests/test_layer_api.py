"""The layer API of day 2: a user's own Layer, training mode, buffers, Flatten and N-D inputs,
and a run stopped mid-epoch recorded in the History."""
import numpy as np
import pytest

import zerodl
from zerodl import Dense, Flatten, Layer, ReLU, Sequential, mlp
from zerodl.callbacks import Callback
from zerodl.layers import BatchNormalization, Dropout

RNG = np.random.default_rng(0)
X = RNG.standard_normal((60, 4)).astype(np.float32)
D = (X[:, 0] + X[:, 1] > 0).astype(int)


class Scale(Layer):
    """A user's layer: only forward(x, training=False) and backward(dy); records the mode."""

    def __init__(self):
        super().__init__()
        self.modes = []

    def forward(self, x, training=False):
        self.modes.append(training)
        return 2.0 * x

    def backward(self, dy):
        return 2.0 * dy


def test_a_user_layer_trains_and_sees_training_true_in_fit_and_false_in_predict():
    scale = Scale()
    model = Sequential([Dense(4, 8, rng=np.random.default_rng(0)), scale, ReLU(),
                        Dense(8, 2, rng=np.random.default_rng(1))], seed=0)
    before = model.evaluate(X, D)["loss"]
    scale.modes.clear()
    model.fit(X, D, epochs=20, batch_size=10, verbose=0, optimizer="sgd")
    # 6 batches an epoch, each step in training mode; the one pass in inference mode is the
    # divergence watch measuring the untrained model's loss before the first step
    assert scale.modes.count(True) == 6 * 20 and scale.modes == [False] + [True] * 120
    scale.modes.clear()
    model.predict(X)
    model.evaluate(X, D)
    assert scale.modes == [False, False]
    assert model.evaluate(X, D)["loss"] < 0.7 * before
    # its backward is used: the gradient of a model with it passes the finite-difference check
    errors = zerodl.gradient_errors(Sequential([Dense(4, 3, rng=np.random.default_rng(2)),
                                                Scale(), Dense(3, 2)]), X[:5], D[:5])
    assert max(errors.values()) < 1e-6


def test_a_layer_without_the_training_argument_is_called_without_it():
    class Old(Layer):
        def forward(self, x):
            return x + 1

        def backward(self, dy):
            return dy

    model = Sequential([Dense(4, 3), Old(), Dense(3, 2)], seed=0)
    model.fit(X, D, epochs=1, batch_size=20, verbose=0)
    assert model.predict(X).shape == (60, 2)


def test_the_base_layer_says_what_to_define():
    with pytest.raises(NotImplementedError, match=r"Layer must define forward\(x, training=False\)"):
        Layer().forward(X)
    with pytest.raises(NotImplementedError, match=r"must define backward\(dy\)"):
        Layer().backward(X)


def test_flatten_is_a_view_and_its_backward_restores_the_shape():
    x = RNG.standard_normal((3, 2, 4, 5))
    f = Flatten()
    y = f.forward(x)
    assert y.shape == (3, 40) and np.shares_memory(x, y)
    np.testing.assert_array_equal(y[1], x[1].ravel())
    assert f.backward(y).shape == x.shape
    assert f.output_shape((2, 4, 5)) == (40,)


def test_images_train_through_flatten(mnist_dir):
    (x_train, d_train), (x_test, d_test) = zerodl.load_mnist(normalize=True, flatten=False,
                                                            one_hot_label=True)
    assert x_train.shape[1:] == (1, 28, 28)
    model = Sequential([Flatten(), Dense(784, 40, init=0.01, rng=np.random.default_rng(0)),
                        ReLU(), Dense(40, 10, init=0.01, rng=np.random.default_rng(1))],
                       input_shape=(1, 28, 28), seed=0)
    model.fit(x_train[:5000], d_train[:5000], steps=300, batch_size=100, verbose=0,
              optimizer=zerodl.optimizers.SGD(lr=0.1))
    assert model.evaluate(x_test[:2000], d_test[:2000])["accuracy"] > 0.8
    # the same numbers as the flat network with the same weights
    flat = mlp([784, 40, 10])
    flat.params = {key: value for key, value in model.params.items()}
    np.testing.assert_allclose(flat.predict(x_test[:50].reshape(50, -1)),
                               model.predict(x_test[:50]), rtol=1e-6)


def test_input_shape_rules():
    with pytest.raises(ValueError, match=r"input_shape must be given when the first layer is "
                                         r"not Dense .* the first layer is Flatten\(\)"):
        Sequential([Flatten(), Dense(784, 10)])
    with pytest.raises(ValueError, match=r"input_shape must be one sample's shape.*got \(0, 3\)"):
        Sequential([Flatten(), Dense(784, 10)], input_shape=(0, 3))
    with pytest.raises(ValueError, match=r"Dense\(n_in=784, .* must receive 784 features per "
                                         r"sample; the layer before it gives shape \(\d+,\)"):
        Sequential([Flatten(), Dense(784, 10)], input_shape=(1, 28, 29))
    with pytest.raises(ValueError, match=r"gives shape \(1, 28, 28\)\. End the network with "
                                         r"Flatten\(\) and a Dense layer"):
        Sequential([Scale()], input_shape=(1, 28, 28))


def test_images_into_a_network_that_starts_with_dense_are_refused_with_a_hint():
    model = mlp([784, 10], seed=0)
    images = np.zeros((5, 1, 28, 28), np.float32)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 784\), one row of 784 inputs "
                                         r"per sample, .* got shape \(5, 1, 28, 28\)\. Flatten "
                                         r"the samples first .* or start the network with "
                                         r"Flatten\(\)\."):
        model.predict(images)
    model = Sequential([Flatten(), Dense(784, 10)], input_shape=(1, 28, 28))
    assert model.predict(images).shape == (5, 10)
    assert model.predict(images[0]).shape == (1, 10)        # one sample without its batch axis
    with pytest.raises(ValueError, match=r"x must have shape \(N, 1, 28, 28\) .* got shape "
                                         r"\(5, 784\)"):
        model.predict(images.reshape(5, -1))


def test_parameter_and_buffer_keys_are_numbered_per_name():
    model = mlp([4, 6, 5, 2], batch_norm=True, seed=0)
    assert list(model.params) == ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2",
                                  "W3", "b3"]
    assert list(model.buffers) == ["running_mean1", "running_var1", "running_mean2",
                                   "running_var2"]
    bn = [layer for layer in model.layers if isinstance(layer, BatchNormalization)]
    assert model.params["gamma2"] is bn[1].params["gamma"]
    assert model.buffers["running_var1"] is bn[0].buffers["running_var"]


def test_mlp_builds_the_books_order_for_every_hidden_layer():
    model = mlp([4, 6, 5, 2], activation="relu", dropout=0.3, batch_norm=True, seed=0)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "BatchNormalization", "ReLU", "Dropout",
                     "Dense", "BatchNormalization", "ReLU", "Dropout", "Dense"]
    assert [layer.rate for layer in model.layers if isinstance(layer, Dropout)] == [0.3, 0.3]
    assert [type(layer).__name__ for layer in mlp([4, 6, 2], seed=0).layers] == \
        ["Dense", "ReLU", "Dense"]


def test_weight_decay_is_the_courses_half_lambda_w_squared_on_every_weight():
    lam = 0.3
    plain, decayed = mlp([4, 6, 2], seed=1), mlp([4, 6, 2], seed=1, weight_decay=lam)
    penalty = 0.5 * lam * sum(float(np.sum(plain.params[k].astype(np.float64) ** 2))
                              for k in ("W1", "W2"))
    assert decayed.penalty() == pytest.approx(penalty, rel=1e-6)
    assert decayed.loss(X, D) == pytest.approx(plain.loss(X, D) + penalty, rel=1e-6)
    g_plain, g_decayed = plain.gradient(X, D), decayed.gradient(X, D)
    for key in ("W1", "W2"):
        np.testing.assert_allclose(g_decayed[key], g_plain[key] + lam * plain.params[key],
                                   rtol=1e-5, atol=1e-7)
    for key in ("b1", "b2"):                                # biases are not penalised
        np.testing.assert_array_equal(g_decayed[key], g_plain[key])
    assert zerodl.gradient_check(decayed, X[:6], D[:6]) < 1e-6
    # fit's reported loss includes it, as the book's loss does
    history = decayed.fit(X, D, epochs=1, batch_size=60, verbose=0, seed=0)
    assert history.history["loss"][0] == pytest.approx(plain.loss(X, D) + penalty, rel=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    ({"weight_decay": -0.1}, r"^weight_decay must be a number in \[0\.0, inf\); got -0\.1\.$"),
    ({"weight_decay": float("nan")}, r"^weight_decay must be"),
    ({"dropout": 1.0}, r"^rate must be"),
    ({"dropout": -0.5}, r"^rate must be"),
    ({"batch_norm": "yes"}, r"^batch_norm must be"),
])
def test_mlp_refuses_bad_day_two_settings(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        mlp([4, 6, 2], **kwargs)


def test_gradient_check_passes_with_batch_norm_dropout_and_decay():
    model = mlp([4, 7, 6, 3], batch_norm=True, dropout=0.5, weight_decay=0.05, seed=3)
    model.fit(X, D, epochs=2, batch_size=10, verbose=0)       # running statistics move
    assert any(not np.all(b == 0) for k, b in model.buffers.items() if "mean" in k)
    assert zerodl.gradient_check(model, X[:8], D[:8]) < 1e-6


def test_one_seed_gives_one_run_with_dropout():
    runs = []
    for _ in range(2):
        model = mlp([4, 16, 2], dropout=0.5, seed=7)
        model.fit(X, D, epochs=3, batch_size=10, verbose=0)
        runs.append(model.params["W1"].copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    other = mlp([4, 16, 2], dropout=0.5, seed=8)
    other.fit(X, D, epochs=3, batch_size=10, verbose=0)
    assert not np.array_equal(other.params["W1"], runs[0])


def test_dropout_and_batch_norm_models_save_and_load_bit_identically(tmp_path):
    model = mlp([4, 8, 2], batch_norm=True, dropout=0.2, weight_decay=0.01, seed=0)
    model.fit(X, D, epochs=3, batch_size=10, verbose=0)
    model.save(tmp_path / "m.npz")
    same = zerodl.load(tmp_path / "m.npz")
    for table in ("params", "buffers"):
        for key, value in getattr(model, table).items():
            np.testing.assert_array_equal(getattr(same, table)[key], value)
    np.testing.assert_array_equal(same.predict(X), model.predict(X))
    assert same.get_config() == model.get_config()
    assert same.penalty() == model.penalty()


def test_checkpoint_and_resume_with_dropout_and_batch_norm_are_bit_identical(tmp_path):
    straight = mlp([4, 8, 2], batch_norm=True, dropout=0.3, seed=0)
    straight.fit(X, D, epochs=4, batch_size=10, verbose=0, optimizer="adam", seed=1)

    class StopAfter(Callback):
        def on_train_batch_end(self, batch, logs=None):
            if logs["step"] == 14:              # mid-epoch 3
                self.model.stop_training = True

    first = mlp([4, 8, 2], batch_norm=True, dropout=0.3, seed=0)
    first.fit(X, D, epochs=4, batch_size=10, verbose=0, optimizer="adam", seed=1,
              checkpoint=tmp_path / "run.npz", callbacks=[StopAfter()])
    second = mlp([4, 8, 2], batch_norm=True, dropout=0.3, seed=99)
    history = second.fit(X, D, epochs=4, batch_size=10, verbose=0, optimizer="adam", seed=1,
                         resume=tmp_path / "run.npz")
    for table in ("params", "buffers"):
        for key, value in getattr(straight, table).items():
            np.testing.assert_array_equal(getattr(second, table)[key], value, err_msg=key)
    assert history.epoch == [1, 2, 3, 4]        # the cut-short epoch 3 once, finished
    np.testing.assert_array_equal(history.history["loss"], straight.history.history["loss"])


def test_a_stop_mid_epoch_is_recorded_in_history_as_keras_does():
    class StopAt(Callback):
        def on_train_batch_end(self, batch, logs=None):
            if logs["step"] == 3:
                self.model.stop_training = True

    model = mlp([4, 8, 2], seed=0)
    history = model.fit(X, D, epochs=5, batch_size=10, verbose=0, callbacks=[StopAt()],
                        validation_data=(X, D))
    assert history.epoch == [1]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert history.n_steps == 3
    # the means over the three batches it ran
    assert 0 < history.history["loss"][0] < 2
