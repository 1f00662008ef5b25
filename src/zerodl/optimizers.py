"""Optimizers: update rules that change the parameter arrays in place.

Contract: ``optimizer.update(params, grads)`` takes two dicts with the same keys (``"W1"``,
``"b1"``, ...) and arrays of the same shapes, and updates ``params[key]`` in place, so every
reference to the parameters stays valid. Any per-parameter state (momentum buffers, moment
estimates) lives in visible dicts keyed like the parameters.
"""
from __future__ import annotations

import numpy as np

from ._checks import check_number
from ._registry import Registry

OPTIMIZERS: Registry = Registry("optimizer")


class Optimizer:
    """Base class: keeps the learning rate, the step count ``t`` and the state buffers.

    ``buffers`` maps a buffer name (``"m"``, ``"v"``, ``"velocity"``, ...) to a dict keyed
    like the parameters; subclasses create their entries on first use.
    """

    def __init__(self, lr: float) -> None:
        self.lr = check_number("lr", lr, low=0.0)
        self.t = 0
        self.buffers: dict[str, dict[str, np.ndarray]] = {}

    def state_dict(self) -> dict:
        """Everything needed to resume: ``{"config", "t", "buffers"}`` (copies).

        ``config`` holds JSON-able hyper-parameters, ``buffers`` plain arrays, so the whole
        state can be written without pickle.
        """
        return {"config": self.get_config(), "t": self.t,
                "buffers": {name: {k: v.copy() for k, v in table.items()}
                            for name, table in self.buffers.items()}}

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned; resuming then continues bit for bit."""
        for key, value in state["config"].items():
            setattr(self, key, value)
        self.t = int(state["t"])
        self.buffers = {name: {k: np.array(v, copy=True) for k, v in table.items()}
                        for name, table in state["buffers"].items()}

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        for key, p in params.items():
            self.update_one(key, p, grads[key])

    def update_one(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"lr": self.lr}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@OPTIMIZERS.register("sgd")
class SGD(Optimizer):
    """Plain stochastic gradient descent: ``p <- p - lr * g``."""

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__(lr)

    def update_one(self, key, p, g):
        p -= p.dtype.type(self.lr) * g


def get_optimizer(optimizer) -> Optimizer:
    """An optimizer object as given, or a new one with default settings for a name."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    return OPTIMIZERS.get(optimizer)()
