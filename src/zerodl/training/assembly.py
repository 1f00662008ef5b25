"""How a list of layers becomes a model: checked, each layer built for the shape it
receives, its arrays numbered under the course's keys, and the plan of calls that passes
work arrays only to the layers that take them."""
from __future__ import annotations

import numpy as np

from ..core._checks import plain
from ..core.layers import Dense, Layer, accepts


def checked_layers(layers) -> list[Layer]:
    if isinstance(layers, Layer) or not hasattr(layers, "__iter__"):
        raise TypeError(f"layers must be a list of zerodl Layers; got {layers!r}.")
    layers = list(layers)
    if not layers:
        raise ValueError("layers must hold at least one layer; got an empty list.")
    first_use: dict[int, int] = {}
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"layers[{i}] must be a zerodl Layer; got {layer!r}.")
        # A layer caches its input or output for backward: used twice, the second
        # forward overwrites what the first use's backward needs.
        j = first_use.setdefault(id(layer), i)
        if j != i:
            raise ValueError(f"layers must hold each layer object once; got the same "
                             f"{type(layer).__name__} object at layers[{j}] and "
                             f"layers[{i}]. Create a new layer for each position.")
    return layers


def build_layers(layers: list[Layer], input_shape) -> tuple[tuple, tuple]:
    """Build each layer for the shape it receives; return the checked input shape and the
    output's (one number: the outputs per sample)."""
    if input_shape is None:
        # Read from the first Dense layer, past layers that keep the shape (activations).
        first = next((layer for layer in layers if not layer.keeps_shape), None)
        if not isinstance(first, Dense):
            raise ValueError(f"input_shape must be given when the first layer is not Dense "
                             f"(one sample's shape, e.g. input_shape=(1, 28, 28) for MNIST "
                             f"images); the first layer is {layers[0]!r}.")
        shape = (first.n_in,)
    else:
        if isinstance(input_shape, (int, np.integer)):
            input_shape = (input_shape,)
        try:
            shape = tuple(int(s) for s in input_shape)
        except (TypeError, ValueError):
            shape = ()
        if not shape or any(s < 1 for s in shape) or len(shape) != len(list(input_shape)):
            raise ValueError(f"input_shape must be one sample's shape, a tuple of sizes >= 1 "
                             f"such as (784,) or (1, 28, 28); got {plain(input_shape)!r}.")
    first = shape
    width_from = None
    for layer in layers:
        if isinstance(layer, Dense) and isinstance(width_from, Dense) and \
                shape != (layer.n_in,):
            raise ValueError(f"layer sizes do not chain: a Dense layer with "
                             f"n_out={width_from.n_out} is followed by one with "
                             f"n_in={layer.n_in}.")
        layer.build(shape)
        shape = tuple(layer.output_shape(shape))
        if isinstance(layer, Dense) or layer.params:
            width_from = layer
    if len(shape) != 1:
        raise ValueError(f"the last layer must give one row of outputs per sample; "
                         f"{layers[-1]!r} gives shape {shape}. End the network with "
                         f"Flatten() and a Dense layer.")
    return first, shape


def numbered_arrays(layers: list[Layer], what: str) -> dict[str, np.ndarray]:
    """The layers' ``params``, ``grads`` or ``buffers`` under the model's keys: each name
    numbered by the layers holding one (``W1, b1, W2, ...``, ``gamma1, ...``)."""
    arrays: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    for layer in layers:
        own = getattr(layer, "params" if what == "grads" else what)
        for name in own:
            counts[name] = counts.get(name, 0) + 1
            arrays[f"{name}{counts[name]}"] = getattr(layer, what)[name]
    return arrays


def call_plan(layers: list[Layer]) -> list[tuple]:
    """Per layer: (layer, forward takes out=, may work in place after a Dense,
    backward takes out= and need_dx=, comes right before a Dense, forward takes training=)."""
    plan = []
    for i, layer in enumerate(layers):
        takes_out = accepts(layer.forward, "out")
        back_out = accepts(layer.backward, "out") and accepts(layer.backward, "need_dx")
        after_dense = i > 0 and isinstance(layers[i - 1], Dense) and not isinstance(layer, Dense)
        before_dense = (i + 1 < len(layers) and isinstance(layers[i + 1], Dense)
                        and not isinstance(layer, Dense))
        plan.append((layer, takes_out, after_dense, back_out, before_dense,
                     accepts(layer.forward, "training")))
    return plan
