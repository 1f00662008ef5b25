"""Property tests of ``save``/``load``: any model round-trips exactly; any bad target, weight
or write failure raises the documented error and leaves every file as it was."""
import errno
import os
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import zerodl
from zerodl import mlp
from zerodl.layers import ACTIVATIONS
from zerodl.losses import OUTPUTS

from state_checks import folder_tree

SETTINGS = settings(max_examples=100, deadline=None)
WIDTH = {np.float16: 16, np.float32: 32, np.float64: 64}


@st.composite
def models(draw):
    """A small network of any activation, output and float type, with any finite weights."""
    dtype = draw(st.sampled_from(list(WIDTH)))
    output = draw(st.sampled_from(OUTPUTS.names()))
    sizes = draw(st.lists(st.integers(1, 5), min_size=2, max_size=4))
    if output == "softmax":
        sizes[-1] = max(sizes[-1], 2)
    try:
        model = mlp(sizes, activation=draw(st.sampled_from(ACTIVATIONS.names())),
                    output=output, init=draw(st.sampled_from(["he", "xavier", 0.01])),
                    seed=draw(st.integers(0, 2 ** 16)), dtype=dtype)
    except (ValueError, TypeError):     # a combination zerodl refuses to build is no example
        assume(False)
    floats = st.floats(allow_nan=False, allow_infinity=False, width=WIDTH[dtype])
    for p in model.params.values():
        p[...] = draw(arrays(dtype, p.shape, elements=floats))
    return model


def weights(model) -> dict:
    return {k: p.copy() for k, p in model.params.items()}


def assert_same_model(loaded, model) -> None:
    assert loaded.get_config() == model.get_config()
    for key, p in model.params.items():
        assert loaded.params[key].dtype == p.dtype
        assert np.array_equal(loaded.params[key], p)


@SETTINGS
@given(models())
def test_every_valid_model_round_trips_exactly(model):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.npz"
        model.save(path)
        loaded = zerodl.load(path)
        assert_same_model(loaded, model)
        x = np.random.default_rng(0).standard_normal((3, model.n_in))
        with np.errstate(all="ignore"):
            assert np.array_equal(loaded.predict(x), model.predict(x), equal_nan=True)


#: Where a save may be pointed: name -> (the path, relative to the folder; whether it is a
#: place a model file may be written).
TARGETS = {
    "new file": ("new.npz", True),
    "existing file": ("old.npz", True),
    "link to a file": ("link.npz", True),
    "link to a link": ("link2.npz", True),
    "link to a new file": ("fresh_link.npz", True),
    "folder": ("sub", False),
    "link to a folder": ("dirlink", False),
    "FIFO": ("fifo", False),
    "missing folder": ("missing/m.npz", False),
    "missing folders": ("missing/deeper/m.npz", False),
    "file as folder": ("old.npz/m.npz", False),
    "link into a missing folder": ("dangling.npz", False),
}


def populate(folder: Path) -> None:
    mlp([2, 2], seed=0).save(folder / "old.npz")
    (folder / "sub").mkdir()
    (folder / "link.npz").symlink_to("old.npz")
    (folder / "link2.npz").symlink_to("link.npz")
    (folder / "fresh_link.npz").symlink_to("sub/fresh.npz")
    (folder / "dirlink").symlink_to("sub")
    (folder / "dangling.npz").symlink_to("nowhere/m.npz")
    os.mkfifo(folder / "fifo")


@st.composite
def poisons(draw, model):
    """None, or (key, flat index, value): one weight made NaN or infinite."""
    if not draw(st.booleans()):
        return None
    key = draw(st.sampled_from(sorted(model.params)))
    index = draw(st.integers(0, model.params[key].size - 1))
    return key, index, draw(st.sampled_from([np.nan, np.inf, -np.inf]))


@SETTINGS
@given(st.data())
def test_save_to_any_target_completes_or_changes_nothing(data):
    model = data.draw(models())
    name = data.draw(st.sampled_from(sorted(TARGETS)))
    poison = data.draw(poisons(model))
    relative, writable = TARGETS[name]
    if poison:
        key, index, value = poison
        model.params[key].reshape(-1)[index] = value
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        populate(folder)
        before, saved = folder_tree(folder), weights(model)
        path = folder / relative
        try:
            model.save(path)
        except (ValueError, OSError) as exc:
            assert not writable or poison, f"{name}: {exc}"
            assert folder_tree(folder) == before
            assert all(np.array_equal(saved[k], model.params[k], equal_nan=True) for k in saved)
            # The path is checked first, then the weights.
            words = "path must be" if not writable else f"params['{poison[0]}'] must hold only"
            assert words in str(exc)
            return
        assert writable and not poison, name
        after = folder_tree(folder)
        real = Path(os.path.realpath(path))
        assert_same_model(zerodl.load(path), model)
        # Only the real target changed (or appeared); every link is still the same link.
        changed = {k for k in after if after[k] != before.get(k)}
        assert changed == {str(real.relative_to(folder.resolve()))}
        assert all(after[k] == v for k, v in before.items() if v[0] == "link")


FAILURES = {                     # where a write can fail, and what the system would say
    "tempfile.mkstemp": errno.EACCES,
    "os.chmod": errno.EPERM,
    "os.fsync": errno.ENOSPC,
    "os.replace": errno.EROFS,
}


@SETTINGS
@given(st.data())
def test_a_write_failing_anywhere_names_the_target_and_keeps_the_old_file(data):
    model = data.draw(models())
    where = data.draw(st.sampled_from(sorted(FAILURES)))
    relative = data.draw(st.sampled_from(["old.npz", "link2.npz", "new.npz"]))
    code = FAILURES[where]

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code), "/some/.old.npz.x1y2.tmp")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        populate(folder)
        before = folder_tree(folder)
        path = folder / relative
        with mock.patch(where, fail):
            try:
                model.save(path)
            except OSError as exc:
                message = str(exc)
            else:
                raise AssertionError("the failure was not reported")
        assert folder_tree(folder) == before
        assert f"could not write {path}: {os.strerror(code)}" in message
        assert ".tmp" not in message


def _same_state(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same_state(a[k], b[k])
                                                                    for k in a)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and np.array_equal(a, b)
    return a == b


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(TARGETS)), seed=st.integers(0, 2 ** 16),
       batch_size=st.integers(1, 12))
def test_fit_with_any_checkpoint_target_trains_or_changes_nothing(name, seed, batch_size):
    from zerodl.optimizers import Adam
    rng = np.random.default_rng(seed)
    x, d = rng.standard_normal((12, 3)), rng.integers(0, 2, 12)
    model, optimizer = mlp([3, 4, 2], seed=seed), Adam(0.01)
    model.fit(x, d, batch_size=4, verbose=0, optimizer=optimizer)     # some optimizer state
    relative, writable = TARGETS[name]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        populate(folder)
        before, saved, state = folder_tree(folder), weights(model), optimizer.state_dict()
        try:
            model.fit(x, d, epochs=2, batch_size=batch_size, verbose=0, optimizer=optimizer,
                      checkpoint=folder / relative)
        except (ValueError, OSError) as exc:
            assert not writable, f"{name}: {exc}"
            assert "checkpoint must be" in str(exc)
            assert folder_tree(folder) == before
            assert all(np.array_equal(saved[k], model.params[k]) for k in saved)
            assert _same_state(optimizer.state_dict(), state)
            return
        assert writable, name
        after = folder_tree(folder)
        real = Path(os.path.realpath(folder / relative))
        assert {k for k in after if after[k] != before.get(k)} == {
            str(real.relative_to(folder.resolve()))}
        resumed = mlp([3, 4, 2], seed=seed)
        resumed.fit(x, d, epochs=2, batch_size=batch_size, verbose=0,
                    optimizer=Adam(0.01), resume=folder / relative)
        assert all(np.array_equal(resumed.params[k], model.params[k]) for k in saved)
