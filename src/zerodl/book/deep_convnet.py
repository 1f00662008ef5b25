"""The book's ``ch08/deep_convnet.py``: ``DeepConvNet``, six 3x3 convolutions in three pairs
with max pooling, then affine -> ReLU -> dropout -> affine -> dropout -> softmax, built from
the kit's layers (zerodl's ``Conv2D`` and ``MaxPool2D`` underneath). zerodl's own version of
this network is ``zerodl.deep_convnet`` (float32, inverted dropout, ``Sequential``)."""
from __future__ import annotations

import numpy as np

from ..core._checks import check_int
from .layers import Affine, Convolution, Dropout, Pooling, Relu, SoftmaxWithLoss
from .params import ParamsFileMixin
from .simple_convnet import batched_accuracy
from .util import conv_output_size

__all__ = ["DeepConvNet"]

_CONV_DEFAULTS = ((16, 1), (16, 1), (32, 1), (32, 2), (64, 1), (64, 1))   # (filters, pad)


class DeepConvNet(ParamsFileMixin):
    """``DeepConvNet(input_dim=(1, 28, 28), conv_param_1=..., ..., conv_param_6=...,
    hidden_size=50, output_size=10, *, seed=None)``.

    ``layers`` is a list, as the book's: conv1, ReLU, conv2, ReLU, pool, conv3, ReLU,
    conv4, ReLU, pool, conv5, ReLU, conv6, ReLU, pool, affine, ReLU, Dropout(0.5), affine,
    Dropout(0.5); ``last_layer`` is a ``SoftmaxWithLoss``. Each ``conv_param_k`` is a dict
    with ``filter_num``, ``filter_size``, ``pad`` and ``stride``; the defaults are the
    book's (3x3 filters, stride 1; 16, 16, 32, 32, 64, 64 filters; pad 1, except 2 for the
    fourth, so that 14x14 grows to 16x16 and the pools halve evenly to 4x4). The pools are
    2x2 with stride 2.

    Parameters ``W1`` ... ``W8`` and ``b1`` ... ``b8`` (float64): He weights, normal with
    std ``sqrt(2 / fan_in)`` (fan_in = C * filter_size^2 for a convolution, the inputs of
    an affine layer), biases 0, drawn from ``np.random.default_rng(seed)``, which also
    draws the dropout masks.

    ``predict(x, train_flg=False)`` (dropout active only when ``train_flg``), ``loss(x, t)``
    (training mode, as the book's), ``accuracy(x, t, batch_size=100)`` (inference mode),
    ``gradient(x, t)``, ``save_params`` and ``load_params`` (NumPy .npz, see
    ``help(zerodl.book.params)``).
    """

    def __init__(self, input_dim=(1, 28, 28), conv_param_1: dict | None = None,
                 conv_param_2: dict | None = None, conv_param_3: dict | None = None,
                 conv_param_4: dict | None = None, conv_param_5: dict | None = None,
                 conv_param_6: dict | None = None, hidden_size: int = 50,
                 output_size: int = 10, *, seed=None) -> None:
        given = (conv_param_1, conv_param_2, conv_param_3, conv_param_4, conv_param_5,
                 conv_param_6)
        channels, size = (check_int(f"input_dim[{k}]", v, minimum=1)
                          for k, v in enumerate(input_dim[:2]))
        rng = np.random.default_rng(seed)
        self.params: dict[str, np.ndarray] = {}
        self.layers: list = []
        self._weighted: list = []                 # the layers holding W1 ... W8, in order
        for k, ((filters, pad), param) in enumerate(zip(_CONV_DEFAULTS, given), start=1):
            conv = {"filter_num": filters, "filter_size": 3, "pad": pad, "stride": 1}
            conv.update(param or {})
            n, fs = conv["filter_num"], conv["filter_size"]
            W = rng.standard_normal((n, channels, fs, fs)) * np.sqrt(2.0 / (channels * fs * fs))
            layer = Convolution(W, np.zeros(n), conv["stride"], conv["pad"])
            self._add(k, layer)
            self.layers.append(Relu())
            size, channels = conv_output_size(size, fs, conv["stride"], conv["pad"]), n
            if k % 2 == 0:
                self.layers.append(Pooling(pool_h=2, pool_w=2, stride=2))
                size //= 2
        flat = channels * size * size
        for k, (n_in, n_out) in ((7, (flat, hidden_size)), (8, (hidden_size, output_size))):
            W = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
            self._add(k, Affine(W, np.zeros(n_out)))
            if k == 7:
                self.layers.append(Relu())
            self.layers.append(Dropout(0.5, seed=rng))
        self.last_layer = SoftmaxWithLoss()

    def _add(self, k: int, layer) -> None:
        self.params[f"W{k}"], self.params[f"b{k}"] = layer.W, layer.b
        self.layers.append(layer)
        self._weighted.append(layer)

    def predict(self, x: np.ndarray, train_flg: bool = False) -> np.ndarray:
        """Scores before the softmax, (N, output_size)."""
        for layer in self.layers:
            x = layer.forward(x, train_flg) if isinstance(layer, Dropout) else layer.forward(x)
        return x

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        """Cross-entropy of the softmax output, with dropout active (training mode)."""
        return self.last_layer.forward(self.predict(x, train_flg=True), t)

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int = 100) -> float:
        """Fraction classified right (dropout off), ``batch_size`` images at a time."""
        return batched_accuracy(self.predict, x, t, batch_size)

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Every parameter's gradient by backpropagation through the training-mode loss."""
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {}
        for k, layer in enumerate(self._weighted, start=1):
            grads[f"W{k}"], grads[f"b{k}"] = layer.dW, layer.db
        return grads
