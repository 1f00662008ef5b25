"""The file format of zerodl: parameter arrays in a ``.npz`` with JSON beside them.

Model files (``save_model``, ``read_model``; ``zerodl.load`` in ``model.py`` builds the
model) and training checkpoints (``checkpoint.py``) share the readers and checks here:
``read_npz``, ``read_header``, ``check_params`` and ``invalid_file``. Nothing is pickled:
files are read with ``allow_pickle=False`` and every array is checked against the
architecture before a model is built from it, so any damage to a file, whatever the byte
that broke, comes out as one ``ValueError`` naming the file. This module knows layers, not
models: it sits below ``model.py``.
"""
from __future__ import annotations

import json
import math
import os
import zipfile
from typing import Callable

import numpy as np

from ._checks import check_path, describe_bytes, physical_memory, plain
from ._fileio import atomic_write, check_output_path
from .layers import array_shapes

FORMAT = "zerodl-model"
VERSION = 1
CONFIG_KEY = "__zerodl_config__"
#: The most characters a JSON header entry may declare, checked before it is read (a zip of
#: zeros can declare gigabytes of text) and before it is written (a file zerodl writes is
#: one it reads). A model's config (its layers) takes a few kB; a checkpoint's state holds
#: the History, 10^5 evaluation points take about 10 MB.
MAX_CONFIG_CHARS = 2**22
MAX_HEADER_CHARS = 2**26


MODEL_FILE = "zerodl model file"


def save_model(model, path: str | os.PathLike) -> None:
    """Write ``model`` (its ``get_config()`` and ``params``) to ``path`` atomically.

    Everything is checked before the file is touched, so a refused or failed save leaves
    ``path`` exactly as it was: the path as by ``_fileio.check_output_path`` (a folder, a
    device, a missing folder are refused; a symbolic link is written through to its file and
    stays a link; ``~`` is expanded), and every weight must be finite, since ``load`` refuses
    a file with NaN or inf (the message names the parameter and the first bad index).
    """
    path = check_output_path("path", path)
    for key, p in [*model.params.items(), *model.buffers.items()]:
        bad = ~np.isfinite(p)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"params[{key!r}] must hold only finite numbers to be saved "
                             f"(zerodl.load refuses NaN and inf); got {plain(p[index])!r} at "
                             f"index {index[0] if len(index) == 1 else index} "
                             f"({_count(int(bad.sum()))}). Nothing was written to {path}.")
    config = json.dumps({"format": FORMAT, "version": VERSION, **model.get_config()})
    check_header_size("the model's config", config, MAX_CONFIG_CHARS)
    arrays = {key: np.ascontiguousarray(p)
              for key, p in [*model.params.items(), *model.buffers.items()]}
    with atomic_write(path, make_parents=False) as f:
        np.savez(f, **{CONFIG_KEY: np.array(config)}, **arrays)


def check_header_size(what: str, text: str, limit: int) -> None:
    """Refuse to write a header that ``read_npz`` would refuse to read."""
    if len(text) > limit:
        raise ValueError(f"{what} must fit in {limit:,} characters of JSON to be saved "
                         f"(zerodl.load reads no more); got {len(text):,}. Nothing was "
                         f"written.")


def _count(n: int) -> str:
    return "1 such value in all" if n == 1 else f"{n:,} such values in all"


def invalid_file(path, why: str, what: str = MODEL_FILE) -> ValueError:
    """The one error for a damaged or foreign file: ``"PATH is not a valid WHAT: WHY."``."""
    return ValueError(f"{path} is not a valid {what}: {why}.")


def check_params(path, arrays: dict[str, np.ndarray], targets: dict[str, np.ndarray],
                 what: str = MODEL_FILE) -> None:
    """``arrays`` read from ``path`` must fit the parameters ``targets`` exactly: the same
    keys, shapes and dtypes, and only finite values."""
    if set(arrays) != set(targets):
        raise invalid_file(path, f"it holds parameters {sorted(arrays)} but the architecture "
                                 f"needs {sorted(targets)}", what)
    for key, target in targets.items():
        value = arrays[key]
        if value.shape != target.shape or value.dtype != target.dtype:
            raise invalid_file(path, f"parameter {key} has shape {value.shape} and dtype "
                                     f"{value.dtype}; the architecture needs {target.shape} "
                                     f"{target.dtype}", what)
        if not np.all(np.isfinite(value)):
            raise invalid_file(path, f"parameter {key} holds NaN or infinite values", what)


def _starts_like_npz_or_pickle(path: os.PathLike) -> bool:
    """Whether the file begins as a zip archive, an .npy array or a pickle (protocol >= 2)."""
    with open(path, "rb") as f:
        head = f.read(6)
    return head.startswith((b"PK", b"\x93NUMPY", b"\x80"))


#: What an entry of an archive declares in its .npy header: shape and dtype.
Declared = tuple[tuple[int, ...], np.dtype]


def _guarded(path, what: str, action: Callable, *args):
    """``action(*args)``, with any error of reading the archive turned into the one
    ``invalid_file`` error (zipfile.BadZipFile, EOFError, OSError, zlib.error, a damaged .npy
    header's ValueError, ...): the archive cannot be trusted."""
    try:
        return action(*args)
    except ValueError as exc:
        raise invalid_file(path, f"its contents are damaged ({exc})", what) from None
    except Exception as exc:
        raise invalid_file(path, f"it is not a readable .npz archive ({type(exc).__name__}: "
                                 f"{exc})", what) from None


def _entry_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[Declared, int]:
    """The shape and dtype an .npy entry declares and the size of its header, read from
    its first bytes only: nothing of the array itself is decompressed."""
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f".npy format version {version} is not supported")
        return (shape, dtype), f.tell()


def _declared(path, zf: zipfile.ZipFile, what: str) -> dict[str, Declared]:
    """Every entry's declared shape and dtype, checked before any array is read.

    Refused here: an entry that is not an .npy array, object arrays (they need pickle), an
    entry whose declared size disagrees with its size in the zip directory (a header that
    lies about its array), and a total larger than this machine's memory.
    """
    declared: dict[str, Declared] = {}
    total = 0
    for info in zf.infolist():
        key = info.filename.removesuffix(".npy")
        if not info.filename.endswith(".npy"):
            raise invalid_file(path, f"its entry {key!r} is not an array", what)
        (shape, dtype), offset = _guarded(path, what, _entry_header, zf, info)
        if dtype.hasobject:
            raise invalid_file(path, f"it holds arrays that need pickle (entry {key!r} has "
                                     f"dtype object)", what)
        nbytes = math.prod(shape) * dtype.itemsize
        if offset + nbytes != info.file_size:
            raise invalid_file(path, f"its entry {key!r} declares shape {shape} and dtype "
                                     f"{dtype} ({nbytes:,} bytes) but holds "
                                     f"{info.file_size - offset:,} bytes", what)
        declared[key] = (shape, dtype)
        total += nbytes
    memory = physical_memory()
    if memory is not None and total > memory:
        raise invalid_file(path, f"its arrays need {describe_bytes(total)} in all, more than "
                                 f"this machine's memory ({describe_bytes(memory)})", what)
    return declared


def read_npz(path: str | os.PathLike, what: str, *, first: str | None = None,
             check: Callable[[np.ndarray | None, dict[str, Declared]], None] | None = None,
             max_chars: int = MAX_HEADER_CHARS) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path``, read without pickle.

    Raises ``FileNotFoundError`` when there is no such file and ``ValueError`` naming the file
    (``what`` says what it should have been) for anything that is not a readable archive of
    plain arrays: garbage, truncation, a damaged entry, object arrays.

    Sizes are checked before anything is decompressed (a zip of zeros is small on disk and
    huge in memory): each entry's .npy header must agree with the zip directory, and the
    total must fit in memory. ``first`` names an entry (a JSON header, one string of at
    most ``max_chars`` characters, checked before it is read) read before the others;
    ``check(that_entry or None, declared)`` may then refuse the file from the shapes and
    dtypes the other entries declare, before any of them is read.
    """
    path = check_path("path", path)
    if not path.exists():
        raise FileNotFoundError(f"{what.removeprefix('zerodl ')} not found: {path}")
    if not path.is_file():
        kind = "a folder" if path.is_dir() else "a device, pipe or socket, not a file"
        raise ValueError(f"{path} must be a {what.removeprefix('zerodl ')}, a regular file; "
                         f"it is {kind}.")
    try:
        is_zip = zipfile.is_zipfile(path)
        npz_like = is_zip or _starts_like_npz_or_pickle(path)
    except OSError as exc:              # /proc/self/mem, a file that vanished, no permission
        raise OSError(exc.errno, f"path must be a file zerodl can read; got {str(path)!r} "
                                 f"({exc.strerror or exc}).") from None
    if not is_zip:
        if not npz_like:
            raise invalid_file(path, "it is not a readable .npz archive (it starts with "
                                     "neither a zip nor an .npy header)", what)
        raise invalid_file(path, "it is not a readable .npz archive (it is a single .npy "
                                 "array, a pickle or a damaged zip)", what)
    arrays: dict[str, np.ndarray] = {}
    with _guarded(path, what, lambda: zipfile.ZipFile(path)) as zf:
        declared = _declared(path, zf, what)

        def read(key: str) -> None:
            with zf.open(f"{key}.npy") as f:
                arrays[key] = np.lib.format.read_array(f, allow_pickle=False)

        if first in declared:
            _check_header_entry(path, first, declared[first], what, max_chars)
            _guarded(path, what, read, first)
        if check is not None:
            check(arrays.get(first), declared)      # its refusals name the file themselves
        for key in declared:
            if key not in arrays:
                _guarded(path, what, read, key)
    return arrays


def _check_header_entry(path, key: str, declared: Declared, what: str, limit: int) -> None:
    """A JSON header entry must declare one text string of at most ``limit`` characters."""
    shape, dtype = declared
    if shape != () or dtype.kind != "U":
        raise invalid_file(path, f"its {key!r} entry must be one text string; it declares "
                                 f"shape {shape} and dtype {dtype}", what)
    chars = dtype.itemsize // 4
    if chars > limit:
        raise invalid_file(path, f"its {key!r} entry declares {chars:,} characters, more than "
                                 f"the {limit:,} a header may have", what)


def read_header(path, arrays: dict[str, np.ndarray], key: str, fmt: str, version: int,
                what: str) -> dict:
    """Pop the JSON header ``key`` from ``arrays`` and check its format and version."""
    if key not in arrays:
        raise invalid_file(path, f"it has no {key!r} entry", what)
    raw = arrays.pop(key)
    if raw.dtype.kind != "U" or raw.shape != ():
        raise invalid_file(path, f"its {key!r} entry is not a text string", what)
    try:
        header = json.loads(str(raw))
    except (ValueError, RecursionError) as exc:
        raise invalid_file(path, f"its {key!r} entry is not valid JSON ({exc})", what) from None
    if not isinstance(header, dict) or header.get("format") != fmt:
        raise invalid_file(path, f"its format is not {fmt!r}", what)
    if header.get("version") != version:
        raise invalid_file(path, f"format version {header.get('version')!r} is not supported "
                         f"(this zerodl reads version {version})", what)
    return header


def _model_config(path, arrays: dict[str, np.ndarray]) -> tuple[dict, dict[str, tuple]]:
    """The checked header of a model file and the parameter shapes its layers ask for."""
    config = read_header(path, arrays, CONFIG_KEY, FORMAT, VERSION, MODEL_FILE)
    try:
        config["dtype"] = np.dtype(config["dtype"])
        if config["dtype"].kind != "f":
            raise ValueError(f"dtype {config['dtype']} is not a float type")
        if not isinstance(config["layers"], list):
            raise TypeError("layers is not a list")
        params, buffers = array_shapes(config["layers"])
        shapes = {**params, **buffers}
    except (KeyError, TypeError, ValueError) as exc:
        raise invalid_file(path, f"its architecture is invalid ({type(exc).__name__}: "
                                 f"{exc})") from None
    return config, shapes


def read_model(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """The checked ``(config, arrays)`` of a model file, before any model is built.

    ``config["dtype"]`` is a float ``np.dtype`` and ``config["layers"]`` a list; every
    array that a Dense layer names has the shape and dtype the architecture asks for. Both
    are compared with what the archive's entries declare before any array is decompressed:
    a damaged size must not allocate a huge matrix. A missing file is
    ``FileNotFoundError``; anything else wrong a ``ValueError`` naming the file.
    """
    path = check_path("path", path)

    def check_declared(raw: np.ndarray | None, declared: dict[str, Declared]) -> None:
        config, shapes = _model_config(path, {} if raw is None else {CONFIG_KEY: raw})
        dtype = config["dtype"]
        keys = set(declared) - {CONFIG_KEY}
        if keys != set(shapes):
            raise invalid_file(path, f"it holds parameters {sorted(keys)} but the "
                                     f"architecture needs {sorted(shapes)}")
        for key, (shape, kind) in declared.items():
            if key in shapes and (shape != shapes[key] or kind != dtype):
                raise invalid_file(path, f"parameter {key} has shape {shape} and dtype {kind}; "
                                         f"the architecture needs {shapes[key]} {dtype}")

    arrays = read_npz(path, MODEL_FILE, first=CONFIG_KEY, check=check_declared,
                      max_chars=MAX_CONFIG_CHARS)
    config, shapes = _model_config(path, arrays)
    for key, shape in shapes.items():
        if key in arrays and arrays[key].shape != shape:
            raise invalid_file(path, f"parameter {key} has shape {arrays[key].shape}; the "
                                     f"architecture needs {shape}")
    return config, arrays
