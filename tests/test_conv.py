"""Convolution: im2col against its definition, the layers against PyTorch and finite differences."""
import json

import numpy as np
import pytest

from zerodl.core.layers import conv as conv_layers
from zerodl.layers import AvgPool2D, Conv2D, MaxPool2D
from zerodl.functions import numerical_gradient
from zerodl.core.im2col import col2im, fold, im2col, unfold
from zerodl.initializers import INITIALIZERS

RNG = np.random.default_rng(0)

#: (x shape, filter (h, w), stride, pad): square and not, overlapping and not, padded, batch 1.
IM2COL_CASES = [
    ((2, 3, 5, 5), (3, 3), 1, 0),
    ((1, 1, 4, 6), (2, 3), 1, 1),
    ((2, 2, 7, 7), (3, 2), (2, 3), (1, 2)),
    ((3, 2, 6, 6), (2, 2), 2, 0),
    ((1, 4, 5, 3), (5, 3), 1, 0),
    ((2, 1, 3, 3), (1, 1), 1, 0),
    ((1, 2, 3, 3), (3, 3), 2, 1),
]


def _pair(v):
    return (v, v) if isinstance(v, int) else v


def _im2col_by_definition(x, fh, fw, stride, pad):
    """col[(n, y, x), (c, i, j)] = padded x[n, c, y*sh + i, x*sw + j], one entry at a time."""
    (sh, sw), (ph, pw) = _pair(stride), _pair(pad)
    N, C, H, W = x.shape
    out_h, out_w = (H + 2 * ph - fh) // sh + 1, (W + 2 * pw - fw) // sw + 1
    col = np.zeros((N * out_h * out_w, C * fh * fw), x.dtype)
    for n in range(N):
        for y in range(out_h):
            for xo in range(out_w):
                for c in range(C):
                    for i in range(fh):
                        for j in range(fw):
                            r, q = y * sh + i - ph, xo * sw + j - pw
                            if 0 <= r < H and 0 <= q < W:
                                col[(n * out_h + y) * out_w + xo, (c * fh + i) * fw + j] = \
                                    x[n, c, r, q]
    return col


def _col2im_by_definition(col, shape, fh, fw, stride, pad):
    """Each entry of col added back onto the input pixel it was read from."""
    (sh, sw), (ph, pw) = _pair(stride), _pair(pad)
    N, C, H, W = shape
    out_h, out_w = (H + 2 * ph - fh) // sh + 1, (W + 2 * pw - fw) // sw + 1
    x = np.zeros(shape, col.dtype)
    for n, y, xo, c, i, j in np.ndindex(N, out_h, out_w, C, fh, fw):
        r, q = y * sh + i - ph, xo * sw + j - pw
        if 0 <= r < H and 0 <= q < W:
            x[n, c, r, q] += col[(n * out_h + y) * out_w + xo, (c * fh + i) * fw + j]
    return x


@pytest.mark.parametrize("shape, window, stride, pad", IM2COL_CASES)
def test_im2col_and_col2im_equal_their_definitions(shape, window, stride, pad):
    x = RNG.standard_normal(shape)
    col = im2col(x, *window, stride, pad)
    np.testing.assert_array_equal(col, _im2col_by_definition(x, *window, stride, pad))
    assert col.flags.c_contiguous
    c = RNG.standard_normal(col.shape)
    np.testing.assert_allclose(col2im(c, shape, *window, stride, pad),
                               _col2im_by_definition(c, shape, *window, stride, pad),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape, window, stride, pad", IM2COL_CASES)
def test_col2im_is_the_adjoint_of_im2col(shape, window, stride, pad):
    x = RNG.standard_normal(shape)
    c = RNG.standard_normal(im2col(x, *window, stride, pad).shape)
    left = np.sum(im2col(x, *window, stride, pad) * c)
    right = np.sum(x * col2im(c, shape, *window, stride, pad))
    assert left == pytest.approx(right, rel=1e-12)


@pytest.mark.parametrize("shape, window, stride, pad", IM2COL_CASES)
def test_unfold_and_fold_are_im2col_per_sample_transposed_and_equal_pytorch(shape, window,
                                                                            stride, pad):
    x = RNG.standard_normal(shape)
    cols = unfold(x, *window, stride, pad)
    N, K, P = cols.shape
    np.testing.assert_array_equal(cols.transpose(0, 2, 1).reshape(N * P, K),
                                  im2col(x, *window, stride, pad))
    c = RNG.standard_normal(cols.shape)
    assert np.sum(cols * c) == pytest.approx(np.sum(x * fold(c, shape, *window, stride, pad)),
                                             rel=1e-12)
    torch = pytest.importorskip("torch")
    F, kw = torch.nn.functional, dict(kernel_size=window, stride=_pair(stride),
                                      padding=_pair(pad))
    np.testing.assert_array_equal(cols, F.unfold(torch.tensor(x), **kw).numpy())
    np.testing.assert_allclose(fold(c, shape, *window, stride, pad),
                               F.fold(torch.tensor(c), shape[2:], **kw).numpy(), rtol=1e-12,
                               atol=1e-12)


def test_im2col_hand_worked_picture_of_the_docstring():
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)       # a..i = 1..9
    np.testing.assert_array_equal(im2col(x, 2, 2), [[1, 2, 4, 5], [2, 3, 5, 6],
                                                    [4, 5, 7, 8], [5, 6, 8, 9]])
    # The centre pixel e = 5 is in all four windows: col2im of ones counts the windows.
    np.testing.assert_array_equal(col2im(np.ones((4, 4)), (1, 1, 3, 3), 2, 2)[0, 0],
                                  [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_im2col_and_col2im_keep_float32():
    x = RNG.standard_normal((2, 3, 6, 6)).astype(np.float32)
    col = im2col(x, 3, 3, stride=1, pad=1)
    assert col.dtype == np.float32
    assert col2im(col, x.shape, 3, 3, 1, 1).dtype == np.float32
    cols = unfold(x, 3, 3, 1, 1)
    assert cols.dtype == np.float32 and fold(cols, x.shape, 3, 3, 1, 1).dtype == np.float32


# --- the layers against PyTorch --------------------------------------------------------

#: (x shape, out_channels, kernel, stride, padding)
CONV_CASES = [
    ((1, 1, 6, 6), 2, 3, 1, 0),
    ((2, 3, 7, 10), 4, (3, 2), (2, 3), (1, 2)),
    ((3, 2, 8, 8), 5, 2, 2, 0),
    ((2, 4, 5, 5), 3, 5, 1, 2),
    ((1, 3, 4, 9), 2, (1, 3), (1, 2), (0, 1)),
]

#: (x shape, pool_size, stride, padding)
POOL_CASES = [
    ((1, 1, 4, 4), 2, None, 0),
    ((2, 3, 7, 8), (3, 2), (2, 2), (1, 1)),
    ((2, 2, 6, 6), 3, 1, 1),
    ((3, 4, 9, 6), (3, 2), (3, 2), 0),
]


def _conv_layer(shape, out_channels, kernel, stride, padding, dtype=np.float64):
    layer = Conv2D(shape[1], out_channels, kernel, stride, padding,
                   rng=np.random.default_rng(1), dtype=dtype)
    layer.params["b"][...] = RNG.standard_normal(out_channels)
    return layer


@pytest.mark.parametrize("shape, out_channels, kernel, stride, padding", CONV_CASES)
def test_conv2d_forward_and_gradients_equal_pytorch(shape, out_channels, kernel, stride,
                                                    padding):
    torch = pytest.importorskip("torch")
    layer = _conv_layer(shape, out_channels, kernel, stride, padding)
    x = RNG.standard_normal(shape)
    y = layer.forward(x)
    tx, tW, tb = (torch.tensor(a, requires_grad=True) for a in (x, layer.W, layer.b))
    ty = torch.nn.functional.conv2d(tx, tW, tb, stride=_pair(stride), padding=_pair(padding))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-6, atol=1e-12)
    dy = RNG.standard_normal(y.shape)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(layer.backward(dy), tx.grad.numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(layer.grads["W"], tW.grad.numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(layer.grads["b"], tb.grad.numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("layer_class, torch_name", [(MaxPool2D, "max_pool2d"),
                                                     (AvgPool2D, "avg_pool2d")])
@pytest.mark.parametrize("shape, pool_size, stride, padding", POOL_CASES)
def test_pooling_forward_and_gradient_equal_pytorch(layer_class, torch_name, shape, pool_size,
                                                    stride, padding):
    torch = pytest.importorskip("torch")
    layer = layer_class(pool_size, stride, padding)
    x = RNG.standard_normal(shape)
    y = layer.forward(x)
    tx = torch.tensor(x, requires_grad=True)
    ty = getattr(torch.nn.functional, torch_name)(
        tx, _pair(pool_size), None if stride is None else _pair(stride), _pair(padding))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-6, atol=1e-12)
    dy = RNG.standard_normal(y.shape)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(layer.backward(dy), tx.grad.numpy(), rtol=1e-6, atol=1e-12)


# --- finite differences ----------------------------------------------------------------

def _distinct(shape):
    """Values at least 0.01 apart, so that a max-pooling window's winner stays put under
    the finite differences' +-1e-4."""
    return (RNG.permutation(int(np.prod(shape))).reshape(shape) - 10.0) * 0.01


def _check_dx(layer, x):
    w = RNG.standard_normal(layer.forward(x).shape)
    dy = w.copy()
    dx = layer.backward(dy)
    np.testing.assert_array_equal(dy, w, err_msg="backward modified the incoming gradient")
    numeric = numerical_gradient(lambda v: float(np.sum(w * layer.forward(v))), x.copy())
    np.testing.assert_allclose(dx, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("shape, out_channels, kernel, stride, padding", CONV_CASES[:3])
def test_conv2d_backward_matches_finite_differences(shape, out_channels, kernel, stride,
                                                    padding):
    layer = _conv_layer(shape, out_channels, kernel, stride, padding)
    x = RNG.standard_normal(shape)
    _check_dx(layer, x)
    w = RNG.standard_normal(layer.forward(x).shape)
    layer.backward(w)
    for key in ("W", "b"):
        # numerical_gradient probes the layer's own array in place; the loss reads it there.
        numeric = numerical_gradient(lambda _: float(np.sum(w * layer.forward(x))),
                                     layer.params[key])
        np.testing.assert_allclose(layer.grads[key], numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("layer_class", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize("shape, pool_size, stride, padding", POOL_CASES[1:3])
def test_pooling_backward_matches_finite_differences(layer_class, shape, pool_size, stride,
                                                     padding):
    _check_dx(layer_class(pool_size, stride, padding), _distinct(shape))


def test_max_pool_gives_a_tied_windows_gradient_to_its_first_maximum():
    layer = MaxPool2D(2)
    x = np.array([[[[1.0, 1.0, 0.0, 3.0],
                    [1.0, 1.0, 3.0, 3.0]]]])
    np.testing.assert_array_equal(layer.forward(x), [[[[1.0, 3.0]]]])
    dx = layer.backward(np.array([[[[5.0, 7.0]]]]))
    np.testing.assert_array_equal(dx, [[[[5.0, 0.0, 0.0, 7.0],
                                         [0.0, 0.0, 0.0, 0.0]]]])


def test_pooling_hand_worked_values_and_padding():
    x = np.arange(16.0).reshape(1, 1, 4, 4) - 20.0      # all negative: -inf padding matters
    np.testing.assert_array_equal(MaxPool2D(2).forward(x)[0, 0], [[-15, -13], [-7, -5]])
    np.testing.assert_array_equal(MaxPool2D(3, 1, 1).forward(x)[0, 0, 0], [-15, -14, -13, -13])
    np.testing.assert_array_equal(AvgPool2D(2).forward(x)[0, 0], [[-17.5, -15.5], [-9.5, -7.5]])
    # The zero padding counts: the corner window holds -20, -19, -16, -15 and five zeros.
    assert AvgPool2D(3, 1, 1).forward(x)[0, 0, 0, 0] == pytest.approx(-70 / 9)


def test_max_pool_of_integers_pads_with_their_lowest_value():
    x = np.array([[[[-5, -7], [-9, -6]]]], dtype=np.int16)
    y = MaxPool2D(2, 1, 1).forward(x)
    assert y.dtype == np.int16
    np.testing.assert_array_equal(y[0, 0], [[-5, -5, -7], [-5, -5, -6], [-9, -6, -6]])


# --- dtype, chunks, config -------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: Conv2D(2, 3, 3, padding=1, rng=np.random.default_rng(0)),
                                  lambda: MaxPool2D(2), lambda: AvgPool2D(2)])
def test_float32_stays_float32(make):
    layer = make()
    x = RNG.standard_normal((2, 2, 6, 6)).astype(np.float32)
    y = layer.forward(x, training=True)
    dx = layer.backward(np.ones_like(y))
    assert (y.dtype, dx.dtype) == (np.float32, np.float32)
    assert y.flags.c_contiguous and dx.flags.c_contiguous
    assert all(g.dtype == np.float32 for g in layer.grads.values())


@pytest.mark.parametrize("layer", [Conv2D(2, 3, 3, padding=1), MaxPool2D(2), AvgPool2D(2)])
def test_an_empty_batch_gives_an_empty_batch(layer):
    y = layer.forward(np.zeros((0, 2, 6, 6), np.float32))
    assert y.shape == (0,) + layer.output_shape((2, 6, 6))
    assert layer.backward(y).shape == (0, 2, 6, 6)


@pytest.mark.parametrize("budget", [1, 2 * 36 * 18 * 8])      # one sample, then two, per chunk
@pytest.mark.parametrize("training", [False, True])
def test_chunked_batches_give_the_unchunked_results(monkeypatch, budget, training):
    layer = Conv2D(2, 3, 3, padding=1, rng=np.random.default_rng(0), dtype=np.float64)
    layer.params["b"][...] = RNG.standard_normal(3)
    x = RNG.standard_normal((5, 2, 6, 6))
    dy = RNG.standard_normal((5,) + layer.output_shape((2, 6, 6)))
    whole = [layer.forward(x, training=training), layer.backward(dy)]
    whole += [g.copy() for g in layer.grads.values()]
    monkeypatch.setattr(conv_layers, "IM2COL_BUDGET_BYTES", budget)
    assert len(conv_layers.sample_slices(5, 36 * 18 * 8)) > 1
    parts = [layer.forward(x, training=training), layer.backward(dy)]
    parts += [g.copy() for g in layer.grads.values()]
    for a, b in zip(whole, parts):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_kept_columns_and_rebuilt_columns_give_the_same_gradients():
    layer = Conv2D(2, 3, 3, rng=np.random.default_rng(0), dtype=np.float64)
    x, dy = RNG.standard_normal((2, 2, 5, 5)), RNG.standard_normal((2, 3, 3, 3))
    layer.forward(x, training=True)
    assert layer.cols is not None
    kept = [layer.backward(dy)] + [g.copy() for g in layer.grads.values()]
    layer.forward(x, training=False)
    assert layer.cols is None                   # nothing large kept at inference
    for a, b in zip(kept, [layer.backward(dy)] + list(layer.grads.values())):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("layer", [
    Conv2D(3, 4, (3, 2), stride=(2, 1), padding=(1, 0), init=0.01, rng=np.random.default_rng(0)),
    Conv2D(1, 30, 5), MaxPool2D(2), MaxPool2D((3, 2), stride=1, padding=1), AvgPool2D(3, 3, 1)])
def test_get_config_is_json_and_rebuilds_the_layer(layer):
    config = json.loads(json.dumps(layer.get_config()))
    kind = config.pop("type")
    rebuilt = {"Conv2D": Conv2D, "MaxPool2D": MaxPool2D, "AvgPool2D": AvgPool2D}[kind](**config)
    assert rebuilt.get_config() == layer.get_config()
    assert layer.buffers == {}
    for name in ("kernel_size", "pool_size", "stride", "padding"):
        if hasattr(layer, name):
            assert isinstance(getattr(layer, name), tuple) and len(getattr(layer, name)) == 2


def test_output_shape_and_build_agree_with_forward():
    for layer in (Conv2D(3, 4, (3, 2), stride=(2, 3), padding=(1, 2)),
                  MaxPool2D((3, 2), (2, 2), (1, 1)), AvgPool2D((1, 2))):
        layer.build((3, 7, 10))
        y = layer.forward(np.zeros((2, 3, 7, 10), np.float32))
        assert layer.output_shape((3, 7, 10)) == y.shape[1:]


def test_conv2d_weights_are_seeded_drawn_with_fan_in_and_biases_start_at_zero():
    a = Conv2D(8, 64, 5, rng=np.random.default_rng(3))
    b = Conv2D(8, 64, 5, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.W, b.W)
    assert a.W.shape == (64, 8, 5, 5) and a.W.dtype == np.float32 and not a.b.any()
    assert a.W.std() == pytest.approx(np.sqrt(2 / (8 * 25)), rel=0.05)     # "he"
    # Filter o is column o of the initialiser's (fan_in, out) matrix.
    drawn = INITIALIZERS.get("he")(np.random.default_rng(3), 8 * 25, 64)
    np.testing.assert_array_equal(a.W[7].ravel(), drawn[:, 7])
    assert Conv2D(8, 64, 5, init=0.01).W.std() == pytest.approx(0.01, rel=0.05)


@pytest.mark.parametrize("name", list(INITIALIZERS))
def test_every_initializer_builds_a_conv2d(name):
    layer = Conv2D(2, 3, (2, 3), init=name, rng=np.random.default_rng(0))
    assert layer.W.shape == (3, 2, 2, 3) and layer.get_config()["init"] == name


# --- bad input -------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, words", [
    (lambda: Conv2D(1, 2, 7, padding=1).forward(np.zeros((1, 1, 4, 4))), ValueError,
     r"kernel_size must fit in the padded input: kernel_h <= H \+ 2\*padding = 6; got "
     r"kernel_size=7 with padding=1 for x of shape \(1, 1, 4, 4\)"),
    (lambda: Conv2D(1, 2, 2, stride=2).forward(np.zeros((1, 1, 29, 28))), ValueError,
     r"stride must divide \(H \+ 2\*padding - kernel_h\) = 27 evenly; got stride=2, which "
     r"gives out_h = 27/2 \+ 1 = 14.5"),
    (lambda: im2col(np.zeros((1, 1, 29, 29)), 2, 2, stride=2), ValueError,
     r"stride must divide \(H \+ 2\*pad - filter_h\) = 27 evenly; got stride=2, which gives "
     r"out_h = 27/2 \+ 1 = 14.5 for input_data of shape \(1, 1, 29, 29\) with filter_h=2 "
     r"and pad=0 \(the last 1 row would be left out\)"),
    (lambda: im2col(np.zeros((1, 1, 5, 3)), 3, 4, pad=0), ValueError,
     r"filter_w must fit in the padded input: filter_w <= W \+ 2\*pad = 3; got filter_w=4"),
    (lambda: Conv2D(3, 2, 3).forward(np.zeros((2, 1, 5, 5))), ValueError,
     r"x must have in_channels = 3 channels .*; got 1 channels in shape \(2, 1, 5, 5\)"),
    (lambda: Conv2D(1, 2, 3).forward(np.zeros((28, 28))), ValueError,
     r"x must be a 4-D array \(N, C, H, W\).*; got shape \(28, 28\)"),
    (lambda: MaxPool2D(2).forward(np.zeros((3, 5, 5))), ValueError,
     r"x must be a 4-D array .*got shape \(3, 5, 5\) \(one image"),
    (lambda: MaxPool2D(2).forward(np.zeros((1, 1, 5, 4))), ValueError,
     r"stride must divide \(H \+ 2\*padding - pool_h\) = 3 evenly; got stride=2"),
    (lambda: AvgPool2D(2, padding=2), ValueError,
     r"padding must be at most half of pool_size \(2, 2\).*; got padding=\(2, 2\)"),
    (lambda: im2col(np.zeros((1, 1, 4, 4)), 2, 2, stride=0), ValueError,
     r"stride must be an integer >= 1; got 0"),
    (lambda: Conv2D(1, 2, (3, 0)), ValueError, r"kernel_size\[1\] must be an integer >= 1; got 0"),
    (lambda: Conv2D(1, 2, (3, 3, 3)), ValueError,
     r"kernel_size must be an integer >= 1 or a pair \(h, w\) of them; got \(3, 3, 3\)"),
    (lambda: Conv2D(1, 2, 3, padding=-1), ValueError, r"padding must be an integer >= 0; got -1"),
    (lambda: Conv2D(1, 2, 2.5), TypeError, r"kernel_size must be an integer >= 1 or a pair"),
    (lambda: Conv2D(0, 2, 3), ValueError, r"in_channels must be an integer >= 1; got 0"),
    (lambda: Conv2D(3, 2, 3).output_shape((1, 5, 5)), ValueError,
     r"input_shape must have in_channels = 3 channels first .*; got 1 in \(1, 5, 5\)"),
    (lambda: Conv2D(3, 2, 3).build((2, 3, 5, 5)), ValueError,
     r"input_shape must be \(C, H, W\), one sample's shape without the batch axis"),
    (lambda: col2im(np.zeros((4, 3)), (1, 1, 3, 3), 2, 2), ValueError,
     r"col must have shape \(N\*out_h\*out_w, C\*filter_h\*filter_w\) = \(4, 4\) .*got "
     r"shape \(4, 3\)"),
    (lambda: fold(np.zeros((1, 4, 3)), (1, 1, 3, 3), 2, 2), ValueError,
     r"cols must have shape \(N, C\*filter_h\*filter_w, out_h\*out_w\) = \(1, 4, 4\) .*got "
     r"shape \(1, 4, 3\)"),
    (lambda: col2im(np.zeros((4, 4)), (1, 1, 3), 2, 2), ValueError,
     r"input_shape must be the \(N, C, H, W\) of the images; got \(1, 1, 3\)"),
    (lambda: Conv2D(1, 2, 3).backward(np.zeros((1, 2, 3, 3))), RuntimeError,
     r"Conv2D.backward must follow a forward"),
    (lambda: MaxPool2D(2).backward(np.zeros((1, 1, 2, 2))), RuntimeError,
     r"MaxPool2D.backward must follow a forward"),
])
def test_bad_input_is_refused_with_the_argument_rule_and_value(call, error, words):
    with pytest.raises(error, match=words):
        call()


@pytest.mark.parametrize("layer", [Conv2D(1, 2, 3), MaxPool2D(2), AvgPool2D(2)])
def test_backward_refuses_a_gradient_of_the_wrong_shape(layer):
    layer.forward(np.zeros((2, 1, 6, 6), np.float32))
    with pytest.raises(ValueError, match=r"dy must have the shape \(2, \d, \d, \d\) of .*"
                                         r"last output; got shape \(2, 5\)"):
        layer.backward(np.zeros((2, 5), np.float32))
