"""The book's ``dataset.mnist.load_mnist``, read by zerodl (no pickle, no download here
unless zerodl's own loader needs one; see ``help(zerodl.datasets.load_mnist)``)."""
from __future__ import annotations

from ..core.datasets import load_mnist as _zerodl_load_mnist

__all__ = ["load_mnist"]


def load_mnist(normalize: bool = True, flatten: bool = True, one_hot_label: bool = False):
    """``((x_train, t_train), (x_test, t_test))``: 60,000 and 10,000 handwritten digits.

    ``normalize``: float32 pixels in [0, 1] (else uint8 0..255); ``flatten``: rows of 784
    values (else images (N, 1, 28, 28)); ``one_hot_label``: labels as one-hot rows of 10
    (else integer classes).
    """
    return _zerodl_load_mnist(normalize=normalize, flatten=flatten, one_hot_label=one_hot_label)
