"""Divergence caught for every optimizer, and never on normal training.

With a far too large learning rate the adaptive optimizers keep the loss finite (1e3-1e6)
while the weights reach 1e7; ``fit`` raises ``TrainingDiverged`` for them as for SGD, puts
back the weights and the optimizer's state of the start of the epoch in which the loss began
to rise, and names the optimizer, its lr and its default.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zerodl
from zerodl import mlp
from zerodl.callbacks import Callback
from zerodl.layers import Dense
from zerodl import Sequential
from zerodl.training.guard import RUNAWAY_FACTOR, RUNAWAY_WINDOW, RUNAWAY_WINDOWS
from zerodl.optimizers import OPTIMIZERS, SGD, Adam

from state_checks import snapshot, same_state

X, D = zerodl.datasets.make_toy("spiral", 200, noise=0.1, seed=0)
FIT = dict(batch_size=20, verbose=0, seed=0)          # 10 steps per epoch


def net(seed=0):
    return mlp([2, 16, 2], seed=seed)




def same_weights(model, saved) -> bool:
    return all(np.array_equal(model.params[k], saved[k]) for k in saved)




def largest(model) -> float:
    return max(float(np.abs(p).max()) for p in model.params.values())


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_every_optimizer_with_a_huge_lr_raises_and_puts_everything_back(name):
    model = net()
    optimizer = OPTIMIZERS.get(name)(lr=1e6)
    before, state = snapshot(model), optimizer.state_dict()
    default = OPTIMIZERS.get(name)().lr
    with np.errstate(all="ignore"), pytest.raises(zerodl.TrainingDiverged) as info:
        model.fit(X, D, epochs=20, optimizer=optimizer, **FIT)
    exc = info.value
    message = " ".join(str(exc).split())
    assert f"with {type(optimizer).__name__} (lr is 1000000.0)" in message
    assert f"Try a smaller learning rate; {type(optimizer).__name__}'s default is {default}" \
        in message
    assert f"epoch {exc.epoch}, step {exc.step}" in message
    assert ("the loss ran away" in message and "largest weight grew" in message) or \
        "after climbing to more than 100 times" in message
    assert exc.step <= 3 * RUNAWAY_WINDOW                 # caught early, not after 20 epochs
    # AdamW's decay (lr * 0.01 per step) makes its loss NaN after a climb; the others run
    # away with a finite loss. Either way the weights and state of the start come back.
    assert "went back to those of the start of epoch 1" in message
    assert same_weights(model, before)
    assert same_state(optimizer.state_dict(), state)


def test_runaway_message_and_attributes_for_adam():
    model = net()
    with pytest.raises(zerodl.TrainingDiverged, match=(
            r"training diverged at epoch 2, step 20: the loss ran away \(mean [0-9.e+]+ over "
            r"the last 10 steps, more than 100 times its 0\.7\d+ at the start\) and the largest "
            r"weight grew from 2\.3\d+ to [0-9.e+]+ with Adam \(lr is 1000000\.0\); the weights "
            r"went back to those of the start of epoch 1\. Try a smaller learning rate; Adam's "
            r"default is 0\.001\.")) as info:
        model.fit(X, D, epochs=20, optimizer=Adam(lr=1e6), **FIT)
    exc = info.value
    assert isinstance(exc, ArithmeticError)
    assert (exc.epoch, exc.step) == (2, RUNAWAY_WINDOW * RUNAWAY_WINDOWS)
    assert np.isfinite(exc.loss) and exc.loss > RUNAWAY_FACTOR * 0.7
    assert exc.history is model.history and exc.history.epoch == [1]


class RaiseLrAt(Callback):
    """Sets a huge lr at the start of epoch ``at``; keeps the weights and state from then."""

    def __init__(self, at: int, lr: float) -> None:
        super().__init__()
        self.at, self.lr = at, lr

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            self.optimizer.lr = self.lr
            self.weights = snapshot(self.model)
            self.state = self.optimizer.state_dict()


def test_runaway_in_a_later_epoch_goes_back_to_that_epochs_start():
    model = net()
    optimizer = Adam(lr=0.01)
    watch = RaiseLrAt(4, 1e5)
    watch.optimizer = optimizer
    with pytest.raises(zerodl.TrainingDiverged, match=r"start of epoch 4\.") as info:
        model.fit(X, D, epochs=20, optimizer=optimizer, callbacks=[watch], **FIT)
    assert info.value.epoch >= 4
    assert same_weights(model, watch.weights)
    assert same_state(optimizer.state_dict(), watch.state)
    assert info.value.history.epoch[:3] == [1, 2, 3]


class Poisoned(OPTIMIZERS.get("momentum")):
    """Momentum whose update number ``at`` writes inf into W1 (a finite loss before it)."""

    def __init__(self, lr=0.1, at=13, **config):
        super().__init__(lr=lr, **config)
        self.at = at

    def update(self, params, grads):
        super().update(params, grads)
        if self.t == self.at:
            params["W1"][0, 0] = np.inf
            self.buffers["momentum_buffer"]["W1"][0, 0] = np.nan


def test_weights_made_nonfinite_put_back_the_optimizer_state_too():
    model = net()
    optimizer = Poisoned()
    watch = RaiseLrAt(2, 0.1)                              # same lr: only records epoch 2
    watch.optimizer = optimizer
    with np.errstate(all="ignore"), pytest.raises(zerodl.TrainingDiverged, match=(
            r"epoch 2, step 14: the loss became nan with Poisoned \(lr is 0\.1\); the weights "
            r"went back to those of the start of epoch 2")):
        model.fit(X, D, epochs=5, optimizer=optimizer, callbacks=[watch], **FIT)
    assert same_weights(model, watch.weights)
    assert same_state(optimizer.state_dict(), watch.state) and optimizer.t == 10


class Jump(SGD):
    """SGD whose update number ``at`` scales W1 by 1e30: finite weights, an inf loss next."""

    def __init__(self, lr=0.1, at=13):
        super().__init__(lr=lr)
        self.at, self.after = at, None

    def update(self, params, grads):
        super().update(params, grads)
        if self.t == self.at:
            params["W1"][...] *= 1e30
            self.after = {k: p.copy() for k, p in params.items()}


def test_a_sudden_nonfinite_loss_keeps_the_weights_of_the_step_before():
    # No climb before it: the step's update is skipped and the weights are those that gave
    # the inf loss, as fit documents (nothing earlier was suspicious).
    model = mlp([2, 16, 2], output="identity", seed=0)
    optimizer = Jump()
    with np.errstate(all="ignore"), pytest.raises(zerodl.TrainingDiverged, match=(
            r"epoch 2, step 14: the loss became (inf|nan) with Jump \(lr is 0\.1\); the model "
            r"keeps the weights from before this step")):
        model.fit(X, np.eye(2)[D], epochs=5, optimizer=optimizer, **FIT)
    assert same_weights(model, optimizer.after) and optimizer.t == 13


# -- never on normal training --------------------------------------------------------------

@pytest.mark.parametrize("name", OPTIMIZERS.names())
@pytest.mark.parametrize("toy", ["circle", "xor", "moons"])
def test_normal_training_never_trips_the_rule(name, toy):
    x, d = zerodl.datasets.make_toy(toy, 200, noise=0.1, seed=1)
    model = mlp([2, 16, 2], seed=1)
    default = OPTIMIZERS.get(name)().lr
    history = model.fit(x, d, epochs=15, optimizer=OPTIMIZERS.get(name)(lr=10 * default),
                        **FIT)
    assert len(history.epoch) == 15


def test_loss_rising_with_steady_weights_is_not_a_runaway():
    # A linear model that fits its data exactly starts at a loss of ~0; noisy labels then
    # raise the loss far above 100 times that, for ever, but the weights stay their size.
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 2))
    x = rng.standard_normal((200, 3))
    model = Sequential([Dense(3, 2, init="zeros", dtype=np.float64)], output="identity")
    model.params["W1"] = W
    noisy = x @ W + rng.standard_normal((200, 2))
    model.fit(x, noisy, epochs=20, optimizer=SGD(lr=0.05), **FIT)
    assert largest(model) < 10 * np.abs(W).max()


def test_weights_growing_while_the_loss_falls_is_not_a_runaway():
    # From zero weights to weights of 1000: the largest weight grows without bound, the
    # loss falls.
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (200, 3))
    target = x @ np.array([[1000.0], [-500.0], [200.0]])
    model = Sequential([Dense(3, 1, init="zeros", dtype=np.float64)], output="identity")
    history = model.fit(x, target, epochs=30, optimizer=Adam(lr=50.0), **FIT)
    assert largest(model) > 100
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_the_watch_costs_no_step_after_a_refused_start():
    # A model whose loss is already infinite at the start never trips the loss rule (the
    # limit is inf); the NaN/inf path reports it instead.
    model = mlp([2, 3, 2], output="identity", seed=0)
    with np.errstate(all="ignore"), pytest.raises(zerodl.TrainingDiverged,
                                                  match=r"the loss became inf"):
        model.fit(X, np.full((200, 2), 1e30), epochs=2, optimizer=SGD(lr=0.1), **FIT)


# -- property: huge learning rates ---------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(OPTIMIZERS.names()),
       log_lr=st.floats(-3, 8),
       toy=st.sampled_from(["circle", "xor", "gaussian", "spiral", "moons"]),
       output=st.sampled_from(["softmax", "sigmoid", "identity"]),
       seed=st.integers(0, 3))
def test_property_huge_lrs_raise_with_finite_weights_or_stay_bounded(name, log_lr, toy, output,
                                                                     seed):
    x, d = zerodl.datasets.make_toy(toy, 100, noise=0.1, seed=seed)
    if output != "softmax":
        d = np.eye(2)[d]
    model = mlp([2, 8, 2], output=output, seed=seed)
    optimizer = OPTIMIZERS.get(name)(lr=10.0 ** log_lr)
    start, start_loss = largest(model), model.evaluate(x, d)["loss"]
    try:
        with np.errstate(all="ignore"):
            model.fit(x, d, epochs=8, optimizer=optimizer, batch_size=10, verbose=0, seed=seed)
    except zerodl.TrainingDiverged as exc:
        assert all(np.isfinite(p).all() for p in model.params.values())
        assert all(np.isfinite(b).all() for table in optimizer.buffers.values()
                   for b in table.values())
        assert type(optimizer).__name__ in str(exc) and "smaller learning rate" in str(exc)
        return
    # Not stopped: finite weights, and never both the loss and the weights far past the
    # rule's thresholds. The rule reads 10-step means of the training losses, which trail
    # the final loss on all of x (SGD at lr 178 settles at window means of 30-65 times the
    # start, below the 100, while its final loss is 175 times the start, with weights 2e4
    # times theirs): the bound here is the square of the rule's factor.
    assert all(np.isfinite(p).all() for p in model.params.values())
    with np.errstate(all="ignore"):
        final = model.evaluate(x, d)["loss"]
    assert np.isfinite(final)
    assert (final <= RUNAWAY_FACTOR ** 2 * start_loss
            or largest(model) <= RUNAWAY_FACTOR ** 2 * start)
