"""Batch normalisation (the book's 6.3).

Ioffe and Szegedy, "Batch Normalization: Accelerating Deep Network Training by Reducing
Internal Covariate Shift", ICML 2015.
"""
from __future__ import annotations

import numpy as np

from .._checks import check_bool, check_float_dtype, check_int, check_number
from .base import Layer, ParamDict


def _axes(ndim: int) -> int | tuple[int, ...]:
    """The axes the statistics run over: N for (N, C), N, H and W for (N, C, H, W). An int
    for 2-D input: reductions over ``axis=0`` are twice as fast as over ``axis=(0,)``."""
    return 0 if ndim == 2 else (0, 2, 3)


def _sum(a: np.ndarray, axes) -> np.ndarray:
    """Sums over ``axes``, accumulated in at least float32: a float16 sum of many values
    overflows past 65504. ``np.add.reduce``: ``np.sum`` without its Python wrapper."""
    return np.add.reduce(a, axis=axes, dtype=np.promote_types(a.dtype, np.float32))


def _param_shape(ndim: int) -> tuple[int, ...]:
    """How a (C,) array broadcasts against the input."""
    return (-1,) if ndim == 2 else (-1, 1, 1)


class BatchNormalization(Layer):
    """Normalise each feature (2-D input) or channel (4-D input) over the batch, then scale
    and shift it with trainable ``gamma`` and ``beta``.

    Shapes: ``x`` and ``y`` are (N, C) (statistics per feature over N) or (N, C, H, W)
    (statistics per channel over N, H and W); ``gamma``, ``beta``, ``running_mean`` and
    ``running_var`` are (C,). Below, ``m`` is the number of values behind each statistic
    (N, or N*H*W), and sums run over those values.

    Training (``forward(x, training=True)``), with the batch's mean and BIASED variance::

        mean = sum(x) / m                var = sum((x - mean)**2) / m
        x_hat = (x - mean) / sqrt(var + epsilon)          y = gamma * x_hat + beta
        running = momentum * running + (1 - momentum) * batch statistic   (mean and var)

    Inference (``training=False``): ``x_hat = (x - running_mean) / sqrt(running_var +
    epsilon)``, the same ``y``, and nothing is updated.

    Backward, the standard compact form (``dx_hat = gamma * dy``, carried through the mean
    and the variance, which both depend on every x of the channel)::

        dbeta = sum(dy)                  dgamma = sum(dy * x_hat)
        dx = gamma / sqrt(var + epsilon) * (dy - dbeta / m - x_hat * dgamma / m)

    After an inference forward the statistics are constants, and ``dx = gamma * dy /
    sqrt(running_var + epsilon)``. Forward caches only ``x_hat`` and ``1/sqrt(var +
    epsilon)``.

    Choices, and how they differ from the libraries:
      - ``momentum`` is the book's and Keras's: the weight of the OLD running value.
        PyTorch's ``momentum`` is the weight of the new batch, so ``momentum=0.9`` here is
        ``nn.BatchNorm1d(momentum=0.1)`` there.
      - ``running_var`` averages the biased batch variance (divided by m), as the book and
        Keras; PyTorch averages the unbiased one (divided by m - 1), so its running_var is
        larger by the factor m / (m - 1) batch for batch. Normalising in training uses the
        biased variance in all three.
      - ``running_var`` starts at ones and ``running_mean`` at zeros, as Keras and PyTorch
        (the book starts both at zeros).
      - Training on one value per channel (N == 1 for (N, C); N*H*W == 1 for (N, C, H, W))
        is refused, as PyTorch does: its variance is 0 and ``x_hat`` would be 0 for every
        input, so nothing could be learnt from it.

    Parameters ``params`` = {"gamma": ones, "beta": zeros} (``grads`` likewise) in ``dtype``;
    buffers ``buffers`` = {"running_mean", "running_var"}, saved with a model but not
    trained. They exist once the layer is built: from ``n_features`` at construction, by
    ``build(input_shape)``, or at the first forward. Input and output keep ``x``'s dtype.
    """

    keeps_shape = True

    def __init__(self, momentum: float = 0.9, epsilon: float = 1e-5,
                 n_features: int | None = None, dtype=np.float32) -> None:
        super().__init__()
        self.momentum = check_number("momentum", momentum, low=0.0, high=1.0, high_open=True)
        self.epsilon = check_number("epsilon", epsilon, low=0.0, low_open=True)
        if n_features is not None:
            n_features = check_int("n_features", n_features, minimum=1)
        self.dtype = check_float_dtype("dtype", dtype)
        self.n_features: int | None = None
        self.buffers: dict[str, np.ndarray] = {}
        self.x_hat: np.ndarray | None = None
        self.inv_std: np.ndarray | None = None
        self._batch_stats = False   # whether the last forward normalised with the batch's
        if n_features is not None:
            self._create(n_features)

    def _create(self, C: int) -> None:
        self.n_features = C
        self.params = ParamDict({"gamma": np.ones(C, self.dtype),
                                 "beta": np.zeros(C, self.dtype)}, "BatchNormalization.params")
        self.grads = ParamDict({key: np.zeros_like(p) for key, p in self.params.items()},
                               "BatchNormalization.grads")
        self.buffers = {"running_mean": np.zeros(C, self.dtype),
                        "running_var": np.ones(C, self.dtype)}

    def build(self, input_shape: tuple) -> None:
        """Create the arrays for ``input_shape`` = (C,) or (C, H, W), without the batch axis."""
        input_shape = tuple(input_shape)
        if len(input_shape) not in (1, 3):
            raise ValueError(f"input_shape must be (C,) or (C, H, W), without the batch axis; "
                             f"got {input_shape}.")
        C = check_int("input_shape[0]", input_shape[0], minimum=1)
        if self.n_features is None:
            self._create(C)
        elif C != self.n_features:
            raise ValueError(f"input_shape must have {self.n_features} channels first, as "
                             f"this layer was built for; got {input_shape}.")

    def output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def _checked(self, x, training) -> tuple[np.ndarray, int | tuple[int, ...], tuple[int, ...]]:
        """``x`` as an array, the axes its statistics run over and the (C,) arrays' broadcast
        shape; every refusal comes before anything changes."""
        x = np.asarray(x)
        if x.dtype.kind != "f":
            raise TypeError(f"x must be a floating-point array (float16, float32 or float64); "
                            f"got dtype {x.dtype}.")
        if x.ndim not in (2, 4):
            raise ValueError(f"x must have shape (N, C) or (N, C, H, W); got shape {x.shape}.")
        if self.n_features is not None and x.shape[1] != self.n_features:
            raise ValueError(f"x must have {self.n_features} features or channels on axis 1, "
                             f"as this layer was built for; got shape {x.shape}.")
        if training and x.size <= x.shape[1]:
            raise ValueError(f"x must hold more than one value per feature or channel to "
                             f"train (one value has variance 0; use a larger batch, or "
                             f"training=False); got shape {x.shape}.")
        return x, _axes(x.ndim), _param_shape(x.ndim)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``gamma * x_hat + beta``, with batch statistics in training, running ones else."""
        training = check_bool("training", training)
        x, axes, shape = self._checked(x, training)
        if self.n_features is None:
            self._create(x.shape[1])
        if training:
            m = x.size // x.shape[1]
            mean = (_sum(x, axes) / m).astype(x.dtype, copy=False)
            x_hat = x - mean.reshape(shape)
            var = (_sum(x_hat * x_hat, axes) / m).astype(x.dtype, copy=False)   # biased
            inv_std = 1.0 / np.sqrt(var + x.dtype.type(self.epsilon))
            self._update_running(mean, var)
        else:
            mean = self.buffers["running_mean"].astype(x.dtype, copy=False)
            var = self.buffers["running_var"].astype(x.dtype, copy=False)
            inv_std = 1.0 / np.sqrt(var + x.dtype.type(self.epsilon))
            x_hat = x - mean.reshape(shape)
        x_hat *= inv_std.reshape(shape)
        gamma = self.params["gamma"].astype(x.dtype, copy=False)
        beta = self.params["beta"].astype(x.dtype, copy=False)
        self.x_hat, self.inv_std, self._batch_stats = x_hat, inv_std, training
        y = x_hat * gamma.reshape(shape)
        y += beta.reshape(shape)
        return y

    def _update_running(self, mean: np.ndarray, var: np.ndarray) -> None:
        # In place: a model's (or a file's) reference to the buffer stays valid.
        for key, batch in (("running_mean", mean), ("running_var", var)):
            running = self.buffers[key]
            running *= self.momentum
            running += (1.0 - self.momentum) * batch.astype(running.dtype, copy=False)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """Fill ``grads["gamma"]`` and ``grads["beta"]``; return ``dx`` (see the class)."""
        x_hat = self._cached("x_hat")
        if np.shape(dy) != x_hat.shape:
            raise ValueError(f"dy must have the shape {x_hat.shape} of the last forward's x; "
                             f"got shape {np.shape(dy)}.")
        dy = np.asarray(dy)
        axes, shape = _axes(x_hat.ndim), _param_shape(x_hat.ndim)
        dbeta = _sum(dy, axes)
        dgamma = _sum(dy * x_hat, axes)
        np.copyto(self.grads["beta"], dbeta, casting="unsafe")
        np.copyto(self.grads["gamma"], dgamma, casting="unsafe")
        gamma = self.params["gamma"].astype(x_hat.dtype, copy=False)
        if not self._batch_stats:
            return dy * (gamma * self.inv_std).reshape(shape)
        m = x_hat.size // x_hat.shape[1]
        # the compact formula, in place on one new array; dividing the sums by m (not
        # multiplying dy by m) keeps float16 from overflowing when m > 65504
        dx = dy - (dbeta / m).astype(dy.dtype, copy=False).reshape(shape)
        dx -= x_hat * (dgamma / m).astype(x_hat.dtype, copy=False).reshape(shape)
        dx *= (gamma * self.inv_std).reshape(shape)
        return dx

    @classmethod
    def array_shapes(cls, config: dict) -> tuple[dict[str, tuple], dict[str, tuple]]:
        C = config.get("n_features")
        if not isinstance(C, int) or isinstance(C, bool) or C < 1:
            raise ValueError(f"a BatchNormalization layer must have an integer n_features "
                             f">= 1; got {C!r}")
        return {"gamma": (C,), "beta": (C,)}, {"running_mean": (C,), "running_var": (C,)}

    def get_config(self) -> dict:
        return {"type": "BatchNormalization", "momentum": self.momentum,
                "epsilon": self.epsilon, "n_features": self.n_features}
