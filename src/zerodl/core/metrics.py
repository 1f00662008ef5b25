"""Counting what a classifier gets right and wrong: class labels and the confusion matrix."""
from __future__ import annotations

import numpy as np

from ._checks import check_array, check_int, plain


def class_labels(d, name: str = "d") -> np.ndarray:
    """Class indices (N,) int64 from labels in any of the forms zerodl accepts.

    - (N,) class indices (whole numbers >= 0): returned as int64;
    - (N, K) with K >= 2, one-hot rows or probabilities (a network's ``predict``): the
      column of the largest value, ``argmax`` (the first one on ties);
    - (N, 1), one sigmoid output or 0/1 target: class 1 where the value is >= 0.5.
    """
    d = check_array(name, d)
    if d.ndim == 1:
        whole = np.floor(d) == d if d.dtype.kind == "f" else np.ones(d.shape, bool)
        if not whole.all() or d.min() < 0:
            bad = d[~whole | (d < 0)][0]
            raise ValueError(f"{name} must be class indices (whole numbers >= 0), one-hot rows "
                             f"or probabilities; got the value {plain(bad)!r} in a 1-D array.")
        return d.astype(np.int64)
    if d.ndim != 2:
        raise ValueError(f"{name} must be class indices of shape (N,) or rows of shape (N, K); "
                         f"got an array of shape {d.shape}.")
    if d.shape[1] == 1:
        return (d[:, 0] >= 0.5).astype(np.int64)
    return d.argmax(axis=1).astype(np.int64)


#: Classes counted without ``n_classes`` (ImageNet has 1000), and at most with it: the
#: result is (n_classes, n_classes) int64, 800 MB at 10^4.
MAX_INFERRED_CLASSES = 1000
MAX_CLASSES = 10_000


def confusion_matrix(d_true, d_pred, n_classes: int | None = None) -> np.ndarray:
    """``C[i, j]``: how many samples of true class ``i`` were predicted as class ``j``.

    Rows are the true labels, columns the predictions, so the diagonal holds the correct
    answers, ``C.sum()`` is the number of samples and ``trace(C) / C.sum()`` the accuracy.
    Both arguments take class indices (N,), one-hot rows or probabilities (N, K) (the
    column of the largest value counts) or one sigmoid output (N, 1) (>= 0.5 is class 1);
    so ``confusion_matrix(d_test, model.predict(x_test))`` works as it stands.
    ``n_classes`` defaults to the number of columns of a 2-D argument (2 for one sigmoid
    column), else to the largest label + 1, which must then be at most 1000 (a larger label
    is refused, not allocated); ``n_classes`` itself is at most 10^4. Returns an int64
    array (n_classes, n_classes).
    """
    true = class_labels(d_true, "d_true")
    pred = class_labels(d_pred, "d_pred")
    if len(true) != len(pred):
        raise ValueError(f"d_pred must have one prediction per label of d_true; got "
                         f"{len(pred)} predictions for {len(true)} labels.")
    if n_classes is None:
        # Sized by the classes, not by a stray label: [0, 10**9] must not allocate 10^18.
        for name, labels in (("d_true", true), ("d_pred", pred)):
            if int(labels.max()) >= MAX_INFERRED_CLASSES:
                raise ValueError(f"{name} must hold class labels below {MAX_INFERRED_CLASSES} "
                                 f"when n_classes is not given (pass n_classes for more "
                                 f"classes); got the label {int(labels.max())}.")
        widths = [max(2, np.shape(a)[1]) for a in (d_true, d_pred) if np.ndim(a) == 2]
        n_classes = max([*widths, int(true.max()) + 1, int(pred.max()) + 1])
    else:
        n_classes = check_int("n_classes", n_classes, minimum=1)
        if n_classes > MAX_CLASSES:
            raise ValueError(f"n_classes must be an integer in [1, {MAX_CLASSES}]; got "
                             f"{n_classes}.")
        high = max(int(true.max()), int(pred.max()))
        if high >= n_classes:
            raise ValueError(f"n_classes must be larger than every label; got {n_classes} with "
                             f"a label {high}.")
    counts = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(counts, (true, pred), 1)
    return counts
