"""Weight penalties added to the loss (the book's 6.4.2, weight decay), with Keras's meaning.

``penalty(W) = l1 * sum(|W|) + l2 * sum(W**2)``, ``gradient(W) = l1 * sign(W) + 2 * l2 * W``.

The book's and the course's weight decay is ``0.5 * lambda * sum(W**2)`` (gradient
``lambda * W``); in Keras's convention that is ``L2(l2=lambda / 2)``. Optimizers'
``weight_decay`` arguments (PyTorch's SGD and Adam) add ``lambda * W`` to the gradient,
the same ``L2(l2=lambda / 2)``; AdamW's decoupled decay is not a penalty at all.
"""
from __future__ import annotations

import inspect

import numpy as np

from ._checks import check_number
from ._registry import Registry

#: Registered name -> factory; ``get_regularizer("l2")`` builds ``L2()``.
REGULARIZERS: Registry = Registry("regularizer")


class L1L2:
    """``l1 * sum(|W|) + l2 * sum(W**2)``; ``l1`` and ``l2`` finite and >= 0.

    ``gradient`` uses ``sign(0) = 0`` at the kink of ``|W|`` (the subgradient PyTorch's
    ``abs`` and Keras's ``L1`` give), so a weight exactly at 0 feels only the L2 part.
    ``L1`` and ``L2`` are this rule with the other factor 0.
    """

    name = "l1_l2"

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = check_number("l1", l1, low=0.0)
        self.l2 = check_number("l2", l2, low=0.0)

    @staticmethod
    def _weights(W) -> np.ndarray:
        W = np.asarray(W)
        if W.dtype.kind != "f":
            raise TypeError(f"W must be a floating-point array (float16, float32 or "
                            f"float64); got dtype {W.dtype}.")
        return W

    def __call__(self, W: np.ndarray) -> float:
        """The penalty, summed in float64 (a float32 sum of a large W loses digits)."""
        W = self._weights(W)
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(np.sum(np.abs(W), dtype=np.float64))
        if self.l2:
            penalty += self.l2 * float(np.sum(np.square(W), dtype=np.float64))
        return penalty

    def gradient(self, W: np.ndarray) -> np.ndarray:
        """``l1 * sign(W) + 2 * l2 * W``, a new array of ``W``'s shape and dtype."""
        W = self._weights(W)
        grad = W * W.dtype.type(2.0 * self.l2)
        if self.l1:
            grad += W.dtype.type(self.l1) * np.sign(W)
        return grad

    def get_config(self) -> dict:
        """``{"type": registered name, factors...}``; ``get_regularizer`` rebuilds from it."""
        return {"type": self.name, "l1": self.l1, "l2": self.l2}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "type")
        return f"{type(self).__name__}({args})"


class L1(L1L2):
    """``l1 * sum(|W|)``: pushes small weights to exactly 0 (sparse weights)."""

    name = "l1"

    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)

    def get_config(self) -> dict:
        return {"type": self.name, "l1": self.l1}


class L2(L1L2):
    """``l2 * sum(W**2)``: weight decay; the book's ``0.5 * lambda * sum(W**2)`` is
    ``L2(l2=lambda / 2)``."""

    name = "l2"

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)

    def get_config(self) -> dict:
        return {"type": self.name, "l2": self.l2}


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """``L1L2`` with Keras's defaults for the name "l1_l2" (the class's own are 0, a penalty
    of nothing)."""
    return L1L2(l1=l1, l2=l2)


REGULARIZERS.register("l1", L1)
REGULARIZERS.register("l2", L2)
REGULARIZERS.register("l1_l2", l1_l2)


def get_regularizer(value) -> L1L2 | None:
    """A regularizer from None (none), an instance (itself), a registered name ("l1",
    "l2", "l1_l2", with Keras's default factors 0.01) or a ``get_config()`` dict
    (``{"type": "l2", "l2": 0.005}``)."""
    if value is None or isinstance(value, L1L2):
        return value
    if isinstance(value, dict):
        config = dict(value)
        kind = config.pop("type", None)
        if kind is None:
            raise ValueError(f"regularizer config must have a \"type\" key naming one of "
                             f"{', '.join(REGULARIZERS.names())}; got {value!r}.")
        factory = REGULARIZERS.get(kind)
        allowed = list(inspect.signature(factory).parameters)
        unknown = [key for key in config if key not in allowed]
        if unknown:
            raise ValueError(f"regularizer config for {kind!r} must have only the keys "
                             f"{', '.join(['type'] + allowed)}; got {value!r}.")
        return factory(**config)
    if isinstance(value, str):
        return REGULARIZERS.get(value)()
    raise TypeError(f"regularizer must be None, a regularizer (L1, L2, L1L2), a name "
                    f"({', '.join(REGULARIZERS.names())}) or a config dict; got {value!r}.")
