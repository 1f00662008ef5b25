"""The book's ``common.util``: ``smooth_curve`` and ``shuffle_dataset``."""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["smooth_curve", "shuffle_dataset"]

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
