"""``chainrule.utils.tensorboard.summary``, as ``torch.utils.tensorboard.summary``: the functions
that build each kind of TensorBoard ``Summary`` protocol buffer, the ones ``SummaryWriter``'s
``add_*`` methods log. Build one by hand and log it with the writer's file writer::

    from chainrule.utils.tensorboard import SummaryWriter, summary

    writer = SummaryWriter()
    writer.file_writer.add_summary(summary.scalar("loss", 0.25), global_step=3)

They are defined in ``summaries`` (numbers, text, hyperparameters) and ``media`` (pictures, sound,
meshes); this module gives them PyTorch's public names."""
import struct

from chainrule.utils.tensorboard.media import audio, draw_boxes, image, image_boxes, make_image, make_video, mesh, video
from chainrule.utils.tensorboard.summaries import (
    compute_curve, custom_scalars, histogram, histogram_raw, hparams, make_histogram, pr_curve, pr_curve_raw, scalar, tensor_proto, text,
)

__all__ = [
    "half_to_int", "int_to_half", "hparams", "scalar", "histogram_raw", "histogram", "make_histogram", "image", "image_boxes", "draw_boxes", "make_image", "video",
    "make_video", "audio", "custom_scalars", "text", "tensor_proto", "pr_curve_raw", "pr_curve", "compute_curve", "mesh",
]


def half_to_int(f):
    """The bits of the number ``f`` stored as a float32, read as an int32 (PyTorch's helper, named
    for float16 though it packs float32; ``tensor_proto`` writes a float16 tensor's own bits)."""
    return struct.unpack("i", struct.pack("f", f))[0]


def int_to_half(i):
    """The inverse of ``half_to_int``: the int32 ``i``'s bits read as a float32."""
    return struct.unpack("f", struct.pack("i", i))[0]
