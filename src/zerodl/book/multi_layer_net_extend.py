"""The book's ``common.multi_layer_net_extend.MultiLayerNetExtend``: ``MultiLayerNet`` with
optional dropout and batch normalisation (6.3 and 6.4)."""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import numpy as np

from ..core._checks import check_bool, check_choice, check_int, check_number
from ..core.regularizers import L2
from .gradient import numerical_gradient
from .layers import Affine, Relu, Sigmoid, SoftmaxWithLoss
from .multi_layer_net import initial_weights
from .regularization_layers import BatchNormalization, Dropout

__all__ = ["MultiLayerNetExtend"]

_ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid}


class MultiLayerNetExtend:
    """``MultiLayerNetExtend(input_size, hidden_size_list, output_size, activation='relu',
    weight_init_std='relu', weight_decay_lambda=0, use_dropout=False, dropout_ration=0.5,
    use_batchnorm=False, *, seed=None)``.

    Each hidden layer is ``Affine{i}`` -> (``BatchNorm{i}``) -> ``Activation_function{i}``
    -> (``Dropout{i}``), in the ``OrderedDict`` ``layers``; then ``Affine{L}`` and
    ``last_layer``, a ``SoftmaxWithLoss``. Parameters ``params``: ``W1``, ``b1``, ...,
    float64 as in the book, and with batch norm ``gamma1``, ``beta1``, ... (ones and zeros)
    for each hidden layer; the layers hold these same arrays, so ``optimizer.update(
    net.params, grads)`` trains the network. ``dropout_ration`` is the book's spelling.

    ``predict(x, train_flg=False)`` runs dropout and batch norm in their training mode only
    when ``train_flg`` is true; ``loss(x, t, train_flg=False)``; ``accuracy(X, T)`` predicts
    in inference mode; ``gradient`` and ``numerical_gradient`` use the training mode, as
    the book's do (so each call draws new dropout masks and moves the running statistics).

    Weight decay is ``zerodl.regularizers.L2(l2=lambda / 2)``: the loss adds ``1/2 * lambda
    * sum ||W||^2`` over every weight matrix and ``gradient`` adds ``lambda * W``, the
    book's penalty (gamma and beta are not penalised). ``seed`` seeds the
    ``np.random.Generator`` of the initial weights and of every dropout mask (the book draws
    from NumPy's global state).
    """

    def __init__(self, input_size: int, hidden_size_list: Sequence[int], output_size: int,
                 activation: str = "relu", weight_init_std="relu",
                 weight_decay_lambda: float = 0, use_dropout: bool = False,
                 dropout_ration: float = 0.5, use_batchnorm: bool = False, *,
                 seed=None) -> None:
        self.input_size = check_int("input_size", input_size, minimum=1)
        self.hidden_size_list = [check_int("hidden_size_list[i]", n, minimum=1)
                                 for n in hidden_size_list]
        self.output_size = check_int("output_size", output_size, minimum=1)
        activation = check_choice("activation", activation, _ACTIVATIONS)
        self.hidden_layer_num = len(self.hidden_size_list)
        self.weight_decay_lambda = check_number("weight_decay_lambda", weight_decay_lambda,
                                                low=0.0)
        self.use_dropout = check_bool("use_dropout", bool(use_dropout))
        self.use_batchnorm = check_bool("use_batchnorm", bool(use_batchnorm))
        self.penalty = L2(l2=self.weight_decay_lambda / 2)
        rng = np.random.default_rng(seed)
        sizes = [self.input_size] + self.hidden_size_list + [self.output_size]
        self.params: dict[str, np.ndarray] = {}
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            self.params[f"W{i}"] = initial_weights(weight_init_std, rng, n_in, n_out)
            self.params[f"b{i}"] = np.zeros(n_out)
        self.layers: OrderedDict = OrderedDict()
        for i, n in enumerate(self.hidden_size_list, start=1):
            self.layers[f"Affine{i}"] = Affine(self.params[f"W{i}"], self.params[f"b{i}"])
            if self.use_batchnorm:
                self.params[f"gamma{i}"] = np.ones(n)
                self.params[f"beta{i}"] = np.zeros(n)
                self.layers[f"BatchNorm{i}"] = BatchNormalization(self.params[f"gamma{i}"],
                                                                  self.params[f"beta{i}"])
            self.layers[f"Activation_function{i}"] = _ACTIVATIONS[activation]()
            if self.use_dropout:
                self.layers[f"Dropout{i}"] = Dropout(dropout_ration, seed=rng)
        last = self.hidden_layer_num + 1
        self.layers[f"Affine{last}"] = Affine(self.params[f"W{last}"], self.params[f"b{last}"])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x: np.ndarray, train_flg: bool = False) -> np.ndarray:
        """Scores before the softmax, (N, output_size)."""
        for key, layer in self.layers.items():
            if isinstance(layer, (Dropout, BatchNormalization)):
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def _weights(self) -> list[np.ndarray]:
        return [self.params[f"W{i}"] for i in range(1, self.hidden_layer_num + 2)]

    def loss(self, x: np.ndarray, t: np.ndarray, train_flg: bool = False) -> float:
        """Cross-entropy of the softmax output plus ``1/2 * lambda * sum ||W||^2``."""
        y = self.predict(x, train_flg)
        return self.last_layer.forward(y, t) + sum(self.penalty(W) for W in self._weights())

    def accuracy(self, X: np.ndarray, T: np.ndarray) -> float:
        """Fraction of samples whose highest score is the label (``T`` one-hot or labels)."""
        predicted = np.argmax(self.predict(X, train_flg=False), axis=1)
        labels = np.argmax(T, axis=1) if np.ndim(T) != 1 else T
        return float(np.sum(predicted == labels) / X.shape[0])

    def _keys(self) -> list[str]:
        keys = []
        for i in range(1, self.hidden_layer_num + 2):
            keys += [f"W{i}", f"b{i}"]
            if self.use_batchnorm and i <= self.hidden_layer_num:
                keys += [f"gamma{i}", f"beta{i}"]
        return keys

    def numerical_gradient(self, X: np.ndarray, T: np.ndarray) -> dict[str, np.ndarray]:
        """Every parameter's gradient by central differences of the training-mode loss."""
        def loss_of_params(_):
            return self.loss(X, T, train_flg=True)
        return {key: numerical_gradient(loss_of_params, self.params[key])
                for key in self._keys()}

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Every parameter's gradient by backpropagation through the training-mode loss."""
        self.loss(x, t, train_flg=True)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        grads = {}
        for i in range(1, self.hidden_layer_num + 2):
            affine = self.layers[f"Affine{i}"]
            grads[f"W{i}"] = affine.dW + self.penalty.gradient(affine.W)
            grads[f"b{i}"] = affine.db
            if self.use_batchnorm and i <= self.hidden_layer_num:
                grads[f"gamma{i}"] = self.layers[f"BatchNorm{i}"].dgamma
                grads[f"beta{i}"] = self.layers[f"BatchNorm{i}"].dbeta
        return grads
