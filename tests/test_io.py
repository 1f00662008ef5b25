"""Model files: exact round trips, atomic writes and refusals of anything else."""
import json
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

import zerodl
from zerodl import mlp
from zerodl.io import CONFIG_KEY


@pytest.mark.parametrize("kwargs", [
    dict(sizes=[6, 5, 3], activation="relu", output="softmax"),
    dict(sizes=[6, 4, 4, 1], activation="tanh", output="sigmoid", dtype=np.float64),
    dict(sizes=[6, 2], activation="leaky_relu", output="identity"),
])
def test_round_trip_predicts_identically(tmp_path, kwargs):
    model = mlp(init=0.5, seed=1, **kwargs)
    x = np.random.default_rng(0).standard_normal((5, 6))
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = zerodl.load(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.get_config() == model.get_config()
    for key, value in model.params.items():
        assert loaded.params[key].dtype == value.dtype
        np.testing.assert_array_equal(loaded.params[key], value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="model file not found"):
        zerodl.load(tmp_path / "nope.npz")


def _saved(tmp_path):
    path = tmp_path / "m.npz"
    mlp([3, 2, 2], seed=0).save(path)
    with np.load(path) as data:
        return path, {k: data[k] for k in data.files}


def test_garbage_and_truncated_files_refused(tmp_path):
    bad = tmp_path / "garbage.npz"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="not a valid zerodl model file"):
        zerodl.load(bad)
    path, _ = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a valid zerodl model file"):
        zerodl.load(path)


def test_object_arrays_refused(tmp_path):
    path, arrays = _saved(tmp_path)
    arrays["W1"] = np.array([{"evil": 1}], dtype=object)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(ValueError, match="need pickle"):
        zerodl.load(path)


@pytest.mark.parametrize("change,message", [
    (lambda a: a.update(W1=a["W1"][:2]), "shape"),
    (lambda a: a.update(W1=a["W1"].astype(np.float64)), "dtype"),
    (lambda a: a.pop("b2"), "needs"),
    (lambda a: a.update(extra=np.zeros(2)), "needs"),
    (lambda a: a.pop(CONFIG_KEY), "no '__zerodl_config__'"),
    (lambda a: a.update({CONFIG_KEY: np.array("{not json")}), "not valid JSON"),
    (lambda a: a.update({CONFIG_KEY: np.array(json.dumps({"format": "other"}))}), "format"),
    (lambda a: a.update(W2=np.full_like(a["W2"], np.nan)), "NaN"),
])
def test_inconsistent_contents_refused(tmp_path, change, message):
    path, arrays = _saved(tmp_path)
    change(arrays)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(ValueError, match=message):
        zerodl.load(path)


def test_future_version_refused(tmp_path):
    path, arrays = _saved(tmp_path)
    config = json.loads(str(arrays[CONFIG_KEY]))
    config["version"] = 99
    arrays[CONFIG_KEY] = np.array(json.dumps(config))
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(ValueError, match="version 99 is not supported"):
        zerodl.load(path)


def test_failed_save_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    first = mlp([3, 2], seed=0)
    first.save(path)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        mlp([3, 2], seed=1).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]     # no temporary left behind


def test_saved_file_is_plain_npz_without_pickle(tmp_path):
    path, arrays = _saved(tmp_path)
    assert zipfile.is_zipfile(path)
    assert all(a.dtype != object for a in arrays.values())


def test_a_text_file_is_not_taken_for_a_pickle(tmp_path):
    # NumPy reads any file that is neither a zip nor an .npy as a pickle; the message must
    # not blame pickle for a file that is simply something else.
    path = tmp_path / "notes.npz"
    path.write_text("x\n")
    with pytest.raises(ValueError, match=r"not a readable \.npz archive \(it starts with neither"):
        zerodl.load(path)


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_loading_something_that_is_not_a_file_says_what_it_is(tmp_path, kind):
    # A FIFO would block a reader for ever and a device would be read without end: both are
    # refused from the file's type, before it is opened.
    if kind == "folder":
        path, what = tmp_path, "a folder"
    elif kind == "fifo":
        path, what = tmp_path / "pipe.npz", "a device, pipe or socket"
        os.mkfifo(path)
    else:
        path, what = Path("/dev/zero"), "a device, pipe or socket"
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))} must be a model file, a "
                                         rf"regular file; it is {what}"):
        zerodl.load(path)
