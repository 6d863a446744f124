"""Training on uneven inputs: ``Join``, the context manager that lets processes run out of data
at different times, as ``torch.distributed.algorithms.join``'s.

Each process of a data-parallel job runs the same collectives in the same order, so a process
that has run out of batches and leaves the training loop would leave the others waiting forever
in their next collective. Inside ``with Join([model, optimizer]):`` a process that has finished
its loop instead keeps *shadowing* the others' collectives until all have finished:

- every iteration, each still-running process's first joinable calls
  ``Join.notify_join_context(joinable)``, which all-reduces a 1 (I am still here);
- a process that has left its loop all-reduces a 0 in a loop (``__exit__``): the sum is the
  number of processes still running; while it is not zero, it runs each joinable's
  ``JoinHook.main_hook()``, which performs the collectives one iteration of the others makes
  (ZeroRedundancyOptimizer's hook steps, broadcasting its parameters);
- once the sum is zero every process has joined, and each runs its hooks' ``post_hook``.

With ``throw_on_early_termination=True`` the first process to finish makes every process raise
instead. With one process the block just runs: the count is zero at once.
"""
import warnings
from abc import ABC, abstractmethod
from typing import NamedTuple

from chainrule.creation import ones, zeros
from chainrule.distributed.collectives import all_reduce
from chainrule.distributed.process_group import get_rank

__all__ = ["JoinHook", "Joinable", "Join"]

#: Iterations of shadowing past which ``Join`` warns that the inputs are very uneven
WARN_THRESHOLD = 1000


class JoinHook:
    """What a joinable does for ``Join`` once this process has run out of inputs: ``main_hook()``
    shadows one iteration's collectives of the processes still running, ``post_hook(is_last_joiner)``
    runs once every process has joined. Both do nothing unless overridden."""

    def main_hook(self):
        """Called repeatedly while some process has not joined: shadow one training iteration's
        collectives (forward, backward, optimizer step)."""

    def post_hook(self, is_last_joiner):
        """Called once all processes have joined; ``is_last_joiner`` is True on the processes that
        joined last (they never shadowed)."""


class Joinable(ABC):
    """A class that takes part in ``Join`` (DistributedDataParallel, ZeroRedundancyOptimizer):
    it gives a ``join_hook``, the ``join_device`` and ``join_process_group`` of its collectives,
    and calls ``Join.notify_join_context(self)`` before each iteration's collectives."""

    @abstractmethod
    def __init__(self):
        super().__init__()
        self._join_config = _JoinConfig.construct_disabled_join_config()

    @abstractmethod
    def join_hook(self, **kwargs):
        """The ``JoinHook`` of this joinable; ``kwargs`` are those given to ``Join``."""

    @property
    @abstractmethod
    def join_device(self):
        """The device of the tensors ``Join`` all-reduces."""

    @property
    @abstractmethod
    def join_process_group(self):
        """The process group of ``Join``'s all-reduces."""


class _JoinConfig(NamedTuple):
    """What a joinable knows of the ``Join`` it is in: whether it is enabled, whether to raise on
    uneven inputs, and whether this joinable is the first (the one that notifies)."""

    enable: bool
    throw_on_early_termination: bool
    is_first_joinable: bool

    @staticmethod
    def construct_disabled_join_config():
        """The configuration of a joinable outside any ``Join``: nothing to do."""
        return _JoinConfig(enable=False, throw_on_early_termination=False, is_first_joinable=False)


class Join:
    """The join context manager: ``with Join(joinables): <training loop>``; see the module's text.

    Args:
        joinables: the ``Joinable`` objects of the loop; their hooks run in this order.
        enable: False turns the context manager off (the inputs are known to be even).
        throw_on_early_termination: raise a RuntimeError on every process as soon as one runs out
            of inputs, instead of shadowing.
        **kwargs: passed to each joinable's ``join_hook``.
    """

    def __init__(self, joinables, enable=True, throw_on_early_termination=False, **kwargs):
        if len(joinables) == 0:
            raise ValueError("The join context manager requires at least one joinable")
        self._joinables = joinables
        self._join_hooks = [joinable.join_hook(**kwargs) for joinable in self._joinables]
        self._enable = enable
        self._throw_on_early_termination = throw_on_early_termination
        self._set_joinable_configs()
        self._extract_dist_info()

    def _set_joinable_configs(self):
        """Tell each joinable it is in this context manager (the first one notifies)."""
        for position, joinable in enumerate(self._joinables):
            joinable._join_config = _JoinConfig(
                enable=self._enable,
                throw_on_early_termination=self._throw_on_early_termination,
                is_first_joinable=position == 0,
            )

    def _extract_dist_info(self):
        """The joinables' process group (one for all of them) and the first one's device."""
        process_group = None
        device = None
        for joinable in self._joinables:
            if process_group is None:
                process_group = joinable.join_process_group
            elif process_group != joinable.join_process_group:
                raise ValueError("Using join context manager with multiple process groups")
            if device is None:
                device = joinable.join_device
        self._process_group = process_group
        self._rank = get_rank(self._process_group)
        self._device = device

    def __enter__(self):
        return None

    def __exit__(self, type, value, traceback):
        """Shadow the collectives of the processes still running until every process has joined,
        then run the post-hooks. An exception raised in the block goes on without either."""
        if not self._enable or type:
            return
        all_procs_joined = False
        is_last_joiner = True
        iterations = 0
        while not all_procs_joined:
            if iterations > WARN_THRESHOLD:
                warnings.warn(
                    f"Detected uneven input skew of greater than {WARN_THRESHOLD}. This means that rank "
                    f"{self._rank} has at least {WARN_THRESHOLD} fewer inputs than other currently-active ranks. "
                    "This level of skew could lead to performance degradation during training.",
                    stacklevel=2,
                )
            if self._get_num_nonjoined_procs() == 0:
                all_procs_joined = True
            else:
                if self._throw_on_early_termination:
                    self._notify_procs_to_terminate()
                for join_hook in self._join_hooks:
                    join_hook.main_hook()
                is_last_joiner = False
                iterations += 1
        for join_hook in self._join_hooks:
            join_hook.post_hook(is_last_joiner)

    def _get_num_nonjoined_procs(self):
        """The number of processes still in their loop: this process adds 0 to the all-reduce that
        each of them starts in ``notify_join_context`` with a 1."""
        count = zeros(1, device=self._device)
        all_reduce(count, group=self._process_group)
        return count.item()

    def _notify_procs_to_terminate(self):
        """Answer the running processes' check with a 1 (they then raise), and raise here."""
        all_reduce(ones(1, device=self._device), group=self._process_group)
        raise RuntimeError(f"Rank {self._rank} exhausted all inputs.")

    @staticmethod
    def notify_join_context(joinable):
        """Tell the join context manager that this process has not joined yet: an all-reduce of a
        1, matched by the joined processes' count; its ``Work`` is returned finished (PyTorch's
        runs on while the caller computes, but an MPI collective must be waited for: one that is
        dropped unfinished cannot be freed).

        With ``throw_on_early_termination=True`` a second all-reduce asks whether any process
        has run out of inputs, and raises a RuntimeError here if one has. Only the first joinable
        of the ``Join`` communicates; for the others, and outside a ``Join``, this returns None.
        """
        if not hasattr(joinable, "_join_config"):
            raise AssertionError(f"Check that the {type(joinable)} constructor calls the ``Joinable`` constructor")
        join_config = joinable._join_config
        if not join_config.is_first_joinable or not join_config.enable:
            return None
        device = joinable.join_device
        process_group = joinable.join_process_group
        work = all_reduce(ones(1, device=device), group=process_group, async_op=True)
        work.wait()
        if join_config.throw_on_early_termination:
            should_throw = zeros(1, device=device)
            all_reduce(should_throw, group=process_group)
            if should_throw.item():
                raise RuntimeError("Detected at least one rank that exhausted inputs. Throwing across all ranks.")
        return work
