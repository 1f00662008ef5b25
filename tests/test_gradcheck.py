"""gradient_check / gradient_errors and `zerodl gradcheck`: one finite-difference routine, one
tolerance."""
import numpy as np
import pytest

import zerodl
from zerodl.cli import main
from zerodl.functions import numerical_gradient
from zerodl.gradcheck import GRADIENT_CHECK_TOLERANCE, gradient_check, gradient_errors

RNG = np.random.default_rng(7)


def _net_and_batch():
    model = zerodl.mlp([4, 5, 3], activation="tanh", init="xavier", seed=1, dtype=np.float64)
    return model, RNG.standard_normal((6, 4)), RNG.integers(0, 3, 6)


def _scale_output_gradient(monkeypatch, factor):
    """Backpropagation from a dE/du off by ``factor``: every parameter gradient is too."""
    output = type(zerodl.mlp([2, 2]).output)
    right = output.loss_and_grad

    def wrong(self, *args, **kwargs):
        loss, du, y = right(self, *args, **kwargs)
        return loss, du * factor, y

    monkeypatch.setattr(output, "loss_and_grad", wrong)


def test_errors_are_against_the_course_numerical_gradient():
    model, x, d = _net_and_batch()
    errors = gradient_errors(model, x, d)
    analytic = model.gradient(x, d)
    for key, p in model.params.items():
        numeric = numerical_gradient(lambda _: model.loss(x, d), p, h=1e-5)
        want = np.linalg.norm(analytic[key] - numeric) / (
            np.linalg.norm(analytic[key]) + np.linalg.norm(numeric))
        assert errors[key] == pytest.approx(want, rel=1e-6, abs=1e-15), key
    assert set(errors) == set(model.params)
    assert gradient_check(model, x, d) == max(errors.values()) < GRADIENT_CHECK_TOLERANCE


def test_a_gradient_wrong_by_one_part_in_ten_thousand_is_caught(monkeypatch):
    model, x, d = _net_and_batch()
    _scale_output_gradient(monkeypatch, 1 + 1e-4)
    # |g (1 + e) - g| / |g (2 + e)| = e / (2 + e): 5e-5 for every array
    for key, err in gradient_errors(model, x, d).items():
        assert err == pytest.approx(1e-4 / (2 + 1e-4), rel=1e-3), key
    assert gradient_check(model, x, d) > GRADIENT_CHECK_TOLERANCE


def test_the_command_uses_the_same_tolerance(monkeypatch, capsys):
    assert main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    assert f"backpropagation agrees (tolerance {GRADIENT_CHECK_TOLERANCE:.0e})" in out
    _scale_output_gradient(monkeypatch, 1 + 1e-4)
    assert main(["gradcheck"]) == 1
    out = capsys.readouterr().out
    assert out.count("MISMATCH") == 5          # W1 b1 W2 b2 and the verdict
