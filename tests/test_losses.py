"""Fused output layers: loss and dE/du against finite differences, torch and hand values."""
import numpy as np
import pytest

from zerodl import functions as F
from zerodl.functions import numerical_gradient
from zerodl.losses import OUTPUTS, get_output

RNG = np.random.default_rng(0)


def _targets(name, n, k, integer=False):
    if name == "softmax":
        labels = RNG.integers(0, k, n)
        return labels if integer else np.eye(k)[labels]
    if name == "sigmoid":
        return RNG.integers(0, 2, (n, k)).astype(float)
    return RNG.standard_normal((n, k))


CASES = [(name, n, k, integer) for name in OUTPUTS for n in (1, 3, 8) for k in (1, 4)
         for integer in ((False, True) if name == "softmax" else (False,))
         if not (name == "softmax" and k == 1)]


@pytest.mark.parametrize("name,n,k,integer", CASES)
def test_fused_gradient_matches_finite_differences(name, n, k, integer):
    out = get_output(name)
    u = RNG.standard_normal((n, k)) * 3
    d = out.prepare_labels(_targets(name, n, k, integer), k, np.float64)
    _, grad, y = out.loss_and_grad(u, d)
    numeric = numerical_gradient(lambda v: out.loss(v, d), u.copy())
    np.testing.assert_allclose(grad, numeric, atol=1e-8, rtol=1e-6)
    np.testing.assert_allclose(y, out.predict(u))


@pytest.mark.parametrize("name", list(OUTPUTS))
def test_fused_loss_equals_functions_module(name):
    """The fused losses compute the same numbers as the course-style functions."""
    out = get_output(name)
    k = 1 if name == "sigmoid" else 4
    u = RNG.standard_normal((6, k))
    d = _targets(name, 6, k)
    loss, grad, y = out.loss_and_grad(u, d)
    reference = {"softmax": (F.cross_entropy_error, F.d_softmax_with_loss),
                 "sigmoid": (F.binary_cross_entropy, F.d_sigmoid_with_loss),
                 "identity": (F.mean_squared_error, F.d_mean_squared_error)}[name]
    assert loss == pytest.approx(reference[0](d, y), rel=1e-10)
    np.testing.assert_allclose(grad, reference[1](d, y), atol=1e-12)


def test_softmax_loss_finite_for_huge_logits():
    out = get_output("softmax")
    u = np.array([[1000.0, -1000.0, 0.0]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, grad, y = out.loss_and_grad(u, np.array([1]))
    assert loss == pytest.approx(2000.0, rel=1e-6)   # -log_softmax(u)[1] = 2000
    assert np.all(np.isfinite(grad)) and grad.dtype == np.float32


def test_sigmoid_loss_finite_at_saturation_and_label_dependent():
    out = get_output("sigmoid")
    u = np.array([[50.0], [-50.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        right, _, _ = out.loss_and_grad(u, np.array([[1.0], [0.0]]))
        wrong, _, _ = out.loss_and_grad(u, np.array([[0.0], [1.0]]))
    assert 0 <= right < 1e-20
    assert wrong == pytest.approx(50.0)


def test_mse_hand_worked():
    out = get_output("identity")
    loss, grad, _ = out.loss_and_grad(np.array([[1.0, 2.0], [3.0, 4.0]]),
                                      np.array([[0.0, 2.0], [3.0, 2.0]]))
    assert loss == pytest.approx(0.5 * (1 + 0 + 0 + 4) / 4)
    np.testing.assert_allclose(grad, [[0.25, 0.0], [0.0, 0.5]])


def test_accuracy_counts():
    soft = get_output("softmax")
    y = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    assert soft.correct(y, np.array([0, 1, 1])) == 2
    assert soft.correct(y, np.eye(2)[[0, 0, 0]]) == 2
    assert get_output("sigmoid").correct(np.array([[0.9], [0.3]]), np.array([[1.0], [1.0]])) == 1


@pytest.mark.parametrize("name", list(OUTPUTS))
def test_fused_outputs_match_torch(name):
    torch = pytest.importorskip("torch")
    fn = torch.nn.functional
    out = get_output(name)
    k = 3
    u = RNG.standard_normal((5, k)) * 4
    d = _targets(name, 5, k, integer=(name == "softmax"))
    loss, grad, _ = out.loss_and_grad(u, out.prepare_labels(d, k, np.float64))
    tu = torch.tensor(u, requires_grad=True)
    if name == "softmax":
        tloss = fn.cross_entropy(tu, torch.tensor(d))
    elif name == "sigmoid":
        tloss = fn.binary_cross_entropy_with_logits(tu, torch.tensor(d))
    else:
        tloss = 0.5 * fn.mse_loss(tu, torch.tensor(d))
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), rel=1e-12)
    np.testing.assert_allclose(grad, tu.grad.numpy(), rtol=1e-10, atol=1e-15)
