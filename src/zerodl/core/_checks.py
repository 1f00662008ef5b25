"""Argument checks shared by every public entry point.

Every message has the same shape: the argument's name, the rule it breaks, and the value
received, e.g. ``lr must be a positive number; got -0.1.``
"""
from __future__ import annotations

import functools
import numbers
import os
from pathlib import Path
from typing import Any, Iterable

import numpy as np


def plain(value: Any) -> Any:
    """``value`` with NumPy scalars turned into Python ones, so messages read ``7``, not
    ``np.int64(7)``."""
    return value.item() if isinstance(value, np.generic) else value


def _fail(name: str, rule: str, value: Any, exc: type[Exception] = ValueError):
    raise exc(f"{name} must be {rule}; got {plain(value)!r}.")


def check_int(name: str, value: Any, *, minimum: int | None = None) -> int:
    """Return ``value`` as an ``int``; refuse bools, floats and values below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        rule = "an integer" if minimum is None else f"an integer >= {minimum}"
        _fail(name, rule, value, TypeError)
    if minimum is not None and value < minimum:
        _fail(name, f"an integer >= {minimum}", value)
    return int(value)


def check_number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False) -> float:
    """Return ``value`` as a finite ``float`` inside the given interval."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        _fail(name, "a real number", value, TypeError)
    value = float(value)
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    # An unbounded side is open: no finite number reaches inf.
    if low is None:
        left = "("
    if high is None:
        right = ")"
    interval = f"in {left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
    if value != value or value in (float("inf"), float("-inf")):
        _fail(name, f"a finite number {interval}", value)
    if low is not None and (value < low or (low_open and value == low)):
        _fail(name, f"a number {interval}", value)
    if high is not None and (value > high or (high_open and value == high)):
        _fail(name, f"a number {interval}", value)
    return value


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}.")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a real ``bool``; 0, 1, None and numpy bools are refused."""
    if not isinstance(value, bool):
        _fail(name, "a bool (True or False)", value, TypeError)
    return value


def check_path(name: str, value: Any) -> Path:
    """Return ``value`` as a ``Path`` with ``~`` expanded; accept ``str`` and ``os.PathLike``."""
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        _fail(name, "a path (str or os.PathLike)", value, TypeError)
    path = os.fspath(value)
    if isinstance(path, bytes):
        _fail(name, "a path (str or os.PathLike)", value, TypeError)
    if path == "":
        _fail(name, "a non-empty path", value)
    return Path(path).expanduser()


def physical_memory() -> int | None:
    """This machine's memory in bytes, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def describe_bytes(n: int) -> str:
    """``"3.4 GB"``: a byte count for people (powers of 1000)."""
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:,} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000


def check_seed(name: str, value: Any) -> Any:
    """Return ``value`` if it is ``None``, an integer >= 0 or a ``np.random.Generator``."""
    rule = "None, an integer >= 0 or a numpy Generator"
    if value is None or isinstance(value, np.random.Generator):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(name, rule, value, TypeError)
    if value < 0:
        _fail(name, rule, value)
    return int(value)


def check_float_dtype(name: str, value: Any):
    """Return ``np.dtype(value)`` if it is a floating type (float16, float32, float64)."""
    try:
        dtype = np.dtype(value)
    except TypeError:
        _fail(name, "a floating type such as np.float32", value, TypeError)
    if dtype.kind != "f":
        _fail(name, "a floating type such as np.float32", dtype.name)
    return dtype


def _describe_array(a) -> str:
    return f"an array of shape {a.shape} and dtype {a.dtype}"


def _first_bad(a, bad) -> str:
    """``"nan at index (3, 7)"``: the first offending value and where it is."""
    index = tuple(int(i) for i in np.argwhere(bad)[0]) if a.ndim else ()
    where = index[0] if len(index) == 1 else index
    count = int(np.count_nonzero(bad))
    return f"{plain(a[index])!r} at index {where} ({count} such value{'s' if count > 1 else ''} in all)"


def check_array(name: str, value: Any, *, min_ndim: int = 1, finite: bool = True,
                dtype=None):
    """Return ``value`` as a numeric ``ndarray`` with at least one element.

    Refused: nested lists of unequal lengths, anything that is not bool, int or float
    (strings, None, objects, complex), fewer than ``min_ndim`` dimensions, zero samples, and
    (with ``finite``) NaN or infinite values, reported with the first one's index.

    With a float ``dtype`` the array is returned cast to it (no copy when it already has
    it), and ``finite`` is checked after the cast: a value finite in float64 but beyond the
    range of float32 (about 3.4e38) or float16 (65504) would become inf there, so it is
    refused with the dtype's range.
    """
    try:
        a = np.asarray(value)
    except (ValueError, TypeError):      # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array of numbers; got a "
                         f"{type(value).__name__} that NumPy cannot turn into one array (rows "
                         f"of different lengths?).") from None
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers (bool, int or float); got "
                        f"{_describe_array(a)}.")
    if a.ndim < min_ndim:
        got = f"the single number {a.item()!r}" if a.ndim == 0 else _describe_array(a)
        raise ValueError(f"{name} must be an array with at least {min_ndim} dimension(s); got "
                         f"{got}.")
    if a.size == 0:
        raise ValueError(f"{name} must hold at least one sample; got {_describe_array(a)}.")
    if dtype is not None and a.dtype != dtype:
        return _cast_finite(name, a, dtype if isinstance(dtype, np.dtype) else np.dtype(dtype),
                            finite)
    if finite and a.dtype.kind == "f" and not _all_finite(a):
        _refuse_non_finite(name, a)
    return a


def _refuse_non_finite(name: str, a: np.ndarray):
    raise ValueError(f"{name} must hold only finite numbers (no NaN or inf); got "
                     f"{_first_bad(a, ~np.isfinite(a))}.")


@functools.lru_cache(maxsize=None)
def _overflow_limit(source: np.dtype, target: np.dtype) -> float | None:
    """The largest magnitude the float ``target`` holds when casting ``source`` to it can
    turn a finite value into inf (a wider float, or integers beyond it: uint16 into
    float16); None when it cannot."""
    top = float(np.finfo(target).max)
    if source.kind == "f":
        return top if source.itemsize > target.itemsize else None
    if source.kind == "b" or float(np.iinfo(source).max) <= top:
        return None
    return top


def _cast_finite(name: str, a: np.ndarray, dtype: np.dtype, finite: bool) -> np.ndarray:
    """``a`` cast to ``dtype``; with ``finite``, refuse NaN, inf and values the cast makes
    inf (1e39 in float32, 70000 in float16).

    Large casts to float32 or float64 cast first and test the result, the smaller array,
    with ``_all_finite``'s dot product: one pass. Small ones, and float16 (which has no
    fast dot product), compare the source's largest magnitude with the range.
    """
    limit = _overflow_limit(a.dtype, dtype) if finite else None
    if limit is None:
        if finite and a.dtype.kind == "f" and not _all_finite(a):
            _refuse_non_finite(name, a)
        return a.astype(dtype, copy=False)
    if dtype.itemsize >= 4 and a.size > 4096:
        with np.errstate(over="ignore", invalid="ignore"):
            cast = a.astype(dtype)
        if _all_finite(cast):
            return cast
    else:
        if a.dtype.kind == "f":
            # One reduction for both rules: NaN propagates through max and fails the test.
            fits = np.maximum.reduce(np.abs(a), axis=None) <= limit
        else:
            fits = -limit <= np.minimum.reduce(a, axis=None) and np.maximum.reduce(
                a, axis=None) <= limit
        if fits:
            return a.astype(dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            cast = a.astype(dtype)
    if a.dtype.kind == "f" and not _all_finite(a):
        _refuse_non_finite(name, a)
    bad = ~np.isfinite(cast)
    if bad.any():      # else: values just above the largest that round down to it
        raise ValueError(f"{name} must be within {dtype}'s range (±{limit:.3g}), the model's "
                         f"dtype; got {_first_bad(a, bad)}.")
    return cast


def _all_finite(a: np.ndarray) -> bool:
    """Whether every value of the float array ``a`` is finite, at the least cost.

    Small arrays: ``isfinite`` directly, counted by ``count_nonzero`` (half the cost of
    ``.all()``, whose Python wrapper dominates for one sample). Large ones: one pass, no
    temporary. NaN and inf propagate through a sum of squares, so a finite ``a . a`` (a BLAS
    dot product when ``a`` is contiguous, the fastest pass over memory NumPy has; else a
    plain sum) proves that every value is finite. A non-finite result may also be a finite
    overflow, so only then the exact test (min and max propagate NaN).
    """
    if a.size <= 4096 or a.dtype == np.float16:     # no BLAS dot product for float16
        return np.count_nonzero(np.isfinite(a)) == a.size
    with np.errstate(over="ignore", invalid="ignore"):
        if a.flags.c_contiguous:
            flat = a.reshape(-1)
            total = np.dot(flat, flat)
        else:
            total = np.add.reduce(a, axis=None)
    return bool(np.isfinite(total)) or bool(np.isfinite(a.min()) and np.isfinite(a.max()))


def check_labels(name: str, d: Any, *, kind: str, n_samples: int, n_out: int, dtype=None):
    """Return labels ``d`` as an array after checking them against the network's output.

    ``kind`` is the output's rule (``Output.label_kind``):
      - ``"classes"`` (softmax): class indices 0..n_out-1 of shape (N,), or rows of shape
        (N, n_out) that are one-hot or probabilities (non-negative, summing to 1);
      - ``"binary"`` (sigmoid): targets in [0, 1] of shape (N, n_out), or (N,) for one output;
      - ``"targets"`` (identity): any finite numbers of shape (N, n_out), or (N,) for one
        output.
    ``n_samples`` is the number of rows of ``x``: there must be one label per sample.
    ``dtype``: the model's float type; ``"targets"`` are returned cast to it and must stay
    finite there (the other kinds are bounded by their rules and cast later).
    """
    d = check_array(name, d, dtype=dtype if kind == "targets" else None)
    if d.ndim > 2:
        raise ValueError(f"{name} must be labels of shape ({n_samples},) or ({n_samples}, "
                         f"{n_out}); got {_describe_array(d)}.")
    if len(d) != n_samples:
        raise ValueError(f"{name} must have one label per sample of x; got {len(d)} labels for "
                         f"{n_samples} samples.")
    if kind == "classes" and d.ndim == 1:
        whole = d if d.dtype.kind in "biu" else np.floor(d) == d
        if whole is not d and not whole.all():
            raise ValueError(f"{name} (class indices) must be whole numbers; got "
                             f"{_first_bad(d, ~whole)}.")
        low, high = d.min(), d.max()
        if low < 0 or high >= n_out:
            raise ValueError(f"{name} (class indices) must be in 0..{n_out - 1}, one per output "
                             f"of the network; got {_first_bad(d, (d < 0) | (d >= n_out))}.")
        return d
    if d.ndim == 1 and n_out != 1:
        hint = " (class indices work only with the softmax output)" if kind != "classes" else ""
        raise ValueError(f"{name} must be targets of shape ({n_samples}, {n_out}), one column per "
                         f"output{hint}; got {_describe_array(d)}.")
    if d.ndim == 2 and d.shape[1] != n_out:
        hint = ("; class indices go in a 1-D array of shape (N,)"
                if kind == "classes" and d.shape[1] == 1 else "")
        raise ValueError(f"{name} must have {n_out} columns, one per output of the network; got "
                         f"shape {d.shape}{hint}.")
    if kind == "classes":
        if d.min() < 0:
            raise ValueError(f"{name} (one-hot) must hold non-negative values; got "
                             f"{_first_bad(d, d < 0)}.")
        sums = d.sum(axis=1, dtype=np.float64)
        off = np.abs(sums - 1) > 1e-3
        if off.any():
            row = int(np.argmax(off))
            raise ValueError(f"{name} (one-hot) must have rows summing to 1; got row {row} "
                             f"summing to {sums[row]:g} ({int(off.sum())} such rows in all).")
    elif kind == "binary":
        if d.min() < 0 or d.max() > 1:
            raise ValueError(f"{name} (sigmoid targets) must be in [0, 1]; got "
                             f"{_first_bad(d, (d < 0) | (d > 1))}.")
    return d


def as_array(name: str, x: Any) -> np.ndarray:
    try:
        return np.asarray(x)
    except (ValueError, TypeError):      # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array of numbers; got a "
                         f"{type(x).__name__} that NumPy cannot turn into one array (rows of "
                         f"different lengths?).") from None


def as_float(name: str, x: Any) -> np.ndarray:
    """``x`` as an array: a float dtype is kept, integers and bools become float64."""
    x = as_array(name, x)
    if np.issubdtype(x.dtype, np.floating):
        return x
    if np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_:
        return x.astype(np.float64)
    raise TypeError(f"{name} must hold real numbers (float, integer or bool); "
                    f"got dtype {x.dtype}.")
