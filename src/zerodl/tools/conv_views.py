"""Looking inside a convolutional network: its filters, and the feature maps they make.

``plot_filters`` draws the first convolution's filters as small greyscale images (the
book's Figure 7-24: 30 filters of 5x5, before and after training); ``plot_feature_maps``
passes one image through the network and draws what every convolution outputs. The arrays
drawn come from ``filter_tiles`` and ``feature_maps``, so they can be checked number by
number. Only the model's public surface is used: ``layers``, ``layer_outputs``.
"""
from __future__ import annotations

import math
import os
from typing import Sequence

import numpy as np

from ..core._checks import check_int
from ..core.layers import Conv2D
from .plotting import new_figure, save_png

#: Tiles per row of a grid of filters or maps (the book's Figure 7-24 has 6 rows of 5).
GRID_COLUMNS = 10
#: At most this many maps per convolution in ``plot_feature_maps`` (DeepConvNet has 64).
MAX_MAPS = 16


def conv_layers(model) -> list[Conv2D]:
    """The model's ``Conv2D`` layers, in order; ``ValueError`` if it has none."""
    convs = [layer for layer in model.layers if isinstance(layer, Conv2D)]
    if not convs:
        raise ValueError(f"model must have a Conv2D layer (simple_convnet, deep_convnet); got "
                         f"the layers {[type(layer).__name__ for layer in model.layers]}.")
    return convs


def filter_tiles(W: np.ndarray) -> np.ndarray:
    """The filters ``W`` (out_channels, in_channels, kh, kw) as (out_channels, kh, kw) tiles:
    the mean over input channels (the filter itself when there is one channel, as on MNIST),
    each scaled to [0, 1] by its own minimum and maximum, as the book draws them; a constant
    filter becomes 0.5 everywhere."""
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 4:
        raise ValueError(f"W must be 4-D (out_channels, in_channels, kh, kw); got shape "
                         f"{W.shape}.")
    tiles = W.mean(axis=1)
    low = tiles.min(axis=(1, 2), keepdims=True)
    span = tiles.max(axis=(1, 2), keepdims=True) - low
    return np.where(span > 0, (tiles - low) / np.where(span > 0, span, 1.0), 0.5)


def _grid(sub, tiles: np.ndarray, title: str, columns: int = GRID_COLUMNS) -> None:
    """Draw ``tiles`` (n, h, w) in grey into the subfigure ``sub``, ``columns`` a row."""
    n = len(tiles)
    cols = min(n, columns)
    axes = sub.subplots(math.ceil(n / cols), cols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k < n:
            ax.imshow(tiles[k], cmap="gray", interpolation="nearest")
    sub.suptitle(title, fontsize=9)


def plot_filters(weights: Sequence[np.ndarray], titles: Sequence[str],
                 path: str | os.PathLike | None = None):
    """One grid of filter tiles per entry of ``weights`` (each (out, in, kh, kw)), side by
    side, each under its title: white is the filter's largest weight, black its smallest
    (``filter_tiles``). Returns the matplotlib ``Figure``; writes a PNG when ``path`` is given.
    """
    if len(weights) != len(titles) or not weights:
        raise ValueError(f"weights and titles must be non-empty and of equal length; got "
                         f"{len(weights)} and {len(titles)}.")
    tiles = [filter_tiles(W) for W in weights]
    rows = max(math.ceil(len(t) / GRID_COLUMNS) for t in tiles)
    cols = max(min(len(t), GRID_COLUMNS) for t in tiles)
    fig = new_figure(len(tiles) * (0.55 * cols + 0.3), 0.55 * rows + 0.45)
    for sub, t, title in zip(fig.subfigures(1, len(tiles), squeeze=False, wspace=0.05)[0], tiles, titles):
        _grid(sub, t, title)
    if path is not None:
        save_png(fig, path)
    return fig


def feature_maps(model, image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """``(name, maps)`` for each ``Conv2D`` of ``model``, for one ``image`` (C, H, W):
    ``maps`` (out_channels, out_h, out_w) is the convolution's output (before its ReLU)."""
    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"image must be one image (C, H, W); got shape {image.shape}.")
    convs = conv_layers(model)
    outputs = model.layer_outputs(image[None])
    found, k = [], 0
    for layer, out in zip(model.layers, outputs):
        if isinstance(layer, Conv2D):
            k += 1
            found.append((f"conv {k}: {layer.out_channels} filters "
                          f"{layer.kernel_size[0]}x{layer.kernel_size[1]}", out[0]))
    assert len(found) == len(convs)
    return found


def plot_feature_maps(model, image: np.ndarray, path: str | os.PathLike | None = None,
                      max_maps: int = MAX_MAPS):
    """The input image, then one grid per convolution: its first ``max_maps`` output maps for
    that image, each on its own grey scale (white: the map's largest value). Returns the
    ``Figure``; writes a PNG when ``path`` is given."""
    max_maps = check_int("max_maps", max_maps, minimum=1)
    maps = feature_maps(model, image)
    rows = [1] + [math.ceil(min(len(m), max_maps) / GRID_COLUMNS) for _, m in maps]
    heights = [0.7 * r + 0.3 for r in rows]
    fig = new_figure(0.7 * GRID_COLUMNS, sum(heights))
    subs = fig.subfigures(len(rows), 1, squeeze=False, height_ratios=heights)[:, 0]
    first = np.asarray(image, dtype=np.float64).mean(axis=0)
    _grid(subs[0], first[None], f"input image {tuple(np.shape(image))}", columns=1)
    for sub, (name, m) in zip(subs[1:], maps):
        shown = m[:max_maps]
        more = f", first {len(shown)} of {len(m)}" if len(shown) < len(m) else ""
        _grid(sub, shown, f"{name}: its maps, {m.shape[1]}x{m.shape[2]} each{more}")
    if path is not None:
        save_png(fig, path)
    return fig
