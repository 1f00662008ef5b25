"""Diverging runs, Ctrl-C and checkpoints inside fit: nothing the user had is lost."""
import json
import os
import signal
import threading

import numpy as np
import pytest

import zerodl
from zerodl import mlp
from zerodl.checkpoint import STATE_KEY
from zerodl.optimizers import SGD

RNG = np.random.default_rng(0)
X = RNG.standard_normal((53, 6)).astype(np.float32)
D = RNG.integers(0, 3, 53)
FIT = dict(batch_size=10, verbose=0, eval_every=4, validation_data=(X[:20], D[:20]))  # 6 steps/epoch


def net(seed=1, output="softmax"):
    return mlp([6, 5, 3], seed=seed, output=output)


def same_weights(a, b):
    return all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


class Recording(SGD):
    """SGD that keeps a copy of the weights after every update."""

    def __init__(self, lr, poison_at=None):
        super().__init__(lr)
        self.after, self.poison_at = [], poison_at

    def update(self, params, grads):
        super().update(params, grads)
        if self.t == self.poison_at:           # a finite loss, but the update breaks a weight
            params["W1"][0, 0] = np.inf
        self.after.append({k: p.copy() for k, p in params.items()})


# -- divergence ---------------------------------------------------------------------------

def test_nonfinite_loss_raises_before_the_update_and_keeps_the_last_good_weights():
    model = net(output="identity")        # squared error grows fastest with a huge lr
    start = {k: p.copy() for k, p in model.params.items()}
    optimizer = Recording(lr=50.0)
    targets = np.eye(3)[D]
    with np.errstate(all="ignore"), pytest.raises(zerodl.TrainingDiverged) as info:
        model.fit(X, targets, epochs=50, optimizer=optimizer, **{**FIT, "validation_data": None})
    exc = info.value
    assert isinstance(exc, ArithmeticError)
    assert not np.isfinite(exc.loss)
    updates = len(optimizer.after)
    assert exc.step == updates + 1 and exc.epoch == updates // 6 + 1
    assert f"epoch {exc.epoch}, step {exc.step}" in str(exc)
    assert "smaller learning rate" in str(exc) and "lr is 50.0" in str(exc)
    # The loss climbed (2.9, 7.8e7, 6.1e28) before it overflowed: the last finite weights
    # are no good, the weights go back to the start of the epoch.
    assert "after climbing to more than 100 times its" in str(exc)
    assert "went back to those of the start of epoch 1" in str(exc)
    for key, p in model.params.items():
        np.testing.assert_array_equal(p, start[key])
    assert exc.history.epoch == list(range(1, exc.epoch))


def test_update_that_breaks_weights_is_rolled_back_to_the_epoch_start():
    # Step 9 (epoch 2) writes inf into W1 while its loss was finite; step 10's loss is then
    # NaN: the weights go back to the start of epoch 2, i.e. after step 6.
    model = net()
    optimizer = Recording(lr=0.1, poison_at=9)
    with np.errstate(all="ignore"), pytest.raises(zerodl.TrainingDiverged, match=r"epoch 2, "
                                                  r"step 10.*start of epoch 2"):
        model.fit(X, D, epochs=3, optimizer=optimizer, **FIT)
    for key, p in model.params.items():
        np.testing.assert_array_equal(p, optimizer.after[5][key])


def test_last_update_breaking_weights_is_caught_at_the_epoch_end():
    model = net()
    start = {k: p.copy() for k, p in model.params.items()}
    optimizer = Recording(lr=0.1, poison_at=6)     # the last step of the only epoch
    with pytest.raises(zerodl.TrainingDiverged, match=r"epoch 1, step 6: an update made the "
                                                      r"weights NaN or infinite"):
        model.fit(X, D, epochs=1, optimizer=optimizer, **FIT)
    for key, p in model.params.items():
        np.testing.assert_array_equal(p, start[key])


# -- Ctrl-C -------------------------------------------------------------------------------

def interrupt_at(model, monkeypatch, call):
    """Make the ``call``-th training step raise KeyboardInterrupt before it does anything."""
    original = model.train_step
    count = [0]

    def step(*args):
        count[0] += 1
        if count[0] == call:
            raise KeyboardInterrupt
        return original(*args)

    monkeypatch.setattr(model, "train_step", step)


def test_keyboard_interrupt_keeps_model_history_and_writes_checkpoint(tmp_path, monkeypatch,
                                                                      capsys):
    path = tmp_path / "ck.npz"
    model = net()
    interrupt_at(model, monkeypatch, 10)                   # epoch 2, after 3 of its 6 steps
    history = model.fit(X, D, epochs=4, checkpoint=path, **{**FIT, "verbose": 2})
    assert history.interrupted and history.epoch == [1]
    assert history.steps["step"] == [4, 8]
    assert "interrupted after step 9 (epoch 2)" in capsys.readouterr().err
    reference = net()
    reference.fit(X, D, steps=9, **FIT)                    # exactly the 9 completed steps
    assert same_weights(model, reference)
    with np.load(path) as data:
        progress = json.loads(str(data[STATE_KEY]))["progress"]
    assert (progress["epoch"], progress["step"], progress["batches"]) == (2, 9, 3)


def test_resume_after_interrupt_is_bit_identical(tmp_path, monkeypatch):
    reference = net()
    expected = reference.fit(X, D, epochs=4, **FIT)
    path = tmp_path / "ck.npz"
    model = net()
    interrupt_at(model, monkeypatch, 16)                   # mid epoch 3
    model.fit(X, D, epochs=4, checkpoint=path, **FIT)
    resumed = net(seed=99)                                 # other initial weights, replaced
    history = resumed.fit(X, D, epochs=4, resume=path, checkpoint=path, **FIT)
    assert same_weights(resumed, reference)
    assert history.history == expected.history and history.epoch == expected.epoch
    assert history.steps == expected.steps and not history.interrupted


def test_sigint_mid_update_is_deferred_to_the_end_of_the_batch():
    # SIGINT arrives half-way through the 8th update. Python's default handler would raise
    # KeyboardInterrupt there, leaving W1 updated but not b1, W2, b2.
    class SignalDuringUpdate(SGD):
        def update_one(self, key, p, g):
            super().update_one(key, p, g)
            if self.t == 8 and key == "W1":
                os.kill(os.getpid(), signal.SIGINT)

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach only the main thread")
    model = net()
    history = model.fit(X, D, epochs=3, optimizer=SignalDuringUpdate(0.1), **FIT)
    assert history.interrupted
    reference = net()
    reference.fit(X, D, steps=8, optimizer=SGD(0.1), **FIT)
    assert same_weights(model, reference)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# -- checkpoints --------------------------------------------------------------------------

def test_checkpoint_each_epoch_and_resume_bit_identical_with_partial_epochs(tmp_path):
    reference = net()
    expected = reference.fit(X, D, steps=20, **FIT)          # 3 epochs and 2 steps
    path = tmp_path / "ck.npz"
    first = net()
    first.fit(X, D, steps=13, checkpoint=path, **FIT)        # stops in epoch 3 (step 13)
    with np.load(path) as data:
        state = json.loads(str(data[STATE_KEY]))
    assert state["progress"]["epoch"] == 3 and state["progress"]["step"] == 13
    assert state["rng"]["bit_generator"] == "PCG64"
    assert all(a.dtype != object for a in np.load(path).values())
    # The run is cut at step 13 and recorded epoch 3 as partial: resuming starts epoch 4.
    # To compare with the reference, resume from the end of epoch 2 instead.
    second = net()
    second.fit(X, D, epochs=2, checkpoint=path, **FIT)
    resumed = net(seed=5)
    history = resumed.fit(X, D, steps=20, resume=path, **FIT)
    assert same_weights(resumed, reference)
    assert history.history == expected.history and history.steps == expected.steps


def test_resume_of_a_finished_run_trains_nothing(tmp_path):
    path = tmp_path / "ck.npz"
    model = net()
    expected = model.fit(X, D, epochs=2, checkpoint=path, **FIT)
    again = net(seed=3)
    history = again.fit(X, D, epochs=2, resume=path, **FIT)
    assert same_weights(again, model) and history.history == expected.history


def test_adam_like_buffers_and_step_count_round_trip(tmp_path):
    # An optimizer with state: the buffers and t must come back exactly.
    class Momentum(SGD):
        def update_one(self, key, p, g):
            v = self.buffers.setdefault("velocity", {}).setdefault(key, np.zeros_like(p))
            v *= p.dtype.type(0.9)
            v -= p.dtype.type(self.lr) * g
            p += v

    path = tmp_path / "ck.npz"
    reference = net()
    reference.fit(X, D, epochs=3, optimizer=Momentum(0.05), **FIT)
    net().fit(X, D, epochs=1, optimizer=Momentum(0.05), checkpoint=path, **FIT)
    optimizer = Momentum(0.05)
    resumed = net(seed=8)
    resumed.fit(X, D, epochs=3, optimizer=optimizer, resume=path, **FIT)
    assert optimizer.t == 18 and same_weights(resumed, reference)


def test_failed_checkpoint_write_keeps_the_previous_one(tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    real_savez = np.savez
    calls = [0]

    def savez(*args, **kwargs):
        calls[0] += 1
        if calls[0] == 2:
            raise OSError("disk full")
        return real_savez(*args, **kwargs)

    monkeypatch.setattr(np, "savez", savez)
    with pytest.raises(OSError, match="disk full"):
        net().fit(X, D, epochs=3, checkpoint=path, **FIT)
    with np.load(path) as data:
        assert json.loads(str(data[STATE_KEY]))["progress"]["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ck.npz"]


@pytest.mark.parametrize("change,message", [
    (dict(model=lambda: mlp([6, 4, 3], seed=1)), r"different training run: it holds a model "
                                                 r"6-5-3 \(ReLU\), softmax, float32; this one "
                                                 r"is 6-4-3"),
    (dict(batch_size=7), r"batch_size=10; this fit has batch_size=7"),
    (dict(x=X[:40], d=D[:40]), r"n_samples=53; this fit has n_samples=40"),
    (dict(optimizer=Recording(0.1)), r"optimizer 'SGD'; fit got Recording"),
])
def test_resume_refuses_another_run_and_leaves_the_model_alone(tmp_path, change, message):
    path = tmp_path / "ck.npz"
    net().fit(X, D, epochs=1, checkpoint=path, **FIT)
    model = change.pop("model", net)()
    before = {k: p.copy() for k, p in model.params.items()}
    x, d = change.pop("x", X), change.pop("d", D)
    with pytest.raises(ValueError, match=message):
        model.fit(x, d, epochs=2, resume=path, **{**FIT, **change})
    assert all(np.array_equal(before[k], p) for k, p in model.params.items())


def test_damaged_checkpoints_are_refused_naming_the_file(tmp_path):
    path = tmp_path / "ck.npz"
    net().fit(X, D, epochs=1, checkpoint=path, **FIT)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    state = json.loads(str(arrays[STATE_KEY]))
    state["rng"]["state"]["state"] = "not a number"
    broken = {**arrays, STATE_KEY: np.array(json.dumps(state))}
    np.savez(path, **broken)
    with pytest.raises(ValueError, match=rf"{path} is not a valid zerodl checkpoint: its "
                                         r"random-generator state"):
        net().fit(X, D, epochs=2, resume=path, **FIT)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ValueError, match=rf"{path} is not a valid zerodl checkpoint"):
        net().fit(X, D, epochs=2, resume=path, **FIT)
    model_file = tmp_path / "model.npz"
    net().save(model_file)
    with pytest.raises(ValueError, match=r"not a valid zerodl checkpoint: it has no '__zerodl_checkpoint__' entry"):
        net().fit(X, D, epochs=2, resume=model_file, **FIT)
