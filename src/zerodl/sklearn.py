"""scikit-learn estimators over zerodl networks: ``MLPClassifier`` and ``MLPRegressor``.

They follow scikit-learn's estimator contract, so that ``Pipeline``, ``GridSearchCV``,
``cross_val_score`` and joblib's parallel backends (Dask included) work with them: every
constructor argument is stored as given and checked in ``fit``; what ``fit`` learns ends in
``_`` (``model_`` is the zerodl ``Sequential``, usable by every zerodl tool: ``save``,
``zerodl.trace.trace``, ``zerodl.onnx.export``).

The arguments keep scikit-learn's names and meanings where it has the concept:

- ``hidden_layer_sizes``: the hidden Dense layers, ``(100,)`` by default; ``()`` is none.
- ``activation``: sklearn's ``identity``, ``logistic``, ``tanh``, ``relu`` (zerodl's
  ``identity``, ``sigmoid``, ``tanh``, ``relu``); zerodl's ``sigmoid`` and ``leaky_relu``
  are accepted too. Weights start as zerodl's ``"glorot"`` (std ``sqrt(2 / (n_in +
  n_out))``, the variance of sklearn's uniform Glorot start), biases at 0.
- ``solver``: any zerodl optimizer name (``zerodl.optimizers.OPTIMIZERS``), built with
  ``lr=learning_rate_init``, or an optimizer object, whose settings are copied as they are
  (its own ``lr`` and ``weight_decay``; ``learning_rate_init`` and ``alpha`` are then not
  used) into a fresh optimizer at each ``fit``. sklearn's ``"sgd"`` has momentum 0.9;
  zerodl's ``"sgd"`` is the plain rule, ``"nesterov"`` the one with momentum 0.9.
- ``alpha``: the L2 penalty ``alpha / 2 * ||W||^2 / batch`` that sklearn adds to each
  batch's loss, i.e. ``alpha * W / batch`` added to the weights' gradient. That is the
  course's weight decay ``0.5 * lam * sum(W**2)`` with ``lam = alpha / batch`` (``batch``:
  the batch size used), so the network is ``zerodl.mlp(..., weight_decay=alpha / batch)``:
  as in sklearn, the weight matrices are penalised and the biases are not, and
  ``loss_curve_`` includes the penalty. (sklearn divides a short last batch's penalty by
  its own length; here every batch has the penalty of a full one.) A ``partial_fit`` chunk
  of another size sets the penalty for its batch size.
- ``batch_size``: ``"auto"`` is ``min(200, n_samples)``; larger sizes are cut to
  ``n_samples``. ``max_iter``: epochs. ``shuffle``: a new order every epoch (zerodl's
  ``fit``) or the given order. ``random_state``: None, an int, a NumPy ``RandomState`` or
  ``Generator``; it seeds the weights, the batch order and the validation split.
- Convergence, as sklearn decides it: without ``early_stopping``, an epoch whose training
  loss is not below the best so far minus ``tol`` does not improve; with it, an epoch whose
  score on the held-out ``validation_fraction`` (accuracy, or R^2 for the regressor) is not
  at least the best plus ``tol``. More than ``n_iter_no_change`` such epochs in a row stop
  training; with ``early_stopping`` the weights of the best epoch are put back at the end.
  Reaching ``max_iter`` first gives a ``ConvergenceWarning``. ``verbose``: one line per
  epoch on stderr (zerodl's ``verbose=2``).

zerodl's own: ``dropout`` (0.0) and ``batch_norm`` (False), passed to ``zerodl.mlp``: a
Dropout layer of that rate and batch normalisation after every hidden Dense layer.

The classifier takes labels of any type sklearn accepts (numbers, strings), binary or
multiclass, and always has a softmax output with one unit per class: two for a binary
problem, so ``predict_proba`` has two columns as in sklearn. ``predict`` is the class of the
largest probability. The regressor has an identity output with one unit per target column
(several for multi-output ``y``) and the course's squared-error loss
``1/2 * sum_j (y_j - d_j)^2`` averaged over the samples.

``import zerodl`` does not import this module (nor scikit-learn): ``from zerodl.sklearn
import MLPClassifier``.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:              # an optional dependency: say how to get it
    raise ImportError(
        'zerodl.sklearn needs scikit-learn 1.6 or later: pip install "zerodl[sklearn]" (or '
        'pip install scikit-learn in a checkout).', name="sklearn") from exc

from .core.optimizers import OPTIMIZERS, Optimizer, get_optimizer
from .core.regularizers import L2
from .training.architectures import mlp
from .training.callbacks import Callback

from .core._checks import check_bool, check_choice, check_int, check_number, plain

__all__ = ["MLPClassifier", "MLPRegressor", "ACTIVATION_NAMES"]

#: ``activation`` names -> zerodl's (sklearn's four, then zerodl's trainable ones).
ACTIVATION_NAMES = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
               "sigmoid": "sigmoid", "leaky_relu": "leaky_relu"}

#: Largest ``batch_size="auto"``, as in sklearn.
AUTO_BATCH = 200


# -- the settings: one check per constructor argument ---------------------------------------
def _batch(settings: dict, n_samples: int) -> int:
    """The batch size used on ``n_samples`` samples: ``"auto"`` is at most ``AUTO_BATCH``."""
    size = settings["batch_size"]
    return min(AUTO_BATCH if size == "auto" else size, n_samples)


def _weight_decay(settings: dict, n_samples: int) -> float:
    """``lam = alpha / batch``: the course's ``0.5 * lam * sum(W**2)`` is sklearn's penalty
    ``alpha / 2 * ||W||^2 / batch``. 0 with an optimizer object (its own settings rule)."""
    if isinstance(settings["solver"], Optimizer):
        return 0.0
    return settings["alpha"] / _batch(settings, n_samples)


def _hidden_layer_sizes(name: str, value) -> list[int]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be an integer or a sequence of integers >= 1, like "
                        f"(100,) or (64, 32); got {plain(value)!r}.")
    return [check_int(f"{name}[{i}]", size, minimum=1) for i, size in enumerate(value)]


def _solver(name: str, value):
    if isinstance(value, Optimizer):
        return value
    if isinstance(value, str) and value in OPTIMIZERS:
        return value.lower()
    raise ValueError(f"{name} must be a zerodl optimizer name ({', '.join(OPTIMIZERS.names())}) "
                     f"or a zerodl optimizer object; got {plain(value)!r}.")


def _batch_size(name: str, value):
    if isinstance(value, str):
        return check_choice(name, value, ["auto"])
    return check_int(name, value, minimum=1)


def _random_state(name: str, value):
    if value is None or isinstance(value, (np.random.RandomState, np.random.Generator)):
        return value
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or not 0 <= value < 2**32):
        raise ValueError(f"{name} must be None, an integer in [0, 2**32), a numpy RandomState "
                         f"or a numpy Generator; got {plain(value)!r}.")
    return int(value)


def _verbose(name: str, value) -> int:
    return int(value) if isinstance(value, bool) else check_int(name, value, minimum=0)


#: How ``fit`` checks each constructor argument: name -> check(name, value) -> value.
SETTINGS = {
    "hidden_layer_sizes": _hidden_layer_sizes,
    "activation": lambda name, value: ACTIVATION_NAMES[check_choice(name, value,
                                                                    ACTIVATION_NAMES)],
    "solver": _solver,
    "alpha": lambda name, value: check_number(name, value, low=0.0),
    "batch_size": _batch_size,
    "learning_rate_init": lambda name, value: check_number(name, value, low=0.0,
                                                           low_open=True),
    "max_iter": lambda name, value: check_int(name, value, minimum=1),
    "shuffle": check_bool,
    "random_state": _random_state,
    "tol": lambda name, value: check_number(name, value, low=0.0),
    "verbose": _verbose,
    "early_stopping": check_bool,
    "validation_fraction": lambda name, value: check_number(name, value, low=0.0, high=1.0,
                                                            low_open=True, high_open=True),
    "n_iter_no_change": lambda name, value: check_int(name, value, minimum=1),
    "dropout": lambda name, value: check_number(name, value, low=0.0, high=1.0,
                                                high_open=True),
    "batch_norm": check_bool,
}


def _generator(random_state) -> np.random.Generator:
    """The one generator a ``fit`` draws every seed from (sklearn's ``random_state`` rules:
    a RandomState or Generator given is advanced, so each fit differs; None is fresh)."""
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state.integers(2**63 - 1))
    return np.random.default_rng(random_state)


class _InOrder(np.random.Generator):
    """A generator whose permutations keep the order: ``fit(seed=_InOrder(...))`` then takes
    its batches in the order of the samples (``shuffle=False``)."""

    def permutation(self, x):
        return np.arange(x)


class _Convergence(Callback):
    """sklearn's stopping rule, checked at every epoch end (the module docstring says it).

    It writes what it watches into the estimator (``loss_curve_``, ``n_iter_``,
    ``best_loss_`` or ``validation_scores_`` and ``best_validation_score_``);
    ``validation`` is ``(x_val, d_val)`` for early stopping, else None; ``can_stop`` is
    False in ``partial_fit``, which runs one epoch whatever the count.
    """

    def __init__(self, estimator, tol: float, patience: int, validation, can_stop: bool):
        super().__init__()
        self.estimator, self.tol, self.patience = estimator, tol, patience
        self.validation, self.can_stop = validation, can_stop
        self.stalled = 0                    # epochs in a row without improvement
        self.converged = False
        self.best_params: dict[str, np.ndarray] | None = None

    def on_epoch_end(self, epoch, logs=None):
        est, loss = self.estimator, logs["loss"]
        est.loss_curve_.append(loss)
        est.n_iter_ += 1
        if self.validation is None:
            improved = not loss > est.best_loss_ - self.tol
            est.best_loss_ = min(est.best_loss_, loss)
        else:
            score = est._validation_score(*self.validation)
            est.validation_scores_.append(score)
            improved = not score < est.best_validation_score_ + self.tol
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                self.best_params = {k: p.copy() for k, p in self.model.params.items()}
        self.stalled = 0 if improved else self.stalled + 1
        if self.can_stop and self.stalled > self.patience:
            self.converged = self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_params is not None:            # early stopping: the best epoch's weights
            self.model.params = self.best_params


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: the settings, the network and the loop.

    Subclasses give ``_output`` (zerodl's output layer), ``_check_xy`` and ``_targets``
    (labels to what the network learns), and ``_validation_score``.
    """

    _output = ""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate_init=0.001, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=10,
                 dropout=0.0, batch_norm=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.dropout = dropout
        self.batch_norm = batch_norm

    def _settings(self) -> dict:
        """Every constructor argument, checked, by name (``SETTINGS``)."""
        return {name: check(name, getattr(self, name)) for name, check in SETTINGS.items()}

    # -- training ----------------------------------------------------------------------------
    def _fit(self, X, y):
        """A new network trained on (X, y) for up to ``max_iter`` epochs."""
        settings = self._settings()
        X, y = self._check_xy(X, y, reset=True)
        d, n_out, fitted = self._targets(y, first=True)
        rng = _generator(settings["random_state"])
        validation = None
        if settings["early_stopping"]:
            X, x_val, d, d_val = train_test_split(
                X, d, test_size=settings["validation_fraction"],
                random_state=int(rng.integers(2**31 - 1)),
                stratify=d if self._output == "softmax" else None)
            validation = (x_val, d_val)
        # Everything is checked: from here on the estimator changes.
        for name, value in fitted.items():
            setattr(self, name, value)
        self._start(settings, X.shape[1], n_out, X.dtype, rng, len(X))
        self.best_loss_ = None if validation else np.inf
        self.validation_scores_ = [] if validation else None
        self.best_validation_score_ = -np.inf if validation else None
        watch = self._train(settings, X, d, settings["max_iter"], validation, can_stop=True)
        if not watch.converged and self.n_iter_ == settings["max_iter"]:
            warnings.warn(f"{type(self).__name__} did not converge in max_iter="
                          f"{settings['max_iter']} epochs: the "
                          f"{'validation score' if validation else 'training loss'} was still "
                          f"improving by more than tol={settings['tol']:g}. Raise max_iter or "
                          f"tol.", ConvergenceWarning, stacklevel=3)
        return self

    def _partial_fit(self, X, y, classes=None):
        """One epoch over (X, y), continuing the network and the optimizer's state."""
        settings = self._settings()
        first = not hasattr(self, "model_")
        X, y = self._check_xy(X, y, reset=first)
        d, n_out, fitted = self._targets(y, first=first, classes=classes)
        for name, value in fitted.items():
            setattr(self, name, value)
        if first:
            self._start(settings, X.shape[1], n_out, X.dtype,
                        _generator(settings["random_state"]), len(X))
            self.validation_scores_ = self.best_validation_score_ = None
        if first or self.best_loss_ is None:    # None: after a fit with early stopping
            self.best_loss_ = np.inf
        self._train(settings, X, d, 1, None, can_stop=False)
        return self

    def _start(self, settings: dict, n_in: int, n_out: int, dtype, rng,
               n_samples: int) -> None:
        """A new network (``model_``) and optimizer (``optimizer_``); nothing learnt yet.
        ``n_samples``, the training set's size, sets the batch size and so the penalty."""
        self.model_ = mlp([n_in, *settings["hidden_layer_sizes"], n_out],
                          activation=settings["activation"], output=self._output,
                          init="glorot", seed=int(rng.integers(2**63 - 1)), dtype=dtype,
                          dropout=settings["dropout"], batch_norm=settings["batch_norm"],
                          weight_decay=_weight_decay(settings, n_samples))
        solver = settings["solver"]
        if isinstance(solver, Optimizer):       # its settings, a state of its own
            self.optimizer_ = type(solver)(**solver.get_config())
        else:
            self.optimizer_ = get_optimizer(solver, lr=settings["learning_rate_init"])
        self.loss_curve_: list[float] = []
        self.n_iter_ = 0

    def _train(self, settings: dict, x, d, epochs: int, validation, can_stop: bool):
        """Run ``model_.fit`` for ``epochs`` epochs; return the convergence watch."""
        batch = _batch(settings, len(x))
        lam = _weight_decay(settings, len(x))
        for layer in self.model_.dense:     # partial_fit: this chunk's batch size may differ
            now = layer.kernel_regularizer.l2 * 2 if layer.kernel_regularizer else 0.0
            if now != lam:
                layer.kernel_regularizer = L2(lam / 2) if lam > 0 else None
        watch = _Convergence(self, settings["tol"], settings["n_iter_no_change"], validation,
                             can_stop)
        # shuffle=False: a generator whose "permutation" is the identity; else the model's.
        order = None if settings["shuffle"] else _InOrder(np.random.PCG64(0))
        self.model_.fit(x, d, epochs=epochs, batch_size=batch, optimizer=self.optimizer_,
                        seed=order, verbose=2 if settings["verbose"] else 0,
                        callbacks=[watch])
        return watch

    # -- prediction --------------------------------------------------------------------------
    def _forward(self, X) -> np.ndarray:
        """``model_.predict`` on X checked as sklearn checks it (feature count, names)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self.model_.dtype)
        return self.model_.predict(X)

    def _dtype(self, reset: bool):
        """float32 data stays float32, the rest becomes float64 (as in sklearn); later calls
        take the network's own dtype."""
        return (np.float64, np.float32) if reset else self.model_.dtype


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A zerodl network as a scikit-learn classifier: Dense layers, softmax output,
    cross-entropy loss. Arguments, attributes and choices: the module docstring.

    Fitted attributes: ``classes_`` (sorted labels; column ``k`` of ``predict_proba`` is
    ``classes_[k]``), ``n_features_in_``, ``feature_names_in_`` (when X has string column
    names), ``model_``, ``optimizer_``, ``loss_curve_`` (training loss per epoch), ``n_iter_``
    (epochs run), ``best_loss_``, ``validation_scores_``, ``best_validation_score_``.
    """

    _output = "softmax"

    def fit(self, X, y) -> "MLPClassifier":
        """Train a new network on X (n_samples, n_features) and labels y (n_samples,)."""
        return self._fit(X, y)

    def partial_fit(self, X, y, classes=None) -> "MLPClassifier":
        """One epoch over (X, y), keeping the network and the optimizer's state.

        The first call (before any ``fit``) needs ``classes``, every label the data will
        ever hold, as in sklearn; later calls may repeat it.
        """
        if classes is None and not hasattr(self, "model_"):
            raise ValueError("classes must be given on the first call to partial_fit: every "
                             "label the data may hold, e.g. np.unique(y_all); got None.")
        return self._partial_fit(X, y, classes)

    def predict(self, X) -> np.ndarray:
        """The class of the largest probability, ``classes_[argmax(predict_proba(X))]``."""
        proba = self._forward(X)           # first: it refuses an estimator not fitted yet
        return self.classes_[proba.argmax(axis=1)]

    def predict_proba(self, X) -> np.ndarray:
        """The softmax probabilities, shape (n_samples, n_classes), columns as ``classes_``."""
        return self._forward(X)

    def predict_log_proba(self, X) -> np.ndarray:
        """``log(predict_proba(X))`` (``-inf`` where a probability is 0)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def _check_xy(self, X, y, reset: bool):
        X, y = validate_data(self, X, y, reset=reset, dtype=self._dtype(reset))
        check_classification_targets(y)
        return X, y

    def _targets(self, y, first: bool, classes=None):
        """Labels to class indices; ``(d, n_outputs, fitted attributes to set)``."""
        if first:
            known = np.unique(y if classes is None else np.asarray(classes))
            if len(known) < 2:
                raise ValueError(f"y must hold at least 2 classes to train a classifier; got "
                                 f"1 class, {plain(known[0])!r}." if len(known) else
                                 "classes must hold at least 2 classes; got none.")
        else:
            known = self.classes_
            if classes is not None and not np.array_equal(np.unique(classes), known):
                raise ValueError(f"classes must be the classes of the first call to "
                                 f"partial_fit, {known.tolist()}; got "
                                 f"{np.unique(classes).tolist()}.")
        index = np.searchsorted(known, y).clip(max=len(known) - 1)
        unknown = known[index] != y
        if unknown.any():
            raise ValueError(f"y must hold only the classes {known.tolist()}; got "
                             f"{plain(y[unknown][0])!r}.")
        return index, len(known), {"classes_": known}

    def _validation_score(self, x, d) -> float:
        """Accuracy on the validation samples (``d``: class indices)."""
        return float(np.mean(self.model_.predict(x).argmax(axis=1) == d))


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A zerodl network as a scikit-learn regressor: Dense layers, identity output, the
    course's squared error. ``y`` may have several columns (one output each). Arguments,
    attributes and choices: the module docstring.

    Fitted attributes: ``n_outputs_``, ``n_features_in_``, ``feature_names_in_``, ``model_``,
    ``optimizer_``, ``loss_curve_``, ``n_iter_``, ``best_loss_``, ``validation_scores_``,
    ``best_validation_score_``.
    """

    _output = "identity"

    def fit(self, X, y) -> "MLPRegressor":
        """Train a new network on X (n_samples, n_features) and targets y (n_samples,) or
        (n_samples, n_targets)."""
        return self._fit(X, y)

    def partial_fit(self, X, y) -> "MLPRegressor":
        """One epoch over (X, y), keeping the network and the optimizer's state."""
        return self._partial_fit(X, y)

    def predict(self, X) -> np.ndarray:
        """The network's outputs: shape (n_samples,) for one target, else (n_samples, k)."""
        y = self._forward(X)
        return y.ravel() if y.shape[1] == 1 else y

    def _check_xy(self, X, y, reset: bool):
        return validate_data(self, X, y, reset=reset, dtype=self._dtype(reset),
                             multi_output=True, y_numeric=True)

    def _targets(self, y, first: bool, classes=None):
        d = y.reshape(len(y), -1)
        if not first and d.shape[1] != self.n_outputs_:
            raise ValueError(f"y must have {self.n_outputs_} target columns, as in the first "
                             f"fit; got {d.shape[1]}.")
        return d, d.shape[1], {"n_outputs_": d.shape[1]}

    def _validation_score(self, x, d) -> float:
        """R^2 on the validation samples (sklearn's ``score``)."""
        return float(r2_score(d, self.model_.predict(x)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
