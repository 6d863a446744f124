"""``torch.distributed.algorithms.ddp_comm_hooks.post_localSGD_hook``: the state of post-local SGD,
which averages gradients across every process for ``start_localSGD_iter`` steps and only within
``subgroup`` after. chainrule's DDP runs no communication hook, so nothing reads this state."""

__all__ = ["PostLocalSGDState"]


class PostLocalSGDState:
    """Settings of post-local SGD, as PyTorch's: ``process_group`` (None: the default group) for the
    first ``start_localSGD_iter`` steps, ``subgroup`` after them, and whether the gradients are
    still averaged within ``subgroup`` then (``post_local_gradient_allreduce``); ``iter`` counts steps."""

    __slots__ = ["process_group", "subgroup", "start_localSGD_iter", "post_local_gradient_allreduce", "iter"]

    def __init__(self, process_group, subgroup, start_localSGD_iter, post_local_gradient_allreduce=True):
        self.process_group = process_group
        self.subgroup = subgroup
        self.start_localSGD_iter = start_localSGD_iter
        self.post_local_gradient_allreduce = post_local_gradient_allreduce
        self.iter = 0
