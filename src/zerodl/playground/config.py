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
DATASETS = (*TOY_SETS, "mnist")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "identity")
INITS = ("0.01", "xavier", "he")

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
}
#: The settings of the run that the page sets, and the page's limit on each.
PAGE_LIMITS: dict[str, Rule] = {
    "dataset": Options(DATASETS), "noise": Interval(float, *LIMITS["noise"]),
    "activation": Options(ACTIVATIONS), "init": Options(INITS),
    "optimizer": SETTINGS["optimizer"].rule, "lr": Interval(float, *LIMITS["lr"]),
    "batch_size": Interval(int, *LIMITS["batch_size"]), "seed": Interval(int, *LIMITS["seed"]),
}
class ConfigError(ValueError):
    """A configuration or request the playground refuses; its message is shown on the page."""


class Busy(RuntimeError):
    """A request to train steps while another one still runs (the server answers 409)."""


@dataclass(frozen=True)
class PlaygroundConfig:
    """What the page sets: settings of the run (``RunConfig``'s: ``dataset``, ``noise``,
    ``activation``, ``init``, ``optimizer``, ``lr``, ``batch_size``, ``seed``) and the page's
    own: ``hidden`` (neurons per hidden layer), ``n_samples`` and ``train_ratio`` (the
    points drawn and the share trained on). The defaults are the page's first run."""

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

    def to_json(self) -> dict[str, Any]:
        result = asdict(self)
        result["hidden"] = list(self.hidden)
        return result

    @property
    def n_train(self) -> int:
        return round(self.n_samples * self.train_ratio)

    def run_config(self) -> RunConfig:
        """The run this page trains: ``RunConfig.train`` of it gives the weights that
        ``TrainingSession`` reaches after as many steps."""
        mnist = self.dataset == "mnist"
        run = RunConfig(dataset=self.dataset, noise=None if mnist else self.noise,
                        activation=self.activation, init=SETTINGS["init"].rule.parse(self.init),
                        optimizer=self.optimizer, lr=self.lr, batch_size=self.batch_size,
                        seed=self.seed, n_train=self.n_train, n_test=self.n_samples - self.n_train)
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
    if name != "init":              # the page's "0.01" is a menu entry, read after its limit
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
    config = PlaygroundConfig(n_samples=n_samples, train_ratio=train_ratio, hidden=hidden,
                              batch_size=batch_size, **run)
    try:
        config.run_config()               # the run's rules between settings
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return config
