"""Argument checks shared by every public entry point.

Every message has the same shape: the argument's name, the rule it breaks, and the value
received, e.g. ``lr must be a positive number; got -0.1.``
"""
from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import Any, Iterable


def _fail(name: str, rule: str, value: Any, exc: type[Exception] = ValueError):
    raise exc(f"{name} must be {rule}; got {value!r}.")


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
