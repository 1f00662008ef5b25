"""Optimizers: update rules that change the parameter arrays in place.

Contract (``optimizer_base.Optimizer``): ``optimizer.update(params, grads)`` updates every
``params[key]`` in place and only reads ``grads``; per-parameter state lives in
``optimizer.buffers`` under PyTorch's state names (``momentum_buffer``, ``exp_avg``,
``exp_avg_sq``, ...), so the two can be compared directly. Each class declares its settings
once, in its ``settings`` table (rule and help; the defaults are the constructor's), which
checks them at construction and at every assignment and gives ``get_config``.

Every rule is the one of ``torch.optim`` (same keyword names, defaults and order of
operations up to round-off); where the course's reference code differs, the class docstring
says how. The course's spellings are accepted too: ``learning_rate=`` for ``lr``, Adam's
``beta1=``/``beta2=``, RMSProp's ``decay_rate=``, and the class names ``RMSprop``,
``Adagrad``, ``Adadelta``.

Speed: each step works in place with NumPy ufuncs (``out=``) on buffers and scratch arrays
allocated on first use, and casts Python-float hyper-parameters to the parameters' dtype, so
a float32 network stays float32 and no step after the first allocates an array.

float16: the adaptive rules (AdaGrad, RMSProp, AdaDelta, Adam) update float16 parameters
through float32 copies (two new arrays per parameter and step) and keep their state in
float32, since their ``eps`` and squared gradients underflow to 0 in float16; SGD and its
momentum variants stay in float16.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ._checks import check_number
from ._registry import Registry
from .optimizer_base import NON_NEGATIVE, Optimizer
from .settings import Boolean, Interval, Pair, Setting

OPTIMIZERS: Registry = Registry("optimizer")

#: The rules of the settings: momenta, betas and decay rates in [0, 1) (or [0, 1]).
UNIT = Interval(float, 0, 1, closed="left")
CLOSED_UNIT = Interval(float, 0, 1)
FLAG = Boolean()
WEIGHT_DECAY = Setting(NON_NEGATIVE, help="L2 penalty: weight_decay * p is added to the gradient")
EPS = Setting(NON_NEGATIVE, help="added to the denominator, against division by 0")


def _register(name: str):
    """Register a class under ``name`` and remember the name on the class (``opt.name``)."""
    def add(cls):
        cls.name = name
        return OPTIMIZERS.register(name)(cls)
    return add


def _course_alias(value, alias_value):
    """The value given by the course's spelling (``learning_rate=``) when there is one, else
    PyTorch's (``lr=``)."""
    return value if alias_value is None else alias_value


@_register("sgd")
class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov momentum and L2 decay.

    With ``g = grad + weight_decay * p`` and the momentum buffer ``b`` (``b_1 = g_1``)::

        b_t = momentum * b_{t-1} + (1 - dampening) * g_t
        d_t = g_t + momentum * b_t     if nesterov  else  b_t     (d_t = g_t without momentum)
        p_t = p_{t-1} - lr * d_t

    Plain SGD (``momentum=0``) is the course's ``p <- p - lr * g``. Momentum: Polyak (1964);
    the Nesterov form is PyTorch's, after Sutskever et al., "On the importance of
    initialization and momentum in deep learning" (ICML 2013). ``lr`` defaults to the
    course's 0.01 (PyTorch's is 0.001).
    """

    settings = {
        "momentum": Setting(UNIT, help="weight of the previous step (0: plain SGD)"),
        "dampening": Setting(CLOSED_UNIT, help="share of the gradient left out of the buffer"),
        "weight_decay": WEIGHT_DECAY,
        "nesterov": Setting(FLAG, help="look ahead along the momentum"),
    }

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *,
                 learning_rate: float | None = None) -> None:
        super().__init__(_course_alias(lr, learning_rate), momentum=momentum,
                         dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)

    def check_together(self, name: str, value) -> None:
        """Nesterov momentum needs momentum > 0 and no dampening (PyTorch's rule)."""
        if name not in ("momentum", "dampening", "nesterov"):
            return
        now = {"momentum": 0.0, "dampening": 0.0, "nesterov": False,
               **{k: v for k, v in vars(self).items() if k in ("momentum", "dampening",
                                                                 "nesterov")},
               name: value}
        if now["nesterov"] and (now["momentum"] == 0 or now["dampening"] != 0):
            raise ValueError(f"nesterov=True needs momentum > 0 and dampening = 0; got "
                             f"momentum={now['momentum']!r}, dampening={now['dampening']!r}.")

    def update_one(self, key, p, g):
        c = p.dtype.type
        s = self._work(key, p)
        if self.weight_decay:
            g = self._l2(key, p, g)
        if self.momentum:
            table = self.buffers.setdefault("momentum_buffer", {})
            b = table.get(key)
            if b is None:
                b = table[key] = g.copy()      # PyTorch starts the buffer at g, not at 0
            else:
                b *= c(self.momentum)
                if self.dampening:
                    np.multiply(g, c(1.0 - self.dampening), out=s)
                    b += s
                else:
                    b += g
            if self.nesterov:
                np.multiply(b, c(self.momentum), out=s)
                s += g
                g = s
            else:
                g = b
        np.multiply(g, c(self.lr), out=s)
        p -= s


@_register("momentum")
class Momentum(SGD):
    """The course's Momentum: ``SGD`` with ``momentum=0.9`` by default.

    The course writes it ``v <- momentum * v - lr * g; p <- p + v`` (v starts at 0). With a
    constant ``lr`` that is the same rule as ``SGD``'s, since ``v = -lr * b``; with a
    changing ``lr`` (a schedule) the course's ``v`` keeps the old rates while PyTorch's
    buffer does not, and zerodl follows PyTorch.
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.9, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *,
                 learning_rate: float | None = None) -> None:
        super().__init__(lr, momentum, dampening, weight_decay, nesterov,
                         learning_rate=learning_rate)


@_register("nesterov")
class Nesterov(SGD):
    """Nesterov's accelerated gradient: ``SGD`` with ``momentum=0.9, nesterov=True``.

    PyTorch's form (see ``SGD``): the step looks ahead along the momentum,
    ``p <- p - lr * (g + momentum * b)``. The course's reference code updates ``v`` first and
    then takes ``p += momentum^2 v - (1 + momentum) lr g``, a different ordering whose
    steps do not equal PyTorch's; zerodl follows PyTorch.
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.9, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = True, *,
                 learning_rate: float | None = None) -> None:
        super().__init__(lr, momentum, dampening, weight_decay, nesterov,
                         learning_rate=learning_rate)


@_register("adagrad")
class AdaGrad(Optimizer):
    """AdaGrad: each parameter's step shrinks with its accumulated squared gradients.

    With ``g = grad + weight_decay * p`` and ``h_0 = initial_accumulator_value``::

        h_t = h_{t-1} + g_t * g_t
        p_t = p_{t-1} - lr_t * g_t / (sqrt(h_t) + eps),   lr_t = lr / (1 + (t - 1) lr_decay)

    Duchi, Hazan and Singer, "Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization" (JMLR 2011). The course's code is this rule with ``eps=1e-7``;
    PyTorch's default, kept here, is ``1e-10``.
    """

    squares = ("sum",)
    settings = {
        "lr_decay": Setting(NON_NEGATIVE, help="lr_t = lr / (1 + (t - 1) lr_decay)"),
        "weight_decay": WEIGHT_DECAY,
        "initial_accumulator_value": Setting(NON_NEGATIVE, help="h_0, the start of the sum"),
        "eps": EPS,
    }

    def __init__(self, lr: float = 0.01, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, *,
                 learning_rate: float | None = None) -> None:
        super().__init__(_course_alias(lr, learning_rate), lr_decay=lr_decay,
                         weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps)

    def update_one(self, key, p, g):
        if p.dtype == np.float16:
            return self._update_in_float32(key, p, g)
        c = p.dtype.type
        s = self._work(key, p)
        if self.weight_decay:
            g = self._l2(key, p, g)
        h = self._buffer("sum", key, p, self.initial_accumulator_value)
        np.multiply(g, g, out=s)
        h += s
        np.sqrt(h, out=s)
        s += c(self.eps)
        np.divide(g, s, out=s)
        s *= c(self.lr / (1.0 + (self.t - 1) * self.lr_decay))
        p -= s


@_register("rmsprop")
class RMSProp(Optimizer):
    """RMSProp: steps scaled by a running mean of squared gradients.

    With ``g = grad + weight_decay * p``, ``v`` (``square_avg``) and, when ``centered``,
    ``a`` (``grad_avg``), all starting at 0::

        v_t = alpha * v_{t-1} + (1 - alpha) * g_t^2
        a_t = alpha * a_{t-1} + (1 - alpha) * g_t                    (centered only)
        s_t = sqrt(v_t - a_t^2) + eps   if centered  else  sqrt(v_t) + eps
        b_t = momentum * b_{t-1} + g_t / s_t,   p_t = p_{t-1} - lr * b_t    (momentum > 0)
        p_t = p_{t-1} - lr * g_t / s_t                                        (otherwise)

    Tieleman and Hinton, Coursera "Neural Networks for Machine Learning", lecture 6.5
    (2012); the centered form is Graves, "Generating Sequences With Recurrent Neural
    Networks" (2013). The course's ``RMSprop(lr, decay_rate)`` is this rule with
    ``alpha=decay_rate`` and ``eps=1e-7``; PyTorch's default ``eps=1e-8`` is kept.
    """

    squares = ("square_avg",)
    settings = {
        "alpha": Setting(CLOSED_UNIT, help="decay of the running mean of g^2"),
        "eps": EPS,
        "weight_decay": WEIGHT_DECAY,
        "momentum": Setting(UNIT, help="momentum on the scaled step (0: none)"),
        "centered": Setting(FLAG, help="divide by the running variance, not the mean of g^2"),
    }

    def __init__(self, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 learning_rate: float | None = None, decay_rate: float | None = None) -> None:
        super().__init__(_course_alias(lr, learning_rate),
                         alpha=_course_alias(alpha, decay_rate), eps=eps,
                         weight_decay=weight_decay, momentum=momentum, centered=centered)

    def update_one(self, key, p, g):
        if p.dtype == np.float16:
            return self._update_in_float32(key, p, g)
        c = p.dtype.type
        s = self._work(key, p)
        if self.weight_decay:
            g = self._l2(key, p, g)
        v = self._buffer("square_avg", key, p)
        v *= c(self.alpha)
        np.multiply(g, g, out=s)
        s *= c(1.0 - self.alpha)
        v += s
        if self.centered:
            a = self._buffer("grad_avg", key, p)
            a *= c(self.alpha)
            np.multiply(g, c(1.0 - self.alpha), out=s)
            a += s
            np.multiply(a, a, out=s)
            np.subtract(v, s, out=s)
            np.sqrt(s, out=s)
        else:
            np.sqrt(v, out=s)
        s += c(self.eps)
        np.divide(g, s, out=s)                 # s = g / (sqrt(...) + eps)
        if self.momentum:
            b = self._buffer("momentum_buffer", key, p)
            b *= c(self.momentum)
            b += s
            np.multiply(b, c(self.lr), out=s)
        else:
            s *= c(self.lr)
        p -= s


@_register("adadelta")
class AdaDelta(Optimizer):
    """AdaDelta: RMSProp whose step size comes from a running mean of past squared steps.

    With ``g = grad + weight_decay * p`` and ``v`` (``square_avg``), ``u`` (``acc_delta``)
    starting at 0::

        v_t  = rho * v_{t-1} + (1 - rho) * g_t^2
        dx_t = sqrt(u_{t-1} + eps) / sqrt(v_t + eps) * g_t
        u_t  = rho * u_{t-1} + (1 - rho) * dx_t^2
        p_t  = p_{t-1} - lr * dx_t

    Zeiler, "ADADELTA: An Adaptive Learning Rate Method" (2012); the paper has no ``lr``
    (it is 1.0, the default here as in PyTorch).
    """

    squares = ("square_avg", "acc_delta")
    settings = {
        "rho": Setting(CLOSED_UNIT, help="decay of the running means"),
        "eps": EPS,
        "weight_decay": WEIGHT_DECAY,
    }

    def __init__(self, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, learning_rate: float | None = None) -> None:
        super().__init__(_course_alias(lr, learning_rate), rho=rho, eps=eps,
                         weight_decay=weight_decay)

    def update_one(self, key, p, g):
        if p.dtype == np.float16:
            return self._update_in_float32(key, p, g)
        c = p.dtype.type
        s, dx = self._work(key, p), self._work(key, p, 2)
        if self.weight_decay:
            g = self._l2(key, p, g)
        v = self._buffer("square_avg", key, p)
        u = self._buffer("acc_delta", key, p)
        eps = c(self.eps)
        v *= c(self.rho)
        np.multiply(g, g, out=s)
        s *= c(1.0 - self.rho)
        v += s
        np.add(v, eps, out=s)
        np.sqrt(s, out=s)
        np.add(u, eps, out=dx)
        np.sqrt(dx, out=dx)
        dx /= s
        dx *= g
        u *= c(self.rho)
        np.multiply(dx, dx, out=s)
        s *= c(1.0 - self.rho)
        u += s
        dx *= c(self.lr)
        p -= dx


@_register("adam")
class Adam(Optimizer):
    """Adam: momentum on the gradient and RMSProp scaling, both bias-corrected.

    With ``g = grad + weight_decay * p`` (or, with ``decoupled_weight_decay``, first
    ``p <- p * (1 - lr * weight_decay)`` and ``g = grad``) and ``m``, ``v`` starting at 0::

        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t                 (exp_avg)
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2               (exp_avg_sq)
        vhat_t = max(vhat_{t-1}, v_t)  if amsgrad  else  v_t      (max_exp_avg_sq)
        p_t = p_{t-1} - lr / (1 - beta1^t) * m_t / (sqrt(vhat_t) / sqrt(1 - beta2^t) + eps)

    Kingma and Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015); AMSGrad: Reddi,
    Kale and Kumar, "On the Convergence of Adam and Beyond" (ICLR 2018). Epsilon is added to
    the bias-corrected ``sqrt(v)``, as in the paper and PyTorch; the course's code adds it
    to the uncorrected ``sqrt(v)`` (``lr_t * m / (sqrt(v) + eps)``), which weighs ``eps``
    ``sqrt(1 - beta2^t)`` times less, a visible difference in the first steps.
    """

    squares = ("exp_avg_sq", "max_exp_avg_sq")
    settings = {
        "betas": Setting(Pair(UNIT, "(beta1, beta2)"), help="decays of m and v"),
        "eps": EPS,
        "weight_decay": WEIGHT_DECAY,
        "amsgrad": Setting(FLAG, help="divide by the largest v so far (AMSGrad)"),
        "decoupled_weight_decay": Setting(FLAG, help="shrink p directly, as AdamW"),
    }

    def __init__(self, lr: float = 0.001, betas: Sequence[float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False,
                 decoupled_weight_decay: bool = False, *, learning_rate: float | None = None,
                 beta1: float | None = None, beta2: float | None = None) -> None:
        if beta1 is not None or beta2 is not None:     # the course's spelling, by its names
            betas = self.settings["betas"].check("betas", betas)
            betas = (betas[0] if beta1 is None else UNIT.check("beta1", beta1),
                     betas[1] if beta2 is None else UNIT.check("beta2", beta2))
        super().__init__(_course_alias(lr, learning_rate), betas=betas, eps=eps,
                         weight_decay=weight_decay, amsgrad=amsgrad,
                         decoupled_weight_decay=decoupled_weight_decay)

    def update_one(self, key, p, g):
        if p.dtype == np.float16:
            return self._update_in_float32(key, p, g)
        c = p.dtype.type
        s = self._work(key, p)
        beta1, beta2 = self.betas
        if self.weight_decay:
            if self.decoupled_weight_decay:
                p *= c(1.0 - self.lr * self.weight_decay)
            else:
                g = self._l2(key, p, g)
        m = self._buffer("exp_avg", key, p)
        v = self._buffer("exp_avg_sq", key, p)
        m *= c(beta1)
        np.multiply(g, c(1.0 - beta1), out=s)
        m += s
        v *= c(beta2)
        np.multiply(g, g, out=s)
        s *= c(1.0 - beta2)
        v += s
        if self.amsgrad:
            v_max = self._buffer("max_exp_avg_sq", key, p)
            np.maximum(v_max, v, out=v_max)
            v = v_max
        # lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps), with the correction of v
        # moved to the numerator and eps: one pass over the array fewer, same value
        root = math.sqrt(1.0 - beta2 ** self.t)
        np.sqrt(v, out=s)
        s += c(self.eps * root)
        np.divide(m, s, out=s)
        s *= c(self.lr / (1.0 - beta1 ** self.t) * root)
        p -= s


@_register("adamw")
class AdamW(Adam):
    """AdamW: ``Adam`` with decoupled weight decay (``weight_decay=0.01`` by default).

    The decay shrinks the parameters directly, ``p <- p * (1 - lr * weight_decay)``, before
    the Adam step, instead of entering the gradient where Adam's scaling would weaken it.
    Loshchilov and Hutter, "Decoupled Weight Decay Regularization" (ICLR 2019).
    """

    def __init__(self, lr: float = 0.001, betas: Sequence[float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.01, amsgrad: bool = False,
                 decoupled_weight_decay: bool = True, *, learning_rate: float | None = None,
                 beta1: float | None = None, beta2: float | None = None) -> None:
        super().__init__(lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay,
                         learning_rate=learning_rate, beta1=beta1, beta2=beta2)


# The names PyTorch and the course use for the same classes.
RMSprop = RMSProp
Adagrad = AdaGrad
Adadelta = AdaDelta


def get_optimizer(optimizer, **config) -> Optimizer:
    """An optimizer object as given, or a new one for a registered name (``"adam"``) built
    with ``config`` (e.g. ``get_optimizer("adam", lr=1e-3)``)."""
    if isinstance(optimizer, Optimizer):
        if config:
            raise ValueError(f"config must be empty when optimizer is an object; got {config!r}.")
        return optimizer
    return OPTIMIZERS.get(optimizer)(**config)


# -- gradient clipping -----------------------------------------------------------------------
def clip_grad_norm(grads: dict[str, np.ndarray], max_norm: float,
                   norm_type: float = 2.0) -> float:
    """Scale all gradients together, in place, so that their global norm is at most
    ``max_norm``; return the global norm before clipping.

    ``total = || (||g_1||, ||g_2||, ...) ||`` (the norm of all entries as one vector, the
    ``norm_type``-norm, ``inf`` for the largest magnitude); when
    ``c = max_norm / (total + 1e-6) < 1`` every gradient becomes ``c * g``. The direction of
    the step is kept, only its length is capped. Same rule and the same ``1e-6`` as
    PyTorch's ``clip_grad_norm_`` (Pascanu, Mikolov and Bengio, "On the difficulty of
    training recurrent neural networks", ICML 2013).
    """
    max_norm = check_number("max_norm", max_norm, low=0.0, low_open=True)
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"norm_type must be a number > 0 or inf; got {norm_type!r}.")
    norms = [np.linalg.norm(g.ravel(), ord=norm_type) for g in grads.values()]
    total = float(np.linalg.norm(np.array(norms, dtype=np.float64), ord=norm_type))
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads.values():
            g *= g.dtype.type(coef)
    return total


def clip_grad_value(grads: dict[str, np.ndarray], clip_value: float) -> None:
    """Clip every gradient entry, in place, to ``[-clip_value, clip_value]`` (as PyTorch's
    ``clip_grad_value_``). Unlike ``clip_grad_norm`` this can change the step's direction."""
    clip_value = check_number("clip_value", clip_value, low=0.0, low_open=True)
    for g in grads.values():
        c = g.dtype.type(clip_value)
        np.clip(g, -c, c, out=g)
