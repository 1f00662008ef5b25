"""Saving and loading the parameters of the book's networks, without pickle.

The book's ``save_params(file_name)`` pickles a dict of arrays and its ``load_params``
unpickles one. zerodl never unpickles on its own: loading a pickle runs whatever code the
file names, so a downloaded ``.pkl`` can do anything. The kit therefore:

- writes NumPy's ``.npz`` format (one array per parameter, ``W1``, ``b1``, ...) to exactly
  the name given, ``.pkl`` included: the book's scripts save to and load from
  ``params.pkl`` and ``deep_convnet_params.pkl``, and they must run unchanged. The format is
  told by the file's first bytes (a zip archive), not by its name;
- reads only that format (``allow_pickle=False``, through ``zerodl.core.io.read_npz``), and
  refuses a pickle with a message saying how to convert it;
- converts a pickle only when the user calls ``convert_book_pickle(src, dst=None)``
  explicitly, for a file they trust, such as the book's own trained ``params.pkl``. Even
  then, the unpickler accepts only what a dict of NumPy arrays needs (NumPy's array
  reconstruction and ``dtype``, ``collections.OrderedDict``) and refuses any other name a
  file asks for, before it is called.
"""
from __future__ import annotations

import os
import pickle
import warnings
import zipfile
from pathlib import Path

import numpy as np

from ..core._checks import check_path
from ..core._fileio import atomic_write
from ..core.io import invalid_file, read_npz

__all__ = ["save_params_file", "load_params_file", "convert_book_pickle", "ParamsFileMixin"]

WHAT = "book-kit parameter file (NumPy .npz)"

#: The only globals a pickled dict of arrays needs (NumPy 1 and NumPy 2 module names).
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("collections", "OrderedDict"),
}


def save_params_file(params: dict[str, np.ndarray], file_name: str | os.PathLike) -> Path:
    """Write ``params`` (name -> array) to ``file_name`` in NumPy's .npz format, whatever
    its suffix (no ``.npz`` is appended); atomically, so a crash leaves the old file."""
    path = check_path("file_name", file_name)
    with atomic_write(path, "wb", name="file_name", make_parents=False) as f:
        np.savez(f, **{key: np.asarray(value) for key, value in params.items()})
    return path


def _refuse_pickle(path: Path) -> ValueError:
    return ValueError(
        f"{path} holds a Python pickle (the book's own trained parameters?), and zerodl never "
        f"unpickles a file by itself: loading a pickle runs whatever code the file names. "
        f"If you trust this file (the book's own, from its repository), convert it once, "
        f"in place, to NumPy's format, which load_params reads:\n"
        f"    python -c \"import zerodl.book as b; b.convert_book_pickle({str(path)!r})\"")


def load_params_file(file_name: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of the .npz ``file_name`` (written by ``save_params_file``), read without
    pickle; a pickle is refused with how to convert it (``convert_book_pickle``)."""
    path = check_path("file_name", file_name)
    if path.is_file() and not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            if f.read(1) == b"\x80":                    # pickle protocols 2 and later
                raise _refuse_pickle(path)
    return read_npz(path, WHAT)


class _ArraysOnly(pickle.Unpickler):
    """An unpickler that builds NumPy arrays and dicts and refuses every other global."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(
                f"the pickle asks for {module}.{name}, which a dict of NumPy arrays never "
                f"needs; refused without calling it")
        with warnings.catch_warnings():                  # numpy.core is numpy._core in 2.x
            warnings.simplefilter("ignore", DeprecationWarning)
            return super().find_class(module, name)


def convert_book_pickle(src: str | os.PathLike, dst: str | os.PathLike | None = None) -> Path:
    """Convert the book's pickled parameters ``src`` to the kit's .npz format at ``dst``
    (default: ``src`` itself, replaced, so the book's scripts load it under the same name).

    TRUSTS THE FILE: call it only for a pickle you trust, such as the book's own
    ``ch07/params.pkl`` or ``ch08/deep_convnet_params.pkl``. It unpickles with only NumPy's
    array classes allowed (anything else the file asks for is refused before it runs), but
    pickle is a large format and this is not a security boundary. The result must be a
    dict of str -> numeric arrays; returns the path written.
    """
    src = check_path("src", src)
    dst = src if dst is None else check_path("dst", dst)
    with open(src, "rb") as f:
        try:
            loaded = _ArraysOnly(f, encoding="latin1").load()
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
            raise invalid_file(src, f"it is not a pickled dict of NumPy arrays ({exc})",
                               "pickled book parameter file") from None
    if not isinstance(loaded, dict) or not all(
            isinstance(k, str) and isinstance(v, np.ndarray) and v.dtype.kind in "biuf"
            for k, v in loaded.items()):
        raise invalid_file(src, "it does not hold a dict of str -> numeric arrays",
                           "pickled book parameter file")
    return save_params_file(loaded, dst)


class ParamsFileMixin:
    """``save_params`` and ``load_params`` for a network with a ``params`` dict."""

    params: dict[str, np.ndarray]

    def save_params(self, file_name: str | os.PathLike = "params.pkl") -> None:
        """Write ``params`` to ``file_name`` in NumPy's .npz format, even when it is named
        ``.pkl`` as in the book's scripts (see ``help(zerodl.book.params)``)."""
        save_params_file(self.params, file_name)

    def load_params(self, file_name: str | os.PathLike = "params.pkl") -> None:
        """Read parameters saved by ``save_params`` (or converted by ``convert_book_pickle``).

        The file must hold exactly this network's keys and shapes. The values are copied
        into the existing arrays (cast to their dtype, float64), so the layers, ``params``
        and an optimizer keep sharing them; the book puts the file's arrays in their place.
        """
        arrays = load_params_file(file_name)
        if set(arrays) != set(self.params):
            raise invalid_file(file_name, f"it holds parameters {sorted(arrays)} but this "
                                          f"network has {sorted(self.params)}", WHAT)
        for key, target in self.params.items():
            if arrays[key].shape != target.shape or arrays[key].dtype.kind not in "biuf":
                raise invalid_file(file_name, f"its {key} has shape {arrays[key].shape} and "
                                              f"dtype {arrays[key].dtype}; this network's "
                                              f"is {target.shape} {target.dtype}", WHAT)
        for key, target in self.params.items():
            target[...] = arrays[key]
