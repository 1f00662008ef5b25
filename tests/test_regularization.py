"""Batch normalisation, dropout and weight penalties: values against PyTorch, by hand and by
finite differences; every refusal names its argument and changes nothing."""
import copy
import math

import numpy as np
import pytest

from zerodl.layers import Dropout
from zerodl.functions import numerical_gradient
from zerodl.layers import BatchNormalization
from zerodl.regularizers import L1, L1L2, L2, REGULARIZERS, get_regularizer

SHAPES = [(6, 4), (3, 2, 4, 5)]


def _bn_with_random_affine(C, rng, momentum=0.9, epsilon=1e-5):
    bn = BatchNormalization(momentum=momentum, epsilon=epsilon, n_features=C,
                            dtype=np.float64)
    bn.params["gamma"] = rng.normal(1.0, 0.5, C)
    bn.params["beta"] = rng.normal(0.0, 0.5, C)
    return bn


def _state(layer):
    """Everything a refused call must leave as it was."""
    arrays = {**getattr(layer, "params", {}), **layer.buffers}
    cached = {name: getattr(layer, name, None) for name in ("x_hat", "inv_std", "mask")}
    return copy.deepcopy(({k: v.copy() for k, v in arrays.items()}, cached,
                          layer.__dict__.get("n_features")))


def _same_state(a, b):
    (arrays_a, cached_a, n_a), (arrays_b, cached_b, n_b) = a, b
    assert n_a == n_b and arrays_a.keys() == arrays_b.keys()
    for key in arrays_a:
        np.testing.assert_array_equal(arrays_a[key], arrays_b[key])
    for key in cached_a:
        if cached_a[key] is None or cached_b[key] is None:
            assert cached_a[key] is cached_b[key]
        else:
            np.testing.assert_array_equal(cached_a[key], cached_b[key])


def _relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


# -- BatchNormalization against PyTorch ------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES)
def test_batchnorm_training_output_and_gradients_match_torch(shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    C = shape[1]
    bn = _bn_with_random_affine(C, rng)
    x = rng.normal(2.0, 3.0, shape)
    dy = rng.normal(size=shape)
    y = bn.forward(x, training=True)
    dx = bn.backward(dy)

    module = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(
        C, eps=1e-5, momentum=0.1, dtype=torch.float64)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(bn.params["gamma"]))
        module.bias.copy_(torch.from_numpy(bn.params["beta"]))
    xt = torch.tensor(x, requires_grad=True)
    yt = module.train()(xt)
    yt.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(bn.grads["gamma"], module.weight.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(bn.grads["beta"], module.bias.grad.numpy(), rtol=1e-6)
    assert y.dtype == dx.dtype == np.float64


@pytest.mark.parametrize("shape", SHAPES)
def test_batchnorm_running_statistics_after_several_steps(shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    C, momentum = shape[1], 0.8
    bn = BatchNormalization(momentum=momentum, n_features=C, dtype=np.float64)
    module = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(
        C, momentum=1 - momentum, dtype=torch.float64).train()
    axes = (0,) if len(shape) == 2 else (0, 2, 3)
    expected_var = np.ones(C)
    for step in range(5):
        x = rng.normal(step, 1.0 + step, shape)
        bn.forward(x, training=True)
        with torch.no_grad():
            module(torch.from_numpy(x))
        # ours averages the biased variance; PyTorch the unbiased one, so only the mean
        # is compared with it, and the variance with the formula written out
        expected_var = momentum * expected_var + (1 - momentum) * x.var(axis=axes)
    np.testing.assert_allclose(bn.buffers["running_mean"], module.running_mean.numpy(),
                               rtol=1e-10)
    np.testing.assert_allclose(bn.buffers["running_var"], expected_var, rtol=1e-10)
    assert not np.allclose(bn.buffers["running_var"], module.running_var.numpy())


def test_batchnorm_inference_uses_running_statistics_by_hand():
    bn = BatchNormalization(momentum=0.5, epsilon=1e-5, n_features=2, dtype=np.float64)
    x = np.array([[1.0, 10.0], [3.0, 30.0]])
    bn.forward(x, training=True)
    # mean (2, 20), biased var (1, 100); running = 0.5 * initial + 0.5 * batch
    np.testing.assert_allclose(bn.buffers["running_mean"], [1.0, 10.0])
    np.testing.assert_allclose(bn.buffers["running_var"], [1.0, 50.5])
    bn.params["gamma"] = [2.0, 0.5]
    bn.params["beta"] = [1.0, -1.0]
    before = copy.deepcopy(bn.buffers)
    y = bn.forward(np.array([[2.0, 20.0]]), training=False)      # one sample is fine here
    expected = [2.0 * (2.0 - 1.0) / math.sqrt(1.0 + 1e-5) + 1.0,
                0.5 * (20.0 - 10.0) / math.sqrt(50.5 + 1e-5) - 1.0]
    np.testing.assert_allclose(y, [expected], rtol=1e-12)
    for key in before:
        np.testing.assert_array_equal(bn.buffers[key], before[key])


def test_batchnorm_training_normalises_with_the_batch():
    x = np.array([[1.0, -4.0], [3.0, 0.0], [5.0, 4.0]])
    y = BatchNormalization(n_features=2, epsilon=1e-12, dtype=np.float64).forward(x, True)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), 1.0, rtol=1e-9)       # biased variance


# -- BatchNormalization by finite differences ------------------------------------------------
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_batchnorm_backward_matches_finite_differences(shape, training):
    rng = np.random.default_rng(2)
    bn = _bn_with_random_affine(shape[1], rng)
    bn.buffers["running_mean"][...] = rng.normal(size=shape[1])
    bn.buffers["running_var"][...] = rng.uniform(0.5, 2.0, shape[1])
    x = rng.normal(1.0, 2.0, shape)
    dy = rng.normal(size=shape)
    dy_before = dy.copy()
    bn.forward(x, training=training)
    dx = bn.backward(dy)
    np.testing.assert_array_equal(dy, dy_before)                    # dy not mutated
    loss = lambda _: float(np.sum(bn.forward(x, training=training) * dy))
    for analytic, probed in ((dx, x), (bn.grads["gamma"].copy(), bn.params["gamma"]),
                             (bn.grads["beta"].copy(), bn.params["beta"])):
        numeric = numerical_gradient(loss, probed, h=1e-5)
        assert _relative_error(analytic, numeric) < 1e-8


def test_batchnorm_keeps_float32_and_builds_lazily():
    bn = BatchNormalization()
    assert bn.params == {} and bn.buffers == {} and bn.get_config()["n_features"] is None
    x = np.random.default_rng(3).normal(size=(8, 3, 2, 2)).astype(np.float32)
    y = bn.forward(x, training=True)
    assert y.dtype == np.float32 and bn.backward(np.ones_like(y)).dtype == np.float32
    assert bn.n_features == 3
    for array in (*bn.params.values(), *bn.grads.values(), *bn.buffers.values()):
        assert array.dtype == np.float32 and array.shape == (3,)
    np.testing.assert_array_equal(bn.params["gamma"], 1.0)
    np.testing.assert_array_equal(bn.params["beta"], 0.0)


def test_batchnorm_build_and_config_round_trip():
    bn = BatchNormalization(momentum=0.5, epsilon=1e-3)
    bn.build((4, 5, 5))
    assert bn.n_features == 4 and bn.output_shape((4, 5, 5)) == (4, 5, 5)
    config = bn.get_config()
    assert config == {"type": "BatchNormalization", "momentum": 0.5, "epsilon": 1e-3,
                      "n_features": 4}
    config.pop("type")
    rebuilt = BatchNormalization(**config)
    assert rebuilt.get_config() == bn.get_config() and rebuilt.params["gamma"].shape == (4,)
    with pytest.raises(ValueError, match=r"input_shape must have 4 channels first"):
        bn.build((3,))


def test_batchnorm_backward_before_forward_is_refused():
    with pytest.raises(RuntimeError, match="must follow a forward"):
        BatchNormalization(n_features=2).backward(np.ones((3, 2)))


# -- BatchNormalization refusals -------------------------------------------------------------
@pytest.mark.parametrize("kwargs, error, message", [
    ({"momentum": 1.0}, ValueError, r"momentum must be a number in \[0.0, 1.0\); got 1.0"),
    ({"momentum": -0.1}, ValueError, r"momentum must be a number in \[0.0, 1.0\); got -0.1"),
    ({"momentum": float("nan")}, ValueError, r"momentum must be a finite number .* got nan"),
    ({"momentum": True}, TypeError, r"momentum must be a real number; got True"),
    ({"epsilon": 0.0}, ValueError, r"epsilon must be a number in \(0.0, inf\); got 0.0"),
    ({"epsilon": -1e-5}, ValueError, r"epsilon must be a number in \(0.0, inf\)"),
    ({"epsilon": float("inf")}, ValueError, r"epsilon must be a finite number .* got inf"),
    ({"epsilon": float("nan")}, ValueError, r"epsilon must be a finite number .* got nan"),
    ({"n_features": 0}, ValueError, r"n_features must be an integer >= 1; got 0"),
    ({"n_features": 2.0}, TypeError, r"n_features must be an integer >= 1; got 2.0"),
    ({"dtype": np.int32}, ValueError, r"dtype must be a floating type"),
])
def test_batchnorm_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        BatchNormalization(**kwargs)


@pytest.mark.parametrize("x, training, error, message", [
    (np.ones((1, 3)), True, ValueError, r"x must hold more than one value per feature or "
                                        r"channel to train .* got shape \(1, 3\)"),
    (np.ones((1, 3, 1, 1)), True, ValueError, r"more than one value .* got shape \(1, 3, 1, 1\)"),
    (np.ones((0, 3)), True, ValueError, r"more than one value .* got shape \(0, 3\)"),
    (np.ones((4, 2)), True, ValueError, r"x must have 3 features or channels on axis 1"),
    (np.ones((4, 3, 2)), False, ValueError, r"x must have shape \(N, C\) or \(N, C, H, W\)"),
    (np.ones((4, 3), dtype=np.int64), True, TypeError, r"x must be a floating-point array"),
    (np.ones((4, 3)), 1, TypeError, r"training must be a bool"),
])
def test_batchnorm_bad_forward_is_refused_and_changes_nothing(x, training, error, message):
    rng = np.random.default_rng(4)
    bn = _bn_with_random_affine(3, rng)
    bn.forward(rng.normal(size=(5, 3)), training=True)
    before = _state(bn)
    with pytest.raises(error, match=message):
        bn.forward(x, training=training)
    _same_state(before, _state(bn))


def test_batchnorm_one_sample_refusal_does_not_build_a_lazy_layer():
    bn = BatchNormalization()
    with pytest.raises(ValueError, match="more than one value"):
        bn.forward(np.ones((1, 3), np.float32), training=True)
    assert bn.n_features is None and bn.params == {} and bn.buffers == {}


def test_batchnorm_backward_with_wrong_dy_shape_is_refused_and_changes_nothing():
    bn = _bn_with_random_affine(3, np.random.default_rng(5))
    bn.forward(np.random.default_rng(6).normal(size=(4, 3)), training=True)
    before = _state(bn) + (copy.deepcopy(dict(bn.grads)),)
    with pytest.raises(ValueError, match=r"dy must have the shape \(4, 3\)"):
        bn.backward(np.ones((4, 2)))
    _same_state(before[:3], _state(bn))
    for key, g in before[3].items():
        np.testing.assert_array_equal(bn.grads[key], g)


# -- Dropout ---------------------------------------------------------------------------------
def test_dropout_inference_and_rate_zero_are_the_identity():
    x = np.random.default_rng(7).normal(size=(4, 5)).astype(np.float32)
    dy = np.ones_like(x)
    layer = Dropout(0.5, seed=0)
    state = layer.rng.bit_generator.state
    assert layer.forward(x) is x and layer.forward(x, training=False) is x
    assert layer.backward(dy) is dy
    zero = Dropout(0.0, seed=0)
    assert zero.forward(x, training=True) is x and zero.backward(dy) is dy
    assert layer.rng.bit_generator.state == state          # nothing drawn


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_keeps_the_expected_value_and_drops_about_rate(rate):
    n = 200_000
    x = np.ones(n, dtype=np.float64)
    y = Dropout(rate, seed=8).forward(x, training=True)
    # Each y_i is 1/(1-rate) with probability 1-rate, else 0: mean 1, variance
    # rate/(1-rate). Five standard errors of the mean of n draws: a correct layer fails
    # with probability about 6e-7.
    assert abs(y.mean() - 1.0) < 5 * math.sqrt(rate / (1 - rate) / n)
    dropped = np.mean(y == 0)
    assert abs(dropped - rate) < 5 * math.sqrt(rate * (1 - rate) / n)
    assert set(np.unique(y)) == {0.0, 1.0 / (1.0 - rate)}


def test_dropout_backward_uses_the_same_mask_and_leaves_dy_alone():
    rng = np.random.default_rng(9)
    x = rng.uniform(1.0, 2.0, (50, 20)).astype(np.float32)
    layer = Dropout(0.3, seed=10)
    y = layer.forward(x, training=True)
    dy = rng.normal(size=x.shape).astype(np.float32)
    dy_before = dy.copy()
    dx = layer.backward(dy)
    np.testing.assert_array_equal(dy, dy_before)
    np.testing.assert_array_equal(dx == 0, y == 0)
    np.testing.assert_allclose(dx, dy * (y / x), rtol=1e-6)
    assert y.dtype == dx.dtype == np.float32


def test_dropout_backward_matches_finite_differences():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(6, 5))
    dy = rng.normal(size=(6, 5))
    layer = Dropout(0.4, seed=12)
    layer.forward(x, training=True)
    dx = layer.backward(dy)
    mask = layer.mask
    numeric = numerical_gradient(lambda _: float(np.sum(x * mask * dy)), x)
    assert _relative_error(dx, numeric) < 1e-8


def test_dropout_same_seed_same_mask_and_rng_is_replaceable():
    x = np.ones((30, 30), dtype=np.float32)
    first = Dropout(0.5, seed=3).forward(x, training=True)
    np.testing.assert_array_equal(first, Dropout(0.5, seed=3).forward(x, training=True))
    assert not np.array_equal(first, Dropout(0.5, seed=4).forward(x, training=True))
    layer = Dropout(0.5, seed=99)
    layer.rng = np.random.default_rng(3)                   # as a model would
    np.testing.assert_array_equal(first, layer.forward(x, training=True))


def test_dropout_keeps_float16_and_float64():
    for dtype in (np.float16, np.float64):
        x = np.ones((10, 10), dtype=dtype)
        layer = Dropout(0.25, seed=1)
        assert layer.forward(x, training=True).dtype == dtype
        assert layer.backward(x).dtype == dtype


def test_dropout_config_and_shapes():
    layer = Dropout(0.25, seed=5)
    assert layer.get_config() == {"type": "Dropout", "rate": 0.25, "seed": 5}
    assert Dropout(0.5).get_config()["seed"] is None
    assert layer.buffers == {} and layer.params == {}
    assert layer.output_shape((3, 4, 4)) == (3, 4, 4)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"rate": 1.0}, ValueError, r"rate must be a number in \[0.0, 1.0\); got 1.0"),
    ({"rate": -0.1}, ValueError, r"rate must be a number in \[0.0, 1.0\); got -0.1"),
    ({"rate": 1.5}, ValueError, r"rate must be a number in \[0.0, 1.0\); got 1.5"),
    ({"rate": float("nan")}, ValueError, r"rate must be a finite number .* got nan"),
    ({"rate": float("inf")}, ValueError, r"rate must be a finite number .* got inf"),
    ({"rate": True}, TypeError, r"rate must be a real number; got True"),
    ({"rate": "0.5"}, TypeError, r"rate must be a real number; got '0.5'"),
    ({"rate": 0.5, "seed": -1}, ValueError, r"seed must be an integer >= 0; got -1"),
    ({"rate": 0.5, "seed": 1.5}, TypeError, r"seed must be an integer >= 0; got 1.5"),
    ({"rate": 0.5, "seed": np.random.default_rng()}, TypeError, r"assign it to layer.rng"),
])
def test_dropout_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        Dropout(**kwargs)


@pytest.mark.parametrize("call, error, message", [
    (lambda d: d.forward(np.ones((3, 3), dtype=np.int64), True), TypeError,
     r"x must be a floating-point array"),
    (lambda d: d.forward(np.ones((3, 3)), "yes"), TypeError, r"training must be a bool"),
    (lambda d: d.backward(np.ones((2, 3))), ValueError, r"dy must have the shape \(3, 3\)"),
])
def test_dropout_bad_calls_are_refused_and_change_nothing(call, error, message):
    layer = Dropout(0.5, seed=13)
    layer.forward(np.ones((3, 3)), training=True)
    mask, state = layer.mask.copy(), layer.rng.bit_generator.state
    with pytest.raises(error, match=message):
        call(layer)
    np.testing.assert_array_equal(layer.mask, mask)
    assert layer.rng.bit_generator.state == state


def test_dropout_backward_before_forward_is_refused():
    with pytest.raises(RuntimeError, match="must follow a forward"):
        Dropout(0.5).backward(np.ones(3))


# -- Regularizers ----------------------------------------------------------------------------
W_HAND = np.array([[1.0, -2.0], [0.0, 3.0]])       # sum |W| = 6, sum W**2 = 14


@pytest.mark.parametrize("regularizer, value, gradient", [
    (L1(0.1), 0.6, [[0.1, -0.1], [0.0, 0.1]]),
    (L2(0.1), 1.4, [[0.2, -0.4], [0.0, 0.6]]),
    (L1L2(0.1, 0.2), 0.6 + 2.8, [[0.5, -0.9], [0.0, 1.3]]),
    (L1L2(), 0.0, [[0.0, 0.0], [0.0, 0.0]]),
])
def test_regularizer_values_and_gradients_by_hand(regularizer, value, gradient):
    assert regularizer(W_HAND) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(regularizer.gradient(W_HAND), gradient, rtol=1e-12)


@pytest.mark.parametrize("regularizer", [L1(0.3), L2(0.7), L1L2(0.2, 0.5)])
def test_regularizer_gradients_match_finite_differences(regularizer):
    W = np.random.default_rng(14).normal(size=(5, 4))
    W[np.abs(W) < 0.05] = 0.5            # keep every weight away from |W|'s kink at 0
    numeric = numerical_gradient(lambda w: regularizer(w), W.copy())
    assert _relative_error(regularizer.gradient(W), numeric) < 1e-8


def test_l2_is_the_books_weight_decay_with_half_lambda():
    W = np.random.default_rng(15).normal(size=(3, 4))
    lam = 0.1
    assert L2(lam / 2)(W) == pytest.approx(0.5 * lam * np.sum(W ** 2), rel=1e-12)
    np.testing.assert_allclose(L2(lam / 2).gradient(W), lam * W, rtol=1e-12)


def test_regularizer_gradient_keeps_dtype_and_does_not_touch_w():
    W = np.array([[0.5, -1.0]], dtype=np.float32)
    before = W.copy()
    grad = L1L2(0.1, 0.1).gradient(W)
    assert grad.dtype == np.float32 and grad is not W
    np.testing.assert_array_equal(W, before)
    assert isinstance(L2()(W), float)


@pytest.mark.parametrize("name", list(REGULARIZERS))
def test_every_registered_regularizer_round_trips_through_its_config(name):
    regularizer = get_regularizer(name)
    assert regularizer.get_config()["type"] == name
    again = get_regularizer(regularizer.get_config())
    assert type(again) is type(regularizer) and again.get_config() == regularizer.get_config()


def test_get_regularizer_accepts_none_instances_names_and_configs():
    assert get_regularizer(None) is None
    instance = L2(0.3)
    assert get_regularizer(instance) is instance
    assert get_regularizer("L1").get_config() == {"type": "l1", "l1": 0.01}
    assert get_regularizer("l2").get_config() == {"type": "l2", "l2": 0.01}
    assert get_regularizer("l1_l2").get_config() == {"type": "l1_l2", "l1": 0.01, "l2": 0.01}
    assert get_regularizer({"type": "l2", "l2": 0.005}).l2 == 0.005


@pytest.mark.parametrize("value, error, message", [
    ("l3", ValueError, r"unknown regularizer 'l3'; valid names are: l1, l2, l1_l2"),
    ({"type": "l3"}, ValueError, r"valid names are: l1, l2, l1_l2"),
    ({"l2": 0.1}, ValueError, r"must have a \"type\" key naming one of l1, l2, l1_l2"),
    ({"type": "l1", "l2": 0.1}, ValueError, r"must have only the keys type, l1"),
    (3, TypeError, r"regularizer must be None, a regularizer"),
])
def test_get_regularizer_refuses_unknown_values(value, error, message):
    with pytest.raises(error, match=message):
        get_regularizer(value)


@pytest.mark.parametrize("make, message", [
    (lambda: L1(-0.1), r"l1 must be a number in \[0.0, inf\); got -0.1"),
    (lambda: L2(float("nan")), r"l2 must be a finite number .* got nan"),
    (lambda: L1L2(l1=float("inf")), r"l1 must be a finite number .* got inf"),
    (lambda: L1L2(l2=-1), r"l2 must be a number in \[0.0, inf\); got -1"),
    (lambda: get_regularizer({"type": "l2", "l2": -0.5}), r"l2 must be a number"),
])
def test_bad_factors_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_regularizer_refuses_integer_weights():
    with pytest.raises(TypeError, match=r"W must be a floating-point array"):
        L2()(np.array([1, 2]))


def test_batchnorm_float16_keeps_its_dtype_and_does_not_overflow_on_large_batches():
    # 40 * 40 * 48 = 76,800 values per channel: their float16 sum would pass 65504.
    x = np.random.default_rng(16).normal(3.0, 1.0, (40, 2, 40, 48))
    dy = np.random.default_rng(17).normal(0.0, 1.0, x.shape)   # dbeta fits float16
    exact = BatchNormalization(n_features=2, dtype=np.float64)
    half = BatchNormalization(n_features=2, dtype=np.float16)
    y, y16 = exact.forward(x, True), half.forward(x.astype(np.float16), True)
    dx, dx16 = exact.backward(dy), half.backward(dy.astype(np.float16))
    assert y16.dtype == dx16.dtype == np.float16
    np.testing.assert_allclose(y16, y, atol=0.02)
    np.testing.assert_allclose(dx16, dx, atol=0.02)
    np.testing.assert_allclose(half.grads["beta"], exact.grads["beta"], rtol=1e-2)
    np.testing.assert_allclose(half.buffers["running_mean"], exact.buffers["running_mean"],
                               rtol=1e-2)
