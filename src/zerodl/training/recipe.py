"""A training run's recipe, said once: settings -> data -> network -> optimizer -> training.

``RunConfig`` holds every setting of a run; ``SETTINGS`` is its table (name -> rule, default,
help; ``zerodl.core.settings``), the one home that ``zerodl train``'s options, ``zerodl show``,
sweep grids and the playground all read. The same config and seed give bit-identical weights
through every face, since every face builds and trains through the methods here::

    config = RunConfig(dataset="moons", layers="2-8-2", optimizer="adam", iters=200)
    model, history = config.train(verbose=0)

``None`` in a setting stands for a default that depends on the others (``resolved()`` fills
them in): ``layers`` the data set's course network (784-40-10 for MNIST, 2-16-k for a toy set
with k = 2 softmax outputs, else 1); ``lr`` the course's 0.1 for SGD and the optimizer's own
rate otherwise; ``iters`` 1000 when ``epochs`` is not given either; ``n_train``, ``n_test``
200 points of a toy set (for MNIST: all of it, else its first N images) and ``noise`` 0.1.
"""
from __future__ import annotations

import functools
import os
from typing import Any, Callable, Mapping

import numpy as np

from ..core.datasets import load_mnist, make_toy
from ..core.initializers import INITIALIZERS
from ..core.layers import ACTIVATIONS
from ..core.losses import OUTPUTS
from ..core.optimizers import OPTIMIZERS, Optimizer
from ..core.schedules import SCHEDULES, schedule_from_options
from ..core.settings import (Boolean, Interval, OneOf, Options, Setting, Sizes, check_names)
from ..core.toy import MAX_NOISE, MAX_SAMPLES, PLANE, TOY_DATASETS
from .architectures import deep_convnet, mlp, simple_convnet
from .fit_callbacks import History
from .model import Sequential
from .progress import steps_per_epoch

#: The course's network of each kind of data set, by (inputs, outputs).
COURSE_HIDDEN = {"mnist": [40], "toy": [16]}
#: Iterations of a run that gives neither epochs nor iters: the course's 1000.
DEFAULT_ITERS = 1000
#: A toy set's default size and noise.
TOY_SAMPLES, TOY_NOISE = 200, 0.1


class DataSets:
    """The names of the data sets a run can use, read when checked (a toy set registered
    later is accepted)."""

    def names(self) -> list[str]:
        return ["mnist", *TOY_DATASETS.names(), PLANE]


def _mlp(config: "RunConfig") -> Sequential:
    return mlp(list(config.network()), activation=config.activation, output=config.output,
               init=config.init, seed=config.seed, dropout=config.dropout,
               batch_norm=config.batch_norm, weight_decay=config.weight_decay)


#: Name -> function(config) -> model: a new network family is one line here.
ARCHITECTURES: dict[str, Callable[["RunConfig"], Sequential]] = {
    "mlp": _mlp,
    "simple-cnn": lambda config: simple_convnet(seed=config.seed),
    "deep-cnn": lambda config: deep_convnet(seed=config.seed),
}
#: The convolutional families: MNIST's images as (N, 1, 28, 28), their own fixed layers.
IMAGE_ARCHITECTURES = ("simple-cnn", "deep-cnn")
#: Settings of the mlp family only.
MLP_ONLY = ("layers", "activation", "init", "dropout", "batch_norm", "weight_decay")

POSITIVE = Interval(float, 0, None, closed="neither")
COUNT = Interval(int, 1)


def _maybe(rule) -> OneOf:
    return OneOf(None, rule)


SETTINGS: dict[str, Setting] = {
    "dataset": Setting(Options(DataSets()), "mnist", "the data: mnist or a 2-D toy set", "NAME"),
    "arch": Setting(Options(ARCHITECTURES), "mlp", "the network's family", "NAME"),
    "layers": Setting(_maybe(Sizes()), None, "layer sizes joined by '-', like 784-40-10 "
                      "(none: the course's 784-40-10, or 2-16-2 for a toy set)", "SIZES"),
    "activation": Setting(Options(ACTIVATIONS), "relu", "activation of the hidden layers",
                          "NAME"),
    "output": Setting(Options(OUTPUTS), "softmax", "output layer and its loss", "NAME"),
    "init": Setting(OneOf(Options(INITIALIZERS), POSITIVE), 0.01,
                    "initialiser name or a normal's standard deviation", "INIT"),
    "optimizer": Setting(Options(OPTIMIZERS), "sgd", "the update rule", "NAME"),
    "lr": Setting(_maybe(POSITIVE), None, "learning rate (none: 0.1 for sgd, else the "
                  "optimizer's own)", "LR"),
    "batch_size": Setting(COUNT, 100, "samples per step", "N"),
    "epochs": Setting(_maybe(COUNT), None, "train this many epochs", "N"),
    "iters": Setting(_maybe(COUNT), None, "train this many iterations (none: 1000 unless "
                     "epochs is given)", "N"),
    "lr_schedule": Setting(_maybe(Options(SCHEDULES)), None,
                           "change the learning rate each epoch (plateau: on test loss)", "NAME"),
    "lr_gamma": Setting(_maybe(POSITIVE), None, "decay factor of step, exponential and "
                        "plateau", "F"),
    "lr_step_size": Setting(_maybe(COUNT), None, "epochs between drops of the step schedule",
                            "N"),
    "lr_min": Setting(_maybe(Interval(float, 0)), None, "floor of cosine and plateau", "LR"),
    "warmup_epochs": Setting(_maybe(Interval(int, 0)), None, "cosine's linear warm-up", "N"),
    "lr_patience": Setting(_maybe(Interval(int, 0)), None,
                           "plateau: epochs without improvement before a drop", "N"),
    "clip_norm": Setting(_maybe(POSITIVE), None, "clip the global gradient norm to MAX", "MAX"),
    "clip_value": Setting(_maybe(POSITIVE), None, "clip each gradient entry to [-MAX, MAX]",
                          "MAX"),
    "seed": Setting(Interval(int, 0), 0, "seed of the weights, the batch order and a toy "
                    "set's points", "N"),
    "n_train": Setting(_maybe(Interval(int, 2, MAX_SAMPLES)), None, "training samples "
                       "(none: 200 of a toy "
                       "set, all of mnist; else mnist's first N)", "N"),
    "n_test": Setting(_maybe(Interval(int, 2, MAX_SAMPLES)), None, "test samples "
                      "(none: 200 of a toy set, "
                      "all of mnist; else mnist's first N)", "N"),
    "noise": Setting(_maybe(Interval(float, 0, MAX_NOISE)), None,
                     "noise of a toy set (none: 0.1)", "F"),
    "dropout": Setting(Interval(float, 0, 1, closed="left"), 0.0,
                       "share of hidden units dropped while training", "P"),
    "batch_norm": Setting(Boolean(), False, "batch normalization after each hidden Dense"),
    "weight_decay": Setting(Interval(float, 0), 0.0, "L2 penalty on the weights", "F"),
}
#: The learning-rate schedule's options: lr_gamma -> schedule_from_options(gamma=...).
SCHEDULE_OPTIONS = {"lr_gamma": "gamma", "lr_step_size": "step_size", "lr_min": "min_lr",
                    "warmup_epochs": "warmup_epochs", "lr_patience": "patience"}


class RunConfig:
    """Every setting of one training run, checked at construction; frozen.

    ``RunConfig(**settings)``: a setting not given takes its default (``SETTINGS``); a bad
    value is refused with a ``ValueError`` naming the setting, the rule and the value, and
    settings that do not fit together (layers that do not match the data set) likewise.
    ``config.lr`` etc. read a setting; ``replace(**changes)`` gives a changed copy;
    ``to_dict()`` / ``from_dict(d)`` round-trip through JSON.
    """

    settings = SETTINGS

    def __init__(self, **settings: Any) -> None:
        check_names("RunConfig", settings, SETTINGS)
        for name, setting in SETTINGS.items():
            try:
                value = setting.check(name, settings.get(name, setting.default))
            except TypeError as exc:         # one kind of error for every face
                raise ValueError(str(exc)) from None
            object.__setattr__(self, name, value)
        self._check_together()

    # -- the value ------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a RunConfig is frozen; use config.replace({name}=...) for a "
                             f"changed copy")

    def to_dict(self) -> dict[str, Any]:
        """Every setting as a JSON value, in ``SETTINGS``' order."""
        return {name: s.rule.to_json(getattr(self, name)) for name, s in SETTINGS.items()}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "RunConfig":
        """The config of ``values`` (what ``to_dict`` gives; missing settings: defaults)."""
        check_names("config", values, SETTINGS)
        return cls(**values)

    def replace(self, **changes: Any) -> "RunConfig":
        return type(self)(**{**self.to_dict(), **changes})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunConfig) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in SETTINGS))

    def __repr__(self) -> str:
        changed = ", ".join(f"{name}={getattr(self, name)!r}" for name, s in SETTINGS.items()
                            if getattr(self, name) != s.default)
        return f"RunConfig({changed})"

    # -- settings that depend on others ---------------------------------------------------
    @property
    def toy(self) -> bool:
        return self.dataset != "mnist"

    def shape(self) -> tuple[int, int]:
        """The network's (inputs, outputs) for this data set and output layer."""
        if not self.toy:
            return 784, 10
        return 2, 1 if self.dataset == PLANE or self.output != "softmax" else 2

    def network(self) -> tuple[int, ...]:
        """The layer sizes: ``layers``, or the data set's course network."""
        if self.layers is not None:
            return self.layers
        n_in, n_out = self.shape()
        return (n_in, *COURSE_HIDDEN["toy" if self.toy else "mnist"], n_out)

    def learning_rate(self) -> float:
        """``lr``, or the course's 0.1 for SGD, or the optimizer's own default."""
        if self.lr is not None:
            return self.lr
        return 0.1 if self.optimizer == "sgd" else OPTIMIZERS.get(self.optimizer)().lr

    def resolved(self) -> "RunConfig":
        """The same run with every ``None`` that stands for a derived default filled in."""
        changes: dict[str, Any] = {"layers": list(self.network()), "lr": self.learning_rate()}
        if self.epochs is None and self.iters is None:
            changes["iters"] = DEFAULT_ITERS
        if self.toy:
            changes.update({key: getattr(self, key) if getattr(self, key) is not None
                            else default for key, default in (("n_train", TOY_SAMPLES),
                                                              ("n_test", TOY_SAMPLES),
                                                              ("noise", TOY_NOISE))})
        return self.replace(**changes)

    def steps_per_epoch(self, n: int) -> int:
        """Batches in one pass over ``n`` samples: ceil(n / batch), the last one shorter
        (a batch larger than the data is the whole data)."""
        return steps_per_epoch(n, self.batch_size)

    def total_steps(self, n: int) -> int:
        """The run's length in steps on ``n`` training samples."""
        if self.epochs is not None:
            return self.epochs * self.steps_per_epoch(n)
        return self.iters if self.iters is not None else DEFAULT_ITERS

    def _check_together(self) -> None:
        """Rules between settings, in the house's words."""
        if self.epochs is not None and self.iters is not None:
            raise ValueError(f"give epochs or iters, not both; got epochs={self.epochs!r} "
                             f"and iters={self.iters!r}.")
        if not self.toy and self.noise is not None:
            raise ValueError(f"noise is a setting of the toy data sets, not of MNIST; got "
                             f"noise={self.noise!r}.")
        if self.dataset == PLANE and self.output != "identity":
            raise ValueError(f"output must be 'identity' for the regression data set "
                             f"{PLANE!r}; got {self.output!r}.")
        (n_in, n_out), sizes = self.shape(), self.network()
        if sizes[0] != n_in or sizes[-1] != n_out:
            raise ValueError(f"layers must go from {n_in} inputs to {n_out} outputs for "
                             f"{self.dataset} with the {self.output} output; got "
                             f"{'-'.join(map(str, sizes))}.")
        if self.activation == "step" and len(sizes) > 2:
            raise ValueError("activation must not be 'step' with hidden layers: step has no "
                             "gradient to train with; got 'step'.")
        self._check_schedule()
        self._check_architecture()

    def _check_schedule(self) -> None:
        given = {name: getattr(self, name) for name in SCHEDULE_OPTIONS
                 if getattr(self, name) is not None}
        if self.lr_schedule is None and given:
            name, value = next(iter(given.items()))
            raise ValueError(f"{name} needs lr_schedule: it is an option of the learning-rate "
                             f"schedule, and none is chosen; got {name}={value!r}.")
        self.build_schedule()       # the schedule's own checks, before any work

    def _check_architecture(self) -> None:
        if self.arch not in IMAGE_ARCHITECTURES:
            return
        if self.dataset != "mnist" or self.output != "softmax":
            raise ValueError(f"arch {self.arch!r} must train on mnist with the softmax output "
                             f"(it is the book's network for MNIST's images); got dataset="
                             f"{self.dataset!r}, output={self.output!r}.")
        changed = [name for name in MLP_ONLY
                   if getattr(self, name) != SETTINGS[name].default]
        if changed:
            raise ValueError(f"{changed[0]} is a setting of arch 'mlp'; arch {self.arch!r} has "
                             f"the book's fixed layers; got {changed[0]}="
                             f"{getattr(self, changed[0])!r}.")

    # -- the run --------------------------------------------------------------------------
    def load_data(self, *, data_dir: str | os.PathLike | None = None,
                  mnist_loader: Callable | None = None) -> tuple:
        """``((x_train, d_train), (x_test, d_test))`` of this run.

        MNIST: ``load_mnist`` (read once per process and kept read-only; ``data_dir`` or
        ``$ZERODL_DATA_DIR``), or ``mnist_loader`` where given, called as ``load_mnist``
        (``one_hot_label=``, ``data_dir=``); ``n_train`` / ``n_test`` keep the first images.
        A toy set: two draws of ``make_toy`` from generators derived from the seed, one for
        training and one held out for the test, so the test points are new points.
        """
        if not self.toy:
            one_hot = self.output != "softmax"
            train, test = (
                mnist_loader(one_hot_label=one_hot, data_dir=data_dir) if mnist_loader
                else _mnist(one_hot, None if data_dir is None else str(data_dir),
                            os.environ.get("ZERODL_DATA_DIR")))
            (x, d), (x_test, d_test) = ((train[0][:self.n_train], train[1][:self.n_train]),
                                        (test[0][:self.n_test], test[1][:self.n_test]))
            if self.arch in IMAGE_ARCHITECTURES:        # images: (N, 1, 28, 28), no copy
                x, x_test = x.reshape(-1, 1, 28, 28), x_test.reshape(-1, 1, 28, 28)
            return (x, d), (x_test, d_test)
        config = self.resolved()
        draws = []
        for part, n in ((0, config.n_train), (1, config.n_test)):
            rng = np.random.default_rng([self.seed, part])    # never equal to default_rng(seed)
            draws.append(make_toy(self.dataset, n_samples=n, noise=config.noise, seed=rng))
        return tuple(draws)

    def build_model(self) -> Sequential:
        """The network with its initial weights (seeded by ``seed``)."""
        return ARCHITECTURES[self.arch](self)

    def build_optimizer(self) -> Optimizer:
        return OPTIMIZERS.get(self.optimizer)(lr=self.learning_rate())

    def build_schedule(self):
        """The learning-rate schedule with its options, or None."""
        if self.lr_schedule is None:
            return None
        return schedule_from_options(self.lr_schedule, **{
            option: getattr(self, name) for name, option in SCHEDULE_OPTIONS.items()})

    def fit(self, model: Sequential, optimizer: Optimizer, *, data: tuple | None = None,
            schedule=None, callbacks=None, verbose: int = 1, **fit_options) -> History:
        """Train ``model`` with ``optimizer`` as this config says, through ``model.fit``;
        ``data`` as ``load_data`` gives it (loaded if None), ``schedule`` replaces
        ``build_schedule()``, ``fit_options`` go to ``fit`` (``eval_every``,
        ``checkpoint``, ``resume``)."""
        (x, d), validation = data if data is not None else self.load_data()
        return model.fit(x, d, epochs=self.epochs or 1,
                         steps=None if self.epochs else self.total_steps(len(x)),
                         batch_size=self.batch_size, optimizer=optimizer,
                         validation_data=validation, seed=self.seed, verbose=verbose,
                         lr_schedule=schedule if schedule is not None else self.build_schedule(),
                         clip_norm=self.clip_norm, clip_value=self.clip_value,
                         callbacks=callbacks, **fit_options)

    def train(self, callbacks=None, verbose: int = 1, *, data: tuple | None = None,
              data_dir: str | os.PathLike | None = None,
              **fit_options) -> tuple[Sequential, History]:
        """Load the data, build the network and the optimizer, train; ``(model, history)``."""
        data = data if data is not None else self.load_data(data_dir=data_dir)
        model = self.build_model()
        history = self.fit(model, self.build_optimizer(), data=data, callbacks=callbacks,
                           verbose=verbose, **fit_options)
        return model, history


@functools.lru_cache(maxsize=2)
def _mnist(one_hot: bool, data_dir: str | None, env_dir: str | None):
    """MNIST read once per process (about half a second each time otherwise), read-only so
    that no run can change what the next one sees. ``env_dir`` ($ZERODL_DATA_DIR) is only
    part of the cache's key: ``load_mnist`` reads it itself."""
    arrays = load_mnist(one_hot_label=one_hot, data_dir=data_dir)
    for pair in arrays:
        for a in pair:
            a.flags.writeable = False
    return arrays
