"""Callbacks checked before the first step; a callback that fails at the start of training
leaves the weights, the optimizer's state, the schedule, the generator, the History and the
files exactly as they were (hardening round three)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from zerodl import LayerStats
from zerodl.callbacks import (Callback, CSVLogger, EarlyStopping, LambdaCallback,
                              ModelCheckpoint)
from zerodl.optimizers import Adam
from zerodl.schedules import StepDecay
from test_state_all_or_nothing import FIT, D, X, assert_unchanged, net, snapshot


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "ck.npz"
    net(seed=7).fit(X, D, epochs=2, optimizer=Adam(lr=0.01), lr_schedule=StepDecay(1, 0.5),
                    checkpoint=path, **FIT)
    return path


@pytest.fixture
def trained():
    model, optimizer, schedule = net(), Adam(lr=0.02), StepDecay(1, 0.5)
    model.fit(X, D, epochs=1, optimizer=optimizer, lr_schedule=schedule, **FIT)
    return model, optimizer, schedule


def fit_refused(trained, checkpoint, callbacks, match, exc=ValueError):
    model, optimizer, schedule = trained
    before = snapshot(model, optimizer, schedule, [checkpoint])
    with pytest.raises(exc, match=match):
        model.fit(X, D, epochs=4, optimizer=optimizer, lr_schedule=schedule,
                  resume=checkpoint, callbacks=callbacks, **FIT)
    assert_unchanged(before, model, optimizer, schedule, [checkpoint])


def test_layer_stats_of_the_wrong_width_refuses_before_the_resume(trained, checkpoint):
    fit_refused(trained, checkpoint, [LayerStats(x=np.zeros((3, 7), np.float32))],
                "LayerStats x")


class Fails(Callback):
    def __init__(self, where):
        super().__init__()
        self.where = where

    def set_model(self, model):
        super().set_model(model)
        if self.where == "set_model":
            raise RuntimeError("refused in set_model")

    def set_run(self, run):
        super().set_run(run)
        if self.where == "set_run":
            raise RuntimeError("refused in set_run")

    def on_train_begin(self, logs=None):
        if self.where == "on_train_begin":
            raise RuntimeError("refused in on_train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        if self.where == "on_epoch_begin":
            raise RuntimeError("refused in on_epoch_begin")

    def on_train_batch_begin(self, batch, logs=None):
        if self.where == "on_train_batch_begin":
            raise RuntimeError("refused in on_train_batch_begin")


#: Every hook that runs before the first update.
START_HOOKS = ["set_model", "set_run", "on_train_begin", "on_epoch_begin",
               "on_train_batch_begin"]


@given(where=st.sampled_from(START_HOOKS),
       position=st.integers(0, 2))
@settings(max_examples=20, deadline=None)
def test_every_start_hook_raising_leaves_everything_as_it_was(tmp_path_factory, where,
                                                             position):
    """Property: whichever hook raises before the first update, wherever the callback stands
    in the list, fit refuses and nothing it would have restored or started has changed."""
    folder = tmp_path_factory.mktemp("run")
    path = folder / "ck.npz"
    net(seed=7).fit(X, D, epochs=2, optimizer=Adam(lr=0.01), lr_schedule=StepDecay(1, 0.5),
                    checkpoint=path, **FIT)
    model, optimizer, schedule = net(), Adam(lr=0.02), StepDecay(1, 0.5)
    model.fit(X, D, epochs=1, optimizer=optimizer, lr_schedule=schedule, **FIT)
    log = folder / "log.csv"
    log.write_text("epoch,loss\n1,0.5\n")
    others = [CSVLogger(log), LambdaCallback(on_epoch_end=lambda e, logs: None)]
    callbacks = others[:position] + [Fails(where)] + others[position:]
    fit_refused((model, optimizer, schedule), path, callbacks, f"refused in {where}",
                RuntimeError)
    assert log.read_text() == "epoch,loss\n1,0.5\n"


def test_a_failing_on_train_begin_without_resume_leaves_the_schedule_and_lr(trained):
    model, optimizer, schedule = trained
    before = snapshot(model, optimizer, schedule)
    lr = optimizer.lr
    with pytest.raises(RuntimeError):
        model.fit(X, D, epochs=3, optimizer=optimizer, lr_schedule=schedule,
                  callbacks=[Fails("on_train_begin")], **FIT)
    assert_unchanged(before, model, optimizer, schedule)
    assert optimizer.lr == lr


# -- mistakes knowable before training: refused before the first step ----------------------

def no_step(model, **kwargs):
    """fit with a callback that fails the test if any step runs."""
    def stepped(batch, logs):
        raise AssertionError("a step ran before the refusal")
    kwargs["callbacks"] = [*kwargs.get("callbacks", []),
                           LambdaCallback(on_train_batch_begin=stepped)]
    model.fit(X, D, epochs=2, **FIT, **kwargs)


@pytest.mark.parametrize("monitor, validation, match", [
    ("val_los", True, r"EarlyStopping monitor must be one of the epoch's log keys \(loss, "
                      r"accuracy, val_loss, val_accuracy, lr\); got 'val_los'"),
    ("val_loss", False, r"monitor .*val_\* keys need fit\(validation_data=...\).*'val_loss'"),
    ("acuracy", False, r"got 'acuracy'"),
])
def test_early_stopping_monitor_unknown_is_refused_before_the_first_step(monitor, validation,
                                                                         match):
    model = net()
    before = snapshot(model)
    with pytest.raises(ValueError, match=match):
        no_step(model, callbacks=[EarlyStopping(monitor=monitor)],
                validation_data=(X, D) if validation else None)
    assert_unchanged(before, model)


def test_model_checkpoint_monitor_unknown_with_save_best_only(tmp_path):
    with pytest.raises(ValueError, match=r"ModelCheckpoint monitor .*got 'val_loss'"):
        no_step(net(), callbacks=[ModelCheckpoint(tmp_path / "m.npz", save_best_only=True)])


@pytest.mark.parametrize("template, match", [
    ("w{0}.npz", r"filepath must name its fields .*; got '.*w\{0\}.npz'"),
    ("w{}.npz", r"filepath must name its fields"),
    ("w{epoch.npz", r"filepath must be a valid format string .*w\{epoch.npz'"),
    ("w}{epoch}.npz", r"filepath must be a valid format string"),
])
def test_model_checkpoint_template_syntax_refused_when_made(tmp_path, template, match):
    with pytest.raises(ValueError, match=match):
        ModelCheckpoint(tmp_path / template)


@pytest.mark.parametrize("template, match", [
    ("w{nonexistent}.npz", r"filepath must use only the fields epoch, loss, accuracy, lr; "
                           r"got '.*w\{nonexistent\}.npz' \(no field 'nonexistent'\)"),
    ("w{epoch:s}.npz",
     r"filepath must format each field as its value allows .*w\{epoch:s\}.npz"),
    ("w{val_loss:.3f}.npz", r"no field 'val_loss'"),
])
def test_model_checkpoint_template_fields_refused_before_the_first_step(tmp_path, template,
                                                                       match):
    with pytest.raises(ValueError, match=match):
        no_step(net(), callbacks=[ModelCheckpoint(tmp_path / template)])
    assert list(tmp_path.iterdir()) == []


def test_a_template_the_logs_fill_is_accepted(tmp_path):
    net().fit(X, D, epochs=2, validation_data=(X, D), **FIT,
              callbacks=[ModelCheckpoint(tmp_path / "w{epoch:02d}-{val_loss:.3f}.npz")])
    assert len(list(tmp_path.iterdir())) == 2


@pytest.mark.parametrize("hook, fn, match", [
    ("on_epoch_end", lambda logs: None, r"on_epoch_end must take \(epoch, logs\)"),
    ("on_train_begin", lambda epoch, logs: None, r"on_train_begin must take \(logs\)"),
    ("on_train_batch_end", lambda: None, r"on_train_batch_end must take \(batch, logs\)"),
])
def test_lambda_hooks_of_the_wrong_arity_are_refused_when_made(hook, fn, match):
    with pytest.raises(TypeError, match=match):
        LambdaCallback(**{hook: fn})


def test_a_subclass_hook_of_the_wrong_arity_is_refused_before_the_first_step():
    class Wrong(Callback):
        def on_epoch_end(self, logs):       # forgot epoch
            pass
    model = net()
    before = snapshot(model)
    with pytest.raises(TypeError, match=r"callbacks\[0\].on_epoch_end must take "
                                        r"\(epoch, logs\); got .*\(logs\)"):
        no_step(model, callbacks=[Wrong()])
    assert_unchanged(before, model)


def test_hooks_with_defaults_and_varargs_are_accepted():
    calls = []
    LambdaCallback(on_epoch_end=lambda *a: calls.append(a),
                   on_train_begin=lambda logs=None, extra=1: None)
    net().fit(X, D, epochs=1, **FIT, callbacks=[
        LambdaCallback(on_epoch_end=lambda *a: calls.append(a)), LambdaCallback(print)])
    assert len(calls) == 1


@pytest.mark.parametrize("at_epoch", [1, 2])
def test_a_signal_before_an_epoch_s_first_batch_ends_fit_cleanly(at_epoch):
    """Ctrl-C between the start of an epoch and its first batch: that epoch never ran, so
    it is not recorded (it was a ZeroDivisionError in the epoch's mean loss)."""
    import os
    import signal

    def interrupt(epoch, logs):
        if epoch == at_epoch:
            os.kill(os.getpid(), signal.SIGINT)
    model = net()
    history = model.fit(X, D, epochs=3, **FIT,
                        callbacks=[LambdaCallback(on_epoch_begin=interrupt)])
    assert history.interrupted and history.epoch == list(range(1, at_epoch))
    assert history.n_steps == 4 * (at_epoch - 1)
