"""Convolution and pooling layers (the book's chapter 7).

Images are NCHW: ``(N, C, H, W)``. Conv2D turns its windows into the columns of an im2col
matrix per sample (``unfold``) and applies all its filters with one (batched) matrix
product; backward goes the other way through ``fold``, which adds up the gradients of
overlapping windows. The pools need no
product: they combine the ph*pw strided views of the input, one per offset in the window
(see ``_Pool2D``).

Memory: the im2col matrix holds every pixel ``kh*kw / (sh*sw)`` times (25 times for a 5x5
kernel). A batch whose matrix would exceed ``IM2COL_BUDGET_BYTES`` is processed in chunks
of whole samples; each chunk is still one large matrix product, so the results are the same
and the speed nearly so.
"""
from __future__ import annotations

import numpy as np

from .._checks import check_float_dtype, check_int, plain
from ..im2col import WindowNames, as_pair, fold, output_size, unfold
from ..initializers import describe, get_initializer
from .base import Layer, ParamDict, check_fits_in_memory, dense_bytes

#: Largest im2col matrix built at once (256 MiB). Backward holds two of that size (the
#: columns and their gradient), and a learner's laptop or a free notebook has 8-12 GB, so
#: this leaves room for the rest; it is still large enough that the course's batches go in
#: one piece (100 MNIST images through a 5x5 kernel: 5.8 MB; 100 32x32 images, 64 channels,
#: 3x3 kernel: 236 MB). Tests lower it to check that chunks give the same result.
IM2COL_BUDGET_BYTES = 256 * 2**20

CONV_NAMES = WindowNames(("kernel_size", "kernel_size"), ("kernel_h", "kernel_w"), "stride",
                         "padding")
POOL_NAMES = WindowNames(("pool_size", "pool_size"), ("pool_h", "pool_w"), "stride", "padding")


def sample_slices(n: int, bytes_per_sample: int) -> list[slice]:
    """Slices of ``range(n)`` whose im2col matrices each fit in ``IM2COL_BUDGET_BYTES``
    (at least one sample each)."""
    step = max(1, IM2COL_BUDGET_BYTES // max(bytes_per_sample, 1))
    return [slice(start, min(start + step, n)) for start in range(0, n, step)] or [slice(0, 0)]


def _check_images(layer: Layer, x, channels: int | None = None) -> np.ndarray:
    """``x`` as an array of shape (N, C, H, W), with ``channels`` channels when given."""
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"x must hold numbers (bool, int or float) for {layer!r}; got an "
                        f"array of dtype {x.dtype}.")
    if x.ndim != 4:
        hint = {2: " (flat images? reshape them: x.reshape(N, C, H, W))",
                3: " (one image (C, H, W)? add the batch axis: x[None])"}.get(x.ndim, "")
        raise ValueError(f"x must be a 4-D array (N, C, H, W), a batch of images with the "
                         f"channels first, for {layer!r}; got shape {x.shape}{hint}.")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"x must have in_channels = {channels} channels (axis 1 of (N, C, H, "
                         f"W)) for {layer!r}; got {x.shape[1]} channels in shape {x.shape}.")
    return x


def _check_shape(layer: Layer, input_shape, channels: int | None) -> tuple[int, int, int]:
    """``input_shape`` as (C, H, W), the shape of one sample."""
    shape = tuple(plain(v) for v in input_shape) if isinstance(input_shape, (tuple, list)) \
        else None
    if shape is None or len(shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W), one sample's shape without the "
                         f"batch axis, for {layer!r}; got {input_shape!r}.")
    C, H, W = (check_int(f"input_shape[{k}]", v, minimum=1) for k, v in enumerate(shape))
    if channels is not None and C != channels:
        raise ValueError(f"input_shape must have in_channels = {channels} channels first "
                         f"for {layer!r}; got {C} in {shape}.")
    return C, H, W


def _check_dy(layer: Layer, dy, expected: tuple) -> np.ndarray:
    dy = np.asarray(dy)
    if dy.shape != expected:
        raise ValueError(f"dy must have the shape {expected} of {layer!r}'s last output; got "
                         f"shape {dy.shape}.")
    return dy


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as in the book and PyTorch) of NCHW images.

    ``y[n, o, p, q] = b[o] + sum_{c,i,j} W[o, c, i, j] * xpad[n, c, p*sh + i, q*sw + j]``

    Shapes: ``x`` (N, C, H, W), ``W`` (out_channels, in_channels, kh, kw), ``b``
    (out_channels,), ``y`` (N, out_channels, out_h, out_w) with ``out_h = (H + 2*ph - kh) /
    sh + 1`` (refused unless a whole number). With ``W_mat = W.reshape(out_channels,
    C*kh*kw)`` and the im2col matrix of sample n in PyTorch's layout, ``cols[n] = unfold(x)[n]``
    of shape (C*kh*kw, out_h*out_w) (the transpose of the book's rows of ``im2col``):

    forward:  ``y[n] = W_mat cols[n] + b``              (N, out_channels, out_h*out_w)
    backward: ``dW_mat = sum_n dy[n] cols[n]^T``,  ``db = sum_{n,p,q} dy``,
              ``dx = fold(W_mat^T dy[n])``            (fold: the adjoint of unfold)

    which is the book's ``col W_mat^T`` transposed per sample. Measured on MNIST-sized and
    (100, 16, 28, 28) inputs, this layout is 1.4-2x faster forward and backward than the
    book's: ``y`` comes out in NCHW order and ``dy`` goes in as it is, with no reordering
    copies, and ``fold`` needs no transposing copy either.

    Weights: the initialiser draws an (in_channels*kh*kw, out_channels) matrix, as for a
    Dense layer with fan_in = in_channels*kh*kw inputs; its column ``o`` becomes filter
    ``o``. So ``"he"`` is N(0, 2/fan_in) and a number is the normal's std (the course's
    0.01). ``"glorot"`` therefore averages fan_in with out_channels, not with
    out_channels*kh*kw as Keras and PyTorch do. Biases start at 0.

    ``forward(x, training=True)`` keeps the im2col matrix for backward; with
    ``training=False`` only ``x`` is kept (no large matrix held at inference) and backward
    rebuilds the matrix. Batches over ``IM2COL_BUDGET_BYTES`` go in chunks either way.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 init="he", rng: np.random.Generator | None = None, dtype=np.float32) -> None:
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.out_channels = check_int("out_channels", out_channels, minimum=1)
        self.kernel_size = as_pair("kernel_size", kernel_size, minimum=1)
        self.stride = as_pair("stride", stride, minimum=1)
        self.padding = as_pair("padding", padding, minimum=0)
        dtype = check_float_dtype("dtype", dtype)
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be None or a numpy Generator (np.random.default_rng"
                            f"(seed)); got {plain(rng)!r}.")
        initializer = get_initializer(init)
        self.init = describe(init)
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        # Same count as a Dense layer of fan_in -> out_channels: weights, biases, gradients.
        check_fits_in_memory(repr(self), dense_bytes(fan_in, self.out_channels, dtype), dtype)
        rng = np.random.default_rng() if rng is None else rng
        W = np.asarray(initializer(rng, fan_in, self.out_channels, dtype), dtype=dtype)
        if W.shape != (fan_in, self.out_channels):
            raise ValueError(f"init must give weights of shape (in_channels*kh*kw, "
                             f"out_channels) = {(fan_in, self.out_channels)}; got shape "
                             f"{W.shape}.")
        W = np.ascontiguousarray(W.T).reshape(self.out_channels, self.in_channels,
                                              *self.kernel_size)
        self.params = ParamDict({"W": W, "b": np.zeros(self.out_channels, dtype=dtype)},
                                "Conv2D.params")
        self.grads = ParamDict({key: np.zeros_like(value) for key, value in
                                self.params.items()}, "Conv2D.grads")
        self.buffers: dict[str, np.ndarray] = {}
        self.x: np.ndarray | None = None
        self.cols: np.ndarray | None = None

    @property
    def W(self) -> np.ndarray:
        return self.params["W"]

    @property
    def b(self) -> np.ndarray:
        return self.params["b"]

    @classmethod
    def array_shapes(cls, config: dict) -> tuple[dict[str, tuple], dict[str, tuple]]:
        c_in, c_out, kernel = (config.get("in_channels"), config.get("out_channels"),
                               config.get("kernel_size"))
        if isinstance(kernel, int):
            kernel = [kernel, kernel]
        sizes = [c_in, c_out, *(kernel if isinstance(kernel, list) else [None])]
        if len(sizes) != 4 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1
                                      for v in sizes):
            raise ValueError(f"a Conv2D layer must have integer in_channels, out_channels and "
                             f"kernel_size >= 1; got {c_in!r}, {c_out!r}, {kernel!r}")
        return {"W": (c_out, c_in, kernel[0], kernel[1]), "b": (c_out,)}, {}

    def build(self, input_shape: tuple) -> None:
        """Nothing to create (the weights' shape does not depend on H and W); checks the shape."""
        self.output_shape(input_shape)

    def output_shape(self, input_shape: tuple) -> tuple[int, int, int]:
        """(out_channels, out_h, out_w) for one sample of shape (C, H, W)."""
        shape = _check_shape(self, input_shape, self.in_channels)
        return (self.out_channels, *output_size(shape, self.kernel_size, self.stride,
                                                self.padding, names=CONV_NAMES,
                                                what="input_shape"))

    def _slices(self, x: np.ndarray, out_hw: tuple[int, int]) -> list[slice]:
        row_bytes = self.in_channels * self.kernel_size[0] * self.kernel_size[1] * x.itemsize
        return sample_slices(len(x), out_hw[0] * out_hw[1] * row_bytes)

    def _unfold(self, x: np.ndarray) -> np.ndarray:
        return unfold(x, *self.kernel_size, self.stride, self.padding)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        x = _check_images(self, x, self.in_channels)
        out_h, out_w = output_size(x.shape, self.kernel_size, self.stride, self.padding,
                                   names=CONV_NAMES, what="x")
        W_mat = self.W.reshape(self.out_channels, -1)
        y = np.empty((len(x), self.out_channels, out_h, out_w),
                     dtype=np.result_type(x.dtype, W_mat.dtype))
        slices = self._slices(x, (out_h, out_w))
        for s in slices:
            cols = self._unfold(x[s])                       # (n, C*kh*kw, out_h*out_w)
            y_s = y[s].reshape(len(cols), self.out_channels, out_h * out_w)   # a view
            np.matmul(W_mat, cols, out=y_s)                 # every sample's W_mat @ cols[n]
            y_s += self.b[:, None]
        self.x = x
        self.cols = cols if training and len(slices) == 1 else None
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        x = self._cached("x")
        N = len(x)
        out_h, out_w = output_size(x.shape, self.kernel_size, self.stride, self.padding)
        dy = _check_dy(self, dy, (N, self.out_channels, out_h, out_w))
        W_mat = self.W.reshape(self.out_channels, -1)
        dW_mat = self.grads["W"].reshape(self.out_channels, -1)     # a view: fills grads["W"]
        dW_mat[...] = 0
        dx = np.empty(x.shape, dtype=np.result_type(dy.dtype, W_mat.dtype))
        slices = self._slices(x, (out_h, out_w))
        kept = self.cols if len(slices) == 1 else None
        transposed = self._dx_by_transposed_conv()
        for s in slices:
            cols = kept if kept is not None else self._unfold(x[s])
            dy_s = dy[s].reshape(len(cols), self.out_channels, out_h * out_w)
            # dW = sum_n dy[n] @ cols[n]^T: per-sample products, then their sum
            dW_mat += np.matmul(dy_s, cols.transpose(0, 2, 1)).sum(axis=0)
            if not transposed:
                dx[s] = fold(np.matmul(W_mat.T, dy_s), x[s].shape, *self.kernel_size,
                             self.stride, self.padding)
        if transposed:
            self._transposed_conv(dy, out=dx)
        np.add.reduce(dy, axis=(0, 2, 3), out=self.grads["b"])
        return dx

    def _dx_by_transposed_conv(self) -> bool:
        """Whether backward computes dx as a convolution of dy instead of through ``fold``:
        for stride 1, padding < kernel size and out_channels <= in_channels, where it measured
        1.1-2x faster (DeepConvNet's 3x3 layers; more output than input channels made it slower,
        the im2col matrix of dy being the larger one)."""
        return (self.stride == (1, 1) and self.out_channels <= self.in_channels
                and all(p < k for p, k in zip(self.padding, self.kernel_size)))

    def _transposed_conv(self, dy: np.ndarray, out: np.ndarray) -> None:
        """``out = dE/dx`` for stride 1: dy, padded by ``k - 1 - p``, convolved with the
        filters turned by 180 degrees and with in and out channels swapped:
        ``dx[n, c, h, w] = sum_{o,i,j} W[o, c, i, j] * dy[n, o, h + p - i, w + p - j]``
        (terms outside dy are 0), the same sum as ``fold(W_mat^T dy)``, in one unfold and one
        product. Chunks of samples keep dy's im2col matrix within ``IM2COL_BUDGET_BYTES``."""
        (kh, kw), (ph, pw) = self.kernel_size, self.padding
        turned = np.ascontiguousarray(self.W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
        turned = turned.reshape(self.in_channels, -1)             # (C, O*kh*kw)
        H, W = out.shape[2:]
        for s in sample_slices(len(dy), self.out_channels * kh * kw * H * W * dy.itemsize):
            cols = unfold(dy[s], kh, kw, 1, (kh - 1 - ph, kw - 1 - pw))   # (n, O*kh*kw, H*W)
            np.matmul(turned, cols, out=out[s].reshape(len(cols), self.in_channels, H * W))

    def get_config(self) -> dict:
        return {"type": "Conv2D", "in_channels": self.in_channels,
                "out_channels": self.out_channels, "kernel_size": list(self.kernel_size),
                "stride": list(self.stride), "padding": list(self.padding), "init": self.init}


class _Pool2D(Layer):
    """What max and average pooling share: arguments, shapes, and the window views.

    Pooling needs no matrix product, so it skips im2col (which the book's Pooling uses):
    for each offset ``(i, j)`` of the window, ``padded[:, :, i::sh, j::sw]`` (cut to
    out_h x out_w) is a strided view, with no copy, whose entry ``[n, c, p, q]`` is entry
    ``(i, j)`` of window ``(p, q)``. The pools combine these ph*pw views elementwise, and
    backward adds into the same views of dE/dx, where overlapping windows add up. On (100,
    30, 24, 24) float32 with 2x2 windows, this measured 7x faster than going through im2col
    (forward and backward), and holds no im2col matrix however large the batch.
    """

    def __init__(self, pool_size, stride=None, padding=0) -> None:
        super().__init__()
        self.pool_size = as_pair("pool_size", pool_size, minimum=1)
        self.stride = self.pool_size if stride is None else as_pair("stride", stride, minimum=1)
        self.padding = as_pair("padding", padding, minimum=0)
        if any(2 * p > k for p, k in zip(self.padding, self.pool_size)):
            # As PyTorch: a window made only of padding would have no input to pool.
            raise ValueError(f"padding must be at most half of pool_size {self.pool_size}, so "
                             f"that every window holds an input value; got padding="
                             f"{self.padding}.")
        self.buffers: dict[str, np.ndarray] = {}
        self.x_shape: tuple | None = None

    def build(self, input_shape: tuple) -> None:
        """Nothing to create; checks the shape."""
        self.output_shape(input_shape)

    def output_shape(self, input_shape: tuple) -> tuple[int, int, int]:
        """(C, out_h, out_w) for one sample of shape (C, H, W)."""
        shape = _check_shape(self, input_shape, None)
        return (shape[0], *output_size(shape, self.pool_size, self.stride, self.padding,
                                       names=POOL_NAMES, what="input_shape"))

    def _padded(self, x) -> tuple[np.ndarray, tuple[int, int]]:
        """Checked ``x`` padded with ``_pad_value``, and (out_h, out_w); keeps ``x.shape``."""
        x = _check_images(self, x)
        out_hw = output_size(x.shape, self.pool_size, self.stride, self.padding,
                             names=POOL_NAMES, what="x")
        self.x_shape = x.shape
        (ph, pw) = self.padding
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)),
                       constant_values=self._pad_value(x.dtype))
        return x, out_hw

    def _views(self, padded: np.ndarray, out_hw: tuple[int, int]) -> list[np.ndarray]:
        """The ph*pw strided views of ``padded``, offset (i, j) at index ``i*pw + j``."""
        (kh, kw), (sh, sw), (out_h, out_w) = self.pool_size, self.stride, out_hw
        return [padded[:, :, i:i + sh * (out_h - 1) + 1:sh, j:j + sw * (out_w - 1) + 1:sw]
                for i in range(kh) for j in range(kw)]

    def _gradient(self, dy, spread) -> np.ndarray:
        """dE/dx: ``spread(k, dy)`` added into view ``k`` of a zero (padded) image, the
        padding then dropped."""
        x_shape = self._cached("x_shape")
        N, C, H, W = x_shape
        (ph, pw) = self.padding
        out_hw = output_size(x_shape, self.pool_size, self.stride, self.padding)
        dy = _check_dy(self, dy, (N, C) + out_hw)
        dx = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dy.dtype)
        for k, view in enumerate(self._views(dx, out_hw)):
            view += spread(k, dy)
        return np.ascontiguousarray(dx[:, :, ph:ph + H, pw:pw + W]) if ph or pw else dx

    def get_config(self) -> dict:
        return {"type": type(self).__name__, "pool_size": list(self.pool_size),
                "stride": list(self.stride), "padding": list(self.padding)}


class MaxPool2D(_Pool2D):
    """Max pooling: ``y[n, c, p, q] = max_{i,j} xpad[n, c, p*sh + i, q*sw + j]``.

    ``stride`` defaults to ``pool_size`` (non-overlapping windows, as Keras and PyTorch).
    Padding is -inf (the dtype's lowest value for integers), so it is never the maximum.
    Backward routes each gradient to the first maximum of its window (row-major order, as
    ``argmax`` and PyTorch), so a tie does not double it: ``dx[first] += dy``.
    """

    def _pad_value(self, dtype):
        if dtype.kind == "f":
            return -np.inf
        return np.iinfo(dtype).min if dtype.kind in "iu" else False

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        padded, out_hw = self._padded(x)
        views = self._views(padded, out_hw)
        y = views[0].copy()
        for view in views[1:]:
            np.maximum(y, view, out=y)
        # Index of each window's first maximum. Scanning the offsets backwards, each match
        # overwrites the later ones; arithmetic, as masked assignment is 5-10x slower here.
        last = len(views) - 1
        first = np.full(y.shape, last, dtype=np.min_scalar_type(last))
        for k in range(last - 1, -1, -1):
            first -= (first - k) * (views[k] == y)          # first = k where view k is the max
        self.first = first
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        first = self._cached("first")
        return self._gradient(dy, lambda k, dy: dy * (first == k))


class AvgPool2D(_Pool2D):
    """Average pooling: ``y[n, c, p, q] = mean_{i,j} xpad[n, c, p*sh + i, q*sw + j]``.

    ``stride`` defaults to ``pool_size``. Zero padding counts in the mean (every window is
    divided by ph*pw), as PyTorch's default ``count_include_pad=True``. Backward spreads
    each gradient evenly: ``dx += dy / (ph*pw)`` over the window. Integer inputs give float64.
    """

    def _pad_value(self, dtype):
        return 0

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        padded, out_hw = self._padded(x)
        views = self._views(padded, out_hw)
        dtype = padded.dtype if padded.dtype.kind == "f" else np.dtype(np.float64)
        y = views[0].astype(dtype)
        for view in views[1:]:
            y += view
        y *= dtype.type(1 / len(views))
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        self._cached("x_shape")
        share = np.asarray(dy) * (1 / (self.pool_size[0] * self.pool_size[1]))
        return self._gradient(share, lambda k, share: share)
