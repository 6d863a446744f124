"""DistributedDataParallel in one process (the launched tests in tests/distributed cover several)."""
import pytest

import chainrule as torch
import chainrule.distributed as dist
from chainrule import nn
from chainrule.nn.parallel import DistributedDataParallel
from chainrule.nn.parallel.reducer import assign_buckets


@pytest.fixture
def group():
    dist.init_process_group(backend="mpi")
    yield
    dist.destroy_process_group()


def make_model():
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()


def gradients(model, inputs):
    model.zero_grad()
    model(inputs).pow(2).sum().backward()


def test_wrapping_keeps_the_gradients_and_state_dict_has_the_module_prefix(group):
    model, inputs = make_model(), torch.randn(5, 3, dtype=torch.float64)
    gradients(model, inputs)
    expected = [parameter.grad.clone() for parameter in model.parameters()]
    ddp = DistributedDataParallel(model, bucket_cap_mb=0.00005)
    assert len(ddp.reducer.buckets) > 1 and ddp.module is model
    gradients(ddp, inputs)
    assert all(torch.equal(parameter.grad, grad) for parameter, grad in zip(model.parameters(), expected))
    assert list(ddp.state_dict()) == [f"module.{name}" for name in model.state_dict()]


def test_no_sync_accumulates_and_the_next_synced_backward_adds_to_it(group):
    model, inputs = make_model(), torch.randn(4, 3, dtype=torch.float64)
    ddp = DistributedDataParallel(model)
    with ddp.no_sync():
        ddp(inputs[:2]).sum().backward()
    ddp(inputs[2:]).sum().backward()
    single = make_model()
    single.load_state_dict(model.state_dict())
    single(inputs).sum().backward()
    assert all(torch.allclose(a.grad, b.grad, rtol=0, atol=1e-14) for a, b in zip(model.parameters(), single.parameters()))


def test_a_parameter_left_out_of_the_loss_is_reported_at_the_next_forward(group):
    model = make_model()
    ddp = DistributedDataParallel(model)
    inputs = torch.randn(2, 3, dtype=torch.float64)
    model[0](inputs).sum().backward()  # only the first layer's gradients: the reduction never completes
    ddp(inputs)  # forward without backward was fine; now the second layer's part is missing
    model[0](inputs).sum().backward()
    with pytest.raises(RuntimeError, match=r"parameters that were not used in producing loss \(parameter indices without a gradient: \[2, 3\]\)"):
        ddp(inputs)


def test_a_gradient_arriving_twice_in_one_iteration_is_refused(group):
    model = make_model()
    ddp = DistributedDataParallel(model)
    inputs = torch.randn(2, 3, dtype=torch.float64)
    ddp(inputs)
    model[0](inputs).sum().backward()  # the first layer's gradients are ready, the second's are not
    with pytest.raises(RuntimeError, match="ready only once"):
        model[0](inputs).sum().backward()


def test_wrapping_needs_a_process_group():
    with pytest.raises(ValueError, match="init_process_group"):
        DistributedDataParallel(make_model())


def test_unused_parameters_are_found_or_refused_as_pytorchs(group):
    """A layer the loss leaves out: find_unused_parameters=True keeps its .grad None and trains on
    (Lightning's ddp_find_unused_parameters_true); without it, the next forward refuses, as PyTorch's."""
    def with_unused_head(lib):
        class WithUnusedHead(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.used, self.unused = lib.nn.Linear(3, 2), lib.nn.Linear(3, 2)

            def forward(self, x):
                return self.used(x)

        return WithUnusedHead()

    import tempfile

    import torch as real_torch
    import torch.distributed as torch_dist

    torch_dist.init_process_group("gloo", rank=0, world_size=1, init_method=f"file://{tempfile.mktemp()}")
    try:
        grads = {}
        for lib in (torch, real_torch):
            lib.manual_seed(0)
            ddp = lib.nn.parallel.DistributedDataParallel(with_unused_head(lib), find_unused_parameters=True)
            for _ in range(2):
                ddp(lib.ones(4, 3)).sum().backward()
            grads[lib] = [ddp.module.used.weight.grad.tolist(), ddp.module.unused.weight.grad]
            refusing = lib.nn.parallel.DistributedDataParallel(with_unused_head(lib))
            refusing(lib.ones(4, 3)).sum().backward()
            with pytest.raises(RuntimeError, match="Expected to have finished reduction in the prior iteration"):
                refusing(lib.ones(4, 3))
        assert grads[torch] == grads[real_torch] == [[[8.0] * 3] * 2, None]
    finally:
        torch_dist.destroy_process_group()


def test_buckets_follow_reverse_order_split_by_size_and_dtype():
    parameters = [torch.zeros(100), torch.zeros(100), torch.zeros(10, dtype=torch.float64), torch.zeros(300)]
    buckets = assign_buckets(parameters, bucket_cap_bytes=800, first_bucket_bytes=400)
    assert [[id(p) for p in bucket.parameters] for bucket in buckets] == [
        [id(parameters[0])], [id(parameters[1])], [id(parameters[2])], [id(parameters[3])]
    ]
    merged = assign_buckets(parameters[:2] + parameters[3:], bucket_cap_bytes=10**6)
    assert [len(bucket.parameters) for bucket in merged] == [3]


def test_a_bucket_starts_while_backward_is_still_running(group):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    ddp = DistributedDataParallel(model, bucket_cap_mb=0.00001)  # a bucket per parameter or two
    started_when_first_layer_reached = []
    hidden = model[0](torch.randn(5, 3, dtype=torch.float64))
    hidden.register_hook(lambda grad: started_when_first_layer_reached.append(ddp.reducer.next_bucket))
    ddp.reducer.prepare_for_forward(sync=True)  # what ddp's forward does; the forward is split here to hook it
    model[1:](hidden).sum().backward()
    assert started_when_first_layer_reached[0] >= 2 and len(ddp.reducer.buckets) == 6
    assert ddp.reducer.next_bucket == 0 and not ddp.reducer.armed  # all finished, ready for the next


def test_a_model_converted_after_wrapping_keeps_full_precision_gradients(group):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    ddp = DistributedDataParallel(model)
    inputs = torch.randn(5, 3)
    ddp(inputs).sum().backward()  # float32 buckets
    model.double()
    model.zero_grad()
    ddp(inputs.double()).sum().backward()
    reference = make_model()
    reference.load_state_dict(model.state_dict())
    reference(inputs.double()).sum().backward()
    assert all(a.grad.dtype == torch.float64 and torch.equal(a.grad, b.grad) for a, b in zip(model.parameters(), reference.parameters()))
