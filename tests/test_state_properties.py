"""Property tests of the all-or-nothing rule on the state side: ``fit`` with random valid and
invalid arguments, ``optimizer.load_state_dict`` with random corruptions of a real state, and
the checkpoint reader with random corruptions of a real checkpoint. Each either works, or
raises the documented exception and leaves weights, optimizer, schedule, generator, History
and files exactly as they were."""
import copy
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from zerodl import mlp
from zerodl.callbacks import Callback
from zerodl.checkpoint import STATE_KEY, load_checkpoint
from zerodl.optimizers import OPTIMIZERS, Adam
from zerodl.schedules import CosineAnnealing, StepDecay

from test_state_all_or_nothing import assert_unchanged, snapshot

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

RNG = np.random.default_rng(0)
X = RNG.standard_normal((24, 4)).astype(np.float32)
D = RNG.integers(0, 3, 24)
BATCH = 8                                   # 3 steps per epoch


def net(seed=1):
    return mlp([4, 5, 3], seed=seed)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A checkpoint of 2 epochs (Adam, a step schedule) and a copy of its arrays and header."""
    path = tmp_path_factory.mktemp("state") / "ck.npz"
    net(seed=7).fit(X, D, epochs=2, batch_size=BATCH, verbose=0, optimizer=Adam(lr=0.01),
                    lr_schedule=StepDecay(1, 0.5), checkpoint=path)
    return path


def trained(optimizer=None, schedule=None):
    """A model with state of its own: trained one epoch with its optimizer and schedule."""
    model = net()
    optimizer = optimizer or Adam(lr=0.02)
    model.fit(X, D, epochs=1, batch_size=BATCH, verbose=0, optimizer=optimizer,
              lr_schedule=schedule)
    return model, optimizer


# -- fit --------------------------------------------------------------------------------------

def _number(low, high):
    return st.one_of(st.none(), st.integers(low, high),
                     st.sampled_from([2.5, float("nan"), float("inf"), "3", True, [2]]))


# Each argument: (valid values, invalid values). A call breaks none, one or two of them.
FIT_ARGUMENTS = {
    "epochs": (st.integers(1, 3), st.sampled_from([0, -1, 1.5, "2", None, True])),
    "batch_size": (st.one_of(st.none(), st.integers(1, 30)),
                   st.sampled_from([0, -1, 2.5, "8", float("nan"), [8]])),
    "steps": (st.one_of(st.none(), st.integers(1, 8)), st.sampled_from([0, -2, 1.0, "3"])),
    "eval_every": (st.one_of(st.none(), st.integers(1, 4)), st.sampled_from([0, -1, 2.0])),
    "seed": (st.one_of(st.none(), st.integers(0, 3)), st.sampled_from([-1, "7", 1.5])),
    "verbose": (st.just(0), st.sampled_from([-1, "0", None])),
    "clip_norm": (st.one_of(st.none(), st.floats(0.01, 5)),
                  st.sampled_from([0.0, -1.0, float("nan"), float("inf"), "1"])),
    "clip_value": (st.one_of(st.none(), st.floats(0.01, 5)), st.sampled_from([0, -0.5, "x"])),
    "optimizer": (st.sampled_from(["sgd", "adam", "momentum", "own", "fresh-adam"]),
                  st.sampled_from(["nope", "other-models", 3])),
    "lr_schedule": (st.sampled_from([None, "step", "cosine", "plateau", "own"]),
                    st.sampled_from(["nope", "cosine-warmup-4"])),
    "callbacks": (st.sampled_from([None, "empty", "one"]), st.sampled_from(["not-one",
                                                                              "a-number"])),
    "validation_data": (st.sampled_from([None, "ok"]), st.sampled_from(["single", "narrow"])),
    "x": (st.just("ok"), st.sampled_from(["nan", "narrow"])),
    "d": (st.just("ok"), st.sampled_from(["out-of-range", "short"])),
    "resume": (st.sampled_from([None, None, "ok"]), st.sampled_from(["damaged", "missing"])),
}


@st.composite
def fit_calls(draw):
    """Keyword arguments of fit: all valid, or with one or two of them invalid."""
    broken = draw(st.lists(st.sampled_from(sorted(FIT_ARGUMENTS)), max_size=2, unique=True))
    return {name: draw(bad if name in broken else good)
            for name, (good, bad) in FIT_ARGUMENTS.items()}


def _build(kwargs, model, optimizer, schedule, other, folder):
    """Turn the drawn names into the objects fit gets."""
    k = dict(kwargs)
    k["optimizer"] = {"own": optimizer, "other-models": other, "fresh-adam": Adam(lr=0.01)}.get(
        k["optimizer"], k["optimizer"])
    k["lr_schedule"] = {"own": schedule, "cosine-warmup-4": CosineAnnealing(warmup_epochs=4)}.get(
        k["lr_schedule"], k["lr_schedule"])
    k["callbacks"] = {None: None, "empty": [], "one": [Callback()], "not-one": [Callback(), 3],
                      "a-number": 3}[k["callbacks"]]
    k["validation_data"] = {None: None, "ok": (X[:5], D[:5]), "single": (X[:5],),
                            "narrow": (X[:5, :2], D[:5])}[k["validation_data"]]
    x = {"ok": X, "nan": np.where(np.arange(24)[:, None] == 3, np.nan, X),
         "narrow": X[:, :3]}[k.pop("x")]
    d = {"ok": D, "out-of-range": D + 1, "short": D[:-1]}[k.pop("d")]
    damaged = folder.parent / "damaged.npz"
    if not damaged.exists():
        damaged.write_bytes(folder.read_bytes()[:-40])
    k["resume"] = {None: None, "ok": folder, "damaged": damaged,
                   "missing": folder.parent / "missing.npz"}[k["resume"]]
    return x, d, k


@SETTINGS
@given(kwargs=fit_calls())
def test_fit_either_trains_or_changes_nothing(folder, kwargs):
    schedule = StepDecay(1, 0.5)
    model, optimizer = trained(schedule=schedule)
    # an optimizer with state, tied to another model
    _, other_optimizer = trained(optimizer=OPTIMIZERS.get("momentum")())
    x, d, k = _build(kwargs, model, optimizer, schedule, other_optimizer, folder)
    given_optimizer = k["optimizer"] if not isinstance(k["optimizer"], (str, int)) else None
    given_schedule = k["lr_schedule"] if not isinstance(k["lr_schedule"], str) else None
    files = [folder]
    before = snapshot(model, given_optimizer, given_schedule, files=files)
    try:
        history = model.fit(x, d, **k)
        event("trained")
    except FileNotFoundError as exc:
        assert k["resume"] is not None and str(k["resume"]) in str(exc)
        assert_unchanged(before, model, given_optimizer, given_schedule, files=files)
    except (TypeError, ValueError) as exc:
        event(f"refused: {type(exc).__name__}")
        message = str(exc)
        assert message and "Traceback" not in message
        assert_unchanged(before, model, given_optimizer, given_schedule, files=files)
    else:
        assert model.history is history and history is not before["history"]
        assert all(np.all(np.isfinite(p)) for p in model.params.values())
        assert before["files"] == snapshot(model, files=files)["files"]


# -- load_state_dict --------------------------------------------------------------------------

def _arrays():
    shapes = st.lists(st.integers(0, 6), max_size=3).map(tuple)
    dtypes = st.sampled_from(["f4", "f8", "f2", "i4", "?", "U2", "c8"])
    fill = st.sampled_from([0.0, 1.0, -2.0, float("nan"), float("inf")])
    def build(shape, dtype, value):
        if dtype == "U2":
            return np.full(shape, "ab")
        with np.errstate(invalid="ignore"):           # nan and inf cast to ints on purpose
            return np.full(shape, value).astype(dtype, casting="unsafe")
    return st.builds(build, shapes, dtypes, fill)


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 10**20), st.text(max_size=4),
              st.floats(allow_nan=True, allow_infinity=True)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=6)

def similar(value):
    """Values of the same kind as ``value`` (a number for a number, an array of the same
    shape and dtype for an array): corruptions the checks cannot tell by their type."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers(0, max(2 * value, 10))
    if isinstance(value, float):
        return st.floats(0, 2 * value + 1)
    if isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
        return st.lists(st.floats(0, 1) if any(isinstance(v, float) for v in value)
                        else st.integers(0, 5), min_size=len(value), max_size=len(value))
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return st.integers(0, 2**32 - 1).map(lambda seed: np.random.default_rng(seed).uniform(
            -1, 1, value.shape).astype(value.dtype))
    return st.just(value)


def corruption(value):
    """Half the time a value of the same kind, else anything (or a deletion)."""
    wild = st.one_of(JSON_VALUES, _arrays(), st.just(DELETE))
    return st.one_of(similar(value), wild)


DELETE = "<delete>"


def _paths(tree, prefix=()):
    """Every path into a nested dict (the dicts themselves included)."""
    yield prefix
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _paths(value, prefix + (key,))


def _change(tree, path, value):
    """``tree`` with the entry at ``path`` replaced by ``value`` (or deleted, or a new key
    added under a dict when ``path`` ends in ``None``); a deep copy, the original is kept."""
    tree = copy.deepcopy(tree)
    if not path:
        return value
    target = tree
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return tree


@SETTINGS
@given(data=st.data())
def test_load_state_dict_either_loads_or_changes_nothing(data):
    model, optimizer = trained()
    state = optimizer.state_dict()
    corrupted = state
    for _ in range(data.draw(st.integers(1, 2))):
        paths = list(_paths(corrupted)) + [p + ("extra",) for p in _paths(corrupted)
                                          if isinstance(_get(corrupted, p), dict)]
        path = data.draw(st.sampled_from(paths))
        old = _get(corrupted, path) if path[-1:] != ("extra",) else None
        corrupted = _change(corrupted, path, data.draw(corruption(old)))
    before = snapshot(model, optimizer)
    try:
        optimizer.load_state_dict(corrupted)
        event("loaded")
    except (TypeError, ValueError) as exc:
        event("refused")
        assert str(exc).startswith("state")
        assert_unchanged(before, model, optimizer)
        return
    # loaded: the optimizer holds exactly what was given
    loaded = optimizer.state_dict()
    assert json.dumps(loaded["config"]) == json.dumps(
        {**corrupted["config"], "betas": list(corrupted["config"]["betas"])}
        if "betas" in corrupted["config"] else corrupted["config"])
    assert loaded["t"] == corrupted["t"]
    for name, table in corrupted["buffers"].items():
        for key, value in table.items():
            assert np.array_equal(loaded["buffers"][name][key], np.asarray(value))
    # and a step either fits the model's arrays or is refused before anything moves
    model.gradient(X[:5], D[:5])
    before = snapshot(model, optimizer)
    try:
        optimizer.update(model.params, model.grads)
    except ValueError as exc:
        assert "optimizer.buffers" in str(exc)
        assert_unchanged(before, model, optimizer)


def _get(tree, path):
    for key in path:
        tree = tree[key]
    return tree


# -- the checkpoint reader --------------------------------------------------------------------

def _read(path):
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    return json.loads(str(arrays.pop(STATE_KEY))), arrays


@SETTINGS
@given(data=st.data())
def test_checkpoint_reader_restores_everything_or_changes_nothing(folder, data):
    header, arrays = _read(folder)
    for _ in range(data.draw(st.integers(1, 2))):
        if data.draw(st.booleans()):
            paths = [p for p in _paths(header) if p]
            path = data.draw(st.sampled_from(paths))
            value = data.draw(st.one_of(similar(_get(header, path)), JSON_VALUES,
                                        st.just(DELETE)))
            header = _change(header, path, value)
        else:
            name = data.draw(st.sampled_from(sorted(arrays)))
            arrays = {**arrays, name: data.draw(st.one_of(similar(arrays[name]), _arrays()))}
    path = folder.parent / "corrupt.npz"
    np.savez(path, **{STATE_KEY: np.array(json.dumps(header))}, **arrays)

    model, optimizer = trained()
    schedule = StepDecay(1, 0.5)
    history = model.history
    before = snapshot(model, optimizer, schedule, files=[path])
    try:
        progress = load_checkpoint(path, model, optimizer, model.rng, history, n_samples=24,
                                   batch_size=BATCH, schedule=schedule)
    except ValueError as exc:
        event("refused")
        assert str(path) in str(exc)
        assert_unchanged(before, model, optimizer, schedule, files=[path])
        return
    event("restored")
    # restored: every part equals what the file holds
    for key, name in header["params"].items():
        assert np.array_equal(model.params[key], arrays[name])
    state = optimizer.state_dict()
    assert state["t"] == header["optimizer"]["t"]
    assert json.dumps(state["config"]) == json.dumps(header["optimizer"]["config"])
    for name, table in header["optimizer"]["buffers"].items():
        for key, ref in table.items():
            assert np.array_equal(state["buffers"][name][key], arrays[ref])
    assert model.rng.bit_generator.state == header["rng"]
    assert schedule.state_dict() == {k: v for k, v in header["schedule"].items() if k != "name"}
    assert json.dumps([history.history, history.epoch, history.steps]) == json.dumps(
        [header["history"]["history"], header["history"]["epoch"], header["history"]["steps"]])
    assert progress == header["progress"]
    assert math.isfinite(progress["loss_sum"])
