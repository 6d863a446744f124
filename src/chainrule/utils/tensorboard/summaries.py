"""The summaries a ``SummaryWriter`` writes, as TensorBoard's protocol buffers: one function per kind,
each taking chainrule tensors, arrays or numbers and returning a ``Summary`` (or a ``GraphDef``)."""
import io
import math

from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef

from chainrule.autograd.function import AccumulateGrad
from chainrule.backend import to_numpy, xp
from chainrule.tensor import Tensor


def as_array(value):
    """A tensor (detached), array or number as a NumPy array."""
    return to_numpy(value.detach().array) if isinstance(value, Tensor) else xp.asarray(value)


# ----------------------------------------------------------------------------- numbers
def scalar(tag, value, new_style=False, double_precision=False):
    """One number: a one-element tensor, an array or a Python number."""
    array = as_array(value).squeeze()
    if array.ndim != 0:
        raise AssertionError(f"Tensor should contain one element (0 dimensions). Was given size: {array.size} and {array.ndim} dimensions.")
    number = float(array)
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=number)])
    tensor = TensorProto(double_val=[number], dtype="DT_DOUBLE") if double_precision else TensorProto(float_val=[number], dtype="DT_FLOAT")
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    return Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=metadata)])


def histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts):  # noqa: A002 (PyTorch's names)
    """A histogram given by its statistics and buckets (each limit is its bucket's right edge)."""
    if len(bucket_limits) != len(bucket_counts):
        raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
    histogram_proto = HistogramProto(
        min=min, max=max, num=num, sum=sum, sum_squares=sum_squares, bucket_limit=bucket_limits, bucket=bucket_counts
    )
    return Summary(value=[Summary.Value(tag=tag, histo=histogram_proto)])


def histogram(tag, values, bins, max_bins=None):
    """The histogram of ``values`` over ``bins`` (edges, a count, or NumPy's rule names such as
    'auto'), at most ``max_bins`` buckets (neighbours merged); empty buckets at both ends are
    dropped, as TensorBoard expects."""
    values = as_array(values).astype(float).reshape(-1)
    if values.size == 0:
        raise ValueError("The input has no element.")
    counts, limits = xp.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        step = len(counts) // max_bins
        counts = xp.pad(counts, (0, -len(counts) % step)).reshape(-1, step).sum(axis=1)
        limits = xp.concatenate([limits[:-1:step], limits[-1:]])
    used = xp.flatnonzero(counts)
    first, last = int(used[0]), int(used[-1])
    # Keep one empty bucket before the first used one (its right edge is where the data starts).
    counts = counts[first - 1 : last + 1] if first > 0 else xp.concatenate([[0], counts[: last + 1]])
    limits = limits[first : last + 2]
    return histogram_raw(
        tag, float(values.min()), float(values.max()), values.size, float(values.sum()), float(values.dot(values)),
        limits.tolist(), counts.tolist(),
    )


# TensorFlow's dtype names and the TensorProto field that holds each (float16: the bits, as int16)
_TENSOR_FIELDS = {
    "float16": ("DT_HALF", "half_val"), "float32": ("DT_FLOAT", "float_val"), "float64": ("DT_DOUBLE", "double_val"),
    "int8": ("DT_INT8", "int_val"), "int16": ("DT_INT16", "int_val"), "int32": ("DT_INT32", "int_val"),
    "int64": ("DT_INT64", "int64_val"), "uint8": ("DT_UINT8", "uint32_val"), "bool": ("DT_BOOL", "bool_val"),
}


def tensor(tag, values):
    """A whole tensor, for TensorBoard's tensor plugin."""
    array = as_array(values)
    if array.nbytes >= 1 << 31:
        raise ValueError("tensor is bigger than protocol buffer's hard limit of 2GB in size")
    if array.dtype.name not in _TENSOR_FIELDS:
        raise ValueError(f"{tag} has unsupported tensor dtype {array.dtype}")
    dtype, field = _TENSOR_FIELDS[array.dtype.name]
    flat = (array.view(xp.int16) if array.dtype == xp.float16 else array).reshape(-1).tolist()
    proto = TensorProto(dtype=dtype, tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=size) for size in array.shape]), **{field: flat})
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="tensor"))
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=proto)])


# ----------------------------------------------------------------------------- precision-recall curves
def pr_curve_raw(tag, tp, fp, tn, fn, precision, recall, num_thresholds=127, weights=None):
    """A precision-recall curve from its counts per threshold (each a sequence of num_thresholds)."""
    rows = xp.stack([as_array(each).astype(float) for each in (tp, fp, tn, fn, precision, recall)])
    return _pr_summary(tag, rows, min(num_thresholds, 127))


def pr_curve(tag, labels, predictions, num_thresholds=127, weights=None):
    """The precision-recall curve of binary ``labels`` (0/1) against ``predictions`` (probabilities),
    at ``num_thresholds`` evenly spaced thresholds (at most 127): true and false positives and
    negatives at each, precision = tp / (tp + fp), recall = tp / (tp + fn)."""
    thresholds = min(num_thresholds, 127)
    labels, predictions = as_array(labels).astype(xp.float64), as_array(predictions)
    weights = 1.0 if weights is None else as_array(weights)
    buckets = xp.floor(predictions * (thresholds - 1)).astype(xp.int32)
    true, _ = xp.histogram(buckets, bins=thresholds, range=(0, thresholds - 1), weights=labels * weights)
    false, _ = xp.histogram(buckets, bins=thresholds, range=(0, thresholds - 1), weights=(1.0 - labels) * weights)
    tp, fp = xp.cumsum(true[::-1])[::-1], xp.cumsum(false[::-1])[::-1]  # predicted positive at threshold k or above
    tn, fn = fp[0] - fp, tp[0] - tp
    precision = tp / xp.maximum(1e-7, tp + fp)
    recall = tp / xp.maximum(1e-7, tp + fn)
    return _pr_summary(tag, xp.stack((tp, fp, tn, fn, precision, recall)), thresholds)


def _pr_summary(tag, rows, thresholds):
    from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData  # noqa: PLC0415

    content = PrCurvePluginData(version=0, num_thresholds=thresholds).SerializeToString()
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="pr_curves", content=content))
    proto = TensorProto(
        dtype="DT_FLOAT", float_val=rows.reshape(-1).tolist(),
        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=rows.shape[0]), TensorShapeProto.Dim(size=rows.shape[1])]),
    )
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=proto)])


# ----------------------------------------------------------------------------- images
def image(tag, values, dataformats="CHW"):
    """An image (or a grid of images, for a 4-D batch) encoded as PNG. ``dataformats`` names the
    axes: 'CHW', 'HWC', 'HW' or, for a batch, 'NCHW', 'NHWC'. Floats are read as [0, 1], uint8 as
    [0, 255]; one channel is shown as grey."""
    array = as_array(values)
    picture = _as_height_width_channels(array, dataformats.upper())
    scale = 1 if picture.dtype == xp.uint8 else 255
    picture = (picture.astype(xp.float32) * scale).clip(0, 255).astype(xp.uint8)
    height, width, channels = picture.shape
    encoded = _png(picture)
    encoded_image = Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=encoded)
    return Summary(value=[Summary.Value(tag=tag, image=encoded_image)])


def _as_height_width_channels(array, dataformats):
    if len(set(dataformats)) != len(dataformats) or set(dataformats) - set("NCHW"):
        raise AssertionError(f"dataformats must name each of N, C, H, W at most once, got {dataformats!r}")
    if array.ndim != len(dataformats):
        raise AssertionError(
            f"size of input tensor and input format are different. tensor shape: {array.shape}, input_format: {dataformats}"
        )
    if len(dataformats) == 4:
        batch = array.transpose([dataformats.index(axis) for axis in "NCHW"])
        return _grid(batch).transpose(1, 2, 0)
    if len(dataformats) == 2:
        grey = array.transpose([dataformats.index(axis) for axis in "HW"])
        return xp.stack([grey] * 3, axis=2)
    picture = array.transpose([dataformats.index(axis) for axis in "HWC"])
    return xp.concatenate([picture] * 3, axis=2) if picture.shape[2] == 1 else picture


def _grid(batch, columns=8):
    """Images (N, C, H, W) side by side, ``columns`` to a row: (3, H · rows, W · columns)."""
    if batch.shape[1] == 1:
        batch = xp.concatenate([batch] * 3, axis=1)
    count, _, height, width = batch.shape
    columns = min(count, columns)
    rows = -(-count // columns)
    canvas = xp.zeros((3, height * rows, width * columns), dtype=batch.dtype)
    for index in range(count):
        row, column = divmod(index, columns)
        canvas[:, row * height : (row + 1) * height, column * width : (column + 1) * width] = batch[index, :3]
    return canvas


def sprite(images):
    """Thumbnails (N, C, H, W) in a square grid, ceil(√N) to a row, as the embedding projector
    shows them next to their points: PNG bytes."""
    array = as_array(images)
    grid = _grid(array, columns=math.ceil(array.shape[0] ** 0.5)).transpose(1, 2, 0)
    square = xp.zeros((grid.shape[1], grid.shape[1], 3))
    square[: grid.shape[0]] = grid
    return _png((square * 255).clip(0, 255).astype(xp.uint8))


def _png(picture):
    try:
        from PIL import Image  # noqa: PLC0415 (optional: the tensorboard extra)
    except ImportError as error:
        raise ImportError("SummaryWriter encodes images as PNG with Pillow: pip install 'chainrule[tensorboard]'") from error
    output = io.BytesIO()
    Image.fromarray(picture).save(output, format="PNG")
    return output.getvalue()


def figure(figures, close=True):
    """Matplotlib figures drawn as an image array, (3, H, W) or (N, 3, H, W) for a list."""
    import matplotlib.pyplot as plt  # noqa: PLC0415 (optional: the plot extra)
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415

    def drawn(one):
        canvas = FigureCanvasAgg(one)
        canvas.draw()
        rgba = xp.asarray(canvas.buffer_rgba())
        if close:
            plt.close(one)
        return rgba[:, :, :3].transpose(2, 0, 1)

    return xp.stack([drawn(one) for one in figures]) if isinstance(figures, list) else drawn(figures)


# ----------------------------------------------------------------------------- text and hyperparameters
def text(tag, string):
    """A text shown (as Markdown) in TensorBoard's text tab."""
    from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData  # noqa: PLC0415

    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="text", content=TextPluginData(version=0).SerializeToString()))
    tensor = TensorProto(dtype="DT_STRING", string_val=[string.encode("utf_8")], tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=metadata, tensor=tensor)])


def hparams(hparam_dict, metric_dict, hparam_domain_discrete=None):
    """The three summaries of one run in TensorBoard's hyperparameter tab: the experiment (which
    hyperparameters and metrics there are), the run's values, and its end."""
    from google.protobuf import struct_pb2  # noqa: PLC0415
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2  # noqa: PLC0415

    if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
        raise TypeError("hparam_dict and metric_dict should be dictionary.")
    discrete = hparam_domain_discrete or {}
    if not isinstance(discrete, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing logged.")
    for name, values in discrete.items():
        if name not in hparam_dict or not isinstance(values, list) or not all(isinstance(v, type(hparam_dict[name])) for v in values):
            raise TypeError(f"parameter: hparam_domain_discrete[{name}] should be a list of same type as hparam_dict[{name}].")
    start = plugin_data_pb2.SessionStartInfo()
    infos = []
    for name, value in hparam_dict.items():
        if value is None:
            continue
        if isinstance(value, Tensor):
            value = float(as_array(value).reshape(-1)[0])
        if isinstance(value, (int, float)):  # a bool too (1 or 0), as PyTorch logs it
            field, data_type, wrap = "number_value", "DATA_TYPE_FLOAT64", lambda v: struct_pb2.Value(number_value=v)
        elif isinstance(value, str):
            field, data_type, wrap = "string_value", "DATA_TYPE_STRING", lambda v: struct_pb2.Value(string_value=v)
        else:
            raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
        setattr(start.hparams[name], field, value)
        domain = struct_pb2.ListValue(values=[wrap(v) for v in discrete[name]]) if name in discrete else None
        infos.append(api_pb2.HParamInfo(name=name, type=api_pb2.DataType.Value(data_type), domain_discrete=domain))

    def summary(tag, **content):
        data = plugin_data_pb2.HParamsPluginData(version=metadata.PLUGIN_DATA_VERSION, **content)
        plugin = SummaryMetadata.PluginData(plugin_name=metadata.PLUGIN_NAME, content=data.SerializeToString())
        return Summary(value=[Summary.Value(tag=tag, metadata=SummaryMetadata(plugin_data=plugin))])

    experiment = api_pb2.Experiment(hparam_infos=infos, metric_infos=[api_pb2.MetricInfo(name=api_pb2.MetricName(tag=k)) for k in metric_dict])
    end = plugin_data_pb2.SessionEndInfo(status=api_pb2.Status.Value("STATUS_SUCCESS"))
    return (
        summary(metadata.EXPERIMENT_TAG, experiment=experiment),
        summary(metadata.SESSION_START_INFO_TAG, session_start_info=start),
        summary(metadata.SESSION_END_INFO_TAG, session_end_info=end),
    )


# ----------------------------------------------------------------------------- the graph
def graph(model, inputs):
    """The computation of ``model(*inputs)`` as TensorBoard's graph: a node per operation, named
    by the module that ran it (``fc1/AddmmBackward0``, grouped by module in TensorBoard), a node
    per parameter (its name), edges from what each operation read. Found from the autograd graph
    of one forward call (``requires_grad`` is switched on for the inputs for it)."""
    from chainrule.autograd import grad_mode  # noqa: PLC0415

    made_by = {}  # id(node) -> module path, from forward hooks on every module

    def hook_for(path):
        def record(module, arguments, output):
            for tensor in output if isinstance(output, (tuple, list)) else (output,):
                if isinstance(tensor, Tensor) and tensor.grad_fn is not None:
                    made_by.setdefault(id(tensor.grad_fn), path)
        return record

    handles = [module.register_forward_hook(hook_for(path or type(model).__name__)) for path, module in model.named_modules()]
    feeds = [each.detach().requires_grad_() if isinstance(each, Tensor) and each.is_floating_point() else each for each in inputs]
    try:
        with grad_mode.enable_grad():
            outputs = model(*feeds)
    finally:
        for handle in handles:
            handle.remove()
    names = {id(parameter): name.replace(".", "/") for name, parameter in model.named_parameters()}  # grouped with its module
    names.update({id(feed): f"input/{index}" for index, feed in enumerate(feeds) if isinstance(feed, Tensor)})
    nodes, named = [], {}

    def name_of(node):
        if id(node) not in named:
            if isinstance(node, AccumulateGrad):
                named[id(node)] = names.get(id(node.variable), f"tensor/{len(named)}")
            else:
                scope = made_by.get(id(node), "")
                named[id(node)] = f"{scope}/{node.name()}_{len(named)}" if scope else f"{node.name()}_{len(named)}"
        return named[id(node)]

    results = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    pending = [each.grad_fn for each in results if isinstance(each, Tensor) and each.grad_fn is not None]
    seen = set()
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            dims = [TensorShapeProto.Dim(size=size) for size in node.variable.shape]
            shape = AttrValue(list=AttrValue.ListValue(shape=[TensorShapeProto(dim=dims)]))
            name = name_of(node)
            nodes.append(NodeDef(name=name, op="IO Node" if name.startswith("input/") else "Parameter", attr={"_output_shapes": shape}))
            continue
        edges = node.argument_edges if hasattr(node, "argument_edges") else node.next_functions  # in argument order, as the traced graph
        inputs_of = [next_node for next_node, _ in edges if next_node is not None]
        operation = node.name().removesuffix("Backward0").removesuffix("Backward1")
        nodes.append(NodeDef(name=name_of(node), op=operation, input=[name_of(each) for each in inputs_of]))
        pending.extend(inputs_of)
    return GraphDef(node=nodes[::-1], versions=VersionDef(producer=22))
