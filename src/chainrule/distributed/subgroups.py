"""Process groups of part of the job's processes, as ``torch.distributed.new_group`` makes them::

    dist.init_process_group("gloo")                              # 4 processes, global ranks 0..3
    pairs = [dist.new_group([0, 1]), dist.new_group([2, 3])]     # every process makes both, in this order
    mine = pairs[dist.get_rank() // 2]                           # or: mine, pairs = dist.new_subgroups(2)
    dist.all_reduce(t, group=mine)                               # t_0 + t_1 on 0 and 1, t_2 + t_3 on 2 and 3

A group's ranks are its processes' indices in it, in the order of their global ranks (their ranks in
the default group): process 3 is rank 1 of ``[2, 3]``, and ``get_group_rank``/``get_global_rank``
translate. Every process of the job calls ``new_group`` for every group, in the same order, even the
processes left out of it, which get ``GroupMember.NON_GROUP_MEMBER``; with
``use_local_synchronization=True`` only the group's processes call it (the others would get None).

A group's collectives run among its processes alone, on the transport of the default group: under
``mpiexec`` an MPI communicator of its own (``MPI_Comm_create_group``), between spawned processes
exchanges through the group's first process (``tcp_communicator``). ``timeout``, ``pg_options`` and
``device_id`` are accepted for PyTorch's signature and not used.
"""
from chainrule.distributed.process_group import (
    GroupMember,
    ProcessGroup,
    add_group,
    default_group,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    next_group_name,
)

__all__ = ["new_group", "new_subgroups", "new_subgroups_by_enumeration"]


def new_group(
    ranks=None,
    timeout=None,
    backend=None,
    pg_options=None,
    use_local_synchronization=False,
    group_desc=None,
    device_id=None,
    sort_ranks=True,
):
    """The group of the processes of global ranks ``ranks`` (None: all of them), a ``ProcessGroup``
    whose rank ``i`` is the ``i``-th of ``ranks`` sorted (as given, without ``sort_ranks``);
    ``NON_GROUP_MEMBER`` on the processes outside it. ``backend`` defaults to the default group's."""
    world = default_group()
    backend_name = str(backend).lower() if backend else world.name()
    if backend_name not in ("mpi", "gloo"):
        raise ValueError(
            f"new_group: chainrule's processes talk through MPI (or TCP for 'gloo'), got backend={backend!r}; "
            f"leave backend out (the default group's, {world.name()!r}) or use 'mpi' or 'gloo'"
        )
    if use_local_synchronization:
        if backend_name == "mpi":
            raise ValueError("MPI backend doesn't support use_local_synchronization=True")
        if ranks is not None and world.rank() not in ranks:
            return None
    ranks = _checked_ranks(ranks, world.size(), sort_ranks)
    name = next_group_name(ranks, hashed=use_local_synchronization)
    if world.rank() not in ranks:
        return GroupMember.NON_GROUP_MEMBER
    desc = "undefined" if group_desc is None else group_desc
    made = ProcessGroup(world.communicator.subgroup(ranks, name), backend_name, ranks, name, desc)
    add_group(made)
    return made


def new_subgroups(group_size=None, group=None, timeout=None, backend=None, pg_options=None, group_desc=None):
    """Split the processes of ``group`` (None: the default group) into consecutive groups of
    ``group_size``; ``(the group of this process, every group)``. PyTorch's default size is the
    machine's number of GPUs, which chainrule's processes do not use, so ``group_size`` must be given."""
    if group_size is None:
        raise ValueError(
            "Default group size only takes effect when CUDA is available."
            "If your subgroup using a backend that does not depend on CUDA,"
            "please pass in 'group_size' correctly."
        )
    if group_size <= 0:
        raise ValueError(f"The arg 'group_size' ({group_size}) must be positive")
    world_size = get_world_size(group)
    if world_size < group_size:
        raise ValueError(f"The arg 'group_size' ({group_size}) must not exceed the world size ({world_size})")
    if world_size % group_size != 0:
        raise ValueError(f"The world size ({world_size}) must be divisible by '{group_size=}'")
    ranks = get_process_group_ranks(group)
    consecutive = [ranks[start : start + group_size] for start in range(0, len(ranks), group_size)]
    return new_subgroups_by_enumeration(consecutive, timeout, backend, pg_options, group_desc)


def new_subgroups_by_enumeration(ranks_per_subgroup_list, timeout=None, backend=None, pg_options=None, group_desc=None):
    """A group for each list of global ranks in ``ranks_per_subgroup_list`` (no rank in two of
    them); ``(the group of this process or None, every group)``, as ``new_group`` gives them here."""
    if not ranks_per_subgroup_list:
        raise ValueError("The arg 'ranks_per_subgroup_list' cannot be empty")
    subgroups, own, subgroup_of_rank = [], None, {}
    for ranks in ranks_per_subgroup_list:
        subgroup = new_group(ranks, timeout, backend, pg_options, group_desc=group_desc)
        subgroups.append(subgroup)
        for rank in ranks:
            if rank in subgroup_of_rank:
                raise ValueError(f"Rank {rank} has appeared in both subgroup {subgroup_of_rank[rank]} and {ranks}")
            subgroup_of_rank[rank] = ranks
            if rank == get_rank():
                own = subgroup
    return own, subgroups


def _checked_ranks(ranks, world_size, sort_ranks):
    """``ranks`` (None: every rank), sorted unless not ``sort_ranks``, checked as PyTorch checks
    them: no rank twice, no more than the world's, each one of the world's (ValueError)."""
    if ranks is None:
        return list(range(world_size))
    ranks = sorted(ranks) if sort_ranks else list(ranks)
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"ranks list must not contain duplicate entries, got {ranks}")
    if len(ranks) > world_size:
        raise ValueError(
            "the new group's world size should be less or equal to the world size set by init_process_group"
        )
    for rank in ranks:
        if rank < 0 or rank >= world_size:
            raise ValueError(f"Rank {rank} is out of range. Valid ranks are 0 to {world_size - 1} (world_size={world_size})")
    return ranks
