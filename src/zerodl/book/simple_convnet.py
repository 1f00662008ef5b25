"""The book's ``ch07/simple_convnet.py``: ``SimpleConvNet``, conv -> ReLU -> pool -> affine ->
ReLU -> affine -> softmax, built from the kit's ``Convolution`` and ``Pooling`` (zerodl's
``Conv2D`` and ``MaxPool2D``)."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ..core._checks import check_int, check_number
from .gradient import numerical_gradient
from .layers import Affine, Convolution, Pooling, Relu, SoftmaxWithLoss
from .params import ParamsFileMixin
from .util import conv_output_size

__all__ = ["SimpleConvNet", "batched_accuracy"]


def batched_accuracy(predict, x: np.ndarray, t: np.ndarray, batch_size: int = 100) -> float:
    """Fraction of ``x`` whose highest score under ``predict`` is the label, ``batch_size``
    samples at a time (``t`` one-hot rows or labels)."""
    batch_size = check_int("batch_size", batch_size, minimum=1)
    labels = np.argmax(t, axis=1) if np.ndim(t) != 1 else np.asarray(t)
    correct = 0
    for start in range(0, len(x), batch_size):
        scores = predict(x[start:start + batch_size])
        correct += int(np.sum(np.argmax(scores, axis=1) == labels[start:start + batch_size]))
    return correct / len(x)


class SimpleConvNet(ParamsFileMixin):
    """``SimpleConvNet(input_dim=(1, 28, 28), conv_param={'filter_num': 30, 'filter_size': 5,
    'pad': 0, 'stride': 1}, hidden_size=100, output_size=10, weight_init_std=0.01, *,
    seed=None)``.

    Parameters (float64, as in the book): ``W1`` (filter_num, C, filter_size, filter_size)
    and ``b1``; ``W2`` (filter_num * pooled_h * pooled_w, hidden_size) and ``b2``; ``W3``
    (hidden_size, output_size) and ``b3``. Weights are normal with std ``weight_init_std``,
    biases 0, drawn from ``np.random.default_rng(seed)``. The layers (``OrderedDict``
    ``layers``: ``Conv1``, ``Relu1``, ``Pool1`` (2x2, stride 2), ``Affine1``, ``Relu2``,
    ``Affine2``) share these arrays with ``params``.

    Methods as the book's: ``predict(x)``, ``loss(x, t)``, ``accuracy(x, t,
    batch_size=100)``, ``numerical_gradient(x, t)``, ``gradient(x, t)``,
    ``save_params(file_name)`` and ``load_params(file_name)``, which use NumPy's .npz
    format instead of pickle (see ``help(zerodl.book.params)``).
    """

    def __init__(self, input_dim=(1, 28, 28), conv_param: dict | None = None,
                 hidden_size: int = 100, output_size: int = 10,
                 weight_init_std: float = 0.01, *, seed=None) -> None:
        conv = {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1}
        conv.update(conv_param or {})
        filter_num = check_int("conv_param['filter_num']", conv["filter_num"], minimum=1)
        filter_size = check_int("conv_param['filter_size']", conv["filter_size"], minimum=1)
        pad = check_int("conv_param['pad']", conv["pad"], minimum=0)
        stride = check_int("conv_param['stride']", conv["stride"], minimum=1)
        C, H, _ = (check_int(f"input_dim[{k}]", v, minimum=1) for k, v in enumerate(input_dim))
        std = check_number("weight_init_std", weight_init_std, low=0.0)
        conv_out = conv_output_size(H, filter_size, stride, pad)
        pooled = filter_num * (conv_out // 2) * (conv_out // 2)
        rng = np.random.default_rng(seed)
        shapes = {"W1": (filter_num, C, filter_size, filter_size), "b1": (filter_num,),
                  "W2": (pooled, hidden_size), "b2": (hidden_size,),
                  "W3": (hidden_size, output_size), "b3": (output_size,)}
        self.params = {key: (std * rng.standard_normal(shape) if key[0] == "W"
                             else np.zeros(shape)) for key, shape in shapes.items()}
        p = self.params
        self.layers = OrderedDict([
            ("Conv1", Convolution(p["W1"], p["b1"], stride, pad)), ("Relu1", Relu()),
            ("Pool1", Pooling(pool_h=2, pool_w=2, stride=2)),
            ("Affine1", Affine(p["W2"], p["b2"])), ("Relu2", Relu()),
            ("Affine2", Affine(p["W3"], p["b3"]))])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Scores before the softmax, (N, output_size), for images (N, C, H, W)."""
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        """Cross-entropy of the softmax output."""
        return self.last_layer.forward(self.predict(x), t)

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int = 100) -> float:
        """Fraction classified right, ``batch_size`` images at a time."""
        return batched_accuracy(self.predict, x, t, batch_size)

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Every parameter's gradient by central differences (slow: for checking)."""
        def loss_of_params(_):
            return self.loss(x, t)
        return {key: numerical_gradient(loss_of_params, self.params[key]) for key in self.params}

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Every parameter's gradient by backpropagation."""
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        grads = {}
        for i, name in enumerate(("Conv1", "Affine1", "Affine2"), start=1):
            grads[f"W{i}"], grads[f"b{i}"] = self.layers[name].dW, self.layers[name].db
        return grads
