"""utils.tensorboard.SummaryWriter against torch.utils.tensorboard.SummaryWriter: the same calls write
event files that TensorBoard's own reader reads back alike (scalars, histograms, images, text,
hyperparameters, the graph), in the same run directories."""
import io
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util import tensor_util
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import chainrule
from chainrule.utils.tensorboard import SummaryWriter


def _read(directory):
    accumulator = EventAccumulator(str(directory), size_guidance={"tensors": 0, "images": 0, "histograms": 0, "scalars": 0})
    accumulator.Reload()
    return accumulator


def _log_both(tmp_path, log):
    """``log(writer, lib)`` with each library's writer into its own directory; the two readers."""
    readers = []
    for lib, writer_class in ((chainrule, SummaryWriter), (torch, TorchWriter)):
        directory = tmp_path / lib.__name__
        with writer_class(str(directory)) as writer:
            log(writer, lib)
        readers.append((directory, _read(directory)))
    return readers


def test_scalars_and_their_runs_read_back_as_pytorchs(tmp_path):
    def log(writer, lib):
        for step in range(5):
            writer.add_scalar("loss/train", 1.0 / (step + 1), step)
            writer.add_scalar("accuracy", lib.tensor(step * 0.1), step)
        writer.add_scalars("compare", {"train": 0.5, "valid": lib.tensor([0.7])}, 3)

    (ours_dir, ours), (theirs_dir, theirs) = _log_both(tmp_path, log)
    assert ours.Tags()["scalars"] == theirs.Tags()["scalars"]
    for tag in ("loss/train", "accuracy"):
        assert [(e.step, e.value) for e in ours.Scalars(tag)] == [(e.step, e.value) for e in theirs.Scalars(tag)]
    assert sorted(p.name for p in ours_dir.iterdir() if p.is_dir()) == sorted(p.name for p in theirs_dir.iterdir() if p.is_dir())
    for run in ("compare_train", "compare_valid"):
        assert [(e.step, e.value) for e in _read(ours_dir / run).Scalars("compare")] == [
            (e.step, e.value) for e in _read(theirs_dir / run).Scalars("compare")
        ]


@pytest.mark.parametrize("bins", ["tensorflow", "auto", 7, "edges"])
def test_histograms_have_pytorchs_buckets(tmp_path, bins):
    values = np.random.default_rng(0).standard_normal(500).astype(np.float32)
    chosen = np.linspace(-4, 4, 9) if bins == "edges" else bins

    def log(writer, lib):
        writer.add_histogram("weights", lib.tensor(values), 2, bins=chosen)
        writer.add_histogram("few", lib.tensor(values), 2, bins=chosen, max_bins=3)

    (_, ours), (_, theirs) = _log_both(tmp_path, log)
    for tag in ("weights", "few"):
        mine, oracle = ours.Histograms(tag)[0].histogram_value, theirs.Histograms(tag)[0].histogram_value
        for field in ("min", "max", "num", "sum", "sum_squares"):
            assert getattr(mine, field) == pytest.approx(getattr(oracle, field), rel=1e-6)
        np.testing.assert_allclose(mine.bucket_limit, oracle.bucket_limit, rtol=1e-12)
        assert list(mine.bucket) == list(oracle.bucket)


@pytest.mark.parametrize(
    ("shape", "dataformats", "method"),
    [((3, 6, 5), "CHW", "add_image"), ((6, 5, 1), "HWC", "add_image"), ((6, 5), "HW", "add_image"), ((5, 1, 4, 3), "NCHW", "add_images")],
)
def test_images_decode_to_pytorchs_pixels(tmp_path, shape, dataformats, method):
    values = np.random.default_rng(1).random(shape).astype(np.float32)

    def log(writer, lib):
        getattr(writer, method)("picture", lib.tensor(values), 0, dataformats=dataformats)

    (_, ours), (_, theirs) = _log_both(tmp_path, log)
    decoded = [np.asarray(Image.open(io.BytesIO(reader.Images("picture")[0].encoded_image_string))) for reader in (ours, theirs)]
    np.testing.assert_array_equal(decoded[0], decoded[1])


def test_a_matplotlib_figure_is_logged_as_an_image(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(2, 1), dpi=50)
    plt.plot([0, 1], [1, 0])
    with SummaryWriter(str(tmp_path)) as writer:
        writer.add_figure("curve", figure, 4)
    image = _read(tmp_path).Images("curve")[0]
    assert (image.step, image.width, image.height) == (4, 100, 50)
    assert not plt.fignum_exists(figure.number)  # closed, as close=True asks


def test_text_and_hyperparameters_read_back_as_pytorchs(tmp_path):
    def log(writer, lib):
        writer.add_text("notes", "learning rate **0.1**", 1)
        writer.add_hparams({"lr": 0.1, "optimizer": "sgd", "nesterov": True, "width": lib.tensor([64.0])}, {"hparam/accuracy": 0.93}, run_name="trial")

    (ours_dir, ours), (theirs_dir, theirs) = _log_both(tmp_path, log)
    assert ours.Tensors("notes/text_summary")[0].tensor_proto.string_val == theirs.Tensors("notes/text_summary")[0].tensor_proto.string_val
    ours_run, theirs_run = _read(ours_dir / "trial"), _read(theirs_dir / "trial")
    assert ours_run.Tags()["tensors"] == theirs_run.Tags()["tensors"]
    assert [e.value for e in ours_run.Scalars("hparam/accuracy")] == [e.value for e in theirs_run.Scalars("hparam/accuracy")]
    assert ours_run.summary_metadata == theirs_run.summary_metadata  # the experiment, session start and end, byte for byte


def test_the_graph_names_operations_by_the_module_that_ran_them(tmp_path):
    model = chainrule.nn.Sequential(chainrule.nn.Linear(4, 3), chainrule.nn.ReLU(), chainrule.nn.Linear(3, 2))
    with SummaryWriter(str(tmp_path)) as writer:
        writer.add_graph(model, chainrule.randn(5, 4))
    nodes = {node.name: node for node in _read(tmp_path).Graph().node}
    assert {"input/0", "0/weight", "0/bias", "2/weight", "2/bias"} <= set(nodes)
    (first,) = [node for name, node in nodes.items() if name.startswith("0/Addmm")]
    (relu,) = [node for name, node in nodes.items() if name.startswith("1/Relu")]
    (last,) = [node for name, node in nodes.items() if name.startswith("2/Addmm")]
    assert list(first.input) == ["input/0", "0/weight", "0/bias"] and list(relu.input) == [first.name]
    assert list(last.input) == [relu.name, "2/weight", "2/bias"]
    assert not model[0].weight.grad_fn and all(not p.requires_grad or p.grad is None for p in model.parameters())


def test_the_graph_is_traced_in_eval_mode_as_pytorchs(tmp_path, capsys):
    """As PyTorch's tracer: no batch statistics updated, no dropout mask drawn (the random stream
    goes on as if add_graph had not run), the training mode given back; a failing call says so."""
    draws = []
    for lib, Writer in ((chainrule, SummaryWriter), (torch, TorchWriter)):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.BatchNorm1d(3), lib.nn.Dropout(0.5))
        with Writer(str(tmp_path / lib.__name__)) as writer:
            writer.add_graph(model, lib.randn(4, 3) * 5 + 2)
            assert model.training and model[1].num_batches_tracked.item() == 0 and model[1].running_mean.abs().sum().item() == 0
            draws.append(lib.rand(3).tolist())
            with pytest.raises(RuntimeError):
                writer.add_graph(model, lib.randn(4, 5))
        assert capsys.readouterr().out.splitlines()[-1] == "Error occurs, No graph saved"
    assert draws[0] == draws[1]


def test_default_directory_purge_step_and_reopening(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1")
    (run,) = os.listdir(tmp_path / "runs")
    assert run.endswith("_lr0.1") and writer.get_logdir() == os.path.join("runs", run)
    writer.add_scalar("x", 1.0, 0)
    writer.close()
    writer.add_scalar("x", 2.0, 1)  # a closed writer opens a new file
    writer.close()
    assert [e.value for e in _read(tmp_path / "runs" / run).Scalars("x")] == [1.0, 2.0]
    with SummaryWriter(str(tmp_path / "resumed"), purge_step=5) as resumed:
        resumed.add_scalar("x", 3.0, 5)
    assert [e.step for e in _read(tmp_path / "resumed").Scalars("x")] == [5]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda w: w.add_scalar("x", chainrule.ones(2)), AssertionError),
        (lambda w: w.add_image("x", chainrule.ones(3, 4, 4), dataformats="HW"), AssertionError),
        (lambda w: w.add_histogram("x", chainrule.ones(0)), ValueError),
        (lambda w: w.add_hparams([("lr", 0.1)], {}), TypeError),
        (lambda w: w.add_hparams({"lr": [0.1]}, {}), ValueError),
    ],
)
def test_bad_values_raise_pytorchs_errors(tmp_path, call, error):
    with SummaryWriter(str(tmp_path)) as writer, pytest.raises(error):
        call(writer)


def test_without_tensorboard_the_import_names_the_extra():
    code = "import sys; sys.modules['tensorboard'] = None; import chainrule.utils.tensorboard"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.returncode != 0 and "chainrule[tensorboard]" in completed.stderr


def test_precision_recall_curves_and_tensors_read_back_as_pytorchs(tmp_path):
    rng = np.random.default_rng(2)
    labels, predictions = rng.integers(0, 2, 60), rng.random(60).astype(np.float32)
    counts = [rng.integers(0, 9, 5).astype(float) for _ in range(6)]
    values = rng.random((2, 3)) * 4

    def log(writer, lib):
        writer.add_pr_curve("class 0", lib.tensor(labels), lib.tensor(predictions), 1, num_thresholds=20)
        writer.add_pr_curve("weighted", lib.tensor(labels), lib.tensor(predictions), 1, weights=predictions)  # an array, as PyTorch needs
        writer.add_pr_curve_raw("raw", *counts, global_step=2, num_thresholds=5)
        for name in ("float32", "float64", "int64", "bool", "float16", "uint8"):
            writer.add_tensor(f"t_{name}", lib.tensor(values).to(getattr(lib, name)), 3)

    (_, ours), (_, theirs) = _log_both(tmp_path, log)
    assert ours.Tags()["tensors"] == theirs.Tags()["tensors"]
    for tag in ours.Tags()["tensors"]:
        mine, oracle = ours.Tensors(tag)[0], theirs.Tensors(tag)[0]
        assert mine.step == oracle.step
        if tag != "t_float16":  # PyTorch writes a float16 tensor's float32 bits, which TensorBoard misreads
            assert mine.tensor_proto == oracle.tensor_proto, tag
    assert ours.summary_metadata == theirs.summary_metadata
    half = tensor_util.make_ndarray(ours.Tensors("t_float16")[0].tensor_proto)
    np.testing.assert_array_equal(half, values.astype(np.float16))


def test_embeddings_are_written_for_the_projector_as_pytorchs(tmp_path):
    rng = np.random.default_rng(3)
    points, thumbnails = rng.standard_normal((6, 4)), rng.random((6, 1, 5, 5)).astype(np.float32)
    rows = [[f"c{index % 3}", index] for index in range(6)]

    def log(writer, lib):
        writer.add_embedding(lib.tensor(points), metadata=[index % 3 for index in range(6)], label_img=lib.tensor(thumbnails), global_step=7)
        writer.add_embedding(lib.tensor(points), metadata=rows, metadata_header=["class", "index"], tag="with/header")

    (ours_dir, _), (theirs_dir, _) = _log_both(tmp_path, log)
    written = sorted(str(p.relative_to(theirs_dir)) for p in theirs_dir.rglob("*") if p.is_file() and "tfevents" not in p.name)
    assert sorted(str(p.relative_to(ours_dir)) for p in ours_dir.rglob("*") if p.is_file() and "tfevents" not in p.name) == written
    for name in written:
        if name.endswith(".png"):
            decoded = [np.asarray(Image.open(directory / name)) for directory in (ours_dir, theirs_dir)]
            np.testing.assert_array_equal(decoded[0], decoded[1])
        else:
            assert (ours_dir / name).read_text() == (theirs_dir / name).read_text(), name
