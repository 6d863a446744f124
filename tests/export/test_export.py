"""chainrule.export.export and ep.module(): the same programs as torch.export, from the same weights."""
import dataclasses
import io

import numpy as np
import pytest
import torch

import chainrule
import chainrule.export


def build(lib, kind):
    """The model ``kind`` written against ``lib`` (torch or chainrule)."""
    nn = lib.nn

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(3, 8)
            self.fc2 = nn.Linear(8, 2)

        def forward(self, x):
            return self.fc2(self.fc1(x).relu())

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.head = nn.Linear(4 * 5 * 5, 3)

        def forward(self, x):
            h = self.bn(self.conv(x)).relu()
            return self.head(h.view(h.shape[0], -1))

    class Nested(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.register_buffer("scale", lib.tensor([2.0, 3.0, 4.0]))

        def forward(self, x, pair, d, k=None):
            a, b = pair
            return {"sum": self.fc(x) + a * self.scale, "pieces": [b - d["y"], k * 2]}

    class Branch(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            return lib.cond(x.sum() > 0, lambda x: self.fc(x).sin(), lambda x: x.cos(), (x,))

    model = {"mlp": MLP, "cnn": CNN, "nested": Nested, "branch": Branch}[kind]()
    return model


def twins(kind):
    """The torch model and the chainrule model holding the same weights."""
    torch.manual_seed(0)
    theirs = build(torch, kind)
    ours = build(chainrule, kind)
    ours.load_state_dict({name: chainrule.tensor(value.numpy()) for name, value in theirs.state_dict().items()})
    return theirs, ours


def inputs(kind, batch=4, seed=0):
    """The example inputs of ``kind`` as NumPy arrays, (args, kwargs)."""
    rng = np.random.default_rng(seed)
    normal = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    if kind == "mlp":
        return (normal(batch, 3),), {}
    if kind == "cnn":
        return (normal(batch, 2, 5, 5),), {}
    if kind == "nested":
        return (normal(batch, 3), (normal(batch, 3), normal(2)), {"y": normal(2)}), {"k": normal(batch)}
    return (normal(batch, 3),), {}


def as_lib(lib, tree):
    if isinstance(tree, np.ndarray):
        return lib.tensor(tree)
    if isinstance(tree, (tuple, list)):
        return type(tree)(as_lib(lib, item) for item in tree)
    return {key: as_lib(lib, item) for key, item in tree.items()}


def leaves(tree):
    if isinstance(tree, dict):
        return [leaf for key in tree for leaf in leaves(tree[key])]
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in leaves(item)]
    return [tree.detach().numpy()]


def assert_same(theirs, ours):
    assert type(theirs).__name__ == type(ours).__name__ or isinstance(theirs, torch.Tensor)
    for expected, got in zip(leaves(theirs), leaves(ours), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["mlp", "cnn", "nested", "branch"])
def test_module_computes_what_torch_exports_compute(kind):
    theirs, ours = twins(kind)
    args, kwargs = inputs(kind)
    their_program = torch.export.export(theirs.eval(), as_lib(torch, args), as_lib(torch, kwargs))
    our_program = chainrule.export.export(ours.eval(), as_lib(chainrule, args), as_lib(chainrule, kwargs))
    for seed in (1, 2):
        args, kwargs = inputs(kind, seed=seed)
        assert_same(their_program.module()(*as_lib(torch, args), **as_lib(torch, kwargs)), our_program.module()(*as_lib(chainrule, args), **as_lib(chainrule, kwargs)))
        if kind == "branch":  # the other branch
            flipped = -np.abs(args[0])
            assert_same(their_program.module()(torch.tensor(flipped)), our_program.module()(chainrule.tensor(flipped)))


@pytest.mark.parametrize("kind", ["mlp", "cnn", "nested"])
def test_graph_signature_names_as_torch(kind):
    theirs, ours = twins(kind)
    args, kwargs = inputs(kind)
    their_signature = torch.export.export(theirs, as_lib(torch, args), as_lib(torch, kwargs)).graph_signature
    our_program = chainrule.export.export(ours, as_lib(chainrule, args), as_lib(chainrule, kwargs))
    ours_signature = our_program.graph_signature
    for names in ("parameters", "buffers", "user_inputs"):
        assert getattr(ours_signature, names) == getattr(their_signature, names)
    assert len(ours_signature.user_outputs) == len(their_signature.user_outputs)
    assert [str(spec) for spec in ours_signature.input_specs] == [str(spec) for spec in their_signature.input_specs]
    assert [name for name, _ in our_program.named_parameters()] == list(their_signature.parameters)
    assert [name for name, _ in our_program.named_buffers()] == list(their_signature.buffers)
    assert set(our_program.state_dict) == set(ours.state_dict())
    assert "ExportedProgram:" in str(our_program) and "Graph signature" in str(our_program)
    assert our_program.example_inputs[1].keys() == kwargs.keys()
    assert isinstance(our_program.graph_module, chainrule.fx.GraphModule) and "def forward" in our_program.graph_module.code


def test_training_through_module_gives_torch_gradients_and_updates_batchnorm():
    theirs, ours = twins("cnn")
    args, _ = inputs("cnn")
    their_module = torch.export.export(theirs, as_lib(torch, args)).module()
    our_module = chainrule.export.export(ours, as_lib(chainrule, args)).module()
    assert all(isinstance(parameter, chainrule.nn.Parameter) for parameter in our_module.parameters())
    (theirs_out, ours_out) = their_module(*as_lib(torch, args)), our_module(*as_lib(chainrule, args))
    theirs_out.square().sum().backward()
    ours_out.square().sum().backward()
    for (name, expected), (our_name, got) in zip(their_module.named_parameters(), our_module.named_parameters(), strict=True):
        assert name == our_name
        np.testing.assert_allclose(got.grad.numpy(), expected.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(our_module.bn.running_mean.numpy(), their_module.bn.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    assert int(our_module.bn.num_batches_tracked) == int(their_module.bn.num_batches_tracked) == 1
    assert int(ours.bn.num_batches_tracked) == int(theirs.bn.num_batches_tracked)


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_module_refuses_inputs_unlike_the_export(lib):
    model = build(lib, "mlp")
    module = lib.export.export(model, (lib.randn(4, 3),)).module()
    with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[0\] == 4"):
        module(lib.randn(5, 3))
    with pytest.raises(ValueError, match="Trying to flatten user inputs with exported input tree spec"):
        module((lib.randn(4, 3),))
    nested = lib.export.export(build(lib, "nested"), *as_lib(lib, inputs("nested"))).module()
    args, kwargs = inputs("nested")
    args[2]["y"] = np.zeros(3, np.float32)
    with pytest.raises(AssertionError, match=r"Guard failed: d\['y'\].size\(\)\[0\] == 2"):
        nested(*as_lib(lib, args), **as_lib(lib, kwargs))


class DataDependent(chainrule.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x + 1
        return x - 1


def test_python_branch_on_tensor_data_fails_as_in_torch():
    class TheirDataDependent(torch.nn.Module):
        forward = DataDependent.forward

    with pytest.raises(RuntimeError) as theirs:
        torch.export.export(TheirDataDependent(), (torch.randn(3),))
    with pytest.raises(RuntimeError, match="data-dependent expression.*torch.cond") as ours:
        chainrule.export.export(DataDependent(), (chainrule.randn(3),))
    assert type(ours.value).__name__ == type(theirs.value).__name__ == "GuardOnDataDependentSymNode"


def test_the_exported_program_itself_is_not_called():
    program = chainrule.export.export(build(chainrule, "mlp"), (chainrule.randn(2, 3),))
    with pytest.raises(RuntimeError, match="exported_program.module()"):
        program(chainrule.randn(2, 3))
    with pytest.raises(ValueError, match="torch.nn.Module"):
        chainrule.export.export(lambda x: x, (chainrule.randn(2),))
    decomposed = program.run_decompositions()
    assert isinstance(decomposed, chainrule.export.ExportedProgram) and decomposed.graph is not program.graph
    x = chainrule.randn(2, 3)
    np.testing.assert_allclose(decomposed.module()(x).detach().numpy(), program.module()(x).detach().numpy())


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_draft_export_takes_the_example_branch_and_checks_it_at_run_time(lib):
    class TheirDataDependent(lib.nn.Module):
        forward = DataDependent.forward

    program = lib.export.draft_export(TheirDataDependent(), (lib.ones(3),))
    assert not program._report.successful() and len(program._report.failures) == 1
    assert program._report.failures[0].failure_type.name == "DATA_DEPENDENT_ERROR"
    assert program.module()(lib.ones(3)).tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(RuntimeError, match="Runtime assertion failed"):
        program.module()(-lib.ones(3))
    assert lib.export.draft_export(build(lib, "mlp"), (lib.ones(2, 3),))._report.successful()


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_a_registered_dataclass_is_an_input_and_output(lib):
    @dataclasses.dataclass
    class Batch:
        feature: lib.Tensor
        bias: int

    lib.export.register_dataclass(Batch)

    class Shifted(lib.nn.Module):
        def forward(self, batch):
            return Batch(batch.feature * 2 + batch.bias, batch.bias)

    program = lib.export.export(Shifted(), (Batch(lib.ones(2), 3),))
    assert program.graph_signature.user_inputs == ("batch_feature", 3)
    result = program.module()(Batch(lib.ones(2), 3))
    assert isinstance(result, Batch) and result.feature.tolist() == [5.0, 5.0] and result.bias == 3


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_the_module_keeps_the_mode_it_was_exported_in(lib):
    module = lib.export.export(build(lib, "cnn"), (lib.randn(2, 2, 5, 5),)).module()
    assert module.training
    with pytest.raises(NotImplementedError, match=r"Calling eval\(\) is not supported yet"):
        module.eval()
    with pytest.raises(NotImplementedError, match=r"Calling train\(\) is not supported yet"):
        module.train()


def test_run_decompositions_replaces_the_operations_of_the_table():
    theirs, ours = twins("mlp")
    args, _ = inputs("mlp")
    their_program = torch.export.export(theirs, as_lib(torch, args)).run_decompositions()
    table = chainrule.export.default_decompositions()
    assert isinstance(table, chainrule.export.CustomDecompTable) and len(table) == 0
    table[chainrule.nn.functional.linear] = lambda x, weight, bias=None: x @ weight.t() + bias
    table[chainrule.Tensor.relu] = lambda x: x.clamp(min=0)
    program = chainrule.export.export(ours, as_lib(chainrule, args), dynamic_shapes=({0: chainrule.export.Dim("batch")},))
    decomposed = program.run_decompositions(table)
    targets = {node.target for node in decomposed.graph.nodes}
    assert chainrule.nn.functional.linear not in targets and "relu" not in targets and "clamp" in targets
    assert chainrule.nn.functional.linear in {node.target for node in program.graph.nodes}
    args, _ = inputs("mlp", seed=5)
    assert_same(their_program.module()(*as_lib(torch, args)), decomposed.module()(*as_lib(chainrule, args)))
    assert tuple(decomposed.module()(chainrule.randn(7, 3)).shape) == (7, 2)
    assert '"f32[4, 8]"' in str(decomposed)


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_constants_and_non_persistent_buffers_are_named_as_torch_names_them(lib):
    class WithConstants(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.c = lib.ones(3) * 2
            self.register_buffer("nb", lib.ones(3), persistent=False)

        def forward(self, x):
            return x * self.c + self.nb + lib.tensor([1.0, 2.0, 3.0])

    program = lib.export.export(WithConstants(), (lib.ones(3),))
    assert [str(spec) for spec in program.graph_signature.input_specs] == [
        "b_nb: BUFFER target='nb' persistent=False", "c_c: CONSTANT_TENSOR target='c'",
        "c_lifted_tensor_0: CONSTANT_TENSOR target='lifted_tensor_0'", "x: USER_INPUT",
    ]
    assert list(program.constants) == ["c", "lifted_tensor_0", "nb"] and list(program.state_dict) == []
    assert [name for name, _ in program.named_buffers()] == ["nb"]
    assert program.module()(lib.ones(3)).tolist() == [4.0, 5.0, 6.0]


def lstm_tagger(lib):
    class Tagger(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.nn.Embedding(10, 4)
            self.lstm = lib.nn.LSTM(4, 5, batch_first=True)
            self.head = lib.nn.Linear(5, 2)

        def forward(self, ids):
            out, _ = self.lstm(self.embed(ids))
            return self.head(out[:, -1])

    return Tagger()


def test_a_layer_that_cannot_be_traced_through_is_one_node():
    torch.manual_seed(0)
    theirs = lstm_tagger(torch)
    ours = lstm_tagger(chainrule)
    ours.load_state_dict({name: chainrule.tensor(value.detach().numpy()) for name, value in theirs.state_dict().items()})
    ids = np.random.default_rng(0).integers(0, 10, (3, 6))
    program = chainrule.export.export(ours, (chainrule.tensor(ids),), dynamic_shapes=({0: chainrule.export.Dim("batch")},))
    assert [node.target for node in program.graph.nodes if node.op == "call_module"] == ["lstm"]
    their_module = torch.export.export(theirs, (torch.tensor(ids),)).module()
    expected = their_module(torch.tensor(ids))
    got = program.module()(chainrule.tensor(ids))
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    got.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.lstm.weight_hh_l0.grad.numpy(), their_module.lstm.weight_hh_l0.grad.numpy(), rtol=1e-4, atol=1e-6)
    assert tuple(program.module()(chainrule.tensor(np.concatenate([ids, ids]))).shape) == (6, 2)
    with pytest.raises(TypeError, match="calls the layer 'lstm' as one step"):
        chainrule.export.save(program, io.BytesIO())
