"""``torch.distributed.utils``: the helper that makes a model the same on every process, as
DistributedDataParallel does when it wraps one (trainers call it for evaluation, where they do not wrap)."""
from chainrule.distributed.collectives import broadcast
from chainrule.distributed.process_group import get_world_size


def _sync_module_states(module, process_group, broadcast_bucket_size, src, params_and_buffers_to_ignore, broadcast_buffers=True):
    """Overwrite ``module``'s parameters (and buffers, with ``broadcast_buffers``) on every process
    with process ``src``'s, except those named in ``params_and_buffers_to_ignore``. The tensors
    travel one by one: ``broadcast_bucket_size`` (PyTorch's coalescing) changes nothing here."""
    states = [parameter for name, parameter in module.named_parameters() if name not in params_and_buffers_to_ignore]
    if broadcast_buffers:
        states += [buffer for name, buffer in module.named_buffers() if name not in params_and_buffers_to_ignore]
    if get_world_size() > 1:
        for state in states:
            broadcast(state, src=src)
