"""One truth: ``model.params``/``grads``, the layers, ``save`` and the optimizers never disagree.

Assignments copy into the layers' arrays (checked: known key, same shape, finite in the
model's dtype) or are refused with nothing changed; ``--resume`` keeps the checkpoint's
learning rate unless ``--lr`` replaces it, and says so.
"""
import copy
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zerodl
from zerodl import mlp
from zerodl.callbacks import LambdaCallback
from zerodl.checkpoint import STATE_KEY
from zerodl.cli import main
from zerodl.gradcheck import GRADIENT_CHECK_TOLERANCE
from zerodl.optimizers import SGD, Adam

from state_checks import snapshot, same_state

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 4)).astype(np.float32)
D = RNG.integers(0, 3, 40)


def net(seed=0, dtype=np.float32):
    return mlp([4, 5, 3], seed=seed, dtype=dtype)




def unchanged(model, before) -> bool:
    return (list(model.params) == list(before)
            and all(np.array_equal(model.params[k], before[k]) for k in before))




def by_hand(model, x):
    """The network's output computed with NumPy from ``model.params`` alone (ReLU, softmax)."""
    z = np.asarray(x, np.float64)
    n = len(model.dense)
    for i in range(1, n + 1):
        z = z @ model.params[f"W{i}"].astype(np.float64) + model.params[f"b{i}"]
        if i < n:
            z = np.maximum(z, 0)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# -- assignments write into the layers ----------------------------------------------------

def test_course_style_assignment_is_what_predict_fit_and_save_use(tmp_path):
    model = net()
    layer_W = model.dense[0].W
    new = RNG.standard_normal((4, 5))                     # float64, as the course writes it
    model.params["W1"] = new
    assert model.params["W1"] is layer_W                  # the same array, changed in place
    assert model.params["W1"].dtype == np.float32
    np.testing.assert_array_equal(model.dense[0].W, new.astype(np.float32))
    np.testing.assert_allclose(model.predict(X), by_hand(model, X), rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "m.npz")
    np.testing.assert_array_equal(zerodl.load(tmp_path / "m.npz").params["W1"],
                                  new.astype(np.float32))
    # fit trains the assigned weights: one SGD step moves them by -lr * gradient
    grads = model.gradient(X, D)
    model.fit(X, D, batch_size=None, steps=1, optimizer=SGD(lr=0.5), verbose=0)
    np.testing.assert_allclose(model.params["W1"], new.astype(np.float32) - 0.5 * grads["W1"],
                               rtol=1e-5, atol=1e-6)


def test_the_courses_update_by_hand_works_in_place():
    model = net()
    held = dict(model.params)
    expected = {k: p - np.float32(0.1) * g for (k, p), g in
                zip(model.params.items(), model.gradient(X, D).values())}
    grads = model.gradient(X, D)
    for key in model.params:
        model.params[key] -= 0.1 * grads[key]
    assert all(model.params[k] is held[k] for k in held)
    for key in expected:
        np.testing.assert_allclose(model.params[key], expected[key], rtol=1e-6, atol=1e-7)


def test_assignment_keeps_the_arrays_an_optimizer_holds():
    model = net()
    optimizer = Adam(lr=0.01)
    model.fit(X, D, epochs=1, batch_size=10, optimizer=optimizer, verbose=0, seed=0)
    held = dict(model.params)                             # what every holder points at
    model.params["b2"] = np.ones(3)
    assert all(model.params[k] is held[k] for k in held)
    model.fit(X, D, epochs=1, batch_size=10, optimizer=optimizer, verbose=0, seed=0)
    assert not np.array_equal(model.params["b2"], np.ones(3))    # trained from the new value


def test_layer_dicts_and_model_dicts_are_one():
    model = net()
    model.dense[1].params["W"] = np.full((5, 3), 0.25)
    np.testing.assert_array_equal(model.params["W2"], np.full((5, 3), 0.25))
    model.grads["W1"] = np.ones((4, 5))
    np.testing.assert_array_equal(model.dense[0].grads["W"], np.ones((4, 5)))
    model.gradient(X, D)                                  # backward writes where grads reads
    assert model.grads["W1"] is model.dense[0].grads["W"]
    assert not np.array_equal(model.grads["W1"], np.ones((4, 5)))


def test_whole_dict_assignment_and_update_are_all_or_nothing():
    model, other = net(0), net(1)
    model.params = {k: p.astype(np.float64) for k, p in other.params.items()}
    assert unchanged(model, snapshot(other))
    np.testing.assert_allclose(model.predict(X), other.predict(X))
    before = snapshot(model)
    good_then_bad = {"W1": np.zeros((4, 5)), "b1": np.zeros(5), "W2": np.zeros((5, 3)),
                     "b2": np.array([0.0, np.nan, 0.0])}
    with pytest.raises(ValueError, match=r"params\['b2'\] must hold only finite numbers"):
        model.params = good_then_bad
    assert unchanged(model, before)
    with pytest.raises(ValueError, match=r"params\['b2'\] must hold only finite numbers"):
        model.params.update(good_then_bad)
    assert unchanged(model, before)
    with pytest.raises(ValueError, match=r"params must be given exactly the keys W1, b1, W2, "
                                         r"b2; got no W2, b2"):
        model.params = {"W1": np.zeros((4, 5)), "b1": np.zeros(5)}
    with pytest.raises(ValueError, match=r"unknown 'W3'"):
        model.params = {**good_then_bad, "b2": np.zeros(3), "W3": np.zeros(2)}
    with pytest.raises(TypeError, match=r"params must be given a dict of arrays"):
        model.params = [np.zeros((4, 5))]
    assert unchanged(model, before)
    model.params = model.params                           # the same dict: nothing to do
    model.params |= {"b1": np.arange(5)}
    np.testing.assert_array_equal(model.params["b1"], np.arange(5))


@pytest.mark.parametrize("key, value, error, words", [
    ("W9", np.zeros((4, 5)), ValueError, r"params\['W9'\] must be one of the existing keys "
                                         r"\(W1, b1, W2, b2\); keys cannot be added"),
    ("W1", np.zeros((5, 4)), ValueError, r"params\['W1'\] must have the shape \(4, 5\) of the "
                                         r"array it replaces; got shape \(5, 4\)"),
    ("b1", 0.0, ValueError, r"params\['b1'\] must have the shape \(5,\).*got shape \(\) \(to "
                            r"fill it with one number, write params\['b1'\]\[\.\.\.\] = number\)"),
    ("W1", np.full((4, 5), np.nan), ValueError, r"params\['W1'\] must hold only finite "
                                                r"numbers.*nan at index \(0, 0\)"),
    ("b2", [0.0, np.inf, 1.0], ValueError, r"params\['b2'\] must hold only finite numbers.*inf "
                                           r"at index 1"),
    ("b2", [0.0, 1e39, 1.0], ValueError, r"params\['b2'\] must hold numbers within float32's "
                                         r"range of \+-3\.403e\+38; got 1e\+39"),
    ("b2", ["a", "b", "c"], TypeError, r"params\['b2'\] must hold numbers"),
    ("b2", [[1.0], [2.0, 3.0]], ValueError, r"params\['b2'\] must be a rectangular array"),
    ("b2", np.array([1j, 2, 3]), TypeError, r"params\['b2'\] must hold numbers"),
    ("b2", None, TypeError, r"params\['b2'\] must hold numbers"),
])
def test_refused_assignments_change_nothing(tmp_path, key, value, error, words):
    model = net()
    optimizer = Adam(lr=0.01)
    model.fit(X, D, epochs=1, batch_size=10, optimizer=optimizer, verbose=0, seed=0)
    model.save(tmp_path / "m.npz")
    saved_bytes = (tmp_path / "m.npz").read_bytes()
    before, state = snapshot(model), optimizer.state_dict()
    prediction = model.predict(X)
    with pytest.raises(error, match=words):
        model.params[key] = value
    assert unchanged(model, before)
    assert same_state(optimizer.state_dict(), state)
    np.testing.assert_array_equal(model.predict(X), prediction)
    model.save(tmp_path / "again.npz")                    # save writes what predict uses
    assert (tmp_path / "m.npz").read_bytes() == saved_bytes
    assert unchanged(zerodl.load(tmp_path / "again.npz"), before)


def test_float16_model_refuses_values_beyond_its_range():
    model = net(dtype=np.float16)
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"within float16's range of \+-6\.55e\+04; got "
                                         r"70000\.0"):
        model.params["b1"] = [1.0, 2.0, 70000.0, 0.0, 0.0]
    assert unchanged(model, before)
    model.params["b1"] = [1.0, 2.0, 60000.0, 0.0, 0.0]
    assert model.params["b1"][2] == np.float16(60000.0)


@pytest.mark.parametrize("remove", [
    lambda p: p.__delitem__("W1"), lambda p: p.pop("W1"), lambda p: p.popitem(),
    lambda p: p.clear(), lambda p: p.pop("W1", None),
])
def test_keys_cannot_be_removed(remove):
    model = net()
    before = snapshot(model)
    with pytest.raises(TypeError, match=r"params must keep one array per layer parameter; keys "
                                        r"cannot be removed"):
        remove(model.params)
    assert unchanged(model, before)


def test_setdefault_reads_but_never_adds():
    model = net()
    assert model.params.setdefault("W1") is model.dense[0].W
    with pytest.raises(ValueError, match=r"params\['W7'\] must be one of the existing keys"):
        model.params.setdefault("W7", np.zeros(3))
    assert list(model.params) == ["W1", "b1", "W2", "b2"]


def test_copies_of_the_model_keep_their_own_one_truth():
    model = net()
    twin = copy.deepcopy(model)
    assert twin.params["W1"] is twin.dense[0].W and twin.params["W1"] is not model.params["W1"]
    before = snapshot(model)
    twin.params["W1"] = np.zeros((4, 5))
    np.testing.assert_array_equal(twin.dense[0].W, 0.0)
    assert unchanged(model, before)
    plain = model.params.copy()                           # a plain dict of the same arrays
    assert type(plain) is dict and plain["W1"] is model.params["W1"]
    assert zerodl.gradient_errors(model, X[:3], D[:3])["W1"] < GRADIENT_CHECK_TOLERANCE


# -- property: every assignment either lands everywhere or changes nothing --------------

KEYS = ["W1", "b1", "W2", "b2"]
SHAPES = {"W1": (4, 5), "b1": (5,), "W2": (5, 3), "b2": (3,)}
VALUES = st.one_of(st.floats(-10, 10), st.sampled_from([3e38, 1e39, 7e4, np.nan, np.inf,
                                                        -np.inf]))


@st.composite
def assignment(draw):
    key = draw(st.sampled_from(KEYS * 3 + ["W3", "w1", "", "b"]))
    shape = SHAPES.get(key, (2,))
    if draw(st.booleans()):
        shape = draw(st.sampled_from([(), (1,), (5, 4), (3,), (4, 5), (5,), (5, 3), (2, 2, 2)]))
    dtype = draw(st.sampled_from([np.float16, np.float32, np.float64, np.float64, np.int64,
                                  np.bool_, np.complex64, object]))
    fill = draw(VALUES)
    values = draw(st.lists(VALUES, min_size=1, max_size=3))
    with np.errstate(all="ignore"):
        array = np.full(shape, fill)
        flat = array.reshape(-1)
        for i, v in enumerate(values[:flat.size]):
            flat[i] = v
        if dtype is object:
            return key, array.astype(object)
        return key, array.astype(dtype)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(assignment(), st.sampled_from([np.float16, np.float32, np.float64]))
def test_property_assignment_lands_everywhere_or_changes_nothing(case, model_dtype):
    key, value = case
    model = net(dtype=model_dtype)
    before = snapshot(model)
    try:
        model.params[key] = value
    except (ValueError, TypeError) as exc:
        assert unchanged(model, before)
        assert f"params[{key!r}]" in str(exc)
        return
    # it worked: the key was known, the shape right, the values finite in the model's dtype
    assert key in SHAPES and value.shape == SHAPES[key] and value.dtype != object
    with np.errstate(over="ignore"):
        expected = value.astype(model_dtype)
    np.testing.assert_array_equal(model.params[key], expected)
    assert all(np.isfinite(p).all() and p.dtype == model_dtype for p in model.params.values())
    for other in KEYS:
        if other != key:
            np.testing.assert_array_equal(model.params[other], before[other])
    layer = model.dense[int(key[1]) - 1]
    assert layer.params[key[0]] is model.params[key]
    if model_dtype != np.float16 and np.abs(model.params[key]).max() < 1e3:
        # predict computes with the assigned values (round-off grows with huge weights)
        np.testing.assert_allclose(model.predict(X[:5]), by_hand(model, X[:5]),
                                   rtol=1e-4, atol=1e-6)


# -- resume: what it keeps and what it overrides ------------------------------------------

def test_library_resume_restores_the_checkpoints_learning_rate(tmp_path):
    path = tmp_path / "ck.npz"
    model = net()
    model.fit(X, D, epochs=1, batch_size=10, optimizer=SGD(lr=0.1), checkpoint=path, verbose=0)
    resumed = net(seed=5)
    optimizer = SGD(lr=0.7)
    history = resumed.fit(X, D, epochs=2, batch_size=10, optimizer=optimizer, resume=path,
                          verbose=0)
    assert optimizer.lr == 0.1 and history.history["lr"] == [0.1, 0.1]


def test_library_resume_at_another_rate_through_a_callback(tmp_path):
    path = tmp_path / "ck.npz"
    net().fit(X, D, epochs=1, batch_size=10, optimizer=SGD(lr=0.1), checkpoint=path,
              verbose=0)
    optimizer = SGD(lr=0.1)
    faster = LambdaCallback(on_train_begin=lambda logs: setattr(optimizer, "lr", 0.3))
    history = net().fit(X, D, epochs=2, batch_size=10, optimizer=optimizer, resume=path,
                        callbacks=[faster], verbose=0)
    assert history.history["lr"] == [0.1, 0.3]


def header(path):
    with np.load(path) as data:
        return json.loads(str(data[STATE_KEY]))


TRAIN = ["train", "--layers", "784-8-10", "--batch-size", "1000", "--eval-every", "60",
         "--seed", "3", "--quiet"]


@pytest.mark.parametrize("schedule", [[], ["--lr-schedule", "step", "--lr-step-size", "1",
                                           "--lr-gamma", "0.5"]])
def test_cli_lr_with_resume_replaces_the_checkpoints_and_says_so(mnist_dir, tmp_path, capsys,
                                                                 schedule):
    path = tmp_path / "ck.npz"
    common = [*TRAIN, *schedule, "--data-dir", str(mnist_dir), "--plot", str(tmp_path / "c.png")]
    assert main([*common, "--epochs", "1", "--checkpoint", str(path)]) == 0
    assert header(path)["optimizer"]["config"]["lr"] == (0.05 if schedule else 0.1)
    assert main([*common, "--epochs", "2", "--resume", str(path), "--lr", "0.03"]) == 0
    lr = header(path)["history"]["history"]["lr"]
    if schedule:        # the schedule's base rate: epoch 2 runs at 0.03 * 0.5
        assert lr == [0.1, 0.015]
    else:
        assert lr == [0.1, 0.03]
    assert header(path)["optimizer"]["config"]["lr"] == (0.0075 if schedule else 0.03)


def test_cli_lr_override_is_announced_and_absent_without_lr(mnist_dir, tmp_path, capsys):
    path = tmp_path / "ck.npz"
    common = [*TRAIN[:-1], "--data-dir", str(mnist_dir), "--plot", str(tmp_path / "c.png")]
    assert main([*common, "--quiet", "--epochs", "1", "--checkpoint", str(path)]) == 0
    capsys.readouterr()
    assert main([*common, "--epochs", "2", "--resume", str(path), "--lr", "0.03"]) == 0
    assert "--lr 0.03 replaces the checkpoint's learning rate 0.1" in capsys.readouterr().out
    assert main([*common, "--epochs", "3", "--resume", str(path)]) == 0
    out = capsys.readouterr().out
    assert "replaces" not in out
    assert header(path)["history"]["history"]["lr"] == [0.1, 0.03, 0.03]
