"""The book's ``common.multi_layer_net.MultiLayerNet``: a fully connected network of the
book's layers, Affine -> activation -> ... -> Affine -> SoftmaxWithLoss."""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import numpy as np

from ..core._checks import check_choice, check_int, check_number
from ..core.initializers import he, xavier
from .gradient import numerical_gradient
from .layers import Affine, Relu, Sigmoid, SoftmaxWithLoss

__all__ = ["MultiLayerNet", "initial_weights"]

_ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid}


class MultiLayerNet:
    """``MultiLayerNet(input_size, hidden_size_list, output_size, activation='relu',
    weight_init_std='relu', weight_decay_lambda=0, *, seed=None)``.

    Parameters ``params['W1']``, ``params['b1']``, ... (float64, as in the book), shared by
    reference with the ``Affine`` layers in ``layers`` (an ``OrderedDict`` named
    ``'Affine1'``, ``'Activation_function1'``, ...), so ``optimizer.update(net.params,
    grads)`` trains the network.

    ``weight_init_std``: a number (the standard deviation of a normal), ``'relu'`` or
    ``'he'`` (He: std ``sqrt(2 / n_in)``), ``'sigmoid'`` or ``'xavier'`` (std
    ``sqrt(1 / n_in)``). Biases start at 0. ``seed`` seeds the ``np.random.Generator`` the
    weights are drawn from (the book's code draws from NumPy's global state instead).

    The loss adds the L2 penalty ``1/2 * lambda * sum ||W||^2`` over every weight matrix,
    and ``gradient`` adds its derivative ``lambda * W`` to each ``dW``.
    """

    def __init__(self, input_size: int, hidden_size_list: Sequence[int], output_size: int,
                 activation: str = "relu", weight_init_std="relu",
                 weight_decay_lambda: float = 0, *, seed=None) -> None:
        self.input_size = check_int("input_size", input_size, minimum=1)
        self.hidden_size_list = [check_int("hidden_size_list[i]", n, minimum=1)
                                 for n in hidden_size_list]
        self.output_size = check_int("output_size", output_size, minimum=1)
        activation = check_choice("activation", activation, _ACTIVATIONS)
        self.hidden_layer_num = len(self.hidden_size_list)
        self.weight_decay_lambda = check_number("weight_decay_lambda", weight_decay_lambda,
                                                low=0.0)
        rng = np.random.default_rng(seed)
        sizes = [self.input_size] + self.hidden_size_list + [self.output_size]
        self.params: dict[str, np.ndarray] = {}
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            self.params[f"W{i}"] = initial_weights(weight_init_std, rng, n_in, n_out)
            self.params[f"b{i}"] = np.zeros(n_out)

        self.layers: OrderedDict = OrderedDict()
        for i in range(1, self.hidden_layer_num + 1):
            self.layers[f"Affine{i}"] = Affine(self.params[f"W{i}"], self.params[f"b{i}"])
            self.layers[f"Activation_function{i}"] = _ACTIVATIONS[activation]()
        last = self.hidden_layer_num + 1
        self.layers[f"Affine{last}"] = Affine(self.params[f"W{last}"], self.params[f"b{last}"])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Scores before the softmax, (N, output_size)."""
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        """Cross-entropy of the softmax output plus the L2 penalty."""
        penalty = sum(0.5 * self.weight_decay_lambda * float(np.sum(self.params[f"W{i}"] ** 2))
                      for i in range(1, self.hidden_layer_num + 2))
        return self.last_layer.forward(self.predict(x), t) + penalty

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        """Fraction of samples whose highest score is the label (``t`` one-hot or labels)."""
        predicted = np.argmax(self.predict(x), axis=1)
        labels = np.argmax(t, axis=1) if np.ndim(t) != 1 else t
        return float(np.sum(predicted == labels) / x.shape[0])

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Every parameter's gradient by central differences (slow: for checking)."""
        def loss_of_params(_):
            return self.loss(x, t)
        return {key: numerical_gradient(loss_of_params, self.params[key])
                for key in self._keys()}

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Every parameter's gradient by backpropagation."""
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        grads = {}
        for i in range(1, self.hidden_layer_num + 2):
            affine = self.layers[f"Affine{i}"]
            grads[f"W{i}"] = affine.dW + self.weight_decay_lambda * affine.W
            grads[f"b{i}"] = affine.db
        return grads

    def _keys(self) -> list[str]:
        return [f"{name}{i}" for i in range(1, self.hidden_layer_num + 2) for name in "Wb"]


def initial_weights(weight_init_std, rng: np.random.Generator, n_in: int,
                     n_out: int) -> np.ndarray:
    """An (n_in, n_out) float64 weight matrix drawn as ``weight_init_std`` says: ``'relu'``
    or ``'he'``, ``'sigmoid'`` or ``'xavier'``, or a number (a normal's std)."""
    kind = str(weight_init_std).lower()
    if kind in ("relu", "he"):
        return he(rng, n_in, n_out, np.float64)
    if kind in ("sigmoid", "xavier"):
        return xavier(rng, n_in, n_out, np.float64)
    std = check_number("weight_init_std", weight_init_std, low=0.0)
    return rng.standard_normal((n_in, n_out)) * std
