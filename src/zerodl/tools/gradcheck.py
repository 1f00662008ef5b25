"""Gradient checking: backpropagation against central finite differences, in float64.

The finite differences are ``zerodl.functions.numerical_gradient``, the course's routine; the
verdict "backpropagation agrees" is one threshold, ``GRADIENT_CHECK_TOLERANCE``, used by
``zerodl gradcheck``, the documentation and the tests.
"""
from __future__ import annotations

import copy

import numpy as np

from ..core._checks import check_number
from ..core.functions import numerical_gradient
from ..core.layers import LAYER_TYPES, layer_from_config
from ..training.model import Sequential

#: Largest relative error (see ``gradient_errors``) for which backpropagation agrees with
#: central differences. In float64 with h = 1e-5 a correct backward gives about 1e-9 to
#: 1e-11 (truncation h^2 and rounding eps/h, relative to the gradient); a wrong one (a
#: missing term, a transposed matrix) gives 1e-2 or more.
GRADIENT_CHECK_TOLERANCE = 1e-6


def _as_float64(model):
    """A float64 copy of ``model``: the same layers rebuilt in float64, the weights and
    buffers (running statistics) copied."""
    layers = [_as_float64_layer(layer) for layer in model.layers]
    clone = Sequential(layers, output=model.output.name, input_shape=model.input_shape)
    for key, p in model.params.items():
        clone.params[key][...] = p      # as they are, NaN included: the check reports it
    for key, b in model.buffers.items():
        clone.buffers[key][...] = b
    return clone


def _as_float64_layer(layer):
    """A float64 twin of ``layer``: rebuilt from its config, or copied when it is a layer of
    the user's own that has no parameters (its arrays then follow its input's dtype)."""
    if type(layer).__name__ in LAYER_TYPES and type(layer) is LAYER_TYPES[type(layer).__name__]:
        return layer_from_config(layer.get_config(), np.float64)
    if layer.params:
        raise ValueError(f"model must be made of zerodl's layers, or of layers without "
                         f"parameters, for the gradient check, which rebuilds it in float64; "
                         f"got {type(layer).__name__}, which has parameters "
                         f"{', '.join(layer.params)}. Check it by hand with "
                         f"zerodl.functions.numerical_gradient.")
    return copy.deepcopy(layer)


def gradient_errors(model, x, d, h: float = 1e-5) -> dict[str, float]:
    """Relative error between backprop and finite differences, per parameter array.

    For each array the error is ``|g_bp - g_fd| / max(|g_bp| + |g_fd|, tiny)`` (Euclidean
    norms), so it compares whole gradients and does not blow up on single tiny entries.
    ``g_fd`` is ``(E(p + h) - E(p - h)) / 2h``, one entry at a time
    (``zerodl.functions.numerical_gradient``), on a float64 copy of the model; the model
    itself is not changed. Layers run as in inference (``Sequential.gradient``), and the
    loss includes the weight penalties. Backpropagation agrees when every error is below
    ``GRADIENT_CHECK_TOLERANCE``.
    """
    h = check_number("h", h, low=0.0, low_open=True)
    net = _as_float64(model)
    analytic = net.gradient(x, d)
    x = net.prepare_inputs(x)
    d = net.prepare_labels(d, len(x))
    loss = lambda: net.output.loss(net.forward(x), d) + net.penalty()
    for key, p in net.params.items():
        stuck = (p + h) == (p - h)
        if stuck.any():
            i = tuple(int(v) for v in np.argwhere(stuck)[0])
            raise ValueError(f"h must be large enough to change every parameter in float64; "
                             f"got h={h!r}, and {key}[{', '.join(map(str, i))}] = "
                             f"{float(p[i])!r} plus or minus h rounds to the same number.")
    errors = {}
    for key, p in net.params.items():
        # p is probed in place, so the loss reads it through the network by reference
        numeric = numerical_gradient(lambda _: loss(), p, h=h)
        scale = np.linalg.norm(analytic[key]) + np.linalg.norm(numeric)
        diff = np.linalg.norm(analytic[key] - numeric)
        errors[key] = float(diff / max(scale, np.finfo(np.float64).tiny))
    return errors


def gradient_check(model, x, d, h: float = 1e-5) -> float:
    """The largest of ``gradient_errors``: below ``GRADIENT_CHECK_TOLERANCE`` (1e-6) means
    backpropagation is right."""
    return max(gradient_errors(model, x, d, h).values())
