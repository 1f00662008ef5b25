"""zerodl.sklearn: scikit-learn's estimator contract, its settings, and the values learnt.

scikit-learn's own checks (``parametrize_with_checks``) hold the estimators to the contract;
the other tests check what the checks cannot: the values of a hand-worked SGD step with the
L2 penalty, the batch order, sklearn's stopping rule against sklearn's own MLP, partial_fit
keeping its state, the fitted network as a zerodl model, and the search tools (GridSearchCV
in processes and on a Dask cluster).
"""
import inspect
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone                                    # noqa: E402
from sklearn.datasets import load_digits, load_iris               # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier as SklearnMLP    # noqa: E402
from sklearn.pipeline import Pipeline                             # noqa: E402
from sklearn.preprocessing import StandardScaler                  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import zerodl                                                     # noqa: E402
from zerodl.optimizers import Adam, SGD                           # noqa: E402
from zerodl.sklearn import SETTINGS, MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

#: Small and quick, yet enough epochs for the checks' accuracy (0.83) and R^2 (0.5) floors.
CHECKED = [MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=100,
                         random_state=0),
           MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=100,
                        random_state=0)]


@parametrize_with_checks(CHECKED)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def _iris():
    x, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(x), y


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)


# -- values ----------------------------------------------------------------------------------
def test_digits_accuracy_and_predict_is_the_networks_argmax(digits):
    x_train, x_test, y_train, y_test = digits
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPClassifier(hidden_layer_sizes=(64,), learning_rate_init=0.01,
                                           max_iter=30, random_state=0))])
    pipe.fit(x_train, y_train)
    assert pipe.score(x_test, y_test) > 0.95        # measured: 0.9711 (450 test digits)
    clf, x = pipe["mlp"], pipe["scale"].transform(x_test)
    proba = clf.model_.predict(x)
    np.testing.assert_array_equal(clf.predict(x), clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_array_equal(clf.predict_proba(x), proba)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


def test_string_labels_binary_and_multiclass():
    x, y = _iris()
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    clf = MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.05, max_iter=60,
                        random_state=0).fit(x, names)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert clf.score(x, names) > 0.9
    binary = np.where(y == 0, "yes", "no")
    clf = MLPClassifier(hidden_layer_sizes=(4,), learning_rate_init=0.05, max_iter=30,
                        random_state=0).fit(x, binary)
    assert clf.model_.n_out == 2 and clf.model_.output.name == "softmax"
    assert clf.predict_proba(x).shape == (150, 2)
    assert set(clf.predict(x)) == {"yes", "no"} and clf.score(x, binary) == 1.0


def test_multi_output_regression_predicts_every_column():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = np.column_stack([x @ [1.0, -2.0, 0.5], x[:, 0] - x[:, 2]])
    reg = MLPRegressor(hidden_layer_sizes=(), learning_rate_init=0.05, max_iter=200,
                       alpha=0.0, random_state=0).fit(x, y)
    assert reg.model_.output.name == "identity" and reg.n_outputs_ == 2
    assert reg.predict(x).shape == (200, 2) and reg.score(x, y) > 0.999
    assert MLPRegressor(max_iter=2, random_state=0).fit(x, y[:, 0]).predict(x).shape == (200,)


def _start_weights(est, x, y):
    """The weights a fit starts from: the same fit with a step too small to change them."""
    start = clone(est).set_params(learning_rate_init=1e-300, max_iter=1)
    return {k: p.copy() for k, p in start.fit(x, y).model_.params.items()}


def test_alpha_is_sklearns_l2_penalty_over_the_batch_on_the_weights_only():
    """One full-batch SGD step of a linear model, by hand: W -= lr (dW + alpha W / n), the
    bias without a penalty; the loss is sklearn's, 1/(2n) sum ||u - y||^2 + alpha/(2n) ||W||^2."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    lr, alpha, n = 0.1, 0.5, len(x)
    est = MLPRegressor(hidden_layer_sizes=(), solver="sgd", alpha=alpha, batch_size=n,
                       learning_rate_init=lr, max_iter=1, shuffle=False, random_state=3)
    w = _start_weights(est, x, y)
    residual = x @ w["W1"] + w["b1"] - y                # dE/du of 1/(2n) sum ||u - y||^2
    W = w["W1"] - lr * (x.T @ residual / n + alpha / n * w["W1"])
    b = w["b1"] - lr * residual.mean(axis=0)
    loss = (residual**2).sum() / (2 * n) + alpha / (2 * n) * (w["W1"] ** 2).sum()
    est.fit(x, y)
    np.testing.assert_allclose(est.model_.params["W1"], W, rtol=1e-12)
    np.testing.assert_allclose(est.model_.params["b1"], b, rtol=1e-12, atol=1e-15)
    assert est.loss_curve_[0] == pytest.approx(loss, rel=1e-12)
    assert est.optimizer_.weight_decay == 0.0
    assert est.model_.layers[0].kernel_regularizer.get_config() == {"type": "l2",
                                                                     "l2": alpha / n / 2}


def test_alpha_matches_sklearns_own_loss_and_step():
    """sklearn's MLPRegressor from the same weights, one full-batch plain-SGD step: the same
    loss and the same weights after it. (One target: sklearn's reported loss averages over
    the targets too, its gradient does not.)"""
    from sklearn.neural_network import MLPRegressor as SkRegressor
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(10, 3)), rng.normal(size=(10,))
    est = MLPRegressor(hidden_layer_sizes=(4,), activation="tanh", solver="sgd", alpha=0.3,
                       batch_size=10, learning_rate_init=0.05, max_iter=1, shuffle=False,
                       random_state=0)
    w = _start_weights(est, x, y)
    sk = SkRegressor(hidden_layer_sizes=(4,), activation="tanh", solver="sgd", alpha=0.3,
                     batch_size=10, learning_rate_init=0.05, momentum=0.0, max_iter=1,
                     shuffle=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.partial_fit(x, y)                # builds its arrays: then start from zerodl's
        sk.coefs_ = [w["W1"].copy(), w["W2"].copy()]
        sk.intercepts_ = [w["b1"].copy(), w["b2"].copy()]
        del sk._optimizer                   # a new one: plain SGD from these weights
        sk.partial_fit(x, y)
    est.fit(x, y)
    assert est.loss_curve_[0] == pytest.approx(sk.loss_curve_[-1], rel=1e-10)
    for ours, theirs in zip(("W1", "W2"), sk.coefs_):
        np.testing.assert_allclose(est.model_.params[ours], theirs, rtol=1e-10)
    for ours, theirs in zip(("b1", "b2"), sk.intercepts_):
        np.testing.assert_allclose(est.model_.params[ours], theirs, rtol=1e-10, atol=1e-14)


def test_partial_fit_sets_the_penalty_for_each_chunks_batch_size():
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(30, 3)), rng.normal(size=(30,))
    est = MLPRegressor(hidden_layer_sizes=(5,), alpha=0.6, random_state=0)
    l2 = lambda: [layer.kernel_regularizer.l2 for layer in est.model_.dense]
    est.partial_fit(x, y)
    assert l2() == [0.6 / 30 / 2] * 2
    est.partial_fit(x[:12], y[:12])
    assert l2() == [0.6 / 12 / 2] * 2
    assert MLPRegressor(alpha=0.0).partial_fit(x, y).model_.dense[0].kernel_regularizer is None


def test_shuffle_false_takes_the_batches_in_order():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(6, 2)), rng.normal(size=(6, 1))
    lr = 0.1
    est = MLPRegressor(hidden_layer_sizes=(), solver="sgd", alpha=0.0, batch_size=2,
                       learning_rate_init=lr, max_iter=1, shuffle=False, random_state=4)
    w = _start_weights(est, x, y)
    W, b = w["W1"], w["b1"]
    for start in range(0, 6, 2):
        xb, yb = x[start:start + 2], y[start:start + 2]
        r = xb @ W + b - yb
        W, b = W - lr * xb.T @ r / 2, b - lr * r.mean(axis=0)
    np.testing.assert_allclose(est.fit(x, y).model_.params["W1"], W, rtol=1e-12)
    shuffled = clone(est).set_params(shuffle=True).fit(x, y)
    assert not np.allclose(shuffled.model_.params["W1"], W)


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("n_iter_no_change", [1, 4])
def test_stops_after_the_same_epochs_as_sklearn(early_stopping, n_iter_no_change):
    """tol=1e9: only the first epoch improves, so both stop after n_iter_no_change + 2."""
    x, y = _iris()
    settings = dict(tol=1e9, n_iter_no_change=n_iter_no_change, early_stopping=early_stopping,
                    random_state=0)
    ours = MLPClassifier(**settings).fit(x, y)
    assert ours.n_iter_ == SklearnMLP(**settings).fit(x, y).n_iter_ == n_iter_no_change + 2
    assert len(ours.loss_curve_) == ours.n_iter_
    if early_stopping:
        assert ours.best_loss_ is None and len(ours.validation_scores_) == ours.n_iter_
        assert ours.best_validation_score_ == max(ours.validation_scores_)
    else:
        assert ours.best_loss_ == min(ours.loss_curve_) and ours.validation_scores_ is None


def test_early_stopping_ends_with_the_best_epochs_weights():
    x, y = _iris()
    settings = dict(hidden_layer_sizes=(8,), early_stopping=True, validation_fraction=0.3,
                    learning_rate_init=0.01, tol=0.0, n_iter_no_change=100, random_state=0)
    long = MLPClassifier(max_iter=25, **settings).fit(x, y)
    scores = long.validation_scores_
    best = int(np.argmax(scores))           # the first epoch with the best score
    assert best + 1 < len(scores)           # a later epoch exists to be undone
    short = MLPClassifier(max_iter=best + 1, **settings).fit(x, y)
    for key, p in long.model_.params.items():
        np.testing.assert_array_equal(p, short.model_.params[key])


def test_max_iter_without_converging_warns():
    x, y = _iris()
    with pytest.warns(ConvergenceWarning, match="max_iter=2 epochs"):
        MLPClassifier(max_iter=2, random_state=0).fit(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        MLPClassifier(max_iter=1, random_state=0).partial_fit(x, y, classes=[0, 1, 2])


def test_partial_fit_keeps_the_network_and_the_optimizer_state():
    x, y = _iris()
    clf = MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.01, batch_size=50,
                        random_state=0)
    clf.partial_fit(x, y, classes=np.array([0, 1, 2]))
    model, optimizer = clf.model_, clf.optimizer_
    assert optimizer.t == 3 and clf.n_iter_ == 1 and len(clf.loss_curve_) == 1
    for _ in range(40):
        clf.partial_fit(x, y)
    assert clf.model_ is model and clf.optimizer_ is optimizer and isinstance(optimizer, Adam)
    assert optimizer.t == 3 * 41 and clf.n_iter_ == 41 and len(clf.loss_curve_) == 41
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] and clf.score(x, y) > 0.9
    clf.partial_fit(x[:10], y[:10], classes=[2, 1, 0])          # the same classes again
    clf.set_params(early_stopping=True, max_iter=3).fit(x, y)
    assert clf.best_loss_ is None and clf.n_iter_ == 3
    clf.partial_fit(x, y)                           # continues, watching the training loss
    assert clf.n_iter_ == 4 and clf.best_loss_ == clf.loss_curve_[-1]


def test_partial_fit_refusals():
    x, y = _iris()
    with pytest.raises(ValueError, match="classes must be given on the first call"):
        MLPClassifier().partial_fit(x, y)
    clf = MLPClassifier(max_iter=1).partial_fit(x[:60], y[:60], classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"classes must be the classes of the first call to "
                                         r"partial_fit, \[0, 1, 2\]; got \[0, 1\]"):
        clf.partial_fit(x, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"y must hold only the classes \[0, 1, 2\]; got 7"):
        clf.partial_fit(x[:2], [0, 7])
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 4"):
        clf.partial_fit(x[:, :3], y)
    reg = MLPRegressor(max_iter=1).partial_fit(x, np.c_[y, y])
    with pytest.raises(ValueError, match="y must have 2 target columns, as in the first fit; "
                                         "got 1"):
        reg.partial_fit(x, y)


def test_an_optimizer_object_is_copied_with_its_settings_and_left_alone():
    x, y = _iris()
    given = SGD(lr=0.05, momentum=0.9, weight_decay=0.001)
    clf = MLPClassifier(solver=given, alpha=123.0, max_iter=3, random_state=0).fit(x, y)
    assert type(clf.optimizer_) is SGD and clf.optimizer_ is not given
    assert clf.optimizer_.get_config() == given.get_config()    # alpha not applied
    assert given.t == 0 and not given.buffers
    assert clf.get_params()["solver"] is given


def test_the_fitted_network_is_a_zerodl_model(tmp_path):
    x, y = _iris()
    clf = MLPClassifier(hidden_layer_sizes=(5, 4), activation="tanh", max_iter=5,
                        random_state=0).fit(x, y)
    model = clf.model_
    assert isinstance(model, zerodl.Sequential) and repr(model).startswith("Sequential(4-5-4-3")
    assert [type(layer).__name__ for layer in model.layers] == [
        "Dense", "Tanh", "Dense", "Tanh", "Dense"]
    model.save(tmp_path / "iris.npz")
    np.testing.assert_array_equal(zerodl.load(tmp_path / "iris.npz").predict(x),
                                  clf.predict_proba(x))
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(x), clf.predict_proba(x))


def test_float32_data_trains_a_float32_network():
    x, y = _iris()
    clf = MLPClassifier(max_iter=2, random_state=0).fit(x.astype(np.float32), y)
    assert clf.model_.dtype == np.float32 and clf.predict_proba(x).dtype == np.float32
    assert MLPClassifier(max_iter=2).fit(x.astype(int), y).model_.dtype == np.float64


def test_feature_names_come_from_a_data_frame():
    pd = pytest.importorskip("pandas")
    x, y = _iris()
    frame = pd.DataFrame(x, columns=["sepal_l", "sepal_w", "petal_l", "petal_w"])
    clf = MLPClassifier(max_iter=2, random_state=0).fit(frame, y)
    assert list(clf.feature_names_in_) == list(frame.columns) and clf.n_features_in_ == 4
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame[frame.columns[::-1]])


# -- settings --------------------------------------------------------------------------------
def test_every_constructor_argument_is_checked_and_stored_unchanged():
    for cls in (MLPClassifier, MLPRegressor):
        names = list(inspect.signature(cls.__init__).parameters)[1:]
        assert names == list(SETTINGS)
        odd = dict(hidden_layer_sizes=[3, "a"], activation="step", solver="lbfgs", alpha=-1)
        est = cls(**odd)
        assert {k: est.get_params()[k] for k in odd} == odd    # stored as given


@pytest.mark.parametrize("setting, value, error, message", [
    ("hidden_layer_sizes", "100", TypeError, r"hidden_layer_sizes must be an integer or a "
                                             r"sequence of integers >= 1, like \(100,\)"),
    ("hidden_layer_sizes", (10, 0), ValueError, r"hidden_layer_sizes\[1\] must be an integer "
                                                r">= 1; got 0\."),
    ("activation", "step", ValueError, r"activation must be one of 'identity', 'logistic', "
                                       r"'tanh', 'relu', 'sigmoid', 'leaky_relu'; got 'step'"),
    ("solver", "lbfgs", ValueError, r"solver must be a zerodl optimizer name \(sgd, momentum, "
                                    r".*adam, adamw\) or a zerodl optimizer object; got "
                                    r"'lbfgs'\."),
    ("alpha", -0.1, ValueError, r"alpha must be a number in \[0.0, inf\); got -0.1\."),
    ("batch_size", "all", ValueError, r"batch_size must be one of 'auto'; got 'all'\."),
    ("batch_size", 0, ValueError, r"batch_size must be an integer >= 1; got 0\."),
    ("learning_rate_init", 0, ValueError, r"learning_rate_init must be a number in \(0.0, "
                                          r"inf\); got 0\.0\."),
    ("max_iter", 2.5, TypeError, r"max_iter must be an integer >= 1; got 2\.5\."),
    ("shuffle", "yes", TypeError, r"shuffle must be a bool \(True or False\); got 'yes'\."),
    ("random_state", -1, ValueError, r"random_state must be None, an integer in \[0, 2\*\*32\), "
                                     r"a numpy RandomState or a numpy Generator; got -1\."),
    ("tol", float("nan"), ValueError, r"tol must be a finite number"),
    ("verbose", -1, ValueError, r"verbose must be an integer >= 0; got -1\."),
    ("early_stopping", 1, TypeError, r"early_stopping must be a bool"),
    ("validation_fraction", 1.0, ValueError, r"validation_fraction must be a number in "
                                             r"\(0.0, 1.0\); got 1\.0\."),
    ("n_iter_no_change", 0, ValueError, r"n_iter_no_change must be an integer >= 1; got 0\."),
    ("dropout", 1.0, ValueError, r"dropout must be a number in \[0.0, 1.0\); got 1\.0\."),
    ("batch_norm", None, TypeError, r"batch_norm must be a bool"),
])
def test_a_bad_setting_is_refused_by_fit_before_anything_changes(setting, value, error,
                                                                 message):
    x, y = _iris()
    for est in (MLPClassifier(max_iter=1, random_state=0),
                MLPRegressor(max_iter=1, random_state=0)):
        est.fit(x, y)
        model = est.model_
        est.set_params(**{setting: value})
        with pytest.raises(error, match=message):
            est.fit(x, y)
        with pytest.raises(error, match=message):
            est.partial_fit(x, y)
        assert est.model_ is model and est.n_iter_ == 1


def test_sklearn_activation_names_map_to_zerodls():
    x, y = _iris()
    for name, layer in [("identity", "Identity"), ("logistic", "Sigmoid"), ("tanh", "Tanh"),
                        ("relu", "ReLU"), ("leaky_relu", "LeakyReLU")]:
        clf = MLPClassifier(hidden_layer_sizes=(3,), activation=name, max_iter=1).fit(x, y)
        assert type(clf.model_.layers[1]).__name__ == layer


def test_one_class_and_unfitted_are_refused_with_sklearns_words():
    x, _ = _iris()
    with pytest.raises(ValueError, match="y must hold at least 2 classes to train a "
                                         "classifier; got 1 class, 'a'"):
        MLPClassifier().fit(x, ["a"] * len(x))
    with pytest.raises(NotFittedError):
        MLPRegressor().predict(x)


def test_dropout_and_batch_norm_build_those_layers():
    x, y = _iris()
    kinds = lambda clf: [type(layer).__name__ for layer in clf.model_.layers]
    plain = MLPClassifier(hidden_layer_sizes=(8,), max_iter=1, random_state=0).fit(x, y)
    assert kinds(plain) == ["Dense", "ReLU", "Dense"]
    both = MLPClassifier(hidden_layer_sizes=(8,), max_iter=1, random_state=0, dropout=0.5,
                         batch_norm=True).fit(x, y)
    assert kinds(both) == ["Dense", "BatchNormalization", "ReLU", "Dropout", "Dense"]
    assert both.model_.layers[3].rate == 0.5


# -- search tools and packaging --------------------------------------------------------------
GRID = {"mlp__learning_rate_init": [0.003, 0.03], "mlp__hidden_layer_sizes": [(16,), (32,)]}


def _search(n_jobs):
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPClassifier(max_iter=15, random_state=0))])
    return GridSearchCV(pipe, GRID, cv=3, n_jobs=n_jobs)


def test_grid_search_in_a_pipeline_on_digits(digits):
    x_train, x_test, y_train, y_test = digits
    search = _search(n_jobs=2).fit(x_train, y_train)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_score_ > 0.9 and search.score(x_test, y_test) > 0.9


def test_grid_search_on_a_dask_cluster(digits):
    pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    import joblib
    x_train, _, y_train, _ = digits
    # In-process workers over TCP on the loopback (the in-process transport takes no host).
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster), joblib.parallel_backend("dask"):
        search = _search(n_jobs=-1).fit(x_train, y_train)
    local = _search(n_jobs=1).fit(x_train, y_train)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"])


def test_import_zerodl_does_not_import_sklearn_and_a_missing_sklearn_says_how_to_install():
    code = ("import sys, zerodl\n"
            "assert 'sklearn' not in sys.modules and 'zerodl.sklearn' not in sys.modules\n"
            "sys.modules['sklearn'] = None\n"
            "try:\n"
            "    import zerodl.sklearn\n"
            "except ImportError as exc:\n"
            "    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert 'pip install "zerodl[sklearn]"' in done.stdout
