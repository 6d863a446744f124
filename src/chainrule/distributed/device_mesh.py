"""``torch.distributed.device_mesh``: the job's processes laid out as an n-dimensional array.

A ``DeviceMesh`` names the processes' ranks in a grid, ``init_device_mesh("cpu", (2, 4),
mesh_dim_names=("dp", "tp"))`` for ranks 0..7, so that each dimension is one kind of parallelism:
along ``"tp"`` the processes 0..3 (and 4..7) work on one batch together, along ``"dp"`` the pairs
(0, 4), (1, 5)... take different batches. ``mesh["tp"]`` is the one-dimensional mesh of this
process's row, ``mesh.get_group("tp")`` the process group its collectives run in, and
``mesh["dp", "tp"]._flatten()`` the two dimensions seen as one.

As PyTorch's, making a mesh joins the default process group if no group is made yet
(``init_process_group()``: MPI's processes, or this one process), and a mesh may not be bigger
than the world. A dimension whose processes are the whole world runs its collectives in the default
group, so every mesh of a one-process job works, and so does every one-dimensional mesh of all the
processes. A dimension over part of the world still raises: ``new_group`` makes such groups now, but
a mesh would have to make one for every row of every dimension on every process, as PyTorch's does
when it is made, and its slicing and flattening reuse them; that is not done yet.
"""
import math
import warnings

from chainrule.backend import xp
from chainrule.creation import tensor
from chainrule.distributed.process_group import (
    default_group,
    get_rank,
    get_world_size,
    init_process_group,
    is_initialized,
)
from chainrule.tensor import Tensor

__all__ = ["DeviceMesh", "init_device_mesh"]


class DeviceMesh:
    """The ranks of the default process group laid out as the n-dimensional array ``mesh``.

    ``DeviceMesh("cpu", [[0, 1], [2, 3]], mesh_dim_names=("dp", "tp"))``: ``shape`` (2, 2),
    ``ndim`` 2, ``size()`` 4 processes (``size(1)`` 2 along "tp"). On each process, ``mesh``
    is the array it was made with; a mesh sliced from it (``mesh["tp"]``) holds the row of
    this process's rank, ``get_local_rank("tp")`` is the rank's index in its group there, and
    ``get_coordinate()`` the rank's index in the array.
    """

    def __init__(self, device_type, mesh=None, *, mesh_dim_names=None, backend_override=None, _root_mesh=None, _root_dims=None):
        if mesh is None and _root_mesh is None:
            raise TypeError("The mesh argument is required except for PRIVATE USAGE ONLY!")
        self._device_type = device_type
        self._mesh_dim_names = tuple(mesh_dim_names) if mesh_dim_names else None
        if _root_mesh is None:
            self._root_mesh = None
            self._rank_array = xp.asarray(mesh._array if isinstance(mesh, Tensor) else mesh, dtype=xp.int32)
            self._root_dims = tuple((dim,) for dim in range(self._rank_array.ndim))
            self._flatten_mapping = {}  # the meshes _flatten made from this root (or its submeshes), by name
            _join_world(self._rank_array.size)
        else:
            self._root_mesh = _root_mesh
            self._rank_array = _root_mesh._rank_array
            self._root_dims = _root_dims
        if backend_override is not None and len(backend_override) != self.ndim:
            raise ValueError(
                f"backend_override should have the same length as the number of mesh dimensions, "
                f"but got {len(backend_override)} and {self.ndim}."
            )
        self._rank = get_rank()
        self._rows = _rows_of(self._rank_array, self._root_dims)
        self._coordinate_on_dim = _coordinate(self._rows, self._rank)
        if self._coordinate_on_dim is not None:
            for dim in range(self.ndim):
                _world_along(self, dim)

    @property
    def device_type(self):
        """The kind of device the mesh's processes compute on ("cpu", "cuda"...)."""
        return self._device_type

    @property
    def mesh(self):
        """The ranks, an int32 tensor of shape ``shape``: of the row of this process for a sliced mesh."""
        if self._rows.shape[0] == 1:
            return tensor(self._rows[0])
        row = self._row_of_rank()
        if row is None:
            raise RuntimeError(
                "In order to get the mesh Tensor of a DeviceMesh it needs to "
                "either have all its original dimensions (e.g., no slicing) "
                "or it needs to contain the local rank"
            )
        return tensor(row)

    @property
    def mesh_dim_names(self):
        """The names of the dimensions, or None."""
        return self._mesh_dim_names

    @property
    def ndim(self):
        return len(self._root_dims)

    @property
    def shape(self):
        return tuple(self._rows.shape[1:])

    def size(self, mesh_dim=None):
        """The number of processes in the mesh, or along dimension ``mesh_dim``."""
        if mesh_dim is not None:
            return self.shape[mesh_dim]
        return math.prod(self.shape)

    def get_rank(self):
        """This process's rank in the default group (its global rank)."""
        return get_rank()

    def get_local_rank(self, mesh_dim=None):
        """This process's rank in its group along ``mesh_dim`` (a name or an index; may be left
        out for a one-dimensional mesh)."""
        if self.ndim > 1 and mesh_dim is None:
            raise RuntimeError(
                f"Found the DeviceMesh have {self.ndim} dimensions",
                "Optional kwarg `mesh_dim` needs to be specified when device_mesh.ndim > 1.",
            )
        return self.get_group(0 if mesh_dim is None else mesh_dim).rank()

    def get_coordinate(self):
        """This process's index in the mesh, one number per dimension; None if it is not in it."""
        return self._coordinate_on_dim

    def get_group(self, mesh_dim=None):
        """The process group this process's collectives along ``mesh_dim`` run in (a name or an
        index; may be left out for a one-dimensional mesh)."""
        if self._coordinate_on_dim is None:
            raise RuntimeError("DeviceMesh process groups not initialized!")
        if self.ndim > 1 and mesh_dim is None:
            raise RuntimeError(
                f"Found the DeviceMesh have {self.ndim} dimensions",
                "Optional kwarg `mesh_dim` needs to be specified when device_mesh.ndim > 1.",
                "If you want to get the list of all the ProcessGroups in the DeviceMesh,"
                "please use `get_all_groups()` instead.",
            )
        if isinstance(mesh_dim, str) and mesh_dim in self._get_root_mesh()._flatten_mapping:
            return self._get_root_mesh()._flatten_mapping[mesh_dim].get_group()
        if isinstance(mesh_dim, str):
            mesh_dim = self._get_mesh_dim_by_name(mesh_dim)
        return _world_along(self, 0 if mesh_dim is None else mesh_dim)

    def get_all_groups(self):
        """The process group of each dimension."""
        return [self.get_group(dim) for dim in range(self.ndim)]

    def __getitem__(self, mesh_dim_names):
        """The mesh of the dimensions named (one name or a tuple of them, in the mesh's order),
        holding this process's row: ``mesh_2d["tp"]`` is the 1-D mesh of the processes this one
        shares a "tp" group with. A name given to ``_flatten`` on the root mesh may be sliced too."""
        if not self._mesh_dim_names:
            raise RuntimeError("Cannot slice a DeviceMesh without mesh_dim_names!")
        names = (mesh_dim_names,) if isinstance(mesh_dim_names, str) else tuple(mesh_dim_names)
        if names == self._mesh_dim_names:
            return self
        return DeviceMesh(
            self._device_type, mesh_dim_names=names, _root_mesh=self._get_root_mesh(), _root_dims=self._sliced_root_dims(names)
        )

    def _flatten(self, mesh_dim_name=None, backend_override=None):
        """The mesh seen as one dimension, named ``mesh_dim_name`` (default: the names joined by
        "_"), which the root mesh can then be sliced by."""
        if not self._mesh_dim_names:
            raise RuntimeError("Cannot flatten a DeviceMesh without mesh_dim_names!")
        if not mesh_dim_name:
            mesh_dim_name = "_".join(self._mesh_dim_names)
        if self.ndim == 1 and mesh_dim_name in self._mesh_dim_names:
            return self
        root = self._get_root_mesh()
        if mesh_dim_name in root._mesh_dim_names:
            raise ValueError(
                f"{mesh_dim_name} already exists for submesh of the {root}. ",
                f"The mesh_dim_names of submesh and flattened mesh are {root._mesh_dim_names}. "
                f"Please specify another valid mesh_dim_name.",
            )
        flattened_dims = (tuple(dim for dims in self._root_dims for dim in dims),)
        existing = root._flatten_mapping.get(mesh_dim_name)
        if existing is None:
            root._flatten_mapping[mesh_dim_name] = DeviceMesh(
                self._device_type, mesh_dim_names=(mesh_dim_name,), _root_mesh=root, _root_dims=flattened_dims
            )
        elif existing._root_dims != flattened_dims:
            raise ValueError(
                f"Flatten mesh with mesh_dim_name {mesh_dim_name} has been created before, "
                f"Please specify another valid mesh_dim_name."
            )
        return root._flatten_mapping[mesh_dim_name]

    def _get_root_mesh(self):
        """The mesh this one was sliced or flattened from (itself if it was made)."""
        return self._root_mesh if self._root_mesh is not None else self

    def _get_mesh_dim_by_name(self, mesh_dim_name):
        if not self._mesh_dim_names:
            raise KeyError("No `mesh_dim_names` found.")
        if mesh_dim_name not in self._mesh_dim_names:
            raise KeyError(
                f"Mesh dimension '{mesh_dim_name}' does not exist.",
                f"Available mesh dimensions are: mesh_dim_names={self._mesh_dim_names}",
            )
        return self._mesh_dim_names.index(mesh_dim_name)

    def _sliced_root_dims(self, names):
        """The root dimensions under each of ``names``, checked as PyTorch checks a slice: known
        names, in the mesh's order, not overlapping."""
        root = self._get_root_mesh()
        flattened = {name: mesh._root_dims[0] for name, mesh in root._flatten_mapping.items()} if self is root else {}
        valid = [*self._mesh_dim_names, *flattened]
        if not all(name in valid for name in names):
            raise KeyError(f"Invalid mesh_dim_names {names} specified. Valid mesh_dim_names are {valid}.")
        if any(name in flattened for name in names):
            warnings.warn(
                "Slicing a flattened dim from root mesh will be deprecated in PT 2.11. "
                "Users need to bookkeep the flattened mesh directly. ",
                stacklevel=3,
            )
        dims = tuple(
            self._root_dims[self._mesh_dim_names.index(name)] if name in self._mesh_dim_names else flattened[name]
            for name in names
        )
        # dimensions of one process do not order the layout (PyTorch's layout drops them)
        spread = [dim for group in dims for dim in group if self._rank_array.shape[dim] > 1]
        if len(set(spread)) != len(spread):
            raise RuntimeError(f"Slicing overlapping dim_names {names} is not allowed.")
        if spread != sorted(spread):
            raise KeyError(f"Invalid mesh_dim_names {names} specified. Mesh dim indices should be in ascending order.")
        return dims

    def _row_of_rank(self):
        """The row (a submesh of the root) that holds this process's rank, or None."""
        for row in self._rows:
            if (row == self._rank).any():
                return row
        return None

    def _strides(self):
        """Each dimension's stride through the root's ranks, as PyTorch's layout gives it:
        () for one of a single process, a tuple where the dimension does not run evenly."""
        root_shape = self._rank_array.shape
        root_strides = [math.prod(root_shape[dim + 1 :]) for dim in range(len(root_shape))]
        strides = []
        for dims in self._root_dims:
            modes = []
            for dim in (dim for dim in dims if root_shape[dim] > 1):
                if modes and modes[-1][1] == root_shape[dim] * root_strides[dim]:
                    modes[-1] = (modes[-1][0] * root_shape[dim], root_strides[dim])
                else:
                    modes.append((root_shape[dim], root_strides[dim]))
            stride = tuple(stride for _, stride in modes)
            strides.append(stride[0] if len(stride) == 1 else stride)
        return tuple(strides)

    def _key(self):
        return (tuple(self._rank_array.ravel().tolist()), self._rank_array.shape, self._root_dims, self._device_type, self._mesh_dim_names)

    def __eq__(self, other):
        return self is other or (isinstance(other, DeviceMesh) and self._key() == other._key())

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        if self._mesh_dim_names:
            sizes = f"({', '.join(f'{name}={size}' for name, size in zip(self._mesh_dim_names, self.shape))})"
        else:
            sizes = f"{self.shape}"
        return f"DeviceMesh({sizes}, '{self._device_type}', stride={self._strides()})"


def init_device_mesh(device_type, mesh_shape, *, mesh_dim_names=None, backend_override=None):
    """A mesh of ranks 0..n-1 laid out in ``mesh_shape`` (row-major), its dimensions named
    ``mesh_dim_names``; joins the default process group first if none is made yet."""
    if mesh_dim_names is not None:
        if len(set(mesh_dim_names)) != len(mesh_dim_names):
            raise RuntimeError(
                "Each mesh_dim_name must be unique. "
                f"Found repeated mesh_dim_name in mesh_dim_names {mesh_dim_names}"
            )
        if len(mesh_shape) != len(mesh_dim_names):
            raise RuntimeError(
                "mesh_shape and mesh_dim_names should have same length! "
                f"Found len(mesh_dim_names): {len(mesh_dim_names)} and len(mesh_shape):{len(mesh_shape)}."
            )
    if device_type and not device_type.isalpha():
        raise RuntimeError(
            f"Device type with index is not supported but got {device_type}. ",
            "If you maintained a 'torch.device' object, it's recommended to pass in 'device.type'.",
        )
    if backend_override is not None:
        backend_override = tuple(backend_override.get(dim, (None, None)) for dim in range(len(mesh_shape)))
    ranks = xp.arange(math.prod(mesh_shape), dtype=xp.int32).reshape(tuple(mesh_shape))
    return DeviceMesh(device_type, ranks, mesh_dim_names=mesh_dim_names, backend_override=backend_override)


def _join_world(mesh_size):
    """Join the default process group if there is none yet, as PyTorch's meshes do; a mesh may
    not hold more ranks than the world has."""
    if not is_initialized():
        init_process_group()
    world_size = get_world_size()
    if mesh_size > world_size:
        raise RuntimeError(f"Mesh should not be bigger than default world size {world_size}, but found {mesh_size} ranks!")


def _rows_of(rank_array, root_dims):
    """The ranks of every submesh over ``root_dims`` (a tuple of root dimensions per dimension),
    stacked: shape ``(number of submeshes, *sizes)``, a dimension over several root ones flattened."""
    spanned = [dim for dims in root_dims for dim in dims]
    others = [dim for dim in range(rank_array.ndim) if dim not in spanned]
    moved = rank_array.transpose(others + spanned)
    sizes = [math.prod(rank_array.shape[dim] for dim in dims) for dims in root_dims]
    return moved.reshape((-1, *sizes))


def _coordinate(rows, rank):
    """The index of ``rank`` in the mesh of the rows (None if it is in none of them)."""
    found = xp.argwhere(rows == rank)
    if found.shape[0] == 0:
        return None
    return tuple(int(index) for index in found[0][1:])


def _world_along(mesh, dim):
    """The process group of this process along ``dim`` of ``mesh``: the world's, when its row
    there is every process; a mesh makes no smaller group (see the module's docstring)."""
    row_size = mesh.shape[dim]
    world_size = get_world_size()
    if row_size != world_size:
        name = mesh.mesh_dim_names[dim] if mesh.mesh_dim_names else f"dim_{dim}"
        raise NotImplementedError(
            f"DeviceMesh: dimension {name!r} groups {row_size} of the {world_size} processes, and chainrule's "
            f"DeviceMesh runs collectives among all processes only (no groups of part of the world); lay "
            f"the mesh out with that dimension over all {world_size} processes, or run data-parallel with "
            f"chainrule.nn.parallel.DistributedDataParallel"
        )
    return default_group()
