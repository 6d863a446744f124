"""The 'meta' device against PyTorch: tensors with a shape and a dtype and no values. Factories
(``device='meta'``, ``with torch.device('meta')``), layers built there, convolutions and the other
operations of a forward pass keep them meta with PyTorch's shapes, without allocating their size
or drawing random numbers; they print as PyTorch prints them; reading their values raises
PyTorch's exception types; ``load_state_dict(assign=True)`` and ``to_empty`` give them values."""
import tracemalloc

import pytest
import torch

import chainrule


def described(tensor):
    """What a meta tensor is: shape, dtype, device, whether meta, requires_grad (names without the library's)."""
    return (tuple(tensor.shape), str(tensor.dtype).split(".")[-1], str(tensor.device), tensor.is_meta, tensor.requires_grad)


def printed(value):
    return repr(value).replace("chainrule.", "torch.")


def same_in_both(call):
    """``call(lib)``'s tensors described alike in both libraries (a tensor or a list of them)."""
    ours, theirs = call(chainrule), call(torch)
    if isinstance(theirs, (list, tuple)):
        assert [described(t) for t in ours] == [described(t) for t in theirs]
    else:
        assert described(ours) == described(theirs)
    return ours, theirs


def peak_bytes(call):
    """The most memory Python held above its start while ``call()`` ran."""
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        call()
        return tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()


# ----------------------------------------------------------------------------- factories
FACTORIES = [
    lambda lib: lib.zeros(2, 3, device="meta"),
    lambda lib: lib.ones((2, 3), dtype=lib.float64, device=lib.device("meta")),
    lambda lib: lib.empty(2, 3, 4, 5, device="meta", memory_format=lib.channels_last),
    lambda lib: lib.full((2,), 3, device="meta"),
    lambda lib: lib.full((2,), 1.5, device="meta", requires_grad=True),
    lambda lib: lib.rand(2, 3, device="meta"),
    lambda lib: lib.randn(4, dtype=lib.float64, device="meta"),
    lambda lib: lib.randint(0, 10, (2, 5), device="meta"),
    lambda lib: lib.randperm(7, device="meta"),
    lambda lib: lib.normal(0.0, 1.0, (3,), device="meta"),
    lambda lib: lib.arange(5, device="meta"),
    lambda lib: lib.arange(0, 1, 0.1, device="meta"),
    lambda lib: lib.linspace(0, 1, 5, device="meta"),
    lambda lib: lib.logspace(0, 1, 3, device="meta"),
    lambda lib: lib.eye(3, 2, device="meta"),
    lambda lib: lib.scalar_tensor(3, device="meta"),
    lambda lib: lib.tensor([1, 2], device="meta"),
    lambda lib: lib.tensor(3.0, device="meta"),
    lambda lib: lib.as_tensor([1.0, 2.0], device="meta"),
    lambda lib: lib.as_tensor(lib.ones(2), device="meta"),
    lambda lib: lib.asarray([1.0, 2.0], device="meta"),
    lambda lib: lib.empty_strided((2, 3), (1, 2), device="meta"),
    lambda lib: lib.zeros(0, 3, device="meta"),
]


@pytest.mark.parametrize("call", FACTORIES)
def test_factories_make_meta_tensors_as_pytorch(call):
    ours, theirs = same_in_both(call)
    assert printed(ours) == printed(theirs)


@pytest.mark.parametrize("call", [
    lambda lib: lib.rand(2**10, 3, 2**16, 2**16, device="meta"),
    lambda lib: lib.zeros(2**40, device="meta"),
    lambda lib: lib.empty(2**20, 2**20, device="meta"),
    lambda lib: lib.randint(0, 10, (2**40,), device="meta"),
    lambda lib: lib.arange(2**40, device="meta"),
])
def test_a_meta_tensor_of_any_size_takes_no_memory(call):
    same_in_both(call)
    assert peak_bytes(lambda: call(chainrule)) < 100_000


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.zeros_like(x),
    lambda lib, x: lib.ones_like(x, dtype=lib.float64),
    lambda lib, x: lib.empty_like(x),
    lambda lib, x: lib.full_like(x, 2.0),
    lambda lib, x: lib.rand_like(x),
    lambda lib, x: lib.randn_like(x),
    lambda lib, x: lib.randint_like(x, 5),
    lambda lib, x: x.new_zeros(4),
    lambda lib, x: x.new_ones(2, 2),
    lambda lib, x: x.new_empty(3),
    lambda lib, x: x.new_full((2,), 1.0),
    lambda lib, x: x.new_tensor([1.0, 2.0]),
])
def test_like_factories_follow_their_inputs_device(call):
    same_in_both(lambda lib: call(lib, lib.ones(2, 3, device="meta")))
    same_in_both(lambda lib: call(lib, lib.ones(2, 3)))


def test_like_factories_take_the_device_asked_for():
    same_in_both(lambda lib: [lib.zeros_like(lib.ones(2), device="meta"), lib.zeros_like(lib.ones(2, device="meta"), device="cpu"),
                              lib.ones(2).new_zeros(3, device="meta")])


def test_factories_on_meta_draw_no_random_numbers():
    def draws(lib):
        lib.manual_seed(0)
        lib.rand(3, device="meta"), lib.randn(2, 2, device="meta"), lib.randint(5, (4,), device="meta"), lib.randperm(5, device="meta")
        lib.ones(3, device="meta").uniform_(), lib.ones(3, device="meta").normal_(), lib.rand_like(lib.ones(2, device="meta"))
        return lib.rand(4).tolist()

    assert draws(chainrule) == pytest.approx(draws(torch))


def test_the_default_device_meta_reaches_factories_not_like_factories():
    def made(lib):
        cpu = lib.ones(2)
        with lib.device("meta"):
            return [lib.zeros(2), lib.rand(3), lib.arange(4), lib.tensor([1.0]), lib.as_tensor(cpu), lib.zeros_like(cpu), cpu.new_zeros(3)]

    same_in_both(made)


def test_set_default_device_meta():
    def made(lib):
        lib.set_default_device("meta")
        try:
            return [lib.zeros(2), lib.full((2,), 1.0), lib.asarray(lib.ones(2))]
        finally:
            lib.set_default_device(None)

    same_in_both(made)


# ----------------------------------------------------------------------------- layers
LAYERS = [
    lambda lib, **kw: lib.nn.Linear(2, 3, **kw),
    lambda lib, **kw: lib.nn.Bilinear(2, 3, 4, **kw),
    lambda lib, **kw: lib.nn.Conv2d(3, 5, 2, **kw),
    lambda lib, **kw: lib.nn.ConvTranspose1d(3, 4, 3, groups=1, **kw),
    lambda lib, **kw: lib.nn.BatchNorm2d(4, **kw),
    lambda lib, **kw: lib.nn.LayerNorm((3, 4), **kw),
    lambda lib, **kw: lib.nn.GroupNorm(2, 4, **kw),
    lambda lib, **kw: lib.nn.RMSNorm(3, **kw),
    lambda lib, **kw: lib.nn.Embedding(10, 3, padding_idx=0, **kw),
    lambda lib, **kw: lib.nn.EmbeddingBag(10, 3, **kw),
    lambda lib, **kw: lib.nn.PReLU(3, **kw),
    lambda lib, **kw: lib.nn.LSTM(3, 4, 2, **kw),
    lambda lib, **kw: lib.nn.GRUCell(3, 4, **kw),
    lambda lib, **kw: lib.nn.MultiheadAttention(4, 2, **kw),
    lambda lib, **kw: lib.nn.TransformerEncoderLayer(4, 2, 8, **kw),
]


def tensors_of(module):
    return [tensor for _, tensor in sorted(module.state_dict(keep_vars=True).items())]


@pytest.mark.parametrize("layer", LAYERS)
def test_layers_built_on_meta_have_meta_parameters_and_buffers(layer):
    same_in_both(lambda lib: tensors_of(layer(lib, device="meta")))

    def inside(lib):
        with lib.device("meta"):
            return tensors_of(layer(lib))

    same_in_both(inside)


def test_a_layer_built_on_meta_draws_no_random_numbers():
    def draws(lib):
        lib.manual_seed(0)
        lib.nn.Linear(3, 4, device="meta"), lib.nn.Conv2d(2, 3, 3, device="meta"), lib.nn.LSTM(2, 3, device="meta")
        return lib.nn.Linear(2, 2).weight.reshape(-1).tolist()

    assert draws(chainrule) == pytest.approx(draws(torch))


def test_parameters_of_a_meta_layer_print_as_pytorchs():
    ours, theirs = (lib.nn.Linear(1, 1, device="meta").weight for lib in (chainrule, torch))
    assert printed(ours) == printed(theirs)
    assert type(ours).__name__ == type(theirs).__name__ == "Parameter"


def test_load_state_dict_with_assign_gives_a_meta_module_the_checkpoints_tensors():
    def loaded(lib):
        lib.manual_seed(0)
        state = lib.nn.Linear(2, 3).state_dict()
        with lib.device("meta"):
            model = lib.nn.Linear(2, 3)
        result = model.load_state_dict(state, assign=True)
        return model, state, str(result)

    (ours, our_state, our_result), (theirs, their_state, their_result) = loaded(chainrule), loaded(torch)
    assert our_result == their_result
    assert [described(p) for p in ours.parameters()] == [described(p) for p in theirs.parameters()]
    assert all(type(p).__name__ == "Parameter" for p in ours.parameters())
    assert ours.weight.reshape(-1).tolist() == pytest.approx(theirs.weight.reshape(-1).tolist())
    assert ours(chainrule.ones(2)).tolist() == pytest.approx(theirs(torch.ones(2)).tolist())


def test_load_state_dict_without_assign_leaves_a_meta_module_meta():
    def loaded(lib):
        state = lib.nn.Linear(2, 3).state_dict()
        model = lib.nn.Linear(2, 3, device="meta")
        with pytest.warns(UserWarning) if lib is torch else _nothing():
            model.load_state_dict(state)
        return list(model.parameters())

    same_in_both(loaded)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False


def test_to_empty_gives_a_meta_module_memory_on_the_cpu():
    def emptied(lib):
        model = lib.nn.BatchNorm1d(3, device="meta").to_empty(device="cpu")
        return tensors_of(model)

    same_in_both(emptied)
    same_in_both(lambda lib: tensors_of(lib.nn.Linear(2, 2, device="meta").to_empty(device="meta")))


def test_in_place_changes_of_a_meta_tensor_write_nothing():
    same_in_both(lambda lib: [lib.ones(2, 3, device="meta").copy_(lib.ones(2, 3)), lib.ones(2, device="meta").add_(1),
                              lib.ones(2, device="meta").zero_(), lib.ones(2, device="meta").fill_(3.0)])


# ----------------------------------------------------------------------------- operations
CONVOLUTIONS = [
    lambda lib: lib.nn.functional.conv1d(lib.ones(2, 4, 9, device="meta"), lib.ones(6, 2, 3, device="meta"), groups=2, stride=2),
    lambda lib: lib.nn.functional.conv2d(lib.ones(2, 3, 10, 10, device="meta"), lib.ones(5, 3, 2, 2, device="meta"), padding=1, dilation=2),
    lambda lib: lib.nn.functional.conv2d(lib.ones(3, 10, 7, device="meta"), lib.ones(5, 3, 3, 3, device="meta"), padding="same"),
    lambda lib: lib.nn.functional.conv3d(lib.ones(1, 2, 5, 6, 7, device="meta"), lib.ones(4, 2, 2, 3, 1, device="meta"), bias=lib.ones(4, device="meta")),
    lambda lib: lib.nn.functional.conv_transpose2d(lib.ones(2, 4, 5, 5, device="meta"), lib.ones(4, 3, 3, 3, device="meta"), stride=2, output_padding=1),
    lambda lib: lib.nn.functional.conv_transpose1d(lib.ones(2, 4, 5, device="meta"), lib.ones(4, 1, 3, device="meta"), groups=2, padding=1),
    lambda lib: lib.nn.Conv2d(3, 5, 2, device="meta")(lib.rand(2, 3, 10, 10, device="meta")),
]


@pytest.mark.parametrize("call", CONVOLUTIONS)
def test_convolutions_keep_meta_with_pytorchs_shapes(call):
    ours, theirs = same_in_both(call)
    assert printed(ours) == printed(theirs)


def test_a_convolution_of_a_huge_meta_input_computes_nothing():
    conv = {lib: lib.nn.Conv2d(3, 5, 2, device="meta") for lib in (chainrule, torch)}

    def run(lib):
        return conv[lib](lib.rand(2**10, 3, 2**16, 2**16, device="meta"))

    ours, theirs = same_in_both(run)
    assert printed(ours) == printed(theirs)  # its grad_fn wraps to a second line, as PyTorch's
    assert peak_bytes(lambda: run(chainrule)) < 1_000_000


class Net:
    """The "Reasoning about shapes" recipe's network, built in either library."""

    def __new__(cls, lib):
        nn, F = lib.nn, lib.nn.functional

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1, self.pool, self.conv2 = nn.Conv2d(3, 6, 5), nn.MaxPool2d(2, 2), nn.Conv2d(6, 16, 5)
                self.fc1, self.fc2, self.fc3 = nn.Linear(16 * 5 * 5, 120), nn.Linear(120, 84), nn.Linear(84, 10)

            def forward(self, x):
                x = self.pool(F.relu(self.conv1(x)))
                x = self.pool(F.relu(self.conv2(x)))
                x = lib.flatten(x, 1)
                return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

        return Net()


def test_a_network_on_meta_gives_each_layers_shape_without_computing():
    def shapes(lib):
        with lib.device("meta"):
            net, input = Net(lib), lib.randn((1024, 3, 32, 32))
        seen = []
        for _, layer in net.named_modules():
            layer.register_forward_hook(lambda module, args, output: seen.append(tuple(output.shape)))
        output = net(input)
        return seen, printed(output)

    assert shapes(chainrule) == shapes(torch)
    assert peak_bytes(lambda: shapes(chainrule)) < 2_000_000  # the activations alone would take 40 MB


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.relu(x),
    lambda lib, x: x + x,
    lambda lib, x: x * 2 + 1,
    lambda lib, x: x > 0,
    lambda lib, x: lib.exp(x),
    lambda lib, x: x.sum(),
    lambda lib, x: x.mean(1),
    lambda lib, x: x.amax(0),
    lambda lib, x: x.view(-1, 8)[:, :3] @ lib.ones(3, 5, device="meta"),
    lambda lib, x: lib.nn.functional.max_pool2d(x.view(4, 4, 32, 32), 2),
    lambda lib, x: lib.nn.functional.linear(x.view(-1, 64), lib.ones(10, 64, device="meta"), lib.ones(10, device="meta")),
])
def test_elementwise_operations_products_and_reductions_keep_meta_without_allocating_their_size(call):
    def run(lib):
        return call(lib, lib.ones(64, 256, device="meta"))

    ours, theirs = same_in_both(run)
    assert printed(ours) == printed(theirs)
    assert peak_bytes(lambda: run(chainrule)) < 40_000  # the result alone would take 64 kB


@pytest.mark.parametrize("call", [
    lambda lib, x: x.to(lib.float64),
    lambda lib, x: x.max(dim=0).values,
    lambda lib, x: x.t().contiguous(),
    lambda lib, x: lib.softmax(x, 1),
    # results NumPy makes as plain arrays from a meta one: made meta where the tensor is made
    lambda lib, x: lib.where(x > 0, x, 0.0),
    lambda lib, x: x.masked_fill(x > 0, 1.0),
    lambda lib, x: x.argmax(1),
    lambda lib, x: x.topk(3, dim=1),
    lambda lib, x: x.sort(1),
    lambda lib, x: x.max(dim=1),
    lambda lib, x: x.tril(),
    lambda lib, x: x.clamp(0, 1),
    lambda lib, x: lib.nn.functional.pad(x, (1, 2)),
    lambda lib, x: lib.einsum("ij,jk->ik", x, x.t()),
    lambda lib, x: lib.nn.functional.gelu(lib.nn.functional.mish(x)),
    lambda lib, x: lib.nn.functional.interpolate(x[None], scale_factor=2),
    lambda lib, x: lib.nn.functional.unfold(x[None, None], 2),
    lambda lib, x: x.repeat_interleave(2, dim=0),
    lambda lib, x: x.repeat_interleave(lib.ones(8, dtype=lib.int64, device="meta"), dim=0, output_size=8),
    lambda lib, x: lib.repeat_interleave(lib.ones(8, dtype=lib.int64, device="meta"), output_size=11),
    lambda lib, x: x[lib.tensor([0, 2], device="meta")],
    lambda lib, x: x.gather(1, lib.zeros(8, 1, dtype=lib.int64, device="meta")),
    lambda lib, x: lib.nn.functional.one_hot(lib.zeros(3, dtype=lib.int64, device="meta"), 4),
])
def test_other_operations_keep_meta(call):
    same_in_both(lambda lib: call(lib, lib.ones(8, 16, device="meta")))


# ----------------------------------------------------------------------------- printing and values
@pytest.mark.parametrize("call", [
    lambda lib: lib.ones(2, 3, device="meta"),
    lambda lib: lib.ones((), device="meta"),
    lambda lib: lib.ones(0, device="meta"),
    lambda lib: lib.ones(2, dtype=lib.int64, device="meta"),
    lambda lib: lib.ones(2, dtype=lib.bool, device="meta"),
    lambda lib: lib.ones(2, device="meta", requires_grad=True) * 2,
    lambda lib: lib.ones(1024, 5, 65535, 65535, device="meta", requires_grad=True) * 2,
])
def test_meta_tensors_print_as_pytorchs(call):
    assert printed(call(chainrule)) == printed(call(torch))
    assert str(call(chainrule)).replace("chainrule.", "torch.") == str(call(torch))


@pytest.mark.parametrize("call", [
    lambda lib: lib.ones(1, device="meta").item(),
    lambda lib: lib.ones(2, device="meta").sum().item(),
    lambda lib: float(lib.ones(1, device="meta")),
    lambda lib: int(lib.ones(1, device="meta")),
    lambda lib: lib.ones(2, device="meta").tolist(),
    lambda lib: lib.ones(2, device="meta").numpy(),
    lambda lib: lib.ones(2, device="meta").to("cpu"),
    lambda lib: bool(lib.ones(1, device="meta") > 0),
    lambda lib: lib.ones(3, device="meta").nonzero(),
    lambda lib: lib.ones(3, device="meta").unique(),
    lambda lib: lib.ones(3, device="meta").masked_select(lib.ones(3, device="meta") > 0),
    lambda lib: lib.ones(3, device="meta")[lib.ones(3, device="meta") > 0],
    lambda lib: lib.bincount(lib.zeros(3, dtype=lib.int64, device="meta")),
    lambda lib: lib.repeat_interleave(lib.ones(3, dtype=lib.int64, device="meta")),
    lambda lib: lib.ones(3, device="meta").repeat_interleave(lib.ones(3, dtype=lib.int64, device="meta")),
    lambda lib: lib.zeros(2, device="cuda:0"),
    lambda lib: lib.nn.Linear(2, 2, device="cuda"),
])
def test_reading_a_meta_tensors_values_raises_pytorchs_exception_type(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(type(expected.value)):
        call(chainrule)


def test_joining_meta_tensors_gives_a_meta_tensor_of_the_joined_shape():
    first, second = chainrule.zeros(2, 3, device="meta"), chainrule.ones(1, 3, dtype=chainrule.float64, device="meta")
    joined, stacked = chainrule.cat([first, second]), chainrule.stack([first, first], dim=-1)
    assert (joined.device.type, tuple(joined.shape), joined.dtype) == ("meta", (3, 3), chainrule.float64)
    assert (stacked.device.type, tuple(stacked.shape)) == ("meta", (2, 3, 2))


@pytest.mark.parametrize(
    "loss",
    [
        lambda lib, x: x.sum(),
        lambda lib, x: (x * 2).sum(),
        lambda lib, x: lib.tanh(x @ lib.ones(4, 4, device="meta")).sum(),
        lambda lib, x: lib.stack([x, x]).mean(),
        lambda lib, x: lib.nn.functional.linear(x, lib.ones(3, 4, device="meta"), lib.ones(3, device="meta")).sum(),
        lambda lib, x: lib.relu(x).sum(),
        lambda lib, x: x.clamp(0, 1).sum(),
        lambda lib, x: lib.nn.functional.leaky_relu(lib.nn.functional.gelu(x)).sum(),
        lambda lib, x: lib.nn.functional.cross_entropy(x, lib.zeros(3, dtype=lib.int64, device="meta")),
        lambda lib, x: lib.nn.functional.mse_loss(x, lib.zeros(3, 4, device="meta")),
    ],
)
def test_a_backward_on_the_meta_device_gives_meta_gradients_as_in_torch(loss):
    devices = []
    for lib in (chainrule, torch):
        x = lib.zeros(3, 4, device="meta", requires_grad=True)
        loss(lib, x).backward()
        devices.append((x.grad.device.type, tuple(x.grad.shape)))
    assert devices[0] == devices[1] == ("meta", (3, 4))


def test_a_network_trains_a_step_on_the_meta_device_as_in_torch():
    """Forward (batch norm moving its running statistics: a write into a meta array writes
    nothing), backward and an optimizer step: every gradient and parameter stays meta."""
    devices = []
    for lib in (chainrule, torch):
        nn = lib.nn
        model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2)).to("meta")
        optimizer = lib.optim.Adam(model.parameters())
        loss = nn.functional.cross_entropy(model(lib.randn(5, 3, 8, 8, device="meta")), lib.zeros(5, dtype=lib.int64, device="meta"))
        loss.backward()
        optimizer.step()
        devices.append(sorted({(name, p.device.type, p.grad.device.type) for name, p in model.named_parameters()}))
        devices.append(sorted((name, b.device.type) for name, b in model.named_buffers()))
    assert devices[0] == devices[2] and devices[1] == devices[3]


def test_moving_to_meta_moves_every_buffer_and_to_another_tensor_takes_its_device():
    for lib in (chainrule, torch):
        norm = lib.nn.BatchNorm1d(3).to("meta")
        assert norm.num_batches_tracked.device.type == "meta"  # an integer buffer moves too, keeping its dtype
        assert norm.num_batches_tracked.dtype == lib.int64
        assert lib.ones(2).to(lib.ones(1, dtype=lib.float64, device="meta")).device.type == "meta"
        moved = lib.nn.Linear(2, 2).to(lib.ones(1, device="meta"))
        assert moved.weight.device.type == "meta"
