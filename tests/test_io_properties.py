"""Property tests: whatever the bytes of a model file or a checkpoint, loading either gives a
valid model or raises the documented ValueError naming the file; nothing else escapes."""
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zerodl
from zerodl import History, mlp
from zerodl.checkpoint import load_checkpoint, save_checkpoint
from zerodl.optimizers import SGD

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _model_bytes() -> bytes:
    buffer = io.BytesIO()
    model = mlp([5, 4, 3], seed=0)
    from zerodl.io import CONFIG_KEY, FORMAT, VERSION
    import json
    config = {"format": FORMAT, "version": VERSION, **model.get_config()}
    np.savez(buffer, **{CONFIG_KEY: np.array(json.dumps(config))}, **model.params)
    return buffer.getvalue()


def _checkpoint_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("ck") / "ck.npz"
    model = mlp([5, 4, 3], seed=0)
    history = History()
    history.history = {"loss": [0.5]}
    history.epoch = [1]
    save_checkpoint(path, model, SGD(0.1), np.random.default_rng(0).bit_generator.state,
                    history, {"epoch": 1, "step": 3, "batches": 0, "loss_sum": 0.0,
                              "correct": 0, "seen": 0, "n_samples": 30, "batch_size": 10})
    return path.read_bytes()


MODEL = _model_bytes()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("props")


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory):
    return _checkpoint_bytes(tmp_path_factory)


def load_model(folder, data: bytes):
    path = folder / "m.npz"
    path.write_bytes(data)
    try:
        model = zerodl.load(path)
    except ValueError as exc:
        assert str(path) in str(exc)
        return None
    for p in model.params.values():          # whatever loads is a usable model
        assert np.all(np.isfinite(p))
    model.predict(np.zeros((1, model.n_in)))
    return model


def resume(folder, data: bytes):
    path = folder / "ck.npz"
    path.write_bytes(data)
    model, optimizer, rng = mlp([5, 4, 3], seed=1), SGD(0.1), np.random.default_rng(1)
    try:
        load_checkpoint(path, model, optimizer, rng, History(), n_samples=30, batch_size=10)
    except ValueError as exc:
        assert str(path) in str(exc)


def flip(data: bytes, bits: list[int]) -> bytes:
    out = bytearray(data)
    for bit in bits:
        out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


def test_valid_files_load(folder, checkpoint_bytes):
    assert load_model(folder, MODEL) is not None
    resume(folder, checkpoint_bytes)


@SETTINGS
@given(st.binary(max_size=3000))
def test_random_bytes(folder, data):
    load_model(folder, data)


@SETTINGS
@given(st.binary(max_size=3000))
def test_random_bytes_behind_a_zip_header(folder, data):
    load_model(folder, b"PK\x03\x04" + data)


@SETTINGS
@given(st.integers(0, len(MODEL) - 1))
def test_truncated_model_file(folder, size):
    assert load_model(folder, MODEL[:size]) is None


@SETTINGS
@given(st.lists(st.integers(0, 8 * len(MODEL) - 1), min_size=1, max_size=3))
def test_bit_flips_in_model_file(folder, bits):
    load_model(folder, flip(MODEL, bits))


@SETTINGS
@given(st.data())
def test_truncated_and_flipped_checkpoints(folder, checkpoint_bytes, data):
    size = data.draw(st.integers(0, len(checkpoint_bytes)))
    bits = data.draw(st.lists(st.integers(0, 8 * len(checkpoint_bytes) - 1), max_size=3))
    resume(folder, flip(checkpoint_bytes[:size], bits) if size else b"")


# Flipped bits in the raw file mostly stop at the zip's CRC check. These two rebuild a valid
# archive around damaged contents, to reach the checks behind it.

def _rebuild(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _arrays() -> dict:
    with np.load(io.BytesIO(MODEL)) as data:
        return {k: data[k] for k in data.files}


@SETTINGS
@given(st.lists(st.integers(0, 8 * 400 - 1), min_size=1, max_size=3))
def test_bit_flips_in_the_architecture_text(folder, bits):
    from zerodl.io import CONFIG_KEY
    arrays = _arrays()
    text = str(arrays[CONFIG_KEY]).encode()
    arrays[CONFIG_KEY] = np.array(flip(text, bits).decode("latin-1"))
    load_model(folder, _rebuild(arrays))


@SETTINGS
@given(key=st.sampled_from(["W1", "b1", "W2", "b2", "extra"]),
       shape=st.lists(st.integers(0, 6), max_size=3),
       dtype=st.sampled_from(["f4", "f8", "f2", "i4", "u1", "c8", "?", "U3", "V4", ">f4"]))
def test_arrays_of_other_shapes_and_dtypes(folder, key, shape, dtype):
    arrays = _arrays()
    arrays[key] = np.zeros(shape, dtype=dtype)
    same = key in ("W1", "b1", "W2", "b2") and arrays[key].shape == _arrays()[key].shape
    model = load_model(folder, _rebuild(arrays))
    assert model is None or (same and np.dtype(dtype) == np.float32)
