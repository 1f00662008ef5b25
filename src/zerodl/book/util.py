"""The book's ``common.util``: ``smooth_curve``, ``shuffle_dataset``, and ``im2col`` and
``col2im``, which are zerodl's (``zerodl.functions.im2col``: the book's argument order and
layout, rows (n, out_y, out_x) by columns (c, i, j); see its help for the differences, an
output size that is not a whole number being refused)."""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..core.functions import col2im, im2col

__all__ = ["smooth_curve", "shuffle_dataset", "im2col", "col2im", "conv_output_size"]

_WINDOW = 11      # the book's window: 11 points, Kaiser-weighted with beta 2


def smooth_curve(x: ArrayLike) -> np.ndarray:
    """A loss curve smoothed by a weighted moving average of 11 points; same length as ``x``.

    The weights are a Kaiser window (beta 2), normalised to sum to 1; the ends are extended
    by mirroring the curve, so the first and last points are averages too.
    """
    x = np.asarray(x, dtype=float).ravel()
    if x.size < 2:
        return x.copy()
    weights = np.kaiser(_WINDOW, 2)
    weights /= weights.sum()
    half = _WINDOW // 2
    padded = np.pad(x, half, mode="reflect")
    return np.convolve(padded, weights, mode="valid")


def shuffle_dataset(x: np.ndarray, t: np.ndarray,
                    rng: np.random.Generator | int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``t`` in one random order of their first axis (new arrays).

    ``rng`` is a ``np.random.Generator`` or a seed (``None``: a fresh, unseeded generator).
    """
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    order = generator.permutation(len(x))
    return x[order], t[order]


def conv_output_size(input_size: int, filter_size: int, stride: int = 1, pad: int = 0) -> int:
    """``(input_size + 2*pad - filter_size) / stride + 1``, the book's helper; refused when
    it is not a whole number (the window would leave the last rows unused)."""
    span = input_size + 2 * pad - filter_size
    if span < 0 or span % stride:
        raise ValueError(f"stride must divide (input_size + 2*pad - filter_size) = {span} "
                         f"evenly, and the filter must fit; got input_size={input_size}, "
                         f"filter_size={filter_size}, stride={stride}, pad={pad}.")
    return span // stride + 1
