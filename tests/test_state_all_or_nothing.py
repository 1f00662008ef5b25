"""Refused before anything changes: resume, optimizers and schedules.

Every failure here must leave the weights, the optimizer's state, the schedule's state, the
generator, the model's History and the files exactly as they were, and say in words what
was wrong and where (the argument, the entry, the file)."""
import copy
import json
import re

import numpy as np
import pytest

from zerodl import mlp
from zerodl.callbacks import Callback
from zerodl.checkpoint import STATE_KEY, read_checkpoint
from zerodl.optimizers import OPTIMIZERS, SGD, Adam, Momentum, Nesterov
from zerodl.schedules import SCHEDULES, CosineAnnealing, ReduceOnPlateau, StepDecay

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 4)).astype(np.float32)
D = RNG.integers(0, 3, 40)
FIT = dict(batch_size=10, verbose=0)          # 4 steps per epoch


def net(seed=1, sizes=(4, 5, 3)):
    return mlp(list(sizes), seed=seed)


# -- snapshots of everything a failure must not touch -----------------------------------------

def optimizer_state(optimizer) -> dict:
    state = optimizer.state_dict()
    return {"config": copy.deepcopy(state["config"]), "t": state["t"],
            "buffers": state["buffers"], "settings": dict(vars(optimizer))}


def same_optimizer_state(a: dict, b: dict) -> bool:
    if a["config"] != b["config"] or a["t"] != b["t"] or a["buffers"].keys() != b["buffers"].keys():
        return False
    for name, table in a["buffers"].items():
        other = b["buffers"][name]
        if table.keys() != other.keys():
            return False
        if not all(np.array_equal(v, other[k]) and v.dtype == other[k].dtype
                   for k, v in table.items()):
            return False
    return True


def snapshot(model, optimizer=None, schedule=None, files=()) -> dict:
    return {"params": {k: p.copy() for k, p in model.params.items()},
            "params_ids": {k: id(p) for k, p in model.params.items()},
            "optimizer": None if optimizer is None else optimizer_state(optimizer),
            "schedule": None if schedule is None else json.dumps(schedule.state_dict()),
            "rng": copy.deepcopy(model.rng.bit_generator.state),
            "history": getattr(model, "history", None),
            "history_content": None if not hasattr(model, "history") else copy.deepcopy(
                {k: getattr(model.history, k) for k in ("history", "epoch", "steps",
                                                        "interrupted")}),
            "files": {str(f): f.read_bytes() for f in files}}


def assert_unchanged(before: dict, model, optimizer=None, schedule=None, files=()) -> None:
    after = snapshot(model, optimizer, schedule, files)
    for key, p in before["params"].items():
        assert np.array_equal(p, after["params"][key]), f"{key} changed"
    assert before["params_ids"] == after["params_ids"]
    if optimizer is not None:
        assert same_optimizer_state(before["optimizer"], after["optimizer"]), "optimizer changed"
    assert before["schedule"] == after["schedule"], "schedule changed"
    assert before["rng"] == after["rng"], "generator changed"
    assert before["history"] is after["history"], "model.history replaced"
    assert before["history_content"] == after["history_content"], "history changed"
    assert before["files"] == after["files"], "a file changed"


# -- a real checkpoint and a model that has state of its own ----------------------------------

@pytest.fixture
def checkpoint(tmp_path):
    """A checkpoint after 2 epochs of Adam with a step schedule (buffers, t, lr all set)."""
    path = tmp_path / "ck.npz"
    net(seed=7).fit(X, D, epochs=2, optimizer=Adam(lr=0.01), lr_schedule=StepDecay(1, 0.5),
                    checkpoint=path, **FIT)
    return path


@pytest.fixture
def trained():
    """A model trained for an epoch with its own Adam and schedule: all of it has state."""
    model, optimizer, schedule = net(), Adam(lr=0.02), StepDecay(1, 0.5)
    model.fit(X, D, epochs=1, optimizer=optimizer, lr_schedule=schedule, **FIT)
    assert optimizer.t == 4 and optimizer.buffers and schedule.epoch == 1
    return model, optimizer, schedule


def edit(src, dst, change) -> None:
    """Rewrite the checkpoint ``src`` as ``dst`` with ``change(header, arrays)`` applied."""
    with np.load(src) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(str(arrays.pop(STATE_KEY)))
    change(header, arrays)
    np.savez(dst, **{STATE_KEY: np.array(json.dumps(header))}, **arrays)


def buffer(header, arrays, name, key):
    return header["optimizer"]["buffers"][name][key]


def set_buffer(value, name="exp_avg", key="W2"):
    def change(header, arrays):
        arrays[buffer(header, arrays, name, key)] = value
    return change


def put(section, *path_and_value):
    *path, value = path_and_value

    def change(header, arrays):
        target = header[section]
        for key in path[:-1]:
            target = target[key]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return change


DELETE = object()

# (id, change to the checkpoint, what the message must say after "PATH ")
REFUSED = [
    ("lr-a-string", put("optimizer", "config", "lr", "0.1"),
     r"is not a valid zerodl checkpoint: its optimizer state is refused: state\['config'\] "
     r"holds a setting that Adam refuses: lr must be a real number; got '0.1'"),
    ("lr-negative", put("optimizer", "config", "lr", -1),
     r"optimizer state is refused: .*lr must be a number in \[0.0, inf\); got -1.0"),
    ("betas-not-a-pair", put("optimizer", "config", "betas", [0.9]),
     r"optimizer state is refused: .*betas must be a pair"),
    ("setting-missing", put("optimizer", "config", "eps", DELETE),
     r"optimizer state is refused: state\['config'\] must have the keys of Adam's settings"),
    ("setting-unknown", put("optimizer", "config", "nesterov", True),
     r"optimizer state is refused: state\['config'\] must have the keys"),
    ("t-negative", put("optimizer", "t", -3),
     r"optimizer state is refused: state\['t'\] must be an integer >= 0; got -3"),
    ("t-a-string", put("optimizer", "t", "8"),
     r"optimizer state is refused: state\['t'\] must be an integer"),
    ("buffer-shape", set_buffer(np.zeros((3, 5), np.float32)),
     r"optimizer state is refused: state\['buffers'\]\['exp_avg_sq'\]\['W2'\] must have "
     r"the shape of the other buffers of 'W2', \(3, 5\); got \(5, 3\)"),
    ("buffers-shape", lambda h, a: (set_buffer(np.zeros((3, 5), np.float32))(h, a),
                                    set_buffer(np.zeros((3, 5), np.float32), "exp_avg_sq")(h, a)),
     r"optimizer state is refused: state\['buffers'\]\['exp_avg'\]\['W2'\] must have the shape "
     r"of the parameter, \(5, 3\); got \(3, 5\)"),
    ("buffer-ints", set_buffer(np.zeros((5, 3), np.int32)),
     r"state\['buffers'\]\['exp_avg'\]\['W2'\] must be a float array; got dtype int32"),
    ("buffer-nan", set_buffer(np.full((5, 3), np.nan, np.float32)),
     r"state\['buffers'\]\['exp_avg'\]\['W2'\] must hold only finite numbers"),
    ("buffer-key-missing", put("optimizer", "buffers", "exp_avg", "b1", DELETE),
     r"state\['buffers'\]\['exp_avg'\] must be keyed like the parameters \(W1, b1, W2, b2\); "
     r"got W1, W2, b2"),
    ("buffer-unknown-array", put("optimizer", "buffers", "exp_avg", "b1", "a99"),
     r"its header names an array 'a99' that it does not hold"),
    ("schedule-missing-state", put("schedule", "state", DELETE),
     r"its learning-rate schedule state is refused: state must be a dict with the keys "
     r"'config' and 'state'"),
    ("schedule-bad-argument", put("schedule", "config", "gamma", 2.0),
     r"schedule state is refused: state\['config'\] holds an argument that StepDecay "
     r"refuses: gamma must be a number in \(0.0, 1.0\]; got 2.0"),
    ("schedule-epoch-a-string", put("schedule", "state", "epoch", "2"),
     r"schedule state is refused: state\['state'\]\['epoch'\] must be an integer >= 0; "
     r"got '2'"),
    ("schedule-unknown-entry", put("schedule", "state", "best", 0.1),
     r"schedule state is refused: state\['state'\] must have the entries of a StepDecay "
     r"\(base_lr, epoch\); got \['base_lr', 'best', 'epoch'\]"),
    ("schedule-base-lr-nan", put("schedule", "state", "base_lr", float("nan")),
     r"state\['state'\]\['base_lr'\] must be a finite number"),
    ("schedule-of-another-kind-unnamed",
     lambda h, a: (h["schedule"].pop("name"), h["schedule"].update(config={"gamma": 0.5})),
     r"state\['config'\] must have the arguments of a StepDecay \(gamma, step_size\); got "
     r"\['gamma'\] \(another schedule's\?\)"),
    ("schedule-written-without", lambda h, a: h.update(schedule=None),
     r"was written by a different training run: it was written without a learning-rate "
     r"schedule; fit got StepDecay"),
    ("rng", put("rng", "state", "state", "not a number"),
     r"its random-generator state does not fit PCG64"),
    ("rng-other-kind", put("rng", "bit_generator", "MT19937"),
     r"its random-generator state does not fit PCG64"),
    ("history-strings", put("history", "history", "loss", ["low", "lower"]),
     r"its history is not a table of lists of numbers"),
    ("history-epochs", put("history", "epoch", [0, 1]),
     r"its history is not a table of lists of numbers"),
    ("progress-batches", put("progress", "batches", 9),
     r"its progress does not add up: 'batches' \(9\) must be below the 4 batches of an epoch"),
    ("progress-seen", lambda h, a: h["progress"].update(batches=2, seen=0, epoch=3, step=10),
     r"its progress does not add up: 'seen' \(0\) must be 'batches' x batch_size = 20"),
    ("progress-step", put("progress", "step", 99),
     r"its progress does not add up: 'step' \(99\) must lie between"),
    ("progress-a-float", put("progress", "epoch", 2.0),
     r"its progress entry 'epoch' must be an integer >= 0; got 2.0"),
    ("weights-shape", lambda h, a: a.update({h["params"]["W1"]: np.zeros((5, 4), np.float32)}),
     r"parameter W1 has shape \(5, 4\) and dtype float32; the architecture needs \(4, 5\)"),
    ("weights-nan", lambda h, a: a.update({h["params"]["b2"]: np.full(3, np.nan, np.float32)}),
     r"parameter b2 holds NaN or infinite values"),
    ("optimizer-class", put("optimizer", "class", "SGD"),
     r"was written by a different training run: it was trained with the optimizer 'SGD'; "
     r"fit got Adam"),
]


@pytest.mark.parametrize("change, message", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refused_resume_changes_nothing(tmp_path, checkpoint, trained, change, message):
    model, optimizer, schedule = trained
    bad = tmp_path / "bad.npz"
    edit(checkpoint, bad, change)
    before = snapshot(model, optimizer, schedule, files=[bad, checkpoint])
    with pytest.raises(ValueError, match=re.escape(str(bad)) + " .*" + message):
        # as zerodl train does: the checkpoint is written where it was read
        model.fit(X, D, epochs=4, optimizer=optimizer, lr_schedule=schedule, resume=bad,
                  checkpoint=bad, **FIT)
    assert_unchanged(before, model, optimizer, schedule, files=[bad, checkpoint])


def test_the_untouched_checkpoint_resumes(checkpoint, trained):
    # the fixture's own checkpoint passes every check above: the refusals are the edits
    model, optimizer, schedule = trained
    model.fit(X, D, epochs=4, optimizer=optimizer, lr_schedule=schedule, resume=checkpoint, **FIT)
    assert optimizer.t == 16 and schedule.epoch == 4 and model.history.epoch == [1, 2, 3, 4]


@pytest.mark.parametrize("resumed_with, message", [
    (lambda: dict(lr_schedule=CosineAnnealing()),
     r"written with the learning-rate schedule 'step'; fit got CosineAnnealing\(.*\) "
     r"\('cosine'\)\. Resume with the same model, optimizer, schedule, data and batch size"),
    (lambda: dict(lr_schedule=None), r"written with the learning-rate schedule 'step'; fit "
                                     r"got none"),
    (lambda: dict(optimizer=SGD(0.1)), r"trained with the optimizer 'Adam'; fit got SGD"),
    (lambda: dict(batch_size=8), r"batch_size=10; this fit has batch_size=8"),
])
def test_resume_of_another_run_changes_nothing(checkpoint, trained, resumed_with, message):
    model, optimizer, schedule = trained
    change = resumed_with()
    given_optimizer = change.pop("optimizer", optimizer)
    given_schedule = change.pop("lr_schedule", schedule)
    before = snapshot(model, given_optimizer, given_schedule, files=[checkpoint])
    with pytest.raises(ValueError, match=re.escape(str(checkpoint)) + " was written by a "
                                         "different training run: .*" + message):
        model.fit(X, D, epochs=4, optimizer=given_optimizer, lr_schedule=given_schedule,
                  resume=checkpoint, **{**FIT, **change})
    assert_unchanged(before, model, given_optimizer, given_schedule, files=[checkpoint])


def test_truncated_checkpoint_changes_nothing(tmp_path, checkpoint, trained):
    model, optimizer, schedule = trained
    bad = tmp_path / "cut.npz"
    data = checkpoint.read_bytes()
    for size in (0, 10, len(data) // 2, len(data) - 1):
        bad.write_bytes(data[:size])
        before = snapshot(model, optimizer, schedule, files=[bad])
        with pytest.raises(ValueError, match=re.escape(str(bad)) + " is not a valid zerodl "
                                                                   "checkpoint"):
            model.fit(X, D, epochs=4, optimizer=optimizer, lr_schedule=schedule, resume=bad,
                      **FIT)
        assert_unchanged(before, model, optimizer, schedule, files=[bad])


def test_resume_through_a_symlink_keeps_the_link_and_the_target(tmp_path, checkpoint, trained):
    model, optimizer, schedule = trained
    bad, link = tmp_path / "bad.npz", tmp_path / "link.npz"
    edit(checkpoint, bad, put("optimizer", "t", -1))
    link.symlink_to(bad)
    before = snapshot(model, optimizer, schedule, files=[bad])
    with pytest.raises(ValueError, match=re.escape(str(link)) + " is not a valid"):
        model.fit(X, D, epochs=4, optimizer=optimizer, lr_schedule=schedule, resume=link, **FIT)
    assert link.is_symlink() and link.resolve() == bad.resolve()
    assert_unchanged(before, model, optimizer, schedule, files=[bad])


@pytest.mark.parametrize("length, message", [
    (dict(epochs=1), r"epochs must count the whole run when resuming, at least the 8 steps "
                     r"\(epoch 2\) that .* has done; got epochs=1 \(4 steps in all\)"),
    (dict(steps=7), r"steps must count the whole run when resuming, at least the 8 steps "
                    r"\(epoch 2\) that .* has done; got steps=7 \(7 steps in all\)"),
])
def test_resume_asking_for_fewer_steps_than_done_changes_nothing(checkpoint, trained, length,
                                                                 message):
    model, optimizer, schedule = trained
    before = snapshot(model, optimizer, schedule, files=[checkpoint])
    with pytest.raises(ValueError, match=message):
        model.fit(X, D, optimizer=optimizer, lr_schedule=schedule, resume=checkpoint,
                  **length, **FIT)
    assert_unchanged(before, model, optimizer, schedule, files=[checkpoint])
    # exactly as far as the checkpoint: it is restored, nothing more trained
    model.fit(X, D, epochs=2, optimizer=optimizer, lr_schedule=schedule, resume=checkpoint,
              **FIT)
    assert optimizer.t == 8 and model.history.epoch == [1, 2]


def test_resume_with_a_callback_that_is_not_one_changes_nothing(checkpoint, trained):
    model, optimizer, schedule = trained
    before = snapshot(model, optimizer, schedule)
    with pytest.raises(TypeError, match=r"callbacks\[1\] must be a zerodl.callbacks.Callback; "
                                        r"got 3"):
        model.fit(X, D, epochs=4, optimizer=optimizer, lr_schedule=schedule, resume=checkpoint,
                  callbacks=[Callback(), 3], **FIT)
    with pytest.raises(TypeError, match=r"callbacks must be a list of zerodl Callbacks; got 3"):
        model.fit(X, D, epochs=4, optimizer=optimizer, resume=checkpoint, callbacks=3, **FIT)
    assert_unchanged(before, model, optimizer, schedule)


def test_callbacks_given_as_a_generator_are_all_called(trained):
    model, optimizer, _ = trained

    class Count(Callback):
        calls = 0

        def on_epoch_end(self, epoch, logs=None):
            Count.calls += 1

    model.fit(X, D, epochs=2, optimizer=optimizer, callbacks=(c for c in [Count()]), **FIT)
    assert Count.calls == 2          # checking the list did not use the generator up


def test_a_checkpoint_cosine_start_that_cannot_run_is_refused_before_the_restore(
        tmp_path, trained):
    # a cosine schedule whose length was never set, tampered so: start() would refuse it
    # only after the weights were restored
    path = tmp_path / "cos.npz"
    net(seed=7).fit(X, D, epochs=2, optimizer=Adam(lr=0.01), checkpoint=path, **FIT,
                    lr_schedule=CosineAnnealing(epochs=6, warmup_epochs=3))
    edit(path, path, put("schedule", "config", "epochs", None))
    model, optimizer, _ = trained
    schedule = CosineAnnealing(warmup_epochs=3)
    before = snapshot(model, optimizer, schedule, files=[path])
    with pytest.raises(ValueError, match=r"warmup_epochs must be < epochs \(3\); got 3"):
        model.fit(X, D, epochs=3, optimizer=optimizer, lr_schedule=schedule, resume=path, **FIT)
    assert_unchanged(before, model, optimizer, schedule, files=[path])


def test_read_checkpoint_changes_nothing_and_apply_restores_everything(checkpoint, trained):
    model, optimizer, schedule = trained
    before = snapshot(model, optimizer, schedule, files=[checkpoint])
    state = read_checkpoint(checkpoint, model, optimizer, model.rng, n_samples=40,
                            batch_size=10, schedule=schedule)
    assert_unchanged(before, model, optimizer, schedule, files=[checkpoint])
    history = type(model.history)()
    progress = state.apply(model, optimizer, model.rng, history, schedule)
    with np.load(checkpoint) as data:
        header = json.loads(str(data[STATE_KEY]))
        for key, name in header["params"].items():
            assert np.array_equal(model.params[key], data[name])
        for name, table in header["optimizer"]["buffers"].items():
            for key, ref in table.items():
                assert np.array_equal(optimizer.buffers[name][key], data[ref])
    assert optimizer.t == header["optimizer"]["t"] == 8
    assert optimizer.get_config() == header["optimizer"]["config"]
    assert model.rng.bit_generator.state == header["rng"]
    assert schedule.state_dict() == {k: v for k, v in header["schedule"].items() if k != "name"}
    assert history.epoch == [1, 2] and progress == header["progress"]


# -- one optimizer, two models ----------------------------------------------------------------

@pytest.mark.parametrize("make", [Momentum, Adam, lambda: OPTIMIZERS.get("adagrad")(),
                                  lambda: OPTIMIZERS.get("rmsprop")(),
                                  lambda: OPTIMIZERS.get("adadelta")()])
@pytest.mark.parametrize("sizes", [(4, 5, 3), (4, 5, 2), (4, 7, 3)],
                         ids=["same-shapes", "W1-b1-same-W2-differs", "all-differ"])
def test_an_optimizer_with_state_refuses_another_models_arrays(make, sizes):
    first, optimizer = net(), make()
    first.fit(X, D, epochs=1, optimizer=optimizer, **FIT)
    second = net(seed=2, sizes=sizes)
    d = D % sizes[-1]
    before = snapshot(second, optimizer)
    message = (r"optimizer .* holds state \(.*\) for the parameter arrays it updated before, "
               r"and these are other arrays \(another model's\?\); its buffers must not move "
               r"another model. Give each model its own optimizer")
    with pytest.raises(ValueError, match=message):
        second.fit(X, d, epochs=1, optimizer=optimizer, **FIT)
    assert_unchanged(before, second, optimizer)
    # the direct call, as the course writes it: refused before the first array moves
    second.gradient(X[:5], d[:5])
    before = snapshot(second, optimizer)
    with pytest.raises(ValueError, match=message):
        optimizer.update(second.params, second.grads)
    assert_unchanged(before, second, optimizer)
    # the first model still trains with it, exactly as with an untouched copy
    twin, twin_optimizer = copy.deepcopy(first), copy.deepcopy(optimizer)
    first.fit(X, D, epochs=1, optimizer=optimizer, seed=3, **FIT)
    twin.fit(X, D, epochs=1, optimizer=twin_optimizer, seed=3, **FIT)
    for key in first.params:
        assert np.array_equal(first.params[key], twin.params[key])


def test_plain_sgd_without_state_may_serve_several_models_as_in_the_course():
    a, b = net(), net(seed=2, sizes=(4, 6, 3))
    shared = SGD(lr=0.1)
    a.fit(X, D, epochs=1, optimizer=shared, seed=0, **FIT)
    b.fit(X, D, epochs=1, optimizer=shared, seed=0, **FIT)
    alone = net(seed=2, sizes=(4, 6, 3))
    alone.fit(X, D, epochs=1, optimizer=SGD(lr=0.1), seed=0, **FIT)
    for key in b.params:
        assert np.array_equal(b.params[key], alone.params[key])


def test_loaded_state_goes_to_arrays_of_its_shapes_only():
    source, optimizer = net(), Adam()
    source.fit(X, D, epochs=1, optimizer=optimizer, **FIT)
    state = optimizer.state_dict()
    other = net(seed=2, sizes=(4, 5, 2))
    fresh = Adam()
    fresh.load_state_dict(state)
    other.gradient(X[:5], D[:5] % 2)
    before = snapshot(other, fresh)
    with pytest.raises(ValueError, match=r"optimizer.buffers\['exp_avg'\]\['W2'\] must have the "
                                         r"shape of the parameter, \(5, 2\); got \(5, 3\)"):
        fresh.update(other.params, other.grads)
    assert_unchanged(before, other, fresh)
    # a model of the same shapes takes the state (resuming from a state dict)
    same = net(seed=4)
    same.fit(X, D, epochs=1, optimizer=fresh, **FIT)
    assert fresh.t == 8


@pytest.mark.parametrize("grads, message", [
    (lambda g: {k: v for k, v in g.items() if k != "b2"},
     r"grads must hold a gradient for every parameter; 'b2' is missing"),
    (lambda g: {**g, "W2": g["W2"].T}, r"grads\['W2'\] must have the shape of params\['W2'\], "
                                       r"\(5, 3\); got an array of shape \(3, 5\)"),
    (lambda g: {**g, "b1": [0.0] * 5}, r"grads\['b1'\] must be an array of real numbers shaped "
                                       r"like params\['b1'\], \(5,\); got \[0.0, 0.0, 0.0, 0.0, "
                                       r"0.0\]"),
    (lambda g: {**g, "W2": g["W2"] * 1j}, r"grads\['W2'\] must be an array of real numbers "
                                          r"shaped like params\['W2'\], \(5, 3\); got an array "
                                          r"of shape \(5, 3\) and dtype complex"),
    (lambda g: list(g.values()), r"grads must be a dict keyed like params"),
])
def test_update_with_bad_gradients_changes_nothing(grads, message):
    model, optimizer = net(), Adam()
    model.fit(X, D, epochs=1, optimizer=optimizer, **FIT)
    model.gradient(X[:5], D[:5])
    bad = grads({k: g.copy() for k, g in model.grads.items()})
    before = snapshot(model, optimizer)
    with pytest.raises((TypeError, ValueError), match=message):
        optimizer.update(model.params, bad)
    assert_unchanged(before, model, optimizer)


@pytest.mark.parametrize("params, message", [
    ({"W1": np.zeros((2, 2), np.int64)}, r"params\['W1'\] must be a float array; got an array "
                                         r"of shape \(2, 2\) and dtype int64"),
    ({"W1": [[0.0]]}, r"params\['W1'\] must be a float array; got \[\[0.0\]\]"),
    ({}, r"params must be a non-empty dict"),
])
def test_update_with_bad_parameters_changes_nothing(params, message):
    optimizer = Adam()
    with pytest.raises((TypeError, ValueError), match=message):
        optimizer.update(params, {k: np.zeros((2, 2)) for k in params})
    assert optimizer.t == 0 and optimizer.buffers == {}


# -- load_state_dict --------------------------------------------------------------------------

def _adam_state():
    model, optimizer = net(), Adam(lr=0.01)
    model.fit(X, D, epochs=1, optimizer=optimizer, **FIT)
    return model, optimizer


LOAD_REFUSED = [
    (lambda s: {"config": s["config"]}, ValueError,
     r"state must be a dict with the keys 'buffers', 'config' and 't' \(what state_dict "
     r"returns\); got \['config'\]"),
    (lambda s: [s], ValueError, r"state must be a dict with the keys .*; got 'list'"),
    (lambda s: {**s, "config": {"lr": 1}}, ValueError,
     r"state\['config'\] must have the keys of Adam's settings \(amsgrad, betas, "
     r"decoupled_weight_decay, eps, lr, weight_decay\); got \['lr'\]"),
    (lambda s: {**s, "config": {**s["config"], "lr": "fast"}}, TypeError,
     r"state\['config'\] holds a setting that Adam refuses: lr must be a real number; got "
     r"'fast'"),
    (lambda s: {**s, "config": {**s["config"], "amsgrad": 1}}, TypeError,
     r"amsgrad must be a bool \(True or False\); got 1"),
    (lambda s: {**s, "t": 1.5}, TypeError, r"state\['t'\] must be an integer >= 0; got 1.5"),
    (lambda s: {**s, "t": -1}, ValueError, r"state\['t'\] must be an integer >= 0; got -1"),
    (lambda s: {**s, "buffers": [1]}, TypeError, r"state\['buffers'\] must be a dict"),
    (lambda s: {**s, "buffers": {"exp_avg": [1, 2]}}, TypeError,
     r"state\['buffers'\]\['exp_avg'\] must be a dict of parameter name -> array"),
    (lambda s: {**s, "buffers": {**s["buffers"], "exp_avg": {**s["buffers"]["exp_avg"],
                                                             "W1": np.array(["a"])}}},
     ValueError, r"state\['buffers'\]\['exp_avg'\]\['W1'\] must be a float array; got dtype "
                 r"<U1"),
    (lambda s: {**s, "buffers": {**s["buffers"], "exp_avg": {**s["buffers"]["exp_avg"],
                                                             "W1": [[1.0], [2.0, 3.0]]}}},
     ValueError, r"state\['buffers'\]\['exp_avg'\]\['W1'\] must be a float array"),
    (lambda s: {**s, "buffers": {**s["buffers"], "exp_avg_sq": {**s["buffers"]["exp_avg_sq"],
                                                                "b2": np.full(3, np.inf)}}},
     ValueError, r"state\['buffers'\]\['exp_avg_sq'\]\['b2'\] must hold only finite numbers"),
    (lambda s: {**s, "buffers": {**s["buffers"], "exp_avg_sq": {**s["buffers"]["exp_avg_sq"],
                                                                "b2": -np.ones(3, np.float32)}}},
     ValueError, r"state\['buffers'\]\['exp_avg_sq'\]\['b2'\] must hold values >= 0 \(it sums "
                 r"squares\); got -1.0"),
    (lambda s: {**s, "buffers": {**s["buffers"], "exp_avg_sq": {**s["buffers"]["exp_avg_sq"],
                                                                "b2": np.zeros(4)}}},
     ValueError, r"state\['buffers'\]\['exp_avg_sq'\]\['b2'\] must have the shape of the other "
                 r"buffers of 'b2', \(3,\); got \(4,\)"),
]


@pytest.mark.parametrize("corrupt, error, message", LOAD_REFUSED)
def test_refused_load_state_dict_changes_nothing(corrupt, error, message):
    model, optimizer = _adam_state()
    before = snapshot(model, optimizer)
    with pytest.raises(error, match=message):
        optimizer.load_state_dict(corrupt(optimizer.state_dict()))
    assert_unchanged(before, model, optimizer)
    # still tied to its model: training goes on as with an untouched copy
    twin, twin_optimizer = copy.deepcopy(model), copy.deepcopy(optimizer)
    model.fit(X, D, epochs=1, optimizer=optimizer, seed=5, **FIT)
    twin.fit(X, D, epochs=1, optimizer=twin_optimizer, seed=5, **FIT)
    assert all(np.array_equal(model.params[k], twin.params[k]) for k in model.params)


def test_load_state_dict_of_another_optimizer_changes_nothing():
    model, optimizer = _adam_state()
    before = snapshot(model, optimizer)
    with pytest.raises(ValueError, match=r"state\['config'\] must have the keys of Adam's "
                                         r"settings"):
        optimizer.load_state_dict(SGD(momentum=0.9).state_dict())
    assert_unchanged(before, model, optimizer)


# -- settings checked at the assignment -------------------------------------------------------

BAD_VALUES = ["0.1", float("nan"), float("inf"), -1.0, [0.1], None]


def _settings():
    for name in OPTIMIZERS.names():
        for key, value in OPTIMIZERS.get(name)().get_config().items():
            yield name, key, value


@pytest.mark.parametrize("name, key, good", list(_settings()))
def test_every_setting_is_checked_when_assigned(name, key, good):
    optimizer = OPTIMIZERS.get(name)()
    kept = getattr(optimizer, key)
    for bad in BAD_VALUES:
        with pytest.raises((TypeError, ValueError), match=rf"^({key}|nesterov=True)\b"):
            setattr(optimizer, key, bad)
        assert getattr(optimizer, key) == kept
    setattr(optimizer, key, good)        # the default itself is accepted again
    assert getattr(optimizer, key) == (tuple(good) if key == "betas" else good)


def test_lr_as_a_string_fails_at_the_assignment_before_any_weight_moves():
    model, optimizer = net(), SGD(lr=0.1)
    with pytest.raises(TypeError, match=r"lr must be a real number; got '0.1'"):
        optimizer.lr = "0.1"
    with pytest.raises(ValueError, match=r"lr must be a finite number in \[0.0, inf\); got nan"):
        optimizer.lr = float("nan")
    with pytest.raises(ValueError, match=r"lr must be a number in \[0.0, inf\); got -1.0"):
        optimizer.lr = -1
    with pytest.raises(TypeError, match=r"lr must be a real number; got \[0.1\]"):
        optimizer.lr = [0.1]
    assert optimizer.lr == 0.1
    optimizer.lr = np.float32(0.5)               # a NumPy number is a number
    assert optimizer.lr == 0.5 and type(optimizer.lr) is float
    before = snapshot(model, optimizer)
    optimizer.lr = 0                             # lr 0: a step that moves nothing
    model.fit(X, D, steps=2, optimizer=optimizer, **FIT)
    assert all(np.array_equal(before["params"][k], p) for k, p in model.params.items())


def test_nesterov_rule_is_kept_on_assignment():
    optimizer = Nesterov()
    with pytest.raises(ValueError, match=r"nesterov=True needs momentum > 0 and dampening = 0; "
                                         r"got momentum=0.0, dampening=0.0"):
        optimizer.momentum = 0
    with pytest.raises(ValueError, match=r"got momentum=0.9, dampening=0.5"):
        optimizer.dampening = 0.5
    assert (optimizer.momentum, optimizer.dampening, optimizer.nesterov) == (0.9, 0.0, True)
    plain = SGD()
    with pytest.raises(ValueError, match=r"nesterov=True needs momentum > 0"):
        plain.nesterov = True
    assert plain.nesterov is False


# -- schedules --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SCHEDULES.names())
def test_refused_schedule_state_changes_nothing(name):
    schedule = SCHEDULES.get(name)(**({"epochs": 5} if name == "cosine" else {}))
    optimizer = SGD(lr=0.4)
    schedule.start(optimizer, 5)
    schedule.step(optimizer, 1.0)
    kept = json.dumps(schedule.state_dict())
    good = schedule.state_dict()
    others = [SCHEDULES.get(n)().state_dict() for n in SCHEDULES.names() if n != name]
    corrupt = [{"config": good["config"]}, {**good, "state": {**good["state"], "epoch": -1}},
               {**good, "state": {**good["state"], "epoch": True}},
               {**good, "state": {**good["state"], "base_lr": "x"}},
               {**good, "state": {k: v for k, v in good["state"].items() if k != "epoch"}},
               {**good, "config": {**good["config"], "surprise": 1}}, None, *others]
    for state in corrupt:
        with pytest.raises((TypeError, ValueError), match=r"^state"):
            schedule.load_state_dict(state)
        assert json.dumps(schedule.state_dict()) == kept


def test_plateau_state_entries_are_checked():
    schedule = ReduceOnPlateau()
    good = schedule.state_dict()
    with pytest.raises(ValueError, match=r"state\['state'\]\['best'\] must be a finite number"):
        schedule.load_state_dict({**good, "state": {**good["state"], "best": float("inf")}})
    with pytest.raises(TypeError, match=r"state\['state'\]\['num_bad_epochs'\] must be an "
                                        r"integer"):
        schedule.load_state_dict({**good, "state": {**good["state"], "num_bad_epochs": 0.5}})
    assert schedule.state_dict() == good


def test_a_cosine_schedule_that_cannot_start_is_refused_before_anything_changes(trained):
    model, optimizer, _ = trained
    schedule = CosineAnnealing(warmup_epochs=5)
    before = snapshot(model, optimizer, schedule)
    with pytest.raises(ValueError, match=r"warmup_epochs must be < epochs \(3\); got 5"):
        model.fit(X, D, epochs=3, optimizer=optimizer, lr_schedule=schedule, **FIT)
    assert_unchanged(before, model, optimizer, schedule)
    assert optimizer.lr == before["optimizer"]["config"]["lr"]


def test_a_schedule_step_before_start_changes_nothing():
    schedule, optimizer = StepDecay(1, 0.5), SGD(lr=0.3)
    with pytest.raises(ValueError, match=r"StepDecay.start\(optimizer\) must be called before "
                                         r"step\(\)"):
        schedule.step(optimizer)
    assert schedule.epoch == 0 and optimizer.lr == 0.3
    plateau = ReduceOnPlateau()
    with pytest.raises(TypeError, match=r"metric must be a real number, the monitored loss; "
                                        r"got 'low'"):
        plateau.step(optimizer, "low")
    assert plateau.state_dict() == ReduceOnPlateau().state_dict()
