"""The summaries of pictures, sound and 3-D meshes a ``SummaryWriter`` writes: images (one, or a
batch as a grid, with boxes drawn on them), matplotlib figures, GIF videos, WAV audio, meshes, and
the embedding projector's sprite of thumbnails. Each takes chainrule tensors or arrays and returns
TensorBoard's protocol buffers."""
import io
import json
import math
import wave

from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto

from chainrule.backend import xp
from chainrule.utils.tensorboard.summaries import as_array, make_np


# ----------------------------------------------------------------------------- images
def image(tag, tensor, rescale=1, dataformats="NCHW"):
    """An image (or a grid of images, for a 4-D batch) encoded as PNG. ``dataformats`` names the
    axes: 'CHW', 'HWC', 'HW' or, for a batch, 'NCHW', 'NHWC'. Floats are read as [0, 1], uint8 as
    [0, 255]; one channel is shown as grey. ``rescale`` scales the picture's size."""
    picture = _as_pixels(_as_height_width_channels(make_np(tensor), dataformats))
    return Summary(value=[Summary.Value(tag=tag, image=make_image(picture, rescale=rescale))])


def image_boxes(tag, tensor_image, tensor_boxes, rescale=1, dataformats="CHW", labels=None):
    """An image with boxes drawn on it: ``tensor_boxes`` (K, 4), each row (x_min, y_min, x_max,
    y_max) in pixels, ``labels`` a text per box."""
    picture = _as_pixels(_as_height_width_channels(make_np(tensor_image), dataformats))
    return Summary(value=[Summary.Value(tag=tag, image=make_image(picture, rescale=rescale, rois=make_np(tensor_boxes), labels=labels))])


def make_image(tensor, rescale=1, rois=None, labels=None):
    """Pixels (H, W, C) uint8 as a PNG ``Summary.Image``, boxes ``rois`` (K, 4) drawn on it in red,
    its size scaled by ``rescale`` (the height and width recorded are the pixels' own)."""
    pillow = _pillow()
    height, width, channels = tensor.shape
    picture = pillow.Image.fromarray(tensor)
    if rois is not None:
        picture = draw_boxes(picture, rois, labels=labels)
    picture = picture.resize((int(width * rescale), int(height * rescale)), pillow.Image.Resampling.LANCZOS)
    output = io.BytesIO()
    picture.save(output, format="PNG")
    return Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=output.getvalue())


def draw_boxes(disp_image, boxes, labels=None):
    """Boxes (K, 4) of (x_min, y_min, x_max, y_max) drawn on a PIL image in red, 2 pixels wide,
    each with its label (if any) on a red band above its bottom edge."""
    pillow = _pillow()
    font = pillow.ImageFont.load_default()
    draw = pillow.ImageDraw.Draw(disp_image)
    for index in range(boxes.shape[0]):
        left, top, right, bottom = boxes[index, 0], boxes[index, 1], boxes[index, 2], boxes[index, 3]
        draw.line([(left, top), (left, bottom), (right, bottom), (right, top), (left, top)], width=2, fill="Red")
        label = None if labels is None else labels[index]
        if label:
            text_left, text_top, text_right, text_bottom = font.getbbox(label)
            text_width, text_height = text_right - text_left, text_bottom - text_top
            margin = math.ceil(0.05 * text_height)
            draw.rectangle([(left, bottom - text_height - 2 * margin), (left + text_width, bottom)], fill="Red")
            draw.text((left + margin, bottom - text_height - margin), label, fill="black", font=font)
    return disp_image


def _as_pixels(picture):
    """Floats read as [0, 1] (uint8 as [0, 255]) as uint8 pixels, clipped to [0, 255]."""
    scale = 1 if picture.dtype == xp.uint8 else 255
    return (picture.astype(xp.float32) * scale).clip(0, 255).astype(xp.uint8)


def _as_height_width_channels(array, dataformats):
    """An image whose axes ``dataformats`` names as (H, W, C): a batch as one grid, grey as RGB."""
    if len(set(dataformats)) != len(dataformats) or set(dataformats.upper()) - set("NCHW"):
        raise AssertionError(f"dataformats must name each of N, C, H, W at most once, got {dataformats!r}")
    if array.ndim != len(dataformats):
        raise AssertionError(
            f"size of input tensor and input format are different. tensor shape: {array.shape}, input_format: {dataformats}"
        )
    dataformats = dataformats.upper()
    if len(dataformats) == 4:
        batch = array.transpose([dataformats.index(axis) for axis in "NCHW"])
        return _grid(batch).transpose(1, 2, 0)
    if len(dataformats) == 2:
        grey = array.transpose([dataformats.index(axis) for axis in "HW"])
        return xp.stack([grey] * 3, axis=2)
    picture = array.transpose([dataformats.index(axis) for axis in "HWC"])
    return xp.concatenate([picture] * 3, axis=2) if picture.shape[2] == 1 else picture


def _grid(batch, columns=8):
    """Images (N, C, H, W), grey (C = 1) or RGB (C = 3), side by side, ``columns`` to a row:
    (3, H · rows, W · columns)."""
    if batch.shape[1] == 1:
        batch = xp.concatenate([batch] * 3, axis=1)
    if batch.shape[1] != 3:
        raise AssertionError(
            f"images shown as a grid must have 1 (grey) or 3 (RGB) channels, got a batch of shape (N, C, H, W) = "
            f"{tuple(batch.shape)}: keep 3 channels (images[:, :3]) or log each channel as a grey image"
        )
    count, _, height, width = batch.shape
    columns = min(count, columns)
    rows = -(-count // columns)
    canvas = xp.zeros((3, height * rows, width * columns), dtype=batch.dtype)
    for index in range(count):
        row, column = divmod(index, columns)
        canvas[:, row * height : (row + 1) * height, column * width : (column + 1) * width] = batch[index]
    return canvas


def sprite(images):
    """Thumbnails (N, C, H, W) in a square grid, ceil(√N) to a row, as the embedding projector
    shows them next to their points: PNG bytes."""
    array = make_np(images)
    grid = _grid(array, columns=math.ceil(array.shape[0] ** 0.5)).transpose(1, 2, 0)
    square = xp.zeros((grid.shape[1], grid.shape[1], 3))
    square[: grid.shape[0]] = grid
    return make_image((square * 255).clip(0, 255).astype(xp.uint8)).encoded_image_string


def _pillow():
    """Pillow, which draws and encodes the images (the tensorboard extra)."""
    try:
        import PIL.Image  # noqa: PLC0415 (optional: the tensorboard extra)
        import PIL.ImageDraw  # noqa: PLC0415
        import PIL.ImageFont  # noqa: PLC0415
    except ImportError as error:
        raise ImportError("SummaryWriter draws and encodes images with Pillow, which is not installed: pip install 'chainrule[tensorboard]'") from error
    return PIL


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


# ----------------------------------------------------------------------------- video
def video(tag, tensor, fps=4):
    """A video (N, T, C, H, W), a batch of T frames each, as an animated GIF of ``fps`` frames a
    second, the batch side by side in each frame. Floats are read as [0, 1], uint8 as [0, 255]."""
    frames = _as_pixels(_frames(make_np(tensor)))
    return Summary(value=[Summary.Value(tag=tag, image=make_video(frames, fps))])


def _frames(videos):
    """Videos (N, T, C, H, W) as frames (T, H', W', C): the batch, padded with black videos to a
    power of 2, in a grid of 2^⌊log₂(N) / 2⌋ rows."""
    count, length, channels, height, width = videos.shape
    if videos.dtype == xp.uint8:
        videos = xp.float32(videos) / 255.0
    if not (count > 0 and count & (count - 1) == 0):
        videos = xp.concatenate((videos, xp.zeros((2 ** count.bit_length() - count, length, channels, height, width))), axis=0)
    rows = 2 ** ((count.bit_length() - 1) // 2)
    columns = videos.shape[0] // rows
    videos = videos.reshape(rows, columns, length, channels, height, width).transpose(2, 0, 4, 1, 5, 3)
    return videos.reshape(length, rows * height, columns * width, channels)


def make_video(tensor, fps):
    """Frames (T, H, W, C) uint8 as a GIF ``Summary.Image``, encoded by moviepy 1.x's
    ``moviepy.editor``; without it, as PyTorch, a message says so and None is returned (the
    summary is logged with no picture)."""
    try:
        import moviepy  # noqa: F401, PLC0415 (optional, as in PyTorch)
    except ImportError:
        print("add_video needs package moviepy: pip install 'moviepy<2' (the video is logged without its frames)")
        return None
    try:
        from moviepy import editor  # noqa: PLC0415 (moviepy 2 has no editor module)
    except ImportError:
        print(
            "moviepy is installed, but can't import moviepy.editor.",
            "Some packages could be missing [imageio, requests], or moviepy is 2.x: pip install 'moviepy<2'",
        )
        return None
    import tempfile  # noqa: PLC0415

    _, height, width, channels = tensor.shape
    clip = editor.ImageSequenceClip(list(tensor), fps=fps)
    with tempfile.NamedTemporaryFile(suffix=".gif") as file:
        clip.write_gif(file.name, verbose=False, logger=None)
        file.seek(0)
        encoded = file.read()
    return Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=encoded)


# ----------------------------------------------------------------------------- audio
def audio(tag, tensor, sample_rate=44100):
    """A sound: samples in [-1, 1] (a 1-D tensor, after squeezing; louder samples are clipped),
    encoded as 16-bit mono WAV at ``sample_rate`` samples a second."""
    samples = make_np(tensor).squeeze()
    if abs(samples).max() > 1:
        print("warning: audio amplitude out of range, auto clipped.")
        samples = samples.clip(-1, 1)
    if samples.ndim != 1:
        raise AssertionError(f"input tensor should be 1 dimensional: the samples of one sound, got shape {samples.shape} after squeeze.")
    samples = (samples * xp.iinfo(xp.int16).max).astype("<i2")
    output = io.BytesIO()
    with wave.open(output, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(samples.tobytes())
    sound = Summary.Audio(
        sample_rate=sample_rate, num_channels=1, length_frames=samples.shape[-1], encoded_audio_string=output.getvalue(), content_type="audio/wav",
    )
    return Summary(value=[Summary.Value(tag=tag, audio=sound)])


# ----------------------------------------------------------------------------- meshes
def mesh(tag, vertices, colors, faces, config_dict, display_name=None, description=None):
    """A 3-D mesh or point cloud for TensorBoard's mesh plugin: ``vertices`` (B, N, 3), ``faces``
    (B, F, 3) (the vertices of each triangle), ``colors`` (B, N, 3) (RGB per vertex), each a
    summary value of its own; ``config_dict``: three.js settings (camera, lights, material)."""
    from tensorboard.plugins.mesh import metadata  # noqa: PLC0415
    from tensorboard.plugins.mesh.plugin_data_pb2 import MeshPluginData  # noqa: PLC0415

    json_config = "{}" if config_dict is None else json.dumps(config_dict, sort_keys=True)
    parts = [(values, kind) for values, kind in ((vertices, MeshPluginData.VERTEX), (faces, MeshPluginData.FACE), (colors, MeshPluginData.COLOR))
             if values is not None]
    components = metadata.get_components_bitmask([kind for _, kind in parts])
    values_of_parts = []
    for values, kind in parts:
        array = as_array(values)
        part_metadata = metadata.create_summary_metadata(tag, display_name, kind, components, array.shape, description, json_config=json_config)
        proto = TensorProto(
            dtype="DT_FLOAT", float_val=array.reshape(-1).tolist(), tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=size) for size in array.shape]),
        )
        values_of_parts.append(Summary.Value(tag=metadata.get_instance_name(tag, kind), tensor=proto, metadata=part_metadata))
    return Summary(value=values_of_parts)
