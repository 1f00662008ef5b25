"""im2col and col2im: convolution as one matrix product (the book's chapter 7).

A convolution slides a ``filter_h x filter_w`` window over each image and takes, at every
position, the dot product of the window with a filter. ``im2col`` copies every window into
one row of a matrix, so that all those dot products, for all filters at once, become a
single matrix product ``col @ W.T``::

    one channel, 3x3 input, 2x2 filter, stride 1, no padding: out_h = out_w = 2

        input          windows (one per output position)       col (4 x 4)
      a  b  c                                            row (y=0,x=0): a b d e
      d  e  f      [a b] [b c]    [d e] [e f]            row (y=0,x=1): b c e f
      g  h  i      [d e] [e f]    [g h] [h i]            row (y=1,x=0): d e g h
                                                         row (y=1,x=1): e f h i

Layout (the book's): the input is NCHW, ``(N, C, H, W)``. ``col`` has one row per output
position, ordered ``(n, out_y, out_x)``, and one column per entry of the window, ordered
``(c, i, j)``: shape ``(N*out_h*out_w, C*filter_h*filter_w)``, with

    col[(n*out_h + y)*out_w + x, (c*filter_h + i)*filter_w + j]
        = padded[n, c, y*stride_h + i, x*stride_w + j].

``col2im`` is its adjoint (transpose): it adds every entry of ``col`` back onto the input
position it was copied from, so where windows overlap the contributions add up, and drops
the padding. This is exactly what backpropagation through ``im2col`` needs.

``unfold`` and ``fold`` are the same pair in PyTorch's layout (``torch.nn.functional.unfold``
and ``fold``): one (C*filter_h*filter_w, out_h*out_w) matrix per sample, each the transpose
of that sample's rows of ``col``. Conv2D uses them: its product then comes out in NCHW order.

Output size: ``out_h = (H + 2*pad_h - filter_h) / stride_h + 1`` (and likewise for W). It is
refused, with the formula's value, when it is not a whole number (the windows would leave
the last rows or columns of the input unused, which the book's and PyTorch's code do
silently) or when the filter is larger than the padded input.

Speed: ``unfold`` loops over the ``filter_h * filter_w`` offsets ``(i, j)`` of the window,
each step copying one strided slice of the whole batch; ``im2col`` adds one transposing copy
into its layout (``fold`` and ``col2im`` the same in reverse). Measured with
``python -m zerodl.benchmarks.conv_speed`` (float32, one thread), against building ``col``
from ``np.lib.stride_tricks.sliding_window_view`` in one copy (whose innermost run is only
``filter_w`` long), over several runs on a shared two-core machine, the loop was 1.7x faster
for 5x5 on (100, 1, 28, 28); on (100, 30, 24, 24), 1.9-4.8x faster for 2x2 with stride 2,
1.2-1.9x for 3x3 with padding 1, and 1.3-1.4x slower for 5x5. ``unfold`` alone takes about
half the loop's time. The dtype is kept: float32 stays float32.
"""
from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from ._checks import check_int


class WindowNames(NamedTuple):
    """How a caller's arguments are named in messages about the window.

    ``window``: the argument(s) giving the window's height and width; ``symbol``: their
    names in the size formula; ``stride`` and ``pad``: the other two arguments.
    """

    window: tuple[str, str]
    symbol: tuple[str, str]
    stride: str
    pad: str


IM2COL_NAMES = WindowNames(("filter_h", "filter_w"), ("filter_h", "filter_w"), "stride", "pad")


def as_pair(name: str, value, *, minimum: int) -> tuple[int, int]:
    """``value`` as ``(h, w)``: an int is used for both axes, a pair (tuple or list) as is."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return (check_int(f"{name}[0]", value[0], minimum=minimum),
                check_int(f"{name}[1]", value[1], minimum=minimum))
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = check_int(name, value, minimum=minimum)
        return value, value
    raise (ValueError if isinstance(value, (tuple, list)) else TypeError)(
        f"{name} must be an integer >= {minimum} or a pair (h, w) of them; got {value!r}.")


def _shown(pair: tuple[int, int]):
    """A pair as the user most likely wrote it: ``2`` for ``(2, 2)``."""
    return pair[0] if pair[0] == pair[1] else pair


def output_size(input_shape: tuple, window: tuple[int, int], stride: tuple[int, int],
                pad: tuple[int, int], *, names: WindowNames = IM2COL_NAMES,
                what: str = "input_data") -> tuple[int, int]:
    """``(out_h, out_w)`` of a window sliding over an input whose last two axes are (H, W).

    ``out = (H + 2*pad - window) / stride + 1`` per axis; refused (``ValueError``) when the
    window is larger than the padded input or the stride does not divide the span evenly.
    ``names`` and ``what`` (the input's name) word the message in the caller's terms.
    """
    sizes = []
    for axis, (letter, length) in enumerate(zip("HW", input_shape[-2:])):
        padded = length + 2 * pad[axis]
        window_arg, symbol = names.window[axis], names.symbol[axis]
        window_shown = window[axis] if names.window[0] != names.window[1] else _shown(window)
        if window[axis] > padded:
            raise ValueError(
                f"{window_arg} must fit in the padded input: {symbol} <= {letter} + "
                f"2*{names.pad} = {padded}; got {window_arg}={window_shown} with "
                f"{names.pad}={_shown(pad)} for {what} of shape {tuple(input_shape)}.")
        span = padded - window[axis]
        if span % stride[axis]:
            s = stride[axis]
            raise ValueError(
                f"{names.stride} must divide ({letter} + 2*{names.pad} - {symbol}) = {span} "
                f"evenly; got {names.stride}={_shown(stride)}, which gives out_"
                f"{letter.lower()} = {span}/{s} + 1 = {span / s + 1:g} for {what} of shape "
                f"{tuple(input_shape)} with {window_arg}={window_shown} and "
                f"{names.pad}={_shown(pad)} (the last {span % s} "
                f"{'row' if letter == 'H' else 'column'}{'s' if span % s > 1 else ''} would "
                f"be left out).")
        sizes.append(span // stride[axis] + 1)
    return sizes[0], sizes[1]


def _images(name: str, value) -> np.ndarray:
    a = np.asarray(value)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers (bool, int or float); got an array of "
                        f"dtype {a.dtype}.")
    if a.ndim != 4:
        raise ValueError(f"{name} must be a 4-D array of shape (N, C, H, W); got an array of "
                         f"shape {a.shape}.")
    return a


def _window_args(filter_h, filter_w, stride, pad):
    return ((check_int("filter_h", filter_h, minimum=1), check_int("filter_w", filter_w,
                                                                   minimum=1)),
            as_pair("stride", stride, minimum=1), as_pair("pad", pad, minimum=0))

def _image_shape(input_shape) -> tuple[int, int, int, int]:
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
    if shape is None or len(shape) != 4:
        raise ValueError(f"input_shape must be the (N, C, H, W) of the images; got "
                         f"{input_shape!r}.")
    # An empty batch (N = 0) is an empty batch of images; an image needs C, H, W >= 1.
    N, C, H, W = (check_int(f"input_shape[{k}]", v, minimum=int(k > 0))
                  for k, v in enumerate(shape))
    return N, C, H, W


def unfold(input_data: np.ndarray, filter_h: int, filter_w: int, stride=1,
           pad=0) -> np.ndarray:
    """Every window of each image as a column: im2col in PyTorch's ``unfold`` layout.

    Returns ``cols`` of shape ``(N, C*filter_h*filter_w, out_h*out_w)``, C-contiguous, with
    ``cols[n, (c*filter_h + i)*filter_w + j, y*out_w + x] = padded[n, c, y*sh + i, x*sw + j]``:
    sample n's matrix is the transpose of its rows of ``im2col``. A convolution is then
    ``W.reshape(out_channels, -1) @ cols``, whose (N, out_channels, out_h*out_w) result is
    already NCHW: no reordering copy, which is why Conv2D uses this layout.
    """
    x = _images("input_data", input_data)
    window, stride, pad = _window_args(filter_h, filter_w, stride, pad)
    out_h, out_w = output_size(x.shape, window, stride, pad)
    (fh, fw), (sh, sw), (ph, pw) = window, stride, pad
    N, C = x.shape[:2]
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
    # Each offset (i, j) copies the whole batch's (out_h, out_w) grid of pixels it touches:
    # filter_h*filter_w large copies instead of out_h*out_w small ones.
    cols = np.empty((N, C, fh, fw, out_h, out_w), dtype=x.dtype)
    for i in range(fh):
        rows = slice(i, i + sh * (out_h - 1) + 1, sh)
        for j in range(fw):
            cols[:, :, i, j] = padded[:, :, rows, j:j + sw * (out_w - 1) + 1:sw]
    return cols.reshape(N, C * fh * fw, out_h * out_w)


def fold(cols: np.ndarray, input_shape: tuple, filter_h: int, filter_w: int, stride=1,
         pad=0) -> np.ndarray:
    """The adjoint of ``unfold``: add each entry of ``cols`` onto the pixel it came from.

    ``cols``: (N, C*filter_h*filter_w, out_h*out_w) in ``unfold``'s layout; returns an
    (N, C, H, W) array, C-contiguous, in ``cols``' dtype: overlapping windows add up, the
    padding is dropped (as PyTorch's ``fold``).
    """
    N, C, H, W = shape = _image_shape(input_shape)
    window, stride, pad = _window_args(filter_h, filter_w, stride, pad)
    out_h, out_w = output_size(shape, window, stride, pad, what="input_shape")
    (fh, fw), (sh, sw), (ph, pw) = window, stride, pad
    cols = np.asarray(cols)
    expected = (N, C * fh * fw, out_h * out_w)
    if cols.shape != expected:
        raise ValueError(f"cols must have shape (N, C*filter_h*filter_w, out_h*out_w) = "
                         f"{expected} for input_shape {shape}; got shape {cols.shape}.")
    # Contiguous, so that each offset's (N, C, out_h, out_w) block below is read in order:
    # 2x faster than adding strided blocks when cols is a transposed view (from col2im).
    blocks = np.ascontiguousarray(cols).reshape(N, C, fh, fw, out_h, out_w)
    image = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for i in range(fh):
        rows = slice(i, i + sh * (out_h - 1) + 1, sh)
        for j in range(fw):
            image[:, :, rows, j:j + sw * (out_w - 1) + 1:sw] += blocks[:, :, i, j]
    if ph or pw:
        return np.ascontiguousarray(image[:, :, ph:ph + H, pw:pw + W])
    return image


def im2col(input_data: np.ndarray, filter_h: int, filter_w: int, stride=1, pad=0) -> np.ndarray:
    """Unroll every ``filter_h x filter_w`` window of a batch of images into a row.

    ``input_data``: (N, C, H, W). ``stride``, ``pad``: an int or an ``(h, w)`` pair; the
    padding is zeros. Returns ``col`` of shape ``(N*out_h*out_w, C*filter_h*filter_w)``,
    rows ordered (n, out_y, out_x), columns (c, i, j), in ``input_data``'s dtype, C-contiguous.
    """
    cols = unfold(input_data, filter_h, filter_w, stride, pad)
    N, K, P = cols.shape
    # One transposing copy into the (n, y, x) x (c, i, j) matrix. (reshape alone copies too,
    # except for N = C = 1, where it gives a view in Fortran order.)
    return np.ascontiguousarray(cols.transpose(0, 2, 1).reshape(N * P, K))


def col2im(col: np.ndarray, input_shape: tuple, filter_h: int, filter_w: int, stride=1,
           pad=0) -> np.ndarray:
    """The adjoint of ``im2col``: add each entry of ``col`` onto the pixel it came from.

    ``col``: (N*out_h*out_w, C*filter_h*filter_w) in ``im2col``'s layout; ``input_shape``:
    the (N, C, H, W) that ``im2col`` was given. Returns an (N, C, H, W) array in ``col``'s
    dtype: entries of overlapping windows are summed, those that fell on the padding are
    dropped. So ``<im2col(x), c> == <x, col2im(c)>`` for all ``x`` and ``c``.
    """
    N, C, H, W = shape = _image_shape(input_shape)
    window, stride, pad = _window_args(filter_h, filter_w, stride, pad)
    out_h, out_w = output_size(shape, window, stride, pad, what="input_shape")
    col = np.asarray(col)
    expected = (N * out_h * out_w, C * window[0] * window[1])
    if col.shape != expected:
        raise ValueError(f"col must have shape (N*out_h*out_w, C*filter_h*filter_w) = "
                         f"{expected} for input_shape {shape}; got shape {col.shape}.")
    return fold(col.reshape(N, out_h * out_w, -1).transpose(0, 2, 1), shape, *window, stride,
                pad)
