"""The book's ``Convolution`` and ``Pooling`` (chapter 7), with its interfaces, computed by
zerodl's ``Conv2D`` and ``MaxPool2D``.

Images are NCHW, (N, C, H, W), as in the book. Each book layer keeps one zerodl layer and
hands it the book's arrays: the weights stay the book layer's attributes ``W`` and ``b`` (the
network's ``params`` arrays, which an optimizer updates in place and ``load_params``
replaces), and are copied into the zerodl layer at every forward, a small cost beside the
convolution itself.
"""
from __future__ import annotations

import numpy as np

from ..core._checks import check_int
from ..core.layers import Conv2D, MaxPool2D

__all__ = ["Convolution", "Pooling"]


class Convolution:
    """``Convolution(W, b, stride=1, pad=0)``: ``out[n, f] = sum_{c,i,j} W[f, c, i, j] *
    xpad[n, c, y*stride + i, x*stride + j] + b[f]``.

    ``W``: (FN, C, FH, FW) filters; ``b``: (FN,) or one number (the book's ``apply_filter``
    passes ``b = 0``); ``x``: (N, C, H, W); ``out``: (N, FN, out_h, out_w) with ``out_h = (H
    + 2*pad - FH) / stride + 1``. ``backward(dout)`` returns ``dx`` and sets ``dW`` (FN, C,
    FH, FW) and ``db`` (FN,), new arrays each time.

    The arithmetic is ``zerodl.layers.Conv2D``'s (im2col as PyTorch's ``unfold`` layout, one
    batched matrix product; see its help): the same sums as the book's ``col @ col_W``, in
    another order, so the last bits of a float can differ. Differences from the book's layer:
    an ``out_h`` that is not a whole number is refused with the formula (the book truncates
    it and leaves the last rows unused), and the im2col matrix is not kept as ``self.col``.
    """

    def __init__(self, W: np.ndarray, b, stride: int = 1, pad: int = 0) -> None:
        self.W = W
        self.b = b
        self.stride = check_int("stride", stride, minimum=1)
        self.pad = check_int("pad", pad, minimum=0)
        self.x: np.ndarray | None = None
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None
        self.layer: Conv2D | None = None

    def _synced(self) -> Conv2D:
        W = np.asarray(self.W)
        if W.ndim != 4:
            raise ValueError(f"W must be 4-D filters of shape (FN, C, FH, FW); got shape "
                             f"{W.shape}.")
        FN, C, FH, FW = W.shape
        layer = self.layer
        if layer is None or layer.W.shape != W.shape or layer.W.dtype != W.dtype:
            # "zeros": the weights are the book's, copied in below; nothing to draw
            layer = self.layer = Conv2D(C, FN, (FH, FW), self.stride, self.pad,
                                        init="zeros", dtype=W.dtype)
        # Into the layer's own arrays, as ParamDict's assignment does, without its checks
        # for finite values at every step (this runs once per forward).
        np.copyto(layer.params["W"], W)
        np.copyto(layer.params["b"], self.b)
        return layer

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return self._synced().forward(x, training=True)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx = self.layer.backward(dout)
        self.dW = self.layer.grads["W"].copy()
        self.db = self.layer.grads["b"].copy()
        return dx


class Pooling:
    """``Pooling(pool_h, pool_w, stride=1, pad=0)``: max pooling, ``out[n, c, y, x] =
    max_{i,j} x[n, c, y*stride + i, x*stride + j]``; ``backward(dout)`` routes each gradient
    to its window's maximum.

    ``stride`` defaults to 1 as in the book's code (its networks pass ``stride=2``);
    zerodl's ``MaxPool2D``, which does the work, defaults to the window size. Ties go to the
    first maximum in row-major order, as the book's ``argmax``. Differences from the book's
    layer: padding is -inf, never the maximum (the book pads with zeros, which win over
    negative inputs, and its output size ignores ``pad``), a pad over half the window is
    refused, and so is an output size that is not a whole number.
    """

    def __init__(self, pool_h: int, pool_w: int, stride: int = 1, pad: int = 0) -> None:
        self.pool_h = check_int("pool_h", pool_h, minimum=1)
        self.pool_w = check_int("pool_w", pool_w, minimum=1)
        self.stride = check_int("stride", stride, minimum=1)
        self.pad = check_int("pad", pad, minimum=0)
        self.x: np.ndarray | None = None
        self.layer = MaxPool2D((self.pool_h, self.pool_w), self.stride, self.pad)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return self.layer.forward(x, training=True)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return self.layer.backward(dout)
