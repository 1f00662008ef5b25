"""Exceptions that zerodl raises beyond the built-in ones."""
from __future__ import annotations


class TrainingDiverged(ArithmeticError):
    """Training stopped because the loss stopped being a finite number, or ran away.

    Raised by ``fit`` before the update of the step whose loss is NaN or infinite, so the
    model keeps its last finite weights (after a loss that climbed above 100 times its start,
    those of the start of the epoch instead); or when an update made the weights NaN or
    infinite, or when the loss ran away while staying finite (the mean loss of 10 steps
    above 100 times the untrained model's, twice in a row, with the largest weight grown
    100 times: what AdaGrad, RMSProp, AdaDelta and Adam do with a far too large learning
    rate): the weights and the optimizer's state then go back to a copy from the start of
    an epoch, named in the message. The message also names the optimizer, its ``lr`` and
    its default ``lr``. ``epoch`` and ``step`` (both counted from 1) say where it happened,
    ``loss`` is the offending value (for a runaway, the last 10 steps' mean) and
    ``history`` is what ``fit`` had recorded until then.
    """

    def __init__(self, message: str, *, epoch: int, step: int, loss: float, history=None) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.step = step
        self.loss = loss
        self.history = history


class ResumeBeyondEnd(ValueError):
    """``fit(resume=...)`` was asked to end before the point its checkpoint has reached.

    ``epochs`` and ``steps`` count the whole run, resumed part included, so a checkpoint
    further on than they ask cannot be continued; it is refused before anything changes.
    ``path`` is the checkpoint, ``done_steps`` and ``done_epoch`` how far it has gone, and
    ``asked_steps`` the run's length as this ``fit`` was asked.
    """

    def __init__(self, message: str, *, path: str, done_steps: int, done_epoch: int,
                 asked_steps: int) -> None:
        super().__init__(message)
        self.path = path
        self.done_steps = done_steps
        self.done_epoch = done_epoch
        self.asked_steps = asked_steps


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal outside ``fit``'s own return path (a sweep's run).

    ``signal``: ``"SIGINT"`` (Ctrl-C) or ``"SIGTERM"``; the command line ends with 130 or
    143 as ``zerodl train`` does. A ``KeyboardInterrupt``, so code catching Ctrl-C still
    catches it.
    """

    def __init__(self, signal: str = "SIGINT") -> None:
        super().__init__(signal)
        self.signal = signal
