"""Ready-made networks: ``mlp``, the course's fully connected network, and the book's
convolutional networks ``simple_convnet`` (chapter 7) and ``deep_convnet`` (chapter 8)."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..core._checks import check_bool, check_float_dtype, check_int, check_number, check_seed, plain
from ..core.layers import (ACTIVATIONS, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
                           Layer, MaxPool2D, ReLU, check_fits_in_memory, dense_bytes)
from ..core.regularizers import L2
from ..core.losses import get_output
from .model import Sequential


def mlp(sizes: Sequence[int], activation: str = "relu", output: str = "softmax", init="he",
        seed: int | None = None, dtype=np.float32, dropout: float = 0.0,
        batch_norm: bool = False, weight_decay: float = 0.0) -> Sequential:
    """A fully connected network, e.g. ``mlp([784, 40, 10])``: Dense, activation, ..., Dense.

    ``activation`` goes after every hidden layer; ``output`` ("softmax", "sigmoid",
    "identity") picks the output layer and its loss. ``init`` is a registered initialiser
    name ("he", "xavier", ...) or a number, the standard deviation of a normal (the course's
    0.01). ``seed`` makes the weights (and, through the model's generator, training and
    dropout) reproducible. Biases start at 0.

    Day 2's cures for overfitting, in the book's order for every hidden layer (Dense ->
    BatchNormalization -> activation -> Dropout): ``batch_norm=True`` adds batch
    normalisation, ``dropout=rate`` a Dropout layer, and ``weight_decay=lam`` the course's
    penalty ``0.5 * lam * sum(W**2)`` on every weight matrix (biases are not penalised), i.e.
    ``kernel_regularizer=L2(lam / 2)`` on each Dense layer: the loss reports it and each
    ``dW`` gains ``lam * W``. (The optimizers' own ``weight_decay``, as in PyTorch, is applied
    in the update instead and never shows in the loss.)
    """
    if (isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__")
            or (isinstance(sizes, np.ndarray) and sizes.ndim != 1)):
        raise TypeError(f"sizes must be a list of layer sizes, like [784, 40, 10]; got "
                        f"{plain(sizes)!r}.")
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output size, like "
                         f"[784, 40, 10]; got {sizes!r}.")
    sizes = [check_int(f"sizes[{i}]", s, minimum=1) for i, s in enumerate(sizes)]
    activation_cls = ACTIVATIONS.get(activation)
    if get_output(output).name == "softmax" and sizes[-1] < 2:
        raise ValueError(f"sizes must end with at least 2 outputs for output='softmax' (with "
                         f"1 the probability is always 1 and the loss always 0); got {sizes}. "
                         f"For one yes/no output use output='sigmoid'.")
    dtype = check_float_dtype("dtype", dtype)
    check_seed("seed", seed)
    weight_decay = check_number("weight_decay", weight_decay, low=0.0)
    batch_norm = check_bool("batch_norm", batch_norm)
    Dropout(dropout)                        # its check of the rate, before anything is built
    penalty = L2(weight_decay / 2) if weight_decay > 0 else None
    # All layers at once, before any is allocated.
    check_fits_in_memory(f"the network {sizes}",
                         sum(dense_bytes(a, b, dtype) for a, b in zip(sizes, sizes[1:])), dtype)
    rng = np.random.default_rng(seed)
    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(Dense(n_in, n_out, init=init, rng=rng, dtype=dtype,
                            kernel_regularizer=penalty))
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(BatchNormalization(n_features=n_out, dtype=dtype))
            layers.append(activation_cls())
            if dropout:
                layers.append(Dropout(dropout))
    return Sequential(layers, output=output, seed=rng)


def simple_convnet(seed: int | None = None, input_shape: Sequence[int] = (1, 28, 28),
                   filters: int = 30, kernel_size: int = 5, hidden: int = 100,
                   n_out: int = 10, init=0.01, dtype=np.float32) -> Sequential:
    """The book's SimpleConvNet (chapter 7): conv ``filters`` x ``kernel_size``^2 -> ReLU ->
    2x2 max-pool -> Dense ``hidden`` -> ReLU -> Dense ``n_out``, softmax.

    Its parameters are the book's ``W1`` (the filters, ``(30, 1, 5, 5)``), ``b1``, ``W2``,
    ``b2``, ``W3``, ``b3``, all drawn from a normal of standard deviation ``init`` (the book's
    ``weight_init_std=0.01``).
    """
    check_seed("seed", seed)
    rng = np.random.default_rng(seed)
    channels = check_int("input_shape[0]", list(input_shape)[0], minimum=1)
    conv = Conv2D(channels, filters, kernel_size, init=init, rng=rng, dtype=dtype)
    pool = MaxPool2D(2)
    flat = math.prod(pool.output_shape(conv.output_shape(tuple(input_shape))))
    layers = [conv, ReLU(), pool, Flatten(),
              Dense(flat, hidden, init=init, rng=rng, dtype=dtype), ReLU(),
              Dense(hidden, n_out, init=init, rng=rng, dtype=dtype)]
    return Sequential(layers, output="softmax", seed=rng, input_shape=input_shape)


def deep_convnet(seed: int | None = None, dtype=np.float32) -> Sequential:
    """The book's DeepConvNet (chapter 8) for MNIST's ``(1, 28, 28)`` images: six 3x3
    convolutions with ReLU in three pairs (16, 16; 32, 32; 64, 64 filters), each pair followed
    by a 2x2 max-pool, then Dense 50 -> ReLU -> Dropout 0.5 -> Dense 10 -> Dropout 0.5,
    softmax. Every weight is He-initialised (``sqrt(2 / fan_in)``), as the book does; the
    fourth convolution pads by 2, so that 14x14 becomes 16x16 and the pools halve evenly
    down to 4x4.
    """
    check_seed("seed", seed)
    rng = np.random.default_rng(seed)
    layers: list[Layer] = []
    channels = 1
    for pair in (((16, 1), (16, 1)), ((32, 1), (32, 2)), ((64, 1), (64, 1))):
        for filters, pad in pair:
            layers += [Conv2D(channels, filters, 3, padding=pad, init="he", rng=rng,
                              dtype=dtype), ReLU()]
            channels = filters
        layers.append(MaxPool2D(2))
    layers += [Flatten(), Dense(64 * 4 * 4, 50, init="he", rng=rng, dtype=dtype), ReLU(),
               Dropout(0.5), Dense(50, 10, init="he", rng=rng, dtype=dtype), Dropout(0.5)]
    return Sequential(layers, output="softmax", seed=rng, input_shape=(1, 28, 28))
