"""The playground's training session: a zerodl network trained in a background thread.

The page never touches the network. It sends a configuration (checked by ``parse_config``:
a ``RunConfig`` and the page's own limits) and commands (play, pause, step, reset); the
session trains the run's network with ``model.train_step`` on the batches ``fit`` would
draw (``BatchOrder``), so n steps here give the weights of ``RunConfig.train`` with
``iters=n``, and publishes what the page draws
as one JSON text with a version number. Readers (the server's event streams) poll that
pair, so a slow or vanished reader never holds the training thread back: it simply skips
to the newest snapshot.

Everything the model does happens under one lock: training steps, snapshots and traces.
"""
from __future__ import annotations

import base64
import json
import math
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from ..core._checks import plain
from ..core.layers import Dense
from ..core.metrics import confusion_matrix
from ..core.settings import Interval, Options, Rule
from ..training.recipe import SETTINGS, BatchOrder, RunConfig

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
BOUNDARY_GRID = 64      # decision boundary: predictions on a 64 x 64 grid (smooth edges)
NEURON_GRID = 20        # each hidden neuron's map: a coarser grid keeps the snapshot small
MAX_CURVE_POINTS = 400  # the loss curves are thinned by half when they grow past this
MAX_W1_IMAGES = 32      # MNIST: the first 32 hidden neurons' weights as 28 x 28 images
MNIST_EVAL = 1000       # MNIST: loss, accuracy and confusion on at most this many samples
PUBLISH_EVERY = 0.05    # seconds: at most 20 snapshots a second


class ConfigError(ValueError):
    """A configuration or request the playground refuses; its message is shown on the page."""


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


# -- data --------------------------------------------------------------------------------
@dataclass
class Data:
    x_train: np.ndarray
    d_train: np.ndarray
    x_test: np.ndarray
    d_test: np.ndarray
    n_classes: int
    lo: np.ndarray = field(default_factory=lambda: np.array([-1.0, -1.0]))   # plane shown
    hi: np.ndarray = field(default_factory=lambda: np.array([1.0, 1.0]))


def make_data(config: PlaygroundConfig, mnist_loader: Callable | None = None) -> Data:
    """The training and test sets of ``config``'s run (``RunConfig.load_data``).

    ``mnist_loader()`` returns ``((x_train, d_train), (x_test, d_test))`` like ``load_mnist``;
    the server passes a cached one so that MNIST is read once. Its errors (``MNISTUnavailable``)
    go to the caller.
    """
    loader = None if mnist_loader is None else lambda **options: mnist_loader()  # softmax
    (x, d), (x_test, d_test) = config.run_config().load_data(mnist_loader=loader)
    if config.dataset == "mnist":
        return Data(x, d, x_test, d_test, 10)
    # The plane shown: the data's range with a margin, square so that circles look round.
    points = np.concatenate([x, x_test])
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    half = max(float(np.max(points.max(axis=0) - points.min(axis=0))) / 2 * 1.1, 1e-3)
    return Data(x, d, x_test, d_test, 2, lo=centre - half, hi=centre + half)


def grid_points(lo: np.ndarray, hi: np.ndarray, n: int) -> np.ndarray:
    """The centres of an n x n grid over [lo, hi], row by row from the top (largest x1)."""
    xs = lo[0] + (np.arange(n) + 0.5) * (hi[0] - lo[0]) / n
    ys = hi[1] - (np.arange(n) + 0.5) * (hi[1] - lo[1]) / n
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)


def _bytes(values: np.ndarray) -> str:
    """uint8 values as base64 text: about 1.3 characters per cell instead of about 6 in JSON."""
    return base64.b64encode(np.ascontiguousarray(values, dtype=np.uint8).tobytes()).decode("ascii")


def _signed_bytes(values: np.ndarray) -> tuple[str, float]:
    """Map v in [-m, m] (m = max |v|) to 0..255 with 0 at 127.5; return the text and m."""
    m = float(np.max(np.abs(values))) if values.size else 0.0
    scaled = np.zeros_like(values) if m == 0 else values / m
    return _bytes(np.round((scaled + 1) * 127.5)), m


def _round(values, digits: int = 4) -> list:
    return np.round(np.asarray(values, dtype=np.float64), digits).tolist()


# -- the session ---------------------------------------------------------------------------
class TrainingSession:
    """One network, its data and optimizer, and the thread that trains it while playing."""

    def __init__(self, config: PlaygroundConfig, data: Data) -> None:
        self.config = config
        self.data = data
        self.mnist = config.dataset == "mnist"
        run = config.run_config()
        self.model, self.optimizer = run.build_model(), run.build_optimizer()
        self.x_train = self.model.prepare_inputs(data.x_train)
        self.d_train = self.model.prepare_labels(data.d_train, len(self.x_train))
        self.x_test = self.model.prepare_inputs(data.x_test)
        self.d_test = self.model.prepare_labels(data.d_test, len(self.x_test))
        # The batches of RunConfig.train: the run's weights after n steps are the page's.
        self.batches = BatchOrder(len(self.x_train), config.batch_size, config.seed)
        self.step = 0
        self.curves: dict[str, list] = {"step": [], "train_loss": [], "test_loss": [],
                                         "train_accuracy": [], "test_accuracy": []}
        self._curve_stride = 1          # record one point every this many steps
        self.status = "paused"
        self.error: str | None = None
        self.lock = threading.Lock()
        self._version = 0
        self._latest = ""
        self._latest_lock = threading.Lock()   # readers never wait for the model's lock
        self._playing = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        if not self.mnist:
            self.boundary_grid = grid_points(data.lo, data.hi, BOUNDARY_GRID)
            self.neuron_grid = grid_points(data.lo, data.hi, NEURON_GRID)
        with self.lock:
            self._record_curves()
            self._publish()

    # -- training ----------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        """Completed passes over the training set."""
        return self.batches.epoch

    def _train_one(self) -> None:
        """One optimizer step on one batch (call with the lock held)."""
        batch = self.batches.next()
        loss, _ = self.model.train_step(self.x_train[batch], self.d_train[batch], self.optimizer)
        self.step += 1
        if not math.isfinite(loss):
            self._playing.clear()
            self.status = "paused"
            self.error = "diverged"
        if self.step % self._curve_stride == 0:
            self._record_curves()

    def _record_curves(self) -> None:
        train = self._measure(self.x_train, self.d_train)
        test = self._measure(self.x_test, self.d_test)
        for key, value in (("step", self.step), ("train_loss", train["loss"]),
                           ("test_loss", test["loss"]), ("train_accuracy", train["accuracy"]),
                           ("test_accuracy", test["accuracy"])):
            self.curves[key].append(value)
        if len(self.curves["step"]) > MAX_CURVE_POINTS:
            # Keep every other point (always the first) and record half as often from now on.
            for key in self.curves:
                self.curves[key] = self.curves[key][::2]
            self._curve_stride *= 2

    def _measure(self, x: np.ndarray, d: np.ndarray) -> dict[str, float]:
        return self.model.evaluate_prepared(x[:MNIST_EVAL] if self.mnist else x,
                                            d[:MNIST_EVAL] if self.mnist else d)

    def _run(self) -> None:
        last = 0.0
        while not self._closed.is_set():
            if not self._playing.wait(0.1):
                continue
            with self.lock:
                if self._closed.is_set() or not self._playing.is_set():
                    continue
                self._train_one()
                now = time.monotonic()
                if now - last >= PUBLISH_EVERY or not self._playing.is_set():
                    self._publish()
                    last = now
            time.sleep(0)       # let request threads take the lock between steps

    def play(self) -> None:
        with self.lock:
            if self._closed.is_set():
                return
            self.status = "playing"
            self.error = None
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="zerodl-playground",
                                                daemon=True)
                self._thread.start()
            self._playing.set()
            self._publish()

    def pause(self) -> None:
        self._playing.clear()
        with self.lock:
            self.status = "paused"
            if self.step % self._curve_stride:
                self._record_curves()   # the curves end where training stopped
            self._publish()

    def advance(self, steps: int = 1) -> int:
        """Pause, then train exactly ``steps`` batches; return the step count."""
        self._playing.clear()
        with self.lock:
            self.status = "paused"
            for _ in range(steps):
                self._train_one()
            if self.step % self._curve_stride:
                self._record_curves()
            self._publish()
            return self.step

    def close(self, timeout: float = 5.0) -> None:
        """Stop the training thread and wait for it to end."""
        self._closed.set()
        self._playing.set()         # wake a waiting thread so that it sees the closing
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- what the page sees ------------------------------------------------------------
    def latest(self) -> tuple[int, str]:
        """The newest snapshot's version and JSON text."""
        with self._latest_lock:
            return self._version, self._latest

    def _publish(self) -> None:
        text = json.dumps(self._snapshot(), separators=(",", ":"))
        with self._latest_lock:
            self._version += 1
            self._latest = text

    def _snapshot(self) -> dict[str, Any]:
        model = self.model
        n_train = len(self.x_train)
        snap: dict[str, Any] = {
            "version": self._version + 1,
            "status": self.status,
            "error": self.error,
            "step": self.step,
            "epoch": self.epoch,
            "epoch_progress": round(self.step * self.config.batch_size / n_train, 3),
            "config": self.config.to_json(),
            "curves": {key: _round(values) for key, values in self.curves.items()},
            "sizes": [model.n_in, *self.config.hidden, model.n_out],
        }
        last = {key: values[-1] for key, values in self.curves.items()}
        snap["train_loss"], snap["test_loss"] = last["train_loss"], last["test_loss"]
        snap["train_accuracy"], snap["test_accuracy"] = (last["train_accuracy"],
                                                         last["test_accuracy"])
        if self.mnist:
            snap.update(self._mnist_views())
        else:
            snap.update(self._plane_views())
        return snap

    def _plane_views(self) -> dict[str, Any]:
        model = self.model
        p = model.predict(self.boundary_grid)[:, 1]          # P(class 1) on the grid
        neurons = []
        outputs = model.layer_outputs(self.neuron_grid)
        for layer, z in zip(model.layers, outputs):
            if isinstance(layer, Dense):
                continue                                    # u: shown through z
            neurons.append([])
            for k in range(z.shape[1]):
                text, m = _signed_bytes(z[:, k])
                neurons[-1].append({"map": text, "max": round(m, 4)})
        return {
            "kind": "plane",
            "lo": _round(self.data.lo), "hi": _round(self.data.hi),
            "boundary_grid": BOUNDARY_GRID, "neuron_grid": NEURON_GRID,
            "boundary": _bytes(np.round(p * 255)),
            "neurons": neurons,
            "weights": [_round(layer.W, 3) for layer in model.dense],
            "biases": [_round(layer.b, 3) for layer in model.dense],
            "train_points": _round(self.data.x_train, 3), "train_labels": self.data.d_train.tolist(),
            "test_points": _round(self.data.x_test, 3), "test_labels": self.data.d_test.tolist(),
        }

    def _mnist_views(self) -> dict[str, Any]:
        model = self.model
        W1 = model.dense[0].W
        images = [_signed_bytes(W1[:, k]) for k in range(min(W1.shape[1], MAX_W1_IMAGES))]
        x, d = self.x_test[:MNIST_EVAL], self.data.d_test[:MNIST_EVAL]
        predicted = np.argmax(model.predict(x), axis=1)
        return {
            "kind": "mnist",
            "w1_images": [{"map": text, "max": round(m, 4)} for text, m in images],
            "confusion": confusion_matrix(d, predicted, n_classes=10).tolist(),
            # W2, W3, ...: small ones drawn as wires; W1 is shown as images instead.
            "weights": [None, *(_round(layer.W, 3) if layer.W.size <= 64 * 64 else None
                                for layer in model.dense[1:])],
            "test_labels": self.data.d_test[:40].tolist(),
        }

    # -- the trace panel -----------------------------------------------------------------
    def trace(self, which: str, index: int) -> dict[str, Any]:
        """The course's quantities for one sample: every layer's u and z, y, E and dE/du.

        Forward layer by layer through ``model.layers``; the output layer gives E and dE/du
        of the last layer; backward layer by layer gives dE/du of the earlier ones.
        """
        if which not in ("train", "test"):
            raise ConfigError(f"set must be one of train, test; got {which!r}.")
        x_all = self.x_train if which == "train" else self.x_test
        labels = self.data.d_train if which == "train" else self.data.d_test
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(x_all):
            raise ConfigError(f"index must be an integer in [0, {len(x_all) - 1}]; got {index!r}.")
        with self.lock:
            model = self.model
            x = x_all[index:index + 1]
            u_list, z_list = [], []
            h = x
            for layer in model.layers:
                h = layer.forward(h)
                (u_list if isinstance(layer, Dense) else z_list).append(h[0].copy())
            d = model.prepare_labels(labels[index:index + 1], 1)
            loss, du, y = model.output.loss_and_grad(h, d)
            du_list = []
            for layer in reversed(model.layers):
                if isinstance(layer, Dense):
                    du_list.append(du[0].copy())
                du = layer.backward(du)
            du_list.reverse()
        return {
            "set": which, "index": index, "x": _round(x[0], 4), "d": int(labels[index]),
            "u": [_round(u) for u in u_list], "z": [_round(z) for z in z_list],
            "y": _round(y[0], 6), "loss": round(float(loss), 6), "du": [_round(g, 6) for g in du_list],
            "predicted": int(np.argmax(y[0])),
        }
