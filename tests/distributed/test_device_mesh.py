"""DeviceMesh and init_device_mesh on one process, against PyTorch's with gloo and world size 1."""

import pytest
import torch
import torch.distributed as torch_dist
from torch.distributed.device_mesh import init_device_mesh as torch_init_device_mesh

import chainrule
import chainrule.distributed as dist
from chainrule.distributed import device_mesh
from chainrule.distributed.device_mesh import DeviceMesh, init_device_mesh
from tests.distributed.misuse import error_of


def describe(mesh, library):
    """What code reads of a mesh, in plain Python values."""
    return (
        repr(mesh),
        mesh.mesh.tolist(),
        str(mesh.mesh.dtype).split(".")[-1],
        mesh.ndim,
        mesh.shape,
        mesh.size(),
        [mesh.size(dim) for dim in range(mesh.ndim)],
        mesh.get_rank(),
        mesh.get_coordinate(),
        mesh.mesh_dim_names,
        mesh.device_type,
        [group is library.distributed.group.WORLD for group in mesh.get_all_groups()],
    )


def test_meshes_are_pytorchs(torch_group, one_process_group):
    for make in (
        lambda library: library.distributed.device_mesh.init_device_mesh("cpu", (1,)),
        lambda library: library.distributed.device_mesh.init_device_mesh("cpu", (1, 1), mesh_dim_names=("ring", "ulysses")),
        lambda library: library.distributed.device_mesh.DeviceMesh("cuda", [[0]], mesh_dim_names=("dp", "tp")),
        lambda library: library.distributed.device_mesh.DeviceMesh("cpu", library.tensor([0])),
    ):
        assert describe(make(chainrule), chainrule) == describe(make(torch), torch)


def test_slicing_and_flattening_by_name(torch_group, one_process_group):
    for library, init in ((chainrule, init_device_mesh), (torch, torch_init_device_mesh)):
        mesh = init("cpu", (1, 1), mesh_dim_names=("ring", "ulysses"))
        ring = mesh["ring"]
        assert repr(ring) == "DeviceMesh((ring=1), 'cpu', stride=((),))" and ring.mesh.tolist() == [0]
        assert ring.get_local_rank() == 0 and ring.get_group() is library.distributed.group.WORLD
        assert mesh["ring", "ulysses"] is mesh
        assert repr(mesh["ulysses", "ring"]) == "DeviceMesh((ulysses=1, ring=1), 'cpu', stride=((), ()))"
        flat = mesh["ring", "ulysses"]._flatten()
        assert flat.mesh_dim_names == ("ring_ulysses",) and flat.size() == 1 and flat._get_root_mesh() is mesh
        assert mesh._flatten() is flat and flat._flatten("ring_ulysses") is flat
        with pytest.warns(UserWarning, match="Slicing a flattened dim from root mesh will be deprecated"):
            assert mesh["ring_ulysses"] == flat
        assert mesh.get_local_rank("ring") == mesh.get_local_rank(1) == 0
        assert mesh.get_group("ring_ulysses") is library.distributed.group.WORLD
        assert mesh == init("cpu", (1, 1), mesh_dim_names=("ring", "ulysses"))
        assert hash(mesh) == hash(init("cpu", (1, 1), mesh_dim_names=("ring", "ulysses")))
        assert mesh != init("cpu", (1, 1)) and mesh != ring


def test_misuse_raises_pytorchs_errors(torch_group, one_process_group):
    for library in (chainrule, torch):
        library_mesh = library.distributed.device_mesh
        two = library_mesh.init_device_mesh("cpu", (1, 1), mesh_dim_names=("ring", "ulysses"))
        one = library_mesh.init_device_mesh("cpu", (1,))
        cases = [
            lambda: library_mesh.init_device_mesh("cpu", (2,)),
            lambda: library_mesh.init_device_mesh("cpu", (1, 1), mesh_dim_names=("a", "a")),
            lambda: library_mesh.init_device_mesh("cpu", (1, 1), mesh_dim_names=("a",)),
            lambda: library_mesh.init_device_mesh("cpu:0", (1,)),
            lambda: library_mesh.DeviceMesh("cpu"),
            lambda: library_mesh.DeviceMesh("cpu", [0, 1]),
            lambda: two["nope"],
            lambda: two.get_group(),
            lambda: two.get_group("nope"),
            lambda: two.get_local_rank(),
            lambda: one["x"],
            lambda: one._flatten(),
            lambda: two._flatten("ring"),
        ]
        found = [error_of(case) for case in cases]
        if library is chainrule:
            ours = found
    assert ours == found


def test_a_mesh_joins_the_default_group_when_there_is_none():
    assert not dist.is_initialized()
    mesh = init_device_mesh("cpu", (1,), mesh_dim_names=("dp",))
    try:
        assert dist.is_initialized() and mesh.get_group() is dist.group.WORLD
    finally:
        dist.destroy_process_group()


def test_a_dimension_over_part_of_the_world_is_refused(monkeypatch, one_process_group):
    """chainrule has no process groups of part of the world: a mesh dimension that would need one says so."""
    monkeypatch.setattr(device_mesh, "get_world_size", lambda: 4)
    assert init_device_mesh("cpu", (4,)).size() == 4  # one dimension over every process: the world's group
    with pytest.raises(NotImplementedError, match="dimension 'ring' groups 1 of the 4 processes"):
        init_device_mesh("cpu", (1, 4), mesh_dim_names=("ring", "ulysses"))


def test_the_package_exports_pytorchs_names():
    assert dist.DeviceMesh is DeviceMesh and dist.init_device_mesh is init_device_mesh
    assert dist.device_mesh.DeviceMesh is DeviceMesh  # diffusers annotates with torch.distributed.device_mesh.DeviceMesh
    assert set(device_mesh.__all__) == set(torch_dist.device_mesh.__all__)
