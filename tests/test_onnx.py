"""zerodl.onnx: the exported graph is valid ONNX and computes what ``model.predict`` does.

onnxruntime runs every exported model; its outputs must equal zerodl's to 1e-5. Layers that
other branches are adding (Flatten, Dropout, BatchNormalization, Conv2D, MaxPool2D,
AvgPool2D) are stood in for by small objects with the same class names and attributes,
whose reference outputs come from PyTorch's functional operators.
"""
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
from zerodl.layers import ACTIVATIONS, Dense, LeakyReLU, Step     # noqa: E402
from zerodl.losses import get_output                              # noqa: E402
from zerodl.onnx import CONVERTERS, OUTPUTS, export, register_converter, to_onnx  # noqa: E402

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


# -- layers of other branches, stood in for ----------------------------------------------------
class Flatten:
    def __init__(self):
        self.params, self.buffers = {}, {}


class Dropout:
    def __init__(self, rate=0.5):
        self.params, self.buffers, self.rate = {}, {}, rate


class BatchNormalization:
    def __init__(self, channels, rng, epsilon=1e-3):
        self.params = {"gamma": rng.uniform(0.5, 2, channels).astype(np.float32),
                       "beta": rng.normal(size=channels).astype(np.float32)}
        self.buffers = {"running_mean": rng.normal(size=channels).astype(np.float32),
                        "running_var": rng.uniform(0.1, 3, channels).astype(np.float32)}
        self.epsilon = epsilon


class Conv2D:
    def __init__(self, c_in, c_out, kernel_size, rng, stride=(1, 1), padding=(0, 0)):
        self.params = {"W": rng.normal(size=(c_out, c_in, *kernel_size)).astype(np.float32),
                       "b": rng.normal(size=c_out).astype(np.float32)}
        self.buffers = {}
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding


class MaxPool2D:
    def __init__(self, pool_size, stride, padding=(0, 0)):
        self.params, self.buffers = {}, {}
        self.pool_size, self.stride, self.padding = pool_size, stride, padding


class AvgPool2D(MaxPool2D):
    pass


def reference(layers, x, output="identity"):
    """What the layers compute, by PyTorch's operators (zerodl's own layers: their forward)."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    t = lambda a: torch.from_numpy(np.asarray(a))
    h = t(x)
    for layer in layers:
        kind, p = type(layer).__name__, layer.params
        if kind == "Flatten":
            h = h.reshape(len(h), -1)
        elif kind == "BatchNormalization":
            h = F.batch_norm(h, t(layer.buffers["running_mean"]), t(layer.buffers["running_var"]),
                             t(p["gamma"]), t(p["beta"]), training=False, eps=layer.epsilon)
        elif kind == "Conv2D":
            h = F.conv2d(h, t(p["W"]), t(p["b"]), stride=layer.stride, padding=layer.padding)
        elif kind == "MaxPool2D":
            h = F.max_pool2d(h, layer.pool_size, layer.stride, layer.padding)
        elif kind == "AvgPool2D":
            h = F.avg_pool2d(h, layer.pool_size, layer.stride, layer.padding,
                             count_include_pad=True)
        elif kind != "Dropout":
            h = t(layer.forward(h.numpy()))
    return get_output(output).predict(h.numpy())


def stand_in(layers, output="identity", dtype=np.float32):
    """A model as export reads one: ``layers``, ``output``, ``dtype``."""
    return SimpleNamespace(layers=layers, output=get_output(output), dtype=np.dtype(dtype))


def check_against_torch(layers, x, tmp_path, output="identity", **kwargs):
    proto = exported(stand_in(layers, output), tmp_path, **kwargs)
    got, want = run(proto, x), reference(layers, x, output)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)
    return proto


def test_a_small_convolutional_network(tmp_path):
    rng = np.random.default_rng(4)
    layers = [Conv2D(3, 4, (3, 3), rng, padding=(1, 1)), BatchNormalization(4, rng),
              zerodl.ReLU(), MaxPool2D((2, 2), (2, 2)),
              Conv2D(4, 2, (3, 2), rng, stride=(2, 1), padding=(1, 0)),
              AvgPool2D((3, 3), (1, 1), (1, 1)), Dropout(), Flatten(),
              Dense(2 * 2 * 3, 5, rng=rng), zerodl.Tanh()]
    x = rng.normal(size=(6, 3, 8, 8)).astype(np.float32)
    proto = check_against_torch(layers, x, tmp_path, output="softmax")
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["N", 3, "H", "W"]


@pytest.mark.parametrize("padding", [(0, 0), (1, 1), (1, 0)])
def test_max_pooling_never_picks_the_padding(padding, tmp_path):
    """All inputs negative: a zero padding would win every border window."""
    x = -np.random.default_rng(5).uniform(1, 2, size=(2, 3, 5, 6)).astype(np.float32)
    proto = check_against_torch([MaxPool2D((3, 2), (2, 2), padding)], x, tmp_path,
                                input_shape=(3, 5, 6))
    assert (run(proto, x) < 0).all()


@pytest.mark.parametrize("padding", [(0, 0), (1, 1), (0, 1)])
def test_average_pooling_counts_the_padding_as_zeros(padding, tmp_path):
    x = np.ones((1, 2, 4, 4), np.float32)
    proto = check_against_torch([AvgPool2D((3, 3), (1, 1), padding)], x, tmp_path,
                                input_shape=(2, 4, 4))
    if padding == (1, 1):                   # a corner window: 4 ones of 9 places
        assert run(proto, x)[0, 0, 0, 0] == pytest.approx(4 / 9)


@pytest.mark.parametrize("shape", [(7, 4), (3, 4, 5, 2)])
def test_batch_normalization_on_features_and_on_channels(shape, tmp_path):
    rng = np.random.default_rng(6)
    x = rng.normal(size=shape).astype(np.float32)
    check_against_torch([BatchNormalization(4, rng, epsilon=1e-5)], x, tmp_path,
                        input_shape=shape[1:])


def test_flatten_is_c_order_and_dropout_adds_nothing(tmp_path):
    x = np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2)
    proto = check_against_torch([Dropout(0.9), Flatten(), Dropout()], x, tmp_path,
                                input_shape=(3, 2, 2))
    assert [node.op_type for node in proto.graph.node] == ["Flatten"]
    np.testing.assert_array_equal(run(proto, x), x.reshape(2, 12))


# -- refusals ----------------------------------------------------------------------------------
class Mystery:
    params: dict = {}


def test_a_layer_without_a_converter_is_named_and_nothing_is_written(tmp_path):
    model = stand_in([Dense(2, 2), Mystery()])
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
        export(stand_in([Mystery()]), tmp_path)
    with pytest.raises(FileNotFoundError, match="path must be in an existing folder"):
        export(zerodl.mlp([2, 2]), tmp_path / "missing" / "model.onnx")


def test_a_registered_converter_is_used(tmp_path):
    @register_converter("Mystery")
    def double(layer, graph, x):
        return graph.add("Mul", [x, graph.weight("two", [2.0])])
    try:
        proto = exported(stand_in([Dense(2, 2), Mystery()]), tmp_path)
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


# -- the course's network ----------------------------------------------------------------------
def test_the_course_network_on_the_whole_mnist_test_set(mnist_dir, tmp_path):
    (x_train, d_train), (x_test, d_test) = load_mnist(data_dir=mnist_dir)
    model = zerodl.mlp([784, 40, 10], seed=0)
    model.fit(x_train[:20_000], d_train[:20_000], epochs=1, batch_size=100,
              optimizer=zerodl.optimizers.SGD(lr=0.1), verbose=0)
    proto = exported(model, tmp_path)
    y = run(proto, x_test)
    np.testing.assert_allclose(y, model.predict(x_test), rtol=0, atol=ATOL)
    assert np.mean(y.argmax(axis=1) == d_test) > 0.85


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
