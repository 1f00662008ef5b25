"""The playground's configuration: what the page sets, checked once.

``PlaygroundConfig`` holds settings of the run (``RunConfig``'s, under ``SETTINGS``' rules
and their very messages) and the page's own limits (``LIMITS``), said as such in the
messages. ``parse_config`` checks what the page sends.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..core._checks import plain
from ..core.settings import Interval, Options, Rule
from ..training.recipe import SETTINGS, RunConfig


TOY_SETS = ("circle", "xor", "gaussian", "spiral", "moons")
#: Regression: RunConfig's "plane" and the page's own mix of Gaussians (TF Playground's two).
REGRESSION_SETS = ("plane", "reg-gauss")
DATASETS = (*TOY_SETS, *REGRESSION_SETS, "mnist")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "identity")
INITS = ("0.01", "xavier", "he")
#: Output layers: two classes as softmax over 2 outputs or one sigmoid output (binary
#: cross-entropy); regression one identity output (mean squared error).
CLASSIFICATION_OUTPUTS = ("softmax", "sigmoid")
#: The inputs the network may take, computed from a point (x1, x2) (TF Playground's set).
FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
REGULARIZATIONS = ("none", "L1", "L2")

#: The page's own limits: they bound memory and the work of one snapshot. A setting of the
#: run must keep ``RunConfig``'s rule first, then these.
LIMITS = {
    "hidden_layers": 6,
    "neurons_2d": 8,
    "neurons_mnist": 128,
    "samples_2d": (20, 2000),
    "samples_mnist": (100, 10000),
    "noise": (0.0, 0.5),
    "train_ratio": (0.1, 0.9),
    "lr": (1e-6, 10.0),
    "batch_size": (1, 1000),
    "seed": (0, 2**31 - 1),
    "steps": (1, 1000),
    "regularization_rate": (0.0, 10.0),
    "dropout": (0.0, 0.9),
}
#: The settings of the run that the page sets, and the page's limit on each.
PAGE_LIMITS: dict[str, Rule] = {
    "dataset": Options(DATASETS), "noise": Interval(float, *LIMITS["noise"]),
    "activation": Options(ACTIVATIONS), "init": Options(INITS),
    "optimizer": SETTINGS["optimizer"].rule, "lr": Interval(float, *LIMITS["lr"]),
    "batch_size": Interval(int, *LIMITS["batch_size"]), "seed": Interval(int, *LIMITS["seed"]),
    "output": Options(("softmax", "sigmoid", "identity")),
    "dropout": Interval(float, *LIMITS["dropout"]),
}


class ConfigError(ValueError):
    """A configuration or request the playground refuses; its message is shown on the page."""


class Busy(RuntimeError):
    """A request to train steps while another one still runs (the server answers 409)."""


@dataclass(frozen=True)
class PlaygroundConfig:
    """What the page sets: settings of the run (``RunConfig``'s: ``dataset``, ``noise``,
    ``activation``, ``init``, ``optimizer``, ``lr``, ``batch_size``, ``seed``, ``output``,
    ``dropout``; L2's rate is its ``weight_decay``) and the page's own: ``hidden`` (neurons
    per hidden layer), ``n_samples`` and ``train_ratio`` (the points drawn and the share
    trained on), ``features`` (the network's inputs, computed from the point),
    ``regularization`` ("none", "L1", "L2") with its ``regularization_rate``, and the
    data set "reg-gauss". The defaults are the page's first run."""

    dataset: str = "spiral"
    noise: float = 0.0
    n_samples: int = 400
    train_ratio: float = 0.5
    hidden: tuple[int, ...] = (8, 8, 8)
    activation: str = "relu"
    init: str = "he"
    optimizer: str = "adam"
    lr: float = 0.01
    batch_size: int = 10
    seed: int = 0
    output: str = "softmax"
    features: tuple[str, ...] = ("x1", "x2")
    regularization: str = "none"
    regularization_rate: float = 0.0
    dropout: float = 0.0

    def to_json(self) -> dict[str, Any]:
        result = asdict(self)
        result["hidden"], result["features"] = list(self.hidden), list(self.features)
        return result

    @property
    def n_train(self) -> int:
        return round(self.n_samples * self.train_ratio)

    @property
    def regression(self) -> bool:
        return self.dataset in REGRESSION_SETS

    @property
    def penalty(self) -> tuple[str, float] | None:
        """The weight penalty in force, ("L1" or "L2", rate), or None."""
        if self.regularization == "none" or self.regularization_rate == 0:
            return None
        return self.regularization, self.regularization_rate

    def run_config(self) -> RunConfig:
        """The run this page trains. With the inputs x1, x2, no L1 and a data set of
        ``RunConfig``'s, ``RunConfig.train`` of it gives the weights that ``TrainingSession``
        reaches after as many steps; otherwise it is the run checked for the page (its
        network takes 2 inputs, the page's ``len(features)``)."""
        mnist = self.dataset == "mnist"
        l2 = self.regularization_rate if self.penalty and self.penalty[0] == "L2" else 0.0
        run = RunConfig(dataset="plane" if self.regression else self.dataset,
                        noise=None if mnist else self.noise, activation=self.activation,
                        init=SETTINGS["init"].rule.parse(self.init), optimizer=self.optimizer,
                        lr=self.lr, batch_size=self.batch_size, seed=self.seed,
                        n_train=self.n_train, n_test=self.n_samples - self.n_train,
                        output=self.output, dropout=self.dropout, weight_decay=l2)
        n_in, n_out = run.shape()
        return run.replace(layers=[n_in, *self.hidden, n_out])


def _page_limit(name: str, rule: Rule, value: Any) -> Any:
    """``value`` within the page's limit ``rule``, or a ``ConfigError`` that says so."""
    try:
        return rule.check(name, value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be {rule.describe()} in the playground (a limit of its "
                          f"page); got {plain(value)!r}.") from None


def _run_setting(name: str, value: Any) -> Any:
    """``value`` under ``RunConfig``'s rule for ``name`` (its very message), then the page's."""
    # The page's "0.01" is a menu entry, read after its limit; "reg-gauss" is the page's own.
    if name != "init" and (name, value) != ("dataset", "reg-gauss"):
        try:
            value = SETTINGS[name].check(name, value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(str(exc)) from None
    return _page_limit(name, PAGE_LIMITS[name], value)


def parse_config(raw: Any) -> PlaygroundConfig:
    """Check a configuration sent by the page; missing keys take the defaults.

    Raises ``ConfigError`` (one sentence naming the field, the rule and the value) for an
    unknown key, a wrong type, a value that ``RunConfig`` refuses (its message) or one out of
    the page's ``LIMITS`` (a message that says it is the playground's limit).
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"the configuration must be a JSON object; got {type(raw).__name__}.")
    defaults = PlaygroundConfig()
    unknown = sorted(set(raw) - set(defaults.to_json()))
    if unknown:
        raise ConfigError(f"unknown configuration field(s): {', '.join(map(str, unknown))[:200]}.")
    get = lambda key: raw.get(key, getattr(defaults, key))    # noqa: E731
    run = {name: _run_setting(name, get(name)) for name in ("dataset", "noise", "activation",
                                                            "init", "optimizer", "lr", "seed")}
    mnist = run["dataset"] == "mnist"
    low, high = LIMITS["samples_mnist" if mnist else "samples_2d"]
    n_samples = _page_limit("n_samples", Interval(int, low, high),
                            raw.get("n_samples", 2000 if mnist else defaults.n_samples))
    train_ratio = _page_limit("train_ratio", Interval(float, *LIMITS["train_ratio"]),
                              get("train_ratio"))
    hidden = get("hidden")
    if not isinstance(hidden, (list, tuple)) or len(hidden) > LIMITS["hidden_layers"]:
        raise ConfigError(f"hidden must be a list of at most {LIMITS['hidden_layers']} layer "
                          f"sizes in the playground (a limit of its page); got "
                          f"{str(hidden)[:80]}.")
    neurons = Interval(int, 1, LIMITS["neurons_mnist" if mnist else "neurons_2d"])
    hidden = tuple(_page_limit(f"hidden[{i}]", neurons, h) for i, h in enumerate(hidden))
    batch_size = _run_setting("batch_size", get("batch_size"))
    n_train = round(n_samples * train_ratio)
    _page_limit("batch_size", Interval(int, 1, max(1, n_train)), batch_size)
    output = _run_setting("output", raw.get("output", "identity" if run["dataset"] in
                                            REGRESSION_SETS else "softmax"))
    if output not in _outputs(run["dataset"]):
        _page_limit("output", Options(_outputs(run["dataset"])), output)
    config = PlaygroundConfig(n_samples=n_samples, train_ratio=train_ratio, hidden=hidden,
                              batch_size=batch_size, output=output,
                              dropout=_run_setting("dropout", get("dropout")),
                              features=_features(get("features"), mnist),
                              regularization=_page_limit("regularization",
                                                         Options(REGULARIZATIONS),
                                                         get("regularization")),
                              regularization_rate=_page_limit(
                                  "regularization_rate",
                                  Interval(float, *LIMITS["regularization_rate"]),
                                  get("regularization_rate")), **run)
    try:
        config.run_config()               # the run's rules between settings
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return config


def _outputs(dataset: str) -> tuple[str, ...]:
    """The output layers the page offers for ``dataset``."""
    if dataset in REGRESSION_SETS:
        return ("identity",)
    return ("softmax",) if dataset == "mnist" else CLASSIFICATION_OUTPUTS


def _features(value: Any, mnist: bool) -> tuple[str, ...]:
    """The chosen inputs, in ``FEATURES``' order: at least one, each once (MNIST: its
    pixels, so the choice must stay x1, x2, the default)."""
    if (not isinstance(value, (list, tuple)) or not value
            or not all(isinstance(name, str) and name in FEATURES for name in value)
            or len(set(value)) != len(value)):
        raise ConfigError(f"features must be a non-empty list of distinct names from "
                          f"{', '.join(FEATURES)}; got {str(value)[:120]}.")
    features = tuple(name for name in FEATURES if name in value)
    if mnist and features != ("x1", "x2"):
        raise ConfigError(f"features must be x1, x2 for mnist (its inputs are the pixels) in "
                          f"the playground (a limit of its page); got {', '.join(features)}.")
    return features
