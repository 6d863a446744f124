"""Each optimizer and option against torch.optim: identical parameters, identical gradient sequences.

The gradients come from one NumPy function of the current parameters (a noisy, slightly non-convex
bowl), evaluated on each library's own parameters, so a difference in an update would feed back and
grow over the 250 steps.
"""
import copy
import inspect
import re

import numpy as np
import pytest
import torch

import chainrule

STEPS = 250
SHAPES = [(3, 4), (4,), ()]

CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.5, maximize=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("Adam", dict(lr=0.01, maximize=True, amsgrad=True, weight_decay=0.01)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    ("RMSprop", dict(lr=0.005, momentum=0.9, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.005, momentum=0.5, centered=True, maximize=True, eps=1e-6)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.05, eps=1e-6, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.05, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.02, betas=(0.3, 0.9), eps=1e-6, weight_decay=0.05, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, momentum_decay=0.01, weight_decay=0.05)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, betas=(0.7, 0.9), weight_decay=0.05)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.6, t0=20, weight_decay=0.05, maximize=True)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.02, etas=(0.3, 1.5), step_sizes=(1e-3, 0.1), maximize=True)),
    ("Adafactor", dict(lr=0.01)),
    ("Adafactor", dict(lr=0.05, beta2_decay=-0.5, eps=(1e-20, 1e-2), d=2.0, weight_decay=0.05, maximize=True)),
    ("Adadelta", dict(lr=0.5, foreach=False, capturable=False, differentiable=False)),
]


def case_id(case):
    name, options = case
    return name + "-" + "-".join(f"{key}={value}" for key, value in options.items())


def initial_arrays(seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]


def gradient(array, step, position):
    """A deterministic gradient for the parameter's current value (same for both libraries), in its dtype."""
    noise = np.random.default_rng(1000 * step + position).standard_normal(array.shape).astype(array.dtype)
    return (0.7 * (array - 0.5) + 0.3 * np.sin(3 * array) + 0.2 * noise).astype(array.dtype)


def set_gradients(lib, params, step):
    """Gradients for every parameter; the second one gets none every fifth step (it is then skipped)."""
    for position, param in enumerate(params):
        values = param.detach().numpy()
        if position == 1 and step % 5 == 0:
            param.grad = None
        else:
            param.grad = lib.tensor(gradient(values, step, position))


def train(lib, optimizer, params, steps, start=0):
    for step in range(start, start + steps):
        optimizer.zero_grad()
        set_gradients(lib, params, step)
        optimizer.step()
    return [param.detach().numpy().copy() for param in params]


def make(lib, name, options, arrays=None):
    params = [lib.tensor(array.copy(), requires_grad=True) for array in (arrays or initial_arrays())]
    return params, getattr(lib.optim, name)(params, **options)


def assert_close(ours, theirs, what):
    for position, (mine, reference) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-6, err_msg=f"{what}: parameter {position}")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_torch_over_many_steps(case):
    name, options = case
    our_params, ours = make(chainrule, name, options)
    their_params, theirs = make(torch, name, options)
    for chunk in range(5):
        start = chunk * STEPS // 5
        mine = train(chainrule, ours, our_params, STEPS // 5, start)
        reference = train(torch, theirs, their_params, STEPS // 5, start)
        assert_close(mine, reference, f"{case_id(case)} after {start + STEPS // 5} steps")
    for position, param in enumerate(our_params):
        assert param.dtype == chainrule.float32, f"parameter {position} changed dtype"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_torch_in_float64(case):
    """In float64 the rounding of either library is far below the tolerance: any formula slip shows."""
    name, options = case
    arrays = initial_arrays(dtype=np.float64)
    our_params, ours = make(chainrule, name, options, arrays)
    their_params, theirs = make(torch, name, options, arrays)
    mine = train(chainrule, ours, our_params, 100)
    reference = train(torch, theirs, their_params, 100)
    for position, (ours_now, theirs_now) in enumerate(zip(mine, reference)):
        np.testing.assert_allclose(ours_now, theirs_now, rtol=1e-10, atol=1e-12, err_msg=f"parameter {position}")
    for index, values in theirs.state_dict()["state"].items():
        for key, value in values.items():
            np.testing.assert_allclose(ours.state_dict()["state"][index][key]._array, value.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_state_dict_matches_torch_layout(case):
    name, options = case
    our_params, ours = make(chainrule, name, options)
    their_params, theirs = make(torch, name, options)
    train(chainrule, ours, our_params, 3)
    train(torch, theirs, their_params, 3)
    mine, reference = ours.state_dict(), theirs.state_dict()
    assert mine["state"].keys() == reference["state"].keys()
    for index, values in reference["state"].items():
        assert list(mine["state"][index]) == list(values), f"state keys of parameter {index}"
        for key, value in values.items():
            assert mine["state"][index][key].dtype == np.dtype(str(value.dtype).removeprefix("torch.")), key
            np.testing.assert_allclose(mine["state"][index][key]._array, value.numpy(), rtol=1e-5, atol=1e-7)
    for our_group, their_group in zip(mine["param_groups"], reference["param_groups"]):
        assert our_group["params"] == their_group["params"]
        assert list(our_group) == list(their_group)
        for key, value in our_group.items():
            assert their_group[key] == value, key


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_resuming_from_a_saved_state_continues_exactly(case, tmp_path):
    name, options = case
    params, uninterrupted = make(chainrule, name, options)
    expected = train(chainrule, uninterrupted, params, 60)

    first_params, first = make(chainrule, name, options)
    train(chainrule, first, first_params, 30)
    chainrule.save({"params": first_params, "optimizer": first.state_dict()}, tmp_path / "checkpoint.npz")
    checkpoint = chainrule.load(tmp_path / "checkpoint.npz")
    resumed_params, resumed = make(chainrule, name, dict(options, lr=123.0), [p._array for p in checkpoint["params"]])
    resumed.load_state_dict(checkpoint["optimizer"])
    assert resumed.param_groups[0]["lr"] == first.param_groups[0]["lr"]
    got = train(chainrule, resumed, resumed_params, 30, start=30)
    for mine, reference in zip(got, expected):
        np.testing.assert_array_equal(mine, reference)


def test_loading_torch_state_dict_continues_like_torch():
    """A state dict from torch.optim (tensors converted) drives our Adam exactly like theirs."""
    their_params, theirs = make(torch, "Adam", dict(lr=0.01, amsgrad=True))
    train(torch, theirs, their_params, 20)
    converted = copy.deepcopy(theirs.state_dict())
    for values in converted["state"].values():
        for key, value in values.items():
            values[key] = chainrule.tensor(value.numpy())
    our_params, ours = make(chainrule, "Adam", dict(lr=0.01, amsgrad=True), [p.detach().numpy() for p in their_params])
    ours.load_state_dict(converted)
    assert_close(train(chainrule, ours, our_params, 50, 20), train(torch, theirs, their_params, 50, 20), "after loading")


def test_param_groups_with_their_own_options_match_torch():
    def build(lib):
        weight, bias, scale = (lib.tensor(array.copy(), requires_grad=True) for array in initial_arrays())
        groups = [{"params": [weight]}, {"params": [bias, scale], "lr": 0.001, "momentum": 0.5}]
        return [weight, bias, scale], lib.optim.SGD(groups, lr=0.05, momentum=0.9, nesterov=False)

    our_params, ours = build(chainrule)
    their_params, theirs = build(torch)
    assert [group["lr"] for group in ours.param_groups] == [0.05, 0.001]
    assert [group["momentum"] for group in ours.param_groups] == [0.9, 0.5]
    assert_close(train(chainrule, ours, our_params, 200), train(torch, theirs, their_params, 200), "param groups")
    assert ours.state_dict()["param_groups"][1]["params"] == [1, 2]


def test_add_param_group_later():
    first, second = (chainrule.tensor(array, requires_grad=True) for array in initial_arrays()[:2])
    their_first, their_second = (torch.tensor(array, requires_grad=True) for array in initial_arrays()[:2])
    ours = chainrule.optim.Adam([first], lr=0.01)
    theirs = torch.optim.Adam([their_first], lr=0.01)
    train(chainrule, ours, [first], 10)
    train(torch, theirs, [their_first], 10)
    ours.add_param_group({"params": second, "lr": 0.1})
    theirs.add_param_group({"params": their_second, "lr": 0.1})
    assert_close(train(chainrule, ours, [first, second], 40, 10), train(torch, theirs, [their_first, their_second], 40, 10), "added group")
    with pytest.raises(ValueError, match="more than one parameter group"):
        ours.add_param_group({"params": [first]})


def test_zero_grad_to_none_or_zeros():
    weight = chainrule.tensor([1.0, 2.0], requires_grad=True)
    optimizer = chainrule.optim.SGD([weight], lr=0.1)
    weight.grad = chainrule.tensor([3.0, 4.0])
    grad = weight.grad
    optimizer.zero_grad(set_to_none=False)
    assert weight.grad is grad and weight.grad.tolist() == [0.0, 0.0]
    optimizer.zero_grad()
    assert weight.grad is None


def test_zero_grad_to_zeros_of_a_view_assigned_to_grad():
    """opacus assigns ``p.grad = summed.view_as(p)`` and zeroes with set_to_none=False: a view that
    is no graph's result is zeroed in place, as PyTorch's (detaching a view in place is refused)."""
    for lib in (chainrule, torch):
        weight = lib.nn.Parameter(lib.ones(2, 3))
        layer = lib.nn.Linear(3, 2)
        weight.grad, layer.weight.grad = lib.ones(6).view_as(weight), lib.ones(6).view(2, 3)
        lib.optim.SGD([weight], lr=0.1).zero_grad(set_to_none=False)
        layer.zero_grad(set_to_none=False)
        assert weight.grad.sum().item() == 0 and layer.weight.grad.sum().item() == 0 and weight.grad._base is not None


def test_step_skips_parameters_without_gradient_and_returns_the_closure_loss():
    weight = chainrule.tensor([1.0, 2.0], requires_grad=True)
    frozen = chainrule.tensor([5.0], requires_grad=True)
    optimizer = chainrule.optim.SGD([weight, frozen], lr=0.5)

    def closure():
        optimizer.zero_grad()
        assert chainrule.is_grad_enabled()
        weight.grad = chainrule.tensor([1.0, -1.0])
        return 7.0

    with chainrule.no_grad():
        assert optimizer.step(closure) == 7.0
    assert weight.tolist() == [0.5, 2.5] and frozen.tolist() == [5.0]
    assert optimizer.step() is None


def test_step_bumps_the_version_so_an_old_graph_refuses_backward():
    weight = chainrule.tensor([1.0, 2.0], requires_grad=True)
    product = weight * weight
    optimizer = chainrule.optim.SGD([weight], lr=0.1)
    weight.grad = chainrule.tensor([1.0, 1.0])
    version = weight._version
    optimizer.step()
    assert weight._version == version + 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        product.backward(chainrule.ones(2))


def test_step_works_on_float64_parameters_and_keeps_their_dtype():
    our_params = [chainrule.tensor(np.linspace(-1, 1, 6), requires_grad=True)]
    their_params = [torch.tensor(np.linspace(-1, 1, 6), requires_grad=True)]
    ours, theirs = chainrule.optim.Adam(our_params, lr=0.01), torch.optim.Adam(their_params, lr=0.01)
    for step in range(100):
        for lib, params, optimizer in ((chainrule, our_params, ours), (torch, their_params, theirs)):
            params[0].grad = lib.tensor(np.cos(params[0].detach().numpy() * 3))
            optimizer.step()
    assert our_params[0].dtype == chainrule.float64
    np.testing.assert_allclose(our_params[0]._array, their_params[0].detach().numpy(), rtol=1e-12)


def test_repr_lists_each_group_like_torch():
    weight = chainrule.tensor([1.0], requires_grad=True)
    text = repr(chainrule.optim.SGD([weight], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n    dampening: 0\n")
    assert "    lr: 0.1\n" in text and "    momentum: 0.9\n" in text and text.endswith("\n)")


@pytest.mark.parametrize(
    "make_optimizer, error, message",
    [
        (lambda p: chainrule.optim.SGD(p, lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
        (lambda p: chainrule.optim.SGD(p, momentum=-1), ValueError, "Invalid momentum"),
        (lambda p: chainrule.optim.SGD(p, nesterov=True), ValueError, "Nesterov momentum requires a momentum"),
        (lambda p: chainrule.optim.Adam(p, betas=(0.9, 1.0)), ValueError, "Invalid beta parameter at index 1"),
        (lambda p: chainrule.optim.Adam(p, eps=-1e-8), ValueError, "Invalid epsilon value"),
        (lambda p: chainrule.optim.RMSprop(p, alpha=-0.5), ValueError, "Invalid alpha"),
        (lambda p: chainrule.optim.Adagrad(p, lr_decay=-1), ValueError, "Invalid lr_decay"),
        (lambda p: chainrule.optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda p: chainrule.optim.SGD(p[0], lr=0.1), TypeError, r"but got chainrule.FloatTensor \(wrap the tensor in a list"),
        (lambda p: chainrule.optim.SGD([1.0], lr=0.1), TypeError, "can only optimize Tensors"),
        (lambda p: chainrule.optim.SGD([{"params": set(p)}], lr=0.1), TypeError, "ordered collections"),
        (lambda p: chainrule.optim.SGD([p[0] * 2], lr=0.1), ValueError, "non-leaf"),
    ],
)
def test_bad_arguments_raise_like_torch(make_optimizer, error, message):
    params = [chainrule.tensor([1.0], requires_grad=True)]
    with pytest.raises(error, match=message):
        make_optimizer(params)


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("SGD", dict(lr=-0.1), "Invalid learning rate: -0.1"),
        ("SGD", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
        ("Adam", dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
        ("RMSprop", dict(momentum=-0.5), "Invalid momentum value: -0.5"),
        ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
        ("Adadelta", dict(eps=-1), "Invalid epsilon value: -1"),
        ("Adamax", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
        ("NAdam", dict(momentum_decay=-1), "Invalid momentum_decay value: -1"),
        ("RAdam", dict(betas=(-0.1, 0.9)), "Invalid beta parameter at index 0: -0.1"),
        ("ASGD", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
        ("Rprop", dict(etas=(1.5, 1.2)), "Invalid eta values: 1.5, 1.2"),
        ("Adafactor", dict(lr=-1), "Learning rate should be >= 0 but is: -1"),
        ("Adafactor", dict(beta2_decay=0.5), "beta2_decay should be <= 0 but is: 0.5"),
        ("Adafactor", dict(eps=(-1, 1e-3)), "epsilon1 should be >= 0 but is: -1"),
        ("Adafactor", dict(eps=(None, -1)), "epsilon2 should be >= 0 but is: -1"),
        ("Adafactor", dict(d=0.5), "Clipping threshold d should be >= 1 but is: 0.5"),
        ("Adafactor", dict(weight_decay=-1), "weight_decay should be >= 0 but is: -1"),
    ],
)
def test_bad_hyperparameters_raise_torch_messages(name, options, message):
    for lib in (chainrule, torch):
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            getattr(lib.optim, name)([lib.tensor([1.0], requires_grad=True)], **options)


def test_signatures_and_defaults_are_torch_s():
    for name in ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "LBFGS", "Adafactor", "Muon"]:
        ours, theirs = getattr(chainrule.optim, name), getattr(torch.optim, name)
        described = [
            [(parameter.name, parameter.kind, parameter.default) for parameter in inspect.signature(cls).parameters.values()]
            for cls in (ours, theirs)
        ]
        assert described[0] == described[1], name
        defaults = [cls([lib.zeros(2, 3, requires_grad=True)]).defaults for cls, lib in ((ours, chainrule), (theirs, torch))]
        assert list(defaults[0].items()) == list(defaults[1].items()), name


def test_load_state_dict_keeps_a_value_the_groups_share_shared():
    """RAdam implementations keep a step-size cache in one list every group shares (through
    ``defaults``): PyTorch deep-copies the saved groups in one call, so it stays one list."""
    for lib in (chainrule, torch):
        a, b = lib.zeros(2, requires_grad=True), lib.zeros(2, requires_grad=True)
        optimizer = lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
        cache = [[None, None, None] for _ in range(10)]
        for group in optimizer.param_groups:
            group["buffer"] = cache
        optimizer.load_state_dict(copy.deepcopy(optimizer.state_dict()))
        first, second = (group["buffer"] for group in optimizer.param_groups)
        assert first is second and first is not cache


def test_load_state_dict_with_other_groups_raises_value_error():
    params, optimizer = make(chainrule, "SGD", dict(lr=0.1, momentum=0.9))
    train(chainrule, optimizer, params, 2)
    state = optimizer.state_dict()
    other = chainrule.optim.SGD([params[0]], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        other.load_state_dict(state)
    two_groups = chainrule.optim.SGD([{"params": params[:1]}, {"params": params[1:]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        two_groups.load_state_dict(state)
    swapped = chainrule.optim.SGD([params[1], params[0], params[2]], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="different model"):
        swapped.load_state_dict(state)


def test_loaded_state_is_a_copy():
    params, optimizer = make(chainrule, "Adam", dict(lr=0.1))
    train(chainrule, optimizer, params, 2)
    state = optimizer.state_dict()
    twin_params, twin = make(chainrule, "Adam", dict(lr=0.1))
    twin.load_state_dict(state)
    before = state["state"][0]["exp_avg"]._array.copy()
    train(chainrule, twin, twin_params, 3)
    np.testing.assert_array_equal(state["state"][0]["exp_avg"]._array, before)


def test_reading_state_before_the_first_step_changes_nothing():
    weight = chainrule.tensor([1.0], requires_grad=True)
    optimizer = chainrule.optim.Adam([weight], lr=0.1)
    assert "exp_avg" not in optimizer.state[weight]
    weight.grad = chainrule.tensor([1.0])
    optimizer.step()
    assert weight.item() == pytest.approx(0.9)


def test_named_parameters_are_accepted_like_pytorch():
    model = chainrule.nn.Linear(2, 1)
    optimizer = chainrule.optim.SGD(model.named_parameters(), lr=0.1)
    assert optimizer.param_groups[0]["param_names"] == ["weight", "bias"]
    assert optimizer.param_groups[0]["params"][0] is model.weight


def test_the_optimizer_s_public_names_are_pytorch_s():
    """fast.ai's course prints ``dir(opt)`` and ``dir(lr_scheduler)``."""
    import torch.optim.lr_scheduler as theirs

    import chainrule.optim.lr_scheduler as ours

    def public(optimizer):
        return [name for name in dir(optimizer) if name[0] != "_"]

    assert public(chainrule.optim.SGD([chainrule.zeros(1, requires_grad=True)], 0.1)) == public(torch.optim.SGD([torch.zeros(1, requires_grad=True)], 0.1))
    def capitalized(module):
        return [name for name in dir(module) if name[0].isupper() and name[1].islower()]

    assert capitalized(ours) == capitalized(theirs)
    calls = []
    stepped = chainrule.optim.Optimizer.profile_hook_step(lambda optimizer: calls.append("step"))
    optimizer = chainrule.optim.SGD([chainrule.zeros(1, requires_grad=True)], 0.1)
    optimizer.register_step_pre_hook(lambda *args: calls.append("pre"))
    stepped(optimizer)
    assert calls == ["pre", "step"]
