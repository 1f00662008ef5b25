"""Ready-made networks: ``mlp``, the course's fully connected network."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..core._checks import check_float_dtype, check_int, check_seed, plain
from ..core.layers import ACTIVATIONS, Dense, Layer, check_fits_in_memory, dense_bytes
from ..core.losses import get_output
from .model import Sequential


def mlp(sizes: Sequence[int], activation: str = "relu", output: str = "softmax", init="he",
        seed: int | None = None, dtype=np.float32) -> Sequential:
    """A fully connected network, e.g. ``mlp([784, 40, 10])``: Dense, activation, ..., Dense.

    ``activation`` goes after every hidden layer; ``output`` ("softmax", "sigmoid",
    "identity") picks the output layer and its loss. ``init`` is a registered initialiser
    name ("he", "xavier", ...) or a number, the standard deviation of a normal (the course's
    0.01). ``seed`` makes the weights (and, through the model's generator, training)
    reproducible. Biases start at 0.
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
    # All layers at once, before any is allocated.
    check_fits_in_memory(f"the network {sizes}",
                         sum(dense_bytes(a, b, dtype) for a, b in zip(sizes, sizes[1:])), dtype)
    rng = np.random.default_rng(seed)
    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(Dense(n_in, n_out, init=init, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(activation_cls())
    return Sequential(layers, output=output, seed=rng)
