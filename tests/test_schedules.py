"""Learning-rate schedules against torch.optim.lr_scheduler and by hand; fit with schedules
and gradient clipping."""
import json
import math
import warnings

import numpy as np
import pytest

from zerodl import mlp
from zerodl.optimizers import SGD, Adam
from zerodl.schedules import (SCHEDULES, CosineAnnealing, ExponentialDecay, ReduceOnPlateau,
                              StepDecay, get_schedule, schedule_from_options)


def _drive(schedule, lr, epochs, metrics=None):
    """The learning rates of ``epochs`` epochs, driven the way fit drives a schedule."""
    optimizer = SGD(lr=lr)
    schedule.start(optimizer, epochs)
    rates = []
    for e in range(epochs):
        rates.append(optimizer.lr)
        schedule.step(optimizer, None if metrics is None else metrics[e])
    return rates


def _torch_rates(make, lr, epochs, metrics=None):
    torch = pytest.importorskip("torch")
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make(torch.optim.lr_scheduler, optimizer)
    rates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # "step() before optimizer.step()" and the like
        for e in range(epochs):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step() if metrics is None else scheduler.step(metrics[e])
    return rates


def test_registry_names():
    assert set(SCHEDULES.names()) == {"step", "exponential", "cosine", "plateau"}
    for name, cls in SCHEDULES.items():
        assert cls.name == name and get_schedule(name).name == name


def test_step_decay_by_hand_and_against_torch():
    rates = _drive(StepDecay(step_size=3, gamma=0.5), 0.8, 10)
    assert rates == [0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.2, 0.2, 0.1]
    expected = _torch_rates(lambda s, o: s.StepLR(o, step_size=3, gamma=0.5), 0.8, 10)
    np.testing.assert_allclose(rates, expected, rtol=1e-15)


def test_exponential_decay_against_torch():
    rates = _drive(ExponentialDecay(gamma=0.9), 0.1, 12)
    assert rates[:3] == pytest.approx([0.1, 0.09, 0.081], rel=1e-15)
    expected = _torch_rates(lambda s, o: s.ExponentialLR(o, gamma=0.9), 0.1, 12)
    np.testing.assert_allclose(rates, expected, rtol=1e-13)


def test_cosine_against_torch():
    rates = _drive(CosineAnnealing(epochs=10, eta_min=0.01), 0.5, 10)
    assert rates[0] == 0.5 and rates[5] == pytest.approx(0.255, rel=1e-14)   # half way
    expected = _torch_rates(lambda s, o: s.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
                            0.5, 10)
    np.testing.assert_allclose(rates, expected, rtol=1e-12)


def test_cosine_with_warmup_by_hand_and_against_torch():
    rates = _drive(CosineAnnealing(epochs=8, warmup_epochs=3), 0.4, 8)
    assert rates[:4] == pytest.approx([0.1, 0.2, 0.3, 0.4], rel=1e-14)   # (e + 1) / 4 * 0.4
    assert rates[4] == pytest.approx(0.2 * (1 + math.cos(math.pi / 5)), rel=1e-14)

    def make(s, o):
        warm = s.LinearLR(o, start_factor=1 / 4, total_iters=3)
        cosine = s.CosineAnnealingLR(o, T_max=5)
        return s.SequentialLR(o, [warm, cosine], milestones=[3])
    np.testing.assert_allclose(rates, _torch_rates(make, 0.4, 8), rtol=1e-12)


def test_cosine_takes_its_length_from_start_and_checks_it():
    schedule = CosineAnnealing(warmup_epochs=2)
    _drive(schedule, 0.1, 6)
    assert schedule.epochs == 6
    with pytest.raises(ValueError, match="warmup_epochs must be < epochs"):
        CosineAnnealing(epochs=3, warmup_epochs=3)
    with pytest.raises(ValueError, match="epochs must be given"):
        CosineAnnealing().start(SGD())


METRICS = [1.0, 0.9, 0.95, 0.91, 0.9, 0.89999, 0.8, 0.85, 0.85, 0.85, 0.86, 0.9, 0.7, 0.75]


@pytest.mark.parametrize("kwargs", [
    {"factor": 0.5, "patience": 1},
    {"factor": 0.5, "patience": 0, "cooldown": 2},
    {"factor": 0.3, "patience": 1, "threshold": 0.05, "threshold_mode": "abs", "min_lr": 0.02},
    {"factor": 0.5, "patience": 1, "mode": "max"},
    {"factor": 0.5, "patience": 2, "threshold": 0.0},
])
def test_reduce_on_plateau_against_torch(kwargs):
    rates = _drive(ReduceOnPlateau(**kwargs), 0.1, len(METRICS), METRICS)
    expected = _torch_rates(lambda s, o: s.ReduceLROnPlateau(o, **kwargs), 0.1, len(METRICS),
                            METRICS)
    np.testing.assert_allclose(rates, expected, rtol=1e-15)
    assert len(set(rates)) > 1                      # the case does reduce


def test_reduce_on_plateau_by_hand():
    # patience 1: the 2nd epoch in a row without improvement halves the rate
    rates = _drive(ReduceOnPlateau(factor=0.5, patience=1), 1.0, 6, [3, 2, 2, 2, 1, 1])
    assert rates == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5]
    with pytest.raises(ValueError, match="metric"):
        ReduceOnPlateau().step(SGD(), None)


@pytest.mark.parametrize("make", [lambda: StepDecay(2, 0.5), lambda: ExponentialDecay(0.8),
                                  lambda: CosineAnnealing(9, 0.001, 2),
                                  lambda: ReduceOnPlateau(factor=0.5, patience=0)])
def test_state_dict_resumes_exactly(make):
    metrics = [1.0, 0.9, 0.9, 0.95, 0.8, 0.85, 0.85, 0.7, 0.75]
    straight = _drive(make(), 0.3, 9, metrics)
    first, optimizer = make(), SGD(lr=0.3)
    first.start(optimizer, 9)
    for e in range(4):
        first.step(optimizer, metrics[e])
    state = json.loads(json.dumps(first.state_dict()))          # JSON-able, as a checkpoint
    again = type(first)()                                       # default arguments
    again.load_state_dict(state)
    assert again.state_dict() == first.state_dict()
    resumed = SGD(lr=optimizer.lr)
    again.start(resumed, 9)
    rates = []
    for e in range(4, 9):
        rates.append(resumed.lr)
        again.step(resumed, metrics[e])
    assert rates == straight[4:]


def test_invalid_arguments_name_argument_and_value():
    with pytest.raises(ValueError, match="gamma must be .*; got 1.5"):
        StepDecay(gamma=1.5)
    with pytest.raises(ValueError, match="step_size must be an integer >= 1; got 0"):
        StepDecay(step_size=0)
    with pytest.raises(ValueError, match="factor must be .*; got 1.0"):
        ReduceOnPlateau(factor=1.0)
    with pytest.raises(ValueError, match="threshold_mode must be one of"):
        ReduceOnPlateau(threshold_mode="relative")
    with pytest.raises(ValueError, match="unknown learning-rate schedule 'linear'"):
        get_schedule("linear")


def test_schedule_from_options():
    s = schedule_from_options("plateau", gamma=0.5, patience=2, min_lr=1e-4)
    assert (s.factor, s.patience, s.min_lr) == (0.5, 2, 1e-4)
    assert schedule_from_options("cosine", min_lr=0.01, warmup_epochs=1).eta_min == 0.01
    assert schedule_from_options("step").get_config() == StepDecay().get_config()
    with pytest.raises(ValueError, match="step_size is not used by the 'exponential'"):
        schedule_from_options("exponential", step_size=3)


# -- fit -----------------------------------------------------------------------------------
def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    d = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1)
    return x, d


def test_fit_records_lr_and_follows_the_schedule():
    x, d = _data()
    model = mlp([4, 8, 3], seed=0)
    hist = model.fit(x, d, epochs=5, batch_size=20, optimizer=SGD(0.4), verbose=0,
                     lr_schedule=StepDecay(step_size=2, gamma=0.5))
    assert hist.history["lr"] == [0.4, 0.4, 0.2, 0.2, 0.1]
    hist = mlp([4, 8, 3], seed=0).fit(x, d, epochs=4, batch_size=20, optimizer="adam",
                                      verbose=0, lr_schedule="cosine")
    assert hist.history["lr"] == pytest.approx(
        [0.001 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(4)], rel=1e-14)
    hist = mlp([4, 8, 3], seed=0).fit(x, d, epochs=2, optimizer=SGD(0.3), verbose=0)
    assert hist.history["lr"] == [0.3, 0.3]


def test_fit_with_a_schedule_trains_like_changing_lr_by_hand():
    """Epoch-by-epoch fit calls with lr set by hand give the same weights as one fit with
    the schedule (same batches: the model's generator drives both)."""
    x, d = _data()
    a = mlp([4, 8, 3], seed=1)
    a.fit(x, d, epochs=3, batch_size=16, optimizer=Adam(lr=0.01), verbose=0,
          lr_schedule=ExponentialDecay(0.5))
    b = mlp([4, 8, 3], seed=1)
    optimizer = Adam(lr=0.01)
    for lr in (0.01, 0.005, 0.0025):
        optimizer.lr = lr
        b.fit(x, d, epochs=1, batch_size=16, optimizer=optimizer, verbose=0)
    for key in a.params:
        np.testing.assert_array_equal(a.params[key], b.params[key])


class _Spy(ReduceOnPlateau):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.seen = []

    def step(self, optimizer, metric=None):
        self.seen.append(metric)
        super().step(optimizer, metric)


def test_plateau_watches_validation_loss_else_training_loss():
    x, d = _data()
    spy = _Spy(factor=0.5, patience=0, threshold=10.0, threshold_mode="abs")
    hist = mlp([4, 8, 3], seed=0).fit(x, d, epochs=4, batch_size=20, optimizer=SGD(0.2),
                                      validation_data=(x[:20], d[:20]), verbose=0,
                                      lr_schedule=spy)
    assert spy.seen == hist.history["val_loss"]
    # never improves by 10: the rate halves after every epoch but the first
    assert hist.history["lr"] == [0.2, 0.2, 0.1, 0.05]
    spy = _Spy()
    hist = mlp([4, 8, 3], seed=0).fit(x, d, epochs=3, optimizer=SGD(0.2), verbose=0,
                                      lr_schedule=spy)
    assert spy.seen == hist.history["loss"]


def test_fit_clip_norm_caps_the_step():
    x, d = _data()
    model = mlp([4, 8, 3], seed=0, dtype=np.float64)
    grads = model.gradient(x[:20], d[:20])
    norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
    assert norm > 0.01
    before = {k: p.copy() for k, p in model.params.items()}
    model.fit(x[:20], d[:20], steps=1, batch_size=None, optimizer=SGD(1.0), verbose=0,
              clip_norm=0.01)
    step = {k: before[k] - model.params[k] for k in before}
    step_norm = math.sqrt(sum(float(np.sum(s * s)) for s in step.values()))
    assert step_norm == pytest.approx(0.01 * norm / (norm + 1e-6), rel=1e-9)
    for k in step:                                   # same direction as the gradient
        np.testing.assert_allclose(step[k], grads[k] * (0.01 / (norm + 1e-6)), rtol=1e-9,
                                   atol=1e-15)


def test_fit_clip_value_bounds_every_entry_of_the_step():
    x, d = _data()
    model = mlp([4, 8, 3], seed=0, dtype=np.float64)
    grads = model.gradient(x[:20], d[:20])
    before = {k: p.copy() for k, p in model.params.items()}
    model.fit(x[:20], d[:20], steps=1, batch_size=None, optimizer=SGD(1.0), verbose=0,
              clip_value=0.02)
    for k in before:
        np.testing.assert_allclose(before[k] - model.params[k], np.clip(grads[k], -0.02, 0.02),
                                   rtol=1e-12, atol=1e-15)
    assert any(np.abs(g).max() > 0.02 for g in grads.values())     # clipping did something


def test_fit_refuses_bad_clipping_and_schedules():
    x, d = _data()
    model = mlp([4, 8, 3], seed=0)
    with pytest.raises(ValueError, match="clip_norm must be .*; got -1.0"):
        model.fit(x, d, clip_norm=-1.0, verbose=0)
    with pytest.raises(ValueError, match="unknown learning-rate schedule"):
        model.fit(x, d, lr_schedule="warm", verbose=0)
