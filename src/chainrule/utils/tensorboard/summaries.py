"""The summaries of numbers and text a ``SummaryWriter`` writes, as TensorBoard's protocol buffers:
one function per kind (scalars, histograms, tensors, precision-recall curves, text,
hyperparameters, custom-scalar layouts), each taking chainrule tensors, arrays or numbers and
returning a ``Summary``. Pictures, sound and meshes are in ``media``; the public names, as
``torch.utils.tensorboard.summary``, are in ``summary``."""
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto

from chainrule.backend import is_array, to_numpy, xp
from chainrule.tensor import Tensor


def as_array(value):
    """A tensor (detached), array or anything NumPy reads (a list, a number) as a NumPy array."""
    return to_numpy(value.detach()._array) if isinstance(value, Tensor) else xp.asarray(value)


def make_np(value):
    """What a summary reads from ``value``, as PyTorch's ``make_np``: an array as it is, a number as
    a one-element array, a tensor as its (detached) array. Anything else (a list, None) raises
    NotImplementedError."""
    if is_array(value):
        return value
    if xp.isscalar(value):
        return xp.array([value])
    if isinstance(value, Tensor):
        return as_array(value)
    raise NotImplementedError(
        f"SummaryWriter got a {type(value).__name__}, but a tensor, a NumPy array or a number is expected: "
        f"convert it first (chainrule.tensor(value))."
    )


# ----------------------------------------------------------------------------- numbers
def scalar(name, tensor, collections=None, new_style=False, double_precision=False):
    """One number: a one-element tensor, an array or a Python number (``collections`` is unused,
    as in PyTorch). ``new_style``: as a tensor of the scalars plugin (float64 with
    ``double_precision``) rather than a ``simple_value``."""
    array = make_np(tensor).squeeze()
    if array.ndim != 0:
        raise AssertionError(f"Tensor should contain one element (0 dimensions). Was given size: {array.size} and {array.ndim} dimensions.")
    number = float(array)
    if not new_style:
        return Summary(value=[Summary.Value(tag=name, simple_value=number)])
    proto = TensorProto(double_val=[number], dtype="DT_DOUBLE") if double_precision else TensorProto(float_val=[number], dtype="DT_FLOAT")
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    return Summary(value=[Summary.Value(tag=name, tensor=proto, metadata=metadata)])


def histogram_raw(name, min, max, num, sum, sum_squares, bucket_limits, bucket_counts):  # noqa: A002 (PyTorch's names)
    """A histogram given by its statistics and buckets (each limit is its bucket's right edge)."""
    histogram_proto = HistogramProto(
        min=min, max=max, num=num, sum=sum, sum_squares=sum_squares, bucket_limit=bucket_limits, bucket=bucket_counts
    )
    return Summary(value=[Summary.Value(tag=name, histo=histogram_proto)])


def histogram(name, values, bins, max_bins=None):
    """The histogram of ``values`` (a tensor, an array or a number) over ``bins``: see
    ``make_histogram``."""
    return Summary(value=[Summary.Value(tag=name, histo=make_histogram(make_np(values).astype(float), bins, max_bins))])


def make_histogram(values, bins, max_bins=None):
    """The ``HistogramProto`` of an array over ``bins`` (edges, a count, or NumPy's rule names such
    as 'auto'), at most ``max_bins`` buckets (neighbours merged). The buckets kept run from the
    first used one to the last, with one empty bucket before them (its right edge is where the
    data starts), as TensorBoard expects."""
    if values.size == 0:
        raise ValueError("The input has no element.")
    values = values.reshape(-1)
    counts, limits = xp.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        step = len(counts) // max_bins
        counts = xp.pad(counts, (0, -len(counts) % step)).reshape(-1, step).sum(axis=1)
        limits = xp.concatenate([limits[:-1:step], limits[-1:]])
    used_so_far = xp.cumsum(counts > 0)
    first, last = (int(index) for index in xp.searchsorted(used_so_far, [0, used_so_far[-1] - 1], side="right"))
    counts = counts[first - 1 : last + 1] if first > 0 else xp.concatenate([[0], counts[: last + 1]])
    limits = limits[first : last + 2]
    if counts.size == 0 or limits.size == 0:
        raise ValueError(
            f"The histogram is empty: none of the {values.size} values (from {values.min()} to {values.max()}) lies "
            f"within the bins' edges: give bins that cover the values."
        )
    return HistogramProto(
        min=float(values.min()), max=float(values.max()), num=values.size, sum=float(values.sum()),
        sum_squares=float(values.dot(values)), bucket_limit=limits.tolist(), bucket=counts.tolist(),
    )


# TensorFlow's dtype names and the TensorProto field that holds each (float16: the bits, as int16)
_TENSOR_FIELDS = {
    "float16": ("DT_HALF", "half_val"), "float32": ("DT_FLOAT", "float_val"), "float64": ("DT_DOUBLE", "double_val"),
    "int8": ("DT_INT8", "int_val"), "int16": ("DT_INT16", "int_val"), "int32": ("DT_INT32", "int_val"),
    "int64": ("DT_INT64", "int64_val"), "uint8": ("DT_UINT8", "uint32_val"), "bool": ("DT_BOOL", "bool_val"),
}


def tensor_proto(tag, tensor):
    """A whole tensor (its values and shape), for TensorBoard's tensor plugin."""
    array = as_array(tensor)
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
    """The precision-recall curve of binary ``labels`` (0/1) against ``predictions`` (probabilities):
    see ``compute_curve``."""
    thresholds = min(num_thresholds, 127)
    return _pr_summary(tag, compute_curve(labels, predictions, thresholds, weights), thresholds)


def compute_curve(labels, predictions, num_thresholds=None, weights=None):
    """The curve's rows (6, num_thresholds) at evenly spaced thresholds: true and false positives
    and negatives at each, precision = tp / (tp + fp), recall = tp / (tp + fn)."""
    labels, predictions = as_array(labels).astype(xp.float64), as_array(predictions)
    weights = 1.0 if weights is None else as_array(weights)
    buckets = xp.floor(predictions * (num_thresholds - 1)).astype(xp.int32)
    true, _ = xp.histogram(buckets, bins=num_thresholds, range=(0, num_thresholds - 1), weights=labels * weights)
    false, _ = xp.histogram(buckets, bins=num_thresholds, range=(0, num_thresholds - 1), weights=(1.0 - labels) * weights)
    tp, fp = xp.cumsum(true[::-1])[::-1], xp.cumsum(false[::-1])[::-1]  # predicted positive at threshold k or above
    tn, fn = fp[0] - fp, tp[0] - tp
    precision = tp / xp.maximum(1e-7, tp + fp)
    recall = tp / xp.maximum(1e-7, tp + fn)
    return xp.stack((tp, fp, tn, fn, precision, recall))


def _pr_summary(tag, rows, thresholds):
    from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData  # noqa: PLC0415

    content = PrCurvePluginData(version=0, num_thresholds=thresholds).SerializeToString()
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="pr_curves", content=content))
    proto = TensorProto(
        dtype="DT_FLOAT", float_val=rows.reshape(-1).tolist(),
        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=rows.shape[0]), TensorShapeProto.Dim(size=rows.shape[1])]),
    )
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=proto)])


# ----------------------------------------------------------------------------- text and hyperparameters
def text(tag, text):
    """A text shown (as Markdown) in TensorBoard's text tab."""
    from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData  # noqa: PLC0415

    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="text", content=TextPluginData(version=0).SerializeToString()))
    tensor = TensorProto(dtype="DT_STRING", string_val=[text.encode("utf_8")], tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=metadata, tensor=tensor)])


def hparams(hparam_dict=None, metric_dict=None, hparam_domain_discrete=None):
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


def custom_scalars(layout):
    """The layout of TensorBoard's custom scalars tab: ``{category: {chart title: [kind, tags]}}``,
    kind 'Multiline' (the tags' curves on one chart) or 'Margin' (tags [value, lower, upper]: a
    curve and the band around it)."""
    from tensorboard.plugins.custom_scalar import layout_pb2  # noqa: PLC0415

    categories = []
    for category, charts in layout.items():
        shown = []
        for title, chart in charts.items():
            kind, tags = chart[0], chart[1]
            if kind == "Margin":
                if len(tags) != 3:
                    raise AssertionError(f"a 'Margin' chart takes 3 tags (value, lower, upper), got {len(tags)}: {tags!r} in chart {title!r}")
                series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1], upper=tags[2])
                shown.append(layout_pb2.Chart(title=title, margin=layout_pb2.MarginChartContent(series=[series])))
            else:
                shown.append(layout_pb2.Chart(title=title, multiline=layout_pb2.MultilineChartContent(tag=tags)))
        categories.append(layout_pb2.Category(title=category, chart=shown))
    proto = TensorProto(dtype="DT_STRING", string_val=[layout_pb2.Layout(category=categories).SerializeToString()], tensor_shape=TensorShapeProto())
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="custom_scalars"))
    return Summary(value=[Summary.Value(tag="custom_scalars__config__", tensor=proto, metadata=metadata)])
