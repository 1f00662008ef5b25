"""Optimizers: update rules that change the parameter arrays in place.

Contract: ``optimizer.update(params, grads)`` takes two dicts with the same keys (``"W1"``,
``"b1"``, ...) and arrays of the same shapes, and updates ``params[key]`` in place, so every
reference to the parameters stays valid. The gradients are read, never changed. Any
per-parameter state (momentum buffers, moment estimates) lives in ``optimizer.buffers``:
buffer name -> dict keyed like the parameters. The buffer names are PyTorch's state names
(``momentum_buffer``, ``exp_avg``, ``exp_avg_sq``, ...), so the two can be compared directly.

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
import weakref
from typing import Sequence

import numpy as np

from ._checks import check_bool, check_int, check_number, plain
from ._registry import Registry

OPTIMIZERS: Registry = Registry("optimizer")


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


def _unit(name: str, value, *, closed: bool = False) -> float:
    """A coefficient in [0, 1) (or [0, 1] with ``closed``): momenta, betas, decay rates."""
    return check_number(name, value, low=0.0, high=1.0, high_open=not closed)


def _nonnegative(name: str, value) -> float:
    return check_number(name, value, low=0.0)


def _closed_unit(name: str, value) -> float:
    return _unit(name, value, closed=True)


def _betas(name: str, value) -> tuple[float, float]:
    """A pair of coefficients in [0, 1), Adam's ``(beta1, beta2)``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValueError(f"{name} must be a pair (beta1, beta2); got {plain(value)!r}.")
    return (_unit(f"{name}[0]", value[0]), _unit(f"{name}[1]", value[1]))


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return repr(plain(value))


def _float_array(name: str, value) -> np.ndarray:
    """``value`` as a new finite float array, or a ``ValueError`` naming ``name``."""
    try:
        array = np.array(value, copy=True)
    except (TypeError, ValueError):
        array = None
    if array is None or array.dtype.kind != "f":
        what = f"dtype {array.dtype}" if array is not None else repr(plain(value))
        raise ValueError(f"{name} must be a float array; got {what}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must hold only finite numbers; it holds NaN or infinite "
                         f"values.")
    return array


class _Setting:
    """A hyper-parameter attribute whose every assignment is checked, as at construction.

    ``opt.lr = "0.1"`` (or nan, -1, a list) then fails at the assignment, not an epoch
    later half-way through a step. Only ``__set__`` is defined: the checked value is kept
    in the instance's ``__dict__`` under the same name, which Python reads before a
    descriptor without ``__get__``, so reading a setting in every step stays a plain
    attribute lookup. ``together(opt, name, value)`` checks a rule between settings
    before anything is stored.
    """

    def __init__(self, check, together=None) -> None:
        self.check, self.together = check, together

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __set__(self, obj, value) -> None:
        value = self.check(self.name, value)
        if self.together is not None:
            self.together(obj, self.name, value)
        obj.__dict__[self.name] = value


def _nesterov_rule(opt, name: str, value) -> None:
    """Nesterov momentum needs momentum > 0 and no dampening (PyTorch's rule)."""
    now = {"momentum": 0.0, "dampening": 0.0, "nesterov": False,
           **{k: v for k, v in vars(opt).items() if k in ("momentum", "dampening", "nesterov")},
           name: value}
    if now["nesterov"] and (now["momentum"] == 0 or now["dampening"] != 0):
        raise ValueError(f"nesterov=True needs momentum > 0 and dampening = 0; got "
                         f"momentum={now['momentum']!r}, dampening={now['dampening']!r}.")


class Optimizer:
    """Base class: keeps the learning rate, the step count ``t`` and the state buffers.

    ``buffers`` maps a buffer name (``"exp_avg"``, ``"momentum_buffer"``, ...) to a dict
    keyed like the parameters; subclasses create their entries on first use. ``t`` counts
    calls to ``update`` (Adam's bias corrections and AdaGrad's ``lr_decay`` use it).
    Subclasses implement ``update_one`` (the rule for one array) and ``get_config``.

    The buffers belong to the parameter arrays they were built for, as PyTorch ties an
    optimizer's state to its parameter tensors and Keras builds an optimizer for its
    variables: once an optimizer holds buffers, ``update`` accepts only the arrays it
    updated before. Another model's arrays are refused before anything changes, instead
    of being moved with momentum learnt on the first model. An optimizer without buffers
    (plain SGD) may serve several models, as the course's examples do. ``load_state_dict``
    and ``copy.deepcopy`` release the tie: the buffers go to the next arrays of the same
    keys and shapes.
    """

    name = ""
    lr = _Setting(_nonnegative)
    #: Buffers that are sums or means of squares, never negative (a square root is taken).
    squares: tuple[str, ...] = ()

    def __init__(self, lr: float) -> None:
        self.lr = lr
        self.t = 0
        self.buffers: dict[str, dict[str, np.ndarray]] = {}
        # Scratch arrays per parameter, reused every step; not state, never saved.
        self._scratch: dict[str, list[np.ndarray]] = {}
        # (key, weak reference to the parameter, to the gradient) of the last update: the
        # arrays these buffers belong to.
        self._owner: tuple | None = None

    def __getstate__(self) -> dict:
        # A copy (copy.deepcopy) is not tied to the original's arrays: its buffers go to the
        # next arrays of their keys and shapes, as after load_state_dict.
        return {**vars(self), "_owner": None}

    # -- state ---------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything needed to resume: ``{"config", "t", "buffers"}`` (copies).

        ``config`` holds JSON-able hyper-parameters (numbers, bools, lists), ``buffers``
        plain float arrays, so the whole state can be written without pickle.
        """
        return {"config": self.get_config(), "t": self.t,
                "buffers": {name: {k: v.copy() for k, v in table.items()}
                            for name, table in self.buffers.items()}}

    def check_state_dict(self, state, params: dict[str, np.ndarray] | None = None) -> dict:
        """Check ``state`` (what ``state_dict`` returns) without changing anything; return it
        as plain values: the settings, ``t`` as an ``int``, the buffers as new float arrays.

        Refused with a ``ValueError`` or ``TypeError`` naming the entry: other keys, settings
        that the constructor refuses, a step count that is not an integer >= 0, buffers that
        are not finite float arrays, or whose shapes differ between buffers of one key.
        With ``params``, the buffers must also be keyed and shaped like them.
        """
        if not isinstance(state, dict) or set(state) != {"config", "t", "buffers"}:
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"state must be a dict with the keys 'buffers', 'config' and 't' "
                             f"(what state_dict returns); got {got!r}.")
        config = state["config"]
        expected = set(self.get_config())
        if not isinstance(config, dict) or set(config) != expected:
            got = sorted(config) if isinstance(config, dict) else plain(config)
            raise ValueError(f"state['config'] must have the keys of {type(self).__name__}'s "
                             f"settings ({', '.join(sorted(expected))}); got {got!r}.")
        try:
            type(self)(**config)               # the constructor's checks, on a scratch object
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"state['config'] holds a setting that {type(self).__name__} "
                            f"refuses: {exc}") from None
        t = check_int("state['t']", state["t"], minimum=0)
        if not isinstance(state["buffers"], dict):
            raise TypeError(f"state['buffers'] must be a dict of buffer name -> dict of "
                            f"arrays; got {plain(state['buffers'])!r}.")
        buffers: dict[str, dict[str, np.ndarray]] = {}
        shapes: dict[str, tuple] = {}
        for name, table in state["buffers"].items():
            where = f"state['buffers'][{name!r}]"
            if not isinstance(name, str) or not isinstance(table, dict):
                raise TypeError(f"{where} must be a dict of parameter name -> array; got "
                                f"{plain(table)!r}.")
            buffers[name] = {}
            for key, value in table.items():
                array = _float_array(f"{where}[{key!r}]", value)
                if name in self.squares and array.size and array.min() < 0:
                    raise ValueError(f"{where}[{key!r}] must hold values >= 0 (it sums "
                                     f"squares); got {plain(array.min())!r}.")
                if shapes.setdefault(key, array.shape) != array.shape:
                    raise ValueError(f"{where}[{key!r}] must have the shape of the other "
                                     f"buffers of {key!r}, {shapes[key]}; got {array.shape}.")
                buffers[name][key] = array
        if params is not None:
            self._check_buffers_fit(buffers, params, "state['buffers']")
        return {"config": dict(config), "t": t, "buffers": buffers}

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned; resuming then continues bit for bit.

        Everything is checked first (``check_state_dict``): a refused state leaves the
        optimizer exactly as it was.
        """
        state = self.check_state_dict(state)
        self.__init__(**state["config"])     # cannot fail: the same settings passed above
        self.t = state["t"]
        self.buffers = state["buffers"]

    # -- the step ------------------------------------------------------------------------
    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """One step: ``params[key]`` changes in place for every key; ``grads`` is only read.

        Every array is checked before the first one is written (``check_params``), so a
        refused step changes nothing: no parameter, buffer or step count.
        """
        if not self._same_arrays(params, grads):
            self.check_params(params)
            self._check_grads(params, grads)
            self._owner = tuple((key, weakref.ref(p), weakref.ref(grads[key]))
                                for key, p in params.items())
        self.t += 1
        for key, p in params.items():
            self.update_one(key, p, grads[key])

    def check_params(self, params: dict[str, np.ndarray]) -> None:
        """Raise ``ValueError`` or ``TypeError``, changing nothing, unless
        ``update(params, ...)`` may run:
        ``params`` must be a dict of float arrays and, once this optimizer holds buffers,
        the very arrays it updated before, or (after ``load_state_dict``) arrays with the
        buffers' keys and shapes. ``fit`` calls this before training starts."""
        if not isinstance(params, dict) or not params:
            got = "an empty dict" if isinstance(params, dict) else f"a {type(params).__name__}"
            raise TypeError(f"params must be a non-empty dict of parameter name -> array; "
                            f"got {got}.")
        for key, p in params.items():
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise TypeError(f"params[{key!r}] must be a float array; got "
                                f"{_describe(p)}.")
        if not any(self.buffers.values()) or self._owned_by(params):
            return
        if self._owner is not None:
            raise ValueError(
                f"optimizer {self!r} holds state ({', '.join(sorted(self.buffers))}) for the "
                f"parameter arrays it updated before, and these are other arrays (another "
                f"model's?); its buffers must not move another model. Give each model its "
                f"own optimizer, e.g. {type(self).__name__}(**optimizer.get_config()).")
        self._check_buffers_fit(self.buffers, params, "optimizer.buffers")

    def _owned_by(self, params) -> bool:
        """Whether ``params`` holds exactly the arrays of the last update (by identity)."""
        owner = self._owner
        return (owner is not None and isinstance(params, dict) and len(owner) == len(params)
                and all(params.get(key) is p() for key, p, _ in owner))

    def _same_arrays(self, params, grads) -> bool:
        """Whether ``params`` and ``grads`` hold the very arrays of the last update, which
        were checked then: the cheap test ``update`` makes at every step."""
        owner = self._owner
        if (owner is None or not isinstance(params, dict) or not isinstance(grads, dict)
                or len(owner) != len(params)):
            return False
        for key, p, g in owner:
            if params.get(key) is not p() or grads.get(key) is not g():
                return False
        return True

    @staticmethod
    def _check_buffers_fit(buffers: dict, params: dict, where: str) -> None:
        for name, table in buffers.items():
            if table and set(table) != set(params):
                raise ValueError(f"{where}[{name!r}] must be keyed like the parameters "
                                 f"({', '.join(params)}); got {', '.join(map(str, table))}.")
            # Shapes only: a buffer may be kept in another float type than its parameter.
            for key, buf in table.items():
                p = params[key]
                if buf.shape != p.shape:
                    raise ValueError(f"{where}[{name!r}][{key!r}] must have the shape of the "
                                     f"parameter, {p.shape}; got {buf.shape}.")

    @staticmethod
    def _check_grads(params: dict, grads) -> None:
        if not isinstance(grads, dict):
            raise TypeError(f"grads must be a dict keyed like params; got a "
                            f"{type(grads).__name__}.")
        for key, p in params.items():
            g = grads.get(key)
            if g is None:
                raise ValueError(f"grads must hold a gradient for every parameter; "
                                 f"{key!r} is missing.")
            if not isinstance(g, np.ndarray) or g.dtype.kind not in "fiu":
                raise TypeError(f"grads[{key!r}] must be an array of real numbers shaped like "
                                f"params[{key!r}], {p.shape}; got {_describe(g)}.")
            if g.shape != p.shape:
                raise ValueError(f"grads[{key!r}] must have the shape of params[{key!r}], "
                                 f"{p.shape}; got {_describe(g)}.")

    def update_one(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"lr": self.lr}

    # -- helpers for subclasses ----------------------------------------------------------
    def _buffer(self, name: str, key: str, p: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """State array ``buffers[name][key]``, created on first use filled with ``fill``."""
        table = self.buffers.setdefault(name, {})
        buf = table.get(key)
        if buf is None:
            buf = table[key] = np.full_like(p, fill)
        elif buf.shape != p.shape:
            raise ValueError(f"optimizer state {name}[{key!r}] has shape {buf.shape} but the "
                             f"parameter has shape {p.shape}; use a fresh optimizer per model.")
        return buf

    def _work(self, key: str, p: np.ndarray, i: int = 0) -> np.ndarray:
        """Scratch array number ``i`` for parameter ``key`` (shape and dtype of ``p``)."""
        arrays = self._scratch.setdefault(key, [])
        while len(arrays) <= i:
            arrays.append(np.empty_like(p))
        if arrays[i].shape != p.shape or arrays[i].dtype != p.dtype:
            arrays[i] = np.empty_like(p)
        return arrays[i]

    def _update_in_float32(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        """``update_one`` for a float16 ``p`` through float32 copies, state kept in float32.

        The adaptive rules divide by ``sqrt(v) + eps``: in float16 ``eps`` (1e-8) rounds
        to 0 and ``g * g`` underflows to 0 for ``|g| < 2.4e-4``, so a zero or small
        gradient gives 0/0 or m/0. In float32 both are representable; only the new
        parameter values are rounded back to float16.
        """
        p32 = p.astype(np.float32)
        self.update_one(key, p32, g.astype(np.float32))
        p[...] = p32

    def _l2(self, key: str, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        """``g + weight_decay * p`` (the gradient of the L2 penalty added) in scratch 1."""
        out = self._work(key, p, 1)
        np.multiply(p, p.dtype.type(self.weight_decay), out=out)
        out += g
        return out

    def __repr__(self) -> str:
        """``Adam(lr=0.001, amsgrad=True)``: ``lr`` and the settings that differ from the
        class's defaults, so titles and logs stay short."""
        try:
            defaults = type(self)().get_config()
        except TypeError:        # a subclass whose arguments have no defaults: show them all
            defaults = {}
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items()
                         if k == "lr" or v != defaults.get(k))
        return f"{type(self).__name__}({args})"


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

    momentum = _Setting(_unit, _nesterov_rule)
    dampening = _Setting(_closed_unit, _nesterov_rule)
    weight_decay = _Setting(_nonnegative)
    nesterov = _Setting(check_bool, _nesterov_rule)

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *,
                 learning_rate: float | None = None) -> None:
        super().__init__(_course_alias(lr, learning_rate))
        self.momentum = _unit("momentum", momentum)
        self.dampening = _unit("dampening", dampening, closed=True)
        self.weight_decay = _nonnegative("weight_decay", weight_decay)
        self.nesterov = check_bool("nesterov", nesterov)
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError(f"nesterov=True needs momentum > 0 and dampening = 0; got "
                             f"momentum={self.momentum!r}, dampening={self.dampening!r}.")

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

    def get_config(self):
        return {"lr": self.lr, "momentum": self.momentum, "dampening": self.dampening,
                "weight_decay": self.weight_decay, "nesterov": self.nesterov}


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
    lr_decay = _Setting(_nonnegative)
    weight_decay = _Setting(_nonnegative)
    initial_accumulator_value = _Setting(_nonnegative)
    eps = _Setting(_nonnegative)

    def __init__(self, lr: float = 0.01, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, *,
                 learning_rate: float | None = None) -> None:
        super().__init__(_course_alias(lr, learning_rate))
        self.lr_decay = _nonnegative("lr_decay", lr_decay)
        self.weight_decay = _nonnegative("weight_decay", weight_decay)
        self.initial_accumulator_value = _nonnegative("initial_accumulator_value",
                                                      initial_accumulator_value)
        self.eps = _nonnegative("eps", eps)

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

    def get_config(self):
        return {"lr": self.lr, "lr_decay": self.lr_decay, "weight_decay": self.weight_decay,
                "initial_accumulator_value": self.initial_accumulator_value, "eps": self.eps}


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
    alpha = _Setting(_closed_unit)
    eps = _Setting(_nonnegative)
    weight_decay = _Setting(_nonnegative)
    momentum = _Setting(_unit)
    centered = _Setting(check_bool)

    def __init__(self, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 learning_rate: float | None = None, decay_rate: float | None = None) -> None:
        super().__init__(_course_alias(lr, learning_rate))
        self.alpha = _unit("alpha", _course_alias(alpha, decay_rate),
                           closed=True)
        self.eps = _nonnegative("eps", eps)
        self.weight_decay = _nonnegative("weight_decay", weight_decay)
        self.momentum = _unit("momentum", momentum)
        self.centered = check_bool("centered", centered)

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

    def get_config(self):
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps,
                "weight_decay": self.weight_decay, "momentum": self.momentum,
                "centered": self.centered}


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
    rho = _Setting(_closed_unit)
    eps = _Setting(_nonnegative)
    weight_decay = _Setting(_nonnegative)

    def __init__(self, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, learning_rate: float | None = None) -> None:
        super().__init__(_course_alias(lr, learning_rate))
        self.rho = _unit("rho", rho, closed=True)
        self.eps = _nonnegative("eps", eps)
        self.weight_decay = _nonnegative("weight_decay", weight_decay)

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

    def get_config(self):
        return {"lr": self.lr, "rho": self.rho, "eps": self.eps,
                "weight_decay": self.weight_decay}


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
    betas = _Setting(_betas)
    eps = _Setting(_nonnegative)
    weight_decay = _Setting(_nonnegative)
    amsgrad = _Setting(check_bool)
    decoupled_weight_decay = _Setting(check_bool)

    def __init__(self, lr: float = 0.001, betas: Sequence[float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False,
                 decoupled_weight_decay: bool = False, *, learning_rate: float | None = None,
                 beta1: float | None = None, beta2: float | None = None) -> None:
        super().__init__(_course_alias(lr, learning_rate))
        if isinstance(betas, (str, bytes)) or not isinstance(betas, Sequence) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2); got {betas!r}.")
        b1 = _course_alias(betas[0], beta1)
        b2 = _course_alias(betas[1], beta2)
        self.betas = (_unit("beta1" if beta1 is not None else "betas[0]", b1),
                      _unit("beta2" if beta2 is not None else "betas[1]", b2))
        self.eps = _nonnegative("eps", eps)
        self.weight_decay = _nonnegative("weight_decay", weight_decay)
        self.amsgrad = check_bool("amsgrad", amsgrad)
        self.decoupled_weight_decay = check_bool("decoupled_weight_decay",
                                                 decoupled_weight_decay)

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

    def get_config(self):
        return {"lr": self.lr, "betas": list(self.betas), "eps": self.eps,
                "weight_decay": self.weight_decay, "amsgrad": self.amsgrad,
                "decoupled_weight_decay": self.decoupled_weight_decay}


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
