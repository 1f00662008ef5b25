"""Logs written whole: CSVLogger keeps the old log until it has a row to write, closes its
file whatever happens, and appends only rows of the same columns on lines of their own."""
import os

import numpy as np
import pytest

from zerodl import mlp
from zerodl.callbacks import Callback, CSVLogger, LambdaCallback, ModelCheckpoint

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 4)).astype(np.float32)
D = RNG.integers(0, 3, 40)
FIT = dict(batch_size=10, verbose=0)


def open_on(path) -> bool:
    """Whether this process holds a file descriptor open on ``path``."""
    real = os.path.realpath(path)
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == real:
                return True
        except OSError:
            pass
    return False


def test_a_run_failing_before_its_first_epoch_ends_keeps_the_old_log(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("epoch,loss,accuracy,lr\n1,0.5,0.5,0.01\n")

    def boom(batch, logs):
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError):
        mlp([4, 5, 3], seed=1).fit(X, D, epochs=2, **FIT, callbacks=[
            CSVLogger(log), LambdaCallback(on_train_batch_end=boom)])
    assert log.read_text() == "epoch,loss,accuracy,lr\n1,0.5,0.5,0.01\n"
    assert not open_on(log)


def test_the_file_is_closed_after_an_exception_mid_run(tmp_path):
    log = tmp_path / "log.csv"

    def boom(epoch, logs):
        if epoch == 2:
            raise RuntimeError("boom")
    with pytest.raises(RuntimeError):
        mlp([4, 5, 3], seed=1).fit(X, D, epochs=3, **FIT, callbacks=[
            CSVLogger(log), LambdaCallback(on_epoch_end=boom)])
    assert not open_on(log)
    assert log.read_text().count("\n") == 3       # header and epochs 1 and 2


def test_append_ends_a_torn_last_line_first(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("epoch,loss,accuracy,lr\n1,0.5,0.5,0.01\n2,0.4")
    mlp([4, 5, 3], seed=1).fit(X, D, epochs=1, **FIT, callbacks=[CSVLogger(log, append=True)])
    lines = log.read_text().splitlines()
    assert lines[:3] == ["epoch,loss,accuracy,lr", "1,0.5,0.5,0.01", "2,0.4"]
    assert lines[3].startswith("1,") and len(lines[3].split(",")) == 4


def test_append_with_other_columns_is_refused_before_training(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("epoch,loss,lr\n1,0.5,0.01\n")
    model = mlp([4, 5, 3], seed=1)
    before = {k: p.copy() for k, p in model.params.items()}
    with pytest.raises(ValueError, match=r"filename must hold a log with this run's columns "
                                         r"\(epoch,loss,accuracy,lr\) to append to; got "
                                         r"'.*log.csv' with the columns epoch,loss,lr"):
        model.fit(X, D, epochs=1, **FIT, callbacks=[CSVLogger(log, append=True)])
    assert log.read_text() == "epoch,loss,lr\n1,0.5,0.01\n"
    assert all(np.array_equal(p, before[k]) for k, p in model.params.items())


def test_a_fresh_log_has_one_header_and_a_row_per_epoch(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("old\n")
    mlp([4, 5, 3], seed=1).fit(X, D, epochs=2, **FIT, callbacks=[CSVLogger(log)])
    lines = log.read_text().splitlines()
    assert lines[0] == "epoch,loss,accuracy,lr" and len(lines) == 3


# -- no output may replace an input or another output --------------------------------------

@pytest.mark.parametrize("make, name", [(lambda p: CSVLogger(p), "filename"),
                                        (lambda p: ModelCheckpoint(p), "filepath")])
@pytest.mark.parametrize("against", ["checkpoint", "resume"])
def test_a_callback_writing_over_the_checkpoint_is_refused_before_anything(tmp_path, make, name,
                                                                           against):
    ck = tmp_path / "ck.npz"
    mlp([4, 5, 3], seed=1).fit(X, D, epochs=1, **FIT, checkpoint=ck)
    before = ck.read_bytes()
    model = mlp([4, 5, 3], seed=1)
    params = {k: p.copy() for k, p in model.params.items()}
    with pytest.raises(ValueError, match=rf"callbacks\[0\]'s {name} must name another file "
                                         rf"than {against}; got '.*ck.npz' for both"):
        model.fit(X, D, epochs=2, **FIT, callbacks=[make(ck)], **{against: ck})
    assert ck.read_bytes() == before
    assert all(np.array_equal(p, params[k]) for k, p in model.params.items())


def test_two_callbacks_writing_one_file_are_refused(tmp_path):
    same = tmp_path / "same"
    with pytest.raises(ValueError, match=r"callbacks\[1\]'s filepath must name another file "
                                         r"than callbacks\[0\]'s filename"):
        mlp([4, 5, 3], seed=1).fit(X, D, epochs=1, **FIT,
                                   callbacks=[CSVLogger(same), ModelCheckpoint(same)])
    assert not same.exists()


def test_train_interrupted_before_any_curve_point_does_not_claim_the_curves(tmp_path, capsys,
                                                                            monkeypatch):
    from zerodl import History, cli
    from zerodl.training.recipe import RunConfig

    def interrupted_at_once(self, model, optimizer, **kwargs):
        history = History()
        history.interrupted, history.signal = True, "SIGTERM"
        return history
    monkeypatch.setattr(RunConfig, "fit", interrupted_at_once)
    plot = tmp_path / "curves.png"
    assert cli.main(["train", "--dataset", "moons", "--iters", "5", "--quiet",
                     "--plot", str(plot)]) == 143
    err = capsys.readouterr().err
    assert "the curves" not in err and "nothing was written" in err
    assert not plot.exists()


@pytest.mark.parametrize("signal_name, status", [("SIGTERM", 143), ("SIGINT", 130)])
def test_show_interrupted_while_training_exits_as_train_does_and_draws_nothing(
        tmp_path, capsys, monkeypatch, signal_name, status):
    from zerodl import History, cli
    from zerodl.training.recipe import RunConfig

    def interrupted_at_once(self, model, optimizer, **kwargs):
        history = History()
        history.interrupted, history.signal = True, signal_name
        return history
    monkeypatch.setattr(RunConfig, "fit", interrupted_at_once)
    out = tmp_path / "w.png"
    assert cli.main(["show", "weights", "--dataset", "xor", "--out", str(out)]) == status
    assert not out.exists()


def test_append_to_a_file_that_is_not_a_log_is_refused_in_words(tmp_path):
    log = tmp_path / "log.csv"
    log.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(ValueError, match=r"filename must hold a log with this run's columns"):
        mlp([4, 5, 3], seed=1).fit(X, D, epochs=1, **FIT, callbacks=[CSVLogger(log, append=True)])
    assert log.read_bytes() == b"\x89PNG\r\n\x1a\n\xff\xfe"
