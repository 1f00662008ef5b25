"""Layers: each ``forward`` caches exactly what its ``backward`` needs.

``forward(x)`` returns the layer's output for a batch ``x`` of shape ``(N, n_in)``;
``backward(dy)`` takes dE/dy, fills the parameter gradients in ``grads`` and returns dE/dx.
No layer modifies the gradient it is given unless the caller passes it as ``out``. Parameters and gradients are paired dicts with
the same keys and shapes; optimizers update the parameter arrays in place, so every reference
to them (``model.params`` included) stays valid.
"""
from __future__ import annotations

import numpy as np

from . import functions as F
from ._checks import (check_array, check_float_dtype, check_int, check_number, describe_bytes,
                      physical_memory, plain)
from ._registry import Registry
from .initializers import describe, get_initializer


class ParamDict(dict):
    """Parameter (or gradient) arrays by name, shared by the layers, the model and the optimizers.

    The arrays are the layers' own, so putting a *different* array under a key would leave
    the layer computing with the old one while this dict (and ``save``) shows the new one.
    Assignment therefore copies into the array in place: ``params["W1"] = value`` checks
    that the key exists, that ``value`` has the array's shape and real, finite numbers that
    stay finite in the array's dtype, then writes them (cast to that dtype), so the layer,
    this dict and an optimizer all see the same numbers. Keys cannot be added or removed.
    Every check runs before anything is written: a refused assignment changes nothing.
    Reading is a plain dict's (``dict(params)`` or ``params.copy()`` gives a plain dict of
    the same arrays).
    """

    def __init__(self, arrays: dict[str, np.ndarray], name: str = "params") -> None:
        super().__init__(arrays)
        self._name = name

    def __reduce__(self):
        # copy/deepcopy rebuild the dict from its items, not through the checked __setitem__.
        return type(self), (dict(self), self._name)

    def _converted(self, key, value) -> np.ndarray:
        """``value`` checked against ``self[key]`` and cast to its dtype (a new array)."""
        name = f"{self._name}[{plain(key)!r}]"
        if key not in self:
            raise ValueError(f"{name} must be one of the existing keys ({', '.join(self)}); "
                             f"keys cannot be added: the arrays are those of the layers.")
        target = dict.__getitem__(self, key)
        try:
            array = np.asarray(value)
        except (ValueError, TypeError):
            array = None
        if array is None or array.dtype.kind not in "biuf":
            check_array(name, value, min_ndim=0)        # raises its message (ragged, strings)
        if array.shape != target.shape:
            hint = (f" (to fill it with one number, write {name}[...] = number)"
                    if array.ndim == 0 else "")
            raise ValueError(f"{name} must have the shape {target.shape} of the array it "
                             f"replaces; got shape {array.shape}{hint}.")
        check_array(name, array, min_ndim=0)            # NaN or inf, with the first index
        with np.errstate(over="ignore"):
            cast = array.astype(target.dtype)
        if not np.isfinite(cast).all():
            raise ValueError(f"{name} must hold numbers within {target.dtype}'s range of "
                             f"+-{float(np.finfo(target.dtype).max):.4g}; got "
                             f"{plain(np.abs(array).max())!r}.")
        return cast

    def __setitem__(self, key, value) -> None:
        if key in self and value is dict.__getitem__(self, key):
            return      # params[key] -= step: already changed in place, nothing to copy
        value = self._converted(key, value)
        np.copyto(dict.__getitem__(self, key), value)

    def update(self, *args, **kwargs) -> None:
        """Assign several keys, all or nothing: every value is checked before any is written."""
        new = [(key, self._converted(key, value)) for key, value in dict(*args, **kwargs).items()]
        for key, value in new:
            np.copyto(dict.__getitem__(self, key), value)

    def assign_all(self, values) -> None:
        """Replace every array's values at once (``model.params = {...}``), all or nothing."""
        if values is self:
            return
        if not hasattr(values, "keys"):
            raise TypeError(f"{self._name} must be given a dict of arrays keyed "
                            f"{', '.join(self)}; got a value of type {type(values).__name__}.")
        missing = [key for key in self if key not in values]
        extra = [plain(key) for key in values if key not in self]
        if missing or extra:
            raise ValueError(f"{self._name} must be given exactly the keys {', '.join(self)}; "
                             f"got {'no ' + ', '.join(missing) if missing else ''}"
                             f"{' and ' if missing and extra else ''}"
                             f"{'unknown ' + ', '.join(map(repr, extra)) if extra else ''}.")
        self.update(values)

    def __ior__(self, other):
        self.update(other)
        return self

    def setdefault(self, key, default=None):
        if key not in self:
            self._converted(key, default)               # raises: unknown key
        return self[key]

    def _fixed(self, *args, **kwargs):
        raise TypeError(f"{self._name} must keep one array per layer parameter; keys cannot be "
                        f"removed (to reset an array in place write {self._name}[key][...] = 0).")

    __delitem__ = pop = popitem = clear = _fixed


class Layer:
    """Base class. Layers without parameters keep ``params`` and ``grads`` empty.

    ``forward(x, out=None)`` and ``backward(dy, need_dx=True, out=None)``: with ``out=None``
    the result is a new array (or, for ``Identity``, the input itself), so nothing a caller
    holds is overwritten. A caller that owns an array of the result's shape and dtype may
    pass it as ``out``, even the layer's own input when it no longer needs that: layers that
    can compute in place (``Dense``, ``ReLU``, ``Tanh``) write the result there, the others
    ignore it; use the returned array either way. ``need_dx=False`` says the caller will not
    read ``dE/dx``, which a layer may then skip (returning ``None``). The model passes its
    own work arrays this way; nothing about how a layer is used is stored on the layer, so
    it behaves the same in every model and by hand.
    """

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray, need_dx: bool = True,
                 out: np.ndarray | None = None) -> np.ndarray | None:
        raise NotImplementedError

    def _cached(self, name: str) -> np.ndarray:
        """What ``forward`` kept for ``backward``; refused when there was no forward."""
        value = getattr(self, name, None)
        if value is None:
            raise RuntimeError(f"{type(self).__name__}.backward must follow a forward: it "
                               f"uses what forward kept; call forward first.")
        return value

    def get_config(self) -> dict:
        """The JSON-able arguments that rebuild this layer (parameters are stored apart)."""
        return {"type": type(self).__name__}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "type")
        return f"{type(self).__name__}({args})"


def dense_bytes(n_in: int, n_out: int, dtype) -> int:
    """Bytes a Dense layer holds: weights and bias, and their gradients of the same size."""
    return 2 * (n_in * n_out + n_out) * np.dtype(dtype).itemsize


def check_fits_in_memory(what: str, nbytes: int, dtype) -> None:
    """Refuse, before allocating, parameters larger than this machine's whole memory."""
    memory = physical_memory()
    if memory is not None and nbytes > memory:
        raise ValueError(f"{what} must fit in memory: its {np.dtype(dtype)} weights and "
                         f"gradients need {describe_bytes(nbytes)}, this machine has "
                         f"{describe_bytes(memory)}.")


class Dense(Layer):
    """Affine layer ``y = x W + b`` (the course's 総入力 ``u = xW + b``).

    Shapes: ``x`` (N, n_in), ``W`` (n_in, n_out), ``b`` (n_out,), ``y`` (N, n_out).
    Backward: ``dW = x.T dy``, ``db = sum_N dy``, ``dx = dy W.T`` (skipped with
    ``need_dx=False``: for a first layer it is the largest product of the backward pass).
    """

    def __init__(self, n_in: int, n_out: int, init="he", rng: np.random.Generator | None = None,
                 dtype=np.float32) -> None:
        super().__init__()
        self.n_in = check_int("n_in", n_in, minimum=1)
        self.n_out = check_int("n_out", n_out, minimum=1)
        dtype = check_float_dtype("dtype", dtype)
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be None or a numpy Generator (np.random.default_rng"
                            f"(seed)); got {plain(rng)!r}.")
        initializer = get_initializer(init)
        self.init = describe(init)
        what = f"Dense({self.n_in}, {self.n_out})"
        check_fits_in_memory(what, dense_bytes(self.n_in, self.n_out, dtype), dtype)
        rng = np.random.default_rng() if rng is None else rng
        try:
            W = np.asarray(initializer(rng, self.n_in, self.n_out, dtype), dtype=dtype)
            if W.shape != (self.n_in, self.n_out):
                raise ValueError(f"init must give weights of shape (n_in, n_out) = "
                                 f"{(self.n_in, self.n_out)}; got shape {W.shape}.")
            self.params = ParamDict({"W": W, "b": np.zeros(self.n_out, dtype=dtype)},
                                    "Dense.params")
            self.grads = ParamDict({key: np.zeros_like(value)
                                    for key, value in self.params.items()}, "Dense.grads")
        except MemoryError:
            # Less free memory than the machine has: the same one-line refusal.
            need = describe_bytes(dense_bytes(self.n_in, self.n_out, dtype))
            raise ValueError(f"{what} must fit in memory: its {dtype} weights and gradients "
                             f"need {need}, which could not be allocated.") from None
        self.x: np.ndarray | None = None

    @property
    def W(self) -> np.ndarray:
        return self.params["W"]

    @property
    def b(self) -> np.ndarray:
        return self.params["b"]

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim not in (1, 2) or x.shape[-1] != self.n_in:
            raise ValueError(f"x must have shape (N, {self.n_in}) for {self!r}, one row of "
                             f"{self.n_in} inputs per sample; got shape {x.shape}.")
        self.x = x
        y = np.matmul(x, self.W, out=out)
        y += self.b          # in place: no second (N, n_out) array for the bias
        return y

    def backward(self, dy: np.ndarray, need_dx: bool = True,
                 out: np.ndarray | None = None) -> np.ndarray | None:
        x = self._cached("x")
        if np.shape(dy) != x.shape[:-1] + (self.n_out,):
            raise ValueError(f"dy must have shape {x.shape[:-1] + (self.n_out,)} for {self!r} "
                             f"after a forward of x with shape {x.shape}; got shape "
                             f"{np.shape(dy)}.")
        # out= writes into the gradient arrays the optimizer already holds references to.
        if len(dy) == 1:    # one sample: x.T dy is an outer product, which a broadcast
            np.multiply(self.x.T, dy, out=self.grads["W"])   # multiply does 2-3x faster
        else:
            np.matmul(self.x.T, dy, out=self.grads["W"])
        np.add.reduce(dy, axis=0, out=self.grads["b"])   # np.sum without its Python wrapper
        return np.matmul(dy, self.W.T, out=out) if need_dx else None

    def get_config(self) -> dict:
        return {"type": "Dense", "n_in": self.n_in, "n_out": self.n_out, "init": self.init}


class ReLU(Layer):
    """``y = max(x, 0)``; ``dy/dx`` is 1 where ``x > 0`` and 0 elsewhere (0 at ``x == 0``).

    Backward reads the mask from the output: ``y > 0`` exactly where ``x > 0``, so
    ``forward(x, out=x)`` (bias and activation in one array) loses nothing backward needs.
    """

    def forward(self, x, out=None):
        self.y = np.maximum(x, 0, out=out)
        return self.y

    def backward(self, dy, need_dx=True, out=None):
        return np.multiply(dy, self._cached("y") > 0, out=out)


class LeakyReLU(Layer):
    """``y = x`` for ``x > 0``, ``alpha * x`` otherwise; slope ``alpha`` at and below 0."""

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = check_number("alpha", alpha, low=0.0)

    def forward(self, x, out=None):
        self.mask = x > 0
        return np.where(self.mask, x, x * x.dtype.type(self.alpha))

    def backward(self, dy, need_dx=True, out=None):
        return np.where(self._cached("mask"), dy, dy * dy.dtype.type(self.alpha))

    def get_config(self):
        return {"type": "LeakyReLU", "alpha": self.alpha}


class Sigmoid(Layer):
    """``y = 1 / (1 + exp(-x))``; backward uses the cached output: ``dy/dx = y (1 - y)``."""

    def forward(self, x, out=None):
        self.y = F.sigmoid(x)
        return self.y

    def backward(self, dy, need_dx=True, out=None):
        y = self._cached("y")
        return dy * y * (1 - y)


class Tanh(Layer):
    """``y = tanh(x)``; backward uses the cached output: ``dy/dx = 1 - y**2``."""

    def forward(self, x, out=None):
        self.y = np.tanh(x, out=out)
        return self.y

    def backward(self, dy, need_dx=True, out=None):
        y = self._cached("y")
        return dy * (1 - y * y)


class Identity(Layer):
    """``y = x``: the linear "activation", to show that stacked linear layers stay linear."""

    def forward(self, x, out=None):
        return x

    def backward(self, dy, need_dx=True, out=None):
        return dy


class Step(Layer):
    """``y = 1`` for ``x > 0``, else 0: the perceptron's activation, for forward passes only."""

    def forward(self, x, out=None):
        return (x > 0).astype(x.dtype)

    def backward(self, dy, need_dx=True, out=None):
        raise RuntimeError(
            "Step has no useful gradient: its derivative is 0 everywhere except at 0, where it "
            "is undefined, so backpropagation cannot train through it. Use 'sigmoid' or 'relu' "
            "to train; keep 'step' for forward-pass demonstrations.")


#: Activation name -> layer class, as accepted by ``mlp(activation=...)``.
ACTIVATIONS: Registry = Registry("activation")
ACTIVATIONS.register("relu", ReLU)
ACTIVATIONS.register("leaky_relu", LeakyReLU)
ACTIVATIONS.register("sigmoid", Sigmoid)
ACTIVATIONS.register("tanh", Tanh)
ACTIVATIONS.register("identity", Identity)
ACTIVATIONS.register("step", Step)

#: Every layer type a model file may name.
LAYER_TYPES = {cls.__name__: cls for cls in (Dense, ReLU, LeakyReLU, Sigmoid, Tanh, Identity, Step)}


def layer_from_config(config: dict, dtype=np.float32) -> Layer:
    """Rebuild a layer from ``get_config()`` output; parameters are filled in afterwards."""
    config = dict(config)
    kind = config.pop("type", None)
    if kind not in LAYER_TYPES:
        raise ValueError(f"layer type must be one of {', '.join(LAYER_TYPES)}; got {kind!r}.")
    if kind == "Dense":
        # Zeros: the real weights are loaded right after; skip drawing random ones.
        return Dense(config["n_in"], config["n_out"], init="zeros", dtype=dtype)
    return LAYER_TYPES[kind](**config)
