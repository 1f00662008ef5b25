"""Small 2-D data sets for seeing what a network learns (``zerodl.datasets.make_toy``).

The classification sets have two classes, labelled 0 and 1, half of the samples each (one
more of class 1 for an odd count), in a shuffled order; their points lie roughly in
[-1, 1]^2. ``noise`` is the standard deviation of Gaussian noise added to every coordinate,
in those units (0.1 already blurs the borders visibly). ``"plane"`` is the course's
regression: ``y = 3 x0 + 2 x1`` on [0, 1)^2, with ``noise`` added to the target.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._checks import check_int, check_number, check_seed
from ._registry import Registry

#: Name -> ``draw(rng, n0, n1) -> (points of class 0, points of class 1)``.
TOY_DATASETS: Registry[Callable] = Registry("toy data set")


@TOY_DATASETS.register("circle")
def _circle(rng, n0, n1):
    """Class 0 inside radius 0.5, class 1 on a ring from 0.7 to 1."""
    def ring(n, r_low, r_high):
        r = rng.uniform(r_low, r_high, n)
        t = rng.uniform(0, 2 * np.pi, n)
        return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
    return ring(n0, 0.0, 0.5), ring(n1, 0.7, 1.0)


@TOY_DATASETS.register("xor")
def _xor(rng, n0, n1):
    """Class 0 in the quadrants where x0 and x1 share a sign, class 1 where they differ."""
    def quadrants(n, same_sign):
        p = rng.uniform(0.05, 1.0, (n, 2))           # kept off the axes: a clear margin
        flip = rng.random(n) < 0.5
        p[flip, 0] *= -1
        p[:, 1] *= np.where(flip == same_sign, -1, 1)
        return p
    return quadrants(n0, True), quadrants(n1, False)


@TOY_DATASETS.register("gaussian")
def _gaussian(rng, n0, n1):
    """Two round clouds (std 0.25) centred on (-0.5, -0.5) and (0.5, 0.5)."""
    return (rng.normal(-0.5, 0.25, (n0, 2)), rng.normal(0.5, 0.25, (n1, 2)))


@TOY_DATASETS.register("spiral")
def _spiral(rng, n0, n1):
    """Two arms winding 1.75 turns around the origin, the second turned by half a turn."""
    def arm(n, phase):
        r = np.linspace(0.05, 1.0, n)
        t = 1.75 * 2 * np.pi * r + phase
        return np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
    return arm(n0, 0.0), arm(n1, np.pi)


@TOY_DATASETS.register("moons")
def _moons(rng, n0, n1):
    """Two interleaved half circles, scaled into [-1, 1]^2."""
    t0 = rng.uniform(0, np.pi, n0)
    t1 = rng.uniform(0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    centre, scale = np.array([0.5, 0.25]), 1.5
    return (upper - centre) / scale, (lower - centre) / scale


PLANE = "plane"
#: The most points a toy set holds (about 16 MB of float64 while it is made): more is a
#: slip of the keyboard, refused before anything is allocated.
MAX_SAMPLES = 1_000_000
#: The largest noise: the points lie in [-1, 1]^2, so a standard deviation of 10 already
#: hides every pattern; beyond, huge values only turn the data into inf.
MAX_NOISE = 10.0


def make_toy(name: str, n_samples: int = 200, noise: float = 0.0,
             seed: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A small 2-D data set: ``x`` float32 (n_samples, 2) and its labels ``d``.

    ``name``: ``"circle"``, ``"xor"``, ``"gaussian"``, ``"spiral"``, ``"moons"`` (``d`` int64
    class labels 0/1, about balanced) or ``"plane"`` (``d`` float32 (n_samples, 1),
    ``3 x0 + 2 x1``). The same ``seed`` gives the same arrays. Bounds: ``2 <= n_samples <=
    MAX_SAMPLES`` (10^6) and ``0 <= noise <= MAX_NOISE`` (10).
    """
    names = [*TOY_DATASETS.names(), PLANE]
    if not isinstance(name, str) or name.lower() not in names:
        raise ValueError(f"name must be one of {', '.join(names)}; got {name!r}.")
    n_samples = check_int("n_samples", n_samples, minimum=2)
    if n_samples > MAX_SAMPLES:
        raise ValueError(f"n_samples must be an integer in [2, {MAX_SAMPLES}]; got {n_samples}.")
    noise = check_number("noise", noise, low=0.0, high=MAX_NOISE)
    check_seed("seed", seed)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if name.lower() == PLANE:
        x = rng.random((n_samples, 2))
        d = (3 * x[:, 0] + 2 * x[:, 1] + noise * rng.standard_normal(n_samples))[:, None]
        return x.astype(np.float32), d.astype(np.float32)
    n0 = n_samples // 2
    points0, points1 = TOY_DATASETS.get(name)(rng, n0, n_samples - n0)
    x = np.concatenate([points0, points1])
    d = np.concatenate([np.zeros(len(points0), np.int64), np.ones(len(points1), np.int64)])
    if noise:
        x = x + rng.normal(0.0, noise, x.shape)
    order = rng.permutation(n_samples)
    return x[order].astype(np.float32), d[order]
