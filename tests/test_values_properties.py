"""Property tests: inputs of any magnitude and crafted model files of any declared size.

``predict`` and ``fit`` either work or raise the documented error, and then nothing
changed; ``load`` either gives exactly the arrays written or raises ``ValueError`` naming the
file, without allocating more than the file really holds.
"""
import copy
import json
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zerodl
from zerodl import mlp
from zerodl.io import CONFIG_KEY, FORMAT, VERSION
from zerodl.optimizers import Adam

from state_checks import same_state

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

MODEL_DTYPES = [np.float16, np.float32, np.float64]
MODELS = {np.dtype(t): mlp([3, 4, 2], seed=0, dtype=t) for t in MODEL_DTYPES}

# Magnitudes on both sides of every float type's range: float16 ends at 65504, float32 at
# 3.4e38; float64 values beyond those are finite and must not slip through as inf.
magnitudes = st.one_of(
    st.floats(-1e5, 1e5, allow_nan=False),
    st.sampled_from([65504.0, 65519.0, 65520.0, 7e4, 3.4e38, 3.5e38, 1e39, 1e300, -1e300,
                     -65520.0, -3.5e38]),
    st.floats(allow_nan=False, allow_infinity=False))
inputs = st.tuples(st.sampled_from(["float64", "float32", "int64", "uint16"]),
                   st.integers(1, 4).flatmap(lambda n: st.lists(magnitudes, min_size=3 * n,
                                                                max_size=3 * n)))


def as_source(kind: str, values: list) -> np.ndarray:
    """The values in the source dtype (clipped into an integer type's range, NaN-free)."""
    x = np.array(values, dtype=np.float64).reshape(-1, 3)
    if kind in ("int64", "uint16"):
        info = np.iinfo(kind)
        x = np.clip(x, info.min, min(info.max, 2.0**62)).astype(kind)
    elif kind == "float32":
        x = np.clip(x, -3.4e38, 3.4e38).astype(np.float32)
    return x




def beyond_dtype(x: np.ndarray, dtype) -> bool:
    """The oracle: does the cast to ``dtype`` turn a finite value into inf?"""
    with np.errstate(over="ignore"):
        return not np.all(np.isfinite(x.astype(dtype)))


@SETTINGS
@given(dtype=st.sampled_from(MODEL_DTYPES), data=inputs)
def test_predict_works_exactly_when_the_values_fit_the_dtype(dtype, data):
    model = MODELS[np.dtype(dtype)]
    x = as_source(*data)
    before = {k: p.copy() for k, p in model.params.items()}
    if beyond_dtype(x, dtype):
        with pytest.raises(ValueError, match=rf"^x must be within {np.dtype(dtype)}'s range"):
            model.predict(x)
    else:
        with np.errstate(all="ignore"):      # huge but representable values may overflow inside
            y = model.predict(x)
        assert y.shape == (len(x), 2) and y.dtype == dtype
    assert all(np.array_equal(model.params[k], before[k]) for k in before)


@SETTINGS
@given(dtype=st.sampled_from(MODEL_DTYPES), data=inputs, which=st.sampled_from(["x", "val"]))
def test_fit_is_all_or_nothing_for_any_magnitude(dtype, data, which):
    model = mlp([3, 4, 2], seed=0, dtype=dtype)
    optimizer = Adam(0.01)
    good = np.random.default_rng(0).standard_normal((6, 3))
    labels = np.array([0, 1, 0, 1, 1, 0])
    model.fit(good, labels, epochs=1, batch_size=6, optimizer=optimizer, verbose=0)
    weights = {k: p.copy() for k, p in model.params.items()}
    state = copy.deepcopy(optimizer.state_dict())
    x = as_source(*data)
    d = np.arange(len(x)) % 2
    args = ((x, d), None) if which == "x" else ((good, labels), (x, d))
    try:
        with np.errstate(all="ignore"):
            model.fit(*args[0], validation_data=args[1], epochs=2, batch_size=3,
                      optimizer=optimizer, verbose=0)
    except ValueError as exc:
        name = "x" if which == "x" else "validation_data[0]"
        assert str(exc).startswith(f"{name} must be within {np.dtype(dtype)}'s range"), exc
        assert beyond_dtype(x, dtype)
        assert all(np.array_equal(model.params[k], weights[k]) for k in weights)
        assert same_state(optimizer.state_dict(), state)
        return
    except zerodl.TrainingDiverged:
        pass                # representable but huge inputs overflow inside the network
    assert not beyond_dtype(x, dtype)
    assert all(np.all(np.isfinite(p)) for p in model.params.values())


# -- crafted model files --------------------------------------------------------------------

DTYPES = {"<f4": np.float32, "<f8": np.float64, "<f2": np.float16, "<i4": np.int32,
          "|b1": np.bool_}


@st.composite
def crafted(draw):
    """A model file for a 1-layer float32 network n_in x n_out whose W1 entry declares a
    random shape and dtype and holds either exactly that (small) or a random byte count."""
    n_in, n_out = draw(st.integers(1, 6)), draw(st.integers(2, 6))
    truthful = draw(st.booleans())
    if truthful and draw(st.booleans()):
        shape, descr = (n_in, n_out), draw(st.sampled_from(["<f4", "<f4", "<f8"]))
    else:
        ndim = draw(st.integers(0, 3))
        top = 40 if truthful else 10**6
        shape = tuple(draw(st.integers(0, top)) for _ in range(ndim))
        descr = draw(st.sampled_from(sorted(DTYPES)))
    n_bytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(descr).itemsize if truthful \
        else draw(st.integers(0, 4096))
    return n_in, n_out, shape, descr, truthful, n_bytes, draw(st.integers(0, 2**32 - 1))


def write_crafted(path, n_in, n_out, shape, descr, truthful, n_bytes, seed) -> np.ndarray | None:
    """Write the file; return the W1 it holds when it is truthful, else None."""
    config = {"format": FORMAT, "version": VERSION, "output": "softmax", "dtype": "float32",
              "layers": [{"type": "Dense", "n_in": n_in, "n_out": n_out}]}
    w1 = None
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open(f"{CONFIG_KEY}.npy", "w") as f:
            np.lib.format.write_array(f, np.array(json.dumps(config)))
        with zf.open("W1.npy", "w", force_zip64=True) as f:
            if truthful:
                rng = np.random.default_rng(seed)
                w1 = (rng.standard_normal(shape) * 3).astype(DTYPES[descr])
                np.lib.format.write_array(f, w1)
            else:
                np.lib.format.write_array_header_1_0(
                    f, {"descr": descr, "fortran_order": False, "shape": shape})
                f.write(bytes(n_bytes))
        with zf.open("b1.npy", "w") as f:
            np.lib.format.write_array(f, np.zeros(n_out, np.float32))
    return w1


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("crafted")


@SETTINGS
@given(case=crafted())
def test_load_gives_the_arrays_or_refuses_within_the_declared_size(folder, case):
    n_in, n_out, shape, descr, truthful, n_bytes, seed = case
    path = folder / "m.npz"
    w1 = write_crafted(path, *case)
    tracemalloc.start()
    try:
        model = zerodl.load(path)
    except ValueError as exc:
        model, message = None, str(exc)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    fits = truthful and shape == (n_in, n_out) and descr == "<f4"
    if model is None:
        assert not fits
        assert message.startswith(f"{path} is not a valid zerodl model file: ")
    else:
        assert fits
        np.testing.assert_array_equal(model.params["W1"], w1)
        assert model.params["W1"].dtype == np.float32
        assert not model.params["b1"].any()
    # Never more than what the file really holds (its W1 bytes, the model built from it) and
    # a fixed allowance for the interpreter's own bookkeeping.
    assert peak < 4 * n_bytes + 300_000, (peak, n_bytes, shape)
