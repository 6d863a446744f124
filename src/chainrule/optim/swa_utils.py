"""Weight averaging (``torch.optim.swa_utils``): SWA and EMA copies of a model, their schedule, and BatchNorm.

Stochastic weight averaging (Izmailov et al., 2018) evaluates the mean of the weights visited late
in training instead of the last ones; an exponential moving average (EMA) weights recent ones more::

    swa_model = AveragedModel(model)                    # or multi_avg_fn=get_ema_multi_avg_fn(0.999)
    swa_scheduler = SWALR(optimizer, swa_lr=0.05)
    for epoch in range(epochs):
        train_one_epoch()
        if epoch >= swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
    update_bn(loader, swa_model)                        # BatchNorm statistics for the averaged weights
"""
import copy
import itertools
import math

from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import xp
from chainrule.nn import Module
from chainrule.nn import normalization
from chainrule.optim.lr_scheduler import LRScheduler, per_group
from chainrule.tensor import tensor_from_array


def get_ema_multi_avg_fn(decay=0.999):
    """An EMA update of lists of tensors, in place: ``ema = decay * ema + (1 - decay) * current``."""
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _):
        with no_grad():
            if ema_param_list[0].is_floating_point():
                for ema, current in zip(ema_param_list, current_param_list):
                    ema.lerp_(current, 1 - decay)
            else:
                for ema, current in zip(ema_param_list, current_param_list):
                    ema.copy_(ema * decay + current * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """A running-mean update of lists of tensors, in place: ``avg = avg + (current - avg) / (n + 1)``."""

    def swa_update(averaged_param_list, current_param_list, num_averaged):
        with no_grad():
            for averaged, current in zip(averaged_param_list, current_param_list):
                if averaged.is_floating_point():
                    averaged.lerp_(current, float(1 / (num_averaged + 1)))
                else:
                    averaged.add_((current - averaged) / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """An EMA update of one tensor: returns ``decay * ema + (1 - decay) * current``."""
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """A running-mean update of one tensor: returns ``averaged + (current - averaged) / (n + 1)``."""

    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


class AveragedModel(Module):
    """A copy of ``model`` whose parameters are the average of ``model``'s over the updates.

    ``update_parameters(model)`` folds in the current weights: the first call copies them, later
    ones apply ``avg_fn(averaged, current, n_averaged)`` (one tensor at a time, returning the new
    value) or ``multi_avg_fn(averaged_list, current_list, n_averaged)`` (in place, per dtype); by
    default the running mean (SWA). Buffers are copied from ``model`` unless ``use_buffers``, which
    averages them too. ``n_averaged`` (a buffer, so in the state dict) counts the updates.
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        self.register_buffer("n_averaged", tensor_from_array(xp.zeros((), dtype=xp.int64)))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        """Fold ``model``'s current parameters (and buffers, with ``use_buffers``) into the average."""
        if self.use_buffers:
            averaged = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            current = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            averaged, current = list(self.parameters()), list(model.parameters())
        averaged = [param.detach() for param in averaged]
        current = [param.detach() for param in current[: len(averaged)]]
        with no_grad():
            if int(self.n_averaged) == 0:
                for mine, theirs in zip(averaged, current):
                    mine.copy_(theirs)
            elif self.avg_fn is not None:
                for mine, theirs in zip(averaged, current):
                    mine.copy_(self.avg_fn(mine, theirs, self.n_averaged))
            else:
                average = self.multi_avg_fn
                for mine, theirs in _by_dtype(averaged, current):
                    if average is not None:
                        average(mine, theirs, self.n_averaged)
                    else:
                        update = get_swa_avg_fn()
                        for one, other in zip(mine, theirs):
                            one.copy_(update(one, other, self.n_averaged))
            if not self.use_buffers:
                for mine, theirs in zip(self.module.buffers(), model.buffers()):
                    mine.detach().copy_(theirs.detach())
            self.n_averaged += 1


def _by_dtype(averaged, current):
    """The pairs of lists (averaged, current) for each dtype, in order of first appearance."""
    groups = {}
    for mine, theirs in zip(averaged, current):
        lists = groups.setdefault(mine.dtype, ([], []))
        lists[0].append(mine)
        lists[1].append(theirs)
    return list(groups.values())


def update_bn(loader, model, device=None):
    """Recompute every BatchNorm's running mean and variance over one pass of ``loader``.

    The running statistics are reset and averaged equally over the batches (``momentum=None``), in
    training mode; each item of ``loader`` is an input, or a list/tuple whose first entry is. The
    model's mode and the momentums are restored afterwards.
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, normalization._BatchNorm):  # every batch norm, as PyTorch checks
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's rate to ``swa_lr`` over ``anneal_epochs`` epochs, then hold it.

    ``lr_t = swa_lr * alpha_t + lr_0 * (1 - alpha_t)``, with ``alpha_t`` going from 0 to 1 along half
    a cosine (``anneal_strategy="cos"``) or a line; computed, as PyTorch does, from the previous
    epoch's rate.
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        for group_swa_lr, group in zip(per_group("swa_lr", optimizer, swa_lr), optimizer.param_groups):
            group["swa_lr"] = group_swa_lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._anneal_strategy = anneal_strategy
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def anneal_func(self, t):
        """How far (0 to 1) the rate has moved to ``swa_lr`` at fraction ``t`` of the annealing."""
        return (1 - math.cos(math.pi * t)) / 2 if self._anneal_strategy == "cos" else t

    def get_lr(self):
        self._warn_if_get_lr_called_outside_step()
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        previous_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        lrs = []
        for group in self.optimizer.param_groups:
            # The rate before any annealing, recovered from last epoch's: lr = swa_lr a + lr_0 (1 - a).
            if previous_alpha == 1:
                start = group["swa_lr"]
            else:
                start = (group["lr"] - previous_alpha * group["swa_lr"]) / (1 - previous_alpha)
            lrs.append(group["swa_lr"] * alpha + start * (1 - alpha))
        return lrs


# PyTorch's public names (``from torch.optim.swa_utils import *`` brings these and no helper of this file's)
__all__ = [
    "AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
    "get_swa_avg_fn",
]
