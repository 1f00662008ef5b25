"""The book's ``common.optimizer``: ``SGD``, ``Momentum``, ``Nesterov``, ``AdaGrad``,
``RMSprop``, ``Adam`` with the book's argument names, backed by ``zerodl.optimizers``.

``update(params, grads)`` changes ``params`` in place. Besides arrays, ``params`` may hold
plain Python numbers (the book's two-variable demo on ``f(x, y) = x^2/20 + y^2`` does):
those are updated through a 0-d array per key, kept between calls, and written back as
floats.

The rules are zerodl's, with the book's ``1e-7`` as epsilon. Two differ in form from the
book's code: ``Nesterov`` is PyTorch's form (``b = m b + g``, step ``g + m b``) and ``Adam``
adds epsilon to the bias-corrected ``sqrt(v)``; both reach the same places, the first
steps differ slightly.
"""
from __future__ import annotations

import numpy as np

from ..core import optimizers as Z

__all__ = ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]

_BOOK_EPS = 1e-7


class _BookUpdate:
    """``update`` that also accepts Python numbers as parameters (see the module notes)."""

    def update(self, params: dict, grads: dict) -> None:
        # One 0-d array per number, kept between calls: the optimizer's buffers belong to
        # the arrays they were built for, so a number must stay the same array.
        boxes = self.__dict__.setdefault("_boxes", {})
        arrays = {}
        for key, value in params.items():
            if isinstance(value, np.ndarray):
                arrays[key] = value
            elif key in boxes:
                boxes[key][...] = value
                arrays[key] = boxes[key]
            else:
                arrays[key] = boxes[key] = np.array(value, dtype=np.float64)
        super().update(arrays, {key: np.asarray(grads[key], dtype=arrays[key].dtype)
                                for key in arrays})
        for key, value in params.items():
            if not isinstance(value, np.ndarray):
                params[key] = float(arrays[key])


class SGD(_BookUpdate, Z.SGD):
    """``p <- p - lr * g``."""

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__(lr=lr)


class Momentum(_BookUpdate, Z.Momentum):
    """``v <- momentum * v - lr * g``, ``p <- p + v``."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(lr=lr, momentum=momentum)


class Nesterov(_BookUpdate, Z.Nesterov):
    """Nesterov momentum, PyTorch's form (see the module notes)."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(lr=lr, momentum=momentum)


class AdaGrad(_BookUpdate, Z.AdaGrad):
    """``h <- h + g^2``, ``p <- p - lr * g / (sqrt(h) + 1e-7)``."""

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__(lr=lr, eps=_BOOK_EPS)


class RMSprop(_BookUpdate, Z.RMSProp):
    """``h <- decay_rate * h + (1 - decay_rate) g^2``, ``p <- p - lr * g / (sqrt(h) + 1e-7)``."""

    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99) -> None:
        super().__init__(lr=lr, alpha=decay_rate, eps=_BOOK_EPS)


class Adam(_BookUpdate, Z.Adam):
    """Adam with ``beta1``, ``beta2`` (see the module notes for epsilon)."""

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999) -> None:
        super().__init__(lr=lr, betas=(beta1, beta2), eps=_BOOK_EPS)
