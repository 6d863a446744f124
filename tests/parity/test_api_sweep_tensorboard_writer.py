"""A sweep of ``utils.tensorboard.SummaryWriter`` against ``torch.utils.tensorboard.SummaryWriter``
(the oracle): each case writes the same calls with each library's writer into its own log dir, and
the event files are read back with TensorBoard's own readers (``LegacyEventFileLoader`` for every
raw event, ``EventAccumulator`` for what TensorBoard shows) and compared: the files and run
directories written (event file names with ``filename_suffix``, ``add_scalars`` sub-runs
``<main_tag>_<key>``, ``add_hparams`` sub-runs, the embedding projector's ``projector_config.pbtxt``
/ ``tensors.tsv`` / ``metadata.tsv`` / ``sprite.png``), the events in each file in order (the
``file_version`` event first, ``purge_step``'s events, steps, the type of ``wall_time`` and its value
where ``walltime=`` gives it), and each summary: ``add_scalar`` (Python, NumPy and tensor values,
``new_style``, ``double_precision``), ``add_histogram`` (``bins`` 'tensorflow' / NumPy rule names /
a count / edges, ``max_bins``: min, max, num, sum, sum_squares, bucket_limit, bucket),
``add_histogram_raw``, ``add_image`` / ``add_images`` (CHW / HWC / HW / NCHW / NHWC, float [0, 1]
and uint8, the PNG decoded back to pixels), ``add_figure`` (matplotlib), ``add_text``,
``add_hparams`` (the hparams plugin's protos), ``add_embedding``, ``add_pr_curve`` /
``add_pr_curve_raw``, ``add_tensor``, ``add_graph`` (the events, not the node names), ``flush`` /
``close`` / reopening / the context manager, the default ``runs/<date>_<host><comment>`` log dir,
``get_logdir``, the methods' signatures, PyTorch's exception types for bad input, and the names
PyTorch has that chainrule lacks.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares what was written.
Tests marked ``xfail(strict=True, reason="BUG: ...")`` are differences found: each turns into an
XPASS failure the day it is fixed, and the mark must go.
"""

import inspect
import io
import itertools
import os
import pathlib
import re
import socket

import numpy as np
import pytest
import torch
import torch.utils.tensorboard
from google.protobuf.json_format import MessageToDict
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData
from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData
from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData
from tensorboard.util import tensor_util
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import chainrule
import chainrule.utils.tensorboard
from chainrule.utils.tensorboard import SummaryWriter as ChainruleWriter
from tests.parity.sweep import bug, bundle, outcome, raises_as_torch, same_in_both

INF = float("inf")
H = [1.0, -2.0, 0.0, 3.5, 0.25, -0.5, 2.0, 2.0, 1e-3, -7.0]
CHW = np.linspace(0.0, 1.0, 3 * 2 * 4).reshape(3, 2, 4).tolist()
HWC = np.linspace(0.0, 1.0, 2 * 4 * 3).reshape(2, 4, 3).tolist()
HW = np.linspace(0.0, 1.0, 3 * 5).reshape(3, 5).tolist()
NCHW = np.linspace(0.0, 1.0, 2 * 3 * 2 * 2).reshape(2, 3, 2, 2).tolist()
CHW_U8 = (np.arange(3 * 2 * 3) * 11).reshape(3, 2, 3).tolist()
EMB = [[0.1, 2.0, -1.0], [3.0, -4.5, 0.0], [1e-8, 7.0, 2.5]]


# --- writing with each library and reading back -------------------------------------------------

@pytest.fixture(autouse=True)
def _scratch(tmp_path, monkeypatch):
    """Each test's log dirs under its own tmp_path (the cases are ``lambda L:``, so a module global)."""
    global _TMP
    _TMP = tmp_path
    monkeypatch.chdir(tmp_path)
    yield
    _TMP = None


_TMP = None
_COUNT = itertools.count()


def _writer_class(L):
    return TorchWriter if L is torch else ChainruleWriter


def _new_dir(L):
    directory = _TMP / f"{L.__name__}_{next(_COUNT)}"
    return str(directory)


def _pixels(data):
    picture = Image.open(io.BytesIO(data))
    return [picture.mode, list(picture.size), np.asarray(picture).tolist()]


_PLUGIN_CONTENT = {"hparams": HParamsPluginData, "text": TextPluginData, "pr_curves": PrCurvePluginData}


def _event(event):
    """An event as TensorBoard reads it: a dict, wall_time as its type (or its value where it was
    given: a small number), PNG images decoded, plugin contents parsed, the graph as a mark."""
    event_dict = MessageToDict(event, preserving_proto_field_name=True)
    wall_time = event_dict.pop("wall_time", 0.0)
    event_dict["wall_time"] = type(event.wall_time).__name__ if event.wall_time > 1e6 else wall_time
    if "graph_def" in event_dict:
        event_dict["graph_def"] = bool(event.graph_def)
    if "tagged_run_metadata" in event_dict:
        event_dict["tagged_run_metadata"].pop("run_metadata", None)
    for value, value_dict in zip(event.summary.value, event_dict.get("summary", {}).get("value", [])):
        if value.HasField("image"):
            value_dict["image"]["encoded_image_string"] = _pixels(value.image.encoded_image_string)
        plugin = value.metadata.plugin_data
        if plugin.content and plugin.plugin_name in _PLUGIN_CONTENT:
            message = _PLUGIN_CONTENT[plugin.plugin_name]()
            message.ParseFromString(plugin.content)
            value_dict["metadata"]["plugin_data"]["content"] = MessageToDict(message, preserving_proto_field_name=True)
    return event_dict


_EVENT_FILE = re.compile(r"events\.out\.tfevents\.\d+\." + re.escape(socket.gethostname()) + r"\.\d+\.(\d+)")


def _normal_path(relative):
    """An event file's name with its time, host, pid and number as placeholders (its suffix kept);
    a run directory named by the time (add_hparams' default) as <time>."""
    path = _EVENT_FILE.sub("events.out.tfevents.<time>.<host>.<pid>.<n>", relative)
    return re.sub(r"(^|/)\d{9,}\.\d+(/|$)", r"\1<time>\2", path)


def listing(directory):
    """Every file under ``directory`` (sorted, names normalized) and what TensorBoard reads in it."""
    found = []
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            relative = os.path.relpath(path, directory).replace(os.sep, "/")
            number = _EVENT_FILE.search(name)
            found.append((_normal_path(relative), int(number.group(1)) if number else 0, path))
    result = []
    for relative, _, path in sorted(found):
        if "events.out.tfevents" in relative:
            content = [_event(event) for event in LegacyEventFileLoader(path).Load()]
        elif relative.endswith(".png"):
            with open(path, "rb") as file:
                content = _pixels(file.read())
        else:
            with open(path, encoding="utf-8") as file:
                content = file.read()
        result.append([relative, content])
    return result


def logged(L, log, **writer_kwargs):
    """``log(writer)`` with library L's SummaryWriter in a new log dir, closed; what was written."""
    directory = _new_dir(L)
    writer = _writer_class(L)(directory, **writer_kwargs)
    try:
        log(writer)
    finally:
        writer.close()
    return listing(directory)


def shown(L, log, run=""):
    """``log(writer)``, then what TensorBoard's EventAccumulator shows for the run: its tags, and
    per tag the scalars, histograms, images (decoded) and tensors (as arrays), step by step."""
    directory = _new_dir(L)
    with _writer_class(L)(directory) as writer:
        log(writer)
    accumulator = EventAccumulator(os.path.join(directory, run), size_guidance={"scalars": 0, "histograms": 0, "images": 0, "tensors": 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    result = [[kind, sorted(names) if isinstance(names, list) else names] for kind, names in sorted(tags.items())]
    for tag in tags["scalars"]:
        result.append(["scalars", tag, [[event.step, event.value] for event in accumulator.Scalars(tag)]])
    for tag in tags["histograms"]:
        result.append(["histograms", tag, [[event.step, _histogram_fields(event.histogram_value)] for event in accumulator.Histograms(tag)]])
    for tag in tags["images"]:
        result.append(["images", tag, [[event.step, event.width, event.height, _pixels(event.encoded_image_string)] for event in accumulator.Images(tag)]])
    for tag in tags["tensors"]:
        result.append(["tensors", tag, [[event.step, tensor_util.make_ndarray(event.tensor_proto).tolist()] for event in accumulator.Tensors(tag)]])
    return result


def _histogram_fields(value):
    return [value.min, value.max, value.num, value.sum, value.sum_squares, list(value.bucket_limit), list(value.bucket)]


def log_both(log):
    """Logs ``log(writer, L)``-style calls: returns the case ``lambda L: logged(L, ...)``."""
    return lambda L: logged(L, lambda writer: log(writer, L))


# --- what is written: files, events, summaries --------------------------------------------------

EVENT_CASES = {
    # add_scalar
    "scalar_python_numbers": log_both(lambda w, L: (
        w.add_scalar("a", 1.5, 0), w.add_scalar("a", 2, 1), w.add_scalar("b", True, 2), w.add_scalar("c", -INF, 3),
        w.add_scalar("d", 1e-40, 4), w.add_scalar("e", 123456789, 5))),
    "scalar_numpy_values": log_both(lambda w, L: (
        w.add_scalar("a", np.float32(0.25), 0), w.add_scalar("b", np.int64(3), 1), w.add_scalar("c", np.array(0.5), 2),
        w.add_scalar("d", np.array([[0.5]]), 3), w.add_scalar("e", np.float64(0.1), 4), w.add_scalar("f", np.bool_(True), 5))),
    "scalar_tensor_values": log_both(lambda w, L: (
        w.add_scalar("a", L.tensor(1.5), 0), w.add_scalar("b", L.tensor([2.5]), 1), w.add_scalar("c", L.tensor([[3.0]]), 2),
        w.add_scalar("d", L.tensor(7), 3), w.add_scalar("e", L.tensor(0.1, dtype=L.float64), 4), w.add_scalar("f", L.tensor(True), 5),
        w.add_scalar("g", L.tensor(1.5, dtype=L.float16), 6), w.add_scalar("h", L.tensor([1], dtype=L.uint8), 7))),
    "scalar_tensor_requiring_grad": log_both(lambda w, L: (
        w.add_scalar("leaf", L.tensor(1.25, requires_grad=True), 0),
        w.add_scalar("loss", (L.tensor([0.5, 1.5], requires_grad=True) ** 2).sum(), 1),
        w.add_scalar("item", L.tensor(0.7).item(), 2))),
    "scalar_string_number": log_both(lambda w, L: w.add_scalar("a", "3.5", 1)),
    "scalar_new_style": log_both(lambda w, L: (
        w.add_scalar("a", 0.1, 0, new_style=True), w.add_scalar("b", L.tensor(2), 1, new_style=True),
        w.add_scalar("c", 0.1, 2, new_style=True, double_precision=True), w.add_scalar("d", 0.1, 3, double_precision=True))),
    "scalar_keywords_walltime": log_both(lambda w, L: (
        w.add_scalar(tag="a", scalar_value=1.0, global_step=2, walltime=3.5, new_style=True, double_precision=True),
        w.add_scalar("b", 2.0, walltime=12.0), w.add_scalar("c", 3.0, 4, 5.0))),
    "scalar_step_forms": log_both(lambda w, L: (
        w.add_scalar("a", 1.0, L.tensor(4)), w.add_scalar("a", 1.0, 2.7), w.add_scalar("a", 1.0, np.int64(5)),
        w.add_scalar("a", 1.0, -1), w.add_scalar("a", 1.0, None), w.add_scalar("a", 1.0, 2**40))),
    "scalar_tag_names": log_both(lambda w, L: (
        w.add_scalar("loss/train", 1.0, 0), w.add_scalar("with space", 1.0, 0), w.add_scalar("ünïcode/τ", 1.0, 0),
        w.add_scalar("", 1.0, 0), w.add_scalar("a/b/c/", 1.0, 0))),
    # add_scalars
    "scalars_sub_runs": log_both(lambda w, L: (
        w.add_scalars("compare", {"train": 1.0, "valid": L.tensor(0.5)}, 0),
        w.add_scalars("compare", {"train": 0.5, "valid": L.tensor([0.25]), "test": 0.1}, 1))),
    "scalars_main_tag_slash_walltime": log_both(lambda w, L: w.add_scalars("loss/total", {"a/b": 1.0, "c": np.float32(2.0)}, 3, walltime=7.0)),
    "scalars_empty_dict": log_both(lambda w, L: w.add_scalars("m", {}, 0)),
    "scalars_and_scalar_interleaved": log_both(lambda w, L: (
        w.add_scalar("m", 9.0, 0), w.add_scalars("m", {"x": 1.0}, 0), w.add_scalar("m", 8.0, 1), w.add_scalars("m", {"x": 2.0}, 1))),
    # add_histogram
    "histogram_tensorflow_bins": log_both(lambda w, L: (
        w.add_histogram("h", L.tensor(H), 0), w.add_histogram("h", L.tensor(H) * 100, 1, bins="tensorflow"))),
    "histogram_numpy_rules": log_both(lambda w, L: [
        w.add_histogram(rule, L.tensor(H), 0, bins=rule) for rule in ("auto", "fd", "doane", "scott", "stone", "rice", "sturges", "sqrt")]),
    "histogram_int_bins": log_both(lambda w, L: (
        w.add_histogram("a", L.tensor(H), bins=5), w.add_histogram("b", L.tensor(H), bins=1), w.add_histogram("c", L.tensor(H), bins=37))),
    "histogram_edges": log_both(lambda w, L: (
        w.add_histogram("a", L.tensor(H), bins=np.array([-8.0, -1.0, 0.0, 1.0, 4.0])),
        w.add_histogram("b", L.tensor(H), bins=[-1.0, 0.5, 1.5, 3.0]),
        w.add_histogram("c", L.tensor(H), bins=np.linspace(-10.0, 10.0, 41)),
        w.add_histogram("d", L.tensor(H), bins=L.tensor([-8.0, 0.0, 8.0])))),
    "histogram_max_bins": log_both(lambda w, L: (
        w.add_histogram("a", L.tensor(H), bins=20, max_bins=3), w.add_histogram("b", L.tensor(H), bins=20, max_bins=6),
        w.add_histogram("c", L.tensor(H), max_bins=50), w.add_histogram("d", L.tensor(H), bins=4, max_bins=10),
        w.add_histogram("e", L.tensor(H), bins=7, max_bins=7))),
    "histogram_dtypes_shapes": log_both(lambda w, L: (
        w.add_histogram("int", L.tensor([1, 5, 5, 2, -3]), bins=4), w.add_histogram("f64", L.tensor(H, dtype=L.float64)),
        w.add_histogram("f16", L.tensor([0.5, 1.5, 2.5], dtype=L.float16), bins=3), w.add_histogram("2d", L.tensor([[1.0, 2.0], [3.0, 4.0]]), bins=2),
        w.add_histogram("0d", L.tensor(3.0)), w.add_histogram("one", L.tensor([2.5]), bins=3),
        w.add_histogram("bool", L.tensor([True, False, True]), bins=2), w.add_histogram("same", L.full((4,), 2.0), bins="auto"))),
    "histogram_numpy_and_scalar_input": log_both(lambda w, L: (
        w.add_histogram("a", np.array(H, dtype=np.float32), 0), w.add_histogram("b", 3.0, 1), w.add_histogram("c", np.int64(4), 2, bins=2),
        w.add_histogram("d", np.array([[1, 2], [3, 4]]), bins=3))),
    "histogram_parameter_and_grad_float64": log_both(lambda w, L: (lambda p: (
        (p.sum() * 3.0 + (p ** 2).sum()).backward(), w.add_histogram("weight", p, 0), w.add_histogram("weight.grad", p.grad, 0, bins="auto")))(
        L.nn.Parameter(L.tensor(H, dtype=L.float64)))),
    "histogram_keywords_walltime": log_both(lambda w, L: w.add_histogram(
        tag="h", values=L.tensor(H), global_step=3, bins=6, walltime=9.5, max_bins=4)),
    "histogram_raw": log_both(lambda w, L: (
        w.add_histogram_raw("a", min=0.0, max=3.0, num=6, sum=9.0, sum_squares=17.0, bucket_limits=[1.0, 2.0, 3.0], bucket_counts=[2, 1, 3], global_step=1),
        w.add_histogram_raw("b", -1, 2, 3, 1, 5, np.array([0.0, 2.0]), np.array([1, 2]), 2, 4.0),
        w.add_histogram_raw("c", 0.5, 0.5, 1, 0.5, 0.25, [0.5], [1]))),
    # add_image / add_images
    "image_chw_float": log_both(lambda w, L: (w.add_image("a", L.tensor(CHW), 0), w.add_image("b", L.tensor(CHW, dtype=L.float64), 1))),
    "image_chw_uint8": log_both(lambda w, L: w.add_image("a", L.tensor(CHW_U8, dtype=L.uint8), 0)),
    "image_gray_1hw": log_both(lambda w, L: w.add_image("a", L.tensor([HW]), 0)),
    "image_hwc": log_both(lambda w, L: (w.add_image("a", L.tensor(HWC), 0, dataformats="HWC"), w.add_image("b", L.tensor(HWC), dataformats="hwc"))),
    "image_hw_and_wh": log_both(lambda w, L: (w.add_image("a", L.tensor(HW), dataformats="HW"), w.add_image("b", L.tensor(HW), dataformats="WH"))),
    "image_cwh_and_whc": log_both(lambda w, L: (
        w.add_image("a", L.tensor(CHW).permute(0, 2, 1), dataformats="CWH"), w.add_image("b", L.tensor(HWC).permute(1, 0, 2), dataformats="WHC"))),
    "image_out_of_range_clipped": log_both(lambda w, L: (
        w.add_image("a", L.tensor(CHW) * 3.0 - 1.0), w.add_image("b", L.tensor(CHW_U8) * 2, dataformats="CHW"))),
    "image_bool_and_rgba": log_both(lambda w, L: (
        w.add_image("bool", L.tensor(HW) > 0.5, dataformats="HW"), w.add_image("rgba", L.tensor(NCHW[0] + [[[0.5, 1.0], [0.0, 0.25]]])))),
    "image_requiring_grad": log_both(lambda w, L: w.add_image("a", L.tensor(CHW, requires_grad=True) * 0.5)),
    "image_numpy_input_walltime": log_both(lambda w, L: w.add_image("a", np.array(CHW, dtype=np.float32), 2, walltime=4.0)),
    "image_4d_via_add_image": log_both(lambda w, L: w.add_image("a", L.tensor(NCHW), dataformats="NCHW")),
    "images_nchw_grid": log_both(lambda w, L: w.add_images("a", L.tensor(NCHW), 0)),
    "images_nhwc_and_gray": log_both(lambda w, L: (
        w.add_images("a", L.tensor(NCHW).permute(0, 2, 3, 1), dataformats="NHWC"), w.add_images("b", L.tensor([[HW], [HW]]), 1))),
    "images_more_than_eight": log_both(lambda w, L: w.add_images("a", L.linspace(0, 1, 10 * 3 * 2 * 2).reshape(10, 3, 2, 2))),
    "images_single_and_uint8": log_both(lambda w, L: (
        w.add_images("a", L.tensor(NCHW[:1])), w.add_images("b", (L.tensor(NCHW) * 255).to(L.uint8)))),
    "images_chw_via_add_images": log_both(lambda w, L: w.add_images("a", L.tensor(CHW), dataformats="CHW")),
    # add_text
    "text": log_both(lambda w, L: (
        w.add_text("notes", "plain", 0), w.add_text("notes", "# Title\n\n* **bold** | `code`", 1), w.add_text("ünïcode/τ", "τ ≈ 6.28 ✓", 2),
        w.add_text("empty", ""), w.add_text(tag="kw", text_string="x", global_step=5, walltime=6.0))),
    # add_hparams
    "hparams_types": log_both(lambda w, L: w.add_hparams(
        {"lr": 0.1, "n": 3, "opt": "sgd", "flag": True, "skip": None, "np": np.float64(0.5)}, {"acc": 0.9, "loss": L.tensor(0.1)}, run_name="r")),
    "hparams_domain_discrete_step": log_both(lambda w, L: w.add_hparams(
        {"opt": "adam", "n": 2, "flag": False}, {"m/acc": 1.0}, hparam_domain_discrete={"opt": ["sgd", "adam"], "n": [1, 2, 4], "flag": [True, False]},
        run_name="run", global_step=7)),
    "hparams_tensor_value": log_both(lambda w, L: w.add_hparams({"t": L.tensor([0.25])}, {"m": np.float32(2.0)}, run_name="r")),
    "hparams_empty_metrics_and_two_runs": log_both(lambda w, L: (
        w.add_hparams({"lr": 1.0}, {}, run_name="a"), w.add_hparams({"lr": 2.0}, {"m": 3.0}, run_name="b"), w.add_scalar("m", 1.0, 0))),
    "hparams_default_run_name": log_both(lambda w, L: w.add_hparams({"lr": 0.5}, {"m": 1.0})),
    "hparams_run_name_nested": log_both(lambda w, L: w.add_hparams({"lr": 0.5}, {"m": 1.0}, run_name="sweep/trial_1")),
    # add_embedding
    "embedding_default": log_both(lambda w, L: w.add_embedding(L.tensor(EMB))),
    "embedding_metadata_step_tag": log_both(lambda w, L: w.add_embedding(L.tensor(EMB), metadata=["a", 1, 2.5], global_step=3, tag="x/y%z\\w")),
    "embedding_metadata_header": log_both(lambda w, L: w.add_embedding(
        np.array(EMB, dtype=np.float32), metadata=[["a", 1], ["b", 2], ["c", 3]], metadata_header=["name", "id"], tag="t")),
    "embedding_int_and_float64": log_both(lambda w, L: (
        w.add_embedding(L.tensor([[1, 2], [3, 4]]), tag="int"), w.add_embedding(L.tensor(EMB, dtype=L.float64), tag="f64", global_step=1))),
    "embedding_metadata_tensor_labels": log_both(lambda w, L: w.add_embedding(L.tensor(EMB), metadata=L.tensor([0, 1, 1]))),
    "embedding_label_img": log_both(lambda w, L: w.add_embedding(
        L.tensor(EMB), label_img=L.linspace(0, 1, 3 * 3 * 2 * 2).reshape(3, 3, 2, 2), tag="img")),
    "embedding_label_img_gray": log_both(lambda w, L: w.add_embedding(
        L.tensor(EMB)[:2], label_img=L.tensor([[HW], [HW]]), metadata=["p", "q"], tag="gray")),
    "embedding_two_calls_one_config": log_both(lambda w, L: (
        w.add_embedding(L.tensor(EMB), global_step=0), w.add_embedding(L.tensor(EMB) * 2, global_step=1, metadata=["a", "b", "c"]))),
    # add_pr_curve
    "pr_curve": log_both(lambda w, L: (
        w.add_pr_curve("pr", L.tensor([0, 1, 1, 0, 1]), L.tensor([0.1, 0.9, 0.6, 0.4, 0.35]), 2, num_thresholds=5),
        w.add_pr_curve("pr", L.tensor([True, False]), L.tensor([0.7, 0.2]), 3))),
    "pr_curve_weights_numpy_over_127": log_both(lambda w, L: w.add_pr_curve(
        "pr", np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.6, 0.4]), num_thresholds=300, weights=np.array([1.0, 2.0, 1.0, 0.5]))),
    "pr_curve_float64_predictions": log_both(lambda w, L: w.add_pr_curve(
        "pr", L.tensor([1, 0, 1]), L.tensor([0.0, 0.5, 1.0], dtype=L.float64), num_thresholds=3, walltime=1.0)),
    "pr_curve_raw": log_both(lambda w, L: (
        w.add_pr_curve_raw("raw", [3, 2, 1], [2, 1, 0], [0, 1, 2], [0, 1, 2], [0.6, 0.67, 1.0], [1.0, 0.67, 0.33], 1, num_thresholds=3),
        w.add_pr_curve_raw("np", *[np.array([1.0, 0.0])] * 6, num_thresholds=200))),
    # add_tensor
    "tensor_dtypes": log_both(lambda w, L: [w.add_tensor("t", x, step) for step, x in enumerate((
        L.tensor([[1.5, 2.0]]), L.tensor([1, 2]), L.tensor([True, False]), L.tensor([1, 200], dtype=L.uint8), L.tensor([-1, 2], dtype=L.int8),
        L.tensor(3.0, dtype=L.float64), L.tensor([7], dtype=L.int32), L.tensor([-3], dtype=L.int16), L.zeros(0, 2)))]),
    "tensor_keywords_walltime": log_both(lambda w, L: w.add_tensor(tag="t", tensor=L.tensor([0.5]), global_step=2, walltime=3.0)),
    # files: purge_step, filename_suffix, close / reopen, flush
    "purge_step": lambda L: logged(L, lambda w: w.add_scalar("a", 1.0, 5), purge_step=5),
    "purge_step_zero": lambda L: logged(L, lambda w: w.add_scalar("a", 1.0, 0), purge_step=0),
    "filename_suffix_and_sub_runs": lambda L: logged(L, lambda w: (
        w.add_scalar("a", 1.0), w.add_scalars("m", {"x": 1.0}), w.add_hparams({"lr": 0.1}, {"a": 1.0}, run_name="hp")), filename_suffix=".sfx"),
    "close_then_log_reopens": log_both(lambda w, L: (
        w.add_scalar("a", 1.0, 0), w.close(), w.add_scalar("a", 2.0, 1), w.flush(), w.close(), w.close(), w.add_scalars("m", {"x": 1.0}))),
    "close_reopen_keeps_purge_once": lambda L: logged(L, lambda w: (w.add_scalar("a", 1.0, 3), w.close(), w.add_scalar("a", 2.0, 4)), purge_step=3),
    "max_queue_one_flush_secs": lambda L: logged(L, lambda w: [w.add_scalar("a", float(i), i) for i in range(3)], max_queue=1, flush_secs=1),
    "nothing_logged": log_both(lambda w, L: None),
    "flush_then_more": log_both(lambda w, L: (w.add_scalar("a", 1.0, 0), w.flush(), w.add_text("t", "x", 1), w.flush())),
}


@pytest.mark.parametrize("run", list(EVENT_CASES.values()), ids=list(EVENT_CASES))
def test_same_events(run):
    same_in_both(run)


def test_same_events_figure():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def figure():
        fig = plt.figure(figsize=(0.4, 0.3), dpi=20)
        fig.gca().plot([0, 1, 2], [1, 0, 1])
        return fig

    same_in_both(bundle(
        log_both(lambda w, L: w.add_figure("fig", figure(), 0)),
        log_both(lambda w, L: w.add_figure("figs", [figure(), figure()], 1, walltime=2.0)),
        lambda L: (lambda fig: (logged(L, lambda w: w.add_figure("f", fig, close=False)), plt.fignum_exists(fig.number), plt.close(fig))[1:2])(figure()),
        lambda L: (lambda fig: (logged(L, lambda w: w.add_figure("f", fig)), plt.fignum_exists(fig.number))[1:])(figure()),
    ))


# --- what TensorBoard shows (EventAccumulator) --------------------------------------------------

SHOWN_CASES = {
    "scalars": lambda L: shown(L, lambda w: [w.add_scalar("loss", L.tensor(1.0 / (i + 1)), i) for i in range(4)]),
    "scalars_sub_run": lambda L: shown(L, lambda w: [w.add_scalars("cmp", {"train": i, "valid": L.tensor(i * 0.5)}, i) for i in range(3)], run="cmp_valid"),
    "new_style_scalars_as_tensors": lambda L: shown(L, lambda w: (
        w.add_scalar("a", 0.5, 0, new_style=True), w.add_scalar("b", 0.1, 1, new_style=True, double_precision=True))),
    "histograms": lambda L: shown(L, lambda w: [w.add_histogram("h", L.tensor(H) * (i + 1), i) for i in range(2)]),
    "images": lambda L: shown(L, lambda w: (w.add_image("img", L.tensor(CHW), 0), w.add_images("imgs", L.tensor(NCHW), 1))),
    "text_and_tensor": lambda L: shown(L, lambda w: (w.add_text("t", "hello", 0), w.add_tensor("x", L.tensor([[1.0, 2.0]]), 1))),
    "pr_curve": lambda L: shown(L, lambda w: w.add_pr_curve("pr", L.tensor([0, 1, 1]), L.tensor([0.2, 0.8, 0.4]), 0, num_thresholds=4)),
    "hparams_run": lambda L: shown(L, lambda w: w.add_hparams({"lr": 0.1}, {"acc": 0.5}, run_name="hp"), run="hp"),
    "purge_step_hides_later_steps": lambda L: _purged_run(L),
}


def _purged_run(L):
    """Steps 0-4 logged, then a restart from step 2 (purge_step=2): TensorBoard drops the old 2, 3, 4."""
    directory = _new_dir(L)
    with _writer_class(L)(directory) as writer:
        for step in range(5):
            writer.add_scalar("a", float(step), step)
    with _writer_class(L)(directory, purge_step=2) as writer:
        writer.add_scalar("a", 9.0, 2)
        writer.add_scalar("a", 10.0, 3)
    accumulator = EventAccumulator(directory)
    accumulator.Reload()
    return [[event.step, event.value] for event in accumulator.Scalars("a")]


@pytest.mark.parametrize("run", list(SHOWN_CASES.values()), ids=list(SHOWN_CASES))
def test_same_shown(run):
    same_in_both(run)


def test_add_graph_events():
    def kinds(L):
        model = L.nn.Sequential(L.nn.Linear(2, 3), L.nn.ReLU(), L.nn.Linear(3, 1))
        found = logged(L, lambda w: w.add_graph(model, L.zeros(1, 2)))
        return [[path, [[key for key in event if key != "graph_def" or event[key]] for event in events]] for path, events in found]

    same_in_both(kinds)


def test_add_graph_shows_a_graph():
    def graph_shown(L):
        model = L.nn.Sequential(L.nn.Linear(2, 3), L.nn.ReLU())
        directory = _new_dir(L)
        with _writer_class(L)(directory) as writer:
            writer.add_graph(model, (L.zeros(4, 2),))
            writer.add_scalar("after", 1.0, 0)
        accumulator = EventAccumulator(directory)
        accumulator.Reload()
        return [accumulator.Tags()["graph"], accumulator.Tags()["scalars"], len(accumulator.Graph().node) > 0]

    same_in_both(graph_shown)


# --- log dir naming, attributes, context manager, signatures ------------------------------------

_DEFAULT_DIR = re.compile(r"runs/[A-Z][a-z]{2}\d{2}_\d{2}-\d{2}-\d{2}_")


def _default_dir_pattern(L, *args, **kwargs):
    writer = _writer_class(L)(*args, **kwargs)
    writer.close()
    logdir = writer.get_logdir()
    pattern = _DEFAULT_DIR.sub("runs/<date>_", logdir.replace(os.sep, "/"))
    return [pattern, type(logdir).__name__, os.path.isdir(logdir), logdir == writer.log_dir]


NAMING_CASES = {
    "default": lambda L: _default_dir_pattern(L),
    "comment": lambda L: _default_dir_pattern(L, comment="_LR_0.1"),
    "empty_string_log_dir_uses_default": lambda L: _default_dir_pattern(L, "", comment="-x"),
    "none_log_dir_keyword": lambda L: _default_dir_pattern(L, log_dir=None, comment="c"),
    "log_dir_ignores_comment": lambda L: _default_dir_pattern(L, "exp1", comment="_ignored"),
    "nested_log_dir_created": lambda L: _default_dir_pattern(L, "runs/a/b"),
}


@pytest.mark.parametrize("run", list(NAMING_CASES.values()), ids=list(NAMING_CASES))
def test_log_dir_naming(run):
    same_in_both(run)


def test_log_dir_pattern_names_the_host():
    for L in (torch, chainrule):
        assert _default_dir_pattern(L, comment="_c")[0] == f"runs/<date>_{socket.gethostname()}_c"


def test_pathlib_log_dir_basic():
    same_in_both(lambda L: (lambda d: [type(_writer_class(L)(d).get_logdir()).__name__, logged(L, lambda w: w.add_scalar("a", 1.0))][0])(
        pathlib.Path(_new_dir(L))))


def test_pathlib_log_dir_add_scalars():
    def run(L):
        directory = pathlib.Path(_new_dir(L))
        with _writer_class(L)(directory) as writer:
            writer.add_scalars("m", {"a": 1.0, "b": 2.0}, 0)
        return listing(str(directory))

    same_in_both(run)


def test_add_hparams_after_close_reopens_log_dir():
    same_in_both(log_both(lambda w, L: (w.close(), w.add_hparams({"lr": 0.1}, {"m": 1.0}, run_name="r"))))


def test_add_embedding_and_scalars_after_close_reopen_log_dir():
    same_in_both(bundle(
        log_both(lambda w, L: (w.close(), w.add_embedding(L.tensor(EMB)))),
        log_both(lambda w, L: (w.close(), w.add_scalars("m", {"a": 1.0}))),
    ))


def test_pathlib_log_dir_hparams_and_embedding():
    def run(L):
        directory = pathlib.Path(_new_dir(L))
        with _writer_class(L)(directory) as writer:
            writer.add_hparams({"lr": 0.1}, {"m": 1.0}, run_name="r")
            writer.add_embedding(L.tensor(EMB))
        return listing(str(directory))

    same_in_both(run)


ATTRIBUTE_CASES = {
    "constructor_attributes": lambda L: (lambda w: (w.close(), [w.log_dir, w.purge_step, w.max_queue, w.flush_secs, w.filename_suffix])[1])(
        _writer_class(L)("d", purge_step=None, max_queue=3, flush_secs=5, filename_suffix="x")),
    "purge_step_cleared_after_use": lambda L: (lambda w: (w.close(), w.purge_step)[1])(_writer_class(L)("d", 4)),
    "positional_arguments": lambda L: (lambda w: (w.close(), [w.log_dir, w.purge_step, w.max_queue, w.flush_secs, w.filename_suffix])[1])(
        _writer_class(L)("d", "comment", None, 7, 9, ".s")),
    "get_logdir": lambda L: (lambda w: (w.close(), w.get_logdir())[1])(_writer_class(L)("some/dir")),
    "context_manager_returns_self_and_closes": lambda L: (lambda w: (lambda entered: (w.__exit__(None, None, None), [entered is w, w.file_writer, w.all_writers])[1])(
        w.__enter__()))(_writer_class(L)("d")),
    "all_writers_keys_after_add_scalars": lambda L: (lambda w: (w.add_scalars("m/n", {"a": 1.0, "b": 2.0}),
        sorted(os.path.relpath(key, "d") for key in w.all_writers), w.close())[1])(_writer_class(L)("d")),
    "flush_and_close_on_closed_writer": lambda L: (lambda w: (w.close(), w.flush(), w.close(), w.all_writers)[-1])(_writer_class(L)("d")),
    "context_manager_closes_on_error": lambda L: (lambda w: ([outcome(lambda: _raise_inside(w))[0]], w.all_writers))(_writer_class(L)("d")),
    "methods_return_none": lambda L: (lambda w: (lambda r: (w.close(), r)[1])([
        w.add_scalar("a", 1.0), w.add_scalars("b", {"x": 1.0}), w.add_histogram("c", L.tensor(H)), w.add_image("d", L.tensor(CHW)),
        w.add_text("e", "x"), w.flush(), w.add_tensor("f", L.tensor([1.0])), w.add_embedding(L.tensor(EMB)),
        w.add_pr_curve("g", L.tensor([0, 1]), L.tensor([0.1, 0.9])), w.add_hparams({"lr": 1.0}, {"m": 1.0}, run_name="r")]))(_writer_class(L)("d")),
}


def _raise_inside(writer):
    with writer:
        raise KeyError("inside")


@pytest.mark.parametrize("run", list(ATTRIBUTE_CASES.values()), ids=list(ATTRIBUTE_CASES))
def test_attributes(run):
    same_in_both(run)


def test_embedding_dir_exists_prints_warning(capsys):
    printed = []
    for L in (torch, chainrule):
        logged(L, lambda w: (w.add_embedding(L.tensor(EMB)), w.add_embedding(L.tensor(EMB))))
        printed.append(capsys.readouterr().out)
    assert printed[1] == printed[0] and "Embedding dir exists" in printed[0]


SHARED_METHODS = [
    "__init__", "get_logdir", "add_hparams", "add_scalar", "add_scalars", "add_tensor", "add_histogram", "add_histogram_raw", "add_image",
    "add_images", "add_figure", "add_text", "add_graph", "add_embedding", "add_pr_curve", "add_pr_curve_raw", "flush", "close", "__enter__",
]


def test_exit_takes_the_three_exception_arguments():
    same_in_both(lambda L: (lambda w: (w.__exit__(None, None, None), w.all_writers)[1])(_writer_class(L)(_new_dir(L))))


def _parameters(method):
    return [[p.name, p.kind.name, repr(p.default)] for p in inspect.signature(method).parameters.values()]


@pytest.mark.parametrize("name", SHARED_METHODS)
def test_signature(name):
    assert _parameters(getattr(ChainruleWriter, name)) == _parameters(getattr(TorchWriter, name))


# --- names PyTorch has that chainrule lacks -----------------------------------------------------

MISSING_METHOD_CASES = {
    "add_custom_scalars": log_both(lambda w, L: w.add_custom_scalars(
        {"Losses": {"all": ["Multiline", ["loss/train", "loss/valid"]]}, "Acc": {"band": ["Margin", ["acc", "acc_lo", "acc_hi"]]}})),
    "add_custom_scalars_multilinechart": log_both(lambda w, L: w.add_custom_scalars_multilinechart(["a", "b"], category="c", title="t")),
    "add_custom_scalars_marginchart": log_both(lambda w, L: w.add_custom_scalars_marginchart(["a", "lo", "hi"])),
    "add_audio": log_both(lambda w, L: w.add_audio("snd", L.tensor([0.0, 0.5, -0.5, 1.0]), 0, sample_rate=8000)),
    "add_mesh": log_both(lambda w, L: w.add_mesh("m", vertices=L.tensor([[[1.0, 1.0, 1.0], [-1.0, -1.0, 1.0], [1.0, -1.0, -1.0]]]),
                                                 faces=L.tensor([[[0, 1, 2]]]), global_step=1)),
    "add_image_with_boxes": log_both(lambda w, L: w.add_image_with_boxes("b", L.zeros(3, 8, 8), L.tensor([[1.0, 1.0, 5.0, 6.0]]), 0)),
    "add_video": lambda L: callable(getattr(_writer_class(L), "add_video", None)),
    "add_onnx_graph": lambda L: callable(getattr(_writer_class(L), "add_onnx_graph", None)),
}


@pytest.mark.parametrize("run", list(MISSING_METHOD_CASES.values()), ids=list(MISSING_METHOD_CASES))
def test_missing_methods(run):
    same_in_both(run)


def test_module_file_writer():
    assert "FileWriter" in chainrule.utils.tensorboard.__all__
    same_in_both(lambda L: (lambda mod: (lambda fw: (fw.add_summary(_text_summary(L), 3), fw.close(),
                                                     listing(fw.get_logdir()))[-1])(mod.FileWriter(_new_dir(L))))(
        torch.utils.tensorboard if L is torch else chainrule.utils.tensorboard))


def test_module_record_writer():
    assert hasattr(chainrule.utils.tensorboard, "RecordWriter")


def test_summary_module():
    import importlib

    def run(L):
        summary = importlib.import_module(f"{L.__name__}.utils.tensorboard.summary")
        experiment, start, end = summary.hparams({"lr": 0.1}, {"m": 1.0})
        return [MessageToDict(each) for each in (summary.scalar("a", 1.5), experiment, end)]

    same_in_both(run)


def _text_summary(L):
    from tensorboard.compat.proto.summary_pb2 import Summary

    return Summary(value=[Summary.Value(tag="s", simple_value=2.5)])


def test_file_writer_add_summary():
    same_in_both(log_both(lambda w, L: w.file_writer.add_summary(_text_summary(L), 3, 4.0)))


def test_file_writer_add_event_step_walltime():
    from tensorboard.compat.proto.event_pb2 import Event

    same_in_both(log_both(lambda w, L: w.file_writer.add_event(Event(summary=_text_summary(L)), 2, 5.0)))


def test_file_writer_get_logdir_flush_close():
    same_in_both(lambda L: (lambda w: (w.file_writer.flush(), os.path.relpath(w.file_writer.get_logdir()), w.close())[1])(_writer_class(L)("d/e")))


@bug("PyTorch's FileWriter.reopen raises AttributeError: it calls EventFileWriter.reopen, which tensorboard (2.21) does not "
     "have; chainrule's reopen does what PyTorch documents (log again into a new event file after close), so the two differ")
def test_file_writer_reopen():
    same_in_both(lambda L: (lambda d: (lambda w: (w.file_writer.close(), w.file_writer.reopen(), w.close(), len(listing(d)))[-1])(
        _writer_class(L)(d)))(_new_dir(L)))


# --- bad input: PyTorch's exception type --------------------------------------------------------

def _bad(call):
    """A case: ``call(writer, L)`` in a fresh log dir (the writer closed either way)."""
    return lambda L: logged(L, lambda w: call(w, L))


RAISES_CASES = {
    "scalar_two_elements": _bad(lambda w, L: w.add_scalar("a", L.tensor([1.0, 2.0]))),
    "scalar_empty_tensor": _bad(lambda w, L: w.add_scalar("a", L.zeros(0))),
    "scalar_not_a_number_string": _bad(lambda w, L: w.add_scalar("a", "abc")),
    "scalar_complex": _bad(lambda w, L: w.add_scalar("a", 1j)),
    "scalar_list": _bad(lambda w, L: w.add_scalar("a", [1.0])),
    "scalar_none": _bad(lambda w, L: w.add_scalar("a", None)),
    "scalar_step_not_a_number": _bad(lambda w, L: w.add_scalar("a", 1.0, "x")),
    "scalars_value_two_elements": _bad(lambda w, L: w.add_scalars("m", {"a": L.tensor([1.0, 2.0])})),
    "histogram_empty": _bad(lambda w, L: w.add_histogram("h", L.zeros(0))),
    "histogram_empty_numpy": _bad(lambda w, L: w.add_histogram("h", np.zeros((2, 0)))),
    "histogram_bins_zero": _bad(lambda w, L: w.add_histogram("h", L.tensor(H), bins=0)),
    "histogram_bins_unknown_name": _bad(lambda w, L: w.add_histogram("h", L.tensor(H), bins="nope")),
    "histogram_nan_auto_bins": _bad(lambda w, L: w.add_histogram("h", L.tensor([1.0, float("nan")]), bins="auto")),
    "histogram_inf_int_bins": _bad(lambda w, L: w.add_histogram("h", L.tensor([1.0, INF]), bins=3)),
    "histogram_edges_decreasing": _bad(lambda w, L: w.add_histogram("h", L.tensor(H), bins=[3.0, 1.0, 0.0])),
    "histogram_list": _bad(lambda w, L: w.add_histogram("h", [1.0, 2.0])),
    "histogram_all_outside_edges": _bad(lambda w, L: w.add_histogram("h", L.tensor([5.0, 6.0]), bins=[0.0, 1.0, 2.0])),
    "histogram_raw_length_mismatch": _bad(lambda w, L: w.add_histogram_raw("h", 0, 1, 2, 1, 1, [0.5, 1.0], [2])),
    "image_duplicate_dataformat": _bad(lambda w, L: w.add_image("i", L.tensor(CHW), dataformats="CCH")),
    "image_rank_mismatch": _bad(lambda w, L: w.add_image("i", L.tensor(HW))),
    "image_rank_mismatch_hwc": _bad(lambda w, L: w.add_image("i", L.tensor(CHW)[0], dataformats="HWC")),
    "images_3d_default_nchw": _bad(lambda w, L: w.add_images("i", L.tensor(CHW))),
    "images_four_channels": _bad(lambda w, L: w.add_images("i", L.zeros(2, 4, 3, 3))),
    "images_two_channels": _bad(lambda w, L: w.add_images("i", L.zeros(2, 2, 3, 3))),
    "images_empty_batch": _bad(lambda w, L: w.add_images("i", L.zeros(0, 3, 2, 2))),
    "scalar_tag_not_a_string": _bad(lambda w, L: w.add_scalar(5, 1.0)),
    "text_tag_none": _bad(lambda w, L: w.add_text(None, "x")),
    "text_not_a_string": _bad(lambda w, L: w.add_text("t", 5)),
    "hparams_not_dicts": _bad(lambda w, L: w.add_hparams([("lr", 0.1)], {"m": 1.0})),
    "hparams_metric_not_dict": _bad(lambda w, L: w.add_hparams({"lr": 0.1}, None)),
    "hparams_ordered_dict_subclass": _bad(lambda w, L: w.add_hparams(__import__("collections").OrderedDict(lr=0.1), {"m": 1.0})),
    "hparams_value_list": _bad(lambda w, L: w.add_hparams({"layers": [1, 2]}, {"m": 1.0})),
    "hparams_value_numpy_int": _bad(lambda w, L: w.add_hparams({"n": np.int64(3)}, {"m": 1.0})),
    "hparams_domain_not_dict": _bad(lambda w, L: w.add_hparams({"lr": 0.1}, {"m": 1.0}, hparam_domain_discrete=[0.1])),
    "hparams_domain_wrong_type": _bad(lambda w, L: w.add_hparams({"opt": "sgd"}, {"m": 1.0}, hparam_domain_discrete={"opt": ["sgd", 1]})),
    "hparams_domain_unknown_key": _bad(lambda w, L: w.add_hparams({"lr": 0.1}, {"m": 1.0}, hparam_domain_discrete={"x": [0.1]})),
    "hparams_domain_not_list": _bad(lambda w, L: w.add_hparams({"lr": 0.1}, {"m": 1.0}, hparam_domain_discrete={"lr": (0.1,)})),
    "hparams_metric_two_elements": _bad(lambda w, L: w.add_hparams({"lr": 0.1}, {"m": L.tensor([1.0, 2.0])}, run_name="r")),
    "embedding_metadata_length": _bad(lambda w, L: w.add_embedding(L.tensor(EMB), metadata=["a", "b"])),
    "embedding_mat_1d": _bad(lambda w, L: w.add_embedding(L.tensor([1.0, 2.0]))),
    "embedding_mat_3d": _bad(lambda w, L: w.add_embedding(L.zeros(2, 2, 2))),
    "embedding_header_length": _bad(lambda w, L: w.add_embedding(L.tensor(EMB), metadata=[["a", 1]] * 3, metadata_header=["x"])),
    "embedding_label_img_count": _bad(lambda w, L: w.add_embedding(L.tensor(EMB), label_img=L.zeros(2, 3, 2, 2))),
    "embedding_path_is_a_file": _bad(lambda w, L: (os.makedirs(os.path.join(w.get_logdir(), "00000"), exist_ok=True),
                                                   open(os.path.join(w.get_logdir(), "00000", "default"), "w").close(),
                                                   w.add_embedding(L.tensor(EMB)))),
    "pr_curve_raw_length_mismatch": _bad(lambda w, L: w.add_pr_curve_raw("p", [1, 2], [1, 2], [1, 2], [1, 2], [1.0, 1.0], [1.0], num_thresholds=2)),
    "pr_curve_num_thresholds_one": _bad(lambda w, L: w.add_pr_curve("p", L.tensor([0, 1]), L.tensor([0.1, 0.9]), num_thresholds=0)),
}


@pytest.mark.parametrize("run", list(RAISES_CASES.values()), ids=list(RAISES_CASES))
def test_raises_as_torch(run):
    raises_as_torch(run)
