"""The convolution views (tools/conv_views.py, ``zerodl show filters|feature-maps``) and the
convolutional bench rows (tools/benchmarks/conv_rows.py)."""
import numpy as np
import pytest
from matplotlib.image import imread

import zerodl
from zerodl.cli import main
from zerodl.tools.benchmarks import conv_rows
from zerodl.tools.conv_views import (conv_layers, feature_maps, filter_tiles,
                                     plot_feature_maps, plot_filters)


def test_filter_tiles_scale_each_filter_to_0_1_by_hand():
    W = np.zeros((3, 2, 2, 2))
    W[0, 0] = [[1, 2], [3, 5]]            # channel mean: [[0.5, 1], [1.5, 2.5]]
    W[1] = -1.0                           # constant: drawn mid-grey
    W[2, 1] = [[0, -4], [4, 0]]           # mean [[0, -2], [2, 0]]
    tiles = filter_tiles(W)
    assert tiles.shape == (3, 2, 2)
    np.testing.assert_allclose(tiles[0], [[0, 0.25], [0.5, 1]])
    np.testing.assert_allclose(tiles[1], 0.5)
    np.testing.assert_allclose(tiles[2], [[0.5, 0], [1, 0.5]])
    with pytest.raises(ValueError, match=r"W must be 4-D .*; got shape \(3, 4\)"):
        filter_tiles(np.zeros((3, 4)))


def test_feature_maps_are_each_convolutions_output():
    model = zerodl.deep_convnet(seed=0)
    image = np.random.default_rng(0).random((1, 28, 28), dtype=np.float32)
    maps = feature_maps(model, image)
    assert [m.shape for _, m in maps] == [(16, 28, 28), (16, 28, 28), (32, 14, 14),
                                          (32, 16, 16), (64, 8, 8), (64, 8, 8)]
    assert maps[3][0] == "conv 4: 32 filters 3x3"
    first = conv_layers(model)[0]
    np.testing.assert_allclose(maps[0][1], first.forward(image[None])[0])
    with pytest.raises(ValueError, match=r"image must be one image \(C, H, W\); got shape"):
        feature_maps(model, image[None])


def test_a_network_without_convolutions_is_refused():
    with pytest.raises(ValueError, match="model must have a Conv2D layer"):
        conv_layers(zerodl.mlp([784, 5, 10], seed=0))


def test_the_plots_write_pngs(tmp_path):
    model = zerodl.simple_convnet(seed=0)
    W = conv_layers(model)[0].W
    fig = plot_filters([W, 2 * W], ["before", "after"], path=tmp_path / "f.png")
    assert len(fig.subfigs) == 2 and len(fig.subfigs[0].axes) == 30
    assert imread(tmp_path / "f.png").ndim == 3
    fig = plot_feature_maps(model, np.zeros((1, 28, 28), np.float32), path=tmp_path / "m.png",
                            max_maps=12)
    assert [len(s.axes) for s in fig.subfigs] == [1, 20]     # 12 maps: two rows of 10 places
    with pytest.raises(ValueError, match="weights and titles must be non-empty"):
        plot_filters([W], ["a", "b"])


def test_show_filters_and_feature_maps_on_a_saved_model(tmp_path, capsys, mnist_dir):
    model = zerodl.simple_convnet(seed=1)
    model.save(tmp_path / "cnn.npz")
    for kind in ("filters", "feature-maps"):
        out = tmp_path / f"{kind}.png"
        assert main(["show", kind, "--model", str(tmp_path / "cnn.npz"), "--data-dir",
                     str(mnist_dir), "--out", str(out)]) == 0
        assert imread(out).ndim == 3
    assert "trained" not in capsys.readouterr().out
    zerodl.mlp([784, 5, 10], seed=0).save(tmp_path / "mlp.npz")
    assert main(["show", "filters", "--model", str(tmp_path / "mlp.npz")]) == 2
    assert "--model must have a Conv2D layer" in capsys.readouterr().err


def test_show_filters_trains_a_short_run(tmp_path, capsys, mnist_dir):
    out = tmp_path / "f.png"
    assert main(["show", "filters", "--n-train", "200", "--iters", "3", "--data-dir",
                 str(mnist_dir), "--out", str(out)]) == 0
    assert "trained simple-cnn (adam, lr 0.001) on 200 images; on 1000 test images: " \
        "accuracy 0." in \
        capsys.readouterr().out
    assert imread(out).ndim == 3


def test_conv_step_flops_by_hand():
    B = 10
    conv = 2 * B * 30 * 25 * 24 * 24           # (30, 25) @ (25, B*576)
    dense = 2 * B * 4320 * 100 + 2 * B * 100 * 10
    assert conv_rows.conv_step_flops(zerodl.simple_convnet(seed=0), B) == 2 * conv + 3 * dense


def test_torch_twin_computes_the_same_scores():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
    for build in (zerodl.simple_convnet, zerodl.deep_convnet):
        model = build(seed=0)
        net = conv_rows.torch_twin(model).eval()
        with torch.no_grad():
            scores = net(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(scores, model.layer_outputs(x)[-1], rtol=1e-4, atol=1e-5)


def test_bench_conv_gives_rows_in_the_suites_format(monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setattr(conv_rows, "CONV_CONFIGS",
                        [("tiny", zerodl.simple_convnet, 5, 2)])
    x = np.random.default_rng(0).random((20, 784), dtype=np.float32)
    d = np.arange(20) % 10
    rows = conv_rows.bench_conv(x, d, rounds=2, use_torch=True)
    row = rows[0]
    assert row["samples_per_s"]["plain"] is None and row["zerodl_vs_plain"] is None
    assert len(row["raw_samples_per_s"]["zerodl"]) == len(row["raw_samples_per_s"]["torch"]) == 2
    assert row["zerodl_vs_torch"] == pytest.approx(
        row["samples_per_s"]["zerodl"] / row["samples_per_s"]["torch"])
    assert row["gflops"]["zerodl"] == pytest.approx(
        row["samples_per_s"]["zerodl"] * row["flops_per_sample"] / 1e9)


@pytest.mark.parametrize("argv, fragment", [
    (["show", "filters", "--dataset", "xor"], "arch 'simple-cnn' must train on mnist"),
    (["show", "feature-maps", "--layers", "784-10-10"], "layers is a setting of arch 'mlp'"),
])
def test_conv_views_refuse_mlp_settings_in_one_line(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1

