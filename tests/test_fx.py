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


# ----------------------------------------------------------------------------- the torch.fx docs' examples
def test_replace_pattern_rewrites_each_occurrence_as_pytorch():
    codes, values = [], []
    for lib in (chainrule, torch):
        class Twice(lib.nn.Module):
            def forward(self, x, w1, w2):
                m1 = lib.cat([w1, w2]).sum()
                m2 = lib.cat([w1, w2]).sum()
                return x + lib.max(m1) + lib.max(m2)

        def pattern(w1, w2):
            return lib.cat([w1, w2]).sum()

        def replacement(w1, w2):
            return lib.stack([w1, w2])

        traced = lib.fx.symbolic_trace(Twice())
        matches = lib.fx.replace_pattern(traced, pattern, replacement)
        assert [match.anchor.name for match in matches] == ["sum_1", "sum_1"]  # the pattern's node
        assert sorted(node.name for node in matches[1].nodes_map.values()) == ["cat_1", "sum_2", "w1", "w2"]
        codes.append(_as_torch_text(traced.code))
        values.append(traced(lib.ones(2), lib.ones(2), lib.ones(2) * 2).tolist())
        no_match = lib.fx.subgraph_rewriter.replace_pattern(lib.fx.symbolic_trace(Twice()), lambda a: a.sum().neg(), lambda a: a)
        assert no_match == []
    assert codes[0] == codes[1] and "stack_1 = torch.stack([w1, w2]);  w1 = w2 = None" in codes[0]
    assert values[0] == values[1] == [5.0, 5.0]


def test_a_pattern_whose_inner_value_is_used_elsewhere_is_not_replaced_as_pytorch():
    for lib in (chainrule, torch):
        def program(x):
            y = x.relu()
            return y.neg() + y

        traced = lib.fx.symbolic_trace(program)
        matches = lib.fx.replace_pattern(traced, lambda a: a.relu().neg(), lambda a: a.sigmoid())
        assert matches == [] and "neg = relu.neg()" in traced.code


def test_concrete_args_keep_the_input_and_check_its_value_as_pytorch():
    codes = []
    for lib in (chainrule, torch):
        def f(a, b, c=None):
            return a if b else (a * 2 if c is None else a)

        traced = lib.fx.symbolic_trace(f, concrete_args={"b": False, "c": None})
        codes.append(_as_torch_text(traced.code).replace("torch.fx._symbolic_trace.", "torch.fx.tracer."))  # (its module's path)
        assert [node.name for node in traced.graph.nodes if node.op == "placeholder"] == ["a", "b_1", "c_1"]
        assert traced(lib.ones(2), False, None).tolist() == [2.0, 2.0]
        with pytest.raises(AssertionError, match="b has been specialized to have value False but got another value"):
            traced(lib.ones(2), True, None)
        with pytest.raises(AssertionError, match="c has been specialized to have value None"):
            traced(lib.ones(2), False, 3)
    assert codes[0] == codes[1]
    assert "_assert = torch._assert(eq, 'b has been specialized to have value False but got another value');  eq = _assert = None" in codes[0]


def test_math_functions_and_autowrap_functions_are_recorded_as_one_node_as_pytorch():
    graphs, values = [], []
    for lib in (chainrule, torch):
        class Scaled(lib.nn.Module):
            def forward(self, x):
                return math.sqrt(x.size(0)) * sum_of_squares(x, x)

        traced = lib.fx.GraphModule(Scaled(), lib.fx.Tracer(autowrap_functions=(sum_of_squares,)).trace(Scaled()))
        graphs.append(_as_torch_text(str(traced.graph)).replace(__name__, "tests"))
        values.append(traced(lib.ones(4)).tolist())
        assert math.sqrt(4) == 2.0 and sum_of_squares(2, 1) == 5  # unpatched after tracing
    assert graphs[0] == graphs[1] and "call_function[target=math.sqrt](args = (%size,)" in graphs[0]
    assert "call_function[target=tests.sum_of_squares](args = (%x, %x)" in graphs[0]
    assert values[0] == values[1] == [4.0] * 4


def sum_of_squares(x, y):
    return x * x + y * y


def test_the_first_node_and_the_last_have_the_graph_root_beside_them_as_pytorch():
    for lib in (chainrule, torch):
        graph = lib.fx.symbolic_trace(lambda x: x + 1).graph
        first, *_, last = graph.nodes
        root = first.prev
        assert root is last.next and root.name == "" and root.op == "root"
        assert root.next is first and root.prev is last and first.next.name == "add"


def test_a_loop_over_graph_nodes_sees_nodes_inserted_ahead_and_not_erased_ones_as_pytorch():
    for lib in (chainrule, torch):
        graph = lib.fx.symbolic_trace(lambda x: (x + 1).relu().neg()).graph
        seen = []
        for node in graph.nodes:
            seen.append(node.name)
            if node.name == "add":
                with graph.inserting_after(node):
                    graph.call_function(lib.sigmoid, (node,))
                relu = node.next.next
                relu.replace_all_uses_with(node)
                graph.erase_node(relu)
        assert seen == ["x", "add", "sigmoid", "neg", "output"]
        assert len(graph.nodes) == 5 and [node.name for node in reversed(graph.nodes)][:2] == ["output", "neg"]
        assert type(graph.nodes).__name__ in ("_node_list", "_NodeList")
        with pytest.warns(UserWarning, match="on an already erased node"):
            graph.erase_node(relu)  # (a second time: the ring stays as it is)
        assert len(graph.nodes) == 5 and [node.name for node in graph.nodes] == ["x", "add", "sigmoid", "neg", "output"]
        with pytest.raises(RuntimeError, match="from wrong graph"):
            graph.erase_node(lib.fx.Graph().placeholder("z"))


def test_wrapped_functions_stay_one_node_when_a_traced_module_is_traced_again_as_pytorch():
    codes = []
    for lib in (chainrule, torch):
        namespace = {"__name__": "model_code"}
        exec(compile(MODULE.format(lib=lib.__name__) + "\nimport math\ndef uses(x):\n    return scaled(x) + len(x) + math.sqrt(x.size(0))\n", "wrapping.py", "exec"), namespace)
        traced = lib.fx.symbolic_trace(namespace["uses"])
        assert [node.meta.get("is_wrapped", False) for node in traced.graph.nodes if node.op == "call_function"] == [True, True, False, True, False]
        again = lib.fx.symbolic_trace(traced)
        assert again.code == traced.code and again(lib.ones(4)).tolist() == [8.0] * 4
        codes.append(_as_torch_text(traced.code))
    assert codes[0] == codes[1]
    assert codes[0].startswith('\ntorch.fx._symbolic_trace.wrap("model_code_scaled")\ntorch.fx._symbolic_trace.wrap("len")\ntorch.fx._symbolic_trace.wrap("math_sqrt")\n\ndef forward(self, x):\n')


def test_dead_code_elimination_keeps_checks_and_drops_unread_in_place_results_as_pytorch():
    for lib in (chainrule, torch):
        def program(x):
            x.add_(1)
            lib._assert(x.sum() > 0, "positive")
            x * 2
            return x

        graph = lib.fx.symbolic_trace(program).graph
        assert [node.is_impure() for node in graph.nodes] == [True, False, False, False, True, False, True]
        assert graph.eliminate_dead_code() is True
        assert [node.name for node in graph.nodes] == ["x", "sum_1", "gt", "_assert", "output"]
        kept = lib.fx.symbolic_trace(program).graph
        kept.eliminate_dead_code(is_impure_node=lambda node: node.is_impure() or node.name == "add_")
        assert [node.name for node in kept.nodes] == ["x", "add_", "sum_1", "gt", "_assert", "output"]


def test_lint_names_a_node_read_before_it_is_made_and_prints_the_graph_as_pytorch():
    for lib in (chainrule, torch):
        graph = lib.fx.Graph()
        x = graph.placeholder("x")
        doubled = graph.call_method("mul", (x, 2))
        graph.output(doubled)
        with graph.inserting_before(x):
            graph.call_function(lib.neg, (doubled,))
        with pytest.raises(RuntimeError, match=r"(?s)Argument 'mul' of Node 'neg' was used before it has been defined! Please check that Nodes in the graph are topologically ordered\ngraph\(\):\n    %neg"):
            graph.lint()


def test_print_readable_and_submodule_editing_as_pytorch():
    texts, names = [], []
    for lib in (chainrule, torch):
        class Two(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.a, self.b = lib.nn.Linear(2, 2), lib.nn.ReLU()

            def forward(self, x):
                return self.b(self.a(x))

        traced = lib.fx.symbolic_trace(Two())
        texts.append(_as_torch_text(traced.print_readable(print_output=False)))
        assert traced.add_submodule("extra.lin", lib.nn.Linear(2, 2)) is True
        assert traced.add_submodule("a.weight.x", lib.nn.ReLU()) is False  # (a parameter on the path)
        output = next(node for node in traced.graph.nodes if node.op == "output")
        with traced.graph.inserting_before(output):
            extra = traced.graph.call_module("extra.lin", (output.args[0],))
        output.args = (extra,)
        traced.recompile()
        assert traced(lib.ones(1, 2)).shape == (1, 2)
        traced.add_submodule("unused.deep", lib.nn.ReLU())
        traced.delete_all_unused_submodules()
        names.append([name for name, _ in traced.named_modules()])
        assert traced.delete_submodule("extra.lin") is True and traced.delete_submodule("nope") is False
    assert texts[0] == texts[1] == (
        "class Two(torch.nn.Module):\n    def forward(self, x):\n        # No stacktrace found for following nodes\n"
        "        a = self.a(x);  x = None\n        b = self.b(a);  a = None\n        return b\n"
    )
    assert names[0] == names[1] == ["", "a", "b", "extra", "extra.lin"]


def test_type_annotations_of_forward_are_kept_in_the_graph_and_code_as_pytorch():
    from typing import List, Optional, Tuple

    codes, graphs = [], []
    for lib in (chainrule, torch):
        class Annotated(lib.nn.Module):
            def forward(self, x: lib.Tensor, k: int = 2, names: Optional[List[str]] = None, y: "Tensor" = None) -> Tuple[lib.Tensor, lib.Tensor]:
                return x * k, x

        traced = lib.fx.symbolic_trace(Annotated())
        codes.append(_as_torch_text(traced.code))
        graphs.append(_as_torch_text(str(traced.graph)))
        assert traced(lib.ones(2), 3)[0].tolist() == [3.0, 3.0]
    assert codes[0] == codes[1] and graphs[0] == graphs[1]
    assert "def forward(self, x : torch.Tensor, k : int = 2, names : typing_Union[typing_List[str],NoneType] = None, y : _Tensor_ = None) -> typing_Tuple[torch.Tensor,torch.Tensor]:" in codes[0]
    assert "%x : torch.Tensor [num_users=2] = placeholder[target=x]" in graphs[0]


def test_a_traced_module_pickles_and_saves_even_when_its_graph_is_long_as_pytorch():
    import io
    import pickle

    for lib in (chainrule, torch):
        def long_program(x):
            for _ in range(1500):  # (more nodes than Python's recursion limit)
                x = x + 1
            return x

        traced = lib.fx.symbolic_trace(long_program)
        again = pickle.loads(pickle.dumps(traced))
        assert again(lib.zeros(1)).tolist() == [1500.0] and again.code == traced.code
        net = lib.fx.symbolic_trace(lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU()))
        buffer = io.BytesIO()
        lib.save(net, buffer)
        buffer.seek(0)
        loaded = lib.load(buffer, weights_only=False)
        assert type(loaded).__name__ == "GraphModule" and list(loaded.state_dict()) == ["0.weight", "0.bias"]
        assert lib.equal(loaded(lib.ones(1, 2)), net(lib.ones(1, 2)))


def test_buffers_are_constants_unless_the_tracer_proxies_buffer_attributes_as_pytorch():
    codes = []
    for lib in (chainrule, torch):
        class Positions(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("pos", lib.arange(8.0))

            def forward(self, x):
                return x + self.pos[:4] * 1

        class BufferTracer(lib.fx.Tracer):
            proxy_buffer_attributes = True

        module = Positions()
        plain = lib.fx.symbolic_trace(module)
        proxied = lib.fx.GraphModule(module, BufferTracer().trace(module))
        codes.append((_as_torch_text(plain.code), _as_torch_text(proxied.code)))
        module.pos.add_(1)  # a constant does not see a change of the buffer; a get_attr node does
        assert plain(lib.zeros(4)).tolist() == [0.0, 1.0, 2.0, 3.0]
        assert proxied(lib.zeros(4)).tolist() == [1.0, 2.0, 3.0, 4.0]
        with pytest.raises(TypeError):
            lib.fx.symbolic_trace(lambda x: module.pos[: x.size(0)])
    assert codes[0] == codes[1] and "_tensor_constant0 = self._tensor_constant0" in codes[0][0]
    assert "pos = self.pos" in codes[0][1]


def test_ph_side_effect_marks_and_transformer_output_meta_as_pytorch():
    for lib in (chainrule, torch):
        def program(x, y):
            log_value(x)
            return x + y

        assert lib.fx.has_side_effect(log_value) is log_value
        traced = lib.fx.Tracer(autowrap_functions=(log_value,)).trace(program, concrete_args={"y": lib.fx.PH})
        assert [node.name for node in traced.nodes if node.op == "placeholder"] == ["x", "y_1"]
        traced.eliminate_dead_code()
        assert [node.name for node in traced.nodes] == ["x", "y_1", "log_value", "add", "output"]

        module = lib.fx.symbolic_trace(lambda x: x.relu())
        list(module.graph.nodes)[-1].meta["tag"] = "out"
        transformed = lib.fx.Transformer(module).transform()
        assert list(transformed.graph.nodes)[-1].meta["tag"] == "out" and type(transformed).__name__ == "GraphModule"


def log_value(value):
    """(A function with a side effect, for the test above.)"""


def test_node_and_graph_editing_helpers_as_pytorch():
    for lib in (chainrule, torch):
        graph = lib.fx.symbolic_trace(lambda x: (x + 1).relu()).graph
        x, add, relu, _ = graph.nodes
        add.meta["tag"] = "kept"
        with graph.inserting_after(add):
            negated = graph.call_function(lib.neg, (add,))
        assert add.replace_all_uses_with(negated, delete_user_cb=lambda user: user is not negated, propagate_meta=True) == [relu]
        relu.insert_arg(0, x)
        assert negated.meta == {"tag": "kept"} and relu.args == (x, negated) and list(x.users) == [add, relu]
        with pytest.raises(AssertionError, match="insert_args index must be between 0 and len"):
            relu.insert_arg(5, 1)
        assert graph.find_nodes(op="call_method", target="relu") == [relu] and graph.find_nodes(op="call_function", target=lib.neg) == [negated]
        with pytest.raises(AssertionError, match="target must not be None for call_function op"):
            graph.find_nodes(op="call_function")


def test_split_module_cuts_a_traced_module_into_submodules_as_pytorch():
    codes, names = [], []
    for lib in (chainrule, torch):
        from importlib import import_module

        split_module = import_module(f"{lib.__name__}.fx.passes.split_module").split_module

        class Two(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.param = lib.nn.Parameter(lib.rand(4, 4))
                self.linear = lib.nn.Linear(4, 4)

            def forward(self, x, y):
                z = self.linear(x + self.param).clamp(min=0.0, max=1.0)
                w = self.linear(y).clamp(min=0.0, max=1.0)
                return z + w

        module = Two()
        traced = lib.fx.symbolic_trace(module)
        order = [node.name for node in traced.graph.nodes]
        qualnames = {}
        split = split_module(traced, module, lambda node: order.index(node.name) % 3, qualname_map=qualnames)
        kept = split_module(traced, module, lambda node: 0 if node.name in ("add", "linear") else 1, keep_original_order=True, tuple_return=True)
        codes.append([_as_torch_text(each.code) for each in (split, *split.children(), kept)])
        names.append((sorted(split.state_dict()), qualnames))
        x, y = lib.rand(4, 4), lib.rand(4, 4)
        assert lib.equal(split(x, y), module(x, y)) and lib.equal(kept(x, y), module(x, y))
    assert codes[0] == codes[1] and names[0] == names[1]
    assert "submod_0 = self.submod_0(x, param, y);  x = param = y = None" in codes[0][0]


def test_to_folder_writes_an_importable_package_as_pytorch(tmp_path):
    import importlib
    import sys

    texts = []
    for lib in (chainrule, torch):
        class Folded(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin, self.act = lib.nn.Linear(3, 2), lib.nn.GELU()
                self.p = lib.nn.Parameter(lib.ones(2))
                self.register_buffer("b", lib.zeros(2))

            def forward(self, x):
                return self.act(self.lin(x)) * self.p + self.b

        traced = lib.fx.symbolic_trace(Folded())
        folder = tmp_path / f"folded_{lib.__name__}"
        with pytest.warns(UserWarning, match=r"saved as pickled files instead: \['act'\]"):
            traced.to_folder(folder, "Rebuilt")
        texts.append(_as_torch_text((folder / "module.py").read_text().replace(str(folder), "FOLDER")))
        sys.path.insert(0, str(tmp_path))
        try:
            rebuilt = importlib.import_module(folder.name).Rebuilt()
        finally:
            sys.path.remove(str(tmp_path))
        x = lib.randn(2, 3)
        assert lib.equal(rebuilt(x), traced(x))
    assert texts[0] == texts[1].replace("import torch.fx._pytree as fx_pytree\n", "")  # (chainrule has no fx._pytree)


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_symbolic_shapes_names_the_errors_of_tracing_sizes_and_data(lib):
    from importlib import import_module

    shapes = import_module(f"{lib.__name__}.fx.experimental.symbolic_shapes")
    assert issubclass(shapes.GuardOnDataDependentSymNode, RuntimeError)
    assert issubclass(shapes.ConstraintViolationError, RuntimeError)


def test_a_classmethod_node_is_named_by_its_class():
    class Doubled(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * 2

    graph = chainrule.fx.Graph()
    x = graph.placeholder("x")
    graph.output(graph.call_function(Doubled.apply, (x,)))
    module = chainrule.fx.GraphModule({}, graph)
    assert "test_fx.test_a_classmethod_node_is_named_by_its_class.<locals>.Doubled.apply" in str(graph)
    assert "Doubled_apply(x)" in module.code
    assert module(chainrule.ones(2)).tolist() == [2.0, 2.0]
