"""``fit``'s watch for divergence: NaN or infinite losses and weights, and runaway losses.

The rules, and why they are what they are, are in ``Runaway`` and ``Guard``; the loop
(``loop.py``) calls ``Guard.start_epoch``, ``check_loss``, ``check_runaway`` and
``check_weights`` and nothing else.
"""
from __future__ import annotations

import inspect
import math

import numpy as np

from ..core.errors import TrainingDiverged

#: Runaway training (see ``Runaway``): the mean loss of ``RUNAWAY_WINDOW`` steps above
#: ``RUNAWAY_FACTOR`` times the loss at the start of ``fit``, ``RUNAWAY_WINDOWS`` windows in
#: a row, while the largest weight has grown more than ``RUNAWAY_FACTOR`` times.
RUNAWAY_FACTOR = 100.0
RUNAWAY_WINDOW = 10
RUNAWAY_WINDOWS = 2
#: Samples (the first ones of x) on which the loss at the start of ``fit`` is measured.
RUNAWAY_REFERENCE_SAMPLES = 1000


def largest_weight(params: dict[str, np.ndarray]) -> float:
    return max(float(np.abs(p).max()) for p in params.values())


class Runaway:
    """Watches ``fit`` for a loss that runs away while staying finite.

    With a learning rate far too large, SGD's weights usually overflow to inf within a few
    steps, but the adaptive optimizers (AdaGrad, RMSProp, AdaDelta, Adam) move each weight
    by about ``lr`` per step whatever the gradient, and softmax's loss grows only linearly
    in the logits: they can train for ever at a loss of 1e3-1e6 with weights near 1e7, and
    never produce a NaN. Runaway is both, at once: the mean loss of ``RUNAWAY_WINDOW``
    steps stays above ``RUNAWAY_FACTOR`` times the loss of the untrained model (measured on
    the first ``RUNAWAY_REFERENCE_SAMPLES`` samples, once) for ``RUNAWAY_WINDOWS`` windows
    in a row (a mean, because with huge weights a batch that happens to be all right has a
    loss near 0), and the largest weight is more than ``RUNAWAY_FACTOR`` times the largest
    at the start. Normal training lowers the loss; a loss that only rises (a too-large lr
    on a model that had converged, a new data set) leaves the weights near their size, and
    weights that legitimately grow by 100 (a tiny initialisation) do so while the loss
    falls. The cost per step is an addition and a comparison; the weights are read only
    when the loss says so.
    """

    def __init__(self, model, x: np.ndarray, d: np.ndarray) -> None:
        n = RUNAWAY_REFERENCE_SAMPLES
        self.start_loss = model.evaluate_prepared(x[:n], d[:n])["loss"]
        self.start_weight = largest_weight(model.params)
        self.limit = RUNAWAY_FACTOR * self.start_loss   # inf or NaN: never reached
        self.total, self.count, self.windows = 0.0, 0, 0
        self.mean = self.weight = 0.0

    @property
    def rising(self) -> bool:
        """Whether the last window's mean loss was above the limit."""
        return self.windows > 0

    def climbing(self) -> bool:
        """Whether the loss is above the limit: the last window's mean or this one's so far."""
        return self.windows > 0 or (self.count > 0 and self.total / self.count > self.limit)

    def ran_away(self, loss: float, params: dict[str, np.ndarray]) -> bool:
        """Count one step's loss; True when training has run away."""
        self.total += loss
        self.count += 1
        if self.count < RUNAWAY_WINDOW:
            return False
        self.mean = self.total / self.count
        self.total, self.count = 0.0, 0
        if not self.mean > self.limit:
            self.windows = 0
            return False
        self.windows += 1
        if self.windows < RUNAWAY_WINDOWS:
            return False
        self.weight = largest_weight(params)
        return self.weight > RUNAWAY_FACTOR * self.start_weight


class Guard:
    """``fit``'s watch for divergence, and the copy of the weights it goes back to.

    At each epoch start it copies the weights and the optimizer's state (moments, step
    count), unless the loss is already climbing: then the copy from before the climb stays.
    A NaN or infinite loss (that step's update was skipped), weights made NaN or infinite by
    an update, or a runaway (``Runaway``) raise ``TrainingDiverged``; whenever the weights
    are no good any more, they and the optimizer's state go back to the copy first.
    """

    def __init__(self, model, optimizer, run, x: np.ndarray,
                 d: np.ndarray) -> None:
        self.model, self.optimizer, self.run = model, optimizer, run
        self.runaway = Runaway(model, x, d)
        self.loss = math.nan
        self.params: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.state: dict = {}
        self.epoch = 0

    def start_epoch(self) -> None:
        if not self.runaway.rising:      # keep the copy from before the loss rose
            self.params = {key: p.copy() for key, p in self.model.params.items()}
            self.buffers = {key: b.copy() for key, b in self.model.buffers.items()}
            self.state, self.epoch = self.optimizer.state_dict(), self.run.epoch

    def check_loss(self, loss: float) -> None:
        """A step's loss, before the step is counted: raise if it is NaN or infinite."""
        self.loss = loss
        if math.isfinite(loss):
            return
        # After a climb, the last finite weights are no good: go back to the copy.
        climbed = self.runaway.climbing()
        if climbed:
            self._go_back()
        rolled_back = climbed or self._go_back_if_not_finite()
        raise self._error(self.run.step + 1, rolled_back, climbed=climbed)

    def check_runaway(self, loss: float) -> None:
        """A counted step's loss: raise if training has run away."""
        if self.runaway.ran_away(loss, self.model.params):
            self._go_back()
            raise self._error(self.run.step, True, runaway=True)

    def check_weights(self) -> None:
        """At an epoch's end: raise if an update left NaN or infinite weights."""
        if self._go_back_if_not_finite():
            raise self._error(self.run.step, True)

    def _go_back(self) -> None:
        """Put back the copied weights and the optimizer's state."""
        for key, p in self.model.params.items():
            p[...] = self.params[key]
        for key, b in self.model.buffers.items():
            b[...] = self.buffers[key]
        self.optimizer.restore_state(self.state)

    def _go_back_if_not_finite(self) -> bool:
        """``_go_back`` if any weight is NaN or infinite; say whether it did."""
        if all(np.isfinite(p).all() for p in self.model.params.values()):
            return False
        self._go_back()
        return True

    def _error(self, at_step: int, rolled_back: bool, climbed: bool = False,
               runaway: bool = False) -> TrainingDiverged:
        """The error for a non-finite loss or weights, or (``runaway``) a loss running away;
        ``climbed``: a non-finite loss after losses above ``RUNAWAY_FACTOR`` times the start."""
        loss, watch, optimizer = self.loss, self.runaway, self.optimizer
        lr = getattr(optimizer, "lr", None)
        where = f"epoch {self.run.epoch}, step {at_step}"
        if runaway:
            what = (f"the loss ran away (mean {watch.mean:.4g} over the last "
                    f"{RUNAWAY_WINDOW} steps, more than {RUNAWAY_FACTOR:g} times its "
                    f"{watch.start_loss:.4g} at the start) and the largest weight grew from "
                    f"{watch.start_weight:.4g} to {watch.weight:.4g}")
            loss = watch.mean
        elif not math.isfinite(loss):
            what = f"the loss became {loss}"
            if climbed:
                what += (f" after climbing to more than {RUNAWAY_FACTOR:g} times its "
                         f"{watch.start_loss:.4g} at the start")
        else:
            what = "an update made the weights NaN or infinite"
        kept = (f"the weights went back to those of the start of epoch {self.epoch}"
                if rolled_back else "the model keeps the weights from before this step")
        name = type(optimizer).__name__
        default = inspect.signature(type(optimizer)).parameters.get("lr")
        hint = (f"; {name}'s default is {default.default}" if default is not None
                and isinstance(default.default, float) else "")
        return TrainingDiverged(
            f"training diverged at {where}: {what} with {name}"
            f"{f' (lr is {lr})' if lr is not None else ''}; {kept}. Try a smaller learning "
            f"rate{hint}.", epoch=self.run.epoch, step=at_step, loss=loss,
            history=self.model.history)
