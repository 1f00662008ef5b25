"""Conv2D's backward by a transposed convolution (stride 1, out_channels <= in_channels)."""
import numpy as np
import pytest


@pytest.mark.parametrize("C, O, padding", [(4, 3, 1), (3, 3, 2), (2, 2, 0), (2, 1, (0, 2))])
def test_conv_dx_by_transposed_convolution_equals_fold(C, O, padding, monkeypatch):
    """Stride 1 with out_channels <= in_channels: backward's dx comes from a convolution of
    dy; it must equal the adjoint of unfold, also when the batch goes in chunks."""
    from zerodl.core.im2col import fold
    from zerodl.core.layers import conv as conv_module
    rng = np.random.default_rng(0)
    layer = conv_module.Conv2D(C, O, 3, padding=padding, rng=rng, dtype=np.float64)
    assert layer._dx_by_transposed_conv()
    x = rng.standard_normal((5, C, 7, 6))
    y = layer.forward(x, training=True)
    dy = rng.standard_normal(y.shape)
    expected = fold(np.matmul(layer.W.reshape(O, -1).T, dy.reshape(5, O, -1)), x.shape, 3, 3,
                    1, layer.padding)
    np.testing.assert_allclose(layer.backward(dy), expected, rtol=1e-12, atol=1e-12)
    monkeypatch.setattr(conv_module, "IM2COL_BUDGET_BYTES", 1)     # one sample a chunk
    layer.forward(x, training=True)
    np.testing.assert_allclose(layer.backward(dy), expected, rtol=1e-12, atol=1e-12)
    assert not conv_module.Conv2D(1, 16, 3, padding=1)._dx_by_transposed_conv()
    assert not conv_module.Conv2D(4, 4, 3, stride=2)._dx_by_transposed_conv()
