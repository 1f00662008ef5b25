"""Tests for zerodl.functions.

Values worked by hand and printed in the course, finite differences for every derivative and
every fused output-layer gradient, numerical edge cases, dtypes, argument checks, and PyTorch
as an independent oracle where it is installed.
"""
import warnings
from functools import partial

import numpy as np
import pytest

from zerodl import functions as F


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def away_from_zero(generator: np.random.Generator, shape) -> np.ndarray:
    """Values with 0.1 <= |u| <= 3: finite differences with h = 1e-4 never straddle a kink at 0."""
    return generator.uniform(0.1, 3.0, size=shape) * generator.choice([-1.0, 1.0], size=shape)


# --------------------------------------------------------------------------------------------
# Values worked by hand and values the course prints
# --------------------------------------------------------------------------------------------

def test_single_unit_with_two_inputs():
    x = np.array([2.0, 3.0])
    W = np.array([0.1, 0.2])
    b = 0.5
    u = x @ W + b                                   # 2*0.1 + 3*0.2 + 0.5
    assert u == pytest.approx(1.3)
    assert F.identity(u) == pytest.approx(1.3)
    assert F.sigmoid(u) == pytest.approx(0.785835, abs=1e-6)     # 1 / (1 + e^-1.3)
    assert F.relu(u) == pytest.approx(1.3)
    assert F.step_function(u) == 1.0


def test_single_unit_with_three_inputs():
    x = np.array([1.0, 2.0, 3.0])
    W = np.array([0.1, 0.2, 0.3])
    b = 0.5
    u = x @ W + b                                   # 0.1 + 0.4 + 0.9 + 0.5
    assert u == pytest.approx(1.9)
    assert F.sigmoid(u) == pytest.approx(0.869892, abs=1e-6)     # 1 / (1 + e^-1.9)
    assert F.tanh(u) == pytest.approx(0.956237, abs=1e-6)


def test_sigmoid_values_printed_in_the_course():
    np.testing.assert_allclose(F.sigmoid(np.array([1.8, 2.2, 2.6])), [0.858, 0.900, 0.931],
                               atol=5e-4)


def test_softmax_values_printed_in_the_course():
    np.testing.assert_allclose(F.softmax(np.array([0.3, 2.9, 4.0])),
                               [0.01821127, 0.24519181, 0.73659691], atol=1e-8)


def test_cross_entropy_values_printed_in_the_course():
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    one_hot = np.eye(10)[2]
    # The course prints 0.510825457 and 2.302584093: -log(p + 1e-7) instead of -log(p).
    assert F.cross_entropy_error(one_hot, y) == pytest.approx(-np.log(0.6), rel=1e-12)
    assert F.cross_entropy_error(one_hot, y) == pytest.approx(0.510825457, abs=1e-6)
    assert F.cross_entropy_error(2, y) == pytest.approx(-np.log(0.6), rel=1e-12)
    assert F.cross_entropy_error(7, y) == pytest.approx(2.302584093, abs=1e-6)


def test_simple_activations_by_hand():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    np.testing.assert_array_equal(F.step_function(x), [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(F.relu(x), [0, 0, 0, 0.5, 2])
    np.testing.assert_allclose(F.leaky_relu(x), [-0.02, -0.005, 0, 0.5, 2])
    np.testing.assert_allclose(F.leaky_relu(x, alpha=0.5), [-1, -0.25, 0, 0.5, 2])
    assert F.sigmoid(0.0) == 0.5
    assert F.tanh(0.0) == 0.0


def test_derivative_conventions_at_zero():
    u = np.array([-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(F.d_relu(u), [0, 0, 1])          # ReLU'(0) = 0
    np.testing.assert_array_equal(F.d_leaky_relu(u, alpha=0.1), [0.1, 0.1, 1])
    np.testing.assert_array_equal(F.d_step_function(u), [0, 0, 0])
    np.testing.assert_array_equal(F.d_identity(u), [1, 1, 1])
    assert F.d_sigmoid(0.0) == 0.25
    assert F.d_tanh(0.0) == 1.0


def test_mean_squared_error_by_hand():
    d = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([[0.5, 0.5], [0.0, 0.0]])
    # per sample: 1/2 (0.25 + 0.25) = 0.25 and 1/2 (0 + 1) = 0.5; mean over 2 samples 0.375
    assert F.mean_squared_error(d, y) == pytest.approx(0.375)
    np.testing.assert_allclose(F.d_mean_squared_error(d, y), [[-0.25, 0.25], [0, -0.5]])


def test_mean_squared_error_of_the_course_regression_cell():
    """One sample, two outputs: E = 1/2 (0.98^2 + 1.71^2), the course's E_n = 1/2 ||y - d||^2."""
    y, d = np.array([1.02, 2.29]), np.array([2.0, 4.0])
    assert F.mean_squared_error(d, y) == pytest.approx(0.5 * (0.98 ** 2 + 1.71 ** 2), rel=1e-12)
    np.testing.assert_allclose(F.d_mean_squared_error(d, y), [-0.98, -1.71], rtol=1e-12)


def test_one_sample_deltas_are_y_minus_d_as_the_course_prints():
    """The course's 2-3-2 backprop cell: softmax output, one sample, delta2 = y - d."""
    x = np.array([[1.0, 5.0]])
    W1, b1 = np.array([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]), np.array([0.1, 0.2, 0.3])
    W2, b2 = np.array([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]), np.array([0.1, 0.2])
    u2 = F.relu(x @ W1 + b1) @ W2 + b2
    np.testing.assert_allclose(u2, [[1.86, 4.21]], rtol=1e-12)       # by hand
    y = F.softmax(u2)
    d = np.array([[0.0, 1.0]])
    expected = [[1 / (1 + np.exp(2.35)), -1 / (1 + np.exp(2.35))]]   # [0.0871, -0.0871]
    assert expected[0][0] == pytest.approx(0.0871, abs=5e-5)
    np.testing.assert_allclose(F.d_sigmoid_with_loss(d, y), expected, rtol=1e-12)
    np.testing.assert_allclose(F.d_softmax_with_loss(d, y), expected, rtol=1e-12)
    np.testing.assert_allclose(F.d_mean_squared_error(d, y), expected, rtol=1e-12)
    # the same sample twice is the same batch mean
    np.testing.assert_allclose(F.d_sigmoid_with_loss(np.vstack([d, d]), np.vstack([y, y])),
                               np.vstack([expected, expected]) / 2, rtol=1e-12)


def test_binary_cross_entropy_sums_over_outputs():
    y = np.array([[0.5, 0.25], [0.8, 0.5]])
    d = np.array([[1.0, 0.0], [1.0, 1.0]])
    per_sample = [-np.log(0.5) - np.log(0.75), -np.log(0.8) - np.log(0.5)]
    assert F.binary_cross_entropy(d, y) == pytest.approx(np.mean(per_sample), rel=1e-12)
    u = np.log(y / (1 - y))
    assert F.binary_cross_entropy_from_logits(d, u) == pytest.approx(np.mean(per_sample),
                                                                      rel=1e-12)
    np.testing.assert_allclose(F.d_sigmoid_with_loss(d, y), (y - d) / 2, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# Every derivative against finite differences (float64)
# --------------------------------------------------------------------------------------------

DERIVATIVES = {
    "identity": (F.identity, F.d_identity),
    "step_function": (F.step_function, F.d_step_function),
    "sigmoid": (F.sigmoid, F.d_sigmoid),
    "relu": (F.relu, F.d_relu),
    "tanh": (F.tanh, F.d_tanh),
    "leaky_relu": (F.leaky_relu, F.d_leaky_relu),
    "leaky_relu(alpha=0.2)": (partial(F.leaky_relu, alpha=0.2),
                              partial(F.d_leaky_relu, alpha=0.2)),
}


def test_every_activation_derivative_is_in_the_table():
    activation_derivatives = {name for name in F.__all__
                              if name.startswith("d_") and not name.endswith("_with_loss")
                              and name != "d_mean_squared_error"}
    tested = {derivative.func.__name__ if isinstance(derivative, partial) else derivative.__name__
              for _, derivative in DERIVATIVES.values()}
    assert activation_derivatives == tested


@pytest.mark.parametrize("name", DERIVATIVES)
def test_derivative_matches_finite_differences(name):
    h, dh = DERIVATIVES[name]
    generator = rng(1)
    u = away_from_zero(generator, (4, 5))
    w = generator.normal(size=u.shape)      # weights keep each element's derivative distinct
    numeric = F.numerical_gradient(lambda v: float(np.sum(w * h(v))), u)
    np.testing.assert_allclose(w * dh(u), numeric, rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------------------------
# Fused output-layer gradients against finite differences over the pre-activation u
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("labels", ["one-hot", "integer"])
@pytest.mark.parametrize("n_classes", [2, 3, 10])
@pytest.mark.parametrize("batch", [None, 1, 4, 7])          # None: a single 1-D sample
def test_softmax_with_loss_gradient(batch, n_classes, labels):
    generator = rng(2)
    shape = (n_classes,) if batch is None else (batch, n_classes)
    u = generator.normal(scale=2.0, size=shape)
    k = generator.integers(n_classes, size=shape[:-1])
    d = k if labels == "integer" else np.eye(n_classes)[k]

    numeric = F.numerical_gradient(lambda v: F.cross_entropy_error(d, F.softmax(v)), u)
    np.testing.assert_allclose(F.d_softmax_with_loss(d, F.softmax(u)), numeric,
                               rtol=1e-6, atol=1e-10)


SIGMOID_CASES = [  # (batch, outputs, label form)
    (1, 1, "same shape"), (4, 1, "same shape"), (7, 1, "same shape"),
    (1, 1, "integer (N,)"), (4, 1, "integer (N,)"), (7, 1, "integer (N,)"),
    (1, 3, "same shape"), (4, 3, "same shape"), (5, 4, "same shape"),
]


@pytest.mark.parametrize("batch, n_out, labels", SIGMOID_CASES)
def test_sigmoid_with_loss_gradient(batch, n_out, labels):
    generator = rng(3)
    u = generator.normal(scale=2.0, size=(batch, n_out))
    d = generator.integers(2, size=u.shape)
    if labels == "integer (N,)":
        d = d[:, 0]

    numeric = F.numerical_gradient(lambda v: F.binary_cross_entropy(d, F.sigmoid(v)), u)
    np.testing.assert_allclose(F.d_sigmoid_with_loss(d, F.sigmoid(u)), numeric,
                               rtol=1e-6, atol=1e-10)
    if n_out == 1:   # one output column: cross_entropy_error is the same loss
        numeric = F.numerical_gradient(lambda v: F.cross_entropy_error(d, F.sigmoid(v)), u)
        np.testing.assert_allclose(F.d_sigmoid_with_loss(d, F.sigmoid(u)), numeric,
                                   rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("n_out", [1, 3])
@pytest.mark.parametrize("batch", [1, 4, 7])
def test_mean_squared_error_gradient(batch, n_out):
    generator = rng(4)
    u = generator.normal(size=(batch, n_out))
    d = generator.normal(size=(batch, n_out))

    numeric = F.numerical_gradient(lambda v: F.mean_squared_error(d, F.identity(v)), u)
    np.testing.assert_allclose(F.d_mean_squared_error(d, F.identity(u)), numeric,
                               rtol=1e-6, atol=1e-10)


def test_loss_gradients_divide_by_the_number_of_samples():
    d, y = np.zeros((4, 3)), np.full((4, 3), 0.5)
    # 4 samples of 3 outputs: each loss sums the 3 outputs and averages the 4 samples
    for grad in (F.d_mean_squared_error(d, y), F.d_sigmoid_with_loss(d, y),
                 F.d_softmax_with_loss(np.eye(3)[[0, 1, 2, 0]], np.full((4, 3), 1 / 3))):
        assert grad.shape == (4, 3)
    np.testing.assert_allclose(F.d_mean_squared_error(d, y), np.full((4, 3), 0.5 / 4))
    np.testing.assert_allclose(F.d_sigmoid_with_loss(d, y), np.full((4, 3), 0.5 / 4))
    assert F.mean_squared_error(d, y) == pytest.approx(3 * 0.5 * 0.25)


@pytest.mark.parametrize("batch, n_out", [(3, 2), (5, 4), (8, 3)])
def test_sigmoid_and_mse_gradients_of_a_2d_batch_match_finite_differences(batch, n_out):
    generator = rng(21)
    u = generator.normal(scale=1.5, size=(batch, n_out))
    b = generator.integers(2, size=(batch, n_out)).astype(np.float64)
    t = generator.normal(size=(batch, n_out))
    for loss, grad, target in (
            (lambda v: F.binary_cross_entropy(b, F.sigmoid(v)), F.d_sigmoid_with_loss, b),
            (lambda v: F.binary_cross_entropy_from_logits(b, v), F.d_sigmoid_with_loss, b),
            (lambda v: F.mean_squared_error(t, v), F.d_mean_squared_error, t)):
        numeric = F.numerical_gradient(loss, u.copy())
        y = F.sigmoid(u) if target is b else u
        np.testing.assert_allclose(grad(target, y), numeric, rtol=1e-6, atol=1e-10)


def test_integer_and_one_hot_labels_agree():
    y = F.softmax(rng(5).normal(size=(6, 4)))
    k = np.array([0, 3, 1, 1, 2, 0])
    one_hot = np.eye(4)[k]
    assert F.cross_entropy_error(k, y) == pytest.approx(F.cross_entropy_error(one_hot, y))
    np.testing.assert_array_equal(F.d_softmax_with_loss(k, y), F.d_softmax_with_loss(one_hot, y))


# --------------------------------------------------------------------------------------------
# Cross-entropy with a single output column
# --------------------------------------------------------------------------------------------

def test_cross_entropy_of_single_output_depends_on_the_label():
    y = np.array([[0.9], [0.2], [0.6]])
    d = np.array([[1], [0], [1]])
    loss = F.cross_entropy_error(d, y)
    flipped = F.cross_entropy_error(1 - d, y)

    assert loss == pytest.approx(-(np.log(0.9) + np.log(0.8) + np.log(0.6)) / 3)
    assert flipped == pytest.approx(-(np.log(0.1) + np.log(0.2) + np.log(0.4)) / 3)
    assert loss != flipped
    assert loss >= 0 and flipped >= 0
    assert loss == F.binary_cross_entropy(d, y)
    assert F.cross_entropy_error(d[:, 0], y) == loss          # labels of shape (N,)
    assert F.cross_entropy_error(np.array([1]), np.array([0.9])) == pytest.approx(-np.log(0.9))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_probabilities_of_exactly_zero_and_one_are_finite(dtype):
    y = np.array([[1.0], [0.0]], dtype)
    largest = -float(np.log(np.finfo(dtype).tiny))            # 87.3 or 708.4
    assert F.cross_entropy_error([[1], [0]], y) == 0.0         # never slightly negative
    assert F.binary_cross_entropy([[0], [1]], y) == pytest.approx(largest)
    assert F.cross_entropy_error([[0], [1]], y) == pytest.approx(largest)

    y = np.array([[1.0, 0.0, 0.0]], dtype)
    assert F.cross_entropy_error([0], y) == 0.0
    assert F.cross_entropy_error([1], y) == pytest.approx(largest)


def test_losses_are_nonnegative_for_random_predictions():
    generator = rng(6)
    y = generator.uniform(size=(50, 1))
    d = generator.integers(2, size=(50, 1))
    assert F.binary_cross_entropy(d, y) >= 0
    assert F.cross_entropy_error(d, y) >= 0
    p = F.softmax(generator.normal(size=(50, 5)))
    assert F.cross_entropy_error(generator.integers(5, size=50), p) >= 0


# --------------------------------------------------------------------------------------------
# Numerical stability
# --------------------------------------------------------------------------------------------

@pytest.fixture
def strict_floats():
    """Warnings are errors; overflow, division by zero and invalid operations raise.

    Underflow stays allowed: exp(-1000) rounds to 0, which is the correctly rounded result
    (NumPy only reports underflow when asked to).
    """
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_sigmoid_of_huge_inputs(dtype, strict_floats):
    x = np.array([[1000, -1000, 0], [1000, 1000, -1000], [-1000, -1000, -1000]], dtype)
    s = F.sigmoid(x)
    p = F.softmax(x)

    assert np.all(np.isfinite(s)) and np.all(np.isfinite(p))
    np.testing.assert_array_equal(s[0], [1, 0, 0.5])
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(p[0], [1, 0, 0])
    np.testing.assert_array_equal(p[1], [0.5, 0.5, 0])
    np.testing.assert_allclose(p[2], [1 / 3] * 3, rtol=1e-6)
    np.testing.assert_array_equal(F.d_sigmoid(x)[0], [0, 0, 0.25])
    assert np.all(np.isfinite(F.tanh(x))) and np.all(np.isfinite(F.d_tanh(x)))

    assert np.isfinite(F.cross_entropy_error([1, 0, 2], p))
    assert np.isfinite(F.binary_cross_entropy(np.ones_like(s), s))
    assert np.all(np.isfinite(F.d_softmax_with_loss([1, 0, 2], p)))
    assert np.all(np.isfinite(F.d_sigmoid_with_loss(np.ones_like(s), s)))


def test_empty_inputs():
    for fn in (F.softmax, F.sigmoid, F.relu, F.d_sigmoid):
        assert fn(np.zeros((0, 3))).shape == (0, 3)
    assert F.softmax(np.zeros((3, 0))).shape == (3, 0)
    for loss in (F.cross_entropy_error, F.binary_cross_entropy, F.mean_squared_error):
        with pytest.raises(ValueError, match="y must not be empty"):
            loss(np.zeros((0, 1)), np.zeros((0, 1)))


def test_nan_reaches_the_loss_instead_of_raising():
    y = np.array([[np.nan, 0.5]])
    assert np.isnan(F.cross_entropy_error([[1, 0]], y))


# --------------------------------------------------------------------------------------------
# Dtypes: float32 stays float32, integers become float64, losses are Python floats
# --------------------------------------------------------------------------------------------

ELEMENTWISE = [F.step_function, F.identity, F.sigmoid, F.relu, F.tanh, F.leaky_relu, F.softmax,
               F.d_step_function, F.d_identity, F.d_sigmoid, F.d_relu, F.d_tanh, F.d_leaky_relu,
               partial(F.leaky_relu, alpha=0.3), partial(F.d_leaky_relu, alpha=0.3)]


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
@pytest.mark.parametrize("fn", ELEMENTWISE)
def test_activations_keep_the_float_dtype(fn, dtype):
    x = np.linspace(-3, 3, 12).astype(dtype).reshape(3, 4)
    out = fn(x)
    assert out.dtype == dtype
    assert out.shape == x.shape


@pytest.mark.parametrize("fn", ELEMENTWISE)
def test_integer_and_bool_inputs_become_float64(fn):
    assert fn(np.array([[-2, 0, 3]])).dtype == np.float64
    assert fn(np.array([[True, False]])).dtype == np.float64


def test_losses_return_float_and_gradients_keep_float32():
    generator = rng(7)
    p = F.softmax(generator.normal(size=(5, 3)).astype(np.float32))
    s = F.sigmoid(generator.normal(size=(5, 1)).astype(np.float32))
    k = generator.integers(3, size=5)
    one_hot = np.eye(3)[k]                                    # float64 targets
    b = generator.integers(2, size=(5, 1)).astype(np.float64)

    for value in (F.cross_entropy_error(k, p), F.cross_entropy_error(one_hot, p),
                  F.cross_entropy_error(b, s), F.binary_cross_entropy(b, s),
                  F.mean_squared_error(one_hot, p)):
        assert type(value) is float

    for grad in (F.d_softmax_with_loss(k, p), F.d_softmax_with_loss(one_hot, p),
                 F.d_sigmoid_with_loss(b, s), F.d_sigmoid_with_loss(b[:, 0], s),
                 F.d_mean_squared_error(one_hot, p)):
        assert grad.dtype == np.float32


def test_float32_loss_is_close_to_float64_loss():
    generator = rng(8)
    u = generator.normal(size=(20, 4))
    k = generator.integers(4, size=20)
    loss64 = F.cross_entropy_error(k, F.softmax(u))
    loss32 = F.cross_entropy_error(k, F.softmax(u.astype(np.float32)))
    assert loss32 == pytest.approx(loss64, rel=1e-6)


# --------------------------------------------------------------------------------------------
# numerical_gradient
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 5, 1), (3, 1, 2), (4,), ()])
def test_numerical_gradient_any_shape(shape):
    x = rng(9).normal(size=shape)
    before = x.copy()
    grad = F.numerical_gradient(lambda v: float(np.sum(np.sin(v) * v)), x)

    assert grad.shape == x.shape and grad.dtype == x.dtype
    # central differences are off by about h^2 f'''/6, near 1e-8 here
    np.testing.assert_allclose(grad, np.cos(x) * x + np.sin(x), rtol=1e-7, atol=1e-7)
    np.testing.assert_array_equal(x, before)                  # every probe was undone


def test_numerical_gradient_reads_x_by_reference():
    W = rng(10).normal(size=(2, 3))
    x = np.array([1.0, -2.0])

    def loss(_):                                              # ignores its argument
        return float(np.sum((x @ W) ** 2))

    expected = 2 * np.outer(x, x @ W)
    np.testing.assert_allclose(F.numerical_gradient(loss, W), expected, rtol=1e-7, atol=1e-7)


def test_numerical_gradient_of_a_strided_view():
    base = rng(11).normal(size=(3, 6))
    view = base[:, ::2]
    grad = F.numerical_gradient(lambda v: float(np.sum(v ** 3)), view)
    np.testing.assert_allclose(grad, 3 * view ** 2, rtol=1e-7, atol=1e-7)   # error h^2 = 1e-8


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])

    def broken(v):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        F.numerical_gradient(broken, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_numerical_gradient_in_float32():
    x = np.linspace(-2, 2, 6, dtype=np.float32).reshape(2, 3)
    grad = F.numerical_gradient(lambda v: float(np.sum(v.astype(np.float64) ** 3)), x)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, 3 * x.astype(np.float64) ** 2, rtol=1e-4, atol=1e-4)


def test_numerical_gradient_of_a_list_uses_float64():
    grad = F.numerical_gradient(lambda v: float(np.sum(v ** 2)), [1, 2, 3])
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, [2, 4, 6], rtol=1e-8)


# --------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------

def test_messages_name_the_argument_rule_and_value():
    p = F.softmax(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"d must be one-hot of shape \(2, 3\) or integer labels "
                                         r"of shape \(2,\); got int64 of shape \(3,\)"):
        F.cross_entropy_error(np.array([0, 1, 2]), p)
    with pytest.raises(ValueError, match=r"d must hold class labels in \[0, 3\); got labels "
                                         r"from 0 to 3"):
        F.d_softmax_with_loss(np.array([0, 3]), p)
    with pytest.raises(ValueError, match="d must be one-hot"):
        F.cross_entropy_error(np.array([0.0, 1.0]), p)            # float labels
    with pytest.raises(ValueError, match=r"y must hold values in \[0, 1\] \(probabilities"):
        F.cross_entropy_error([0, 1], np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 0.7]]))
    with pytest.raises(ValueError, match=r"d must hold values in \[0, 1\]"):
        F.binary_cross_entropy([[2.0]], [[0.5]])
    with pytest.raises(ValueError, match="at least 2 classes"):
        F.d_softmax_with_loss([[1.0]], [[1.0]])
    with pytest.raises(ValueError, match=r"y must have shape \(C,\) or \(N, C\)"):
        F.cross_entropy_error(0, np.full((2, 2, 2), 0.5))
    with pytest.raises(ValueError, match=r"x must have at least one axis"):
        F.softmax(1.0)
    with pytest.raises(TypeError, match="x must hold real numbers"):
        F.relu(np.array(["a"]))
    with pytest.raises(ValueError, match="alpha must be a finite number"):
        F.leaky_relu([1.0], alpha=float("nan"))
    with pytest.raises(ValueError, match="h must be a number"):
        F.numerical_gradient(np.sum, np.ones(2), h=0)


def test_targets_are_not_broadcast():
    y = np.array([[0.2, 0.8], [0.6, 0.4]])
    with pytest.raises(ValueError, match=r"d must have the shape of y, \(2, 2\); got shape \(2,\)"):
        F.mean_squared_error(np.array([1.0, 0.0]), y)
    # a single output column may drop its last axis: (N,) against (N, 1)
    assert F.mean_squared_error([1.0, 0.0], [[0.5], [0.5]]) == pytest.approx(0.125)   # 1/2 * 0.25


def test_inputs_are_not_modified():
    y = F.softmax(rng(12).normal(size=(3, 4)))
    before = y.copy()
    F.d_softmax_with_loss(np.array([0, 1, 2]), y)
    F.cross_entropy_error(np.array([0, 1, 2]), y)
    np.testing.assert_array_equal(y, before)
    x = np.array([1.0, 2.0])
    out = F.identity(x)
    out[0] = 5.0
    assert x[0] == 1.0


# --------------------------------------------------------------------------------------------
# PyTorch as an oracle (skipped where torch is not installed)
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_match_torch(torch, dtype):
    x = rng(13).normal(scale=5.0, size=(6, 7)).astype(dtype)
    x[0, :4] = [0.0, 1000.0, -1000.0, 88.0]
    t = torch.from_numpy(x)
    nn = torch.nn.functional
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    pairs = [(F.sigmoid(x), torch.sigmoid(t)), (F.tanh(x), torch.tanh(t)),
             (F.relu(x), torch.relu(t)), (F.leaky_relu(x), nn.leaky_relu(t)),
             (F.leaky_relu(x, alpha=0.2), nn.leaky_relu(t, negative_slope=0.2)),
             (F.softmax(x), torch.softmax(t, dim=-1))]
    for ours, theirs in pairs:
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=rtol, atol=1e-30)


def test_activation_derivatives_match_autograd(torch):
    u = rng(14).normal(scale=3.0, size=(5, 6))
    u[0, :3] = 0.0                                      # autograd's convention at the kinks
    nn = torch.nn.functional
    pairs = [(F.d_sigmoid, torch.sigmoid), (F.d_tanh, torch.tanh), (F.d_relu, torch.relu),
             (F.d_leaky_relu, nn.leaky_relu),
             (partial(F.d_leaky_relu, alpha=0.2), partial(nn.leaky_relu, negative_slope=0.2)),
             (F.d_identity, lambda t: t)]
    for ours, activation in pairs:
        t = torch.tensor(u, requires_grad=True)
        activation(t).sum().backward()
        np.testing.assert_allclose(ours(u), t.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("batch, width", [(1, 2), (5, 3), (8, 10)])
def test_losses_and_fused_gradients_match_autograd(torch, batch, width):
    generator = rng(15)
    nn = torch.nn.functional
    u = generator.normal(scale=2.0, size=(batch, width))

    # softmax + cross-entropy, from the scores u (torch) and from the probabilities (zerodl)
    k = generator.integers(width, size=batch)
    for d in (k, np.eye(width)[k]):
        t = torch.tensor(u, requires_grad=True)
        loss = nn.cross_entropy(t, torch.from_numpy(k))
        loss.backward()
        assert F.cross_entropy_error(d, F.softmax(u)) == pytest.approx(loss.item(), rel=1e-12)
        np.testing.assert_allclose(F.d_softmax_with_loss(d, F.softmax(u)), t.grad.numpy(),
                                   rtol=1e-10, atol=1e-15)

    # sigmoid + binary cross-entropy, summed over the outputs, mean over the samples
    b = generator.integers(2, size=(batch, width)).astype(np.float64)
    tb = torch.from_numpy(b)
    for torch_loss in (
            lambda t: nn.binary_cross_entropy_with_logits(t, tb, reduction="sum") / batch,
            lambda t: nn.binary_cross_entropy(torch.sigmoid(t), tb, reduction="sum") / batch):
        t = torch.tensor(u, requires_grad=True)
        loss = torch_loss(t)
        loss.backward()
        assert F.binary_cross_entropy(b, F.sigmoid(u)) == pytest.approx(loss.item(), rel=1e-10)
        np.testing.assert_allclose(F.d_sigmoid_with_loss(b, F.sigmoid(u)), t.grad.numpy(),
                                   rtol=1e-8, atol=1e-15)

    # identity + halved squared error, summed over the outputs, mean over the samples
    target = generator.normal(size=(batch, width))
    t = torch.tensor(u, requires_grad=True)
    loss = nn.mse_loss(t, torch.from_numpy(target), reduction="sum") / batch / 2
    loss.backward()
    assert F.mean_squared_error(target, F.identity(u)) == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(F.d_mean_squared_error(target, F.identity(u)), t.grad.numpy(),
                               rtol=1e-12, atol=1e-15)


def test_single_output_cross_entropy_matches_torch(torch):
    generator = rng(16)
    u = generator.normal(scale=2.0, size=(9, 1))
    d = generator.integers(2, size=9)
    t = torch.tensor(u, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        t, torch.from_numpy(d.astype(np.float64)).reshape(9, 1))
    loss.backward()
    assert F.cross_entropy_error(d, F.sigmoid(u)) == pytest.approx(loss.item(), rel=1e-10)
    np.testing.assert_allclose(F.d_sigmoid_with_loss(d, F.sigmoid(u)), t.grad.numpy(),
                               rtol=1e-8, atol=1e-15)
