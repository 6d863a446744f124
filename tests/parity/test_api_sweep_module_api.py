"""A sweep of the ``torch.nn.Module`` API itself (not the layers' math) against PyTorch (the oracle):
``state_dict`` / ``load_state_dict`` (key order, prefix, keep_vars, destination, the returned
NamedTuple, strict, assign, error types and messages, the load / save overrides and hooks), walking
the tree (``named_modules``, ``named_parameters``, ``children`` with shared submodules, ``apply``),
the dotted look-ups (``get_submodule`` ...), registration and its errors, ``__dir__``, reprs of
nested containers, ``train`` / ``requires_grad_`` / ``zero_grad``, dtype conversion, forward and
backward hooks, the containers' list and dict methods, and copy / pickle round trips.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, names,
orders, reprs or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are
differences found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import bundle, outcome, raises_as_torch


def plain(value):
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return str(value.dtype).split(".")[-1], tuple(value.shape), np.asarray(value.detach().numpy(), dtype=np.float64)
    if isinstance(value, (tuple, list)):
        return [plain(each) for each in value]
    if isinstance(value, dict):
        return {key: plain(each) for key, each in value.items()}
    return value


def assert_same(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (actual, expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and list(actual) == list(expected), (actual, expected)
        for key in expected:
            assert_same(actual[key], expected[key], rtol, atol)
    elif isinstance(expected, tuple):
        assert actual[:2] == expected[:2], (actual[:2], expected[:2])
        np.testing.assert_allclose(actual[2], expected[2], rtol=rtol, atol=atol)
    else:
        assert actual == expected


def same_in_both(run, rtol=1e-5, atol=1e-6):
    """``run(lib)`` gives the same value in both, or raises the same exception type in both."""
    torch.manual_seed(0)
    expected = outcome(lambda: plain(run(torch)))
    chainrule.manual_seed(0)
    actual = outcome(lambda: plain(run(chainrule)))
    assert actual[0] == expected[0], f"PyTorch: {expected!r}; chainrule: {actual!r}"
    if expected[0] == "raises":
        assert issubclass(actual[1], expected[1]), f"PyTorch raises {expected[1].__name__}; chainrule raises {actual[1].__name__}"
    else:
        assert_same(actual[1], expected[1], rtol, atol)


def neutral(text):
    """``text`` with each library's own module name (``torch.Size``, ``chainrule.float32``) made alike."""
    return text.replace("chainrule.", "torch.")


def error_message(run):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run()
    except Exception as error:  # noqa: BLE001
        return type(error), str(error)
    return None, None


# --- models built the same way with either library ---------------------------------------------


def net(lib):
    """A small model with a parameter, a persistent and a non-persistent buffer, and nesting."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)
            self.register_buffer("steps", lib.zeros(2))
            self.register_buffer("cache", lib.ones(1), persistent=False)

        def forward(self, x):
            return self.fc(x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(lib.ones(1))
            self.block = Block()
            self.head = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.BatchNorm1d(2))

        def forward(self, x):
            return self.head(self.block(x)) * self.scale

    return Net()


def shared(lib):
    """A model whose submodule ``a`` is also registered as ``b`` (tied layers)."""
    nn = lib.nn
    model = nn.Module()
    model.a = nn.Linear(2, 2)
    model.b = model.a
    model.c = nn.Sequential(model.a, nn.Tanh())
    return model


# --- state_dict ---------------------------------------------------------------------------------


def test_state_dict_keys_in_registration_order():
    same_in_both(lambda lib: list(net(lib).state_dict()))


def test_state_dict_of_shared_modules_lists_every_path():
    same_in_both(lambda lib: list(shared(lib).state_dict()))


@pytest.mark.parametrize("prefix", ["", "model.", "x"])
def test_state_dict_prefix(prefix):
    same_in_both(lambda lib: list(net(lib).state_dict(prefix=prefix)))


def test_state_dict_metadata_versions():
    same_in_both(lambda lib: {key: dict(value) for key, value in net(lib).state_dict()._metadata.items()})


@pytest.mark.parametrize("keep_vars", [False, True])
def test_state_dict_keep_vars(keep_vars):
    def run(lib):
        state = net(lib).state_dict(keep_vars=keep_vars)
        return [(key, type(value).__name__, value.requires_grad) for key, value in state.items()]

    same_in_both(run)


def test_state_dict_into_a_destination():
    def run(lib):
        destination = OrderedDict(first=1)
        result = net(lib).block.state_dict(destination=destination, prefix="b.")
        return result is destination, list(destination), type(result).__name__

    same_in_both(run)


def test_state_dict_positional_arguments_warn_future_warning():
    for lib in (torch, chainrule):
        with pytest.warns(FutureWarning):
            state = lib.nn.Linear(2, 2).state_dict(None, "p.")
        assert list(state) == ["p.weight", "p.bias"]


def test_state_dict_values_share_memory_and_are_detached():
    def run(lib):
        model = lib.nn.Linear(2, 2)
        state = model.state_dict()
        with lib.no_grad():
            state["weight"].fill_(7.0)
        return model.weight.sum().item(), state["weight"].requires_grad, state["weight"].is_leaf

    same_in_both(run)


# --- load_state_dict ----------------------------------------------------------------------------


def test_load_state_dict_returns_incompatible_keys():
    def run(lib):
        result = net(lib).load_state_dict(net(lib).state_dict())
        return type(result).__name__, result._fields, repr(result), str(result), list(result)

    same_in_both(run)


def test_load_state_dict_non_strict_reports_missing_and_unexpected():
    def run(lib):
        state = net(lib).state_dict()
        del state["head.0.bias"], state["scale"]
        state["extra.weight"] = lib.zeros(1)
        state["block.more"] = lib.zeros(1)
        result = net(lib).load_state_dict(state, strict=False)
        return result.missing_keys, result.unexpected_keys, repr(result)

    same_in_both(run)


def test_load_state_dict_strict_error_message_lists_the_keys():
    def messages(lib):
        state = lib.nn.Linear(2, 2).state_dict()
        state["junk"] = lib.zeros(1)
        del state["bias"]
        return error_message(lambda: lib.nn.Linear(2, 2).load_state_dict(state))

    (ours_type, ours), (theirs_type, theirs) = messages(chainrule), messages(torch)
    assert ours_type is theirs_type is RuntimeError
    assert theirs.startswith("Error(s) in loading state_dict for Linear:")
    for fragment in ('Missing key(s) in state_dict: "bias".', 'Unexpected key(s) in state_dict: "junk".'):
        assert fragment in theirs and fragment in ours


def test_load_state_dict_shape_mismatch_raises_even_when_not_strict():
    for strict in (True, False):
        raises_as_torch(lambda lib: lib.nn.Linear(3, 2).load_state_dict(lib.nn.Linear(2, 2).state_dict(), strict=strict))


def test_load_state_dict_shape_mismatch_message():
    def message(lib):
        return error_message(lambda: lib.nn.Linear(3, 2).load_state_dict(lib.nn.Linear(2, 2).state_dict()))[1]

    theirs, ours = message(torch), neutral(message(chainrule))
    expected = "size mismatch for weight: copying a param with shape torch.Size([2, 2]) from checkpoint, the shape in current model is torch.Size([2, 3])."
    assert expected in theirs
    assert expected in ours


def test_load_state_dict_of_a_non_mapping_raises_type_error():
    raises_as_torch(lambda lib: lib.nn.Linear(2, 2).load_state_dict([("weight", lib.zeros(2, 2))]))


def test_load_state_dict_converts_dtype_and_keeps_the_parameter():
    def run(lib):
        model = lib.nn.Linear(2, 2)
        weight = model.weight
        state = {"weight": lib.ones(2, 2, dtype=lib.float64), "bias": lib.zeros(2, dtype=lib.float64)}
        model.load_state_dict(state)
        return model.weight is weight, model.weight.dtype == lib.float32, model.weight.requires_grad, model.weight.sum().item()

    same_in_both(run)


def test_load_state_dict_assign_takes_the_checkpoint_tensors():
    def run(lib):
        model = lib.nn.Linear(2, 2)
        state = {"weight": lib.ones(2, 2, dtype=lib.float64), "bias": lib.zeros(2, dtype=lib.float64)}
        model.load_state_dict(state, assign=True)
        return (type(model.weight).__name__, str(model.weight.dtype).split(".")[-1], model.weight.requires_grad,
                model.weight.data_ptr() == state["weight"].data_ptr())

    same_in_both(run)


def test_load_state_dict_into_a_shared_module():
    def run(lib):
        model = shared(lib)
        state = {key: lib.full_like(value, 2.0) for key, value in model.state_dict().items()}
        return list(model.load_state_dict(state, strict=False)), model.a.weight.sum().item()

    same_in_both(run)


def test_load_state_dict_post_hook_sees_and_clears_the_keys():
    def run(lib):
        seen = []
        model = lib.nn.Linear(2, 2)

        def hook(module, incompatible):
            seen.append((type(module).__name__, list(incompatible.missing_keys), list(incompatible.unexpected_keys)))
            incompatible.missing_keys.clear()
            incompatible.unexpected_keys.clear()

        model.register_load_state_dict_post_hook(hook)
        result = model.load_state_dict({"weight": lib.zeros(2, 2), "junk": lib.zeros(1)})
        return seen, list(result)

    same_in_both(run)


def test_state_dict_pre_hook_runs_with_prefix_and_keep_vars():
    def run(lib):
        calls = []
        model = lib.nn.Sequential(lib.nn.Linear(2, 2))
        model[0].register_state_dict_pre_hook(lambda module, prefix, keep_vars: calls.append((type(module).__name__, prefix, keep_vars)))
        model.state_dict(prefix="m.", keep_vars=True)
        return calls

    same_in_both(run)


def test_overridden_save_and_load_from_state_dict():
    def build(lib):
        class Renamed(lib.nn.Linear):
            def _save_to_state_dict(self, destination, prefix, keep_vars):
                super()._save_to_state_dict(destination, prefix, keep_vars)
                destination[prefix + "w"] = destination.pop(prefix + "weight")

            def _load_from_state_dict(self, state_dict, prefix, *args):
                if prefix + "w" in state_dict:
                    state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")
                super()._load_from_state_dict(state_dict, prefix, *args)

        return lib.nn.Sequential(Renamed(2, 2))

    def run(lib):
        state = build(lib).state_dict()
        state = {key: lib.full_like(value, 3.0) for key, value in state.items()}
        model = build(lib)
        result = model.load_state_dict(state)
        return list(state), list(result), model[0].weight.sum().item()

    same_in_both(run)


def test_extra_state_round_trip():
    def build(lib):
        class Stateful(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.count = 0
                self.w = lib.nn.Parameter(lib.zeros(1))

            def get_extra_state(self):
                return {"count": self.count}

            def set_extra_state(self, state):
                self.count = state["count"]

        return Stateful()

    def run(lib):
        model = build(lib)
        model.count = 5
        state = model.state_dict()
        other = build(lib)
        other.load_state_dict(state)
        return list(state), other.count

    same_in_both(run)


# --- walking the tree ---------------------------------------------------------------------------


@pytest.mark.parametrize("remove_duplicate", [True, False])
@pytest.mark.parametrize("prefix", ["", "root"])
def test_named_modules(remove_duplicate, prefix):
    same_in_both(lambda lib: [(name, type(module).__name__) for name, module in shared(lib).named_modules(prefix=prefix, remove_duplicate=remove_duplicate)])


@pytest.mark.parametrize("recurse", [True, False])
@pytest.mark.parametrize("remove_duplicate", [True, False])
def test_named_parameters(recurse, remove_duplicate):
    def run(lib):
        model = shared(lib)
        model.own = lib.nn.Parameter(lib.zeros(1))
        return [name for name, _ in model.named_parameters(prefix="p", recurse=recurse, remove_duplicate=remove_duplicate)]

    same_in_both(run)


def test_named_buffers_and_buffers():
    same_in_both(lambda lib: ([name for name, _ in net(lib).named_buffers()], len(list(net(lib).buffers(recurse=False)))))


def test_children_and_modules_with_shared_submodules():
    def run(lib):
        model = shared(lib)
        return ([name for name, _ in model.named_children()], [type(m).__name__ for m in model.children()],
                [type(m).__name__ for m in model.modules()])

    same_in_both(run)


def test_none_submodules_and_parameters_are_skipped():
    def run(lib):
        model = lib.nn.Module()
        model.register_module("gone", None)
        model.register_parameter("p", None)
        model.register_buffer("b", None)
        model.fc = lib.nn.Linear(1, 1, bias=False)
        return ([n for n, _ in model.named_modules()], [n for n, _ in model.named_parameters()], list(model.state_dict()),
                [n for n, _ in model.named_children()], model.p, model.gone, repr(model))

    same_in_both(run)


def test_apply_visits_children_first_and_returns_self():
    def run(lib):
        order = []
        model = net(lib)
        result = model.apply(lambda module: order.append(type(module).__name__))
        return order, result is model

    same_in_both(run)


# --- dotted look-ups ----------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["", "block", "block.fc", "head.2"])
def test_get_submodule(target):
    same_in_both(lambda lib: type(net(lib).get_submodule(target)).__name__)


@pytest.mark.parametrize("call", [
    lambda model: model.get_submodule("missing"),
    lambda model: model.get_submodule("block.fc.weight"),
    lambda model: model.get_submodule("head.7"),
    lambda model: model.get_parameter("block.steps"),
    lambda model: model.get_parameter("block.nothing"),
    lambda model: model.get_parameter("nope.weight"),
    lambda model: model.get_buffer("block.fc.weight"),
    lambda model: model.get_buffer("block.missing"),
    lambda model: model.get_buffer("block.forward"),
], ids=["missing", "param_as_module", "index_out", "buffer_as_param", "param_missing", "path_missing",
        "param_as_buffer", "buffer_missing", "method_as_buffer"])
def test_dotted_lookup_errors(call):
    raises_as_torch(lambda lib: call(net(lib)))


def test_get_parameter_and_buffer():
    same_in_both(lambda lib: [net(lib).get_parameter("block.fc.bias").shape == (2,), net(lib).get_buffer("block.cache").tolist(),
                              net(lib).get_parameter("scale").tolist()])


def test_set_submodule():
    def run(lib):
        model = net(lib)
        model.set_submodule("head.1", lib.nn.Tanh())
        return [type(m).__name__ for m in model.head]

    same_in_both(run)


@pytest.mark.parametrize("call", [
    lambda lib, model: model.set_submodule("", lib.nn.Tanh()),
    lambda lib, model: model.set_submodule("nowhere.x", lib.nn.Tanh()),
    lambda lib, model: model.set_submodule("head.1", "not a module"),
], ids=["empty", "missing_parent", "not_module"])
def test_set_submodule_errors(call):
    raises_as_torch(lambda lib: call(lib, net(lib)))


# --- registration -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["buffer", "parameter", "module"])
@pytest.mark.parametrize("name", ["a.b", "", 3, "training", "forward"])
def test_register_bad_names(kind, name):
    def run(lib):
        model = lib.nn.Module()
        value = {"buffer": lib.zeros(1), "parameter": lib.nn.Parameter(lib.zeros(1)), "module": lib.nn.ReLU()}[kind]
        getattr(model, {"module": "add_module"}.get(kind, "register_" + kind))(name, value)
        return sorted(model._parameters) + sorted(model._buffers) + sorted(model._modules)

    same_in_both(run)


@pytest.mark.parametrize("kind, value", [("buffer", [1.0]), ("parameter", "tensor"), ("module", 3)])
def test_register_wrong_value_type(kind, value):
    def run(lib):
        model = lib.nn.Module()
        item = lib.zeros(1) if value == "tensor" else value
        getattr(model, {"module": "add_module"}.get(kind, "register_" + kind))("x", item)

    raises_as_torch(run)


def test_register_over_an_other_kind():
    def run(lib):
        results = []
        for first, second in [("buffer", "parameter"), ("parameter", "buffer"), ("module", "buffer"), ("attr", "buffer")]:
            model = lib.nn.Module()
            if first == "buffer":
                model.register_buffer("x", lib.zeros(1))
            elif first == "parameter":
                model.register_parameter("x", lib.nn.Parameter(lib.zeros(1)))
            elif first == "module":
                model.x = lib.nn.ReLU()
            else:
                model.x = 3
            kind, value = outcome(lambda: model.register_buffer("x", lib.ones(1)) if second == "buffer"
                                  else model.register_parameter("x", lib.nn.Parameter(lib.ones(1))))
            results.append(kind if kind == "ok" else value.__name__)
        return results

    same_in_both(run)


def test_register_parameter_non_leaf_raises():
    def run(lib):
        p = lib.nn.Parameter(lib.ones(1))
        lib.nn.Module().register_parameter("x", p * 2)

    raises_as_torch(run)


def test_register_before_init_raises_attribute_error():
    def run(lib):
        class Broken(lib.nn.Module):
            def __init__(self):
                self.fc = lib.nn.Linear(1, 1)

        Broken()

    raises_as_torch(run)


def test_setattr_moves_names_between_registries():
    def run(lib):
        model = lib.nn.Module()
        model.register_buffer("x", lib.zeros(1))
        model.x = lib.nn.Parameter(lib.ones(1))
        after_param = (sorted(model._parameters), sorted(model._buffers))
        model.y = lib.nn.ReLU()
        model.y = lib.nn.Parameter(lib.ones(1))
        model.z = 3
        model.z = lib.nn.Tanh()
        return after_param, sorted(model._parameters), sorted(model._modules), "z" in model.__dict__

    same_in_both(run)


@pytest.mark.parametrize("registered, value", [
    ("parameter", "tensor"), ("parameter", "none"), ("module", "int"), ("module", "none"), ("buffer", "int"), ("buffer", "none"),
    ("buffer", "tensor"),
])
def test_setattr_over_registered_names(registered, value):
    def run(lib):
        model = lib.nn.Linear(1, 1)
        model.register_buffer("buf", lib.zeros(1))
        model.sub = lib.nn.ReLU()
        name = {"parameter": "weight", "module": "sub", "buffer": "buf"}[registered]
        setattr(model, name, {"tensor": lib.ones(1), "none": None, "int": 3}[value])
        got = getattr(model, name)
        return type(got).__name__, list(model.state_dict()), sorted(model._parameters), sorted(model._buffers)

    same_in_both(run)


def test_delattr_of_each_kind():
    def run(lib):
        model = net(lib)
        del model.scale
        del model.head
        del model.block.steps
        del model.block.cache
        return list(model.state_dict()), outcome(lambda: model.scale)[0], sorted(model.block._non_persistent_buffers_set)

    same_in_both(run)


def test_delattr_missing_raises_attribute_error():
    raises_as_torch(lambda lib: delattr(lib.nn.Linear(1, 1), "nothing"))


def test_getattr_missing_message():
    def message(lib):
        return error_message(lambda: lib.nn.Linear(1, 1).nothing)

    assert message(chainrule) == message(torch)


def test_dir_lists_registered_names():
    def run(lib):
        names = set(dir(net(lib)))
        return sorted(name for name in ["scale", "block", "head", "training", "forward", "state_dict", "_parameters"] if name in names)

    same_in_both(run)


def test_register_module_and_add_module():
    def run(lib):
        model = lib.nn.Module()
        model.register_module("a", lib.nn.ReLU())
        model.add_module("b", lib.nn.Tanh())
        return list(model._modules), repr(model)

    same_in_both(run)


# --- repr ---------------------------------------------------------------------------------------


_REPRS = {
    "nested_sequential": lambda nn: nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.ReLU()), nn.Linear(3, 1)),
    "modulelist_repeats": lambda nn: nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU(), nn.ReLU(), nn.Linear(2, 2)]),
    "sequential_repeats": lambda nn: nn.Sequential(*[nn.Linear(2, 2) for _ in range(3)]),
    "empty_sequential": lambda nn: nn.Sequential(),
    "empty_modulelist": lambda nn: nn.ModuleList(),
    "moduledict": lambda nn: nn.ModuleDict({"b": nn.ReLU(), "a": nn.Linear(1, 1)}),
    "named_sequential": lambda nn: nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 2, 3)), ("act", nn.ReLU())])),
    "identity": lambda nn: nn.Identity(3, unused="x"),
    "modulelist_of_lists": lambda nn: nn.ModuleList([nn.ModuleList([nn.Linear(1, 1)]) for _ in range(2)]),
    "module": lambda nn: nn.Module(),
}


@pytest.mark.parametrize("name", list(_REPRS))
def test_container_reprs(name):
    assert repr(_REPRS[name](chainrule.nn)) == repr(_REPRS[name](torch.nn))


def test_repr_with_multiline_extra_repr_and_children():
    def run(lib):
        class Custom(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = lib.nn.Linear(1, 1)

            def extra_repr(self):
                return "first=1,\nsecond=2"

        class Single(lib.nn.Module):
            def extra_repr(self):
                return "only=1"

        outer = lib.nn.Sequential(Custom(), Single())
        return repr(outer)

    same_in_both(run)


def test_parameter_containers_repr():
    def run(lib):
        plist = lib.nn.ParameterList([lib.nn.Parameter(lib.zeros(2, 3)), lib.zeros(1), "text"])
        pdict = lib.nn.ParameterDict({"b": lib.nn.Parameter(lib.zeros(2)), "a": lib.ones(1, dtype=lib.float64)})
        return neutral(repr(plist)), neutral(repr(pdict))

    same_in_both(run)


# --- modes, gradients, dtypes -------------------------------------------------------------------


@pytest.mark.parametrize("mode", [1, None, "yes", 0.0])
def test_train_with_a_non_bool_raises_value_error(mode):
    raises_as_torch(lambda lib: net(lib).train(mode))


def test_train_eval_propagate_and_return_self():
    def run(lib):
        model = net(lib)
        result = model.eval()
        modes = [m.training for m in model.modules()]
        model.block.train()
        return result is model, modes, [m.training for m in model.modules()], model.train(False) is model

    same_in_both(run)


def test_requires_grad_and_zero_grad():
    def run(lib):
        model = net(lib)
        model(lib.ones(4, 3)).sum().backward()
        model.zero_grad(set_to_none=False)
        zeros = [p.grad is not None and float(p.grad.abs().sum()) == 0.0 for p in model.parameters()]
        model.zero_grad()
        nones = [p.grad is None for p in model.parameters()]
        result = model.block.requires_grad_(False)
        return zeros, nones, result is model.block, [p.requires_grad for p in model.parameters()]

    same_in_both(run)


@pytest.mark.parametrize("method", ["half", "double", "float", "bfloat16_skip", "to_float64", "to_kw_float16", "type_float64"])
def test_dtype_conversion_of_parameters_and_buffers(method):
    if method == "bfloat16_skip":
        pytest.skip("chainrule documents bfloat16 as unavailable (NumPy has none)")

    def run(lib):
        model = net(lib)
        model.block.register_buffer("count", lib.tensor(3))
        weight = model.block.fc.weight
        if method == "to_float64":
            result = model.to(lib.float64)
        elif method == "to_kw_float16":
            result = model.to(dtype=lib.float16)
        elif method == "type_float64":
            result = model.type(lib.float64)
        else:
            result = getattr(model, method)()
        return (result is model, model.block.fc.weight is weight,
                {name: str(value.dtype) for name, value in model.state_dict().items()}, str(model.block.cache.dtype))

    torch_result = run(torch)
    ours = run(chainrule)
    assert ours[:2] == torch_result[:2]
    assert {k: v.split(".")[-1] for k, v in ours[2].items()} == {k: v.split(".")[-1] for k, v in torch_result[2].items()}
    assert ours[3].split(".")[-1] == torch_result[3].split(".")[-1]


def test_to_with_a_tensor_and_device():
    def run(lib):
        model = lib.nn.Linear(1, 1)
        model.to(lib.zeros(1, dtype=lib.float64))
        first = str(model.weight.dtype).split(".")[-1]
        model.to("cpu", lib.float32)
        return first, str(model.weight.dtype).split(".")[-1], model.to("cpu") is model

    same_in_both(run)


# --- hooks --------------------------------------------------------------------------------------


def test_forward_pre_hook_replaces_the_arguments():
    def run(lib):
        model = lib.nn.Identity()
        model.register_forward_pre_hook(lambda module, args: (args[0] * 2,))
        model.register_forward_pre_hook(lambda module, args: args[0] + 1)  # a non-tuple is wrapped
        return model(lib.ones(2))

    same_in_both(run)


def test_forward_hooks_with_kwargs_and_prepend_order():
    def run(lib):
        calls = []

        class Scale(lib.nn.Module):
            def forward(self, x, factor=1.0):
                return x * factor

        model = Scale()

        def pre(module, args, kwargs):
            calls.append(("pre", sorted(kwargs)))
            return args, {**kwargs, "factor": 3.0}

        def post(module, args, kwargs, output):
            calls.append(("post", kwargs["factor"]))
            return output + 1

        model.register_forward_pre_hook(pre, with_kwargs=True)
        model.register_forward_hook(post, with_kwargs=True)
        model.register_forward_hook(lambda m, a, o: calls.append("first"), prepend=True)
        out = model(lib.ones(1), factor=2.0)
        return out, calls

    same_in_both(run)


def test_forward_pre_hook_with_kwargs_bad_return_raises():
    def run(lib):
        model = lib.nn.Identity()
        model.register_forward_pre_hook(lambda m, a, k: a, with_kwargs=True)
        model(lib.ones(1))

    raises_as_torch(run)


def test_forward_hook_always_call_runs_when_forward_raises():
    def run(lib):
        calls = []

        class Failing(lib.nn.Module):
            def forward(self, x):
                raise ValueError("boom")

        model = Failing()
        model.register_forward_hook(lambda m, a, o: calls.append(("always", o)), always_call=True)
        model.register_forward_hook(lambda m, a, o: calls.append("normal"))
        kind, error = outcome(lambda: model(1))
        return kind, error.__name__, calls

    same_in_both(run)


def test_hook_handle_remove_and_context_manager():
    def run(lib):
        calls = []
        model = lib.nn.Identity()
        handle = model.register_forward_hook(lambda m, a, o: calls.append(1))
        with model.register_forward_hook(lambda m, a, o: calls.append(2)):
            model(lib.ones(1))
        model(lib.ones(1))
        handle.remove()
        handle.remove()
        model(lib.ones(1))
        return calls

    same_in_both(run)


def test_full_backward_hook_gets_grads_and_may_replace_grad_input():
    def run(lib):
        seen = []
        model = lib.nn.Linear(2, 1)
        with lib.no_grad():
            model.weight.fill_(2.0)

        def hook(module, grad_input, grad_output):
            seen.append((len(grad_input), len(grad_output), grad_output[0].tolist()))
            return (grad_input[0] * 10,)

        model.register_full_backward_hook(hook)
        x = lib.ones(1, 2, requires_grad=True)
        model(x).sum().backward()
        return seen, x.grad

    same_in_both(run)


def test_full_backward_pre_hook_replaces_grad_output():
    def run(lib):
        model = lib.nn.Linear(2, 1)
        with lib.no_grad():
            model.weight.fill_(1.0)
        model.register_full_backward_pre_hook(lambda module, grad_output: (grad_output[0] * 3,))
        x = lib.ones(1, 2, requires_grad=True)
        model(x).sum().backward()
        return x.grad, model.weight.grad

    same_in_both(run)


def test_calling_a_module_without_forward():
    def message(lib):
        class NoForward(lib.nn.Module):
            pass

        return error_message(lambda: NoForward()(1))

    (ours_type, ours), (theirs_type, theirs) = message(chainrule), message(torch)
    assert ours_type is theirs_type is NotImplementedError
    assert theirs == 'Module [NoForward] is missing the required "forward" function'
    assert ours.startswith(theirs)


# --- containers ---------------------------------------------------------------------------------


def test_identity_ignores_constructor_arguments():
    same_in_both(lambda lib: lib.nn.Identity(54, unused_argument1=0.1)(lib.arange(3.0)))


def test_sequential_list_methods():
    def run(lib):
        nn = lib.nn
        seq = nn.Sequential(nn.Linear(1, 1), nn.ReLU())
        results = [seq.append(nn.Tanh()) is seq, seq.insert(1, nn.Sigmoid()) is seq, seq.extend([nn.ELU()]) is seq]
        popped = seq.pop(0)
        del seq[1]
        sliced = seq[1:]
        results += [type(popped).__name__, list(seq._modules), [type(m).__name__ for m in seq], type(sliced).__name__,
                    list(sliced._modules), len(seq), type(seq[-1]).__name__]
        return results

    same_in_both(run)


def test_sequential_named_slicing_keeps_names():
    def run(lib):
        nn = lib.nn
        seq = nn.Sequential(OrderedDict([("a", nn.ReLU()), ("b", nn.Tanh()), ("c", nn.ELU())]))
        return list(seq[1:]._modules), list(seq[::2]._modules), type(seq.b).__name__

    same_in_both(run)


def test_sequential_delete_renumbers_named_keys():
    def run(lib):
        nn = lib.nn
        seq = nn.Sequential(OrderedDict([("a", nn.ReLU()), ("b", nn.Tanh()), ("c", nn.ELU())]))
        del seq[0]
        return list(seq._modules)

    same_in_both(run)


@pytest.mark.parametrize("operation", [
    lambda nn, seq: list((seq + nn.Sequential(nn.ELU()))._modules),
    lambda nn, seq: len(seq * 2),
    lambda nn, seq: len(2 * seq),
    lambda nn, seq: seq + nn.ModuleList([nn.ELU()]),
    lambda nn, seq: seq * 0,
    lambda nn, seq: seq * 1.5,
    lambda nn, seq: seq[5],
    lambda nn, seq: seq["0"],
    lambda nn, seq: seq.pop(9),
    lambda nn, seq: list(seq.__iadd__(nn.Sequential(nn.ELU()))._modules),
], ids=["add", "mul", "rmul", "add_modulelist", "mul_zero", "mul_float", "index_out", "index_str", "pop_out", "iadd"])
def test_sequential_operators(operation):
    same_in_both(lambda lib: operation(lib.nn, lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Tanh())))


def test_modulelist_methods():
    def run(lib):
        nn = lib.nn
        ml = nn.ModuleList([nn.ReLU(), nn.Tanh()])
        results = [ml.append(nn.ELU()) is ml, ml.extend([nn.GELU()]) is ml]
        ml.insert(1, nn.Sigmoid())
        ml.insert(0, nn.SiLU())
        popped = ml.pop(2)
        sliced = ml[1:3]
        joined = ml + nn.ModuleList([nn.Identity()])
        ml += [nn.Softplus()]
        ml[0] = nn.Mish()
        results += [type(popped).__name__, [type(m).__name__ for m in ml], list(ml._modules), type(sliced).__name__,
                    [type(m).__name__ for m in sliced], type(joined).__name__, len(joined), type(ml[-2]).__name__]
        return results

    same_in_both(run)


@pytest.mark.parametrize("operation", [
    lambda nn, ml: ml[2],
    lambda nn, ml: ml[-3],
    lambda nn, ml: ml["0"],
    lambda nn, ml: ml.extend(nn.ReLU()),
    lambda nn, ml: nn.ModuleList(nn.ReLU()),
    lambda nn, ml: ml.append(3),
    lambda nn, ml: ml(1),
], ids=["index_out", "negative_out", "index_str", "extend_module", "construct_module", "append_int", "call"])
def test_modulelist_errors(operation):
    raises_as_torch(lambda lib: operation(lib.nn, lib.nn.ModuleList([lib.nn.ReLU(), lib.nn.Tanh()])))


def test_moduledict_methods():
    def run(lib):
        nn = lib.nn
        md = nn.ModuleDict({"z": nn.ReLU(), "a": nn.Tanh()})
        md.update([("m", nn.ELU()), ("b", nn.GELU())])
        md.update(OrderedDict(c=nn.Identity()))
        md["a"] = nn.Sigmoid()
        popped = md.pop("z")
        return (list(md.keys()), [type(m).__name__ for m in md.values()], [k for k, _ in md.items()], list(md), type(popped).__name__,
                "m" in md, len(md))

    same_in_both(run)


@pytest.mark.parametrize("operation", [
    lambda nn, md: md["missing"],
    lambda nn, md: md.pop("missing"),
    lambda nn, md: md.update([("a", nn.ReLU(), 1)]),
    lambda nn, md: md.update([nn.ReLU()]),
    lambda nn, md: md.update(3),
    lambda nn, md: md.__setitem__("a.b", nn.ReLU()),
    lambda nn, md: md.__setitem__("x", 3),
    lambda nn, md: md(1),
], ids=["getitem", "pop", "update_triple", "update_module", "update_int", "dotted_key", "non_module", "call"])
def test_moduledict_errors(operation):
    raises_as_torch(lambda lib: operation(lib.nn, lib.nn.ModuleDict({"a": lib.nn.ReLU()})))


def test_parameterlist_methods():
    def run(lib):
        nn = lib.nn
        plist = nn.ParameterList([lib.zeros(1), nn.Parameter(lib.ones(2))])
        plist.append(lib.full((3,), 2.0))
        plist.extend([lib.zeros(4)])
        plist[0] = lib.ones(1)
        sliced = plist[1:3]
        return ([type(p).__name__ for p in plist], [n for n, _ in plist.named_parameters()], len(plist), type(sliced).__name__,
                [tuple(p.shape) for p in sliced], plist[-1].shape == (4,), plist[0].requires_grad)

    same_in_both(run)


@pytest.mark.parametrize("operation", [
    lambda lib, plist: plist[5],
    lambda lib, plist: plist.extend(lib.zeros(2)),
    lambda lib, plist: plist(1),
    lambda lib, plist: plist["0"],
], ids=["index_out", "extend_tensor", "call", "index_str"])
def test_parameterlist_errors(operation):
    raises_as_torch(lambda lib: operation(lib, lib.nn.ParameterList([lib.zeros(1)])))


def test_parameterdict_methods():
    def run(lib):
        nn = lib.nn
        pdict = nn.ParameterDict({"z": lib.zeros(1), "a": lib.ones(1)})
        pdict.update([("m", lib.zeros(2)), ("b", lib.zeros(3))])
        pdict.setdefault("n", lib.zeros(5))
        popped = pdict.pop("z")
        last = pdict.popitem()
        merged = pdict | {"y": lib.zeros(1)}
        return (list(pdict.keys()), [type(v).__name__ for v in pdict.values()], [n for n, _ in pdict.named_parameters()],
                type(popped).__name__, last[0], list(merged), pdict.get("nope", 7), "a" in pdict, list(reversed(pdict)),
                list(pdict.fromkeys(["q", "r"]).keys()), type(pdict.copy()).__name__)

    same_in_both(run)


@pytest.mark.parametrize("operation", [
    lambda lib, pdict: pdict["missing"],
    lambda lib, pdict: pdict[0],
    lambda lib, pdict: pdict.update(3),
    lambda lib, pdict: pdict.update([("a", lib.zeros(1), 1)]),
    lambda lib, pdict: pdict(1),
    lambda lib, pdict: pdict.pop("missing"),
], ids=["getitem", "int_key", "update_int", "update_triple", "call", "pop"])
def test_parameterdict_errors(operation):
    raises_as_torch(lambda lib: operation(lib, lib.nn.ParameterDict({"a": lib.zeros(1)})))


# --- copies -------------------------------------------------------------------------------------


def test_deepcopy_keeps_hooks_and_separates_parameters():
    def run(lib):
        model = lib.nn.Linear(1, 1)
        with lib.no_grad():
            model.weight.fill_(1.0)
            model.bias.fill_(0.0)
        model.register_forward_hook(lambda m, a, o: o * 10)
        clone = copy.deepcopy(model)
        with lib.no_grad():
            clone.weight.fill_(2.0)
        return model(lib.ones(1)), clone(lib.ones(1)), type(clone.weight).__name__, clone.weight.requires_grad

    same_in_both(run)


def _scale_hook(module, args, output):
    return output * 10


def test_pickle_round_trip_keeps_state_and_hooks():
    def run(lib):
        model = lib.nn.Sequential(lib.nn.Linear(1, 1))
        with lib.no_grad():
            model[0].weight.fill_(1.0)
            model[0].bias.fill_(0.5)
        model.register_forward_hook(_scale_hook)
        model.eval()
        clone = pickle.loads(pickle.dumps(model))
        return clone(lib.ones(1)), clone.training, list(clone.state_dict()), repr(clone)

    same_in_both(run)


# --- further differences ------------------------------------------------------------------------


def test_load_from_state_dict_override_loading_by_itself():
    def run(lib):
        class Transposed(lib.nn.Linear):
            def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
                with lib.no_grad():
                    self.weight.copy_(state_dict[prefix + "weight"].t())
                    self.bias.copy_(state_dict[prefix + "bias"])

        model = Transposed(2, 3)
        result = model.load_state_dict({"weight": lib.arange(6.0).reshape(2, 3), "bias": lib.zeros(3)})
        return list(result), model.weight

    same_in_both(run)


def test_load_from_state_dict_override_error_msgs_and_missing_keys():
    def run(lib):
        class Complaining(lib.nn.Linear):
            def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
                errors.append("custom problem")
                super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing, unexpected, errors)

        class Reporting(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = lib.nn.Linear(1, 1)

            def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
                missing.append("fake")

        first = error_message(lambda: Complaining(1, 1).load_state_dict(Complaining(1, 1).state_dict(), strict=False))
        second = Reporting().load_state_dict({"a.weight": lib.zeros(1, 1), "a.bias": lib.zeros(1)}, strict=False)
        return first[0].__name__, first[1].splitlines()[-1].strip(), list(second)

    same_in_both(run)


_MORE = {
    "load_non_tensor_value": lambda lib: lib.nn.Linear(1, 1).load_state_dict({"weight": 3, "bias": lib.zeros(1)}),
    "load_missing_only": lambda lib: lib.nn.Linear(1, 1).load_state_dict({"weight": lib.zeros(1, 1)}),
    "load_into_absent_bias": lambda lib: list(lib.nn.Linear(1, 1, bias=False).load_state_dict(
        {"weight": lib.zeros(1, 1), "bias": lib.zeros(1)}, strict=False)),
    "load_0d_into_1d": lambda lib: lib.nn.Linear(1, 1).load_state_dict({"weight": lib.zeros(1, 1), "bias": lib.tensor(1.0)}),
    "load_int_and_bool": lambda lib: lib.nn.Linear(1, 1).load_state_dict(
        {"weight": lib.ones(1, 1, dtype=lib.int64), "bias": lib.zeros(1, dtype=lib.bool)}) and None,
    "batchnorm_without_num_batches_tracked": lambda lib: list(lib.nn.BatchNorm1d(1).load_state_dict(
        {"running_mean": lib.zeros(1), "running_var": lib.ones(1), "weight": lib.ones(1), "bias": lib.zeros(1)})),
    "state_dict_post_hook_adds": lambda lib: (lambda m: (m.register_state_dict_post_hook(
        lambda mod, sd, prefix, meta: sd.__setitem__(prefix + "x", 1)), list(m.state_dict()))[1])(lib.nn.Linear(1, 1)),
    "legacy_state_dict_hook_replaces": lambda lib: (lambda m: (m._register_state_dict_hook(
        lambda mod, sd, prefix, meta: {"z": 1}), list(m.state_dict()))[1])(lib.nn.Linear(1, 1)),
    "load_pre_hook_renames": lambda lib: (lambda m: (m.register_load_state_dict_pre_hook(
        lambda mod, sd, prefix, *rest: sd.__setitem__(prefix + "weight", sd.pop(prefix + "w"))),
        m.load_state_dict({"w": lib.ones(1, 1), "bias": lib.zeros(1)}), m.weight.item())[2])(lib.nn.Linear(1, 1)),
    "tied_weights": lambda lib: (lambda s: (setattr(s[1], "weight", s[0].weight), [n for n, _ in s.named_parameters()],
                                            list(s.state_dict()))[1:])(lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Linear(2, 2))),
    "shared_buffer_dedup": lambda lib: (lambda t, m: (m.register_buffer("a", t), m.register_buffer("b", t),
                                                      [n for n, _ in m.named_buffers()],
                                                      [n for n, _ in m.named_buffers(remove_duplicate=False)])[2:])(lib.ones(1), lib.nn.Module()),
    "parameter_as_buffer": lambda lib: (lambda m: (m.register_buffer("a", lib.nn.Parameter(lib.ones(1))), type(m.a).__name__,
                                                   [n for n, _ in m.named_parameters()], list(m.state_dict()))[1:])(lib.nn.Module()),
    "frozen_zero_grad": lambda lib: (lambda m: (m.weight.requires_grad_(False), m.zero_grad(), m.weight.grad))(lib.nn.Linear(1, 1))[2],
    "type_legacy_tensor_type": lambda lib: str(lib.nn.Linear(1, 1).type(lib.DoubleTensor).weight.dtype).split(".")[-1],
    "to_bad_device": lambda lib: lib.nn.Linear(1, 1).to("nothing"),
    "half_converts_grads": lambda lib: (lambda m: (m(lib.ones(1)).sum().backward(), m.half(), str(m.weight.grad.dtype).split(".")[-1]))(
        lib.nn.Linear(1, 1))[2],
    "requires_grad_non_bool": lambda lib: lib.nn.Linear(1, 1).requires_grad_("x"),
    "parameterdict_none_value": lambda lib: (lambda p: (p.__setitem__("a", None), list(p.keys()), p["a"],
                                                        [n for n, _ in p.named_parameters()])[1:])(lib.nn.ParameterDict()),
    "parameterlist_non_tensor": lambda lib: (lambda p: (p.append("s"), p[0], list(p.state_dict()), len(p))[1:])(lib.nn.ParameterList()),
    "parameterdict_int_key": lambda lib: lib.nn.ParameterDict().__setitem__(1, lib.zeros(1)),
    "moduledict_int_key": lambda lib: lib.nn.ModuleDict().__setitem__(1, lib.nn.ReLU()),
    "moduledict_attribute": lambda lib: type(lib.nn.ModuleDict({"a": lib.nn.ReLU()}).a).__name__,
    "identity_extra_args": lambda lib: lib.nn.Identity()(lib.ones(1), lib.ones(2), extra=1),
    "sequential_two_inputs": lambda lib: lib.nn.Sequential(lib.nn.ReLU())(lib.ones(1), lib.ones(1)),
    "sequential_append_non_module": lambda lib: lib.nn.Sequential(lib.nn.ReLU()).append(3),
    "sequential_from_plain_dict": lambda lib: lib.nn.Sequential({"a": lib.nn.ReLU()}),
    "sequential_mul_shares": lambda lib: [n for n, _ in (lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Tanh()) * 2).named_modules()],
    "modulelist_delete_slice": lambda lib: (lambda s: (s.__delitem__(slice(0, 2)), list(s._modules))[1])(
        lib.nn.ModuleList([lib.nn.ReLU(), lib.nn.Tanh(), lib.nn.ELU()])),
    "deepcopy_keeps_sharing": lambda lib: (lambda c: (c.b is c.a, c.c[0] is c.a))(copy.deepcopy(shared(lib))),
    "deepcopy_keeps_grad": lambda lib: (lambda m: (m(lib.ones(1)).sum().backward(), copy.deepcopy(m).weight.grad))(lib.nn.Linear(1, 1))[1],
    "base_module_call": lambda lib: lib.nn.Module()(1),
}


@pytest.mark.parametrize("name", list(_MORE))
def test_more_module_api(name):
    same_in_both(_MORE[name])


def test_sequential_insert_out_of_range():
    raises_as_torch(lambda lib: lib.nn.Sequential(lib.nn.ReLU()).insert(5, lib.nn.Tanh()))


@pytest.mark.parametrize("cls", ["Sequential", "ModuleList"])
def test_dir_of_sequences_hides_digit_keys(cls):
    same_in_both(lambda lib: [name for name in dir(getattr(lib.nn, cls)([lib.nn.ReLU()]) if cls == "ModuleList"
                                                else getattr(lib.nn, cls)(lib.nn.ReLU())) if name.isdigit()])


def test_get_parameter_of_none_raises():
    raises_as_torch(lambda lib: lib.nn.Linear(1, 1, bias=False).get_parameter("bias"))


def test_named_modules_with_a_memo():
    def run(lib):
        model = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Tanh())
        return [name for name, _ in model.named_modules(memo={model[0]})]

    same_in_both(run)


def test_set_submodule_adds_a_new_name():
    def run(lib):
        model = lib.nn.Sequential(lib.nn.ReLU())
        model.set_submodule("new", lib.nn.Tanh())
        strict = outcome(lambda: model.set_submodule("other", lib.nn.Tanh(), strict=True))
        return list(model._modules), strict[0], getattr(strict[1], "__name__", None)

    same_in_both(run)


def test_modules_remove_duplicate():
    same_in_both(lambda lib: [type(m).__name__ for m in shared(lib).modules(remove_duplicate=False)])


def test_dict_or_parameterdict():
    same_in_both(lambda lib: list({"x": lib.zeros(1)} | lib.nn.ParameterDict({"a": lib.zeros(1)})))


def _messages(run):
    """``run()``'s value, or the type and words of what it raised, without chainrule's advice in
    parentheses (library names read as torch)."""
    try:
        return run()
    except Exception as error:  # noqa: BLE001 - the cases compare whatever each library raises
        return type(error).__name__, " ".join(str(error).replace("chainrule", "torch").split(" (")[0].split()[:14])


def test_a_buffer_assigned_over_a_plain_attribute_is_refused():
    def run(lib):
        module = lib.nn.Module()
        module.a = 5
        return _messages(lambda: setattr(module, "a", lib.nn.Buffer(lib.zeros(1))))

    same_in_both(run)


def test_a_buffer_assigned_to_a_subclass_whose_register_buffer_takes_no_persistent():
    def run(lib):
        class Module(lib.nn.Linear):
            def __init__(self, persistent):
                super().__init__(2, 2)
                self.bar = lib.nn.Buffer(lib.zeros(2), persistent=persistent)

            def register_buffer(self, name, value):
                super().register_buffer(name, value, True)

        return sorted(dict(Module(True).named_buffers())), _messages(lambda: Module(False))

    same_in_both(run)


def test_call_super_init_passes_the_arguments_to_the_next_base():
    def run(lib):
        class Mixin:
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.mixin_init = True

        class After(lib.nn.Module, Mixin):
            pass

        try:
            lib.nn.Module.call_super_init = True
            passed_on = hasattr(After(), "mixin_init")
        finally:
            lib.nn.Module.call_super_init = False
        return passed_on, hasattr(After(), "mixin_init"), _messages(lambda: lib.nn.Module(3)), _messages(lambda: lib.nn.Module(x=3))

    same_in_both(run)


def test_embedding_from_pretrained_ids_rnn_cells_of_no_units_and_old_reduction_names():
    same_in_both(bundle(
        lambda lib: lib.nn.Embedding.from_pretrained(lib.tensor([[1, 2, 3], [4, 5, 6]]))(lib.tensor([1])),
        lambda lib: [lib.nn.Embedding(3, 2, _freeze=True).weight.requires_grad, lib.nn.EmbeddingBag.from_pretrained(lib.ones(2, 2), freeze=False).weight.requires_grad],
        lambda lib: [tuple(cell(10, 0)(lib.randn(3, 10))[0].shape) for cell in (lib.nn.LSTMCell,)] + [tuple(lib.nn.GRUCell(10, 0)(lib.randn(3, 10)).shape)],
        lambda lib: lib.nn.L1Loss(reduction="elementwise_mean")(lib.tensor([1.0, 2.0]), lib.zeros(2)),
        lambda lib: _messages(lambda: lib.nn.EmbeddingBag(4, 3, padding_idx=-6)),
        lambda lib: _messages(lambda: lib.nn.functional.ctc_loss(
            lib.zeros(5, 1, 3).log_softmax(2), lib.tensor([[1, 2]]), lib.tensor([5.0]), lib.tensor([2])
        )),
        lambda lib: _messages(lambda: lib.nn.Linear(2, 2, bias=False).load_state_dict({"weight": ((1.0, 1.0), (2.0, 2.0))})),
    ))
