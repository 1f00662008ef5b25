"""Layers: every backward against central finite differences, and against PyTorch."""
import numpy as np
import pytest

from zerodl.functions import numerical_gradient
from zerodl.layers import ACTIVATIONS, Dense, LeakyReLU, Step, layer_from_config

RNG = np.random.default_rng(0)
TRAINABLE = [name for name in ACTIVATIONS if name != "step"]


def _away_from_kink(shape):
    """Inputs at least 0.1 away from 0, where ReLU-like derivatives jump."""
    x = RNG.uniform(0.1, 2.0, shape) * RNG.choice([-1.0, 1.0], shape)
    return x


def _check_backward(layer, x, atol=1e-7):
    """dE/dx from backward equals finite differences of E = sum(w * layer(x))."""
    w = RNG.standard_normal(layer.forward(x.copy()).shape)
    y = layer.forward(x)
    dy = w.copy()
    dx = layer.backward(dy)
    np.testing.assert_array_equal(dy, w, err_msg="backward modified the incoming gradient")
    numeric = numerical_gradient(lambda v: float(np.sum(w * layer.forward(v))), x.copy())
    np.testing.assert_allclose(dx, numeric, atol=atol, rtol=1e-6)
    return y


@pytest.mark.parametrize("name", TRAINABLE)
def test_activation_backward_matches_finite_differences(name):
    layer = ACTIVATIONS.get(name)()
    _check_backward(layer, _away_from_kink((4, 5)))


def test_dense_backward_matches_finite_differences():
    layer = Dense(5, 3, init="xavier", rng=np.random.default_rng(1), dtype=np.float64)
    layer.params["b"][:] = RNG.standard_normal(3)
    x = RNG.standard_normal((4, 5))
    w = RNG.standard_normal((4, 3))
    layer.forward(x)
    layer.backward(w)
    loss = lambda: float(np.sum(w * layer.forward(x)))
    for key in ("W", "b"):
        numeric = numerical_gradient(lambda p: (layer.params[key].__setitem__(..., p), loss())[1],
                                     layer.params[key].copy())
        np.testing.assert_allclose(layer.grads[key], numeric, atol=1e-7)
    numeric_x = numerical_gradient(lambda v: float(np.sum(w * layer.forward(v))), x.copy())
    layer.forward(x)
    np.testing.assert_allclose(layer.backward(w), numeric_x, atol=1e-7)


def test_dense_hand_worked_single_unit():
    # The course's first cell: x = [2, 3], W = [0.1, 0.2], b = 0.5 -> u = 1.3
    layer = Dense(2, 1, init="zeros", dtype=np.float64)
    layer.params["W"][:, 0] = [0.1, 0.2]
    layer.params["b"][:] = 0.5
    np.testing.assert_allclose(layer.forward(np.array([[2.0, 3.0]])), [[1.3]])


def test_relu_derivative_at_zero_is_zero():
    layer = ACTIVATIONS.get("relu")()
    layer.forward(np.array([[0.0, -1.0, 2.0]]))
    np.testing.assert_array_equal(layer.backward(np.ones((1, 3))), [[0.0, 0.0, 1.0]])


def test_leaky_relu_slope():
    layer = LeakyReLU(alpha=0.1)
    np.testing.assert_allclose(layer.forward(np.array([[-2.0, 3.0]])), [[-0.2, 3.0]])
    np.testing.assert_allclose(layer.backward(np.array([[1.0, 1.0]])), [[0.1, 1.0]])


def test_step_forward_and_refused_backward():
    layer = Step()
    np.testing.assert_array_equal(layer.forward(np.array([[-1.0, 0.0, 0.5]])), [[0, 0, 1]])
    with pytest.raises(RuntimeError, match="no useful gradient"):
        layer.backward(np.ones((1, 3)))


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activations_keep_float32(name):
    layer = ACTIVATIONS.get(name)()
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    assert layer.forward(x).dtype == np.float32
    if name != "step":
        assert layer.backward(np.ones_like(x)).dtype == np.float32


def test_dense_float32_everywhere():
    layer = Dense(4, 3, rng=np.random.default_rng(0))
    y = layer.forward(RNG.standard_normal((2, 4)).astype(np.float32))
    layer.backward(np.ones_like(y))
    assert y.dtype == layer.W.dtype == layer.grads["W"].dtype == layer.grads["b"].dtype == np.float32


def test_layer_config_round_trip():
    from zerodl.layers import (LAYER_TYPES, AvgPool2D, BatchNormalization, Conv2D, Dropout,
                               Flatten, MaxPool2D)
    from zerodl.regularizers import L2
    day2 = [Dense(3, 2, kernel_regularizer=L2(0.1)), Flatten(), Dropout(0.3, seed=1),
            BatchNormalization(momentum=0.8, n_features=4), Conv2D(1, 2, (3, 2), stride=1,
                                                                 padding=1),
            MaxPool2D(2), AvgPool2D(3, stride=1, padding=1)]
    assert {type(layer).__name__ for layer in day2} | {"Dense", "LeakyReLU"} | {
        c.__name__ for _, c in ACTIVATIONS.items()} == set(LAYER_TYPES)     # every type tried
    for layer in [Dense(3, 2, init=0.01), LeakyReLU(0.2), *day2,
                  *(c() for n, c in ACTIVATIONS.items() if n != "leaky_relu")]:
        rebuilt = layer_from_config(layer.get_config())
        assert type(rebuilt) is type(layer)
        assert {k: v for k, v in rebuilt.get_config().items() if k != "init"} == \
               {k: v for k, v in layer.get_config().items() if k != "init"}
    with pytest.raises(ValueError, match="layer type must be one of"):
        layer_from_config({"type": "Conv3D"})


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match="relu, leaky_relu, sigmoid, tanh, identity, step"):
        ACTIVATIONS.get("swish")


@pytest.mark.parametrize("name", TRAINABLE)
def test_dense_and_activation_match_torch(name):
    torch = pytest.importorskip("torch")
    dense = Dense(6, 4, init="he", rng=np.random.default_rng(2), dtype=np.float64)
    act = ACTIVATIONS.get(name)()
    x = RNG.standard_normal((5, 6))
    w = RNG.standard_normal((5, 4))
    y = act.forward(dense.forward(x))
    dx = dense.backward(act.backward(w))

    tx = torch.tensor(x, requires_grad=True)
    tW = torch.tensor(dense.W.copy(), requires_grad=True)
    tb = torch.tensor(dense.b.copy(), requires_grad=True)
    fn = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
          "identity": lambda t: t,
          "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.01)}[name]
    ty = fn(tx @ tW + tb)
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dense.grads["W"], tW.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dense.grads["b"], tb.grad.numpy(), rtol=1e-10, atol=1e-12)


# -- a layer behaves the same wherever it is used --------------------------------------
def test_dense_reused_from_first_layer_of_one_model_gives_right_gradients_in_another():
    from zerodl import Sequential, gradient_check
    from zerodl.layers import ReLU
    rng = np.random.default_rng(3)
    shared = Dense(4, 3, rng=rng, dtype=np.float64)
    first = Sequential([shared, ReLU(), Dense(3, 2, rng=rng, dtype=np.float64)])
    x = RNG.standard_normal((6, 4))
    d = RNG.integers(0, 2, 6)
    first.gradient(x, d)                       # shared was a first layer: its dx was skipped
    second = Sequential([Dense(5, 4, rng=rng, dtype=np.float64), ReLU(), shared, ReLU(),
                         Dense(3, 2, rng=rng, dtype=np.float64)])
    x5 = RNG.standard_normal((6, 5))
    assert gradient_check(second, x5, d) < 1e-7


def test_walking_an_mlps_layers_by_hand_leaves_each_output_intact():
    from zerodl import mlp
    model = mlp([4, 5, 3], seed=0)
    dense, relu, out = model.layers
    x = RNG.standard_normal((7, 4)).astype(np.float32)
    u1 = dense.forward(x)
    u1_kept = u1.copy()
    z1 = relu.forward(u1)
    assert (u1_kept < 0).any()                 # the ReLU had negatives to clip
    np.testing.assert_array_equal(u1, u1_kept)
    np.testing.assert_array_equal(z1, np.maximum(u1_kept, 0))
    u2 = out.forward(z1)
    np.testing.assert_allclose(model.output.predict(u2), model.predict(x), rtol=1e-6)
    # and backward by hand: neither gradient it is given is changed
    dy = RNG.standard_normal(u2.shape).astype(np.float32)
    dz = out.backward(dy)
    dz_kept = dz.copy()
    du = relu.backward(dz)
    np.testing.assert_array_equal(dz, dz_kept)
    np.testing.assert_array_equal(du, dz_kept * (u1_kept > 0))
