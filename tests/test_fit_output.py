"""What ``fit`` prints (Keras's verbose 0/1/2), ``validation_split`` and ``EarlyStopping``'s
``verbose`` and ``baseline``."""
import re

import numpy as np
import pytest

import zerodl
from zerodl.callbacks import EarlyStopping


def _data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2))
    return x, (x[:, 0] * x[:, 1] > 0).astype(int)


def _model():
    return zerodl.mlp([2, 8, 2], seed=0, dtype=np.float64)


def test_verbose_2_prints_exactly_one_line_per_epoch(capsys):
    x, d = _data()
    _model().fit(x, d, epochs=3, batch_size=50, verbose=2, validation_split=0.25)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert captured.out == ""
    assert len(lines) == 3
    for epoch, line in enumerate(lines, 1):
        assert re.fullmatch(rf"Epoch {epoch}/3 - \d+\.\ds - loss: \d\.\d{{4}} - accuracy: "
                            r"\d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4} - "
                            r"lr: 0\.01", line), line


def test_verbose_0_prints_nothing(capsys):
    x, d = _data()
    _model().fit(x, d, epochs=2, batch_size=50, verbose=0,
                 callbacks=[EarlyStopping(monitor="loss", patience=0, baseline=-1.0)])
    assert capsys.readouterr() == ("", "")


def test_verbose_1_one_bar_per_epoch_that_ends_with_the_epochs_logs(capsys, monkeypatch):
    from zerodl.training import fit_callbacks
    every_batch = fit_callbacks.tqdm       # draw at every batch, not twice a second
    monkeypatch.setattr(fit_callbacks, "tqdm",
                        lambda *a, **k: every_batch(*a, **{**k, "mininterval": 0}))
    x, d = _data()
    history = _model().fit(x, d, epochs=2, batch_size=50, verbose=1, validation_split=0.25)
    err = capsys.readouterr().err
    for epoch in (1, 2):
        loss = history.history["val_loss"][epoch - 1]
        assert re.search(rf"Epoch {epoch}/2: 3/3 .*loss: .* - val_loss: {loss:.4f}", err)
    assert "running mean loss:" in err      # the mid-epoch numbers say what they are


def test_validation_split_is_the_untrained_tail():
    x, d = _data(100)
    split = _model().fit(x, d, epochs=2, batch_size=20, seed=3, verbose=0,
                         validation_split=0.2)
    model = _model()
    held = model.fit(x[:80], d[:80], epochs=2, batch_size=20, seed=3, verbose=0,
                     validation_data=(x[80:], d[80:]))
    assert split.history == held.history
    tail = model.evaluate(x[80:], d[80:])
    assert split.history["val_loss"][-1] == pytest.approx(tail["loss"], rel=1e-12)
    assert split.history["val_accuracy"][-1] == pytest.approx(tail["accuracy"])


@pytest.mark.parametrize("split, message", [
    (1.0, r"validation_split must be a number in \(0.0, 1.0\); got 1.0"),
    (1e-20, "validation_split must leave samples on both sides"),
    ("0.2", "validation_split must be a real number"),
])
def test_validation_split_refuses_bad_values(split, message):
    x, d = _data(100)
    with pytest.raises((ValueError, TypeError), match=message):
        _model().fit(x, d, verbose=0, validation_split=split)


def test_validation_split_and_validation_data_together_are_refused():
    x, d = _data(100)
    with pytest.raises(ValueError, match="validation_split must be 0 when validation_data"):
        _model().fit(x, d, verbose=0, validation_split=0.2, validation_data=(x, d))


def test_early_stopping_verbose_says_where_it_stopped_and_the_best(capsys):
    x, d = _data()
    stop = EarlyStopping(monitor="loss", patience=1, min_delta=10.0, verbose=1)
    history = _model().fit(x, d, epochs=10, batch_size=50, verbose=0, callbacks=[stop])
    err = capsys.readouterr().err
    best = history.history["loss"][0]
    assert history.epoch == [1, 2]
    assert err == (f"Epoch 2: early stopping after 1 epoch(s) in which loss did not beat the "
                   f"best so far; the best loss was {best:.4f} at epoch 1.\n")


def test_a_stop_prints_its_line_after_the_bars(capsys):
    x, d = _data()
    stop = EarlyStopping(monitor="loss", patience=1, min_delta=10.0)
    _model().fit(x, d, epochs=10, batch_size=50, verbose=2, callbacks=[stop])
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3
    assert lines[-1] == ("fit: stopped early after epoch 2 of 10 (step 8 of 40): a callback "
                         "set model.stop_training.")


def test_baseline_stops_a_run_that_never_beats_it():
    x, d = _data()
    # The loss improves each epoch but never reaches 0.01: patience 2 ends it at epoch 2.
    stop = EarlyStopping(monitor="loss", patience=2, baseline=0.01)
    history = _model().fit(x, d, epochs=10, batch_size=50, verbose=0, callbacks=[stop])
    assert history.epoch == [1, 2]
    assert stop.stopped_epoch == 2
    # Beating the baseline resets the patience, as without one.
    free = EarlyStopping(monitor="loss", patience=2, baseline=100.0)
    history = _model().fit(x, d, epochs=5, batch_size=50, verbose=0, callbacks=[free])
    assert free.stopped_epoch == 0 and history.epoch == [1, 2, 3, 4, 5]


def test_early_stopping_checks_baseline_and_verbose():
    with pytest.raises(TypeError, match="baseline must be a real number"):
        EarlyStopping(baseline="low")
    with pytest.raises(ValueError, match="verbose must be"):
        EarlyStopping(verbose=-1)
