"""``chainrule.utils.tensorboard``, as ``torch.utils.tensorboard``: ``SummaryWriter`` logs a run's
numbers, histograms, images, text, hyperparameters and the model's graph for TensorBoard::

    from chainrule.utils.tensorboard import SummaryWriter

    writer = SummaryWriter()                       # runs/<date>_<host>/
    for step in range(steps):
        ...
        writer.add_scalar("loss/train", loss.item(), step)
        writer.add_histogram("fc1.weight.grad", model.fc1.weight.grad, step)
    writer.close()

then ``tensorboard --logdir runs``. The event files are written by the tensorboard package (the
``tensorboard`` extra: ``pip install chainrule[tensorboard]``), so TensorBoard reads them as it
reads PyTorch's. As in PyTorch, ``FileWriter`` writes one event file (``writer.file_writer``),
``RecordWriter`` (tensorboard's) the records in it, and ``summary`` builds each kind of summary by
hand.
"""
try:
    import tensorboard  # noqa: F401
except ImportError as error:
    raise ImportError(
        "chainrule.utils.tensorboard writes TensorBoard's event files with the tensorboard package, which is "
        "not installed: pip install 'chainrule[tensorboard]'"
    ) from error

from tensorboard.summary.writer.record_writer import RecordWriter

from chainrule.utils.tensorboard import summary
from chainrule.utils.tensorboard.writer import FileWriter, SummaryWriter

__all__ = ["FileWriter", "RecordWriter", "SummaryWriter"]
