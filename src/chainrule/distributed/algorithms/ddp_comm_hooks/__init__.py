"""``torch.distributed.algorithms.ddp_comm_hooks``: PyTorch's replacements for the all-reduce of
DistributedDataParallel's gradient buckets (compression, local SGD). chainrule's DDP always averages
its buckets with one all-reduce and takes no hook; ``post_localSGD_hook.PostLocalSGDState`` is here
because trainers (Lightning's DDP) ask whether the state they were given is one."""
from chainrule.distributed.algorithms.ddp_comm_hooks import post_localSGD_hook

__all__ = ["post_localSGD_hook"]
