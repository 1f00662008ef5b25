"""Callbacks: the hooks fit calls (order, counts, logs) and the built-in callbacks."""
import csv

import numpy as np
import pytest

import zerodl
from zerodl import mlp
from zerodl.callbacks import (Callback, CSVLogger, EarlyStopping, LambdaCallback,
                              ModelCheckpoint)
from zerodl.datasets import make_toy

X, D = make_toy("spiral", n_samples=125, noise=0.2, seed=0)
XV, DV = make_toy("spiral", n_samples=60, noise=0.2, seed=1)


class Recorder(Callback):
    """Every hook call, in order, with a copy of its logs."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin", None, dict(logs)))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end", None, dict(logs)))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch, dict(logs)))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, dict(logs)))

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(("batch_begin", batch, dict(logs)))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("batch_end", batch, dict(logs)))


def test_hook_order_counts_and_batch_logs():
    rec = Recorder()
    model = mlp([2, 8, 2], seed=0)
    model.fit(X, D, epochs=2, batch_size=50, verbose=0, callbacks=[rec])   # 50, 50, 25
    names = [(name, i) for name, i, _ in rec.calls]
    epoch = [("batch_begin", 0), ("batch_end", 0), ("batch_begin", 1), ("batch_end", 1),
             ("batch_begin", 2), ("batch_end", 2)]
    assert names == [("train_begin", None), ("epoch_begin", 1), *epoch, ("epoch_end", 1),
                     ("epoch_begin", 2), *epoch, ("epoch_end", 2), ("train_end", None)]
    batch_logs = [logs for name, _, logs in rec.calls if name == "batch_end"]
    assert [b["size"] for b in batch_logs] == [50, 50, 25] * 2
    assert [b["step"] for b in batch_logs] == [1, 2, 3, 4, 5, 6]
    assert all(set(b) == {"loss", "accuracy", "size", "step"} for b in batch_logs)
    # the epoch's loss and accuracy are the batches' weighted means
    first = batch_logs[:3]
    epoch_logs = [logs for name, _, logs in rec.calls if name == "epoch_end"]
    assert epoch_logs[0]["loss"] == pytest.approx(
        sum(b["loss"] * b["size"] for b in first) / 125, rel=1e-12)
    assert epoch_logs[0]["accuracy"] == pytest.approx(
        sum(b["accuracy"] * b["size"] for b in first) / 125, rel=1e-12)
    assert rec.calls[-1][2] == epoch_logs[-1]          # train_end gets the last epoch's logs


def test_epoch_logs_equal_history():
    rec = Recorder()
    model = mlp([2, 8, 2], seed=0)
    history = model.fit(X, D, epochs=3, batch_size=25, verbose=0, optimizer="adam",
                        validation_data=(XV, DV), lr_schedule="step", callbacks=[rec])
    epoch_logs = [(i, logs) for name, i, logs in rec.calls if name == "epoch_end"]
    assert [i for i, _ in epoch_logs] == history.epoch == [1, 2, 3]
    for k, (_, logs) in enumerate(epoch_logs):
        assert logs == {key: values[k] for key, values in history.history.items()}
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}


def test_grads_and_batch_are_the_steps_own_during_batch_end():
    seen = []

    class Check(Callback):
        """Reads the step's batch through the callback API (``self.run.batch``)."""

        def on_train_batch_begin(self, batch, logs=None):
            for key, p in probe.params.items():
                p[...] = self.model.params[key]

        def on_train_batch_end(self, batch, logs=None):
            xb, db = self.run.batch
            seen.append({k: g.copy() for k, g in self.model.grads.items()})
            expected = probe.gradient(xb, db)        # the same weights before this update
            for key, g in expected.items():
                np.testing.assert_allclose(self.model.grads[key], g, rtol=1e-5, atol=1e-7)

    model = mlp([2, 8, 2], seed=0)
    probe = mlp([2, 8, 2], seed=0)
    model.fit(X, D, epochs=1, batch_size=50, verbose=0, optimizer="sgd", callbacks=[Check()])
    assert len(seen) == 3
    assert not hasattr(model, "train_batch")        # nothing parked on the model


def test_a_callback_that_does_nothing_leaves_the_weights_bit_identical():
    plain, watched = mlp([2, 8, 2], seed=0), mlp([2, 8, 2], seed=0)
    h1 = plain.fit(X, D, epochs=3, batch_size=20, verbose=0, optimizer="adam")
    h2 = watched.fit(X, D, epochs=3, batch_size=20, verbose=0, optimizer="adam",
                     callbacks=[Callback(), Recorder(), LambdaCallback()])
    for key in plain.params:
        assert plain.params[key].tobytes() == watched.params[key].tobytes()
    assert h1.history == h2.history


def test_stop_training_stops_after_the_current_batch():
    def stop_at_4(batch, logs):
        if logs["step"] == 4:
            model.stop_training = True

    model = mlp([2, 8, 2], seed=0)
    history = model.fit(X, D, epochs=5, batch_size=50, verbose=0,
                        callbacks=[LambdaCallback(on_train_batch_end=stop_at_4)])
    reference = mlp([2, 8, 2], seed=0)
    reference.fit(X, D, steps=4, batch_size=50, verbose=0)
    for key in model.params:
        assert model.params[key].tobytes() == reference.params[key].tobytes()
    assert history.epoch == [1, 2]              # epoch 2 was cut short: recorded, as Keras
    assert len(history.history["loss"]) == 2
    assert not history.interrupted              # that flag is for Ctrl-C


def test_stop_training_at_an_epoch_end_stops_before_the_next_epoch():
    model = mlp([2, 8, 2], seed=0)
    stop = LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(model, "stop_training",
                                                                  epoch == 2))
    history = model.fit(X, D, epochs=5, batch_size=50, verbose=0, callbacks=[stop])
    assert history.epoch == [1, 2]


class Script(Callback):
    """Replaces the epoch's val_loss by a scripted value (callbacks after it see that)."""

    def __init__(self, values):
        super().__init__()
        self.values = values
        self.weights = {}

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch - 1]
        self.weights[epoch] = {k: p.copy() for k, p in self.model.params.items()}


@pytest.mark.parametrize("patience, best, stopped", [(0, 2, 3), (1, 2, 3), (2, 2, 4),
                                                     (3, 5, 8), (4, 10, 0)])
def test_early_stopping_stops_patience_epochs_after_the_best_and_restores_it(
        patience, best, stopped):
    script = Script([5.0, 3.0, 3.5, 4.0, 2.0, 2.5, 2.2, 2.1, 1.0, 0.5])
    stopper = EarlyStopping(patience=patience, restore_best_weights=True)
    model = mlp([2, 8, 2], seed=0)
    history = model.fit(X, D, epochs=10, batch_size=50, verbose=0,
                        validation_data=(XV, DV), callbacks=[script, stopper])
    assert (stopper.best_epoch, stopper.stopped_epoch) == (best, stopped)
    assert stopper.best == script.values[best - 1]
    assert history.epoch == list(range(1, (stopped or 10) + 1))   # 0: it never stopped
    for key, p in model.params.items():
        assert p.tobytes() == script.weights[best][key].tobytes()


def test_early_stopping_min_delta_mode_and_start_from_epoch():
    # max mode: an improvement must beat the best by more than min_delta
    script = Script([0.5, 0.55, 0.58, 0.7, 0.71, 0.6])
    stopper = EarlyStopping(monitor="val_loss", mode="max", min_delta=0.1, patience=2)
    mlp([2, 8, 2], seed=0).fit(X, D, epochs=6, batch_size=50, verbose=0,
                               validation_data=(XV, DV), callbacks=[script, stopper])
    assert (stopper.best_epoch, stopper.stopped_epoch) == (1, 3)
    # start_from_epoch=3: epochs 1-3 are not watched, whatever their values
    script = Script([0.1, 0.1, 0.1, 5.0, 6.0, 7.0])
    stopper = EarlyStopping(patience=1, start_from_epoch=3)
    mlp([2, 8, 2], seed=0).fit(X, D, epochs=6, batch_size=50, verbose=0,
                               validation_data=(XV, DV), callbacks=[script, stopper])
    assert (stopper.best_epoch, stopper.stopped_epoch) == (4, 5)


def test_early_stopping_on_a_real_run_restores_the_best_val_loss():
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    model = mlp([2, 32, 2], seed=0)
    history = model.fit(X, D, epochs=40, batch_size=5, verbose=0, optimizer="adam",
                        validation_data=(XV, DV), callbacks=[stopper])
    val = history.history["val_loss"]
    assert stopper.best == min(val) == val[stopper.best_epoch - 1]
    assert model.evaluate(XV, DV)["loss"] == stopper.best
    assert len(val) == stopper.stopped_epoch == stopper.best_epoch + 2     # it did stop


def test_a_monitor_not_in_the_logs_names_the_keys_there_are():
    model = mlp([2, 8, 2], seed=0)
    with pytest.raises(ValueError, match=r"\(loss, accuracy, lr\).*validation_data.*'val_loss'"):
        model.fit(X, D, epochs=2, verbose=0, callbacks=[EarlyStopping()])
    with pytest.raises(ValueError, match=r"\(loss, accuracy, lr\); got 'los'"):
        model.fit(X, D, epochs=2, verbose=0,
                  callbacks=[ModelCheckpoint("unused.npz", monitor="los", save_best_only=True)])


def test_model_checkpoint_best_file_evaluates_to_the_best_val_loss(tmp_path):
    best = tmp_path / "best.npz"
    every = tmp_path / "w{epoch:02d}-{val_loss:.4f}.npz"
    model = mlp([2, 16, 2], seed=0)
    history = model.fit(X, D, epochs=8, batch_size=5, verbose=0, optimizer="adam", seed=1,
                        validation_data=(XV, DV),
                        callbacks=[ModelCheckpoint(best, save_best_only=True),
                                   ModelCheckpoint(every)])
    val = history.history["val_loss"]
    assert zerodl.load(best).evaluate(XV, DV)["loss"] == min(val)
    names = sorted(p.name for p in tmp_path.glob("w*.npz"))
    assert names == [f"w{e:02d}-{v:.4f}.npz" for e, v in zip(history.epoch, val)]
    last = zerodl.load(tmp_path / names[-1])
    for key, p in model.params.items():
        assert last.params[key].tobytes() == p.tobytes()
    assert not list(tmp_path.glob(".*.tmp"))             # atomic writes leave no temporaries


def test_model_checkpoint_bad_field_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="filepath must use only the fields epoch, loss"):
        mlp([2, 8, 2], seed=0).fit(X, D, verbose=0,
                                   callbacks=[ModelCheckpoint(tmp_path / "{val_los}.npz")])


@pytest.mark.parametrize("separator", [",", ";"])
def test_csv_logger_rows_equal_history(tmp_path, separator):
    path = tmp_path / "log.csv"
    model = mlp([2, 8, 2], seed=0)
    history = model.fit(X, D, epochs=3, batch_size=25, verbose=0, validation_data=(XV, DV),
                        callbacks=[CSVLogger(path, separator=separator)])
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter=separator))
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert [int(r[0]) for r in rows[1:]] == history.epoch
    for k, row in enumerate(rows[1:]):
        assert [float(v) for v in row[1:]] == [history.history[key][k] for key in rows[0][1:]]
    # append=True continues the same table without a second header
    model.fit(X, D, epochs=2, batch_size=25, verbose=0, validation_data=(XV, DV),
              callbacks=[CSVLogger(path, separator=separator, append=True)])
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter=separator))
    assert len(rows) == 1 + 3 + 2 and rows[4][0] == "1"


def test_csv_logger_keeps_finished_epochs_when_training_fails(tmp_path):
    path = tmp_path / "log.csv"

    def fail(epoch, logs):
        if epoch == 2:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        mlp([2, 8, 2], seed=0).fit(X, D, epochs=3, verbose=0,
                                   callbacks=[CSVLogger(path), LambdaCallback(on_epoch_end=fail)])
    assert path.read_text().count("\n") == 3              # header + epochs 1 and 2


def test_lambda_callback_calls_every_hook():
    calls = []
    hooks = {name: (lambda name: lambda *args: calls.append(name))(name)
             for name in LambdaCallback.HOOKS}
    mlp([2, 8, 2], seed=0).fit(X, D, epochs=1, batch_size=125, verbose=0,
                               callbacks=[LambdaCallback(**hooks)])
    assert calls == ["on_train_begin", "on_epoch_begin", "on_train_batch_begin",
                     "on_train_batch_end", "on_epoch_end", "on_train_end"]
    with pytest.raises(TypeError, match="on_epoch_end must be a function or None; got 3"):
        LambdaCallback(on_epoch_end=3)


@pytest.mark.parametrize("make, match", [
    (lambda: EarlyStopping(patience=-1), "patience must be an integer >= 0; got -1"),
    (lambda: EarlyStopping(mode="best"), "mode must be one of 'auto', 'min', 'max'; got 'best'"),
    (lambda: EarlyStopping(monitor=3), "monitor must be a log key"),
    (lambda: ModelCheckpoint(""), "filepath must be a non-empty path"),
    (lambda: CSVLogger("a.csv", separator=""), "separator must be a non-empty string"),
])
def test_built_in_callbacks_check_their_arguments(make, match):
    with pytest.raises((TypeError, ValueError), match=match):
        make()


def test_ctrl_c_still_ends_training_through_the_hooks(tmp_path, monkeypatch):
    rec = Recorder()
    model = mlp([2, 8, 2], seed=0)
    original, count = model.train_step, [0]

    def step(*args):                  # the 5th step is interrupted before it does anything
        count[0] += 1
        if count[0] == 5:
            raise KeyboardInterrupt
        return original(*args)

    monkeypatch.setattr(model, "train_step", step)
    history = model.fit(X, D, epochs=3, batch_size=50, verbose=0,
                        callbacks=[rec, CSVLogger(tmp_path / "log.csv")])
    assert history.interrupted and history.epoch == [1]
    names = [name for name, _, _ in rec.calls]
    assert names.count("batch_end") == 4 and names[-1] == "train_end"
    assert rec.calls[-1][2] == {k: v[0] for k, v in history.history.items()}
    assert (tmp_path / "log.csv").read_text().count("\n") == 2      # header + epoch 1
