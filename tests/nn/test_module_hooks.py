"""Module hooks as PyTorch's: forward (with kwargs, prepended, always called), global module hooks,
state dict and load_state_dict hooks, handles; each scenario runs in both libraries and must leave
the same record of calls."""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule.nn import module as chainrule_module
from torch.nn.modules import module as torch_module

LIBRARIES = {"chainrule": (chainrule, chainrule_module), "torch": (torch, torch_module)}


class Scaled:
    """A module ``forward(x, scale=1.0)`` in either library."""

    @staticmethod
    def make(lib):
        class Scale(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.linear = lib.nn.Linear(2, 2)

            def forward(self, x, scale=1.0):
                if scale == 0:
                    raise ValueError("scale 0")
                return self.linear(x) * scale

        return Scale()


def values(tensor):
    return np.asarray(tensor.detach().tolist())


def forward_scenario(name):
    lib, _ = LIBRARIES[name]
    lib.manual_seed(0)
    model = Scaled.make(lib)
    events = []
    x = lib.ones(1, 2)

    def pre(module, args):
        events.append(("pre", len(args)))

    def pre_kwargs(module, args, kwargs):
        events.append(("pre_kwargs", sorted(kwargs)))
        return args, {**kwargs, "scale": 2.0}

    def hook(module, args, output):
        events.append(("hook", tuple(output.shape)))

    def hook_kwargs(module, args, kwargs, output):
        events.append(("hook_kwargs", kwargs["scale"]))
        return output + 1

    def first(module, args, output):
        events.append(("first",))

    def always(module, args, output):
        events.append(("always", output is None))

    handles = [
        model.register_forward_pre_hook(pre),
        model.register_forward_pre_hook(pre_kwargs, with_kwargs=True),
        model.register_forward_hook(hook),
        model.register_forward_hook(hook_kwargs, with_kwargs=True),
        model.register_forward_hook(first, prepend=True),
        model.register_forward_hook(always, always_call=True),
    ]
    out = model(x, scale=3.0)
    events.append(("out is linear(x) · 2 + 1", np.allclose(values(out), values(model.linear(x)) * 2 + 1)))
    with model.register_forward_pre_hook(lambda m, a, k: (a, {"scale": 0}), with_kwargs=True):
        with pytest.raises(ValueError):  # forward raises: only the always_call hook runs, with output None
            model(x)
    with model.register_forward_hook(lambda m, a, o: events.append(("inside",))):
        model(x)
    for handle in handles:
        handle.remove()
    events.append(("hooks left", len(model._forward_hooks), len(model._forward_hooks_with_kwargs), len(model._forward_hooks_always_called)))
    return events


def test_forward_hooks_with_kwargs_prepend_always_call_and_handles_as_in_pytorch():
    assert forward_scenario("chainrule") == forward_scenario("torch")


def test_a_pre_hook_with_kwargs_must_return_args_and_kwargs():
    model = Scaled.make(chainrule)
    model.register_forward_pre_hook(lambda module, args, kwargs: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match="tuple of \\(new_args, new_kwargs\\)"):
        model(chainrule.ones(1, 2))


def global_scenario(name):
    lib, module_namespace = LIBRARIES[name]
    model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU())
    events = []
    model[0].register_forward_hook(lambda m, a, o: events.append(("own", type(m).__name__)))
    handles = [
        module_namespace.register_module_forward_pre_hook(lambda m, a: events.append(("global pre", type(m).__name__))),
        module_namespace.register_module_forward_hook(lambda m, a, o: events.append(("global", type(m).__name__))),
        module_namespace.register_module_full_backward_hook(lambda m, gi, go: events.append(("global backward", type(m).__name__))),
    ]
    try:
        model(lib.ones(1, 2, requires_grad=True)).sum().backward()
    finally:
        for handle in handles:
            handle.remove()
    model(lib.ones(1, 2))
    return events


def test_global_module_hooks_run_for_every_module_before_its_own():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert global_scenario("chainrule") == global_scenario("torch")


def state_dict_scenario(name):
    lib, _ = LIBRARIES[name]
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
    events = []
    model.register_state_dict_pre_hook(lambda m, prefix, keep_vars: events.append(("pre", prefix, keep_vars)))
    model[1].register_state_dict_pre_hook(lambda m, prefix, keep_vars: events.append(("pre 1", prefix)))

    def post(module, state_dict, prefix, metadata):
        events.append(("post", prefix, list(state_dict)[:3]))
        state_dict[prefix + "extra"] = lib.zeros(1)

    model.register_state_dict_post_hook(post)
    model[0].register_state_dict_post_hook(lambda m, sd, prefix, metadata: events.append(("post 0", prefix, len(sd))))
    state = model.state_dict()
    events.append(("keys", list(state)))
    return events


def test_state_dict_hooks_run_in_pytorch_s_order_and_may_add_entries():
    assert state_dict_scenario("chainrule") == state_dict_scenario("torch")


def test_a_public_state_dict_post_hook_must_return_none():
    model = chainrule.nn.Linear(2, 2)
    model.register_state_dict_post_hook(lambda m, sd, prefix, metadata: {})
    with pytest.raises(RuntimeError, match="must return None"):
        model.state_dict()


def load_scenario(name):
    lib, _ = LIBRARIES[name]
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(2, 3))
    source = lib.nn.Sequential(lib.nn.Linear(2, 3))
    old_format = {key.replace("weight", "w"): value for key, value in source.state_dict().items()}
    events = []

    def rename(module, state_dict, prefix, metadata, strict, missing, unexpected, errors):
        events.append(("pre", type(module).__name__, prefix, strict))
        for key in list(state_dict):
            if key.endswith(".w"):
                state_dict[key[:-2] + ".weight"] = state_dict.pop(key)

    model[0].register_load_state_dict_pre_hook(rename)
    result = model.load_state_dict(old_format)
    events.append(("loaded", sorted(result.missing_keys), sorted(result.unexpected_keys), sorted(old_format)))
    events.append(("weight", values(model[0].weight).round(6).tolist() == values(source[0].weight).round(6).tolist()))

    def forgive(module, incompatible):
        events.append(("post", sorted(incompatible.missing_keys)))
        incompatible.missing_keys.clear()

    model.register_load_state_dict_post_hook(forgive)
    partial = {"0.weight": lib.full((3, 2), 5.0)}
    result = model.load_state_dict(partial)  # strict, a bias missing, forgiven by the hook
    events.append(("forgiven", result.missing_keys, float(model[0].weight.sum())))
    return events


def test_load_state_dict_hooks_rename_keys_and_forgive_missing_ones_as_in_pytorch():
    assert load_scenario("chainrule") == load_scenario("torch")


def test_a_strict_load_whose_post_hooks_leave_missing_keys_puts_the_values_back():
    model = chainrule.nn.Linear(2, 3)
    before = model.weight._array.copy()
    model.register_load_state_dict_post_hook(lambda module, incompatible: None)
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "bias"'):
        model.load_state_dict({"weight": chainrule.full((3, 2), 7.0)})
    assert np.array_equal(model.weight._array, before)


def test_a_load_post_hook_must_return_none():
    model = chainrule.nn.Linear(2, 3)
    model.register_load_state_dict_post_hook(lambda module, incompatible: incompatible)
    with pytest.raises(AssertionError, match="not expected to return"):  # as PyTorch
        model.load_state_dict(model.state_dict())


@pytest.mark.parametrize("name", ["chainrule", "torch"])
def test_assign_makes_the_checkpoint_s_tensors_the_module_s(name):
    lib, _ = LIBRARIES[name]
    model = lib.nn.Linear(2, 3)
    model.bias.requires_grad_(False)
    state = {"weight": lib.ones(3, 2, dtype=lib.float64), "bias": lib.zeros(3, dtype=lib.float64)}
    model.load_state_dict(state, assign=True)
    assert model.weight.dtype == lib.float64 and model.weight.requires_grad and not model.bias.requires_grad
    assert isinstance(model.weight, lib.nn.Parameter)
    assert model.weight.data_ptr() == state["weight"].data_ptr() if name == "torch" else np.shares_memory(model.weight._array, state["weight"]._array)


def test_a_handle_removes_its_hook_and_flags_and_has_an_id():
    model = chainrule.nn.Linear(2, 2)
    first = model.register_forward_hook(lambda m, a, k, o: None, with_kwargs=True, always_call=True)
    second = model.register_forward_hook(lambda m, a, o: None)
    assert second.id > first.id and list(model._forward_hooks) == [first.id, second.id]
    first.remove()
    first.remove()  # twice: nothing happens
    assert list(model._forward_hooks) == [second.id] and not model._forward_hooks_with_kwargs and not model._forward_hooks_always_called


def legacy_layout_scenario(lib):
    """A module that renames the keys of an older layout in its own _load_from_state_dict."""

    class Renamed(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = lib.nn.Parameter(lib.ones(2))

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
            old = prefix + "gamma"
            if old in state_dict:
                state_dict[prefix + "scale"] = state_dict.pop(old)
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing, unexpected, errors)

    model = lib.nn.Sequential(Renamed())
    old_checkpoint = {"0.gamma": lib.full((2,), 3.0)}
    result = model.load_state_dict(old_checkpoint)
    return result.missing_keys, result.unexpected_keys, model[0].scale.tolist(), sorted(old_checkpoint)


def test_a_subclass_s_load_from_state_dict_adapts_an_older_layout_as_in_pytorch():
    assert legacy_layout_scenario(chainrule) == legacy_layout_scenario(torch)


def test_torch_utils_hooks_backward_hook_wraps_a_call_as_pytorchs():
    """Tools that reimplement a module's call wrap it with BackwardHook themselves."""
    seen = []
    for lib in (torch, chainrule):
        lib.manual_seed(0)
        layer = lib.nn.Linear(3, 2)
        log = []
        hook = lib.utils.hooks.BackwardHook(
            layer,
            [lambda module, grad_input, grad_output: log.append(("hook", [tuple(g.shape) for g in grad_input], [tuple(g.shape) for g in grad_output]))],
            [lambda module, grad_output: log.append(("pre", [tuple(g.shape) for g in grad_output]))],
        )
        x = lib.ones(4, 3, requires_grad=True)
        (wrapped,) = hook.setup_input_hook((x,))
        hook.setup_output_hook(layer(wrapped)).sum().backward()
        seen.append((log, x.grad.tolist()))
    assert seen[0][0] == seen[1][0]
    np.testing.assert_allclose(seen[1][1], seen[0][1], rtol=1e-6)
