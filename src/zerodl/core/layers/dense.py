"""The fully connected layer: the course's total input ``u = x W + b``."""
from __future__ import annotations

import numpy as np

from .._checks import check_float_dtype, check_int, describe_bytes, plain
from ..initializers import describe, get_initializer
from ..regularizers import get_regularizer
from .base import Layer, ParamDict, check_fits_in_memory, dense_bytes


class Dense(Layer):
    """Affine layer ``y = x W + b`` (the course's 総入力 ``u = xW + b``).

    Shapes: ``x`` (N, n_in), ``W`` (n_in, n_out), ``b`` (n_out,), ``y`` (N, n_out).
    ``kernel_regularizer`` (Keras's name): ``L2(l2)`` adds ``l2 * sum(W**2)`` to the loss,
    ``L1(l1)`` adds ``l1 * sum(|W|)``; the course's weight decay ``0.5 * lam * sum(W**2)``
    is ``L2(lam / 2)``, which ``mlp(weight_decay=lam)`` puts on every Dense layer.
    Backward: ``dW = x.T dy``, ``db = sum_N dy``, ``dx = dy W.T`` (skipped with
    ``need_dx=False``: for a first layer it is the largest product of the backward pass).
    """

    def __init__(self, n_in: int, n_out: int, init="he", rng: np.random.Generator | None = None,
                 dtype=np.float32, kernel_regularizer=None) -> None:
        super().__init__()
        #: A weight penalty on ``W`` (``zerodl.regularizers``): the model adds it to the loss
        #: and its gradient to ``dW``; None for none.
        self.kernel_regularizer = get_regularizer(kernel_regularizer)
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

    def forward(self, x: np.ndarray, training: bool = False,
                out: np.ndarray | None = None) -> np.ndarray:
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

    def output_shape(self, input_shape: tuple) -> tuple:
        if tuple(input_shape) != (self.n_in,):
            raise ValueError(f"{self!r} must receive {self.n_in} features per sample; the "
                             f"layer before it gives shape {tuple(input_shape)}"
                             f"{_flatten_hint(input_shape)}.")
        return (self.n_out,)

    @classmethod
    def array_shapes(cls, config: dict) -> tuple[dict[str, tuple], dict[str, tuple]]:
        n_in, n_out = config.get("n_in"), config.get("n_out")
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1
                   for v in (n_in, n_out)):
            raise ValueError(f"a Dense layer must have integer sizes n_in, n_out >= 1; got "
                             f"{n_in!r}, {n_out!r}")
        return {"W": (n_in, n_out), "b": (n_out,)}, {}

    def get_config(self) -> dict:
        config = {"type": "Dense", "n_in": self.n_in, "n_out": self.n_out, "init": self.init}
        if self.kernel_regularizer is not None:
            config["kernel_regularizer"] = self.kernel_regularizer.get_config()
        return config


def _flatten_hint(input_shape) -> str:
    return (" (put a Flatten() before it to make one row of each sample)"
            if len(input_shape) > 1 else "")
