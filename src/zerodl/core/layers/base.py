"""The base of every layer, and the checked dicts that hold a layer's arrays.

A layer is two functions and the arrays they share. ``forward(x, training=False)`` returns
the output for a batch ``x`` of shape ``(N, *input_shape)`` and keeps exactly what
``backward`` needs; ``backward(dy)`` takes dE/dy, fills the parameter gradients in ``grads``
and returns dE/dx, never changing ``dy``. ``training`` is True inside ``fit`` and
``train_step`` and False in ``predict``, ``evaluate`` and traces: layers such as dropout and
batch normalisation behave differently in the two.

``params`` and ``grads`` are paired dicts with the same keys and shapes; optimizers update the
parameter arrays in place, so every reference to them (``model.params`` included) stays valid.
``buffers`` holds arrays that are not trained but belong to the model (batch normalisation's
running statistics): ``save``, ``load`` and checkpoints carry them.
"""
from __future__ import annotations

import inspect

import numpy as np

from .._checks import check_array, describe_bytes, physical_memory, plain


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
    """Base class of layers. Subclass it and define ``forward`` and ``backward``::

        class Square(Layer):
            def forward(self, x, training=False):
                self.x = x
                return x * x

            def backward(self, dy):
                return 2 * self._cached("x") * dy

    A layer with parameters fills ``self.params`` and ``self.grads`` (same keys and shapes);
    one with state that is not trained fills ``self.buffers``. A layer whose output shape
    differs from its input's defines ``output_shape(input_shape)`` (shapes without the batch
    axis), and one whose arrays depend on the input's size creates them in
    ``build(input_shape)``, which a model calls once with the shape its layer receives.

    Speed-ups are passed in, never stored: a layer may also accept ``out=`` in ``forward``
    and ``backward`` (an array of the result's shape and dtype that the caller owns, even the
    layer's own input when it no longer needs it) and ``need_dx=False`` in ``backward`` (the
    caller will not read dE/dx, which the layer may then skip and return ``None``). A model
    passes its work arrays this way only to layers whose methods take these arguments;
    nothing about how a layer is used is stored on the layer, so it behaves the same in every
    model and by hand.
    """

    #: True for layers whose output has their input's shape, whatever that is (activations,
    #: dropout, batch normalisation): a model may read its input shape past them, from the
    #: first Dense layer.
    keeps_shape = False

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}

    def build(self, input_shape: tuple) -> None:
        """Create the arrays that depend on the input's shape (none here)."""

    def output_shape(self, input_shape: tuple) -> tuple:
        """The output's shape for an input of ``input_shape`` (both without the batch axis)."""
        return tuple(input_shape)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define forward(x, training=False)")

    def backward(self, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define backward(dy)")

    @classmethod
    def array_shapes(cls, config: dict) -> tuple[dict[str, tuple], dict[str, tuple]]:
        """The shapes of ``(params, buffers)`` that a layer of ``config`` holds, read from the
        config alone: a model file's arrays are checked against them before any is read."""
        return {}, {}

    def _cached(self, name: str) -> np.ndarray:
        """What ``forward`` kept for ``backward``; refused when there was no forward."""
        value = getattr(self, name, None)
        if value is None:
            raise RuntimeError(f"{type(self).__name__}.backward must follow a forward: it "
                               f"uses what forward kept; call forward first.")
        return value

    def get_config(self) -> dict:
        """The JSON-able arguments that rebuild this layer (its arrays are stored apart)."""
        return {"type": type(self).__name__}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "type")
        return f"{type(self).__name__}({args})"


def accepts(method, name: str) -> bool:
    """Whether ``method`` takes the keyword ``name`` (or any keyword)."""
    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


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


