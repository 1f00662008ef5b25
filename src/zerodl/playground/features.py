"""What the playground adds to a run of ``RunConfig``: the network's inputs computed from a
point (TF Playground's features), its own regression set (a mix of Gaussians) and L1.

With the inputs x1, x2, no L1 and a data set of ``RunConfig``'s, nothing here changes the
run: ``build_model`` is then ``RunConfig.build_model`` itself.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..core.layers import Dense
from ..core.regularizers import L1
from ..training.architectures import mlp
from ..training.model import Sequential
from .config import FEATURES, PlaygroundConfig

#: Feature name -> its value at the points (x1, x2). The sines take x1, x2 as they are (the
#: plane shown spans about [-1, 1], where sin is nearly linear; TF Playground's spans
#: [-6, 6]).
FEATURE_FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1,
    "x2^2": lambda x1, x2: x2 * x2,
    "x1*x2": lambda x1, x2: x1 * x2,
    "sin(x1)": lambda x1, x2: np.sin(x1),
    "sin(x2)": lambda x1, x2: np.sin(x2),
}
assert tuple(FEATURE_FUNCTIONS) == FEATURES

#: The mix of Gaussians: centres (x1, x2) and the sign of each bump, width GAUSS_WIDTH.
GAUSS_CENTRES = ((-0.5, 0.5, 1.0), (0.5, 0.5, -1.0), (-0.5, -0.5, -1.0), (0.5, -0.5, 1.0),
                 (0.0, 0.0, 0.5))
GAUSS_WIDTH = 0.25


def feature_inputs(points: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """The network's inputs at ``points`` (N, 2): one column per name, shape (N, len(names)),
    the points' dtype. For ("x1", "x2") the points themselves (no copy)."""
    if names == ("x1", "x2"):
        return points
    x1, x2 = points[:, 0], points[:, 1]
    return np.stack([FEATURE_FUNCTIONS[name](x1, x2) for name in names],
                    axis=1).astype(points.dtype, copy=False)


def gauss_mix(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform on [-1, 1]^2 and their targets (n, 1), float32:
    ``y = sum_k s_k exp(-|x - c_k|^2 / (2 w^2))`` over ``GAUSS_CENTRES``, plus ``noise``
    times a standard normal."""
    x = rng.uniform(-1.0, 1.0, (n, 2))
    y = np.zeros(n)
    for c1, c2, sign in GAUSS_CENTRES:
        y += sign * np.exp(-((x[:, 0] - c1) ** 2 + (x[:, 1] - c2) ** 2) / (2 * GAUSS_WIDTH ** 2))
    y += noise * rng.standard_normal(n)
    return x.astype(np.float32), y[:, None].astype(np.float32)


def load_gauss_mix(config: PlaygroundConfig) -> tuple:
    """``((x, d), (x_test, d_test))`` of "reg-gauss", drawn as ``RunConfig`` draws a toy set:
    from generators seeded by ``[seed, 0]`` and ``[seed, 1]``."""
    n_test = config.n_samples - config.n_train
    return tuple(gauss_mix(n, config.noise, np.random.default_rng([config.seed, part]))
                 for part, n in ((0, config.n_train), (1, n_test)))


def build_model(config: PlaygroundConfig) -> Sequential:
    """The page's network: ``RunConfig.build_model`` when it is the run's (x1, x2 in, no
    L1); else ``mlp`` with the run's settings and ``len(features)`` inputs.

    L1 (not a setting of ``RunConfig``): the network is built with a penalty on every
    weight matrix (``weight_decay``), then each Dense layer's ``kernel_regularizer`` becomes
    ``L1(rate)``: ``rate * sum(|W|)`` in the loss, ``rate * sign(W)`` in ``dW``, as TF
    Playground's L1. The weights drawn are the same either way.
    """
    run = config.run_config()
    penalty = config.penalty
    if len(config.features) == 2 and config.features == ("x1", "x2") and \
            (penalty is None or penalty[0] == "L2"):
        return run.build_model()
    sizes = [len(config.features), *run.network()[1:]]
    model = mlp(sizes, activation=run.activation, output=run.output, init=run.init,
                seed=run.seed, dropout=run.dropout, batch_norm=run.batch_norm,
                weight_decay=penalty[1] if penalty else 0.0)
    if penalty is not None and penalty[0] == "L1":
        for layer in model.layers:
            if isinstance(layer, Dense):
                layer.kernel_regularizer = L1(penalty[1])
    return model
