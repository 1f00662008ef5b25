"""Model files: parameter arrays in a ``.npz`` with the architecture as JSON beside them.

Nothing is pickled: files are read with ``allow_pickle=False`` and every array is checked
against the architecture before a model is built from it.
"""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from ._fileio import atomic_write
from .layers import layer_from_config

FORMAT = "zerodl-model"
VERSION = 1
CONFIG_KEY = "__zerodl_config__"


def save_model(model, path: str | os.PathLike) -> None:
    """Write ``model`` to ``path`` atomically: the old file survives a failed write."""
    config = {"format": FORMAT, "version": VERSION, **model.get_config()}
    arrays = {key: np.ascontiguousarray(p) for key, p in model.params.items()}
    with atomic_write(path) as f:
        np.savez(f, **{CONFIG_KEY: np.array(json.dumps(config))}, **arrays)


def _bad(path, why: str) -> ValueError:
    return ValueError(f"{path} is not a valid zerodl model file: {why}.")


def load(path: str | os.PathLike):
    """Read a model written by ``model.save``; raise ``ValueError`` for anything else."""
    from .model import Sequential

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except ValueError as exc:   # object arrays would need pickle
        raise _bad(path, f"it holds arrays that need pickle ({exc})") from None
    except (OSError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise _bad(path, f"it is not a readable .npz archive ({type(exc).__name__}: {exc})") from None
    except Exception as exc:   # zlib and struct errors from a damaged archive
        raise _bad(path, f"its contents are damaged ({type(exc).__name__}: {exc})") from None
    if not isinstance(arrays, dict) or CONFIG_KEY not in arrays:
        raise _bad(path, f"it has no {CONFIG_KEY!r} entry")
    raw = arrays.pop(CONFIG_KEY)
    if raw.dtype.kind != "U" or raw.shape != ():
        raise _bad(path, "its architecture entry is not a text string")
    try:
        config = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        raise _bad(path, f"its architecture is not valid JSON ({exc})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise _bad(path, f"its format is not {FORMAT!r}")
    if config.get("version") != VERSION:
        raise _bad(path, f"format version {config.get('version')!r} is not supported "
                         f"(this zerodl reads version {VERSION})")
    try:
        dtype = np.dtype(config["dtype"])
        if dtype.kind != "f":
            raise ValueError(f"dtype {dtype} is not a float type")
        layers = [layer_from_config(c, dtype) for c in config["layers"]]
        model = Sequential(layers, output=config["output"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(path, f"its architecture is invalid ({type(exc).__name__}: {exc})") from None
    if set(arrays) != set(model.params):
        raise _bad(path, f"it holds arrays {sorted(arrays)} but the architecture needs "
                         f"{sorted(model.params)}")
    for key, target in model.params.items():
        value = arrays[key]
        if value.shape != target.shape or value.dtype != target.dtype:
            raise _bad(path, f"array {key} has shape {value.shape} and dtype {value.dtype}; "
                             f"the architecture needs {target.shape} {target.dtype}")
        if not np.all(np.isfinite(value)):
            raise _bad(path, f"array {key} holds NaN or infinite values")
        target[...] = value
    for layer, c in zip(layers, config["layers"]):
        if "init" in c:
            layer.init = c["init"]
    return model
