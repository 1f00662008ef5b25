"""The book's ``common.functions``: its names and its argument order ``loss(y, t)``.

Each function is zerodl's own (``zerodl.functions``), called with the book's argument
order. Differences from the book's code: ``step_function`` returns floats (the book: ints);
``relu_grad`` is 0 at exactly 0 (the book: 1), as zerodl's ``d_relu``; ``sigmoid`` and
``softmax`` never overflow; logs are guarded by ``np.finfo(dtype).tiny`` instead of
adding 1e-7, so ``cross_entropy_error`` differs from the book's value by about
``1e-7 / y`` at most.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..core import functions as F

__all__ = ["identity_function", "step_function", "sigmoid", "sigmoid_grad", "relu",
           "relu_grad", "softmax", "sum_squared_error", "mean_squared_error",
           "cross_entropy_error", "softmax_loss"]

identity_function = F.identity
step_function = F.step_function
sigmoid = F.sigmoid
relu = F.relu
softmax = F.softmax


def sigmoid_grad(x: ArrayLike) -> np.ndarray:
    """Derivative of the sigmoid at ``x``: ``s(x) (1 - s(x))`` (zerodl's ``d_sigmoid``)."""
    return F.d_sigmoid(x)


def relu_grad(x: ArrayLike) -> np.ndarray:
    """Derivative of ReLU at ``x``: 1 where ``x > 0``, else 0 (zerodl's ``d_relu``)."""
    return F.d_relu(x)


def mean_squared_error(y: ArrayLike, t: ArrayLike) -> float:
    """``1/N sum_n 1/2 sum_j (y - t)^2``: for one sample (1-D ``y``) the book's
    ``0.5 * sum((y - t)**2)``; for a batch, the mean of that over the samples."""
    return F.mean_squared_error(t, y)


def sum_squared_error(y: ArrayLike, t: ArrayLike) -> float:
    """``1/2 sum (y - t)^2`` over every element, as the book's ``sum_squared_error``."""
    y = np.asarray(y, dtype=float)
    diff = (y - np.asarray(t, dtype=float).reshape(y.shape)).ravel()
    return float(0.5 * np.dot(diff, diff))


def cross_entropy_error(y: ArrayLike, t: ArrayLike) -> float:
    """``-1/N sum_n sum_k t_nk log y_nk`` for softmax outputs ``y``; ``t`` one-hot or labels.

    Book order ``(y, t)``: zerodl's ``functions.cross_entropy_error(d, y)`` takes the
    labels first, and passing the book's order to it would raise (or, with probabilities
    as labels, give a meaningless number).
    """
    return F.cross_entropy_error(t, y)


def softmax_loss(X: ArrayLike, t: ArrayLike) -> float:
    """Cross-entropy of ``softmax(X)`` against ``t``."""
    return cross_entropy_error(softmax(X), t)
