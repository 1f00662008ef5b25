"""Optimizers: every rule and option step for step against torch.optim, resume bit for bit,
argument checks, the course's spellings and formulas, gradient clipping."""
import json

import numpy as np
import pytest

from zerodl import optimizers as opt
from zerodl.optimizers import OPTIMIZERS, clip_grad_norm, clip_grad_value, get_optimizer

SHAPES = {"W1": (4, 3), "b1": (3,), "W2": (3, 2)}

# (zerodl name, keyword arguments, torch.optim class name, its keyword arguments)
CASES = [
    ("sgd", {"lr": 0.05}, "SGD", {"lr": 0.05}),
    ("sgd", {"lr": 0.05, "momentum": 0.9}, "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("sgd", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3},
     "SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True},
     "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("sgd", {"lr": 0.05, "weight_decay": 0.1}, "SGD", {"lr": 0.05, "weight_decay": 0.1}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
     "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("momentum", {"lr": 0.05}, "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("momentum", {"lr": 0.05, "weight_decay": 0.1, "dampening": 0.1},
     "SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1, "dampening": 0.1}),
    ("nesterov", {"lr": 0.05}, "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("adagrad", {"lr": 0.1}, "Adagrad", {"lr": 0.1}),
    ("adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1,
                 "initial_accumulator_value": 0.2, "eps": 1e-3},
     "Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1,
                 "initial_accumulator_value": 0.2, "eps": 1e-3}),
    ("rmsprop", {"lr": 0.01}, "RMSprop", {"lr": 0.01}),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-4, "weight_decay": 0.1},
     "RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-4, "weight_decay": 0.1}),
    ("rmsprop", {"lr": 0.01, "centered": True}, "RMSprop", {"lr": 0.01, "centered": True}),
    ("rmsprop", {"lr": 0.01, "momentum": 0.9}, "RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("rmsprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1},
     "RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("adadelta", {}, "Adadelta", {}),
    ("adadelta", {"lr": 0.5, "rho": 0.95, "eps": 1e-4, "weight_decay": 0.1},
     "Adadelta", {"lr": 0.5, "rho": 0.95, "eps": 1e-4, "weight_decay": 0.1}),
    ("adam", {"lr": 0.05}, "Adam", {"lr": 0.05}),
    ("adam", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-3},
     "Adam", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-3}),
    ("adam", {"lr": 0.05, "amsgrad": True}, "Adam", {"lr": 0.05, "amsgrad": True}),
    ("adam", {"lr": 0.05, "weight_decay": 0.1}, "Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("adam", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True},
     "Adam", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    ("adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True},
     "Adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("adamw", {"lr": 0.05}, "AdamW", {"lr": 0.05}),
    ("adamw", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True},
     "AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}"
       for name, kw, _, _ in CASES]


def _problem(dtype=np.float64):
    """Start values and a gradient that depends on the parameters: g = 2 A p + sin(3 p)."""
    rng = np.random.default_rng(0)
    params = {k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()}
    mats = {}
    for k, s in SHAPES.items():
        n = int(np.prod(s))
        q = rng.standard_normal((n, n))
        mats[k] = (q @ q.T / n).astype(dtype)

    def grad(key, p):
        return (2 * mats[key] @ p.ravel()).reshape(p.shape) + np.sin(3 * p)
    return params, grad


def _run(optimizer, params, grad, steps):
    for _ in range(steps):
        grads = {k: grad(k, p) for k, p in params.items()}
        frozen = {k: g.copy() for k, g in grads.items()}
        optimizer.update(params, grads)
        for k in grads:               # the gradients are read, never changed
            np.testing.assert_array_equal(grads[k], frozen[k])
    return params


def test_registry_has_every_rule_of_the_issue():
    assert set(OPTIMIZERS.names()) == {"sgd", "momentum", "nesterov", "adagrad", "rmsprop",
                                       "adadelta", "adam", "adamw"}
    for name, cls in OPTIMIZERS.items():
        assert cls.name == name and get_optimizer(name).name == name


@pytest.mark.parametrize("name, kwargs, torch_name, torch_kwargs", CASES, ids=IDS)
def test_matches_torch_for_30_steps(name, kwargs, torch_name, torch_kwargs):
    torch = pytest.importorskip("torch")
    params, grad = _problem()
    ours = OPTIMIZERS.get(name)(**kwargs)
    tparams = {k: torch.tensor(p.copy()) for k, p in params.items()}
    theirs = getattr(torch.optim, torch_name)(list(tparams.values()), **torch_kwargs)
    for _ in range(30):
        for k, tp in tparams.items():
            tp.grad = torch.from_numpy(grad(k, tp.detach().numpy().copy()))
        theirs.step()
    _run(ours, params, grad, 30)
    for k, tp in tparams.items():
        assert not np.array_equal(params[k], _problem()[0][k])        # it did move
        np.testing.assert_allclose(params[k], tp.detach().numpy(), rtol=1e-12, atol=1e-13,
                                   err_msg=k)
    # the visible state is PyTorch's state, buffer for buffer
    for buffer, table in ours.buffers.items():
        for k, tp in tparams.items():
            np.testing.assert_allclose(table[k], theirs.state[tp][buffer].numpy(),
                                       rtol=1e-11, atol=1e-13, err_msg=f"{buffer}[{k}]")


@pytest.mark.parametrize("name, kwargs", [(c[0], c[1]) for c in CASES], ids=IDS)
def test_resume_from_state_dict_is_bit_identical(name, kwargs):
    params, grad = _problem(np.float32)
    straight = _run(OPTIMIZERS.get(name)(**kwargs), {k: p.copy() for k, p in params.items()},
                    grad, 30)

    first = OPTIMIZERS.get(name)(**kwargs)
    resumed = _run(first, {k: p.copy() for k, p in params.items()}, grad, 15)
    state = first.state_dict()
    # what a checkpoint writes: config through JSON, buffers as plain float arrays
    state = {"config": json.loads(json.dumps(state["config"])), "t": np.int64(state["t"]),
             "buffers": {b: {k: np.asarray(v) for k, v in table.items()}
                         for b, table in state["buffers"].items()}}
    for table in state["buffers"].values():
        for v in table.values():
            assert v.dtype == np.float32
    fresh = OPTIMIZERS.get(name)()
    fresh.load_state_dict(state)
    assert fresh.get_config() == first.get_config() and fresh.t == 15
    _run(fresh, resumed, grad, 15)
    for k in params:
        assert np.array_equal(resumed[k], straight[k]), k
        assert resumed[k].dtype == np.float32


def test_state_dict_is_a_copy():
    params, grad = _problem()
    optimizer = opt.Adam()
    _run(optimizer, params, grad, 2)
    state = optimizer.state_dict()
    state["buffers"]["exp_avg"]["W1"][...] = 0
    assert np.any(optimizer.buffers["exp_avg"]["W1"] != 0)


def test_load_state_dict_refuses_another_optimizers_state():
    with pytest.raises(ValueError, match="keys of a Adam|keys of an Adam|config"):
        opt.Adam().load_state_dict(opt.SGD().state_dict())
    bad = opt.SGD(momentum=0.5).state_dict()
    bad["buffers"] = {"momentum_buffer": {"W1": np.array(["a"])}}
    with pytest.raises(ValueError, match="float"):
        opt.SGD().load_state_dict(bad)


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_float32_stays_float32_and_state_is_visible(name):
    params, grad = _problem(np.float32)
    optimizer = OPTIMIZERS.get(name)()
    ids = {k: id(p) for k, p in params.items()}
    _run(optimizer, params, lambda k, p: grad(k, p).astype(np.float32), 3)
    assert {k: id(p) for k, p in params.items()} == ids          # updated in place
    for k, p in params.items():
        assert p.dtype == np.float32
    for table in optimizer.buffers.values():
        assert set(table) == set(SHAPES)
        assert all(v.dtype == np.float32 for v in table.values())
    assert optimizer.t == 3


@pytest.mark.parametrize("name, kwargs, message", [
    ("sgd", {"lr": -0.1}, "lr must be .*; got -0.1."),
    ("sgd", {"learning_rate": -0.1}, "lr must be .*; got -0.1."),
    ("sgd", {"momentum": 1.0}, r"momentum must be .*\[0.0, 1.0\); got 1.0."),
    ("sgd", {"momentum": -0.5}, "momentum must be .*; got -0.5."),
    ("sgd", {"dampening": 1.5}, "dampening must be .*; got 1.5."),
    ("sgd", {"weight_decay": -1e-4}, "weight_decay must be .*; got -0.0001."),
    ("sgd", {"nesterov": True}, "nesterov=True needs momentum > 0 .*got momentum=0.0"),
    ("nesterov", {"dampening": 0.1}, "nesterov=True needs .* dampening = 0; .*dampening=0.1"),
    ("momentum", {"momentum": 1.2}, "momentum must be .*; got 1.2."),
    ("adagrad", {"lr_decay": -1.0}, "lr_decay must be .*; got -1.0."),
    ("adagrad", {"initial_accumulator_value": -0.1},
     "initial_accumulator_value must be .*; got -0.1."),
    ("adagrad", {"eps": -1e-10}, "eps must be .*; got -1e-10."),
    ("rmsprop", {"alpha": 1.5}, r"alpha must be .*\[0.0, 1.0\]; got 1.5."),
    ("rmsprop", {"decay_rate": -0.1}, "alpha must be .*; got -0.1."),
    ("rmsprop", {"momentum": 1.0}, "momentum must be .*; got 1.0."),
    ("adadelta", {"rho": 1.1}, "rho must be .*; got 1.1."),
    ("adadelta", {"lr": float("nan")}, "lr must be a finite number .*; got nan."),
    ("adam", {"betas": (1.0, 0.999)}, r"betas\[0\] must be .*\[0.0, 1.0\); got 1.0."),
    ("adam", {"betas": (0.9, -0.1)}, r"betas\[1\] must be .*; got -0.1."),
    ("adam", {"betas": (0.9,)}, r"betas must be a pair .*; got \(0.9,\)."),
    ("adam", {"beta1": 1.0}, "beta1 must be .*; got 1.0."),
    ("adam", {"beta2": 2.0}, "beta2 must be .*; got 2.0."),
    ("adam", {"eps": -1e-8}, "eps must be .*; got -1e-08."),
    ("adamw", {"weight_decay": -0.01}, "weight_decay must be .*; got -0.01."),
])
def test_invalid_hyper_parameters_name_argument_and_value(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        OPTIMIZERS.get(name)(**kwargs)


def test_non_bool_flags_are_refused():
    with pytest.raises(TypeError, match="amsgrad"):
        opt.Adam(amsgrad=1)


def test_course_spellings():
    assert opt.RMSprop is opt.RMSProp and opt.Adagrad is opt.AdaGrad
    assert opt.Adadelta is opt.AdaDelta
    assert get_optimizer("RMSprop").name == "rmsprop"
    a = opt.Adam(learning_rate=0.01, beta1=0.8, beta2=0.99)
    assert a.get_config() == opt.Adam(lr=0.01, betas=(0.8, 0.99)).get_config()
    assert opt.RMSProp(decay_rate=0.9, learning_rate=0.02).get_config() == \
        opt.RMSProp(lr=0.02, alpha=0.9).get_config()
    assert get_optimizer("adam", lr=0.5).lr == 0.5
    with pytest.raises(ValueError, match="config"):
        get_optimizer(opt.Adam(), lr=0.5)


def test_momentum_equals_the_courses_formula_at_constant_lr():
    """The course: v <- 0.9 v - lr g; p <- p + v, v starting at 0."""
    params, grad = _problem()
    course = {k: p.copy() for k, p in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}
    for _ in range(30):
        for k in course:
            v[k] = 0.9 * v[k] - 0.05 * grad(k, course[k])
            course[k] += v[k]
    ours = _run(opt.Momentum(lr=0.05), params, grad, 30)
    for k in course:
        np.testing.assert_allclose(ours[k], course[k], rtol=1e-11, atol=1e-12)


def test_adam_first_step_by_hand():
    """Step 1: m = 0.1 g, v = 0.001 g^2, so the step is lr * g / (|g| + eps) ~ lr * sign(g)."""
    p = {"w": np.array([1.0, -2.0, 0.5])}
    g = {"w": np.array([0.3, -4.0, 0.0])}
    opt.Adam(lr=0.1).update(p, g)
    expected = np.array([1.0, -2.0, 0.5]) - 0.1 * np.array([0.3, -4.0, 0]) / (
        np.array([0.3, 4.0, 0]) + 1e-8)
    np.testing.assert_allclose(p["w"], expected, rtol=1e-12)
    np.testing.assert_allclose(p["w"], [0.9, -1.9, 0.5], rtol=1e-6)


def test_adagrad_first_step_by_hand():
    """h = g^2, so the first step is lr * g / (|g| + eps)."""
    p = {"w": np.array([1.0, 1.0])}
    opt.AdaGrad(lr=0.5, eps=0.0).update(p, {"w": np.array([2.0, -0.25])})
    np.testing.assert_allclose(p["w"], [0.5, 1.5])


# -- clipping ------------------------------------------------------------------------------
def _grads(scale):
    rng = np.random.default_rng(3)
    return {k: scale * rng.standard_normal(s) for k, s in SHAPES.items()}


@pytest.mark.parametrize("max_norm, norm_type", [(0.5, 2.0), (100.0, 2.0), (1.0, 1.0),
                                                 (0.3, float("inf")), (2.0, 3.0)])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    torch = pytest.importorskip("torch")
    grads = _grads(2.0)
    tensors = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in SHAPES.values()]
    for t, g in zip(tensors, grads.values()):
        t.grad = torch.tensor(g)
    expected = torch.nn.utils.clip_grad_norm_(tensors, max_norm, norm_type=norm_type)
    total = clip_grad_norm(grads, max_norm, norm_type=norm_type)
    assert total == pytest.approx(float(expected), rel=1e-12)
    for t, g in zip(tensors, grads.values()):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_by_hand():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[0.0], [4.0]])}   # global norm 5
    assert clip_grad_norm(grads, 1.0) == 5.0
    np.testing.assert_allclose(grads["a"], [0.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(grads["b"], [[0.0], [0.8]], rtol=1e-6)
    untouched = {"a": np.array([0.3, 0.4])}
    clip_grad_norm(untouched, 1.0)
    np.testing.assert_array_equal(untouched["a"], [0.3, 0.4])
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm(grads, 0.0)


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    grads = _grads(2.0)
    tensors = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in SHAPES.values()]
    for t, g in zip(tensors, grads.values()):
        t.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_value_(tensors, 0.7)
    clip_grad_value(grads, 0.7)
    for t, g in zip(tensors, grads.values()):
        np.testing.assert_array_equal(g, t.grad.numpy())
    assert max(np.abs(g).max() for g in grads.values()) == 0.7
    with pytest.raises(ValueError, match="clip_value must .*got -1.0"):
        clip_grad_value(grads, -1.0)


def test_clipping_keeps_float32():
    grads = {k: g.astype(np.float32) for k, g in _grads(5.0).items()}
    clip_grad_norm(grads, 1.0)
    clip_grad_value(grads, 0.1)
    assert all(g.dtype == np.float32 for g in grads.values())


def test_repr_shows_lr_and_changed_settings_only():
    assert repr(opt.Adam()) == "Adam(lr=0.001)"
    assert repr(opt.AdamW(amsgrad=True, lr=0.01)) == "AdamW(lr=0.01, amsgrad=True)"
    assert repr(opt.SGD(0.1, momentum=0.9)) == "SGD(lr=0.1, momentum=0.9)"
