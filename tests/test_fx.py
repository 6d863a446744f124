"""chainrule.fx: the ``wrap`` that model code (timm) calls on import, as torch.fx's."""
import pytest
import torch

import chainrule

MODULE = '''
import {lib}.fx

@{lib}.fx.wrap
def scaled(x):
    return x * 2

{lib}.fx.wrap("len")
'''


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_wrap_returns_the_function_and_is_called_at_a_module_top_level(lib):
    namespace = {}
    exec(compile(MODULE.format(lib=lib.__name__), "model_code.py", "exec"), namespace)
    assert namespace["scaled"](lib.ones(2)).tolist() == [2.0, 2.0]

    def inside_a_function():
        lib.fx.wrap(len)

    with pytest.raises(NotImplementedError, match="wrap must be called at the top level of a module"):
        inside_a_function()
    with pytest.raises(RuntimeError, match="Must be either a callable or string name"):
        exec("import {0}.fx; {0}.fx.wrap(3)".format(lib.__name__), {})


# ----------------------------------------------------------------------------- symbolic tracing
import copy  # noqa: E402
import math  # noqa: E402
import operator  # noqa: E402

import numpy as np  # noqa: E402

PROGRAM = '''
import math
import {lib} as torch
import {lib}.nn as nn
import {lib}.nn.functional as F


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.register_buffer("offset", torch.full((4, 1, 1), 0.5))
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)) + self.offset) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(4 * 4 * 4, 8), nn.Tanh())
        self.heads = nn.ModuleList([nn.Linear(8, 2), nn.Linear(8, 2)])

    def forward(self, x, input=None):
        h = self.layers(self.block(x))
        out = torch.cat([head(h) for head in self.heads], dim=1)
        out = out.view(out.size(0), -1).transpose(0, 1).contiguous() / math.sqrt(4)
        return out.mean(), -out, torch.stack([out, out]).max(dim=0).values, out.shape[1], h[:, 0]
'''


def _traced(lib):
    namespace = {}
    exec(compile(PROGRAM.format(lib=lib.__name__), f"fx_program_{lib.__name__}.py", "exec"), namespace)
    lib.manual_seed(0)
    net = namespace["Net"]().eval()
    return net, lib.fx.symbolic_trace(net)


def _as_torch_text(text):
    return text.replace("chainrule", "torch")


def test_symbolic_trace_records_the_graph_and_code_pytorch_records():
    (net, traced), (torch_net, torch_traced) = _traced(chainrule), _traced(torch)
    assert _as_torch_text(str(traced.graph)) == str(torch_traced.graph)
    assert _as_torch_text(traced.code) == torch_traced.code
    assert [(node.op, node.name) for node in traced.graph.nodes] == [(node.op, node.name) for node in torch_traced.graph.nodes]
    assert [node.name for node in traced.graph.nodes if node.op == "placeholder"] == ["x", "input_1"]
    assert sorted(traced.state_dict()) == sorted(torch_traced.state_dict())
    assert [name for name, _ in traced.named_modules()] == [name for name, _ in torch_traced.named_modules()]
    assert type(traced).__name__ == "Net" and isinstance(traced, chainrule.fx.GraphModule)


def test_a_traced_module_computes_what_the_module_computes_with_gradients():
    net, traced = _traced(chainrule)
    x = chainrule.randn(2, 3, 4, 4, requires_grad=True)
    for mine, expected in zip(traced(x), net(x)):
        if isinstance(mine, chainrule.Tensor):
            assert chainrule.equal(mine, expected)
        else:
            assert mine == expected
    traced(x)[0].backward()
    assert traced.get_parameter("block.conv.weight").grad is not None and x.grad is not None
    assert traced.get_parameter("block.conv.weight") is net.block.conv.weight  # the module's own parameters


def test_the_graph_can_be_changed_and_recompiled_as_in_pytorch():
    results = []
    for lib in (chainrule, torch):
        net, traced = _traced(lib)
        graph = traced.graph
        for node in graph.nodes:
            if node.op == "call_function" and node.target is operator.add:
                node.target = operator.mul
            if node.op == "call_function" and node.target is lib.nn.functional.relu:
                with graph.inserting_after(node):
                    negated = graph.call_function(lib.neg, (node,))
                node.replace_all_uses_with(negated, delete_user_cb=lambda user: user is not negated)
        graph.lint()
        traced.recompile()
        lib.manual_seed(1)
        x = lib.randn(2, 3, 4, 4)
        results.append((_as_torch_text(traced.code), traced(x)[1].detach().numpy()))
    (my_code, mine), (their_code, reference) = results
    assert my_code == their_code
    assert "block_offset = self.block.offset" in my_code and "neg_1 = torch.neg(relu)" in my_code
    np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-6)  # (the two convolutions round apart)


def test_erasing_dead_code_and_a_used_node_as_pytorch():
    for lib in (chainrule, torch):
        graph = lib.fx.Graph()
        x = graph.placeholder("x")
        unused = graph.call_function(lib.relu, (x,))
        used = graph.call_method("sum", (x,))
        graph.output(used)
        with pytest.raises(RuntimeError, match="still had 2 users"):
            graph.erase_node(x)
        assert graph.eliminate_dead_code() is True
        assert [node.name for node in graph.nodes] == ["x", "sum_1", "output"]
        assert unused not in graph.nodes


def test_interpreter_transformer_and_shape_propagation_as_pytorch():
    from chainrule.fx.passes.shape_prop import ShapeProp
    from torch.fx.passes.shape_prop import ShapeProp as TorchShapeProp

    results = []
    for lib, shape_prop in ((chainrule, ShapeProp), (torch, TorchShapeProp)):
        net, traced = _traced(lib)

        class Swap(lib.fx.Transformer):
            def call_function(self, target, args, kwargs):
                if target is operator.neg:
                    return super().call_function(lib.abs, args, kwargs)
                return super().call_function(target, args, kwargs)

        swapped = Swap(traced).transform()
        lib.manual_seed(1)
        x = lib.randn(2, 3, 4, 4)
        interpreted = lib.fx.Interpreter(traced).run(x)
        shape_prop(traced).propagate(x)
        shapes = [tuple(node.meta["tensor_meta"].shape) for node in traced.graph.nodes if isinstance(node.meta.get("tensor_meta"), tuple) and hasattr(node.meta["tensor_meta"], "shape")]
        results.append((_as_torch_text(swapped.code), swapped(x)[1].detach().numpy(), interpreted[1].detach().numpy(), traced(x)[1].detach().numpy(), shapes))
    (code, swapped, interpreted, direct, shapes), (their_code, their_swapped, _, _, their_shapes) = results
    assert code == their_code and "torch.abs(truediv)" in code
    np.testing.assert_allclose(swapped, their_swapped, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(swapped, np.abs(direct))
    np.testing.assert_array_equal(interpreted, direct)
    assert shapes == their_shapes and shapes[0] == (2, 3, 4, 4)


def test_control_flow_on_a_traced_value_is_a_trace_error_and_concrete_args_fix_it():
    for lib in (chainrule, torch):
        class Branchy(lib.nn.Module):
            def forward(self, x, flag=True):
                if flag:
                    return x + 1
                return x.sum() if x.sum() > 0 else x

        with pytest.raises(lib.fx.proxy.TraceError, match="cannot be used as inputs to control flow"):
            lib.fx.symbolic_trace(Branchy(), concrete_args={"flag": False})
        traced = lib.fx.symbolic_trace(Branchy(), concrete_args={"flag": True})
        assert "add = x + 1" in traced.code
        assert traced(lib.ones(2), True).tolist() == [2.0, 2.0]


def test_functions_and_wrapped_functions_trace_as_pytorch():
    def attention_scores(q, k):
        return chainrule.softmax(q @ k.T / math.sqrt(4), dim=-1)

    traced = chainrule.fx.symbolic_trace(attention_scores)
    assert traced.code.strip().splitlines()[:5] == [
        "def forward(self, q, k):",
        "    getattr_1 = k.T;  k = None",
        "    matmul = q @ getattr_1;  q = getattr_1 = None",
        "    truediv = matmul / 2.0;  matmul = None",
        "    softmax = chainrule.softmax(truediv, dim = -1);  truediv = None",
    ]
    q, k = chainrule.randn(3, 4), chainrule.randn(5, 4)
    assert chainrule.equal(traced(q, k), attention_scores(q, k))
    namespace = {}
    exec(compile(MODULE.format(lib="chainrule") + "\ndef uses(x):\n    return scaled(x) + len(x)\n", "wrapping.py", "exec"), namespace)
    graph = chainrule.fx.symbolic_trace(namespace["uses"]).graph
    assert [node.op for node in graph.nodes] == ["placeholder", "call_function", "call_function", "call_function", "output"]
    assert [node.target.__name__ for node in graph.nodes if node.op == "call_function"] == ["scaled", "len", "add"]
    assert namespace["scaled"].__name__ == "scaled" and namespace.get("len", len) is len  # unpatched after tracing


def test_a_copy_of_a_traced_module_is_separate():
    net, traced = _traced(chainrule)
    twin = copy.deepcopy(traced)
    x = chainrule.randn(2, 3, 4, 4)
    assert chainrule.equal(twin(x)[0], traced(x)[0])
    assert twin.get_parameter("block.scale") is not traced.get_parameter("block.scale")
    assert twin.code == traced.code


def test_tracing_leaves_the_eager_fast_path_as_it_found_it():
    """The tracer arms the __torch_function__ checks while it runs (Proxies must be handed over
    before an operation reads them) and disarms them after, unless something armed them for good."""
    import chainrule.overrides as overrides

    before, method = overrides._armed, chainrule.Tensor.add
    _traced(chainrule)
    assert overrides._armed is before and chainrule.Tensor.add is method


def _conv_bn_model(lib):
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(64, 5), nn.BatchNorm1d(5), nn.Dropout(0.5)
    ).eval()
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    return model


def test_fuse_folds_batch_norms_and_remove_dropout_drops_dropout_as_pytorch():
    import torch.fx.experimental.optimization as theirs

    import chainrule.fx.experimental.optimization as ours

    results = []
    for lib, optimization in ((chainrule, ours), (torch, theirs)):
        model = _conv_bn_model(lib)
        fused, without_dropout = optimization.fuse(model), optimization.remove_dropout(model)
        x = lib.randn(2, 3, 6, 6)
        expected = model(x)
        assert lib.allclose(fused(x), expected, atol=1e-5) and lib.equal(without_dropout(x), expected)
        assert isinstance(model[1], lib.nn.BatchNorm2d)  # the model itself is left as it was
        results.append((_as_torch_text(fused.code), _as_torch_text(without_dropout.code), [type(m).__name__ for m in fused.modules()]))
    assert results[0] == results[1]
    assert results[0][2] == ["GraphModule", "Conv2d", "ReLU", "Flatten", "Linear", "Dropout"]


def test_a_deep_copy_of_a_graph_is_a_graph_of_its_own():
    _, traced = _traced(chainrule)
    copied = copy.deepcopy(traced.graph)
    assert [node.name for node in copied.nodes] == [node.name for node in traced.graph.nodes]
    assert not set(copied.nodes) & set(traced.graph.nodes)
    with copied.inserting_before(None):
        copied.placeholder("extra")
    assert len(copied.nodes) == len(traced.graph.nodes) + 1 and all(node.graph is copied for node in copied.nodes)


def test_unpacking_a_proxy_into_names_traces_as_pytorch_and_other_iteration_is_an_error():
    code = '''
import {lib} as torch


class Attention(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = torch.nn.Linear(8, 24)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return ((q @ k.transpose(-2, -1)).softmax(-1) @ v).reshape(b, n * c)


class Iterating(torch.nn.Module):
    def forward(self, x):
        return [row for row in x]
'''
    results = []
    for lib in (chainrule, torch):
        namespace = {}
        exec(compile(code.format(lib=lib.__name__), f"unpacking_{lib.__name__}.py", "exec"), namespace)
        lib.manual_seed(0)
        model = namespace["Attention"]()
        traced = lib.fx.symbolic_trace(model)
        x = lib.randn(2, 3, 8)
        assert lib.equal(traced(x), model(x))
        with pytest.raises(lib.fx.proxy.TraceError, match="Proxy object cannot be iterated"):
            lib.fx.symbolic_trace(namespace["Iterating"]())
        results.append(_as_torch_text(traced.code))
    assert results[0] == results[1]
    assert "getitem_5 = chunk[2];  chunk = None" in results[0]
