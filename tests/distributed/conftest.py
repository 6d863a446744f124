"""Process groups of one process for the tests that compare chainrule's with PyTorch's."""
import sys

import pytest
import torch.distributed as torch_dist

import chainrule.distributed as dist


@pytest.fixture(scope="module")
def torch_group(tmp_path_factory):
    """PyTorch's gloo group of this one process (the reference), left as it was found."""
    excepthook = sys.excepthook  # PyTorch's init_process_group installs its own, for good
    store = tmp_path_factory.mktemp("gloo") / "store"
    torch_dist.init_process_group("gloo", rank=0, world_size=1, init_method=f"file://{store}")
    yield torch_dist.group.WORLD
    torch_dist.destroy_process_group()
    sys.excepthook = excepthook


@pytest.fixture
def one_process_group():
    """chainrule's group of this one process."""
    dist.init_process_group(backend="gloo")
    yield dist.group.WORLD
    dist.destroy_process_group()
