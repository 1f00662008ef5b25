"""Looking inside a trained network: weights, activations, confusions, mistakes, boundaries.

Each ``plot_*`` returns a matplotlib ``Figure`` and, given ``path``, also writes it as a PNG
(atomically). What a figure draws comes from a small function beside it that returns the
arrays (``activation_data``, ``decision_field``, ``worst_mistakes``, ...), so what is drawn
can be checked number by number. Only the model's public surface is used: ``params``,
``layers``, ``dense``, ``layer_outputs``, ``predict``, ``output``.
"""
from __future__ import annotations

import math
import os

import numpy as np

from ..core._checks import check_int
from ..core.layers import Dense
from ..core.metrics import class_labels, confusion_matrix
from ..training.model import Sequential
from .plotting import new_figure, save_png

#: Diverging colours for signed values (weights): blue negative, white 0, red positive.
SIGNED_CMAP = "RdBu_r"
#: Two classes: class 0 blue, class 1 orange, as in the field of ``plot_decision_boundary``.
CLASS_COLORS = ("#1f77b4", "#ff7f0e")


def _finish(fig, path):
    if path is not None:
        save_png(fig, path)
    return fig


#: The largest grid side of ``decision_field`` and the most histogram bins: a figure of a
#: few hundred pixels shows no more, and the grid costs side^2 predictions.
MAX_RESOLUTION = 2000
MAX_BINS = 1000


def _check_model(model) -> None:
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a zerodl Sequential; got {model!r}.")


def _check_at_most(name: str, value, low: int, high: int) -> int:
    value = check_int(name, value, minimum=low)
    if value > high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}]; got {value}.")
    return value


def _image_side(n_features: int) -> int | None:
    """28 for 784 inputs: the side of the square image the inputs are, if they are one."""
    side = math.isqrt(n_features)
    return side if side * side == n_features and side >= 8 else None


def _class_probabilities(model, x) -> np.ndarray:
    """(N, K) probabilities of each class; one sigmoid output becomes [1 - p, p]."""
    _check_model(model)
    if not model.output.has_accuracy:
        raise ValueError(f"model must be a classifier (softmax or sigmoid output); got the "
                         f"{model.output.name!r} output.")
    p = model.predict(x)
    return np.concatenate([1 - p, p], axis=1) if p.shape[1] == 1 else p


# -- weights ------------------------------------------------------------------------------
def plot_weights(model, layer: int = 1, path: str | os.PathLike | None = None):
    """The weights ``W{layer}`` of shape (n_in, n_out).

    When the layer's inputs are a square image (784 = 28 x 28 for MNIST), each unit's
    incoming weights, a column of ``W``, are drawn as an image: red pixels raise that unit's
    total input, blue ones lower it (at most 64 units). Otherwise ``W`` is drawn as a heat
    map, inputs down, units across. The colour scale is symmetric around 0 and shared.
    """
    _check_model(model)
    layer = check_int("layer", layer, minimum=1)
    if layer > len(model.dense):
        raise ValueError(f"layer must be in 1..{len(model.dense)} (the Dense layers); got {layer}.")
    W = model.params[f"W{layer}"]
    n_in, n_out = W.shape
    limit = float(np.abs(W).max()) or 1.0
    side = _image_side(n_in)
    if side is not None:
        shown = min(n_out, 64)
        cols = min(shown, 10)
        rows = math.ceil(shown / cols)
        fig = new_figure(1.15 * cols + 1.0, 1.2 * rows + 0.7)
        axes = fig.subplots(rows, cols, squeeze=False)
        for k, ax in enumerate(axes.flat):
            ax.set_axis_off()
            if k < shown:
                image = ax.imshow(W[:, k].reshape(side, side), cmap=SIGNED_CMAP,
                                  vmin=-limit, vmax=limit)
                ax.set_title(f"unit {k + 1}", fontsize=8)
        fig.colorbar(image, ax=axes, shrink=0.8, label="weight")
        more = f" (first {shown} of {n_out} units)" if shown < n_out else ""
        fig.suptitle(f"W{layer}: each unit's weights from the {side}x{side} input pixels{more}")
    else:
        fig = new_figure(min(3 + 0.3 * n_out, 9), min(2.5 + 0.25 * n_in, 7))
        ax = fig.subplots()
        image = ax.imshow(W, cmap=SIGNED_CMAP, vmin=-limit, vmax=limit, aspect="auto",
                          interpolation="nearest")
        from matplotlib.ticker import MaxNLocator
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(f"unit of layer {layer} (column of W{layer})")
        ax.set_ylabel(f"input (row of W{layer})")
        ax.set_title(f"W{layer}: weights, shape {n_in} x {n_out}")
        fig.colorbar(image, ax=ax, label="weight")
    return _finish(fig, path)


# -- activations --------------------------------------------------------------------------
def activation_data(model, x) -> dict[str, np.ndarray]:
    """Each hidden layer's outputs for ``x``, from ``model.layer_outputs``, flattened.

    Keyed ``"layer 1 (ReLU)"``, ...: the output of the activation after each Dense layer but
    the last (the Dense outputs themselves where no activation follows).
    """
    outputs = model.layer_outputs(x)
    data, k = {}, 0
    for i, layer in enumerate(model.layers):
        if not isinstance(layer, Dense) or layer is model.dense[-1]:
            continue
        k += 1
        after = model.layers[i + 1] if i + 1 < len(model.layers) else None
        if after is not None and not isinstance(after, Dense):
            data[f"layer {k} ({type(after).__name__})"] = outputs[i + 1].ravel()
        else:
            data[f"layer {k} (linear)"] = outputs[i].ravel()
    return data


def plot_activations(model, x, path: str | os.PathLike | None = None, bins: int = 30):
    """Histograms of each hidden layer's outputs over ``x`` (the book's init experiment).

    One panel per hidden layer, 30 bins over that layer's range, y the share of all values
    (so panels with different sizes compare). Outputs piling up at 0 and 1 (sigmoid) or
    at 0 (ReLU) mean saturation or silence; all in one narrow band, little expressiveness.
    """
    bins = _check_at_most("bins", bins, 1, MAX_BINS)
    data = activation_data(model, x)
    if not data:
        raise ValueError("model must have at least one hidden layer to show activations; it "
                         "has a single Dense layer.")
    fig = new_figure(max(4.8, 2.6 * len(data) + 0.6), 3.0)
    axes = fig.subplots(1, len(data), squeeze=False, sharey=True)[0]
    for ax, (name, values) in zip(axes, data.items()):
        weights = np.full(values.shape, 1.0 / values.size)
        ax.hist(values, bins=bins, weights=weights, color="#4c72b0")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("output value")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("share of outputs")
    fig.suptitle(f"Hidden-layer outputs over {len(np.atleast_2d(x))} samples")
    return _finish(fig, path)


# -- confusion ----------------------------------------------------------------------------
def plot_confusion(model, x, d, path: str | os.PathLike | None = None):
    """The confusion matrix of ``model`` on ``(x, d)``: rows true class, columns predicted.

    Each cell shows its count; the colour is the count divided by its row's total (the
    share of that true class), so rare classes read as clearly as common ones.
    """
    probabilities = _class_probabilities(model, x)
    counts = confusion_matrix(d, probabilities, n_classes=probabilities.shape[1])
    totals = counts.sum(axis=1, keepdims=True)
    share = counts / np.maximum(totals, 1)
    k = len(counts)
    fig = new_figure(max(4.2, 2.2 + 0.55 * k), max(3.4, 1.5 + 0.5 * k))
    ax = fig.subplots()
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=8 if k > 5 else 10,
                    color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(counts) / counts.sum()
    ax.set_title(f"Confusion matrix\n{counts.sum()} samples, accuracy {accuracy:.4f}", fontsize=10)
    fig.colorbar(image, ax=ax, label="share of the true class")
    return _finish(fig, path)


# -- mistakes -----------------------------------------------------------------------------
def worst_mistakes(model, x, d, n: int = 25) -> dict[str, np.ndarray]:
    """The misclassified samples the model was surest about, at most ``n``.

    "Worst" is the lowest probability given to the true class. Returns ``index`` (rows of
    ``x``), ``true``, ``predicted`` and ``p_true`` (that probability), worst first.
    """
    n = check_int("n", n, minimum=1)
    probabilities = _class_probabilities(model, x)
    true = class_labels(d)
    if len(true) != len(probabilities):
        raise ValueError(f"d must have one label per sample of x; got {len(true)} labels for "
                         f"{len(probabilities)} samples.")
    if true.max() >= probabilities.shape[1]:
        raise ValueError(f"d must hold classes 0..{probabilities.shape[1] - 1}, one per output of "
                         f"the network; got the class {true.max()}.")
    predicted = probabilities.argmax(axis=1)
    p_true = probabilities[np.arange(len(true)), true]
    wrong = np.flatnonzero(predicted != true)
    index = wrong[np.argsort(p_true[wrong], kind="stable")][:n]
    return {"index": index, "true": true[index], "predicted": predicted[index],
            "p_true": p_true[index]}


def plot_mistakes(model, x, d, n: int = 25, path: str | os.PathLike | None = None):
    """The worst mistakes (``worst_mistakes``): images for image inputs, points for 2-D.

    Images: each titled "true -> predicted" with the probability given to the true class.
    2-D data: every sample as a small dot in its class's colour, the mistakes circled in
    red and numbered from the worst.
    """
    data = worst_mistakes(model, x, d, n)
    x = model.prepare_inputs(x)
    side = _image_side(x.shape[1])
    count = len(data["index"])
    total = len(x)
    if side is not None:
        cols = max(1, min(count, 5))
        rows = max(1, math.ceil(count / cols))
        fig = new_figure(1.7 * cols + 0.3, 1.85 * rows + 0.6)
        axes = fig.subplots(rows, cols, squeeze=False)
        for k, ax in enumerate(axes.flat):
            ax.set_axis_off()
            if k < count:
                ax.imshow(x[data["index"][k]].reshape(side, side), cmap="gray_r")
                ax.set_title(f"true {data['true'][k]} -> {data['predicted'][k]}\n"
                             f"p(true) = {data['p_true'][k]:.2g}", fontsize=8)
        if not count:
            axes[0, 0].text(0.5, 0.5, "no mistakes", ha="center", va="center")
    elif x.shape[1] == 2:
        fig = new_figure(5.6, 5.0)
        ax = fig.subplots()
        true = class_labels(d)
        for c in np.unique(true):
            color = CLASS_COLORS[c] if c < len(CLASS_COLORS) else None
            ax.scatter(*x[true == c].T, s=10, color=color, alpha=0.6, label=f"class {c}")
        wrong = x[data["index"]]
        ax.scatter(*wrong.T, s=90, facecolors="none", edgecolors="red", linewidths=1.5,
                   label="misclassified")
        if not count:
            ax.text(0.5, 0.02, "no mistakes", transform=ax.transAxes, ha="center")
        for rank, point in enumerate(wrong[:10], start=1):
            ax.annotate(str(rank), point, textcoords="offset points", xytext=(5, 5),
                        fontsize=8, color="red")
        ax.set_xlabel("x0")
        ax.set_ylabel("x1")
        ax.set_aspect("equal", adjustable="datalim")
        ax.legend(loc="best", fontsize=8)
    else:
        raise ValueError(f"x must be images (a square number of features) or 2-D points to "
                         f"show mistakes; got {x.shape[1]} features.")
    wrong = int(np.count_nonzero(class_labels(d) != _class_probabilities(model, x).argmax(1)))
    fig.suptitle(f"Worst mistakes: {count} shown of {wrong} misclassified, {total} samples\n"
                 f"(lowest probability of the true class first)", fontsize=10)
    return _finish(fig, path)


# -- decision boundary --------------------------------------------------------------------
def decision_field(model, x, resolution: int = 200, margin: float = 0.1):
    """The model's answer on a ``resolution`` x ``resolution`` grid around the 2-D points ``x``.

    Returns ``(g0, g1, field)``: the grid's coordinates along x0 and x1 and ``field`` of shape
    (resolution, resolution), ``field[i, j]`` at ``(g0[j], g1[i])``. Two classes: the
    probability of class 1 (``predict``'s last column); more classes: the predicted class;
    a regression's single output: its value. The grid spans the points' range widened by
    ``margin`` of it on each side.
    """
    _check_model(model)
    resolution = _check_at_most("resolution", resolution, 2, MAX_RESOLUTION)
    x = model.prepare_inputs(x)
    if x.shape[1] != 2:
        raise ValueError(f"x must have 2 features to draw a decision boundary; got {x.shape[1]}.")
    low, high = x.min(axis=0), x.max(axis=0)
    pad = margin * np.maximum(high - low, 1e-3)
    g0 = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    g1 = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    grid = np.stack(np.meshgrid(g0, g1), axis=-1).reshape(-1, 2)
    y = model.predict(grid)
    if not model.output.has_accuracy or y.shape[1] <= 2:
        field = y[:, -1]
    else:
        field = y.argmax(axis=1)
    return g0, g1, field.reshape(resolution, resolution)


def plot_decision_boundary(model, x, d, path: str | os.PathLike | None = None,
                           resolution: int = 200):
    """The model's answer over the plane as a background, the samples ``(x, d)`` on top.

    Two classes: the probability of class 1 from blue (0) through white to orange (1), the
    0.5 line (the decision boundary) in black. More classes: the predicted class. The
    title gives the accuracy on ``(x, d)``.
    """
    g0, g1, field = decision_field(model, x, resolution)
    x = model.prepare_inputs(x)
    fig = new_figure(6.0, 5.0)
    ax = fig.subplots()
    extent = (g0[0], g0[-1], g1[0], g1[-1])
    classifier = model.output.has_accuracy
    two_classes = classifier and model.n_out <= 2
    if two_classes:
        from matplotlib.colors import LinearSegmentedColormap
        cmap = LinearSegmentedColormap.from_list("class01", [CLASS_COLORS[0], "white",
                                                            CLASS_COLORS[1]])
        image = ax.imshow(field, origin="lower", extent=extent, cmap=cmap, vmin=0, vmax=1,
                          aspect="auto", alpha=0.85)
        ax.contour(g0, g1, field, levels=[0.5], colors="black", linewidths=1.2)
        label = "probability of class 1"
    else:
        image = ax.imshow(field, origin="lower", extent=extent, aspect="auto", alpha=0.85,
                          cmap="tab10" if classifier else "viridis",
                          interpolation="nearest")
        label = "predicted class" if classifier else "output"
    fig.colorbar(image, ax=ax, label=label)
    sizes = "-".join(str(n) for n in [model.n_in] + [dense.n_out for dense in model.dense])
    title = f"Decision boundary of the {sizes} network"
    if classifier:
        true = class_labels(d)
        for c in np.unique(true):
            color = CLASS_COLORS[c] if two_classes and c < 2 else None
            ax.scatter(*x[true == c].T, s=12, color=color, edgecolors="black", linewidths=0.4,
                       label=f"class {c}")
        accuracy = np.mean(_class_probabilities(model, x).argmax(axis=1) == true)
        title = f"{title}\naccuracy {accuracy:.3f} on {len(x)} points"
        ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    else:
        ax.scatter(*x.T, s=12, c=np.ravel(d), cmap="viridis", edgecolors="black", linewidths=0.4)
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_title(title, fontsize=10)
    return _finish(fig, path)


# -- per-layer statistics during training -------------------------------------------------
#: LayerStats fields drawn by ``plot_layer_stats`` and whether their axis is logarithmic.
LAYER_STAT_PANELS = {"activation_mean": False, "activation_std": False,
                     "dead_fraction": False, "saturated_fraction": False,
                     "grad_norm": True, "update_ratio": True}


def plot_layer_stats(stats, path: str | os.PathLike | None = None):
    """The curves a ``zerodl.callbacks.LayerStats`` recorded: one panel per field, one line
    per layer (``W1``, ``W2``, ...), the training step along x.

    ``grad_norm`` and ``update_ratio`` use a log scale: vanishing gradients show as the
    first layers' lines lying decades below the last's; an update ratio far below 1e-3
    means that layer barely learns, far above 1e-2 that it moves too fast.
    """
    from matplotlib.lines import Line2D

    history, steps = stats.history, stats.steps
    if not steps:
        raise ValueError("stats must hold recorded steps; got a LayerStats with none (was it "
                         "passed to fit, with every <= the number of steps?).")
    fields = [f for f in LAYER_STAT_PANELS if any(f in h for h in history.values())]
    cols = 3
    rows = math.ceil(len(fields) / cols)
    fig = new_figure(4.2 * cols + 0.9, 3.1 * rows)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[len(fields):]:
        ax.set_axis_off()
    # Up to 10 layers, distinct colours; deeper networks, a gradient from input to output.
    keys = list(history)
    if len(keys) <= 10:
        colors = [f"C{i}" for i in range(len(keys))]
    else:
        from matplotlib import colormaps
        colors = [colormaps["viridis"](i / (len(keys) - 1)) for i in range(len(keys))]
    for ax, field in zip(axes.flat, fields):
        for key, color in zip(keys, colors):
            if field in history[key]:
                ax.plot(steps, history[key][field], lw=1.6, color=color, label=key)
        if LAYER_STAT_PANELS[field]:
            ax.set_yscale("log")
        ax.set_title(field.replace("_", " "), fontsize=10)
        ax.set_xlabel("step")
        ax.grid(True, alpha=0.3)
    handles = [Line2D([], [], color=color, lw=1.6, label=key) for key, color in zip(keys, colors)]
    fig.legend(handles=handles, loc="outside right upper", title="layer", fontsize=8,
               frameon=False)
    fig.suptitle("Per-layer statistics during training")
    return _finish(fig, path)
