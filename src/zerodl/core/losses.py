"""Output layers fused with their losses.

Each output takes the last layer's pre-activation ``u`` (N, k) and gives the prediction
``y = f(u)``, the loss (summed over the output units, averaged over the N samples, as the
course defines it) and ``dE/du``. Fusing the activation with its loss is what makes the
gradient both exact and stable: for all three pairs it reduces to ``(y - d) / N``, with no
division by ``y`` and no ``log(0)``.

The formulas live once, in ``zerodl.functions``: every output here takes its gradient from
``functions.output_delta`` (as the course's ``d_*_with_loss`` functions do) and its loss from
the functions module. The softmax output runs the two steps of ``functions.softmax_rows``
(``subtract_row_max``, ``exp_normalize_rows``) itself, in u's memory during training, and
reads its loss off the shifted scores between them (``log_softmax``), so that the training
loop allocates nothing extra.

Labels ``d`` are one-hot (or any target array of ``y``'s shape) or, for softmax, integer class
indices of shape (N,).
"""
from __future__ import annotations

import numpy as np

from . import functions as F
from ._registry import Registry


class Output:
    """Base class of the fused output layer + loss pairs."""

    name = ""
    loss_name = ""
    has_accuracy = True
    #: Which labels ``_checks.check_labels`` accepts: "classes", "binary" or "targets".
    label_kind = "targets"

    def predict(self, u: np.ndarray, overwrite_u: bool = False) -> np.ndarray:
        """``y = f(u)``; ``overwrite_u=True`` allows using u's memory, as in ``loss_and_grad``."""
        raise NotImplementedError

    def loss_and_grad(self, u: np.ndarray, d: np.ndarray,
                      overwrite_u: bool = False) -> tuple[float, np.ndarray, np.ndarray]:
        """Return ``(loss, dE/du, y)`` for one batch; the loss is a per-sample sum, batch mean.

        ``overwrite_u=True`` allows using u's memory (outputs that support it do so).
        """
        raise NotImplementedError

    def loss(self, u: np.ndarray, d: np.ndarray) -> float:
        return self.loss_and_grad(u, d)[0]

    def correct(self, y: np.ndarray, d: np.ndarray) -> int:
        """Number of correct predictions in the batch (classifiers only)."""
        raise NotImplementedError

    def prepare_labels(self, d, n_out: int, dtype) -> np.ndarray:
        """Bring user labels to the form ``loss_and_grad`` takes: targets of shape (N, k)."""
        d = np.asarray(d)
        if d.ndim == 1 and n_out == 1:
            d = d.reshape(-1, 1)
        return d.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SoftmaxCrossEntropy(Output):
    """Softmax output with cross-entropy ``E = -1/N sum_n sum_k d_nk log y_nk``.

    ``dE/du = (y - d) / N``: the softmax Jacobian and the loss's ``-d / y`` cancel, which is
    why the two are computed together. The loss is taken from ``log_softmax(u)``, so it stays
    finite even when a probability underflows to 0.
    """

    name = "softmax"
    loss_name = "cross_entropy"
    label_kind = "classes"

    def predict(self, u, overwrite_u=False):
        if overwrite_u:             # the model's own (N, k) array: the kernel, in place
            return F.softmax_rows(u, out=u)
        return F.softmax(u)

    def prepare_labels(self, d, n_out, dtype):
        d = np.asarray(d)
        if d.ndim == 1:                     # class indices stay integers: cheaper to index
            return d.astype(np.intp, copy=False)
        return d.astype(dtype, copy=False)

    def loss_and_grad(self, u, d, overwrite_u: bool = False):
        """``overwrite_u=True`` computes ``y`` in u's own memory (the training loop's array).

        Per row: ``s = u - max(u)``, ``y = exp(s) / sum(exp(s))``, and the loss is
        ``sum_k d_k (log sum(exp(s)) - s_k)``, read off ``s`` before ``exp`` overwrites it.
        """
        n = u.shape[0]
        shifted = F.subtract_row_max(u, out=u if overwrite_u else None)
        # np.add.reduce below is np.sum without its Python wrapper (this runs every step).
        if d.ndim == 1:
            label_terms = float(np.add.reduce(shifted[np.arange(n), d]))   # sum_n s_{n, d_n}
            weights = None                                      # each row's labels sum to 1
        else:
            label_terms = float(np.vdot(d, shifted))           # sum_nk d_nk s_nk
            weights = np.add.reduce(d, axis=1)
        y, total = F.exp_normalize_rows(shifted)                # softmax, in shifted's memory
        log_total = np.log(total[:, 0])
        log_terms = float(np.add.reduce(log_total) if weights is None
                          else np.dot(log_total, weights))
        loss = (log_terms - label_terms) / n
        return loss, F.output_delta(d, y), y

    def correct(self, y, d):
        labels = d if d.ndim == 1 else d.argmax(axis=1)
        return int(np.count_nonzero(y.argmax(axis=1) == labels))


class SigmoidBinaryCrossEntropy(Output):
    """Sigmoid outputs with binary cross-entropy, summed over the k outputs, mean over N.

    ``E = 1/N sum_n sum_j -[d log y + (1 - d) log(1 - y)]`` with ``y = sigmoid(u)``, computed
    from ``u`` by ``functions.binary_cross_entropy_from_logits`` so that it never overflows
    nor takes ``log(0)``. ``dE/du = (y - d) / N``. For one output this is the two-class
    classifier; for several, independent yes/no outputs (multi-label).
    """

    name = "sigmoid"
    loss_name = "binary_cross_entropy"
    label_kind = "binary"

    def predict(self, u, overwrite_u=False):
        return F.sigmoid(u)

    def loss_and_grad(self, u, d, overwrite_u=False):
        y = F.sigmoid(u)
        return F.binary_cross_entropy_from_logits(d, u), F.output_delta(d, y), y

    def correct(self, y, d):
        # Counts samples whose every output is on the right side of 0.5.
        return int(np.count_nonzero(np.all((y > 0.5) == (d > 0.5), axis=1)))


class IdentityMeanSquaredError(Output):
    """Identity output with ``E = 1/N sum_n 1/2 sum_j (y_nj - d_nj)^2`` (the course's formula).

    The 1/2 cancels the 2 of the derivative: ``dE/du = (y - d) / N``.
    """

    name = "identity"
    loss_name = "mean_squared_error"
    has_accuracy = False

    def predict(self, u, overwrite_u=False):
        return u

    def loss_and_grad(self, u, d, overwrite_u=False):
        return F.mean_squared_error(d, u), F.output_delta(d, u), u

    def correct(self, y, d):
        raise TypeError("accuracy is not defined for the 'identity' (regression) output")


#: Output name -> fused output/loss class, as accepted by ``mlp(output=...)``.
OUTPUTS: Registry = Registry("output")
OUTPUTS.register("softmax", SoftmaxCrossEntropy)
OUTPUTS.register("sigmoid", SigmoidBinaryCrossEntropy)
OUTPUTS.register("identity", IdentityMeanSquaredError)


def get_output(output) -> Output:
    if isinstance(output, Output):
        return output
    return OUTPUTS.get(output)()
