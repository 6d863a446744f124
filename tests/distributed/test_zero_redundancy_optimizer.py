"""ZeroRedundancyOptimizer in a world of one process: bit for bit the optimizer it wraps, and
PyTorch's ZeroRedundancyOptimizer (gloo, world size 1) to float32 rounding (chainrule's optimizers
agree with PyTorch's to the last bit or two, not bit for bit). Several processes:
programs/zero_and_join.py, run by test_launched.py."""
import tempfile

import numpy as np
import pytest
import torch
import torch.distributed as torch_dist
from torch.distributed.optim import ZeroRedundancyOptimizer as TorchZeRO

import chainrule
import chainrule.distributed as dist
from chainrule.distributed.optim import ZeroRedundancyOptimizer

STEPS = 6


@pytest.fixture
def groups():
    """chainrule's and PyTorch's default groups, of this one process."""
    with tempfile.TemporaryDirectory() as folder:
        torch_dist.init_process_group("gloo", init_method=f"file://{folder}/store", rank=0, world_size=1)
        dist.init_process_group("gloo", rank=0, world_size=1)
        yield
        dist.destroy_process_group()
        torch_dist.destroy_process_group()


def twin_models():
    """The same small MLP in chainrule and in PyTorch (PyTorch's weights copied from chainrule's)."""
    chainrule.manual_seed(0)
    ours = chainrule.nn.Sequential(chainrule.nn.Linear(5, 7), chainrule.nn.Tanh(), chainrule.nn.Linear(7, 3))
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))
    with torch.no_grad():
        for mine, other in zip(ours.parameters(), theirs.parameters()):
            other.copy_(torch.from_numpy(mine.detach().numpy().copy()))
    return ours, theirs


def gradients(model_shapes):
    """STEPS sets of gradients, one array per parameter: both libraries step on the same gradients
    (their forward and backward may differ in the last bit; the optimizers must not)."""
    generator = np.random.default_rng(1)
    return [[generator.standard_normal(shape).astype(np.float32) for shape in model_shapes] for _ in range(STEPS)]


def train(library, model, optimizer, steps, scheduler=None):
    """Step ``optimizer`` on each of ``steps``' gradients (``library``: chainrule or torch)."""
    for grads in steps:
        optimizer.zero_grad()
        for param, grad in zip(model.parameters(), grads):
            param.grad = library.from_numpy(grad.copy())
        optimizer.step()
        if scheduler is not None:
            scheduler.step()


def data_for(model):
    return gradients([tuple(param.shape) for param in model.parameters()])


def groups_of(library, model):
    first, *_, last = list(model.children())
    return [{"params": list(first.parameters())}, {"params": list(last.parameters()), "lr": 0.03}]


def same(mine, other, exactly):
    return np.array_equal(mine, other) if exactly else np.allclose(mine, other, rtol=1e-5, atol=1e-6)


def assert_same_weights(ours, theirs, exactly=True):
    for mine, other in zip(ours.parameters(), theirs.parameters()):
        assert same(mine.detach().numpy(), other.detach().numpy(), exactly)


def assert_same_state(ours, theirs, exactly=True):
    assert ours["param_groups"] == theirs["param_groups"]
    assert ours["state"].keys() == theirs["state"].keys()
    for index, state in ours["state"].items():
        assert state.keys() == theirs["state"][index].keys()
        for key, value in state.items():
            assert same(value.numpy(), theirs["state"][index][key].numpy(), exactly), (index, key)


@pytest.mark.parametrize("bucket_view", [False, True], ids=["per-parameter", "bucket-view"])
@pytest.mark.parametrize(
    "optimizer, options",
    [("Adam", {"lr": 0.01, "weight_decay": 0.1}), ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True})],
)
def test_steps_as_the_wrapped_optimizer_and_as_pytorchs(groups, optimizer, options, bucket_view):
    ours, theirs = twin_models()
    plain, _ = twin_models()
    our_zero = ZeroRedundancyOptimizer(
        groups_of(chainrule, ours), getattr(chainrule.optim, optimizer), parameters_as_bucket_view=bucket_view, **options
    )
    their_zero = TorchZeRO(groups_of(torch, theirs), getattr(torch.optim, optimizer), parameters_as_bucket_view=bucket_view, **options)
    wrapped = getattr(chainrule.optim, optimizer)(groups_of(chainrule, plain), **options)
    data = data_for(ours)
    train(chainrule, ours, our_zero, data, chainrule.optim.lr_scheduler.StepLR(our_zero, 2, 0.5))
    train(torch, theirs, their_zero, data, torch.optim.lr_scheduler.StepLR(their_zero, 2, 0.5))
    train(chainrule, plain, wrapped, data, chainrule.optim.lr_scheduler.StepLR(wrapped, 2, 0.5))
    assert_same_weights(ours, plain)
    assert_same_weights(ours, theirs, exactly=False)
    # the partition: largest first, one local group per group; the scheduler's lr reaches the local
    # optimizer at each step (the last step ran with lr 0.03 halved twice; the scheduler halved it once more since)
    assert [[p.numel() for p in g["params"]] for g in our_zero.optim.param_groups] == [[35, 7], [21, 3]]
    assert our_zero.optim.param_groups[1]["lr"] == their_zero.optim.param_groups[1]["lr"] == 0.03 * 0.5**2
    assert our_zero.param_groups[1]["lr"] == their_zero.param_groups[1]["lr"] == 0.03 * 0.5**3
    our_zero.consolidate_state_dict(to=0)
    their_zero.consolidate_state_dict(to=0)
    assert_same_state(our_zero.state_dict(), wrapped.state_dict())
    assert_same_state(our_zero.state_dict(), their_zero.state_dict(), exactly=False)
    if bucket_view:  # each parameter views its rank's flat bucket
        bucket = our_zero._buckets[0]
        assert all(np.shares_memory(param._array, bucket._array) for param in ours.parameters())


def test_trains_as_the_wrapped_optimizer(groups):
    """From a real loss: the same steps as the wrapped optimizer on the whole model."""
    ours, _ = twin_models()
    plain, _ = twin_models()
    zero = ZeroRedundancyOptimizer(ours.parameters(), optimizer_class=chainrule.optim.AdamW, lr=0.02)
    optimizer = chainrule.optim.AdamW(plain.parameters(), lr=0.02)
    chainrule.manual_seed(1)
    inputs, labels = chainrule.randn(16, 5), chainrule.randint(0, 3, (16,))
    for model, stepping in ((ours, zero), (plain, optimizer)):
        for _ in range(STEPS):
            stepping.zero_grad()
            chainrule.nn.functional.cross_entropy(model(inputs), labels).backward()
            stepping.step()
    assert_same_weights(ours, plain)
    zero.consolidate_state_dict()
    assert_same_state(zero.state_dict(), optimizer.state_dict())


def test_state_dict_round_trip_continues_training_identically(groups):
    ours, theirs = twin_models()
    our_zero = ZeroRedundancyOptimizer(ours.parameters(), chainrule.optim.Adam, lr=0.01)
    their_zero = TorchZeRO(theirs.parameters(), torch.optim.Adam, lr=0.01)
    data = data_for(ours)
    train(chainrule, ours, our_zero, data[:3])
    train(torch, theirs, their_zero, data[:3])
    our_zero.consolidate_state_dict()
    their_zero.consolidate_state_dict()
    our_saved, their_saved = our_zero.state_dict(), their_zero.state_dict()
    our_resumed = ZeroRedundancyOptimizer(ours.parameters(), chainrule.optim.Adam, lr=0.5)
    their_resumed = TorchZeRO(theirs.parameters(), torch.optim.Adam, lr=0.5)
    our_resumed.load_state_dict(our_saved)
    their_resumed.load_state_dict(their_saved)
    assert our_resumed.param_groups[0]["lr"] == our_resumed.optim.param_groups[0]["lr"] == 0.01
    train(chainrule, ours, our_resumed, data[3:])
    train(torch, theirs, their_resumed, data[3:])
    assert_same_weights(ours, theirs, exactly=False)
    our_resumed.consolidate_state_dict()
    their_resumed.consolidate_state_dict()
    assert_same_state(our_resumed.state_dict(), their_resumed.state_dict(), exactly=False)


def test_add_param_group_reaches_the_local_optimizer(groups):
    ours, theirs = twin_models()
    our_zero = ZeroRedundancyOptimizer(list(ours.parameters())[:2], chainrule.optim.SGD, lr=0.1)
    their_zero = TorchZeRO(list(theirs.parameters())[:2], torch.optim.SGD, lr=0.1)
    our_zero.add_param_group({"params": list(ours.parameters())[2:], "lr": 0.05})
    their_zero.add_param_group({"params": list(theirs.parameters())[2:], "lr": 0.05})
    assert len(our_zero.optim.param_groups) == 2 and our_zero.optim.param_groups[1]["lr"] == 0.05
    data = data_for(ours)
    train(chainrule, ours, our_zero, data)
    train(torch, theirs, their_zero, data)
    assert_same_weights(ours, theirs, exactly=False)


def test_misuse_is_refused_as_pytorch_does(groups):
    model = chainrule.nn.Linear(2, 2)
    with pytest.raises(TypeError, match="should be an iterable of Tensors, but got chainrule.FloatTensor"):
        ZeroRedundancyOptimizer(model.weight, chainrule.optim.SGD, lr=0.1)
    with pytest.raises(ValueError, match="got an empty parameter list"):
        ZeroRedundancyOptimizer([], chainrule.optim.SGD, lr=0.1)
    with pytest.raises(ValueError, match="same dense type for all parameters but got both"):
        ZeroRedundancyOptimizer([model.weight, model.bias.double()], chainrule.optim.SGD, lr=0.1)
    with pytest.raises(RuntimeError, match="overlap_with_ddp=True.*communication hook"):
        ZeroRedundancyOptimizer(model.parameters(), chainrule.optim.SGD, overlap_with_ddp=True, lr=0.1)
    zero = ZeroRedundancyOptimizer(model.parameters(), chainrule.optim.SGD, lr=0.1)
    with pytest.raises(RuntimeError, match=r"call `consolidate_state_dict\(to=0\)` on all ranks"):
        zero.state_dict()


def test_needs_a_process_group():
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        ZeroRedundancyOptimizer(chainrule.nn.Linear(2, 2).parameters(), chainrule.optim.SGD, lr=0.1)
