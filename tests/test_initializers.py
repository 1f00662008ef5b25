"""Every registered initialiser: shape, dtype, seed determinism and its stated spread."""
import numpy as np
import pytest

from zerodl.initializers import INITIALIZERS, get_initializer

EXPECTED_STD = {"he": np.sqrt(2 / 400), "xavier": np.sqrt(1 / 400),
                "glorot": np.sqrt(2 / 700), "normal": 0.01, "uniform": np.sqrt(1 / 12),
                "zeros": 0.0, "ones": 0.0}


def test_expected_table_covers_the_registry():
    assert set(EXPECTED_STD) == set(INITIALIZERS)


@pytest.mark.parametrize("name", list(INITIALIZERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_initializer(name, dtype):
    init = get_initializer(name)
    w = init(np.random.default_rng(5), 400, 300, dtype)
    assert w.shape == (400, 300) and w.dtype == dtype
    np.testing.assert_array_equal(w, init(np.random.default_rng(5), 400, 300, dtype))
    assert w.std() == pytest.approx(EXPECTED_STD[name], rel=0.02, abs=1e-12)


def test_number_is_normal_std_and_bad_values_refused():
    w = get_initializer(0.5)(np.random.default_rng(0), 300, 300)
    assert w.std() == pytest.approx(0.5, rel=0.02) and abs(w.mean()) < 0.01
    for bad in (0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="positive standard deviation"):
            get_initializer(bad)
