"""The book's ``Dropout`` and ``BatchNormalization`` (6.3 and 6.4.3), with its interfaces:
``forward(x, train_flg=True)`` and ``backward(dout)``.

``BatchNormalization`` computes through ``zerodl.layers.BatchNormalization`` (the same
formulas, forward and backward) with the book's settings; ``Dropout`` keeps the book's
non-inverted scaling, which zerodl's own ``Dropout`` does not use, so its few lines are its
own. Each docstring says where the book's choices differ from zerodl's.
"""
from __future__ import annotations

import numpy as np

from ..core._checks import check_number, check_seed
from ..core.layers import BatchNormalization as _ZerodlBatchNorm

__all__ = ["Dropout", "BatchNormalization"]

#: The book's epsilon in batch normalisation (it writes ``10e-7``); zerodl's default is 1e-5.
BOOK_BN_EPSILON = 1e-6


class Dropout:
    """``Dropout(dropout_ratio=0.5, *, seed=None)``: the book's non-inverted dropout.

    Training (``forward(x, train_flg=True)``): each unit is kept (multiplied by 1) with
    probability ``1 - dropout_ratio`` and dropped (multiplied by 0) otherwise; ``dx = dout *
    mask`` with the same mask. Inference (``train_flg=False``): ``y = x * (1 -
    dropout_ratio)``, every unit scaled by the probability it was kept with. Both phases
    have the same expected value.

    zerodl's ``layers.Dropout`` is inverted (Keras's and PyTorch's): it scales the kept
    units by ``1 / (1 - rate)`` in training and leaves inference unchanged. Scaling at
    inference instead, as here, is what the book's scripts are written for, so the numbers
    they print are the book's. ``seed``: None, an integer or a ``np.random.Generator`` the
    masks are drawn from (the book draws from NumPy's global state).
    """

    def __init__(self, dropout_ratio: float = 0.5, *, seed=None) -> None:
        self.dropout_ratio = check_number("dropout_ratio", dropout_ratio, low=0.0, high=1.0,
                                          high_open=True)
        check_seed("seed", seed)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray, train_flg: bool = True) -> np.ndarray:
        if train_flg:
            # a unit is kept when its uniform draw on [0, 1) is >= the ratio: P = 1 - ratio
            self.mask = self.rng.random(np.shape(x)) >= self.dropout_ratio
            return x * self.mask
        return x * (1.0 - self.dropout_ratio)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self.mask


class BatchNormalization:
    """``BatchNormalization(gamma, beta, momentum=0.9, running_mean=None, running_var=None)``.

    Training: ``x_hat = (x - mean) / sqrt(var + 1e-6)`` with the batch's mean and biased
    variance, ``y = gamma * x_hat + beta``, and ``running = momentum * running + (1 -
    momentum) * batch statistic``; inference uses the running statistics. Backward is
    zerodl's compact form, ``dx = gamma / sqrt(var + eps) * (dout - dbeta / N - x_hat *
    dgamma / N)`` (see ``help(zerodl.layers.BatchNormalization)``), which equals the book's
    step-by-step graph. The work is done by a ``zerodl.layers.BatchNormalization`` that this
    layer keeps; ``gamma`` and ``beta`` are copied into it before every forward (they are the
    network's arrays, which an optimizer updates in place), and the running statistics are
    this layer's own arrays, updated in place.

    Where the book's choices differ from zerodl's layer (kept here, so its scripts print the
    book's numbers):
      - ``running_mean`` and ``running_var`` start at 0 when not given (zerodl: mean 0,
        variance 1). So inference before any training divides by ``sqrt(0 + 1e-6)``.
      - epsilon is the book's ``1e-6`` (zerodl's default: 1e-5).
      - Input of more than two axes, (N, C, H, W), is normalised per feature of the
        flattened (N, C*H*W) rows, each pixel of each channel on its own (zerodl normalises
        per channel, over N, H and W).
      - A training batch of ONE sample is accepted, as the book's gradient-check script
        needs: the statistics of one sample are the sample itself (variance 0), so
        ``x_hat = 0`` and ``y = beta`` whatever ``x`` is, ``dgamma = 0``, ``dbeta = dout``
        and ``dx = 0``. zerodl's layer refuses this batch, since nothing can be learnt from
        it; here it is computed by those formulas directly.

    Attributes as the book's: ``gamma``, ``beta``, ``momentum``, ``running_mean``,
    ``running_var``, ``input_shape``, ``dgamma`` and ``dbeta`` (new arrays each backward).
    """

    def __init__(self, gamma: np.ndarray, beta: np.ndarray, momentum: float = 0.9,
                 running_mean: np.ndarray | None = None,
                 running_var: np.ndarray | None = None) -> None:
        self.gamma = gamma
        self.beta = beta
        self.momentum = check_number("momentum", momentum, low=0.0, high=1.0, high_open=True)
        self.running_mean = running_mean
        self.running_var = running_var
        self.input_shape: tuple | None = None
        self.dgamma: np.ndarray | None = None
        self.dbeta: np.ndarray | None = None
        self.layer: _ZerodlBatchNorm | None = None
        self._one_sample = False

    def _synced(self, D: int, dtype) -> _ZerodlBatchNorm:
        """zerodl's layer for D features, holding this layer's gamma, beta and statistics."""
        if self.running_mean is None:
            self.running_mean = np.zeros(D, dtype=dtype)
            self.running_var = np.zeros(D, dtype=dtype)
        layer = self.layer
        if layer is None or layer.n_features != D or layer.dtype != np.dtype(dtype):
            layer = self.layer = _ZerodlBatchNorm(self.momentum, BOOK_BN_EPSILON,
                                                  n_features=D, dtype=dtype)
        # Into the layer's own arrays, as ParamDict's assignment does, without its checks
        # for finite values at every step (this runs once per forward).
        np.copyto(layer.params["gamma"], self.gamma)
        np.copyto(layer.params["beta"], self.beta)
        # Plain dict entries: the running statistics ARE the book layer's arrays.
        layer.buffers["running_mean"] = self.running_mean
        layer.buffers["running_var"] = self.running_var
        return layer

    def forward(self, x: np.ndarray, train_flg: bool = True) -> np.ndarray:
        self.input_shape = np.shape(x)
        x = np.asarray(x)
        rows = x.reshape(len(x), -1)
        dtype = np.result_type(rows.dtype, np.asarray(self.gamma).dtype)
        layer = self._synced(rows.shape[1], dtype)
        self._one_sample = bool(train_flg) and len(rows) == 1
        if self._one_sample:
            out = self._forward_one(rows.astype(dtype, copy=False), layer)
        else:
            out = layer.forward(rows.astype(dtype, copy=False), training=bool(train_flg))
        return out.reshape(self.input_shape)

    def _forward_one(self, rows: np.ndarray, layer: _ZerodlBatchNorm) -> np.ndarray:
        """One training sample: mean = the sample, var = 0, so ``y = beta`` (see the class)."""
        for stat, batch in ((self.running_mean, rows[0]), (self.running_var, 0.0)):
            stat *= self.momentum
            stat += (1.0 - self.momentum) * batch
        return layer.params["beta"][None, :].copy()

    def backward(self, dout: np.ndarray) -> np.ndarray:
        rows = np.asarray(dout).reshape(len(dout), -1)
        if self._one_sample:
            self.dbeta = rows.sum(axis=0)
            self.dgamma = np.zeros_like(self.dbeta)
            dx = np.zeros_like(rows)
        else:
            dx = self.layer.backward(rows.astype(self.layer.dtype, copy=False))
            self.dgamma = self.layer.grads["gamma"].copy()
            self.dbeta = self.layer.grads["beta"].copy()
        return dx.reshape(self.input_shape)
