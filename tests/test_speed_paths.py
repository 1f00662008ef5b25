"""The fast training path (reused buffers, in-place ReLU and softmax, one gather a batch)
computes what the plain formulas compute, and never overwrites what a user holds.

Also the benchmark's contenders: the plain NumPy loop and PyTorch train the same weights as
``fit`` from the same start, which is what makes the benchmark's ratios comparable.
"""
import numpy as np
import pytest

from zerodl import Dense, ReLU, Sequential, mlp
from zerodl import functions as F
from zerodl.tools.benchmarks import loops, suite
from zerodl.layers import Sigmoid, Tanh
from zerodl.losses import OUTPUTS
from zerodl.optimizers import SGD

RNG = np.random.default_rng(7)


def _reference_fit(model, x, d, batch, steps, lr, seed):
    """SGD with the same batch order as ``fit(seed=...)``, one ``model.gradient`` per batch."""
    rng = np.random.default_rng(seed)
    step = 0
    while step < steps:
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            if step == steps:
                break
            idx = order[start:start + batch]
            grads = model.gradient(x[idx], d[idx])
            for key, p in model.params.items():
                p -= p.dtype.type(lr) * grads[key]
            step += 1


@pytest.mark.parametrize("batch", [1, 7, 16])       # online, a partial last batch, even
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_fit_fast_path_equals_gradient_steps(batch, activation):
    x = RNG.standard_normal((40, 6)).astype(np.float32)
    d = RNG.integers(0, 3, 40)
    fast = mlp([6, 5, 4, 3], activation=activation, seed=1)
    slow = mlp([6, 5, 4, 3], activation=activation, seed=1)
    steps = 13 if batch > 1 else 50
    fast.fit(x, d, batch_size=batch, steps=steps, optimizer=SGD(0.1), seed=3, verbose=0)
    _reference_fit(slow, x, d, batch, steps, 0.1, seed=3)
    for key in fast.params:
        np.testing.assert_allclose(fast.params[key], slow.params[key], rtol=1e-5, atol=1e-6)


def test_training_sets_nothing_on_layers_and_results_are_not_overwritten():
    x = RNG.standard_normal((30, 4)).astype(np.float32)
    d = RNG.integers(0, 2, 30)
    model = mlp([4, 8, 2], seed=0)
    before = [set(vars(layer)) for layer in model.layers]
    model.fit(x, d, batch_size=10, epochs=1, verbose=0)
    # Only what forward caches for backward (Dense: x, activations: y) appears on a layer.
    assert [set(vars(layer)) - b for layer, b in zip(model.layers, before)] == [set(), {"y"}, set()]
    first = model.predict(x[:10])
    kept = first.copy()
    model.predict(x[10:20])
    model.fit(x, d, batch_size=10, epochs=1, verbose=0)
    np.testing.assert_array_equal(first, kept)
    g1 = model.gradient(x[:10], d[:10])
    g1_kept = {k: v.copy() for k, v in g1.items()}
    model.gradient(x[10:20], d[10:20])
    for key in g1:
        np.testing.assert_array_equal(g1[key], g1_kept[key])


def test_identity_output_predict_is_a_fresh_array_each_call():
    model = mlp([3, 4, 2], output="identity", seed=0)
    a = model.predict(np.ones((2, 3)))
    kept = a.copy()
    model.predict(np.zeros((2, 3)))
    np.testing.assert_array_equal(a, kept)


def test_user_inputs_are_never_modified():
    x = RNG.standard_normal((12, 3)).astype(np.float32)
    d = RNG.integers(0, 2, 12)
    x_kept, d_kept = x.copy(), d.copy()
    # A ReLU first sees the user's array: it must not work in place.
    model = Sequential([ReLU(), Dense(3, 2)], output="softmax", seed=0)
    model.fit(x, d, batch_size=4, epochs=2, verbose=0)
    model.predict(x)
    model.evaluate(x, d)
    np.testing.assert_array_equal(x, x_kept)
    np.testing.assert_array_equal(d, d_kept)


def test_relu_after_dense_is_in_place_and_still_correct():
    model = Sequential([Dense(3, 4), ReLU(), Dense(4, 2)], seed=0)
    x = RNG.standard_normal((5, 3)).astype(np.float32)
    model.train_step(x, np.arange(5) % 2, SGD(0.0))
    _, outs, _ = model._work_arrays(5)
    assert model.layers[1].y is outs[0]                  # the ReLU wrote over the Dense's u
    W1, b1, W2, b2 = (model.params[k] for k in ("W1", "b1", "W2", "b2"))
    u = np.maximum(x @ W1 + b1, 0) @ W2 + b2
    e = np.exp(u - u.max(axis=1, keepdims=True))
    np.testing.assert_allclose(model.predict(x), e / e.sum(axis=1, keepdims=True), rtol=1e-5)


def test_dense_backward_outer_product_path_for_one_sample():
    layer = Dense(5, 3, dtype=np.float64, rng=np.random.default_rng(0))
    x = RNG.standard_normal((1, 5))
    dy = RNG.standard_normal((1, 3))
    layer.forward(x)
    layer.backward(dy)
    np.testing.assert_allclose(layer.grads["W"], np.outer(x, dy), rtol=1e-12)


@pytest.mark.parametrize("one_hot", [False, True])
def test_softmax_overwrite_u_gives_the_same_results(one_hot):
    out = OUTPUTS.get("softmax")()
    u = RNG.standard_normal((6, 4)).astype(np.float32) * 5
    labels = RNG.integers(0, 4, 6)
    d = np.eye(4, dtype=np.float32)[labels] if one_hot else labels
    loss, grad, y = out.loss_and_grad(u.copy(), d)
    u2 = u.copy()
    loss2, grad2, y2 = out.loss_and_grad(u2, d, overwrite_u=True)
    assert loss2 == pytest.approx(loss, rel=1e-6)
    np.testing.assert_allclose(grad2, grad, rtol=1e-6)
    np.testing.assert_allclose(y2, y, rtol=1e-6)
    assert np.shares_memory(y2, u2)
    # the loss itself against the definition -mean(log softmax(u)[label])
    logp = u - u.max(axis=1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
    assert loss == pytest.approx(-logp[np.arange(6), labels].mean(), rel=1e-5)


@pytest.mark.parametrize("last", [ReLU, Sigmoid, Tanh])
def test_training_a_model_that_ends_in_an_activation_uses_its_true_gradient(last):
    # The activation keeps its output u for backward: the softmax must not overwrite it.
    x = RNG.standard_normal((5, 4)).astype(np.float32)
    d = np.array([0, 1, 2, 1, 0])
    model = Sequential([Dense(4, 3, rng=np.random.default_rng(0)), last()], seed=0)
    expected = model.gradient(x, d)
    model.train_step(x, d, SGD(0.0))
    for key, g in expected.items():
        np.testing.assert_array_equal(model.grads[key], g)
    u = model.forward(x)
    before = model.layers[-1].y.copy()
    model.predict(x)
    np.testing.assert_array_equal(model.layers[-1].y, before)
    np.testing.assert_array_equal(u, before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_kernel_is_the_textbook_formula_bit_for_bit(dtype):
    u = (RNG.standard_normal((9, 7)) * 40).astype(dtype)
    u[2] = -np.inf
    u[2, 3] = 1.0                                   # a row with -inf scores
    u[4, 5] = np.nan                                # NaN goes through as NaN
    with np.errstate(invalid="ignore"):
        e = np.exp(u - u.max(axis=1, keepdims=True))
        expected = e / e.sum(axis=1, keepdims=True)
        got = F.softmax_rows(u.copy())
        inplace = u.copy()
        assert F.softmax_rows(inplace, out=inplace) is inplace
        public = F.softmax(u)
    for result in (got, inplace, public):
        np.testing.assert_array_equal(result, expected)
        assert result.dtype == dtype


def test_model_predict_softmax_in_place_equals_the_public_softmax():
    model = mlp([6, 5, 4], seed=3)
    x = RNG.standard_normal((8, 6)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(x), F.softmax(model.forward(x)))
    np.testing.assert_array_equal(model.predict(x[0]), F.softmax(model.forward(x[:1])))


# -- the benchmark's contenders ----------------------------------------------------------
def test_step_flops_hand_worked():
    # 784-40-10, B=100: forward 2*100*(784*40 + 40*10) = 6,352,000; dW the same; dx only
    # for the second layer: 2*100*40*10 = 80,000.
    assert suite.step_flops([784, 40, 10], 100) == 2 * 6_352_000 + 80_000


@pytest.mark.parametrize("opt, lr", [("sgd", 0.1), ("adam", 0.01)])
def test_plain_loop_trains_the_same_weights_as_fit(opt, lr):
    x = RNG.random((90, 12), dtype=np.float32)
    d = RNG.integers(0, 4, 90)
    sizes, batch, steps = [12, 9, 7, 4], 20, 11       # 90 = 4 full batches + 10: a partial one
    weights = loops.initial_weights(sizes, 5)
    train_plain, (Ws, bs) = loops.plain_loop(x, d, sizes, batch, opt, lr, steps, weights, seed=2)
    train_plain()
    train_zerodl, model = suite.zerodl_loop(x, d, sizes, batch, opt, lr, steps, weights, seed=2)
    train_zerodl()
    for i, (W, b) in enumerate(zip(Ws, bs), start=1):
        np.testing.assert_allclose(model.params[f"W{i}"], W, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(model.params[f"b{i}"], b, rtol=1e-4, atol=1e-5)
    assert not np.allclose(Ws[0], weights[0][0])          # it did train


@pytest.mark.parametrize("opt, lr", [("sgd", 0.1), ("adam", 0.01)])
def test_torch_contender_trains_the_same_weights(opt, lr):
    pytest.importorskip("torch")
    x = RNG.random((90, 12), dtype=np.float32)
    d = RNG.integers(0, 4, 90)
    sizes, batch, steps = [12, 9, 4], 20, 11
    weights = loops.initial_weights(sizes, 5)
    train_plain, (Ws, bs) = loops.plain_loop(x, d, sizes, batch, opt, lr, steps, weights, seed=2)
    train_plain()
    train_torch, net = loops.torch_loop(x, d, sizes, batch, opt, lr, steps, weights, seed=2)
    train_torch()
    linears = [m for m in net if hasattr(m, "weight")]
    for linear, W, b in zip(linears, Ws, bs):
        np.testing.assert_allclose(linear.weight.detach().numpy().T, W, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(linear.bias.detach().numpy(), b, rtol=1e-4, atol=1e-5)


def test_plain_predict_matches_zerodl():
    sizes = [8, 6, 3]
    weights = loops.initial_weights(sizes, 0)
    model = mlp(sizes)
    for i, (W, b) in enumerate(weights, start=1):
        model.params[f"W{i}"][...] = W
        model.params[f"b{i}"][...] = b + 0.1
    x = RNG.random((4, 8), dtype=np.float32)
    got = loops.plain_predict([W for W, _ in weights], [b + 0.1 for _, b in weights], x.copy())
    np.testing.assert_allclose(got, model.predict(x), rtol=1e-5)


def test_fit_keeps_no_work_arrays_afterwards():
    x = RNG.standard_normal((50, 4)).astype(np.float32)
    d = RNG.integers(0, 2, 50)
    model = mlp([4, 6, 2], seed=0)
    model.fit(x, d, batch_size=None, epochs=2, verbose=0)       # full batch: arrays as big as x
    assert model._work is None
