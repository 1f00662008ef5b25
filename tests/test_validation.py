"""Bad input at every public entry: the right exception, naming the argument, the rule and the
value received. docs/errors.md lists the same cases for users."""
import re

import numpy as np
import pytest

import zerodl
from zerodl import Dense, ReLU, Sequential, Step, mlp
from zerodl.datasets import load_mnist
from zerodl.optimizers import SGD

X = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
LABELS = np.array([0, 1, 2, 0, 1, 2])


def net(output="softmax", n_out=3):
    return mlp([4, 5, n_out], output=output, seed=0)


def with_nan(a, index, value=np.nan):
    a = np.array(a, dtype=np.float32)
    a[index] = value
    return a


# (what is tried, the call, the exception, a pattern its message must match)
CASES = [
    # -- x ------------------------------------------------------------------------------
    ("x with the wrong feature count", lambda: net().predict(np.zeros((2, 5))),
     ValueError, r"x must have 4 features per sample .* got 5 \(x.shape=\(2, 5\)\)"),
    ("x of strings", lambda: net().predict([["a", "b", "c", "d"]]),
     TypeError, r"x must hold numbers .* dtype <U1"),
    ("x with None", lambda: net().predict([[1.0, None, 2.0, 3.0]]),
     TypeError, r"x must hold numbers .* dtype object"),
    ("x ragged", lambda: net().predict([[1.0, 2.0], [1.0]]),
     ValueError, r"x must be a rectangular array of numbers"),
    ("x empty", lambda: net().predict(np.zeros((0, 4))),
     ValueError, r"x must hold at least one sample; got an array of shape \(0, 4\)"),
    ("x a scalar", lambda: net().predict(3.0),
     ValueError, r"x must be an array with at least 1 dimension\(s\); got the single number 3.0"),
    ("x complex", lambda: net().predict(np.ones((1, 4), dtype=complex)),
     TypeError, r"x must hold numbers .* complex128"),
    ("x with NaN", lambda: net().predict(with_nan(X, (3, 2))),
     ValueError, r"x must hold only finite numbers .* got nan at index \(3, 2\) "
                 r"\(1 such value in all\)"),
    ("x with inf", lambda: net().evaluate(with_nan(X, (1, 0), np.inf), LABELS),
     ValueError, r"x must hold only finite .* inf.* at index \(1, 0\)"),
    # -- d ------------------------------------------------------------------------------
    ("labels past the number of classes", lambda: net().evaluate(X, [0, 1, 2, 3, 1, 2]),
     ValueError, r"d \(class indices\) must be in 0..2, one per output .* got 3 at "
                 r"index 3"),
    ("negative labels", lambda: net().loss(X, [0, -1, 2, 0, 1, 2]),
     ValueError, r"d \(class indices\) must be in 0..2.*-1.* at index 1"),
    ("fractional labels", lambda: net().gradient(X, [0, 1.5, 2, 0, 1, 2]),
     ValueError, r"d \(class indices\) must be whole numbers; got 1.5 at index 1"),
    ("too few labels", lambda: net().evaluate(X, [0, 1, 2]),
     ValueError, r"d must have one label per sample of x; got 3 labels for 6 samples"),
    ("one-hot with the wrong width", lambda: net().loss(X, np.eye(4)[[0, 1, 2, 0, 1, 2]]),
     ValueError, r"d must have 3 columns, one per output of the network; got shape \(6, 4\)"),
    ("class indices as a column", lambda: net().loss(X, LABELS.reshape(-1, 1)),
     ValueError, r"got shape \(6, 1\); class indices go in a 1-D array of shape \(N,\)"),
    ("one-hot rows not summing to 1", lambda: net().loss(X, 2 * np.eye(3)[LABELS]),
     ValueError, r"d \(one-hot\) must have rows summing to 1; got row 0 summing to 2 "
                 r"\(6 such rows"),
    ("negative one-hot entries", lambda: net().loss(X, np.eye(3)[LABELS] - 0.5),
     ValueError, r"d \(one-hot\) must hold non-negative values"),
    ("labels with NaN", lambda: net("identity").loss(X, with_nan(np.eye(3)[LABELS], (2, 1))),
     ValueError, r"d must hold only finite numbers .* at index \(2, 1\)"),
    ("sigmoid targets outside [0, 1]", lambda: net("sigmoid").loss(X, 2 * np.eye(3)[LABELS]),
     ValueError, r"d \(sigmoid targets\) must be in \[0, 1\]; got 2.0 at index "
                 r"\(0, 0\)"),
    ("class indices for a sigmoid output", lambda: net("sigmoid").loss(X, LABELS),
     ValueError, r"d must be targets of shape \(6, 3\), one column per output \(class indices "
                 r"work only with the softmax output\)"),
    ("labels of 3 dimensions", lambda: net().loss(X, np.zeros((6, 3, 1))),
     ValueError, r"d must be labels of shape \(6,\) or \(6, 3\)"),
    ("labels as strings", lambda: net().loss(X, list("abcdef")),
     TypeError, r"d must hold numbers"),
    # -- fit's arguments ----------------------------------------------------------------
    ("epochs=0", lambda: net().fit(X, LABELS, epochs=0, verbose=0),
     ValueError, r"epochs must be an integer >= 1; got 0"),
    ("epochs=2.5", lambda: net().fit(X, LABELS, epochs=2.5, verbose=0),
     TypeError, r"epochs must be an integer >= 1; got 2.5"),
    ("batch_size=0", lambda: net().fit(X, LABELS, batch_size=0, verbose=0),
     ValueError, r"batch_size must be an integer >= 1; got 0"),
    ("batch_size='32'", lambda: net().fit(X, LABELS, batch_size="32", verbose=0),
     TypeError, r"batch_size must be an integer >= 1; got '32'"),
    ("steps=-1", lambda: net().fit(X, LABELS, steps=-1, verbose=0),
     ValueError, r"steps must be an integer >= 1; got -1"),
    ("eval_every=0", lambda: net().fit(X, LABELS, eval_every=0, verbose=0),
     ValueError, r"eval_every must be an integer >= 1; got 0"),
    ("verbose=-1", lambda: net().fit(X, LABELS, verbose=-1),
     ValueError, r"verbose must be an integer >= 0; got -1"),
    ("seed='a'", lambda: net().fit(X, LABELS, seed="a", verbose=0),
     TypeError, r"seed must be None, an integer >= 0 or a numpy Generator; got 'a'"),
    ("an unknown optimizer", lambda: net().fit(X, LABELS, optimizer="adamax", verbose=0),
     ValueError, r"unknown optimizer 'adamax'; valid names are: sgd"),
    ("a negative learning rate", lambda: SGD(lr=-0.1),
     ValueError, r"lr must be a number in \[0.0, inf\); got -0.1"),
    ("a NaN learning rate", lambda: SGD(lr=float("nan")),
     ValueError, r"lr must be a finite number"),
    ("validation_data not a pair", lambda: net().fit(X, LABELS, validation_data=X, verbose=0),
     ValueError, r"validation_data must be a pair \(x_val, d_val\); got a value of type ndarray"),
    ("validation features wrong", lambda: net().fit(X, LABELS, verbose=0,
                                                    validation_data=(X[:, :3], LABELS)),
     ValueError, r"validation_data\[0\] must have 4 features per sample .* got 3"),
    ("validation labels out of range", lambda: net().fit(X, LABELS, verbose=0,
                                                         validation_data=(X, LABELS + 1)),
     ValueError, r"validation_data\[1\] \(class indices\) must be in 0..2"),
    ("checkpoint=3", lambda: net().fit(X, LABELS, checkpoint=3, verbose=0),
     TypeError, r"checkpoint must be a path \(str or os.PathLike\); got 3"),
    ("resume from a missing file", lambda: net().fit(X, LABELS, resume="/nonexistent/c.npz",
                                                     verbose=0),
     FileNotFoundError, r"checkpoint not found: /nonexistent/c.npz"),
    ("training through a Step layer",
     lambda: Sequential([Dense(4, 3), Step(), Dense(3, 3)]).fit(X, LABELS, verbose=0),
     ValueError, r"must not contain a Step layer to be trained"),
    # -- building models ----------------------------------------------------------------
    ("mlp with one size", lambda: mlp([784]),
     ValueError, r"sizes must list at least an input and an output size, like .* got \[784\]"),
    ("mlp with a zero size", lambda: mlp([784, 0, 10]),
     ValueError, r"sizes\[1\] must be an integer >= 1; got 0"),
    ("mlp with a float size", lambda: mlp([784, 40.0, 10]),
     TypeError, r"sizes\[1\] must be an integer >= 1; got 40.0"),
    ("an unknown activation", lambda: mlp([4, 3], activation="rleu"),
     ValueError, r"unknown activation 'rleu'; valid names are: relu, leaky_relu"),
    ("an unknown output", lambda: mlp([4, 3], output="softmx"),
     ValueError, r"unknown output 'softmx'; valid names are: softmax, sigmoid, identity"),
    ("an unknown initializer", lambda: mlp([4, 3], init="kaiming"),
     ValueError, r"unknown initializer 'kaiming'; valid names are: he, xavier"),
    ("a negative init std", lambda: mlp([4, 3], init=-0.01),
     ValueError, r"init must be a registered name or a positive standard deviation; got -0.01"),
    ("an integer dtype", lambda: mlp([4, 3], dtype=np.int32),
     ValueError, r"dtype must be a floating type such as np.float32; got 'int32'"),
    ("a dtype that is no type", lambda: mlp([4, 3], dtype="floaty"),
     TypeError, r"dtype must be a floating type such as np.float32; got 'floaty'"),
    ("a negative seed", lambda: mlp([4, 3], seed=-1),
     ValueError, r"seed must be None, an integer >= 0 or a numpy Generator; got -1"),
    ("Sequential of a single layer object", lambda: Sequential(Dense(4, 3)),
     TypeError, r"layers must be a list of zerodl Layers; got Dense"),
    ("Sequential with a non-layer", lambda: Sequential([Dense(4, 3), "relu"]),
     TypeError, r"layers\[1\] must be a zerodl Layer; got 'relu'"),
    ("Sequential whose sizes do not chain", lambda: Sequential([Dense(4, 3), ReLU(), Dense(4, 2)]),
     ValueError, r"a Dense layer with n_out=3 is followed by one with n_in=4"),
    # -- files --------------------------------------------------------------------------
    ("load a missing model file", lambda: zerodl.load("/nonexistent/model.npz"),
     FileNotFoundError, r"model file not found: /nonexistent/model.npz"),
    ("load with a number for the path", lambda: zerodl.load(42),
     TypeError, r"path must be a path \(str or os.PathLike\); got 42"),
    ("load_mnist with normalize=1", lambda: load_mnist(normalize=1),
     TypeError, r"normalize must be a bool \(True or False\); got 1"),
    ("load_mnist from a missing folder", lambda: load_mnist(data_dir="/nonexistent/mnist"),
     FileNotFoundError, r"/nonexistent/mnist"),
]


@pytest.mark.parametrize("what,call,exc,pattern", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_a_clear_message(what, call, exc, pattern):
    with pytest.raises(exc, match=pattern) as info:
        call()
    assert type(info.value) is exc or exc is FileNotFoundError
    assert "\n" not in str(info.value)
    # Values read as plain numbers, never as NumPy reprs such as np.float32(nan).
    assert not re.search(r"np\.\w+\(", str(info.value)), str(info.value)


def test_messages_do_not_print_whole_arrays():
    big = np.zeros((1000, 4), dtype=np.float32)
    big[777, 3] = np.nan
    with pytest.raises(ValueError) as info:
        net().predict(big)
    assert "(777, 3)" in str(info.value) and len(str(info.value)) < 200


def test_valid_variants_still_accepted():
    # The checks must not refuse what is right: integer-valued float labels, soft targets,
    # bool inputs, uint8 images, a 1-D target for a single output, one sample as a 1-D x.
    model = net()
    model.loss(X, LABELS.astype(np.float32))
    model.loss(X, np.full((6, 3), 1 / 3))
    model.predict(X > 0)
    model.predict((X * 10).astype(np.uint8))
    assert model.predict(X[0]).shape == (1, 3)
    mlp([4, 1], output="identity").fit(X, X[:, 0], verbose=0)
    mlp([4, 1], output="sigmoid").fit(X, (X[:, 0] > 0).astype(float), verbose=0)


def test_checks_run_once_per_fit_not_per_batch(monkeypatch):
    # The per-batch path is kept free of validation: x and d are checked once at the entry.
    from zerodl import model as model_module
    from zerodl.core import _checks
    calls = []
    original = _checks.check_array

    def counting(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(model_module, "check_array", counting)
    monkeypatch.setattr(_checks, "check_array", counting)
    net().fit(X, LABELS, epochs=3, batch_size=1, verbose=0)
    assert calls == ["x", "d"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("contiguous", [True, False])
def test_large_inputs_refuse_exactly_the_non_finite_ones(dtype, contiguous):
    # Above 4096 values the check is one pass (a dot product or a sum); it must neither miss
    # a NaN or inf anywhere nor refuse huge finite values whose squares overflow.
    from zerodl.core._checks import check_array
    rng = np.random.default_rng(0)
    base = rng.standard_normal((300, 40)).astype(dtype)
    view = (lambda a: a) if contiguous else (lambda a: a[:, ::2])
    check_array("x", view(base))
    huge = np.full_like(base, np.finfo(dtype).max / 2)
    check_array("x", view(huge))
    for bad in (np.nan, np.inf, -np.inf):
        for index in [(0, 0), (150, 20), (299, 38)]:
            a = base.copy()
            a[index] = bad
            with pytest.raises(ValueError, match=rf"x must hold only finite numbers.*{index[0]}, "
                                                 rf"{index[1] // (1 if contiguous else 2)}"):
                check_array("x", view(a))
