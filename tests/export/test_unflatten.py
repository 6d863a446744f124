"""chainrule.export.unflatten: the exported module's hierarchy back, as torch.export.unflatten gives it."""
import io

import numpy as np
import pytest
import torch

import chainrule
import chainrule.export


def blocks(lib):
    class Block(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(3, 3)

        def forward(self, x):
            return self.fc(x).relu()

    class TwoBlocks(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = Block()
            self.b = Block()
            self.scale = lib.nn.Parameter(lib.ones(3))

        def forward(self, x):
            return self.b(self.a(self.a(x))) * self.scale

    return TwoBlocks()


def twins():
    torch.manual_seed(0)
    theirs = blocks(torch)
    ours = blocks(chainrule)
    ours.load_state_dict({name: chainrule.tensor(value.detach().numpy()) for name, value in theirs.state_dict().items()})
    return theirs, ours


def test_unflattened_modules_compute_what_torch_s_do():
    theirs, ours = twins()
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    their_module = torch.export.unflatten(torch.export.export(theirs, (torch.tensor(x),)))
    our_module = chainrule.export.unflatten(chainrule.export.export(ours, (chainrule.tensor(x),)))
    assert type(our_module).__name__ == "UnflattenedModule" and type(our_module.a).__name__ == "InterpreterModule"
    assert [name for name, _ in our_module.named_parameters()] == [name for name, _ in their_module.named_parameters()]
    assert our_module.a.fc.weight is ours.a.fc.weight
    for their_part, our_part in ((their_module, our_module), (their_module.a, our_module.a), (their_module.b.fc, our_module.b.fc)):
        np.testing.assert_allclose(our_part(chainrule.tensor(x)).detach().numpy(), their_part(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert [node.target for node in our_module.graph.nodes if node.op == "call_module"] == ["_guards_fn", "a", "a", "b"]


def test_module_call_graph_lists_the_modules_called():
    theirs, ours = twins()
    their_entries = torch.export.export(theirs, (torch.ones(2, 3),)).module_call_graph
    our_entries = chainrule.export.export(ours, (chainrule.ones(2, 3),)).module_call_graph
    assert [entry.fqn for entry in our_entries] == [entry.fqn for entry in their_entries] == ["", "a", "a.fc", "b", "b.fc"]
    assert our_entries[0].signature.forward_arg_names == ["x"] and our_entries[1].signature is None


def test_a_loaded_program_unflattens_too():
    _, ours = twins()
    buffer = io.BytesIO()
    chainrule.export.save(chainrule.export.export(ours, (chainrule.ones(2, 3),)), buffer)
    buffer.seek(0)
    unflattened = chainrule.export.unflatten(chainrule.export.load(buffer))
    x = chainrule.randn(2, 3)
    np.testing.assert_allclose(unflattened.a(x).detach().numpy(), ours.a(x).detach().numpy(), rtol=1e-6)
    with pytest.raises(NotImplementedError, match="flat_args_adapter"):
        chainrule.export.unflatten(chainrule.export.export(ours, (chainrule.ones(2, 3),)), flat_args_adapter=object())
