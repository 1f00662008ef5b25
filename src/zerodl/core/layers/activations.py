"""Activations: ``z = f(u)`` element by element, each backward beside its forward."""
from __future__ import annotations

import numpy as np

from .. import functions as F
from .._checks import check_number
from .base import Layer


class Activation(Layer):
    """An element-by-element function: the output has the input's shape, whatever it is."""

    keeps_shape = True


class ReLU(Activation):
    """``y = max(x, 0)``; ``dy/dx`` is 1 where ``x > 0`` and 0 elsewhere (0 at ``x == 0``).

    Backward reads the mask from the output: ``y > 0`` exactly where ``x > 0``, so
    ``forward(x, out=x)`` (bias and activation in one array) loses nothing backward needs.
    """

    def forward(self, x, training=False, out=None):
        self.y = np.maximum(x, 0, out=out)
        return self.y

    def backward(self, dy, need_dx=True, out=None):
        return np.multiply(dy, self._cached("y") > 0, out=out)


class LeakyReLU(Activation):
    """``y = x`` for ``x > 0``, ``alpha * x`` otherwise; slope ``alpha`` at and below 0.

    ``0 <= alpha <= 1``: a leak steeper than the positive side is no longer a leak, and a
    huge slope (1e308) turns every negative input into inf, then the predictions into NaN.
    """

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = check_number("alpha", alpha, low=0.0, high=1.0)

    def forward(self, x, training=False, out=None):
        self.mask = x > 0
        return np.where(self.mask, x, x * x.dtype.type(self.alpha))

    def backward(self, dy, need_dx=True, out=None):
        return np.where(self._cached("mask"), dy, dy * dy.dtype.type(self.alpha))

    def get_config(self):
        return {"type": "LeakyReLU", "alpha": self.alpha}


class Sigmoid(Activation):
    """``y = 1 / (1 + exp(-x))``; backward uses the cached output: ``dy/dx = y (1 - y)``."""

    def forward(self, x, training=False, out=None):
        self.y = F.sigmoid(x)
        return self.y

    def backward(self, dy, need_dx=True, out=None):
        y = self._cached("y")
        return dy * y * (1 - y)


class Tanh(Activation):
    """``y = tanh(x)``; backward uses the cached output: ``dy/dx = 1 - y**2``."""

    def forward(self, x, training=False, out=None):
        self.y = np.tanh(x, out=out)
        return self.y

    def backward(self, dy, need_dx=True, out=None):
        y = self._cached("y")
        return dy * (1 - y * y)


class Identity(Activation):
    """``y = x``: the linear "activation", to show that stacked linear layers stay linear."""

    def forward(self, x, training=False, out=None):
        return x

    def backward(self, dy, need_dx=True, out=None):
        return dy


class Step(Activation):
    """``y = 1`` for ``x > 0``, else 0: the perceptron's activation, for forward passes only."""

    def forward(self, x, training=False, out=None):
        return (x > 0).astype(x.dtype)

    def backward(self, dy, need_dx=True, out=None):
        raise RuntimeError(
            "Step has no useful gradient: its derivative is 0 everywhere except at 0, where it "
            "is undefined, so backpropagation cannot train through it. Use 'sigmoid' or 'relu' "
            "to train; keep 'step' for forward-pass demonstrations.")
