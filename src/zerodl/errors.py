"""Exceptions that zerodl raises beyond the built-in ones."""
from __future__ import annotations


class TrainingDiverged(ArithmeticError):
    """Training stopped because the loss stopped being a finite number.

    Raised by ``fit`` before the update of the step whose loss is NaN or infinite, so the
    model keeps its last finite weights. ``epoch`` and ``step`` (both counted from 1) say
    where it happened, ``loss`` is the offending value and ``history`` is what ``fit`` had
    recorded until then.
    """

    def __init__(self, message: str, *, epoch: int, step: int, loss: float, history=None) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.step = step
        self.loss = loss
        self.history = history
