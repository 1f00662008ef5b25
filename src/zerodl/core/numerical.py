"""The numerical gradient: central differences, the check every backward is held to."""
from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

from ._checks import as_float, check_number, plain


def numerical_gradient(f: Callable[[np.ndarray], float], x: ArrayLike, *,
                       h: float | None = None) -> np.ndarray:
    """Central-difference gradient of a scalar function: ``(f(x + h e_i) - f(x - h e_i)) / 2h``.

    ``x`` may have any shape; the result has ``x``'s shape and dtype. A float ndarray ``x``
    is probed in place, one element at a time, and each element is restored before the next
    (even if ``f`` raises), so ``f`` may ignore its argument and read ``x`` by reference, as
    in ``numerical_gradient(lambda _: net.loss(x, d), net.W)``. Other inputs (lists,
    integer arrays) are first copied to float64.

    ``h`` defaults to 1e-4 for float64, as in the course, and to ``eps ** (1/3)`` of the
    dtype otherwise (about 5e-3 for float32), which balances rounding against truncation
    error. Because ``x_i +- h`` is rounded to ``x``'s dtype, the difference is divided by
    the step actually taken.
    """
    x = as_float("x", x)
    if h is None:
        h = 1e-4 if x.dtype == np.float64 else float(np.finfo(x.dtype).eps) ** (1 / 3)
    h = check_number("h", h, low=0, low_open=True)

    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        try:
            x[i] = original + h
            x_plus, f_plus = float(x[i]), float(f(x))
            x[i] = original - h
            x_minus, f_minus = float(x[i]), float(f(x))
        finally:
            x[i] = original
        if x_plus == x_minus:
            where = ", ".join(map(str, i))
            raise ValueError(f"h must be large enough to change x in its dtype ({x.dtype}); got "
                             f"h={h!r}, and x[{where}] = {plain(original)!r} plus or minus h "
                             f"rounds to the same number.")
        grad[i] = (f_plus - f_minus) / (x_plus - x_minus)
    return grad
