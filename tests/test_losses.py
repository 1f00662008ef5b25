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
    # per sample 1/2 (1 + 0) and 1/2 (0 + 4), mean over the 2 samples
    assert loss == pytest.approx((0.5 + 2.0) / 2)
    np.testing.assert_allclose(grad, [[0.5, 0.0], [0.0, 1.0]])


def test_fused_gradients_are_the_functions_modules_own():
    """One source: every output's dE/du is functions.output_delta, (y - d) / N."""
    u = RNG.standard_normal((4, 3))
    for name, d in (("softmax", np.array([0, 2, 1, 1])),
                    ("sigmoid", RNG.integers(0, 2, (4, 3)).astype(float)),
                    ("identity", RNG.standard_normal((4, 3)))):
        out = get_output(name)
        d = out.prepare_labels(d, 3, np.float64)
        _, grad, y = out.loss_and_grad(u.copy(), d)
        target = np.eye(3)[d] if name == "softmax" else d
        np.testing.assert_allclose(grad, (y - target) / 4, rtol=1e-12)


def test_softmax_overwrite_path_equals_the_plain_path():
    out = get_output("softmax")
    u = RNG.standard_normal((5, 4)).astype(np.float32)
    d = np.array([3, 0, 1, 2, 2])
    plain = out.loss_and_grad(u.copy(), d)
    work = u.copy()
    fast = out.loss_and_grad(work, d, overwrite_u=True)
    assert fast[0] == pytest.approx(plain[0], rel=1e-6)
    np.testing.assert_allclose(fast[1], plain[1], rtol=1e-6)
    assert np.shares_memory(fast[2], work)


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
        tloss = fn.binary_cross_entropy_with_logits(tu, torch.tensor(d), reduction="sum") / 5
    else:
        tloss = fn.mse_loss(tu, torch.tensor(d), reduction="sum") / 5 / 2
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), rel=1e-12)
    np.testing.assert_allclose(grad, tu.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_fused_outputs_and_course_functions_share_one_gradient_function(monkeypatch):
    """Both the model's outputs and the course's d_*_with_loss go through output_delta."""
    calls = []
    real = F.output_delta

    def spy(d, y, out=None):
        calls.append(y.shape)
        return real(d, y, out)

    monkeypatch.setattr(F, "output_delta", spy)
    u = RNG.standard_normal((3, 2))
    for name, d in (("softmax", np.array([0, 1, 1])), ("sigmoid", np.ones((3, 2))),
                    ("identity", np.zeros((3, 2)))):
        get_output(name).loss_and_grad(u.copy(), d)
    F.d_softmax_with_loss(np.array([0, 1, 1]), F.softmax(u))
    F.d_sigmoid_with_loss(np.ones((3, 2)), F.sigmoid(u))
    F.d_mean_squared_error(np.zeros((3, 2)), u)
    assert calls == [(3, 2)] * 6
