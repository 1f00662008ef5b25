"""Layers: each ``forward`` keeps exactly what its ``backward`` needs.

``Layer`` (``base.py``) is the class to subclass and says the contract; the layers sit one
family a file: ``Dense`` (``dense.py``), the activations (``activations.py``), ``Flatten``
(``reshape.py``), ``Dropout`` (``dropout.py``), ``BatchNormalization`` (``normalization.py``),
``Conv2D``, ``MaxPool2D`` and ``AvgPool2D`` (``conv.py``, over ``zerodl.core.im2col``). ``ACTIVATIONS`` maps the names ``mlp(activation=...)`` takes to their
classes, and ``LAYER_TYPES`` every layer a model file may name.
"""
from __future__ import annotations

import numpy as np

from .._registry import Registry
from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Step, Tanh
from .base import (Layer, ParamDict, accepts, check_fits_in_memory, dense_bytes)
from .conv import AvgPool2D, Conv2D, MaxPool2D
from .dense import Dense
from .dropout import Dropout
from .normalization import BatchNormalization
from .reshape import Flatten

#: Activation name -> layer class, as accepted by ``mlp(activation=...)``.
ACTIVATIONS: Registry = Registry("activation")
ACTIVATIONS.register("relu", ReLU)
ACTIVATIONS.register("leaky_relu", LeakyReLU)
ACTIVATIONS.register("sigmoid", Sigmoid)
ACTIVATIONS.register("tanh", Tanh)
ACTIVATIONS.register("identity", Identity)
ACTIVATIONS.register("step", Step)

#: Every layer type a model file may name.
LAYER_TYPES = {cls.__name__: cls for cls in (Dense, ReLU, LeakyReLU, Sigmoid, Tanh, Identity, Step,
                                              Flatten, Dropout, BatchNormalization, Conv2D,
                                              MaxPool2D, AvgPool2D)}


def layer_from_config(config: dict, dtype=np.float32) -> Layer:
    """Rebuild a layer from ``get_config()`` output; its arrays are filled in afterwards."""
    config = dict(config)
    kind = config.pop("type", None)
    if kind not in LAYER_TYPES:
        raise ValueError(f"layer type must be one of {', '.join(LAYER_TYPES)}; got {kind!r}.")
    cls = LAYER_TYPES[kind]
    if accepts(cls.__init__, "init"):
        config["init"] = "zeros"    # the real weights are loaded right after: draw none
    if accepts(cls.__init__, "dtype"):
        config["dtype"] = dtype
    return cls(**config)


def array_shapes(configs: list) -> tuple[dict[str, tuple], dict[str, tuple]]:
    """The shapes of a model's ``params`` and ``buffers`` under their model keys, from its
    layers' configs alone (nothing is allocated): each array name is numbered by the layers
    that hold one, so Dense and Conv2D layers share ``W1, b1, W2, ...`` and batch
    normalisation has ``gamma1, beta1, running_mean1, ...``, the book's keys."""
    params: dict[str, tuple] = {}
    buffers: dict[str, tuple] = {}
    counts: dict[str, int] = {}
    for c in configs:
        kind = c.get("type") if isinstance(c, dict) else None
        if kind not in LAYER_TYPES:
            raise ValueError(f"layer type must be one of {', '.join(LAYER_TYPES)}; got {kind!r}")
        own_params, own_buffers = LAYER_TYPES[kind].array_shapes(c)
        for table, own in ((params, own_params), (buffers, own_buffers)):
            for name, shape in own.items():
                counts[name] = counts.get(name, 0) + 1
                table[f"{name}{counts[name]}"] = shape
    return params, buffers


__all__ = ["ACTIVATIONS", "LAYER_TYPES", "AvgPool2D", "BatchNormalization", "Conv2D", "Dense",
           "Dropout", "Flatten", "MaxPool2D", "Identity", "Layer", "LeakyReLU",
           "ParamDict", "ReLU", "Sigmoid", "Step", "Tanh", "accepts", "array_shapes",
           "check_fits_in_memory", "dense_bytes", "layer_from_config"]
