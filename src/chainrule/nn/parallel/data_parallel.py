"""DataParallel: PyTorch's single-process, multi-GPU wrapper, as PyTorch has it on a machine
without GPUs: it holds the model as ``.module`` and its forward calls it.

Code written for GPUs (``model = nn.DataParallel(model)``) then runs unchanged, and its checkpoints
keep PyTorch's ``module.`` prefix on every key. For training on several processes, see
``DistributedDataParallel``.
"""
from chainrule.nn.module import Module


class DataParallel(Module):
    """Wrap ``module``: ``DataParallel(model)(x)`` is ``model(x)``.

    PyTorch splits each batch along ``dim`` over ``device_ids`` when GPUs are present; without them
    (and so always in chainrule) it ignores ``device_ids``, ``output_device`` and ``dim`` and keeps
    only ``module`` and ``device_ids = []``, as here. The state dict's keys start with ``module.``:
    save ``model.module.state_dict()`` for the bare model's keys.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = []

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
