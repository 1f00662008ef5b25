"""Gradient checking: backpropagation against central finite differences, in float64."""
from __future__ import annotations

import copy

import numpy as np


def _as_float64(model):
    clone = copy.deepcopy(model)
    for layer in clone.dense:
        for name in list(layer.params):
            layer.params[name] = layer.params[name].astype(np.float64)
            layer.grads[name] = np.zeros_like(layer.params[name])
    # Rebuild the paired dicts so they point at the new float64 arrays.
    for i, layer in enumerate(clone.dense, start=1):
        for name in layer.params:
            clone.params[f"{name}{i}"] = layer.params[name]
            clone.grads[f"{name}{i}"] = layer.grads[name]
    clone.dtype = np.dtype(np.float64)
    return clone


def gradient_errors(model, x, d, h: float = 1e-5) -> dict[str, float]:
    """Relative error between backprop and finite differences, per parameter array.

    For each array the error is ``|g_bp - g_fd| / max(|g_bp| + |g_fd|, tiny)`` (Euclidean
    norms), so it compares whole gradients and does not blow up on single tiny entries.
    ``g_fd`` is ``(E(p + h) - E(p - h)) / 2h``, one entry at a time, on a float64 copy of
    the model; the model itself is not changed.
    """
    net = _as_float64(model)
    analytic = net.gradient(x, d)
    x = net.prepare_inputs(x)
    d = net.prepare_labels(d, len(x))
    loss = lambda: net.output.loss(net.forward(x), d)
    errors = {}
    for key, p in net.params.items():
        numeric = np.zeros_like(p)
        flat, out = p.reshape(-1), numeric.reshape(-1)
        for i in range(flat.size):
            saved = flat[i]
            flat[i] = saved + h
            plus = loss()
            flat[i] = saved - h
            minus = loss()
            flat[i] = saved
            out[i] = (plus - minus) / (2 * h)
        scale = np.linalg.norm(analytic[key]) + np.linalg.norm(numeric)
        diff = np.linalg.norm(analytic[key] - numeric)
        errors[key] = float(diff / max(scale, np.finfo(np.float64).tiny))
    return errors


def gradient_check(model, x, d, h: float = 1e-5) -> float:
    """The largest of ``gradient_errors``: below about 1e-7 means backprop is right."""
    return max(gradient_errors(model, x, d, h).values())
