"""Dropout: during training, zero each unit at random and scale the rest (the book's 6.4.3).

Srivastava, Hinton, Krizhevsky, Sutskever and Salakhutdinov, "Dropout: A Simple Way to
Prevent Neural Networks from Overfitting", JMLR 15 (2014).
"""
from __future__ import annotations

import numpy as np

from .._checks import check_bool, check_int, check_number, plain
from .base import Layer


class Dropout(Layer):
    """Inverted dropout, as Keras's ``Dropout`` and PyTorch's ``nn.Dropout``.

    Training (``forward(x, training=True)``), each unit independently::

        m_i = 1 / (1 - rate)  with probability 1 - rate,   m_i = 0  with probability rate
        y = x * m                       dx = dy * m   (the same mask m)

    so ``E[y_i] = x_i``: the scaling happens while training, and inference needs no change.
    The book's ``Dropout`` scales the other way (``y = x * (1 - rate)`` at inference, no
    scaling in training); both give the same expected value, and inverted dropout leaves
    inference the plain identity.

    Inference (``training=False``), and training at ``rate == 0``: ``y = x``, the input
    array itself, not a copy (as ``Identity``); ``backward`` then returns ``dy`` itself.
    Write into neither if you still need the other.

    Shapes: any; ``y``, ``dx`` and the mask have ``x``'s shape and dtype.

    Randomness: ``self.rng`` is a public ``np.random.Generator``, ``default_rng(seed)`` (fresh
    entropy when ``seed`` is None). A model may replace it with one derived from its own
    seed; the mask is then drawn from that one. Each training forward with ``rate > 0``
    draws ``x.size`` uniform numbers on [0, 1), in float64 for a float64 ``x`` and in float32
    otherwise (half the work; a unit is kept when its draw is ``>= rate``). Inference and
    ``rate == 0`` draw nothing.

    ``rate``: the probability of dropping a unit (Keras's ``rate``, PyTorch's ``p``), a
    real number in [0, 1). ``seed``: None or an integer >= 0 (a Generator is not JSON-able
    for ``get_config``: assign it to ``rng`` instead).
    """

    keeps_shape = True

    def __init__(self, rate: float, seed: int | None = None) -> None:
        super().__init__()
        self.rate = check_number("rate", rate, low=0.0, high=1.0, high_open=True)
        if isinstance(seed, np.random.Generator):
            raise TypeError("seed must be None or an integer >= 0, so that get_config stays "
                            "JSON-able; got a numpy Generator (assign it to layer.rng "
                            "instead).")
        self.seed = None if seed is None else check_int("seed", seed, minimum=0)
        self.rng: np.random.Generator = np.random.default_rng(self.seed)
        self.buffers: dict[str, np.ndarray] = {}
        self.mask: np.ndarray | None = None     # m of the last training forward
        self._passed_through = False            # the last forward was the identity

    def build(self, input_shape: tuple) -> None:
        """Nothing to build: dropout has no parameters."""

    def output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``x * m`` with a fresh mask ``m`` in training, ``x`` itself otherwise."""
        training = check_bool("training", training)
        x = np.asarray(x)
        if x.dtype.kind != "f":
            raise TypeError(f"x must be a floating-point array (float16, float32 or float64); "
                            f"got dtype {x.dtype}.")
        if not training or self.rate == 0.0:
            self.mask, self._passed_through = None, True
            return x
        draws = self.rng.random(x.shape, dtype=np.float64 if x.dtype == np.float64
                                else np.float32)
        scale = x.dtype.type(1.0 / (1.0 - self.rate))
        self.mask = (draws >= self.rate) * scale     # 0 or 1/(1-rate), in x's dtype
        self._passed_through = False
        return x * self.mask

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """``dy * m`` with the mask of the last forward (``dy`` itself after the identity)."""
        if self._passed_through:
            return dy
        mask = self._cached("mask")
        if np.shape(dy) != mask.shape:
            raise ValueError(f"dy must have the shape {mask.shape} of the last forward's x; "
                             f"got shape {np.shape(dy)}.")
        return dy * mask

    def get_config(self) -> dict:
        return {"type": "Dropout", "rate": self.rate, "seed": plain(self.seed)}
