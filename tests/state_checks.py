"""What the all-or-nothing tests compare: copies of a model's weights, exact deep equality of
optimizer and schedule states (arrays by value and dtype), and everything in a folder."""
from __future__ import annotations

import os
import stat

import numpy as np


def snapshot(model) -> dict[str, np.ndarray]:
    """Copies of ``model.params``, to compare with after a refused operation."""
    return {key: p.copy() for key, p in model.params.items()}


def same_params(model, saved: dict[str, np.ndarray]) -> bool:
    """Whether ``model.params`` holds exactly ``saved``: the same keys, values and dtypes."""
    return list(model.params) == list(saved) and all(
        model.params[k].dtype == saved[k].dtype and np.array_equal(model.params[k], saved[k])
        for k in saved)


def same_state(a, b) -> bool:
    """Deep equality of two ``state_dict()`` results (arrays by value and dtype)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(
            same_state(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return type(a) is type(b) and a == b


def folder_tree(folder) -> dict:
    """Everything under ``folder``: each entry's kind, a link's target, a file's bytes."""
    out = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            out[key] = ("link", os.readlink(path))
        elif path.is_dir():
            out[key] = ("dir",)
        elif path.is_file():
            out[key] = ("file", path.read_bytes())
        else:
            out[key] = ("other", stat.S_IFMT(path.lstat().st_mode))
    return out
