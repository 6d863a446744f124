"""``SummaryWriter``: what a run logs for TensorBoard, written to event files in ``log_dir``; and
``FileWriter``, the one event file it writes each summary to."""
import os
import socket
import time
from datetime import datetime

from tensorboard.compat.proto.event_pb2 import Event, SessionLog, TaggedRunMetadata
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from chainrule.utils.tensorboard import graph, media, summaries


class FileWriter:
    """One event file in ``log_dir`` (a new one on each opening), as
    ``torch.utils.tensorboard.FileWriter``: events are queued and written in the background, at
    least every ``flush_secs`` seconds and after ``max_queue`` events. ``add_summary`` logs a
    ``Summary`` built by hand (``chainrule.utils.tensorboard.summary``)."""

    def __init__(self, log_dir, max_queue=10, flush_secs=120, filename_suffix=""):
        self._settings = (str(log_dir), max_queue, flush_secs, filename_suffix)
        self.event_writer = EventFileWriter(*self._settings)
        self._closed = False

    def get_logdir(self):
        """The directory of the event file (a string)."""
        return self.event_writer.get_logdir()

    def add_event(self, event, step=None, walltime=None):
        """Queue an ``Event``, stamped with ``walltime`` (now by default) and ``step`` when given."""
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary, global_step=None, walltime=None):
        """Queue a ``Summary`` as an event at ``global_step``."""
        self.add_event(Event(summary=summary), global_step, walltime)

    def add_graph(self, graph_profile, walltime=None):
        """Queue a graph: ``graph_profile`` is (``GraphDef``, ``RunMetadata``), written as the graph's
        event and then its run metadata, tagged 'step1'."""
        graph_def, run_metadata = graph_profile
        self.add_event(Event(graph_def=graph_def.SerializeToString()), None, walltime)
        self.add_event(Event(tagged_run_metadata=TaggedRunMetadata(tag="step1", run_metadata=run_metadata.SerializeToString())), None, walltime)

    def add_onnx_graph(self, graph, walltime=None):
        """Queue a ``GraphDef`` read from an ONNX file."""
        self.add_event(Event(graph_def=graph.SerializeToString()), None, walltime)

    def flush(self):
        """Write every queued event to disk now."""
        self.event_writer.flush()

    def close(self):
        """Flush and close the event file."""
        self.event_writer.close()
        self._closed = True

    def reopen(self):
        """After ``close()``: log again, into a new event file in the same directory (nothing
        happens when the file is open). PyTorch's documents this but fails with tensorboard's
        ``EventFileWriter``, which has no ``reopen``."""
        if self._closed:
            self.event_writer = EventFileWriter(*self._settings)
            self._closed = False


class SummaryWriter:
    """Log scalars, histograms, images, figures, videos, sound, meshes, text, hyperparameters,
    embeddings, custom-scalar charts and the model's graph to event files in ``log_dir`` (default
    ``runs/<month><day>_<hh-mm-ss>_<host><comment>``), as ``torch.utils.tensorboard.SummaryWriter``.
    Events are written in the background at least every ``flush_secs`` seconds, after ``max_queue``
    events, on ``flush()`` and on ``close()`` (and on leaving a ``with`` block). ``purge_step``:
    TensorBoard forgets this run's events from that step on (a run restarted from a checkpoint).
    ``file_writer`` is the ``FileWriter`` of ``log_dir``."""

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120, filename_suffix=""):
        if not log_dir:
            log_dir = os.path.join("runs", datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname() + comment)
        self.log_dir = log_dir
        self.purge_step = purge_step
        self.max_queue, self.flush_secs, self.filename_suffix = max_queue, flush_secs, filename_suffix
        self.file_writer = self.all_writers = None
        self._get_file_writer()

    def _get_file_writer(self):
        """The ``FileWriter`` of ``log_dir`` (made again after ``close()``)."""
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                self.file_writer.add_event(Event(step=self.purge_step, file_version="brain.Event:2"))
                self.file_writer.add_event(Event(step=self.purge_step, session_log=SessionLog(status=SessionLog.START)))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self):
        return self.log_dir

    def _add(self, summary, global_step=None, walltime=None):
        self._get_file_writer().add_summary(summary, global_step, walltime)

    # ----------------------------------------------------------------- numbers
    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False, double_precision=False):
        """One number (a Python number or a one-element tensor) at ``global_step``."""
        self._add(summaries.scalar(tag, scalar_value, new_style=new_style, double_precision=double_precision), global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Several numbers on one chart: each key is a run of its own, ``log_dir/<main_tag>_<key>``."""
        walltime = time.time() if walltime is None else walltime
        log_dir = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            directory = log_dir + "/" + main_tag.replace("/", "_") + "_" + tag
            writer = self.all_writers.get(directory)
            if writer is None:
                writer = self.all_writers[directory] = FileWriter(directory, self.max_queue, self.flush_secs, self.filename_suffix)
            writer.add_summary(summaries.scalar(main_tag, value), global_step, walltime)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None):
        """The distribution of ``values`` (weights, gradients, activations): ``bins`` 'tensorflow'
        (TensorBoard's exponential buckets, as PyTorch's default), a NumPy rule ('auto', 'fd'...),
        a count, or the edges."""
        if isinstance(bins, str) and bins == "tensorflow":
            bins = _TENSORFLOW_BINS
        self._add(summaries.histogram(tag, values, bins, max_bins), global_step, walltime)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts, global_step=None, walltime=None):  # noqa: A002
        """A histogram from its statistics and buckets."""
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError(
                f"add_histogram_raw: len(bucket_limits) != len(bucket_counts) ({len(bucket_limits)} != {len(bucket_counts)}): "
                f"give one count per bucket, each limit its bucket's right edge."
            )
        self._add(summaries.histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts), global_step, walltime)

    def add_tensor(self, tag, tensor, global_step=None, walltime=None):
        """A whole tensor (its values and shape), for TensorBoard's tensor plugin."""
        self._add(summaries.tensor_proto(tag, tensor), global_step, walltime)

    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127, weights=None, walltime=None):
        """The precision-recall curve of 0/1 ``labels`` against predicted probabilities."""
        labels, predictions = summaries.make_np(labels), summaries.make_np(predictions)
        self._add(summaries.pr_curve(tag, labels, predictions, num_thresholds, weights), global_step, walltime)

    def add_pr_curve_raw(
        self, tag, true_positive_counts, false_positive_counts, true_negative_counts, false_negative_counts,
        precision, recall, global_step=None, num_thresholds=127, weights=None, walltime=None,
    ):
        """A precision-recall curve from its counts at each threshold."""
        counts = (true_positive_counts, false_positive_counts, true_negative_counts, false_negative_counts)
        self._add(summaries.pr_curve_raw(tag, *counts, precision, recall, num_thresholds, weights), global_step, walltime)

    # ----------------------------------------------------------------- pictures, video, sound, meshes
    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """An image: (3, H, W) or (1, H, W) by default, floats in [0, 1] or uint8."""
        self._add(media.image(tag, img_tensor, dataformats=dataformats), global_step, walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        """A batch of images, shown as one grid."""
        self._add(media.image(tag, img_tensor, dataformats=dataformats), global_step, walltime)

    def add_image_with_boxes(self, tag, img_tensor, box_tensor, global_step=None, walltime=None, rescale=1, dataformats="CHW", labels=None):
        """An image with boxes drawn on it: ``box_tensor`` (K, 4), each row (x_min, y_min, x_max,
        y_max) in pixels; ``labels`` a text per box (a string for one box; ignored when their number
        differs from the boxes')."""
        if labels is not None:
            labels = [labels] if isinstance(labels, str) else labels
            if len(labels) != box_tensor.shape[0]:
                labels = None
        summary = media.image_boxes(tag, img_tensor, box_tensor, rescale=rescale, dataformats=dataformats, labels=labels)
        self._add(summary, global_step, walltime)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """A matplotlib figure (or a list of them, as a grid), drawn as an image."""
        dataformats = "NCHW" if isinstance(figure, list) else "CHW"
        self.add_image(tag, media.figure(figure, close), global_step, walltime, dataformats=dataformats)

    def add_video(self, tag, vid_tensor, global_step=None, fps=4, walltime=None):
        """Videos (N, T, C, H, W) as one animated GIF (the N side by side), ``fps`` frames a second.
        Encoding GIF needs moviepy 1.x; without it, as PyTorch, a message says so and the video is
        logged without its frames."""
        self._add(media.video(tag, vid_tensor, fps), global_step, walltime)

    def add_audio(self, tag, snd_tensor, global_step=None, sample_rate=44100, walltime=None):
        """A sound: samples in [-1, 1] (1-D), played at ``sample_rate`` samples a second."""
        self._add(media.audio(tag, snd_tensor, sample_rate=sample_rate), global_step, walltime)

    def add_mesh(self, tag, vertices, colors=None, faces=None, config_dict=None, global_step=None, walltime=None):
        """A 3-D mesh or point cloud: ``vertices`` (B, N, 3), ``colors`` (B, N, 3) RGB per vertex,
        ``faces`` (B, F, 3) vertex indices of each triangle; ``config_dict``: three.js settings."""
        self._add(media.mesh(tag, vertices, colors, faces, config_dict), global_step, walltime)

    # ----------------------------------------------------------------- text, hyperparameters, graph
    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """A text (Markdown) in TensorBoard's text tab."""
        self._add(summaries.text(tag, text_string), global_step, walltime)

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None, global_step=None):
        """One run's hyperparameters and final metrics, for TensorBoard's comparison table: written
        as a run of its own, ``log_dir/<run_name>`` (the current time by default)."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        experiment, start, end = summaries.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        with SummaryWriter(log_dir=os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))) as run:
            for summary in (experiment, start, end):
                run.file_writer.add_summary(summary, global_step)
            for tag, value in metric_dict.items():
                run.add_scalar(tag, value, global_step)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """The model's computation for one call on ``input_to_model`` (a tensor or a tuple of
        them), shown in TensorBoard's graph tab, operations grouped by the module that ran them."""
        inputs = input_to_model if isinstance(input_to_model, (tuple, list)) else () if input_to_model is None else (input_to_model,)
        graph_profile = graph.graph(model, inputs)
        if verbose:
            print(graph_profile[0])
        self._get_file_writer().add_graph(graph_profile)

    def add_onnx_graph(self, prototxt):
        """The graph of the ONNX model in the file ``prototxt``, shown in TensorBoard's graph tab
        (reading ONNX needs the onnx package)."""
        self._get_file_writer().add_onnx_graph(graph.onnx_graph(prototxt))

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None, tag="default", metadata_header=None):
        """Points (N, D) for TensorBoard's embedding projector (PCA, t-SNE, UMAP of them), with a
        label per point (``metadata``: a list, or rows of columns named by ``metadata_header``) and
        a thumbnail per point (``label_img`` (N, C, H, W)). Written as tab-separated files under
        ``log_dir/<step>/<tag>/`` and listed in ``projector_config.pbtxt``."""
        from google.protobuf import text_format  # noqa: PLC0415
        from tensorboard.plugins.projector.projector_config_pb2 import EmbeddingInfo, ProjectorConfig  # noqa: PLC0415

        points = summaries.make_np(mat)
        step = 0 if global_step is None else global_step
        subdirectory = f"{str(step).zfill(5)}/{tag.replace('%', '%25').replace('/', '%2f').replace(chr(92), '%5c')}"
        path = os.path.join(self._get_file_writer().get_logdir(), subdirectory)
        if os.path.isdir(path):
            print("warning: Embedding dir exists, did you set global_step for add_embedding()?")
        elif os.path.exists(path):
            raise NotADirectoryError(f"Path: `{path}` exists, but is a file. Cannot proceed.")
        os.makedirs(path, exist_ok=True)
        info = EmbeddingInfo(tensor_name=f"{tag}:{str(step).zfill(5)}", tensor_path=f"{subdirectory}/tensors.tsv")
        if metadata is not None:
            if points.shape[0] != len(metadata):
                raise AssertionError("#labels should equal with #data points")
            if metadata_header:
                if len(metadata_header) != len(metadata[0]):
                    raise AssertionError("len of header must be equal to the number of columns in metadata")
                lines = ["\t".join(str(cell) for cell in row) for row in [metadata_header, *metadata]]
            else:
                lines = [str(label) for label in metadata]
            _write(os.path.join(path, "metadata.tsv"), "\n".join(lines) + "\n")
            info.metadata_path = f"{subdirectory}/metadata.tsv"
        if label_img is not None:
            if points.shape[0] != label_img.shape[0]:
                raise AssertionError("#images should equal with #data points")
            with open(os.path.join(path, "sprite.png"), "wb") as file:
                file.write(media.sprite(label_img))
            info.sprite.image_path = f"{subdirectory}/sprite.png"
            info.sprite.single_image_dim.extend([label_img.shape[3], label_img.shape[2]])
        if points.ndim != 2:
            raise AssertionError("mat should be 2D, where mat.size(0) is the number of data points")
        _write(os.path.join(path, "tensors.tsv"), "".join("\t".join(str(value.item()) for value in row) + "\n" for row in points))
        if not hasattr(self, "_projector_config"):
            self._projector_config = ProjectorConfig()
        self._projector_config.embeddings.extend([info])
        _write(os.path.join(self._get_file_writer().get_logdir(), "projector_config.pbtxt"), text_format.MessageToString(self._projector_config))

    # ----------------------------------------------------------------- custom scalars
    def add_custom_scalars(self, layout):
        """The charts of TensorBoard's custom scalars tab: ``{category: {chart title: [kind,
        tags]}}``, kind 'Multiline' (the tags' curves on one chart; a tag may be a regex) or
        'Margin' (tags [value, lower, upper]: a curve and the band around it). Written once."""
        self._add(summaries.custom_scalars(layout))

    def add_custom_scalars_multilinechart(self, tags, category="default", title="untitled"):
        """One custom-scalars chart: the curves of ``tags`` together."""
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(self, tags, category="default", title="untitled"):
        """One custom-scalars chart: ``tags`` [value, lower, upper], a curve and its band."""
        if len(tags) != 3:
            raise AssertionError(f"add_custom_scalars_marginchart takes 3 tags (value, lower, upper), got {len(tags)}: {tags!r}")
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    # ----------------------------------------------------------------- files
    def flush(self):
        """Write every pending event to disk now."""
        for writer in (self.all_writers or {}).values():
            writer.flush()

    def close(self):
        """Flush and close the files; logging again reopens ``log_dir`` with a new file."""
        for writer in (self.all_writers or {}).values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()


def _write(path, text):
    with open(path, "wb") as file:
        file.write(text.encode())


def _exponential_bins():
    """TensorBoard's default bucket edges: ±1e-12 · 1.1^k up to 1e20, and 0."""
    edges, edge = [], 1e-12
    while edge < 1e20:
        edges.append(edge)
        edge *= 1.1
    return [-edge for edge in reversed(edges)] + [0] + edges


_TENSORFLOW_BINS = _exponential_bins()
