"""Export a zerodl model to ONNX, to run it in onnxruntime or any other ONNX runtime.

``export(model, path)`` writes one ONNX graph for the model's inference pass: input ``"x"``
of shape ``(N, ...)`` and output ``"y"`` of shape ``(N, n_out)`` where ``N``, the batch
axis, is left free; the weights are stored in the graph in the model's dtype. The output is
what ``model.predict`` returns: the last layer's ``u`` passed through the output layer's
inference function (softmax -> ``Softmax(axis=-1)``, sigmoid -> ``Sigmoid``, identity ->
nothing). Losses and gradients are not exported.

Each layer is turned into ONNX nodes by the converter registered for its class name in
``CONVERTERS``; ``register_converter("MyLayer")`` adds one. Converters, and the layer
attributes they read:

- ``Dense``: ``Gemm(x, W, b)``, ``y = x W + b``.
- the activations of ``zerodl.layers.ACTIVATIONS``: ``Relu``, ``Sigmoid``, ``Tanh``;
  LeakyReLU is ``PRelu`` with its ``alpha`` stored in the model's dtype (``LeakyRelu``'s
  float32 attribute would round a float64 model's slope); ``Identity`` adds nothing;
  ``Step`` is ``Cast(Greater(x, 0))``.
- ``Flatten``: ``Flatten(axis=1)``, each sample to one row in C order.
- ``Dropout``: nothing (dropout is the identity at inference).
- ``BatchNormalization``: ``BatchNormalization`` in inference mode with params ``gamma``,
  ``beta``, buffers ``running_mean``, ``running_var`` and ``epsilon``, for (N, C) or
  (N, C, H, W) inputs: ``y = gamma (x - mean) / sqrt(var + epsilon) + beta`` per channel.
- ``Conv2D``: ``Conv`` (a cross-correlation, as the course's convolution and PyTorch's) with
  params ``W`` (out, in, kh, kw) and ``b``, attributes ``kernel_size``, ``stride``,
  ``padding``, each an ``(h, w)`` pair (the padding on both sides of each axis).
- ``MaxPool2D`` and ``AvgPool2D``: ``MaxPool`` / ``AveragePool`` with ``pool_size``,
  ``stride``, ``padding`` pairs; the max never picks the padding (as if it were -inf),
  the average counts it as zeros (``count_include_pad=1``).

A layer without a converter is refused, naming it, before anything is written. The file is
written atomically (``zerodl._fileio``): a folder or device path is refused before any work,
and a failed write leaves the previous file as it was.

``onnx`` is an optional dependency, imported here at the top: ``import zerodl`` never loads
this module nor onnx (``import zerodl.onnx`` does).
"""
from __future__ import annotations

import os
from typing import Callable, Sequence

import numpy as np

try:
    import onnx
    from onnx import helper, numpy_helper
except ImportError as exc:              # an optional dependency: say how to get it
    raise ImportError('zerodl.onnx needs the onnx package: pip install "zerodl[onnx]" (or pip '
                      'install onnx in a checkout).', name="onnx") from exc

from .core.layers import ACTIVATIONS

from .core._checks import check_int, plain
from .core._fileio import atomic_write, check_output_path

__all__ = ["export", "to_onnx", "register_converter", "CONVERTERS", "OUTPUTS", "OnnxGraph"]

#: The default opset, and the oldest accepted (Softmax's ``axis`` means one axis from 13).
OPSET = 17
MIN_OPSET = 13


class OnnxGraph:
    """The graph being built: nodes in order, weights as initializers, unique names.

    A converter calls ``weight`` for each array it needs and ``add`` for each node, and
    returns the name of its output tensor. Names start with ``prefix`` (``"layers.2."``
    while layer 2 is converted), so the file reads like the model.
    """

    def __init__(self, dtype) -> None:
        self.dtype = np.dtype(dtype)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.prefix = ""
        self._names: set[str] = {"x", "y"}

    def name(self, hint: str) -> str:
        """``prefix + hint``, made unique."""
        name, i = self.prefix + hint, 1
        while name in self._names:
            i += 1
            name = f"{self.prefix}{hint}_{i}"
        self._names.add(name)
        return name

    def weight(self, hint: str, array) -> str:
        """Store ``array``, cast to the graph's dtype, as an initializer; return its name."""
        array = np.ascontiguousarray(array, dtype=self.dtype)
        name = self.name(hint)
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} must hold only finite numbers to be exported; it holds "
                             f"NaN or infinite values.")
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def add(self, op: str, inputs: Sequence[str], **attributes) -> str:
        """Append the node ``op(*inputs)`` with ``attributes``; return its output's name."""
        out = self.name(op)
        self.nodes.append(helper.make_node(op, list(inputs), [out], name=out, **attributes))
        return out


#: A converter: ``convert(layer, graph, x) -> name of the layer's output tensor``.
Converter = Callable[[object, OnnxGraph, str], str]

#: Layer class name -> converter.
CONVERTERS: dict[str, Converter] = {}


def register_converter(layer_name: str) -> Callable[[Converter], Converter]:
    """Decorator: ``@register_converter("MyLayer")`` over ``convert(layer, graph, x)``."""
    if not isinstance(layer_name, str) or not layer_name:
        raise TypeError(f"layer_name must be a layer's class name; got "
                        f"{plain(layer_name)!r}.")

    def add(convert: Converter) -> Converter:
        CONVERTERS[layer_name] = convert
        return convert
    return add


def _pair(layer, attribute: str) -> list[int]:
    """A layer's ``(h, w)`` attribute as a list of two ints (an int means both)."""
    value = getattr(layer, attribute)
    pair = [value, value] if isinstance(value, (int, np.integer)) else list(value)
    if len(pair) != 2:
        raise ValueError(f"{type(layer).__name__}.{attribute} must be an (h, w) pair; got "
                         f"{plain(value)!r}.")
    return [check_int(f"{type(layer).__name__}.{attribute}", v, minimum=0) for v in pair]


# -- converters --------------------------------------------------------------------------------
@register_converter("Dense")
def _dense(layer, graph: OnnxGraph, x: str) -> str:
    return graph.add("Gemm", [x, graph.weight("W", layer.params["W"]),
                              graph.weight("b", layer.params["b"])])


def _one_op(op: str | None, **attributes) -> Converter:
    """A converter that applies the one ONNX operator ``op`` (None: adds nothing)."""
    def convert(layer, graph: OnnxGraph, x: str) -> str:
        return x if op is None else graph.add(op, [x], **attributes)
    return convert


def _leaky_relu(layer, graph: OnnxGraph, x: str) -> str:
    # PRelu with the slope as a tensor of the model's dtype, not LeakyRelu, whose alpha is a
    # float32 attribute: in float64, 0.01 would then differ from zerodl's by 2e-10.
    return graph.add("PRelu", [x, graph.weight("alpha", [layer.alpha])])


def _step(layer, graph: OnnxGraph, x: str) -> str:
    positive = graph.add("Greater", [x, graph.weight("zero", np.zeros(()))])
    return graph.add("Cast", [positive], to=helper.np_dtype_to_tensor_dtype(graph.dtype))


#: ``zerodl.layers.ACTIVATIONS`` name -> its converter (a test checks that none is missing).
ACTIVATION_CONVERTERS: dict[str, Converter] = {
    "relu": _one_op("Relu"),
    "leaky_relu": _leaky_relu,
    "sigmoid": _one_op("Sigmoid"),
    "tanh": _one_op("Tanh"),
    "identity": _one_op(None),
    "step": _step,
}
for _name, _layer in ACTIVATIONS.items():
    if _name in ACTIVATION_CONVERTERS:
        register_converter(_layer.__name__)(ACTIVATION_CONVERTERS[_name])

register_converter("Dropout")(_one_op(None))
register_converter("Flatten")(_one_op("Flatten", axis=1))


@register_converter("BatchNormalization")
def _batch_norm(layer, graph: OnnxGraph, x: str) -> str:
    inputs = [x, graph.weight("gamma", layer.params["gamma"]),
              graph.weight("beta", layer.params["beta"]),
              graph.weight("running_mean", layer.buffers["running_mean"]),
              graph.weight("running_var", layer.buffers["running_var"])]
    return graph.add("BatchNormalization", inputs, epsilon=float(layer.epsilon))


@register_converter("Conv2D")
def _conv2d(layer, graph: OnnxGraph, x: str) -> str:
    ph, pw = _pair(layer, "padding")
    return graph.add("Conv", [x, graph.weight("W", layer.params["W"]),
                              graph.weight("b", layer.params["b"])],
                     kernel_shape=_pair(layer, "kernel_size"), strides=_pair(layer, "stride"),
                     pads=[ph, pw, ph, pw])


def _pool(op: str, **extra) -> Converter:
    def convert(layer, graph: OnnxGraph, x: str) -> str:
        ph, pw = _pair(layer, "padding")
        return graph.add(op, [x], kernel_shape=_pair(layer, "pool_size"),
                         strides=_pair(layer, "stride"), pads=[ph, pw, ph, pw], **extra)
    return convert


register_converter("MaxPool2D")(_pool("MaxPool"))
register_converter("AvgPool2D")(_pool("AveragePool", count_include_pad=1))

#: Output layer name (``model.output.name``) -> the ONNX operator of its inference function
#: and the operator's attributes (None: the output is ``u`` itself).
OUTPUTS: dict[str, tuple[str, dict] | None] = {"softmax": ("Softmax", {"axis": -1}),
                                               "sigmoid": ("Sigmoid", {}), "identity": None}


# -- the model --------------------------------------------------------------------------------
def _input_shape(model, input_shape) -> list:
    """``["N", ...]``: the given shape of one sample, else the model's ``input_shape`` (a
    ``Sequential`` has one), else one read off the first layer with weights (Dense:
    ``n_in``; Conv2D: its input channels, with free ``H`` and ``W``)."""
    if input_shape is None:
        input_shape = getattr(model, "input_shape", None)
    if input_shape is not None:
        if isinstance(input_shape, (str, bytes)) or not hasattr(input_shape, "__iter__"):
            raise TypeError(f"input_shape must be the shape of one sample, like (784,) or "
                            f"(1, 28, 28); got {plain(input_shape)!r}.")
        return ["N", *(check_int(f"input_shape[{i}]", n, minimum=1)
                       for i, n in enumerate(input_shape))]
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Dense":
            return ["N", int(layer.params["W"].shape[0])]
        if kind == "Conv2D":
            return ["N", int(layer.params["W"].shape[1]), "H", "W"]
        if kind not in ("BatchNormalization", "Dropout", "MaxPool2D", "AvgPool2D",
                        *(cls.__name__ for _, cls in ACTIVATIONS.items())):
            break                               # the shape changes in a way not known here
    raise ValueError("input_shape must be given for this model (the shape of one sample, "
                     "like (1, 28, 28)): its first layers do not tell it; got None.")


def _convert_layers(model, graph: OnnxGraph) -> str:
    """Every layer's nodes, in order; return the name of the last layer's output ``u``.
    A layer without a converter is refused before any is converted."""
    for i, layer in enumerate(model.layers):
        kind = type(layer).__name__
        if kind not in CONVERTERS:
            raise ValueError(f"model.layers[{i}] must be a layer with an ONNX converter "
                             f"({', '.join(sorted(CONVERTERS))}); got a {kind}. Write one "
                             f"with zerodl.onnx.register_converter({kind!r}).")
    x = "x"
    for i, layer in enumerate(model.layers):
        graph.prefix = f"layers.{i}."
        x = CONVERTERS[type(layer).__name__](layer, graph, x)
    graph.prefix = "output."
    return x


def to_onnx(model, opset: int = OPSET, input_shape: Sequence[int] | None = None
            ) -> "onnx.ModelProto":
    """The ONNX model of ``model``'s inference pass (see the module docstring), checked by
    ``onnx.checker``. ``model`` needs ``layers``, ``output`` and ``dtype``, as a
    ``Sequential`` has; ``input_shape``: the shape of one sample (default: the model's
    ``input_shape``, or what the first layers tell). ``opset``: the ONNX operator set, from 13 to what the installed onnx knows.
    """
    opset = check_int("opset", opset, minimum=MIN_OPSET)
    newest = onnx.defs.onnx_opset_version()
    if opset > newest:
        raise ValueError(f"opset must be at most {newest}, the newest this onnx "
                         f"{onnx.__version__} knows; got {opset}.")
    output = model.output.name
    if output not in OUTPUTS:
        raise ValueError(f"model.output must be one of {', '.join(OUTPUTS)} to be exported; "
                         f"got {output!r}.")
    x_shape = _input_shape(model, input_shape)
    graph = OnnxGraph(model.dtype)
    u = _convert_layers(model, graph)
    if OUTPUTS[output] is not None:
        op, attributes = OUTPUTS[output]
        u = graph.add(op, [u], **attributes)
    if not graph.nodes or graph.nodes[-1].output[0] != u:
        u = graph.add("Identity", [u])      # the output is not the last node's: pass it on
    graph.nodes[-1].output[0] = "y"
    elem = helper.np_dtype_to_tensor_dtype(graph.dtype)
    onnx_graph = helper.make_graph(
        graph.nodes, "zerodl", [helper.make_tensor_value_info("x", elem, x_shape)],
        [helper.make_tensor_value_info("y", elem, None)], graph.initializers)
    opsets = [helper.make_opsetid("", opset)]
    proto = helper.make_model(onnx_graph, opset_imports=opsets, producer_name="zerodl",
                              ir_version=helper.find_min_ir_version_for(opsets))
    # The output's shape, ("N", n_out) for a network ending in Dense, as ONNX infers it; the
    # strict inference also refuses layers whose shapes do not chain.
    try:
        inferred = onnx.shape_inference.infer_shapes(proto, strict_mode=True)
    except onnx.shape_inference.InferenceError as exc:
        raise ValueError(f"model.layers must pass on shapes that the next layer takes; ONNX's "
                         f"shape inference says: {exc}") from None
    proto.graph.output[0].CopyFrom(inferred.graph.output[0])
    onnx.checker.check_model(proto)
    return proto


def export(model, path: str | os.PathLike, opset: int = OPSET,
           input_shape: Sequence[int] | None = None) -> "onnx.ModelProto":
    """Write ``model`` as an ONNX file at ``path``, atomically; return the ONNX model.

    ``path`` is checked first (a folder, a device or a missing folder is refused before any
    work), then the whole model is built and checked (``to_onnx``: a layer without a
    converter is refused, naming it), and only then is the file written, to a temporary
    file renamed over ``path``, so a refusal or a failed write leaves ``path`` as it was.
    """
    path = check_output_path("path", path)
    proto = to_onnx(model, opset, input_shape)
    with atomic_write(path, make_parents=False) as f:
        f.write(proto.SerializeToString())
    return proto
