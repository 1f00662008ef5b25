"""What ``fit`` changes when it starts, copied first so that a failing start puts it back.

``TrainingRun._start`` restores a resumed run (weights, buffers, the layers' generators, the
optimizer's state, the run's generator, the schedule, the ``History``) and the schedule's
``start`` sets the optimizer's rate; a callback whose ``on_train_begin`` then raises must
leave all of that as it was: ``fit`` refused, so nothing may have changed.
"""
from __future__ import annotations

import copy

import numpy as np

from .checkpoint import layer_generators

_NOTHING = object()


class StartSnapshot:
    """Copies of everything ``fit``'s start may change; ``put_back`` restores them in place
    (the same array objects, so every reference to a weight stays valid)."""

    def __init__(self, model, optimizer, rng: np.random.Generator, schedule=None) -> None:
        self.model, self.optimizer, self.rng, self.schedule = model, optimizer, rng, schedule
        self.params = {key: p.copy() for key, p in model.params.items()}
        self.buffers = {key: b.copy() for key, b in model.buffers.items()}
        self.generators = [(g, copy.deepcopy(g.bit_generator.state))
                           for _, g in layer_generators(model)]
        self.rng_state = copy.deepcopy(rng.bit_generator.state)
        # The optimizer's and the schedule's attributes as they are (load_state_dict and
        # start replace them, never edit their arrays in place, so deep copies are exact).
        self.optimizer_vars = copy.deepcopy(vars(optimizer))
        self.schedule_vars = None if schedule is None else copy.deepcopy(vars(schedule))
        self.history = getattr(model, "history", _NOTHING)
        self.stop_training = getattr(model, "stop_training", _NOTHING)

    def put_back(self) -> None:
        model = self.model
        for key, p in model.params.items():
            p[...] = self.params[key]
        for key, b in model.buffers.items():
            b[...] = self.buffers[key]
        for generator, state in self.generators:
            generator.bit_generator.state = state
        self.rng.bit_generator.state = self.rng_state
        _restore_vars(self.optimizer, self.optimizer_vars)
        if self.schedule is not None:
            _restore_vars(self.schedule, self.schedule_vars)
        for name in ("history", "stop_training"):
            value = getattr(self, name)
            if value is _NOTHING:
                vars(model).pop(name, None)
            else:
                setattr(model, name, value)


def _restore_vars(obj, saved: dict) -> None:
    vars(obj).clear()
    vars(obj).update(saved)
