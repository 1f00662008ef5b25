"""Learning-rate schedules: how ``optimizer.lr`` changes from one epoch to the next.

A schedule is driven by ``fit`` (or by hand) through two calls::

    schedule.start(optimizer, epochs)      # once, before the first epoch
    for epoch ...:
        ... train one epoch with optimizer.lr ...
        schedule.step(optimizer, metric)   # after the epoch; metric = validation loss

Epoch-indexed schedules compute ``lr_at(epoch)`` from ``base_lr`` (the optimizer's ``lr``
when ``start`` is first called) and the number of finished epochs, with the same formulas
as ``torch.optim.lr_scheduler``; ``ReduceOnPlateau`` reacts to ``metric`` instead. Every
schedule has ``state_dict()`` -> ``{"config", "state"}`` (JSON-able values only) and
``load_state_dict``, so a checkpoint can resume it exactly.
"""
from __future__ import annotations

import math
import numbers

from ._checks import check_choice, check_int, check_number, plain
from ._registry import Registry

SCHEDULES: Registry = Registry("learning-rate schedule")


def _register(name: str):
    """Register a class under ``name`` and remember the name on the class (``s.name``), so
    a checkpoint can rebuild it: ``SCHEDULES.get(s.name)()`` then ``load_state_dict``."""
    def add(cls):
        cls.name = name
        return SCHEDULES.register(name)(cls)
    return add


class Schedule:
    """Base class of the epoch-indexed schedules: ``lr = lr_at(epoch)``.

    ``base_lr``: the learning rate at epoch 0 (``None`` until ``start``); ``epoch``: the
    number of epochs finished, i.e. the index of the epoch about to run.
    """

    name = ""

    def __init__(self) -> None:
        self.base_lr: float | None = None
        self.epoch = 0

    def start(self, optimizer, epochs: int | None = None) -> None:
        """Take ``base_lr`` from the optimizer (first call only) and set the current ``lr``.

        ``epochs``: the length of the training run, for schedules that need it (cosine).
        A second ``start`` (a second ``fit``, or after ``load_state_dict``) continues where
        the schedule stands.
        """
        if self.base_lr is None:
            self.base_lr = float(optimizer.lr)
        optimizer.lr = self.lr_at(self.epoch)

    def step(self, optimizer, metric: float | None = None) -> None:
        """One epoch is done: set ``optimizer.lr`` for the next one (``metric`` unused).

        The new rate is computed and set before the epoch count moves, so a refused step
        (before ``start``, or an optimizer that refuses the rate) changes neither."""
        self._check_started()
        optimizer.lr = self.lr_at(self.epoch + 1)
        self.epoch += 1

    def _check_started(self) -> None:
        if self.base_lr is None:
            raise ValueError(f"{type(self).__name__}.start(optimizer) must be called before "
                             f"step(); the schedule has no base learning rate yet.")

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    def _state(self) -> dict:
        return {"base_lr": self.base_lr, "epoch": self.epoch}

    def state_dict(self) -> dict:
        """``{"config": constructor arguments, "state": progress}``, JSON-able values only."""
        return {"config": self.get_config(), "state": self._state()}

    def check_state_dict(self, state) -> dict:
        """Check ``state`` (what ``state_dict`` returns) without changing anything; return it
        as plain values. Refused with a ``ValueError`` or ``TypeError`` naming the entry:
        other keys, arguments the constructor refuses (another schedule's, say), progress
        entries missing, unknown or of the wrong kind."""
        if not isinstance(state, dict) or set(state) != {"config", "state"}:
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"state must be a dict with the keys 'config' and 'state' (what "
                             f"state_dict returns); got {got!r}.")
        config, values = state["config"], state["state"]
        arguments = sorted(self.get_config())
        if not isinstance(config, dict) or set(config) != set(arguments):
            got = sorted(config) if isinstance(config, dict) else plain(config)
            raise ValueError(f"state['config'] must have the arguments of a "
                             f"{type(self).__name__} ({', '.join(arguments)}); got {got!r} "
                             f"(another schedule's?).")
        try:
            scratch = type(self)(**config)      # the constructor's checks, on a scratch object
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"state['config'] holds an argument that {type(self).__name__} "
                            f"refuses: {exc}") from None
        expected = scratch._state()
        if not isinstance(values, dict) or set(values) != set(expected):
            got = sorted(values) if isinstance(values, dict) else plain(values)
            raise ValueError(f"state['state'] must have the entries of a "
                             f"{type(self).__name__} ({', '.join(expected)}); got {got!r}.")
        checked = {key: self._check_entry(f"state['state'][{key!r}]", key, value)
                   for key, value in values.items()}
        return {"config": dict(config), "state": checked}

    @staticmethod
    def _check_entry(name: str, key: str, value):
        """One progress entry: counts are integers >= 0, rates numbers >= 0 or None."""
        if key == "base_lr":
            return None if value is None else check_number(name, value, low=0.0)
        return check_int(name, value, minimum=0)

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned. Everything is checked first
        (``check_state_dict``): a refused state leaves the schedule exactly as it was."""
        state = self.check_state_dict(state)
        self.__init__(**state["config"])      # cannot fail: the same arguments passed above
        for key, value in state["state"].items():
            setattr(self, key, value)

    def check_start(self, epochs: int | None = None) -> None:
        """Raise, changing nothing, if ``start(optimizer, epochs)`` would be refused."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@_register("step")
class StepDecay(Schedule):
    """Step decay: ``lr = base_lr * gamma ** (epoch // step_size)``.

    The rate drops by the factor ``gamma`` every ``step_size`` epochs; PyTorch's ``StepLR``.
    """

    def __init__(self, step_size: int = 3, gamma: float = 0.5) -> None:
        super().__init__()
        self.step_size = check_int("step_size", step_size, minimum=1)
        self.gamma = check_number("gamma", gamma, low=0.0, high=1.0, low_open=True)

    def lr_at(self, epoch):
        return self.base_lr * self.gamma ** (epoch // self.step_size)

    def get_config(self):
        return {"step_size": self.step_size, "gamma": self.gamma}


@_register("exponential")
class ExponentialDecay(Schedule):
    """Exponential decay: ``lr = base_lr * gamma ** epoch``; PyTorch's ``ExponentialLR``."""

    def __init__(self, gamma: float = 0.9) -> None:
        super().__init__()
        self.gamma = check_number("gamma", gamma, low=0.0, high=1.0, low_open=True)

    def lr_at(self, epoch):
        return self.base_lr * self.gamma ** epoch

    def get_config(self):
        return {"gamma": self.gamma}


@_register("cosine")
class CosineAnnealing(Schedule):
    """Cosine annealing from ``base_lr`` down to ``eta_min``, after an optional linear warm-up.

    With ``w = warmup_epochs`` and ``T = epochs``::

        lr(e) = base_lr * (e + 1) / (w + 1)                                    for e < w
        lr(e) = eta_min + (base_lr - eta_min) * (1 + cos(pi * (e - w) / (T - w))) / 2   else

    Without warm-up this is PyTorch's ``CosineAnnealingLR(T_max=epochs)``; the warm-up is
    ``LinearLR(start_factor=1 / (w + 1), total_iters=w)`` followed by it. Loshchilov and
    Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts" (ICLR 2017); warm-up:
    Goyal et al., "Accurate, Large Minibatch SGD" (2017). ``epochs=None`` takes the
    length of the training run from ``fit``.
    """

    def __init__(self, epochs: int | None = None, eta_min: float = 0.0,
                 warmup_epochs: int = 0) -> None:
        super().__init__()
        self.epochs = None if epochs is None else check_int("epochs", epochs, minimum=1)
        self.eta_min = check_number("eta_min", eta_min, low=0.0)
        self.warmup_epochs = check_int("warmup_epochs", warmup_epochs, minimum=0)
        self._check_lengths()

    def _check_lengths(self) -> None:
        if self.epochs is not None and self.warmup_epochs >= self.epochs:
            raise ValueError(f"warmup_epochs must be < epochs ({self.epochs}); got "
                             f"{self.warmup_epochs!r}.")

    def check_start(self, epochs=None):
        if self.epochs is None:
            if epochs is None:
                raise ValueError("epochs must be given to CosineAnnealing or to start(); "
                                 "got None.")
            epochs = check_int("epochs", epochs, minimum=1)
            if self.warmup_epochs >= epochs:
                raise ValueError(f"warmup_epochs must be < epochs ({epochs}); got "
                                 f"{self.warmup_epochs!r}.")

    def start(self, optimizer, epochs=None):
        if self.epochs is None:
            self.check_start(epochs)
            self.epochs = int(epochs)
        super().start(optimizer, epochs)

    def lr_at(self, epoch):
        w = self.warmup_epochs
        if epoch < w:
            return self.base_lr * (epoch + 1) / (w + 1)
        phase = math.pi * (epoch - w) / (self.epochs - w)
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(phase)) / 2

    def get_config(self):
        return {"epochs": self.epochs, "eta_min": self.eta_min,
                "warmup_epochs": self.warmup_epochs}


@_register("plateau")
class ReduceOnPlateau(Schedule):
    """Multiply ``lr`` by ``factor`` when the monitored loss has stopped improving.

    After each epoch, ``metric`` (``fit`` gives the validation loss, or the training loss
    without validation data) counts as an improvement when it is below
    ``best * (1 - threshold)`` (``threshold_mode="rel"``) or ``best - threshold``
    (``"abs"``); ``mode="max"`` turns the comparisons round for metrics such as accuracy.
    More than ``patience`` epochs in a row without improvement set
    ``lr <- max(lr * factor, min_lr)`` (changes smaller than ``eps`` are skipped) and start
    ``cooldown`` epochs in which nothing is counted. PyTorch's ``ReduceLROnPlateau``, same
    arguments and defaults.
    """

    def __init__(self, factor: float = 0.1, patience: int = 10, threshold: float = 1e-4,
                 threshold_mode: str = "rel", cooldown: int = 0, min_lr: float = 0.0,
                 eps: float = 1e-8, mode: str = "min") -> None:
        super().__init__()
        self.factor = check_number("factor", factor, low=0.0, high=1.0, low_open=True,
                                   high_open=True)
        self.patience = check_int("patience", patience, minimum=0)
        self.threshold = check_number("threshold", threshold, low=0.0)
        self.threshold_mode = check_choice("threshold_mode", threshold_mode, ("rel", "abs"))
        self.cooldown = check_int("cooldown", cooldown, minimum=0)
        self.min_lr = check_number("min_lr", min_lr, low=0.0)
        self.eps = check_number("eps", eps, low=0.0)
        self.mode = check_choice("mode", mode, ("min", "max"))
        self.best: float | None = None       # None: nothing seen yet (JSON has no inf)
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def start(self, optimizer, epochs=None):
        if self.base_lr is None:
            self.base_lr = float(optimizer.lr)

    def _improves(self, value: float) -> bool:
        if self.best is None:
            return True
        sign = 1.0 if self.mode == "min" else -1.0
        if self.threshold_mode == "rel":
            bar = self.best * (1.0 - sign * self.threshold)
        else:
            bar = self.best - sign * self.threshold
        return sign * value < sign * bar

    def step(self, optimizer, metric=None):
        if metric is None:
            raise ValueError("metric must be the monitored loss for ReduceOnPlateau; got None.")
        if isinstance(metric, bool) or not isinstance(metric, numbers.Real):
            raise TypeError(f"metric must be a real number, the monitored loss; got "
                            f"{plain(metric)!r}.")
        metric = float(metric)
        self.epoch += 1
        if self._improves(metric):
            self.best = metric
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            new_lr = max(optimizer.lr * self.factor, self.min_lr)
            if optimizer.lr - new_lr > self.eps:
                optimizer.lr = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0

    def get_config(self):
        return {"factor": self.factor, "patience": self.patience, "threshold": self.threshold,
                "threshold_mode": self.threshold_mode, "cooldown": self.cooldown,
                "min_lr": self.min_lr, "eps": self.eps, "mode": self.mode}

    @staticmethod
    def _check_entry(name, key, value):
        if key == "best":
            return None if value is None else check_number(name, value)
        return Schedule._check_entry(name, key, value)

    def _state(self):
        return {"base_lr": self.base_lr, "epoch": self.epoch, "best": self.best,
                "num_bad_epochs": self.num_bad_epochs,
                "cooldown_counter": self.cooldown_counter}


def get_schedule(schedule, **config) -> Schedule | None:
    """``None``, a ``Schedule`` as given, or a new one for a registered name (``"step"``,
    ``"exponential"``, ``"cosine"``, ``"plateau"``) built with ``config``."""
    if schedule is None or isinstance(schedule, Schedule):
        if config:
            raise ValueError(f"config must be empty unless lr_schedule is a name; got {config!r}.")
        return schedule
    return SCHEDULES.get(schedule)(**config)


def schedule_from_options(name: str, *, gamma: float | None = None,
                          step_size: int | None = None, min_lr: float | None = None,
                          warmup_epochs: int | None = None,
                          patience: int | None = None) -> Schedule:
    """The command line's ``--lr-*`` options mapped onto each schedule's arguments.

    ``gamma``: the decay factor of ``step`` and ``exponential``, the ``factor`` of
    ``plateau``; ``min_lr``: ``eta_min`` of ``cosine``, ``min_lr`` of ``plateau``. Options
    left at ``None`` keep the schedule's default; options a schedule does not use are
    refused, so a mistyped command line does not pass silently.
    """
    accepted = {"step": {"gamma": "gamma", "step_size": "step_size"},
                "exponential": {"gamma": "gamma"},
                "cosine": {"min_lr": "eta_min", "warmup_epochs": "warmup_epochs"},
                "plateau": {"gamma": "factor", "min_lr": "min_lr", "patience": "patience"}}
    given = {"gamma": gamma, "step_size": step_size, "min_lr": min_lr,
             "warmup_epochs": warmup_epochs, "patience": patience}
    cls = SCHEDULES.get(name)
    names = accepted[name.lower()]
    config = {}
    for option, value in given.items():
        if value is None:
            continue
        if option not in names:
            raise ValueError(f"{option} is not used by the {name!r} schedule (it takes "
                             f"{', '.join(names)}); got {option}={value!r}.")
        config[names[option]] = value
    return cls(**config)
