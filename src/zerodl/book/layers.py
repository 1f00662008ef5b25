"""The book's ``common.layers``: ``Relu``, ``Sigmoid``, ``Affine``, ``SoftmaxWithLoss``, and
(from ``regularization_layers`` and ``conv_layers``) ``Dropout``, ``BatchNormalization``,
``Convolution`` and ``Pooling``.

Each layer has ``forward`` and ``backward(dout)``, caches what its backward needs, and
(``Affine``) keeps references to its parameter arrays ``W`` and ``b`` and stores ``dW`` and
``db``, so an optimizer that updates ``params`` in place updates the layers too. Unlike the
book's ``Relu``, ``backward`` never changes the ``dout`` it is given.
"""
from __future__ import annotations

import numpy as np

from ..core import functions as F
from . import functions as book_functions
# The book's layers module star-imports its functions, and scripts rely on getting them here.
from .functions import *  # noqa: F401,F403
from .conv_layers import Convolution, Pooling
from .regularization_layers import BatchNormalization, Dropout
from .util import col2im, im2col

__all__ = (["Relu", "Sigmoid", "Affine", "SoftmaxWithLoss", "Dropout", "BatchNormalization",
            "Convolution", "Pooling", "im2col", "col2im"] + book_functions.__all__)


class Relu:
    """``out = max(x, 0)``; ``dx = dout`` where ``x > 0``, else 0."""

    def __init__(self) -> None:
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x <= 0
        return F.relu(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return np.where(self.mask, 0, dout)


class Sigmoid:
    """``out = sigmoid(x)``; ``dx = dout * out (1 - out)``, from the cached output."""

    def __init__(self) -> None:
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = F.sigmoid(x)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * (1.0 - self.out) * self.out


class Affine:
    """``out = x W + b``; ``dx = dout W^T``, ``dW = x^T dout``, ``db = sum_n dout``.

    Inputs of more than two axes (images (N, 1, 28, 28)) are flattened to (N, -1) and ``dx``
    gets their shape back.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W = W
        self.b = b
        self.x: np.ndarray | None = None
        self.original_x_shape: tuple | None = None
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T).reshape(self.original_x_shape)


class SoftmaxWithLoss:
    """Softmax output fused with cross-entropy: ``forward(x, t)`` returns the loss,
    ``backward(dout=1)`` returns ``(y - t) / N``.

    The gradient is ``zerodl.functions.output_delta``, the same function behind zerodl's
    own softmax output; ``t`` may be one-hot rows or integer labels, the labels in any
    shape holding one per sample (the book's chapter-7 gradient check passes ``[[1]]``). As
    in the book, ``dout`` is taken to be 1 (this layer is always last).
    """

    def __init__(self) -> None:
        self.loss: float | None = None
        self.y: np.ndarray | None = None
        self.t: np.ndarray | None = None

    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        self.y = F.softmax(x)
        t = np.asarray(t)
        if t.shape != self.y.shape and self.y.ndim == 2 and t.size == len(self.y):
            t = t.reshape(len(self.y))            # one label per sample, e.g. (N, 1)
        self.t = t
        self.loss = F.cross_entropy_error(t, self.y)
        return self.loss

    def backward(self, dout=1) -> np.ndarray:
        t = np.asarray(self.t)
        if t.shape != self.y.shape:               # integer labels -> one-hot rows
            t = np.eye(self.y.shape[-1], dtype=self.y.dtype)[t]
        return F.output_delta(t.astype(self.y.dtype, copy=False), self.y)
