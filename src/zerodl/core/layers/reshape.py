"""Flatten: images ``(N, C, H, W)`` (or any shape) to rows ``(N, C*H*W)`` for a Dense layer."""
from __future__ import annotations

import math

import numpy as np

from .base import Layer


class Flatten(Layer):
    """``y = x.reshape(N, -1)``: each sample's values in one row, in C order (channel, row,
    column), as the book's ``Affine`` and PyTorch's ``nn.Flatten`` do; backward reshapes
    ``dy`` back to the input's shape. Both are views: no data is copied.
    """

    def output_shape(self, input_shape: tuple) -> tuple:
        return (math.prod(input_shape),)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy.reshape(self._cached("shape"))
