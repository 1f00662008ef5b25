"""Values out of range and oversized inputs: refused in one line, before anything changes.

Values finite in float64 but not in the model's dtype (1e39 for float32, 70000 for float16)
are refused with the dtype's range; float16 models train with every optimizer; model files
and networks too large for memory are refused from their sizes, before any large array is
allocated; a few raw crashes of the core (shared layer objects, a one-unit softmax, a step h
too small to change x) are plain refusals.
"""
import copy
import json
import re
import tracemalloc
import zipfile

import numpy as np
import pytest

import zerodl
from zerodl import History, Sequential, mlp
from zerodl import functions as F
from zerodl import io as zio
from zerodl.checkpoint import load_checkpoint, save_checkpoint
from zerodl.cli import main
from zerodl.gradcheck import gradient_check
from zerodl.initializers import INITIALIZERS
from zerodl.io import CONFIG_KEY, FORMAT, VERSION
from zerodl.layers import Dense, ReLU
from zerodl.optimizers import OPTIMIZERS, Adam, get_optimizer

from state_checks import snapshot, same_params, same_state

RNG = np.random.default_rng(0)
X = RNG.standard_normal((12, 4))
D = RNG.integers(0, 3, 12)








def trained_optimizer(model):
    """An Adam that has taken a step on ``model`` (non-empty state), and the weights after."""
    optimizer = Adam(0.01)
    model.fit(X, D, epochs=1, batch_size=12, optimizer=optimizer, verbose=0)
    return optimizer


# -- kind 4: values beyond the model's dtype ----------------------------------------------

def with_value(x, value, at=(2, 1)):
    x = np.array(x, dtype=np.float64)
    x[at] = value
    return x


ENTRY_POINTS = {
    "predict": lambda m, x, d: m.predict(x),
    "evaluate": lambda m, x, d: m.evaluate(x, d),
    "loss": lambda m, x, d: m.loss(x, d),
    "gradient": lambda m, x, d: m.gradient(x, d),
    "layer_outputs": lambda m, x, d: m.layer_outputs(x),
    "fit": lambda m, x, d: m.fit(x, d, epochs=1, batch_size=4, optimizer=m.opt, verbose=0),
}


@pytest.mark.parametrize("dtype,value,rule", [
    (np.float32, 1e39, r"float32's range \(±3\.4e\+38\)"),
    (np.float32, -5e38, r"float32's range \(±3\.4e\+38\)"),
    (np.float16, 7e4, r"float16's range \(±6\.55e\+04\)"),
    (np.float16, -65520.0, r"float16's range \(±6\.55e\+04\)"),   # rounds to -inf
])
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_inputs_beyond_the_dtype_are_refused_and_nothing_changes(entry, dtype, value, rule):
    model = mlp([4, 5, 3], seed=1, dtype=dtype)
    model.opt = trained_optimizer(model)
    weights, state = snapshot(model), copy.deepcopy(model.opt.state_dict())
    with pytest.raises(ValueError, match=rf"^x must be within {rule}, the model's dtype; got "
                                         rf"{re.escape(repr(value))} at index \(2, 1\) \(1 "
                                         rf"such value in all\)\.$"):
        ENTRY_POINTS[entry](model, with_value(X, value), D)
    assert same_params(model, weights) and same_state(model.opt.state_dict(), state)


@pytest.mark.parametrize("where", ["validation x", "targets", "validation targets"])
def test_validation_data_and_regression_targets_are_checked_in_the_dtype(where):
    model = mlp([4, 5, 2], seed=1, output="identity")
    targets = RNG.standard_normal((12, 2))
    optimizer = trained_optimizer(mlp([4, 5, 3], seed=1))  # state of another run: untouched
    model_opt = Adam(0.01)
    model.fit(X, targets, epochs=1, batch_size=12, optimizer=model_opt, verbose=0)
    weights, state = snapshot(model), copy.deepcopy(model_opt.state_dict())
    x_val, d_val, d = X.copy(), targets.copy(), targets.copy()
    name = {"validation x": "validation_data[0]", "targets": "d",
            "validation targets": "validation_data[1]"}[where]
    {"validation x": x_val, "targets": d, "validation targets": d_val}[where][3, 0] = 1e39
    with pytest.raises(ValueError, match=rf"^{re.escape(name)} must be within float32's range "
                                         r"\(±3\.4e\+38\).*got 1e\+39 at index \(3, 0\)"):
        model.fit(X, d, epochs=1, optimizer=model_opt, verbose=0, validation_data=(x_val, d_val))
    assert same_params(model, weights) and same_state(model_opt.state_dict(), state)
    assert optimizer.t == 1
    with pytest.raises(ValueError, match=r"^d must be within float32's range"):
        model.loss(X, np.where(np.arange(24).reshape(12, 2) == 5, -1e300, targets))


def test_the_edges_of_the_ranges():
    m32, m16 = mlp([2, 2], seed=0), mlp([2, 2], seed=0, dtype=np.float16)
    top32 = float(np.finfo(np.float32).max)
    assert m32.prepare_inputs([[top32, -top32]]).tolist() == [[top32, -top32]]
    # 65519 rounds down to float16's largest value 65504; 65520 is half-way and rounds to inf.
    assert m16.prepare_inputs([[65519.0, -65504.0]]).tolist() == [[65504.0, -65504.0]]
    with pytest.raises(ValueError, match=r"float16's range .* got 65520\.0 at index \(0, 1\)"):
        m16.prepare_inputs([[0.0, 65520.0]])
    # Integers: uint16's 65535 is beyond float16, 60000 is not; int64 always fits float32.
    with pytest.raises(ValueError, match=r"^x must be within float16's range .* got 65535 at"):
        m16.prepare_inputs(np.array([[1, 65535]], dtype=np.uint16))
    assert m16.prepare_inputs(np.array([[1, 60000]])).tolist() == [[1.0, 60000.0]]
    assert m32.prepare_inputs(np.array([[2**62, -2**63]])).dtype == np.float32
    # Many values: the fast path (a dot product on the cast array) finds them too.
    big = np.zeros((3000, 2))
    big[2999, 0], big[17, 1] = 1e39, -1e40
    with pytest.raises(ValueError, match=r"got -1e\+40 at index \(17, 1\) \(2 such values"):
        m32.prepare_inputs(big)


def test_nan_is_reported_as_nan_even_beside_an_out_of_range_value():
    model = mlp([2, 2], seed=0)
    for n in (3, 5000):
        x = np.zeros((n, 2))
        x[0, 0], x[1, 1] = 1e39, np.nan
        with pytest.raises(ValueError, match=r"x must hold only finite numbers \(no NaN or inf\); "
                                             r"got nan at index \(1, 1\)"):
            model.predict(x)


def test_sigmoid_and_class_labels_keep_their_own_rules():
    model = mlp([4, 3, 2], seed=0, output="sigmoid")
    d = np.zeros((12, 2))
    d[4, 1] = 1e39
    with pytest.raises(ValueError, match=r"sigmoid targets\) must be in \[0, 1\]; got 1e\+39"):
        model.loss(X, d)


# -- float16 and the adaptive optimizers ----------------------------------------------------

@pytest.mark.parametrize("name", sorted(OPTIMIZERS.names()))
def test_every_optimizer_trains_a_float16_model(name):
    x, d = zerodl.datasets.make_toy("xor", n_samples=200, seed=0)
    lr = {"sgd": 0.5, "adadelta": 1.0, "adagrad": 0.1, "momentum": 0.1, "nesterov": 0.1}
    model = mlp([2, 16, 2], seed=0, dtype=np.float16)
    optimizer = get_optimizer(name, lr=lr.get(name, 0.01))
    history = model.fit(x, d, epochs=60, batch_size=20, optimizer=optimizer, verbose=0, seed=0)
    assert all(p.dtype == np.float16 and np.all(np.isfinite(p)) for p in model.params.values())
    assert history.history["loss"][-1] < 0.1 and history.history["accuracy"][-1] >= 0.95
    state_dtypes = {b.dtype for table in optimizer.buffers.values() for b in table.values()}
    adaptive = name in ("adagrad", "rmsprop", "adadelta", "adam", "adamw")
    assert state_dtypes <= ({np.dtype(np.float32)} if adaptive else {np.dtype(np.float16)})


@pytest.mark.parametrize("name", ["adagrad", "rmsprop", "adadelta", "adam", "adamw"])
def test_float16_adaptive_step_is_the_float32_step_rounded(name):
    # Zero and tiny gradients: in float16, eps (1e-8) and g*g (1e-10) are 0, so without
    # float32 state these entries became 0/0 = NaN or m/0 = inf.
    p = np.array([[0.5, -1.0, 2.0], [0.25, 0.0, 3.0]], dtype=np.float16)
    g = np.array([[0.0, 1e-5, -1e-4], [0.3, 0.0, -2.0]], dtype=np.float16)
    p16, p32 = {"W1": p.copy()}, {"W1": p.astype(np.float32)}
    opt16, opt32 = get_optimizer(name), get_optimizer(name)
    for _ in range(3):
        opt16.update(p16, {"W1": g})
        opt32.update(p32, {"W1": g.astype(np.float32)})
        p32["W1"][...] = p32["W1"].astype(np.float16).astype(np.float32)   # what float16 keeps
        assert p16["W1"].dtype == np.float16 and np.all(np.isfinite(p16["W1"]))
        np.testing.assert_array_equal(p16["W1"], p32["W1"].astype(np.float16))


def test_float16_adam_state_survives_a_checkpoint(tmp_path):
    x, d = zerodl.datasets.make_toy("moons", n_samples=60, seed=1)
    model, optimizer = mlp([2, 8, 2], seed=0, dtype=np.float16), Adam(0.01)
    model.fit(x, d, epochs=2, batch_size=20, optimizer=optimizer, verbose=0, seed=0,
              checkpoint=tmp_path / "ck.npz")
    again, opt_again = mlp([2, 8, 2], seed=5, dtype=np.float16), Adam(0.01)
    load_checkpoint(tmp_path / "ck.npz", again, opt_again, np.random.default_rng(0), History(),
                    n_samples=60, batch_size=20)
    assert same_params(again, snapshot(model))
    assert same_state(opt_again.state_dict(), optimizer.state_dict())


# -- kind 7: model files that would take more memory than they are worth -------------------

def write_member(zf, key, header: dict, n_bytes: int | None = None, array=None):
    """An .npy entry; with ``n_bytes``, ``header`` followed by that many zero bytes,
    streamed, so that the test itself never holds the array."""
    with zf.open(f"{key}.npy", "w", force_zip64=True) as f:
        if array is not None:
            np.lib.format.write_array(f, array)
            return
        np.lib.format.write_array_header_1_0(f, header)
        chunk = bytes(1 << 20)
        while n_bytes:
            k = min(n_bytes, len(chunk))
            f.write(chunk[:k])
            n_bytes -= k


def crafted_model(path, w1_shape, w1_bytes, sizes=(784, 10)):
    """A zip of ``sizes``'s header and a zero ``W1`` declared ``w1_shape`` holding
    ``w1_bytes`` bytes of data."""
    config = {"format": FORMAT, "version": VERSION, "output": "softmax", "dtype": "float32",
              "layers": [{"type": "Dense", "n_in": sizes[0], "n_out": sizes[1]}]}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        write_member(zf, CONFIG_KEY, {}, array=np.array(json.dumps(config)))
        write_member(zf, "W1", {"descr": "<f4", "fortran_order": False, "shape": w1_shape},
                     w1_bytes)
        write_member(zf, "b1", {}, array=np.zeros(sizes[-1], np.float32))
    return path


@pytest.fixture(scope="module")
def zero_bomb(tmp_path_factory):
    """A 3000x3000 zero W1 (36 MB in memory, about 35 kB on disk) for a 784-10 model."""
    return crafted_model(tmp_path_factory.mktemp("bomb") / "bomb.npz", (3000, 3000),
                         3000 * 3000 * 4)


def refused_without_reading(path, match, monkeypatch, limit=2_000_000):
    """Load ``path``: it must be refused, the big W1 never read, and tracemalloc's peak
    (NumPy reports its allocations to it) stay below ``limit`` bytes."""
    read = []
    real = np.lib.format.read_array

    def recording(f, *args, **kwargs):
        array = real(f, *args, **kwargs)
        read.append(array.shape)
        return array

    monkeypatch.setattr(np.lib.format, "read_array", recording)
    before = path.read_bytes()
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=match) as info:
            zerodl.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(info.value)
    assert peak < limit, peak
    assert all(np.prod(shape) < 1000 for shape in read), read
    assert path.read_bytes() == before
    return str(info.value)


def test_a_zip_of_zeros_is_refused_from_its_header(zero_bomb, monkeypatch):
    refused_without_reading(
        zero_bomb, r"is not a valid zerodl model file: parameter W1 has shape \(3000, 3000\) "
                   r"and dtype float32; the architecture needs \(784, 10\) float32\.$",
        monkeypatch)
    assert zero_bomb.stat().st_size < 100_000


def test_a_header_that_lies_about_its_size_is_refused(tmp_path, monkeypatch):
    path = crafted_model(tmp_path / "lie.npz", (15000, 15000), 100, sizes=(15000, 15000))
    refused_without_reading(
        path, r"its entry 'W1' declares shape \(15000, 15000\) and dtype float32 "
              r"\(900,000,000 bytes\) but holds 100 bytes\.$", monkeypatch)


def test_arrays_larger_than_memory_are_refused(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    mlp([30, 20, 10], seed=0).save(path)
    monkeypatch.setattr(zio, "physical_memory", lambda: 3000)
    # (30*20 + 20 + 20*10 + 10) float32 = 3,320 bytes of parameters, plus the header's
    # text at 4 bytes a character.
    refused_without_reading(path, r"its arrays need [34]\.\d kB in all, more than this "
                                  r"machine's memory \(3\.0 kB\)\.$", monkeypatch)


def test_missing_parameters_are_refused_before_building_the_model(tmp_path, monkeypatch):
    # The architecture asks for a 20000x20000 W1 that the file does not hold: refused before
    # the model (and its 1.6 GB of weights and gradients) is built.
    config = {"format": FORMAT, "version": VERSION, "output": "softmax", "dtype": "float32",
              "layers": [{"type": "Dense", "n_in": 20000, "n_out": 20000}]}
    path = tmp_path / "m.npz"
    with open(path, "wb") as f:
        np.savez(f, **{CONFIG_KEY: np.array(json.dumps(config))}, b1=np.zeros(20000, np.float32))
    refused_without_reading(path, r"it holds parameters \['b1'\] but the architecture needs "
                                  r"\['W1', 'b1'\]\.$", monkeypatch, limit=1_000_000)


def trained(seed: int) -> tuple:
    """A 4-5-3 model and its Adam after one epoch on the test data."""
    model, optimizer = mlp([4, 5, 3], seed=seed), Adam(0.01)
    model.fit(X, D, epochs=1, batch_size=12, optimizer=optimizer, verbose=0)
    return model, optimizer


def checkpoint_entries(path) -> dict[str, bytes]:
    """Write a real checkpoint of a trained model to ``path``; return its zip members' bytes,
    for a test to rewrite."""
    model, optimizer = trained(seed=1)
    save_checkpoint(path, model, optimizer, np.random.default_rng(0).bit_generator.state,
                    History(), {"epoch": 1, "step": 1, "batches": 0, "loss_sum": 0.0,
                                "correct": 0, "seen": 0, "n_samples": 12, "batch_size": 12})
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def test_a_checkpoint_with_a_zip_of_zeros_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    entries = checkpoint_entries(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            if name == "a2.npy":        # W2's place: 3000 x 3000 zeros, 36 MB unpacked
                write_member(zf, "a2", {"descr": "<f4", "fortran_order": False,
                                        "shape": (3000, 3000)}, 3000 * 3000 * 4)
            else:
                zf.writestr(name, data)
    target, target_opt = trained(seed=2)
    weights, state = snapshot(target), copy.deepcopy(target_opt.state_dict())
    read = []
    real = np.lib.format.read_array
    monkeypatch.setattr(np.lib.format, "read_array",
                        lambda f, *a, **k: read.append(1) or real(f, *a, **k))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=rf"^{re.escape(str(path))} is not a valid zerodl "
                                             r"checkpoint: its entry 'a2' has shape \(3000, "
                                             r"3000\), larger than any of the model's "
                                             r"parameters\.$"):
            load_checkpoint(path, target, target_opt, np.random.default_rng(0), History(),
                            n_samples=12, batch_size=12)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000 and read == [1]            # only the header was read
    assert same_params(target, weights) and same_state(target_opt.state_dict(), state)


def test_a_checkpoint_with_a_lying_entry_changes_nothing(tmp_path):
    path = tmp_path / "ck.npz"
    entries = checkpoint_entries(path)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            if name == "a0.npy":        # W1, now declaring 1e6 x 1e6
                data = data.replace(b"(4, 5)", b"(1000000, 1000000)")
            zf.writestr(name, data)
    before = path.read_bytes()
    target, target_opt = trained(seed=2)
    weights, state = snapshot(target), copy.deepcopy(target_opt.state_dict())
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))} is not a valid zerodl "
                                         r"checkpoint: its entry 'a0' declares shape "
                                         r"\(1000000, 1000000\)"):
        load_checkpoint(path, target, target_opt, np.random.default_rng(0), History(),
                        n_samples=12, batch_size=12)
    assert same_params(target, weights) and same_state(target_opt.state_dict(), state)
    assert path.read_bytes() == before


# -- kind 7: networks too large to allocate -----------------------------------------------

def test_a_network_larger_than_memory_is_refused_before_allocating():
    tracemalloc.start()
    try:
        # 2 * (784*N + N + N*10 + 10) * 4 bytes for N = 99999999999: weights and gradients.
        with pytest.raises(ValueError, match=r"^the network \[784, 99999999999, 10\] must fit in "
                                             r"memory: its float32 weights and gradients need "
                                             r"636\.0 TB, this machine has .*B\.$"):
            mlp([784, 99999999999, 10])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


def test_a_layer_larger_than_memory_is_refused(monkeypatch):
    monkeypatch.setattr(zerodl.core.layers.base, "physical_memory", lambda: 10**9)
    # 2 * (20000 * 20000 + 20000) * 8 bytes = 6,400,320,000.
    with pytest.raises(ValueError, match=r"^Dense\(20000, 20000\) must fit in memory: its "
                                         r"float64 weights and gradients need 6\.4 GB, this "
                                         r"machine has 1\.0 GB\.$"):
        Dense(20000, 20000, dtype=np.float64)


def test_an_allocation_that_fails_is_one_line():
    def out_of_memory(rng, n_in, n_out, dtype):
        raise MemoryError()

    with pytest.raises(ValueError, match=r"^Dense\(3, 4\) must fit in memory: its float32 "
                                         r"weights and gradients need 128 bytes, which could "
                                         r"not be allocated\.$"):
        Dense(3, 4, init=out_of_memory)


def test_the_command_line_refuses_a_huge_layer_in_one_line(capsys, tmp_path):
    code = main(["train", "--layers", "784-99999999999-10", "--data-dir", str(tmp_path),
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert "the network [784, 99999999999, 10] must fit in memory" in err and "636.0 TB" in err


def test_weights_are_drawn_without_a_float64_copy_and_keep_their_values():
    tracemalloc.start()
    try:
        model = mlp([2000, 2000], seed=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    w = model.params["W1"]
    # W and its gradient (16 MB each) and one block of float64 draws (8 MB): a whole float64
    # copy of W would add 32 MB.
    assert peak < 2 * w.nbytes + 9_000_000, peak
    # The seeded numbers: the float64 draw, cast, as before.
    reference = np.random.default_rng(0).standard_normal((2000, 2000)) * np.sqrt(2 / 2000)
    np.testing.assert_array_equal(w, reference.astype(np.float32))
    np.testing.assert_array_equal(w, mlp([2000, 2000], seed=0, dtype=np.float64)
                                  .params["W1"].astype(np.float32))


# -- kind 7: raw crashes turned into refusals --------------------------------------------------

def test_a_layer_object_used_twice_is_refused_with_both_positions():
    dense, relu = Dense(3, 3, rng=np.random.default_rng(0)), ReLU()
    before = dense.W.copy()
    with pytest.raises(ValueError, match=r"^layers must hold each layer object once; got the "
                                         r"same Dense object at layers\[0\] and layers\[2\]\."):
        Sequential([dense, ReLU(), dense])
    with pytest.raises(ValueError, match=r"same ReLU object at layers\[1\] and layers\[3\]"):
        Sequential([Dense(3, 3), relu, Dense(3, 3), relu, Dense(3, 2)])
    assert np.array_equal(dense.W, before)


def test_softmax_with_one_output_points_to_sigmoid():
    for build in (lambda: mlp([4, 1]), lambda: Sequential([Dense(4, 1)], output="softmax")):
        with pytest.raises(ValueError, match=r"softmax.* always 1 and the loss always 0.*"
                                             r"use output='sigmoid'"):
            build()
    model = mlp([4, 1], output="sigmoid", seed=0)
    assert model.predict(X).shape == (12, 1)


@pytest.mark.parametrize("sizes", [4, "784-10", None, np.array(5), 3.5])
def test_sizes_that_are_not_a_list_are_refused(sizes):
    with pytest.raises(TypeError, match=r"^sizes must be a list of layer sizes, like \[784, "
                                        r"40, 10\]; got "):
        mlp(sizes)
    assert mlp(np.array([4, 3, 2]), seed=0).n_out == 2          # a 1-D array is a list


@pytest.mark.parametrize("h,message", [
    (0, r"^h must be a number in \(0\.0, inf\); got 0\.0\.$"),
    (-1e-5, r"^h must be a number in \(0\.0, inf\); got -1e-05\.$"),
    (1e-300, r"^h must be large enough to change every parameter in float64; got h=1e-300, "
             r"and W1\[0, 0\] = .* plus or minus h rounds to the same number\.$"),
])
def test_gradient_check_refuses_a_useless_step(h, message):
    model = mlp([4, 3, 3], seed=0)
    weights = snapshot(model)
    with pytest.raises(ValueError, match=message):
        gradient_check(model, X[:3], D[:3], h=h)
    assert same_params(model, weights)


def test_finite_differences_refuse_a_step_that_changes_nothing():
    x = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match=r"^h must be large enough to change x in its dtype "
                                         r"\(float64\); got h=1e-20, and x\[0\] = 1\.0 plus "
                                         r"or minus h rounds to the same number\.$"):
        F.numerical_gradient(lambda v: float(v @ v), x, h=1e-20)
    assert x.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("name", sorted(INITIALIZERS.names()))
def test_initializers_refuse_empty_fans(name):
    init = INITIALIZERS.get(name)
    with pytest.raises(ValueError, match=r"^n_in must be an integer >= 1; got 0\.$"):
        init(np.random.default_rng(0), 0, 3, np.float32)
    with pytest.raises(TypeError, match=r"^n_out must be an integer >= 1; got 2\.5\.$"):
        init(np.random.default_rng(0), 3, 2.5, np.float32)


def test_dense_refuses_bad_arguments_by_name():
    with pytest.raises(ValueError, match=r"^dtype must be a floating type such as np\.float32; "
                                         r"got 'int64'\.$"):
        Dense(3, 4, dtype=np.int64)
    with pytest.raises(TypeError, match=r"^rng must be None or a numpy Generator .* got 5\.$"):
        Dense(3, 4, rng=5)
    with pytest.raises(ValueError, match=r"^init must give weights of shape \(n_in, n_out\) = "
                                         r"\(3, 4\); got shape \(4, 3\)\.$"):
        Dense(3, 4, init=lambda rng, n_in, n_out, dtype: np.zeros((n_out, n_in)))


@pytest.mark.parametrize("call", [lambda: F.softmax([[1, 2], [3]]),
                                  lambda: F.mean_squared_error([[1, 2], [3]], [[1, 2], [3, 4]]),
                                  lambda: F.cross_entropy_error([[1], [0, 1]], [[.5, .5]])])
def test_ragged_lists_are_named_in_functions(call):
    with pytest.raises(ValueError, match=r"^[dxy] must be a rectangular array of numbers; got a "
                                         r"list that NumPy cannot turn into one array"):
        call()


def test_layers_by_hand_name_wrong_shapes_and_a_missing_forward():
    dense = Dense(3, 2, rng=np.random.default_rng(0))
    with pytest.raises(RuntimeError, match=r"^Dense\.backward must follow a forward"):
        dense.backward(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"^x must have shape \(N, 3\) for Dense\(n_in=3, "
                                         r"n_out=2, init='he'\), one row of 3 inputs per "
                                         r"sample; got shape \(2, 4\)\.$"):
        dense.forward(np.ones((2, 4)))
    assert dense.x is None                         # the refused forward kept nothing
    x = np.ones((2, 3), dtype=np.float32)
    dense.forward(x)
    grads = {k: g.copy() for k, g in dense.grads.items()}
    with pytest.raises(ValueError, match=r"^dy must have shape \(2, 2\) for Dense\(.*\) after a "
                                         r"forward of x with shape \(2, 3\); got shape \(3, 2\)"):
        dense.backward(np.ones((3, 2), dtype=np.float32))
    assert all(np.array_equal(dense.grads[k], grads[k]) for k in grads)
    for layer in (ReLU(), zerodl.layers.Sigmoid(), zerodl.layers.Tanh(),
                  zerodl.layers.LeakyReLU()):
        with pytest.raises(RuntimeError, match=rf"^{type(layer).__name__}\.backward must follow"):
            layer.backward(np.ones((1, 2)))


def test_another_runs_checkpoint_keeps_its_own_message(tmp_path):
    # The sizes are checked from the header first: another run's file is named as such,
    # not as an array of the wrong shape.
    model, optimizer = mlp([4, 7, 3], seed=1), Adam(0.01)
    path = tmp_path / "ck.npz"
    save_checkpoint(path, model, optimizer, np.random.default_rng(0).bit_generator.state,
                    History(), {"epoch": 1, "step": 1, "batches": 0, "loss_sum": 0.0,
                                "correct": 0, "seen": 0, "n_samples": 12, "batch_size": 12})
    target = mlp([4, 5, 3], seed=2)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))} was written by a different "
                                         r"training run: "):
        load_checkpoint(path, target, Adam(0.01), np.random.default_rng(0), History(),
                        n_samples=12, batch_size=12)
