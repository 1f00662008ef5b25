"""The playground's training session: a zerodl network trained in a background thread.

The page never touches the network. It sends a configuration (checked by ``parse_config``:
a ``RunConfig`` and the page's own limits) and commands (play, pause, step, reset); the
session trains the run's network through ``fit``'s own loop, a ``TrainingRun`` iterated one
step at a time (its batches, its divergence guard, its ``History``), so n steps here give
the weights of ``RunConfig.train`` with ``iters=n``. It publishes what the page draws as one
JSON text (valid JSON: no NaN or Infinity) with a version number. Readers (the server's event streams) poll that
pair, so a slow or vanished reader never holds the training thread back: it simply skips
to the newest snapshot.

Everything the model does happens under one lock, taken for one step at a time: training
steps, snapshots and traces. A request to train n steps gives the lock up between steps and
stops early when the learner pauses, plays, resets, when the server shuts down or when its
client goes away; only one such request runs at a time (``Busy`` refuses another).
"""
from __future__ import annotations

import base64
import json
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..core.errors import TrainingDiverged
from ..core.layers import Dense, Dropout
from ..core.metrics import confusion_matrix
from ..training.loop import TrainingRun
from .config import Busy, ConfigError, PlaygroundConfig
from .features import build_model, feature_inputs, load_gauss_mix

BOUNDARY_GRID = 64      # decision boundary: predictions on a 64 x 64 grid (smooth edges)
NEURON_GRID = 20        # each hidden neuron's map: a coarser grid keeps the snapshot small
MAX_CURVE_POINTS = 400  # the loss curves are thinned by half when they grow past this
MAX_W1_IMAGES = 32      # MNIST: the first 32 hidden neurons' weights as 28 x 28 images
MNIST_EVAL = 1000       # MNIST: loss, accuracy and confusion on at most this many samples
PUBLISH_EVERY = 0.05    # seconds: at most 20 snapshots a second
#: fit's loop needs a length; the playground's run ends only when the learner stops it.
ENDLESS_EPOCHS = 10**9


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
    if config.dataset == "reg-gauss":       # the page's own set
        (x, d), (x_test, d_test) = load_gauss_mix(config)
    else:
        (x, d), (x_test, d_test) = config.run_config().load_data(mnist_loader=loader)
    if config.dataset == "mnist":
        return Data(x, d, x_test, d_test, 10)
    # The plane shown: the data's range with a margin, square so that circles look round.
    points = np.concatenate([x, x_test])
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    half = max(float(np.max(points.max(axis=0) - points.min(axis=0))) / 2 * 1.1, 1e-3)
    return Data(x, d, x_test, d_test, 0 if config.regression else 2, lo=centre - half,
                hi=centre + half)


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
    """Rounded values as a list; NaN and infinities become None (null in JSON)."""
    values = np.round(np.asarray(values, dtype=np.float64), digits)
    if np.isfinite(values).all():
        return values.tolist()
    return np.where(np.isfinite(values), values, None).tolist()


def _finite(value: Any) -> Any:
    """``value`` with every float that is not finite replaced by None, all the way down."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


# -- the session ---------------------------------------------------------------------------
class TrainingSession:
    """One network, its data and optimizer, and the thread that trains it while playing.

    Training is ``fit``'s loop: ``self.run`` is the ``TrainingRun`` of the page's run, and
    each step is ``next(self._steps)`` on it. A divergence (``TrainingDiverged``: the run's
    guard has put the last good weights back) ends the run: the session stays paused with
    ``error == "diverged"`` until a reset.
    """

    def __init__(self, config: PlaygroundConfig, data: Data) -> None:
        self.config = config
        self.data = data
        self.mnist = config.dataset == "mnist"
        self.model = build_model(config)
        self.optimizer = config.run_config().build_optimizer()
        features = config.features
        # The run of RunConfig.train (fit's batches, from the same seed), without an end.
        self.run = TrainingRun(self.model, feature_inputs(data.x_train, features), data.d_train,
                               epochs=ENDLESS_EPOCHS,
                               batch_size=config.batch_size, optimizer=self.optimizer,
                               seed=config.seed, verbose=0)
        self._steps = iter(self.run)
        self.x_train, self.d_train = self.run.x, self.run.d
        self.x_test = self.model.prepare_inputs(feature_inputs(data.x_test, features))
        self.d_test = self.model.prepare_labels(data.d_test, len(self.x_test))
        self.step = 0
        self.curves: dict[str, list] = {"step": [], "train_loss": [], "test_loss": [],
                                         "train_accuracy": [], "test_accuracy": []}
        self._curve_stride = 1          # record one point every this many steps
        self.status = "paused"
        self.error: str | None = None
        self.error_detail: str | None = None
        self.lock = threading.Lock()
        self._version = 0
        self._latest = ""
        self._latest_lock = threading.Lock()   # readers never wait for the model's lock
        self._playing = threading.Event()
        self._closed = threading.Event()
        self._stepping = threading.Lock()      # one step request at a time
        self._generation = 0                   # bumped by pause, play, close: ends a step request
        self._thread: threading.Thread | None = None
        self.steps_per_frame: int | None = None
        if not self.mnist:
            self.boundary_grid = feature_inputs(grid_points(data.lo, data.hi, BOUNDARY_GRID),
                                                features)
            self.neuron_grid = feature_inputs(grid_points(data.lo, data.hi, NEURON_GRID),
                                              features)
        with self.lock:
            self._record_curves()
            self._publish()

    # -- training ----------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        """Completed passes over the training set."""
        return self.step // self.run.steps_per_epoch

    @property
    def diverged(self) -> bool:
        return self.error == "diverged"

    def _train_one(self) -> bool:
        """One step of the run (call with the lock held); False when it cannot train."""
        if self.diverged or self._closed.is_set():
            return False
        try:
            next(self._steps)
        except TrainingDiverged as exc:       # the weights are the last good ones again
            self._playing.clear()
            self.status, self.error, self.error_detail = "paused", "diverged", str(exc)
            self._record_curves()
            return False
        self.step += 1
        if self.step % self._curve_stride == 0:
            self._record_curves()
        return True

    def _record_curves(self) -> None:
        if self.curves["step"] and self.curves["step"][-1] == self.step:
            return                      # recorded already (a pause after a recorded step)
        train = self._measure(self.x_train, self.d_train)
        test = self._measure(self.x_test, self.d_test)
        for key, value in (("step", self.step), ("train_loss", train["loss"]),
                           ("test_loss", test["loss"]),
                           ("train_accuracy", train.get("accuracy")),   # none in regression
                           ("test_accuracy", test.get("accuracy"))):
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
        last, since = 0.0, 0
        while not self._closed.is_set():
            if not self._playing.wait(0.1):
                continue
            with self.lock:
                if self._closed.is_set() or not self._playing.is_set():
                    continue
                self._train_one()
                since += 1
                now = time.monotonic()
                frame_done = self.steps_per_frame is not None and since >= self.steps_per_frame
                if now - last >= PUBLISH_EVERY or not self._playing.is_set() or frame_done:
                    self._publish()
                    last, since = now, 0
            if frame_done:      # the page's speed: this many steps per frame, then wait
                self._closed.wait(max(0.0, last + PUBLISH_EVERY - time.monotonic()))
            time.sleep(0)       # let request threads take the lock between steps

    def set_speed(self, steps_per_frame: int | None) -> None:
        """Train at most ``steps_per_frame`` steps per snapshot while playing (None: as fast
        as the computer goes)."""
        self.steps_per_frame = steps_per_frame

    def _interrupt(self) -> None:
        """End a running step request after its current step."""
        self._generation += 1

    def play(self) -> None:
        self._interrupt()
        with self.lock:
            if self._closed.is_set() or self.diverged:
                self._publish()
                return
            self.status = "playing"
            self.error = self.error_detail = None
            if self._thread is None:
                # Stored once started: close() never joins a thread that has not started.
                thread = threading.Thread(target=self._run, name="zerodl-playground",
                                          daemon=True)
                thread.start()
                self._thread = thread
            self._playing.set()
            self._publish()

    def pause(self) -> None:
        self._interrupt()
        self._playing.clear()
        with self.lock:
            self.status = "paused"
            self._record_curves()       # the curves end where training stopped
            self._publish()

    def advance(self, steps: int = 1, cancel: threading.Event | None = None) -> int:
        """Pause, then train ``steps`` batches; return the step count.

        The lock is taken one step at a time, and the request ends early when the session
        is paused, played, reset or closed meanwhile, when ``cancel`` is set (the server
        sets it when the client has gone) or on divergence. Raises ``Busy`` while another
        request trains.
        """
        self._playing.clear()
        if not self._stepping.acquire(blocking=False):
            raise Busy("a step request is still training; wait for it or press pause.")
        try:
            generation, last = self._generation, time.monotonic()
            for _ in range(steps):
                if generation != self._generation or (cancel is not None and cancel.is_set()):
                    break
                with self.lock:
                    self.status = "paused"
                    if not self._train_one():
                        break
                    if time.monotonic() - last >= PUBLISH_EVERY:    # a long request shows
                        self._publish()
                        last = time.monotonic()
            with self.lock:
                self._record_curves()
                self._publish()
                return self.step
        finally:
            self._stepping.release()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the training thread and any step request, and wait for the thread to end."""
        self._closed.set()
        self._interrupt()
        self._playing.set()         # wake a waiting thread so that it sees the closing
        if self._thread is not None:
            self._thread.join(timeout)
        if self.lock.acquire(timeout=timeout):
            try:
                self._steps.close()     # ends fit's loop (and what it holds) now
            finally:
                self.lock.release()

    @property
    def thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- what the page sees ------------------------------------------------------------
    def latest(self) -> tuple[int, str]:
        """The newest snapshot's version and JSON text."""
        with self._latest_lock:
            return self._version, self._latest

    def _publish(self) -> None:
        snap = self._snapshot()
        try:        # JSON.parse refuses NaN and Infinity: the page would freeze on them
            text = json.dumps(snap, separators=(",", ":"), allow_nan=False)
        except ValueError:
            text = json.dumps(_finite(snap), separators=(",", ":"), allow_nan=False)
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
            "error_detail": self.error_detail,
            "step": self.step,
            "epoch": self.epoch,
            "epoch_progress": round(self.step * self.config.batch_size / n_train, 3),
            "config": self.config.to_json(),
            "curves": {key: _round(values) for key, values in self.curves.items()},
            "sizes": [model.n_in, *self.config.hidden, model.n_out],
            "penalty": round(float(model.penalty()), 6),    # included in the losses
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
        """The plane: the output on a grid, every input's and hidden neuron's map, the
        weights and the points. Classification: P(class 1) as 0..255; regression: the
        output scaled from the targets' range (``boundary_range``) to 0..255."""
        model, data = self.model, self.data
        y = model.predict(self.boundary_grid)
        targets = np.concatenate([data.d_train, data.d_test]).ravel()
        if self.config.regression:
            low, high = float(targets.min()), float(targets.max())
            shade = (y[:, 0] - low) / max(high - low, 1e-12)
        else:       # sigmoid: its one output is P(class 1); softmax: the second one
            low, high, shade = 0.0, 1.0, y[:, 0] if self.model.n_out == 1 else y[:, 1]
        inputs = []
        for name, column in zip(self.config.features, self.neuron_grid.T):
            text, m = _signed_bytes(column)
            inputs.append({"name": name, "map": text, "max": round(m, 4)})
        neurons = []
        for layer, z in zip(model.layers, model.layer_outputs(self.neuron_grid)):
            if isinstance(layer, (Dense, Dropout)):
                continue        # u is shown through z; dropout passes z on unchanged here
            neurons.append([])
            for k in range(z.shape[1]):
                text, m = _signed_bytes(z[:, k])
                neurons[-1].append({"map": text, "max": round(m, 4)})
        labels = (lambda d: _round(d.ravel(), 3)) if self.config.regression else \
            (lambda d: d.tolist())
        return {
            "kind": "plane", "problem": "regression" if self.config.regression
            else "classification",
            "lo": _round(data.lo), "hi": _round(data.hi),
            "boundary_grid": BOUNDARY_GRID, "neuron_grid": NEURON_GRID,
            "boundary": _bytes(np.round(np.clip(np.nan_to_num(shade), 0, 1) * 255)),
            "boundary_range": _round([low, high]),
            "inputs": inputs, "neurons": neurons,
            "weights": [_round(layer.W, 3) for layer in model.dense],
            "biases": [_round(layer.b, 3) for layer in model.dense],
            "train_points": _round(data.x_train, 3), "train_labels": labels(data.d_train),
            "test_points": _round(data.x_test, 3), "test_labels": labels(data.d_test),
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
                if not isinstance(layer, Dropout):      # inference: it passes z on unchanged
                    (u_list if isinstance(layer, Dense) else z_list).append(h[0].copy())
            d = model.prepare_labels(labels[index:index + 1], 1)
            loss, du, y = model.output.loss_and_grad(h, d)
            du_list = []
            for layer in reversed(model.layers):
                if isinstance(layer, Dense):
                    du_list.append(du[0].copy())
                du = layer.backward(du)
            du_list.reverse()
            penalty = float(model.penalty())
        if self.config.regression:
            target, predicted = float(labels[index][0]), round(float(y[0][0]), 6)
        else:       # sigmoid: class 1 when P(class 1) >= 0.5
            target = int(labels[index])
            predicted = int(y[0][0] >= 0.5) if model.n_out == 1 else int(np.argmax(y[0]))
        return {
            "set": which, "index": index, "x": _round(x[0], 4), "d": target,
            "features": list(self.config.features) if not self.mnist else None,
            "u": [_round(u) for u in u_list], "z": [_round(z) for z in z_list],
            "y": _round(y[0], 6), "loss": round(float(loss), 6), "du": [_round(g, 6) for g in du_list],
            # E of this sample plus the weights' penalty: what the reported losses add up
            "penalty": round(penalty, 6), "total": round(float(loss) + penalty, 6),
            "predicted": predicted,
        }
