"""make_toy: shapes, dtypes, balance, determinism, the plane's formula, errors."""
import numpy as np
import pytest

import zerodl
from zerodl.datasets import make_toy
from zerodl.toy import TOY_DATASETS

CLASSIFICATION = ["circle", "xor", "gaussian", "spiral", "moons"]


def test_every_registered_set_is_a_classification_set_here():
    assert sorted(TOY_DATASETS.names()) == sorted(CLASSIFICATION)
    assert zerodl.make_toy is make_toy


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("n", [2, 7, 200])
def test_shapes_dtypes_and_balance(name, n):
    x, d = make_toy(name, n, seed=0)
    assert x.shape == (n, 2) and x.dtype == np.float32
    assert d.shape == (n,) and d.dtype == np.int64
    assert set(np.unique(d)) <= {0, 1}
    assert np.count_nonzero(d == 0) == n // 2          # class 1 takes the odd sample
    assert np.count_nonzero(d == 1) == n - n // 2
    assert np.all(np.abs(x) <= 1.5)                    # about [-1, 1]^2 without noise


@pytest.mark.parametrize("name", CLASSIFICATION + ["plane"])
def test_same_seed_same_arrays_other_seed_other_arrays(name):
    a = make_toy(name, 50, noise=0.1, seed=3)
    b = make_toy(name, 50, noise=0.1, seed=3)
    c = make_toy(name, 50, noise=0.1, seed=4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    g = make_toy(name, 50, noise=0.1, seed=np.random.default_rng(3))
    assert np.array_equal(a[0], g[0])                  # a seed and its Generator agree


def test_the_classes_are_where_the_docstrings_say():
    x, d = make_toy("circle", 400, seed=1)
    r = np.hypot(x[:, 0], x[:, 1])
    assert r[d == 0].max() <= 0.5 + 1e-6 and r[d == 1].min() >= 0.7 - 1e-6
    x, d = make_toy("xor", 400, seed=1)
    assert np.array_equal(d, (np.sign(x[:, 0]) != np.sign(x[:, 1])).astype(int))
    x, d = make_toy("gaussian", 2000, seed=1)
    assert np.allclose(x[d == 0].mean(0), -0.5, atol=0.03)
    assert np.allclose(x[d == 1].mean(0), 0.5, atol=0.03)


def test_plane_is_the_course_regression():
    x, d = make_toy("plane", 300, seed=2)
    assert x.shape == (300, 2) and x.dtype == np.float32
    assert d.shape == (300, 1) and d.dtype == np.float32
    assert x.min() >= 0 and x.max() < 1
    np.testing.assert_allclose(d[:, 0], 3 * x[:, 0] + 2 * x[:, 1], rtol=1e-5, atol=1e-6)
    x, d = make_toy("plane", 3000, noise=0.1, seed=2)
    residual = d[:, 0] - (3 * x[:, 0] + 2 * x[:, 1])
    assert abs(residual.std() - 0.1) < 0.01


def test_noise_is_a_gaussian_of_that_standard_deviation():
    # Each gaussian cloud has std 0.25; noise 0.2 adds in variance: sqrt(0.25**2 + 0.2**2).
    x, d = make_toy("gaussian", 4000, noise=0.2, seed=5)
    np.testing.assert_allclose(x[d == 0].std(0), np.hypot(0.25, 0.2), rtol=0.05)


def test_names_are_case_insensitive():
    a = make_toy("Spiral", 20, seed=0)
    b = make_toy("spiral", 20, seed=0)
    assert np.array_equal(a[0], b[0])


@pytest.mark.parametrize("bad", ["swirl", "", None, 3])
def test_unknown_names_list_the_valid_ones(bad):
    with pytest.raises(ValueError) as info:
        make_toy(bad)
    message = str(info.value)
    assert message.startswith("name must be one of")
    for name in CLASSIFICATION + ["plane"]:
        assert name in message
    assert repr(bad) in message


@pytest.mark.parametrize("n, exc", [(1, ValueError), (0, ValueError), (-5, ValueError),
                                    (2.0, TypeError), (True, TypeError)])
def test_bad_sizes(n, exc):
    with pytest.raises(exc, match="n_samples must be an integer >= 2"):
        make_toy("circle", n)


@pytest.mark.parametrize("noise, exc", [(-0.1, ValueError), (float("nan"), ValueError),
                                        ("0.1", TypeError)])
def test_bad_noise(noise, exc):
    with pytest.raises(exc, match="noise must be"):
        make_toy("xor", 10, noise=noise)


def test_bad_seed():
    with pytest.raises(TypeError, match="seed must be"):
        make_toy("xor", 10, seed=1.5)
