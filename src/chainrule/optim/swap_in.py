"""swap_in_optimizer_params_and_state: run an optimizer on other parameters and state for a while.

Inside ``with swap_in_optimizer_params_and_state(optimizer, parameters, state_dict):`` the optimizer
steps the tensors of ``parameters`` (a dict, in the order of ``model.named_parameters()``) with the
state and group options of ``state_dict`` (laid out as ``optimizer.state_dict()`` gives it); on
exit its own parameters, state and options come back. ``load_state_dict`` replaces the state only;
this swaps the parameters too, so ``optimizer.step()`` updates the tensors given::

    saved = copy.deepcopy(optimizer.state_dict())
    with swap_in_optimizer_params_and_state(optimizer, dict(trial.named_parameters()), saved):
        optimizer.step()               # trial's parameters and saved's buffers change in place

The state's tensors are used as they are, so the step changes them in place; any other change
(a new entry, a tensor replaced) stays inside the block.
"""
import contextlib
from collections import defaultdict

from chainrule.tensor import Tensor

_NAME = "swap_in_optimizer_params_and_state"


@contextlib.contextmanager
def swap_in_optimizer_params_and_state(optimizer, swapin_parameters, swapin_optim_state):
    """Swap ``swapin_parameters`` and ``swapin_optim_state`` into ``optimizer`` for the block, as
    ``torch.optim.swap_in_optimizer_params_and_state``.

    Args:
        optimizer: the live optimizer; its state must be filled already (a step was taken).
        swapin_parameters: ``{name: tensor}``, the tensors to step, in the order of the optimizer's
            parameters across its groups.
        swapin_optim_state: ``{"state": {index: {...}}, "param_groups": [...]}`` as
            ``optimizer.state_dict()`` returns it; each group must have the live group's keys.

    Raises RuntimeError, as PyTorch does, when the state dict is not laid out so.
    """
    state, swaps = _checked_swaps(optimizer, swapin_parameters, swapin_optim_state)
    original_state = optimizer.state
    original_scratch = vars(optimizer).get("_scratch_arrays", {})
    original_groups = [dict(group) for group in optimizer.param_groups]  # shallow: the "params" lists stay the same objects
    try:
        swapped_state = defaultdict(dict)
        for live_group, saved_group, parameters in swaps:
            live_group["params"] = parameters
            live_group.update((key, value) for key, value in saved_group.items() if key != "params")
            for parameter, index in zip(parameters, saved_group["params"]):
                swapped_state[parameter] = dict(state.get(index, {}))  # a new dict: only in-place changes reach the caller's
        optimizer.state = swapped_state
        optimizer._scratch_arrays = {}  # work arrays for the swapped-in tensors, dropped on exit
        yield
    finally:
        for group, original in zip(optimizer.param_groups, original_groups):
            group.clear()
            group.update(original)
        optimizer.state = original_state
        optimizer._scratch_arrays = original_scratch


def _checked_swaps(optimizer, parameters, state_dict):
    """The state by index and, for each group, (live group, saved group, its swapped-in tensors),
    after PyTorch's checks of the layout."""
    if not optimizer.state:
        raise RuntimeError(f"{_NAME} requires initialized optimizer state: take a step with the optimizer first.")
    if not isinstance(state_dict, dict):
        raise RuntimeError(f"{_NAME} requires a DCP-style optimizer state_dict, as optimizer.state_dict() returns.")
    state = state_dict.get("state")
    if not isinstance(state, dict):
        raise RuntimeError(
            f"{_NAME} requires swapin_optim_state['state'] to be a dict mapping packed parameter ids to "
            f"per-param state dicts, got {type(state).__name__}."
        )
    if any(isinstance(key, Tensor) for key in state):
        raise RuntimeError(f"{_NAME} requires optimizer.state_dict()-style state keyed by packed parameter ids.")
    if any(isinstance(key, int) and not isinstance(value, dict) for key, value in state.items()):
        raise RuntimeError(f"{_NAME} requires per-parameter optimizer state entries to be dictionaries.")
    saved_groups = state_dict.get("param_groups")
    if not isinstance(saved_groups, list):
        raise RuntimeError(
            f"{_NAME} requires swapin_optim_state['param_groups'] to be a list of param-group dicts, "
            f"got {type(saved_groups).__name__}."
        )
    if len(saved_groups) != len(optimizer.param_groups):
        raise RuntimeError(
            f"swapin_optim_state has a different number of parameter groups ({len(saved_groups)}) than the live "
            f"optimizer ({len(optimizer.param_groups)})."
        )
    tensors = list(parameters.values())
    offset = 0
    seen = set()
    swaps = []
    for position, (live_group, saved_group) in enumerate(zip(optimizer.param_groups, saved_groups)):
        indices = _checked_indices(position, live_group, saved_group)
        seen.update(indices)
        if offset + len(indices) > len(tensors):
            raise RuntimeError(
                f"{_NAME} requires the explicit parameter state to match optimizer.param_groups ordering: "
                f"{len(tensors)} tensors were given for more parameters."
            )
        swaps.append((live_group, saved_group, tensors[offset : offset + len(indices)]))
        offset += len(indices)
    extra_keys = [key for key in state if key not in seen]
    if extra_keys:
        raise RuntimeError(
            f"{_NAME} requires swapin_optim_state['state'] to be keyed only by packed parameter ids from "
            f"param_groups[*]['params']; got extra keys {extra_keys!r}."
        )
    return state, swaps


def _checked_indices(position, live_group, saved_group):
    """The parameter indices of one saved group, checked against the live group it replaces."""
    if not isinstance(saved_group, dict):
        raise RuntimeError(f"{_NAME} requires each optimizer param group to be a dictionary.")
    indices = saved_group.get("params")
    if not isinstance(indices, list) or not all(isinstance(index, int) for index in indices):
        raise RuntimeError(
            f"{_NAME} requires optimizer.state_dict()-style param_groups[*]['params'] entries keyed by packed "
            f"parameter ids."
        )
    if len(indices) != len(live_group["params"]):
        raise RuntimeError(
            f"swapin_optim_state param group {position} has a different number of params ({len(indices)}) than "
            f"the live optimizer param group ({len(live_group['params'])})."
        )
    saved_only = [key for key in saved_group if key not in live_group]
    live_only = [key for key in live_group if key not in saved_group]
    if saved_only or live_only:
        raise RuntimeError(
            f"{_NAME} requires optimizer.state_dict()-style param group keys to exactly match the live optimizer "
            f"group keys for group {position}. Keys only in swap-in: {saved_only}. Keys only in live: {live_only}."
        )
    return indices
