"""Weight initialisers: how the first weights of a Dense layer are drawn.

Each entry takes ``(rng, n_in, n_out, dtype)`` and returns a ``(n_in, n_out)`` array. Select
one by name (``"he"``, ``"xavier"``, ...) or by a number, which is read as the standard
deviation of a zero-mean normal, as in the course's ``weight_init_std = 0.01``.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._checks import check_int
from ._registry import Registry

INITIALIZERS: Registry = Registry("initializer")


#: Values drawn at a time in float64 for a narrower dtype: bounds the temporary array.
_CHUNK = 1 << 20


def _fans(n_in, n_out) -> tuple[int, int]:
    return check_int("n_in", n_in, minimum=1), check_int("n_out", n_out, minimum=1)


def _draw(draw, n_in: int, n_out: int, dtype, scale: float = 1.0) -> np.ndarray:
    """``scale * draw(size)`` as an (n_in, n_out) array of ``dtype``, drawn in float64.

    float32 and float64 models built from one seed get the same weights (up to the cast),
    so the seeded numbers do not depend on the dtype. For a narrower dtype the float64
    values are drawn a block of rows at a time, into the result: a generator's stream is
    the same whether drawn at once or in pieces, and no float64 copy of the whole matrix
    is ever held.
    """
    n_in, n_out = _fans(n_in, n_out)
    dtype = np.dtype(dtype)
    if dtype == np.float64:
        out = draw((n_in, n_out))
        out *= scale
        return out
    out = np.empty((n_in, n_out), dtype)
    rows = max(1, _CHUNK // n_out)
    for start in range(0, n_in, rows):
        block = draw((min(rows, n_in - start), n_out))
        block *= scale
        out[start:start + len(block)] = block
    return out


def _normal(rng: np.random.Generator, std: float, n_in: int, n_out: int, dtype) -> np.ndarray:
    return _draw(rng.standard_normal, n_in, n_out, dtype, std)


@INITIALIZERS.register("he")
def he(rng, n_in, n_out, dtype=np.float32):
    """Normal with std ``sqrt(2 / n_in)`` (He et al., 2015), for ReLU networks.

    It keeps the variance of the pre-activations constant from layer to layer when half of
    the units are switched off by the ReLU.
    """
    n_in, n_out = _fans(n_in, n_out)
    return _normal(rng, np.sqrt(2.0 / n_in), n_in, n_out, dtype)


@INITIALIZERS.register("xavier")
def xavier(rng, n_in, n_out, dtype=np.float32):
    """Normal with std ``sqrt(1 / n_in)``, the course's "Xavier", for sigmoid and tanh.

    Glorot and Bengio (2010) average fan-in and fan-out instead; that form is ``"glorot"``.
    """
    n_in, n_out = _fans(n_in, n_out)
    return _normal(rng, np.sqrt(1.0 / n_in), n_in, n_out, dtype)


@INITIALIZERS.register("glorot")
def glorot(rng, n_in, n_out, dtype=np.float32):
    """Normal with std ``sqrt(2 / (n_in + n_out))`` (Glorot and Bengio, 2010)."""
    n_in, n_out = _fans(n_in, n_out)
    return _normal(rng, np.sqrt(2.0 / (n_in + n_out)), n_in, n_out, dtype)


@INITIALIZERS.register("normal")
def normal(rng, n_in, n_out, dtype=np.float32):
    """Normal with std 0.01, the course's ``weight_init_std`` default."""
    return _normal(rng, 0.01, n_in, n_out, dtype)


@INITIALIZERS.register("uniform")
def uniform(rng, n_in, n_out, dtype=np.float32):
    """Uniform on [0, 1), the course's ``np.random.rand`` (all weights positive)."""
    return _draw(rng.random, n_in, n_out, dtype)


@INITIALIZERS.register("zeros")
def zeros(rng, n_in, n_out, dtype=np.float32):
    """All zeros: every hidden unit stays identical, a classic demonstration of why not."""
    return np.zeros(_fans(n_in, n_out), dtype=dtype)


@INITIALIZERS.register("ones")
def ones(rng, n_in, n_out, dtype=np.float32):
    """All ones, for hand-worked examples."""
    return np.ones(_fans(n_in, n_out), dtype=dtype)


def get_initializer(init):
    """Return the initialiser for a name, or one for a number read as a normal's std."""
    if isinstance(init, numbers.Real) and not isinstance(init, bool):
        std = float(init)
        if not (std > 0 and np.isfinite(std)):
            raise ValueError(f"init must be a registered name or a positive standard deviation; "
                             f"got {init!r}.")
        return lambda rng, n_in, n_out, dtype=np.float32: _normal(rng, std, n_in, n_out, dtype)
    if callable(init) and not isinstance(init, str):
        return init
    return INITIALIZERS.get(init)


def describe(init) -> str | float:
    """The JSON-able form of ``init`` stored in model files."""
    return float(init) if isinstance(init, numbers.Real) and not isinstance(init, bool) else init
