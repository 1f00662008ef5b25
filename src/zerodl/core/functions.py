"""Activation functions, their derivatives, losses, fused output-layer gradients, and a
numerical gradient for checking all of them.

Conventions shared by every function in this module:

* Names follow the course: ``d`` is the target (the label, or teacher signal), ``y`` the
  network's output, ``u`` a layer's pre-activation ``u = xW + b``. Targets come first:
  ``loss(d, y)``.
* Float inputs keep their dtype (float32 in, float32 out). Integer and bool inputs are
  converted to float64. Constants are Python scalars or values of the input's dtype, so
  nothing is promoted to float64 along the way. Targets are cast to the dtype of ``y``.
* Activations work element by element (softmax works along the last axis) and always return
  a new array.
* ``d_<activation>(u)`` is the derivative of the activation at the pre-activation ``u``, not
  at the activation's output.
* Losses return a Python ``float``.
* Losses are per-sample sums over the output units, averaged over the samples, as the
  course's formulas write them (``E_n = 1/2 sum_j (y_j - d_j)^2``, ``E = 1/N sum_n E_n``).
  A 1-D ``y`` is one sample; (N, k) is N samples of k outputs.
* ``d_<activation>_with_loss(d, y)`` takes the output layer's *output* ``y`` (after its
  activation) and returns the gradient of the loss with respect to that layer's
  *pre-activation* ``u``, batch mean included: ``(y - d) / N`` for all three pairs, computed
  by ``output_delta``, which ``zerodl.losses`` uses too. The result has the shape of ``y`` and
  is the gradient that ``numerical_gradient`` finds when it probes ``u``.
* Logarithms raise their argument to ``np.finfo(dtype).tiny``, the smallest normal number
  of the dtype, so that ``log(0)`` is finite and every ordinary probability is unchanged.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ._checks import as_array, as_float, check_number, plain
# Re-exported so that the course's and the book's names are all in functions:
from .im2col import col2im, im2col
from .numerical import numerical_gradient

__all__ = [
    "step_function", "identity", "sigmoid", "relu", "tanh", "leaky_relu", "softmax",
    "d_step_function", "d_identity", "d_sigmoid", "d_relu", "d_tanh", "d_leaky_relu",
    "mean_squared_error", "cross_entropy_error", "binary_cross_entropy",
    "binary_cross_entropy_from_logits", "n_samples", "output_delta",
    "d_mean_squared_error", "d_softmax_with_loss", "d_sigmoid_with_loss",
    "numerical_gradient", "im2col", "col2im",
]


# --------------------------------------------------------------------------------------------
# Shared checks and conversions
# --------------------------------------------------------------------------------------------

def _check_not_empty(name: str, a: np.ndarray) -> None:
    if a.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {a.shape}.")


def _check_unit_interval(name: str, a: np.ndarray, hint: str = "") -> None:
    # NaN passes on purpose: a diverging network should show a NaN loss, not an exception.
    if a.size and (a.min() < 0 or a.max() > 1):
        raise ValueError(f"{name} must hold values in [0, 1]{hint}; "
                         f"got values from {plain(a.min())} to {plain(a.max())}.")


_PROBABILITIES = " (probabilities: pass the output of the activation, not the scores u)"


def _check_class_outputs(y: np.ndarray) -> None:
    """``y`` holds class probabilities: shape (C,) for one sample or (N, C) for a batch."""
    if y.ndim not in (1, 2):
        raise ValueError(f"y must have shape (C,) or (N, C); got shape {y.shape}.")
    _check_not_empty("y", y)
    _check_unit_interval("y", y, _PROBABILITIES)


def _targets_like(d: ArrayLike, y: np.ndarray) -> np.ndarray:
    """``d`` with the shape and dtype of ``y``.

    ``d`` must have the shape of ``y``; where ``y`` has a single output per sample (last axis
    of size 1), ``d`` may also leave that axis out: labels of shape (N,) for outputs (N, 1).
    Nothing else is broadcast, because (N,) against (N, 1) would silently give (N, N).
    """
    d = as_float("d", d)
    if d.shape != y.shape and y.ndim >= 1 and y.shape[-1] == 1 and d.shape == y.shape[:-1]:
        d = d.reshape(y.shape)
    if d.shape != y.shape:
        raise ValueError(f"d must have the shape of y, {y.shape}; got shape {d.shape}.")
    return d.astype(y.dtype, copy=False)


def _class_targets(d: ArrayLike, y: np.ndarray) -> np.ndarray:
    """``d`` as one-hot rows with the shape and dtype of ``y`` (shape (C,) or (N, C)).

    ``d`` is either one-hot (or soft targets whose rows sum to 1) of the shape of ``y``, or
    integer class labels of shape ``y.shape[:-1]``: a scalar for one sample, (N,) for a batch.
    """
    d = as_array("d", d)
    n_classes = y.shape[-1]
    if d.shape == y.shape:
        d = as_float("d", d)
        _check_unit_interval("d", d)
        return d.astype(y.dtype, copy=False)
    if d.shape == y.shape[:-1] and np.issubdtype(d.dtype, np.integer):
        if d.size and (d.min() < 0 or d.max() >= n_classes):
            raise ValueError(f"d must hold class labels in [0, {n_classes}); "
                             f"got labels from {plain(d.min())} to {plain(d.max())}.")
        return (d[..., np.newaxis] == np.arange(n_classes)).astype(y.dtype)
    raise ValueError(f"d must be one-hot of shape {y.shape} or integer labels of shape "
                     f"{y.shape[:-1]}; got {d.dtype} of shape {d.shape}.")


def _log(p: np.ndarray) -> np.ndarray:
    """``log(p)`` with ``p`` raised to the smallest normal number of its dtype.

    ``tiny`` is about 1.2e-38 in float32 and 2.2e-308 in float64, so only zeros and
    subnormals change and ``log(0)`` becomes a large finite number (-87.3 or -708.4). A fixed
    offset such as ``log(p + 1e-7)`` would shift every probability and cap the loss at 16.1.
    """
    return np.log(np.maximum(p, np.finfo(p.dtype).tiny))


# --------------------------------------------------------------------------------------------
# Activations and their derivatives, side by side
# --------------------------------------------------------------------------------------------

def step_function(x: ArrayLike) -> np.ndarray:
    """Step function: ``h(x) = 1 if x > 0 else 0``, element by element; same shape as ``x``.

    The course returns an integer array; here the float dtype of ``x`` is kept so that the
    result mixes with the other activations without a change of dtype.
    """
    x = as_float("x", x)
    return (x > 0).astype(x.dtype)


def d_step_function(u: ArrayLike) -> np.ndarray:
    """Derivative of the step function at the pre-activation ``u``: zeros of ``u``'s shape.

    The step is flat everywhere except at 0, where it has no derivative; 0 is used there too.
    A zero gradient is why the step function cannot be trained by backpropagation.
    """
    u = as_float("u", u)
    return np.zeros_like(u)


def identity(x: ArrayLike) -> np.ndarray:
    """Identity: ``h(x) = x``, as a new array (a copy), so callers never share memory."""
    return as_float("x", x).copy()


def d_identity(u: ArrayLike) -> np.ndarray:
    """Derivative of the identity at the pre-activation ``u``: ones of ``u``'s shape."""
    u = as_float("u", u)
    return np.ones_like(u)


def sigmoid(x: ArrayLike) -> np.ndarray:
    """Logistic sigmoid: ``h(x) = 1 / (1 + exp(-x))``, element by element; shape of ``x``.

    Computed as ``1 / (1 + e)`` for ``x >= 0`` and ``e / (1 + e)`` for ``x < 0``, with
    ``e = exp(-|x|)``. Both forms equal the formula, and ``e`` lies in (0, 1], so no
    exponential can overflow. The course's ``1 / (1 + np.exp(-x))`` overflows ``exp`` (with a
    RuntimeWarning) once ``x`` is below about -88 in float32 or -709 in float64.
    """
    x = as_float("x", x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def d_sigmoid(u: ArrayLike) -> np.ndarray:
    """Derivative of the sigmoid at the pre-activation ``u``: ``h'(u) = h(u) (1 - h(u))``.

    Same shape as ``u``. Cheaper from the sigmoid's output than from ``exp``, so it is
    computed from ``h(u)``.
    """
    s = sigmoid(u)
    return s * (1 - s)


def relu(x: ArrayLike) -> np.ndarray:
    """Rectified linear unit: ``h(x) = max(x, 0)``, element by element; shape of ``x``."""
    x = as_float("x", x)
    return np.maximum(x, 0)


def d_relu(u: ArrayLike) -> np.ndarray:
    """Derivative of ReLU at the pre-activation ``u``: ``1 if u > 0 else 0``; shape of ``u``.

    ReLU has no derivative at 0; zerodl uses ``ReLU'(0) = 0`` everywhere (as PyTorch does).
    The course uses 1 at 0 in its gradient function and 0 at 0 in its ReLU layer's backward,
    so the two could disagree.
    """
    u = as_float("u", u)
    return (u > 0).astype(u.dtype)


def tanh(x: ArrayLike) -> np.ndarray:
    """Hyperbolic tangent: ``h(x) = (e^x - e^-x) / (e^x + e^-x)``; shape of ``x``.

    NumPy's ``np.tanh`` is already stable for large ``|x|``.
    """
    return np.tanh(as_float("x", x))


def d_tanh(u: ArrayLike) -> np.ndarray:
    """Derivative of tanh at the pre-activation ``u``: ``h'(u) = 1 - h(u)^2``; shape of ``u``.

    Cheaper from the output ``tanh(u)`` than from ``cosh``, so it is computed from it.
    """
    t = tanh(u)
    return 1 - t * t


def leaky_relu(x: ArrayLike, alpha: float = 0.01) -> np.ndarray:
    """Leaky ReLU: ``h(x) = x if x > 0 else alpha * x``, element by element; shape of ``x``."""
    x = as_float("x", x)
    alpha = check_number("alpha", alpha)
    return np.where(x > 0, x, alpha * x)


def d_leaky_relu(u: ArrayLike, alpha: float = 0.01) -> np.ndarray:
    """Derivative of leaky ReLU at the pre-activation ``u``: ``1 if u > 0 else alpha``.

    Same shape as ``u``. At 0 it takes the left-hand value ``alpha``, the same convention as
    ``d_relu`` (which is this with ``alpha = 0``).
    """
    u = as_float("u", u)
    alpha = check_number("alpha", alpha)
    return np.where(u > 0, u.dtype.type(1), u.dtype.type(alpha))


def softmax(x: ArrayLike) -> np.ndarray:
    """Softmax along the last axis: ``y_k = exp(x_k) / sum_j exp(x_j)``.

    ``x`` has shape (C,) for one sample or (N, C) for a batch (any leading axes work); the
    result has the same shape and each row sums to 1. Subtracting the row maximum first
    leaves the result unchanged (it cancels between numerator and denominator) and makes the
    largest exponent 0, so nothing overflows even for scores like 1000.
    """
    x = as_float("x", x)
    if x.ndim == 0:
        raise ValueError("x must have at least one axis (classes on the last one); "
                         "got a scalar.")
    if x.size == 0:
        return x.copy()
    return softmax_rows(x.reshape(-1, x.shape[-1])).reshape(x.shape)


def softmax_rows(u: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``softmax`` of each row of a 2-D float array, with no checks: the one softmax kernel.

    ``softmax`` calls it after its checks, and the model on its own arrays: ``out`` (``u``'s
    shape and dtype, may be ``u`` itself) receives the result instead of a new array. Two
    steps, each usable alone: ``subtract_row_max`` and ``exp_normalize_rows``.
    """
    y, _ = exp_normalize_rows(subtract_row_max(u, out=out))
    return y


def subtract_row_max(u: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``s = u - max_k u_k`` for each row of a 2-D float array (no checks; ``out`` may be u).

    The largest score of every row becomes 0, so ``exp(s)`` cannot overflow. The maximum is
    read at the row's ``argmax``: the same value as ``u.max(axis=1)`` (a NaN included), and
    for float32 rows of ten scores about three times faster.
    """
    top = u[np.arange(u.shape[0]), u.argmax(axis=1)]
    return np.subtract(u, top[:, np.newaxis], out=out)


def exp_normalize_rows(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``y = exp(s) / sum_k exp(s_k)`` for each row, computed in ``s``'s own memory.

    Returns ``y`` (which is ``s``) and the row sums ``sum_k exp(s_k)``, shape (N, 1), whose
    logarithm the cross-entropy needs. No checks: ``s`` is a 2-D float array, normally the
    output of ``subtract_row_max``.
    """
    y = np.exp(s, out=s)
    total = np.add.reduce(y, axis=1, keepdims=True)     # np.sum without its Python wrapper
    y /= total
    return y, total


# --------------------------------------------------------------------------------------------
# Losses (each returns a Python float): per-sample sums over the outputs, mean over samples
# --------------------------------------------------------------------------------------------

def n_samples(y: np.ndarray) -> int:
    """Number of samples in an output array: 1 for a scalar or a 1-D ``y`` (one sample),
    else the product of every axis but the last (``N`` for (N, k))."""
    y = np.asarray(y)
    if y.ndim <= 1:
        return 1
    return math.prod(y.shape[:-1])     # math.prod: np.prod would first build an array


def mean_squared_error(d: ArrayLike, y: ArrayLike) -> float:
    """Halved squared error, summed over the outputs and averaged over the samples:
    ``E = 1/N sum_n 1/2 sum_j (y_nj - d_nj)^2``.

    This is the course's ``E_n = 1/2 ||y - d||^2`` per sample. ``y`` of any non-empty shape
    (see ``n_samples``); ``d`` of the same shape (or (N,) when ``y`` is (N, 1)). The 1/2
    cancels the 2 of the derivative: ``dE/dy = (y - d) / N``.

    How the course differs: its code takes ``np.mean`` over every element, samples and
    outputs alike, which divides its own formula by the number of outputs as well.
    """
    y = as_float("y", y)
    _check_not_empty("y", y)
    d = _targets_like(d, y)
    diff = (y - d).ravel()
    return float(0.5 * np.dot(diff, diff) / n_samples(y))


def binary_cross_entropy(d: ArrayLike, y: ArrayLike) -> float:
    """Binary cross-entropy, summed over the outputs and averaged over the samples:
    ``E = -1/N sum_n sum_j [d_nj log y_nj + (1 - d_nj) log(1 - y_nj)]``.

    ``y`` holds probabilities in [0, 1] (a sigmoid output) of any non-empty shape: (N, 1)
    for one output per sample, (N, K) for K independent yes/no outputs. ``d`` holds targets
    in [0, 1] of the same shape (or (N,) when ``y`` is (N, 1)). The loss is never negative
    and is 0 only when ``y`` equals ``d``. Probabilities of exactly 0 or 1 give finite values
    (see the module notes on logarithms); ``binary_cross_entropy_from_logits`` is exact there.
    """
    y = as_float("y", y)
    _check_not_empty("y", y)
    _check_unit_interval("y", y, _PROBABILITIES)
    d = _targets_like(d, y)
    _check_unit_interval("d", d)
    return float(-np.sum(d * _log(y) + (1 - d) * _log(1 - y)) / n_samples(y))


def binary_cross_entropy_from_logits(d: ArrayLike, u: ArrayLike) -> float:
    """``binary_cross_entropy(d, sigmoid(u))`` computed from the pre-activation ``u``.

    Per element ``-d log s(u) - (1 - d) log(1 - s(u)) = max(u, 0) - d u + log(1 + e^-|u|)``,
    which never overflows and never takes ``log(0)``, even where ``sigmoid(u)`` rounds to
    exactly 0 or 1. Summed over the outputs, averaged over the samples.
    """
    u = as_float("u", u)
    _check_not_empty("u", u)
    d = _targets_like(d, u)
    _check_unit_interval("d", d)
    per_element = np.maximum(u, 0) - d * u + np.log1p(np.exp(-np.abs(u)))
    return float(np.sum(per_element) / n_samples(u))


def cross_entropy_error(d: ArrayLike, y: ArrayLike) -> float:
    """Cross-entropy, mean over the batch: ``E = -1/N * sum_n sum_k d_nk log y_nk``.

    ``y`` holds probabilities (a softmax output) of shape (C,) for one sample (N = 1) or
    (N, C) for a batch. ``d`` is one-hot of the same shape, or integer class labels: a scalar
    for one sample, shape (N,) for a batch.

    A single output column, ``y`` of shape (N, 1) or (1,), is read as the probability of
    class 1 (a sigmoid output) and scored with ``binary_cross_entropy``; ``d`` then holds 0/1
    labels of shape (N, 1) or (N,). (A 1-D ``y`` of length C > 1 is always one sample with C
    classes, as in the course.)

    How the course differs: it turns one-hot labels into indices with ``argmax`` and returns
    ``-mean(log(y[n, label_n] + 1e-7))``. With a single output column ``argmax`` is always 0,
    so that loss is ``-mean(log y)`` whatever the label; and ``log(1 + 1e-7) > 0`` makes it
    slightly negative when a probability is exactly 1. Here the single-column case depends on
    the label and is never negative, and the log is guarded by ``np.finfo(dtype).tiny``
    instead of a fixed 1e-7, which leaves ordinary probabilities untouched.
    """
    y = as_float("y", y)
    _check_class_outputs(y)
    if y.shape[-1] == 1:
        return binary_cross_entropy(d, y)
    d = _class_targets(d, y)
    return float(-np.sum(d * _log(y)) / n_samples(y))


# --------------------------------------------------------------------------------------------
# Fused output-layer gradients: dE/du, where y = activation(u) and E = loss(d, y)
# --------------------------------------------------------------------------------------------

def output_delta(d: np.ndarray, y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``(y - d) / N``: the gradient of every fused output layer's loss at its ``u``.

    The one place this formula lives: the three ``d_*_with_loss`` functions below and the
    output layers of ``zerodl.losses`` all call it. No checks: ``y`` is a float array, ``d``
    holds targets of ``y``'s shape and dtype, or integer class indices of shape (N,) for a
    2-D ``y`` (row ``n`` then subtracts 1 at column ``d[n]``). ``out`` (``y``'s shape and
    dtype, may be ``y`` itself) receives the result instead of a new array.
    """
    if d.shape == y.shape:
        delta = np.subtract(y, d, out=out)
    else:
        if out is None:
            delta = y.copy()
        else:
            delta = out
            if out is not y:
                np.copyto(out, y)
        delta[np.arange(y.shape[0]), d] -= 1
    delta *= delta.dtype.type(1 / n_samples(y))     # multiplying by 1/N: cheaper than dividing
    return delta


def d_mean_squared_error(d: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Gradient of ``mean_squared_error(d, y)`` with respect to ``y``: ``(y - d) / N``.

    With the identity output ``y = u`` this is also the gradient with respect to the
    pre-activation ``u``. Shapes as in ``mean_squared_error``; the result has ``y``'s shape.
    For one sample it is ``y - d``, the value the course prints.
    """
    y = as_float("y", y)
    _check_not_empty("y", y)
    d = _targets_like(d, y)
    return output_delta(d, y)


def d_softmax_with_loss(d: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Gradient of ``cross_entropy_error(d, softmax(u))`` with respect to ``u``: ``(y - d) / N``.

    ``y = softmax(u)`` is the softmax *output*, shape (C,) (N = 1) or (N, C) with C >= 2;
    ``d`` is one-hot of the same shape or integer labels of shape ``y.shape[:-1]``. The result
    has ``y``'s shape.

    Why so simple: with ``E = -1/N sum_k d_k log y_k`` and ``dy_k/du_j = y_k (delta_kj - y_j)``,
    the chain rule gives ``dE/du_j = (y_j sum_k d_k - d_j) / N``, which is ``(y_j - d_j) / N``
    because each row of ``d`` sums to 1 (one-hot or a probability distribution).
    """
    y = as_float("y", y)
    _check_class_outputs(y)
    if y.shape[-1] == 1:
        raise ValueError("y must have at least 2 classes on its last axis for softmax; got "
                         f"shape {y.shape}. For one output use sigmoid and "
                         "d_sigmoid_with_loss.")
    d = _class_targets(d, y)
    return output_delta(d, y)


def d_sigmoid_with_loss(d: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Gradient of ``binary_cross_entropy(d, sigmoid(u))`` with respect to ``u``:
    ``(y - d) / N``.

    ``y = sigmoid(u)`` is the sigmoid *output*; shapes as in ``binary_cross_entropy``
    ((N, 1) for one output per sample, with ``d`` of shape (N, 1) or (N,)). The result has
    ``y``'s shape. Why: per element ``dE/dy = (y - d) / (y (1 - y)) / N``, and
    ``dy/du = y (1 - y)`` cancels the denominator. That equals the gradient of
    ``cross_entropy_error`` for a single output column, which is the same loss.

    The course calls this after a *softmax* output on one sample (its 2-3-2 backprop cell);
    the value, ``y - d``, is then also the softmax gradient, because both are ``(y - d) / N``.
    """
    y = as_float("y", y)
    _check_not_empty("y", y)
    _check_unit_interval("y", y, _PROBABILITIES)
    d = _targets_like(d, y)
    _check_unit_interval("d", d)
    return output_delta(d, y)
