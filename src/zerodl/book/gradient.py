"""The book's ``common.gradient``: ``numerical_gradient(f, x)`` is zerodl's.

Central differences with ``h = 1e-4`` for float64 arrays (the book's step), probing ``x``
in place and restoring each element, so ``f`` may ignore its argument and read the
network's parameters, as the book's ``lambda W: net.loss(x, t)`` does.
"""
from __future__ import annotations

from ..core.functions import numerical_gradient

__all__ = ["numerical_gradient"]
