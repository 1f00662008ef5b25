"""zerodl.onnx: the exported graph is valid ONNX and computes what ``model.predict`` does.

onnxruntime runs every exported model; its outputs must equal ``model.predict``'s to 1e-5
absolute: every layer type on random inputs, in real ``zerodl.Sequential`` models (batch
normalisation with parameters and running statistics far from their start), and every
architecture zerodl ships, briefly trained, on the whole MNIST test set.
"""
import re
import subprocess
import sys
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import zerodl                                                     # noqa: E402
from zerodl.datasets import load_mnist                            # noqa: E402
from zerodl.layers import (ACTIVATIONS, LAYER_TYPES, AvgPool2D, BatchNormalization,  # noqa: E402
                           Conv2D, Dense, Dropout, Flatten, Layer, LeakyReLU, MaxPool2D, Step)
from zerodl.losses import get_output                              # noqa: E402
from zerodl.cli import main                                       # noqa: E402
from zerodl.cli.export_onnx import onnx_bench_row                 # noqa: E402
from zerodl.onnx import CONVERTERS, OUTPUTS, export, register_converter, to_onnx  # noqa: E402
from zerodl.tools.benchmarks.onnx_rows import bench_onnxruntime   # noqa: E402
from zerodl.tools.benchmarks.onnx_rows import row_text as onnx_row_text  # noqa: E402

ATOL = 1e-5


def run(proto, x: np.ndarray) -> np.ndarray:
    """onnxruntime's output ``y`` for input ``x``, on one thread."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(proto.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    return session.run(["y"], {"x": x})[0]


def exported(model, tmp_path, **kwargs):
    """``export`` to a file, then the file read back and checked by onnx.checker."""
    export(model, tmp_path / "model.onnx", **kwargs)
    proto = onnx.load(tmp_path / "model.onnx")
    onnx.checker.check_model(proto, full_check=True)
    return proto


# -- zerodl's own layers -----------------------------------------------------------------------
@pytest.mark.parametrize("output", list(OUTPUTS))
@pytest.mark.parametrize("activation", ACTIVATIONS.names())
def test_every_activation_and_output_equals_predict(activation, output, tmp_path):
    model = zerodl.mlp([6, 9, 7, 4], activation=activation, output=output, seed=1)
    proto = exported(model, tmp_path)
    x = np.random.default_rng(2).normal(size=(50, 6)).astype(np.float32)
    np.testing.assert_allclose(run(proto, x), model.predict(x), rtol=0, atol=ATOL)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_leaky_relu_slope_and_the_models_dtype_are_kept(dtype, tmp_path):
    rng = np.random.default_rng(3)
    model = zerodl.Sequential([Dense(5, 8, rng=rng, dtype=dtype), LeakyReLU(0.3),
                               Dense(8, 3, rng=rng, dtype=dtype), Step(),
                               Dense(3, 2, rng=rng, dtype=dtype)], output="sigmoid")
    proto = exported(model, tmp_path)
    assert proto.graph.input[0].type.tensor_type.elem_type == \
        onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    x = rng.normal(size=(40, 5)).astype(dtype)
    atol = ATOL if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(run(proto, x), model.predict(x), rtol=0, atol=atol)


def test_names_shapes_and_a_free_batch_axis(tmp_path):
    model = zerodl.mlp([3, 4, 2], seed=0)
    proto = exported(model, tmp_path)
    (x,), (y,) = proto.graph.input, proto.graph.output
    assert (x.name, y.name) == ("x", "y")
    shape = lambda value: [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
    assert shape(x) == ["N", 3] and shape(y) == ["N", 2]
    assert [node.op_type for node in proto.graph.node] == ["Gemm", "Relu", "Gemm", "Softmax"]
    softmax = proto.graph.node[-1]
    assert onnx.helper.get_attribute_value(softmax.attribute[0]) == -1
    for n in (1, 1000):
        x = np.random.default_rng(n).normal(size=(n, 3)).astype(np.float32)
        np.testing.assert_allclose(run(proto, x), model.predict(x), rtol=0, atol=ATOL)


def test_every_activation_has_a_converter():
    for name, cls in ACTIVATIONS.items():
        assert cls.__name__ in CONVERTERS, f"no ONNX converter for activation {name!r}"


# -- every layer type, in real models ---------------------------------------------------------
def randomised(model, seed=0):
    """``model`` with its BatchNormalization parameters and running statistics made far
    from the identity they start as, so that a misread attribute shows."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, BatchNormalization):
            C = layer.n_features
            layer.params["gamma"][...] = rng.uniform(0.5, 2, C)
            layer.params["beta"][...] = rng.normal(size=C)
            layer.buffers["running_mean"][...] = rng.normal(size=C)
            layer.buffers["running_var"][...] = rng.uniform(0.01, 3, C)
    return model


def passed_on(n: int) -> Dense:
    """A Dense layer that passes its ``n`` inputs on unchanged (a Sequential needs one layer
    with parameters)."""
    dense = Dense(n, n)
    dense.params["W"][...] = np.eye(n)
    return dense


def check_equals_predict(model, x, tmp_path, **kwargs):
    """The exported model, whose onnxruntime output equals ``model.predict(x)``."""
    proto = exported(model, tmp_path, **kwargs)
    got, want = run(proto, x), model.predict(x)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)
    return proto


def test_every_layer_type_in_a_small_convolutional_network(tmp_path):
    rng = np.random.default_rng(4)
    layers = [Conv2D(3, 4, (3, 3), padding=1, rng=rng), BatchNormalization(epsilon=1e-3),
              zerodl.ReLU(), MaxPool2D(2), Conv2D(4, 2, (4, 2), stride=(2, 1), padding=(1, 0),
                                           rng=rng),
              AvgPool2D(3, stride=1, padding=1), Dropout(0.5), Flatten(),
              Dense(2 * 2 * 3, 5, rng=rng), BatchNormalization(), zerodl.Tanh(),
              Dense(5, 4, rng=rng)]
    model = randomised(zerodl.Sequential(layers, output="softmax", input_shape=(3, 8, 8)))
    x = rng.normal(size=(6, 3, 8, 8)).astype(np.float32)
    proto = check_equals_predict(model, x, tmp_path)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["N", 3, 8, 8]
    ops = [node.op_type for node in proto.graph.node]
    assert ops == ["Conv", "BatchNormalization", "Relu", "MaxPool", "Conv", "AveragePool",
                   "Flatten", "Gemm", "BatchNormalization", "Tanh", "Gemm", "Softmax"]


def test_the_converters_read_the_layers_own_attributes(tmp_path):
    """Pairs that differ between h and w, and an epsilon far from the default."""
    rng = np.random.default_rng(7)
    layers = [Conv2D(2, 3, (3, 2), stride=(2, 1), padding=(1, 0), rng=rng),
              BatchNormalization(epsilon=0.5), MaxPool2D((2, 3), stride=(1, 2), padding=(1, 1)),
              AvgPool2D((2, 3), stride=(2, 1), padding=(1, 0)), Flatten(), Dense(24, 2, rng=rng)]
    model = randomised(zerodl.Sequential(layers, output="identity", input_shape=(2, 9, 8)))
    proto = check_equals_predict(model, rng.normal(size=(3, 2, 9, 8)).astype(np.float32),
                                 tmp_path)
    attributes = {node.op_type: {a.name: onnx.helper.get_attribute_value(a)
                                 for a in node.attribute} for node in proto.graph.node}
    assert attributes["Conv"] == {"kernel_shape": [3, 2], "strides": [2, 1],
                                  "pads": [1, 0, 1, 0]}
    assert attributes["BatchNormalization"]["epsilon"] == pytest.approx(0.5)
    assert attributes["MaxPool"] == {"kernel_shape": [2, 3], "strides": [1, 2],
                                     "pads": [1, 1, 1, 1]}
    assert attributes["AveragePool"] == {"kernel_shape": [2, 3], "strides": [2, 1],
                                         "pads": [1, 0, 1, 0], "count_include_pad": 1}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_normalization_divides_by_the_root_of_running_var_plus_epsilon(dtype, tmp_path):
    """One feature, worked by hand: (3 - 1) / sqrt(3 + 1) * 2 + 0.5 = 2.5."""
    bn = BatchNormalization(epsilon=1.0, n_features=1, dtype=dtype)
    bn.params["gamma"][...], bn.params["beta"][...] = 2.0, 0.5
    bn.buffers["running_mean"][...], bn.buffers["running_var"][...] = 1.0, 3.0
    model = zerodl.Sequential([Dense(1, 1, init=1.0, dtype=dtype), bn], output="identity")
    model.layers[0].params["W"][...] = 1.0
    proto = check_equals_predict(model, np.array([[3.0]], dtype), tmp_path)
    assert run(proto, np.array([[3.0]], dtype))[0, 0] == pytest.approx(2.5)


@pytest.mark.parametrize("padding", [(0, 0), (1, 1), (1, 0)])
def test_max_pooling_never_picks_the_padding(padding, tmp_path):
    """All inputs negative: a zero padding would win every border window."""
    x = -np.random.default_rng(5).uniform(1, 2, size=(2, 3, 5, 6)).astype(np.float32)
    out_hw = {(0, 0): 2 * 3, (1, 1): 3 * 4, (1, 0): 3 * 3}[padding]
    model = zerodl.Sequential([MaxPool2D((3, 2), stride=2, padding=padding), Flatten(),
                               passed_on(3 * out_hw)],
                              output="identity", input_shape=(3, 5, 6))
    proto = check_equals_predict(model, x, tmp_path)
    assert (run(proto, x) < 0).all()


@pytest.mark.parametrize("padding", [(0, 0), (1, 1), (0, 1)])
def test_average_pooling_counts_the_padding_as_zeros(padding, tmp_path):
    x = np.ones((1, 2, 4, 4), np.float32)
    out_hw = {(0, 0): 2 * 2, (1, 1): 4 * 4, (0, 1): 2 * 4}[padding]
    model = zerodl.Sequential([AvgPool2D(3, stride=1, padding=padding), Flatten(),
                               passed_on(2 * out_hw)],
                              output="identity", input_shape=(2, 4, 4))
    proto = check_equals_predict(model, x, tmp_path)
    if padding == (1, 1):                   # a corner window: 4 ones of 9 places
        assert run(proto, x)[0, 0] == pytest.approx(4 / 9)


@pytest.mark.parametrize("shape", [(7, 4), (3, 4, 5, 2)])
def test_batch_normalization_on_features_and_on_channels(shape, tmp_path):
    rng = np.random.default_rng(6)
    n = int(np.prod(shape[1:]))
    layers = [BatchNormalization(epsilon=1e-5)] + ([Flatten()] if len(shape) == 4 else [])
    layers.append(passed_on(n))
    model = randomised(zerodl.Sequential(layers, output="identity", input_shape=shape[1:]))
    check_equals_predict(model, rng.normal(size=shape).astype(np.float32), tmp_path)


def test_flatten_is_c_order_and_dropout_adds_nothing(tmp_path):
    x = np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2)
    model = zerodl.Sequential([Dropout(0.9), Flatten(), Dropout(0.5), passed_on(12)],
                              output="identity", input_shape=(3, 2, 2))
    proto = check_equals_predict(model, x, tmp_path)
    assert [node.op_type for node in proto.graph.node] == ["Flatten", "Gemm"]
    np.testing.assert_array_equal(run(proto, x), x.reshape(2, 12))


def test_every_layer_type_has_a_converter():
    assert sorted(set(LAYER_TYPES) - set(CONVERTERS)) == []


# -- refusals ----------------------------------------------------------------------------------
class Mystery(Layer):
    """A layer zerodl.onnx has no converter for: ``y = 2 x``."""

    keeps_shape = True

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, x, training=False):
        return 2 * x

    def backward(self, dy):
        return 2 * dy


def stand_in(layers, output="identity", dtype=np.float32):
    """A model as export reads one, without an ``input_shape``: ``layers``, ``output``,
    ``dtype``."""
    return SimpleNamespace(layers=layers, output=get_output(output), dtype=np.dtype(dtype))


def test_a_layer_without_a_converter_is_named_and_nothing_is_written(tmp_path):
    model = zerodl.Sequential([Dense(2, 2), Mystery()], output="identity")
    target = tmp_path / "model.onnx"
    with pytest.raises(ValueError, match=r"model.layers\[1\] must be a layer with an ONNX "
                                         r"converter \(.*Dense.*\); got a Mystery\. Write one "
                                         r"with zerodl.onnx.register_converter\('Mystery'\)"):
        export(model, target)
    assert list(tmp_path.iterdir()) == []
    target.write_bytes(b"old")
    with pytest.raises(ValueError, match="Mystery"):
        export(model, target)
    assert target.read_bytes() == b"old" and len(list(tmp_path.iterdir())) == 1


def test_a_folder_is_refused_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="path must be a regular file or a new one; got .*, "
                                         "which is a folder"):
        export(zerodl.Sequential([Dense(2, 2), Mystery()], output="identity"), tmp_path)
    with pytest.raises(FileNotFoundError, match="path must be in an existing folder"):
        export(zerodl.mlp([2, 2]), tmp_path / "missing" / "model.onnx")


def test_a_registered_converter_is_used(tmp_path):
    @register_converter("Mystery")
    def double(layer, graph, x):
        return graph.add("Mul", [x, graph.weight("two", [2.0])])
    try:
        model = zerodl.Sequential([Dense(2, 2), Mystery()], output="identity")
        proto = check_equals_predict(model, np.ones((3, 2), np.float32), tmp_path)
        assert [node.op_type for node in proto.graph.node] == ["Gemm", "Mul"]
    finally:
        del CONVERTERS["Mystery"]


@pytest.mark.parametrize("opset, error, message", [
    (12, ValueError, r"opset must be an integer >= 13; got 12\."),
    ("17", TypeError, r"opset must be an integer >= 13; got '17'\."),
    (10_000, ValueError, r"opset must be at most \d+, the newest this onnx .* knows; got 10000"),
])
def test_bad_opsets(opset, error, message):
    with pytest.raises(error, match=message):
        to_onnx(zerodl.mlp([2, 2]), opset=opset)


def test_other_refusals():
    model = zerodl.mlp([2, 3, 2], seed=0)
    model.layers[0].W[0, 0] = np.nan            # into the array: params[...] = would refuse
    with pytest.raises(ValueError, match=r"layers.0.W must hold only finite numbers"):
        to_onnx(model)
    with pytest.raises(ValueError, match=r"input_shape must be given for this model"):
        to_onnx(stand_in([Flatten(), Dense(4, 2)]))
    with pytest.raises(TypeError, match=r"input_shape must be the shape of one sample"):
        to_onnx(stand_in([Flatten(), Dense(4, 2)]), input_shape=4)
    assert to_onnx(stand_in([Flatten(), Dense(4, 2)]), input_shape=(2, 2)).graph.input
    with pytest.raises(ValueError, match=r"model.layers must pass on shapes that the next layer "
                                         r"takes; .*layers.1.Gemm.*between 5 and 2"):
        to_onnx(stand_in([Dense(3, 2), Dense(5, 2)]))


@pytest.mark.parametrize("opset", [13, 17, onnx.defs.onnx_opset_version()])
def test_opsets_from_13_to_the_newest(opset, tmp_path):
    model = zerodl.mlp([4, 5, 3], activation="leaky_relu", seed=0)
    proto = exported(model, tmp_path, opset=opset)
    assert proto.opset_import[0].version == opset
    x = np.random.default_rng(0).normal(size=(9, 4)).astype(np.float32)
    np.testing.assert_allclose(run(proto, x), model.predict(x), rtol=0, atol=ATOL)


# -- every architecture zerodl ships, on the whole MNIST test set --------------------------------
#: name -> (the model, whether it takes images, training samples, epochs). A little training:
#: enough that batch normalisation's running statistics and the weights are far from their
#: start; the accuracy floor shows the exported network is the trained one.
ARCHITECTURES = {
    "course 784-40-10": (lambda: zerodl.mlp([784, 40, 10], seed=0), False, 20_000, 0.85),
    "mlp batch_norm dropout": (lambda: zerodl.mlp([784, 50, 30, 10], batch_norm=True,
                                                  dropout=0.5, seed=0), False, 5_000, 0.7),
    "simple_convnet": (lambda: zerodl.simple_convnet(seed=0), True, 1_000, 0.3),
    "deep_convnet": (lambda: zerodl.deep_convnet(seed=0), True, 50, 0.0),
}
#: deep_convnet is the slow one: on a busy 2-core machine its predict took 2.5 s per 100
#: images (4 minutes for the test set) and one training step on 100 images 23 s, so it is
#: trained on one batch of 50 and checked on the first 300 test images.
TEST_IMAGES = {"deep_convnet": 300}


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    """MNIST as rows of 784 and as (1, 28, 28) images (the same arrays, reshaped)."""
    (x_train, d_train), (x_test, d_test) = load_mnist(data_dir=mnist_dir)
    return {False: (x_train, d_train, x_test, d_test),
            True: (x_train.reshape(-1, 1, 28, 28), d_train, x_test.reshape(-1, 1, 28, 28),
                   d_test)}


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_every_architecture_on_the_whole_mnist_test_set(name, mnist, tmp_path):
    build, images, n_train, floor = ARCHITECTURES[name]
    x_train, d_train, x_test, d_test = mnist[images]
    x_test, d_test = x_test[:TEST_IMAGES.get(name)], d_test[:TEST_IMAGES.get(name)]
    model = build()
    model.fit(x_train[:n_train], d_train[:n_train], epochs=1, batch_size=100,
              optimizer="adam" if images else zerodl.optimizers.SGD(lr=0.1), verbose=0)
    for layer in model.layers:              # the running statistics have moved from 0 and 1
        if isinstance(layer, BatchNormalization):
            assert np.abs(layer.buffers["running_mean"]).max() > 0.1
            assert np.abs(layer.buffers["running_var"] - 1).max() > 0.1
    proto = exported(model, tmp_path)
    y = run(proto, x_test)
    np.testing.assert_allclose(y, model.predict(x_test), rtol=0, atol=ATOL)
    assert np.mean(y.argmax(axis=1) == d_test) >= floor


def test_a_scikit_learn_estimators_network_exports(tmp_path):
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_iris
    from zerodl.sklearn import MLPClassifier
    x, y = load_iris(return_X_y=True)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # 5 epochs: not converged, on purpose
        clf.fit(x.astype(np.float32), y)
    proto = exported(clf.model_, tmp_path)
    np.testing.assert_allclose(run(proto, x.astype(np.float32)), clf.predict_proba(x),
                               rtol=0, atol=ATOL)


def test_import_zerodl_does_not_import_onnx_and_a_missing_onnx_says_how_to_install():
    code = ("import sys, zerodl\n"
            "assert 'onnx' not in sys.modules and 'zerodl.onnx' not in sys.modules\n"
            "sys.modules['onnx'] = None\n"
            "try:\n"
            "    import zerodl.onnx\n"
            "except ImportError as exc:\n"
            "    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert 'pip install "zerodl[onnx]"' in done.stdout


# -- zerodl export-onnx ------------------------------------------------------------------------
def saved(tmp_path, model=None):
    """A model saved to ``tmp_path/model.npz`` (default: a small trained-looking MLP)."""
    path = tmp_path / "model.npz"
    (model or zerodl.mlp([6, 5, 3], seed=0)).save(path)
    return path


def test_export_onnx_writes_what_predict_computes(tmp_path, capsys):
    model = randomised(zerodl.Sequential(
        [Conv2D(1, 3, 3, padding=1, rng=np.random.default_rng(0)), BatchNormalization(),
         zerodl.ReLU(), AvgPool2D(2), Flatten(), Dense(3 * 4 * 4, 4), Dropout(0.5)],
        input_shape=(1, 8, 8)))
    path, out = saved(tmp_path, model), tmp_path / "model.onnx"
    assert main(["export-onnx", str(path), str(out), "--opset", "13"]) == 0
    assert f"written to {out}: ONNX opset 13" in capsys.readouterr().out
    proto = onnx.load(out)
    assert proto.opset_import[0].version == 13
    x = np.random.default_rng(1).normal(size=(5, 1, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(run(proto, x), zerodl.load(path).predict(x), rtol=0, atol=ATOL)


def refused(argv, capsys, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err
    return err


def test_export_onnx_refuses_before_any_work(tmp_path, capsys, monkeypatch):
    path = saved(tmp_path)
    before = path.read_bytes()
    refused(["export-onnx", str(path), str(tmp_path)], capsys,
            r"OUT must be a regular file or a new one; got .*, which is a folder")
    refused(["export-onnx", str(path), str(path)], capsys,
            r"OUT must not be MODEL itself \(it would be overwritten\)")
    (tmp_path / "link.npz").symlink_to(path)
    refused(["export-onnx", str(path), str(tmp_path / "link.npz")], capsys,
            r"OUT must not be MODEL itself")
    refused(["export-onnx", str(tmp_path / ".." / tmp_path.name / "model.npz"), str(path)],
            capsys, r"OUT must not be MODEL itself")
    assert path.read_bytes() == before
    refused(["export-onnx", str(path), str(tmp_path / "m.onnx"), "--opset", "12"], capsys,
            r"opset must be an integer >= 13; got 12")
    # A model file may name only zerodl's layers, which all convert: a registered layer
    # type without a converter stands for one added later.
    monkeypatch.setitem(LAYER_TYPES, "Mystery", Mystery)
    odd = saved(tmp_path, zerodl.Sequential([Dense(2, 2), Mystery()], output="identity"))
    refused(["export-onnx", str(odd), str(tmp_path / "m.onnx")], capsys,
            r"model.layers\[1\] must be a layer with an ONNX converter .*got a Mystery")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.npz", "model.npz"]


def test_export_onnx_without_onnx_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    monkeypatch.delitem(sys.modules, "zerodl.onnx", raising=False)
    monkeypatch.delattr(zerodl, "onnx", raising=False)
    err = refused(["export-onnx", str(saved(tmp_path)), str(tmp_path / "m.onnx")], capsys,
                  r"zerodl export-onnx needs the onnx package")
    assert "pip install onnx (in a checkout of zerodl)" in err
    assert 'pip install "zerodl[onnx]" (zerodl from a package index)' in err


# -- zerodl bench's onnxruntime row ------------------------------------------------------------
def test_the_bench_row_runs_on_tiny_sizes():
    x = np.random.default_rng(0).random((7, 6), dtype=np.float32)
    row = onnx_bench_row(rounds=2, x=x, calls=2, sizes=(6, 5, 3))
    assert row["name"] == "predict 7 samples 6-5-3 onnxruntime" and row["batch"] == 7
    assert set(row["samples_per_s"]) == {"zerodl", "onnxruntime"}
    assert all(v > 0 for v in row["samples_per_s"].values())
    assert row["max_abs_difference"] <= 1e-5
    assert onnx_row_text(row).split()[:6] == ["predict", "7", "samples", "6-5-3",
                                              "onnxruntime", "zerodl"]


def test_the_bench_row_is_skipped_with_a_reason(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    model = zerodl.mlp([4, 3], seed=0)
    row = bench_onnxruntime(model, to_onnx(model).SerializeToString(),
                            np.ones((2, 4), np.float32), rounds=1, calls=1)
    assert row == {"name": "predict 2 samples 4-3 onnxruntime",
                   "skipped": "onnxruntime is not installed: pip install onnxruntime"}
    assert "skipped: onnxruntime is not installed" in onnx_row_text(row)
    monkeypatch.setitem(sys.modules, "onnx", None)
    monkeypatch.delitem(sys.modules, "zerodl.onnx")
    monkeypatch.delattr(zerodl, "onnx")
    row = onnx_bench_row(rounds=1, x=np.ones((2, 784), np.float32), calls=1)
    assert row["name"] == "predict 2 samples 784-40-10 onnxruntime"
    assert "skipped" in row and "needs the onnx package" in row["skipped"]
