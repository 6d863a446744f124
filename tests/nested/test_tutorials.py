"""The code of PyTorch's "Getting Started with Nested Tensors" tutorial and torch.nested docs
page, run with ``torch`` being PyTorch and then chainrule: the same prints (up to the names of
the graph's nodes, and the numbers of the ragged sizes, counted in each library's own order)."""
import re

import pytest
import torch

import chainrule
import chainrule.nested

pytestmark = pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")


def tutorial(torch, jagged):
    """What the tutorial and the docs page do, printing as they do."""
    F = torch.nn.functional
    nt = torch.nested.nested_tensor([torch.arange(12).reshape(2, 6), torch.arange(18).reshape(3, 6)], dtype=torch.float, device="cpu")
    print(f"{nt=}")
    padded_out_tensor = torch.nested.to_padded_tensor(nt, padding=0.0)
    print(f"{padded_out_tensor=}")
    print(f"nt is nested: {nt.is_nested}, padded_out_tensor is nested: {padded_out_tensor.is_nested}")
    print(f"First dimension: {nt.size(0)}, last dimension: {nt.size(-1)}, nt.dim()={nt.dim()}")
    print(nt.unbind())
    a, b = torch.arange(3), torch.arange(5) + 3
    print(list(torch.nested.nested_tensor([a, b], layout=jagged)))
    nt = torch.nested.nested_tensor([a, b], layout=jagged, dtype=torch.float32, requires_grad=True)
    print(nt.unbind(), nt.requires_grad, nt.is_leaf, nt.dtype)
    nt = torch.nested.nested_tensor_from_jagged(torch.arange(50.0).reshape(10, 5), torch.tensor([0, 2, 3, 6, 10]))
    print(nt.dim(), nt.size(0), nt.size(-1), nt.offsets(), nt.values().shape, nt.unbind()[2])
    nt = torch.nested.narrow(torch.arange(60.0).reshape(3, 5, 4), dim=1, start=0, length=torch.tensor([3, 2, 5]), layout=jagged)
    print(nt.is_contiguous(), nt.unbind()[1])
    nt = nt.contiguous()
    print(nt.is_contiguous(), nt.offsets(), torch.nested.to_padded_tensor(nt, padding=-1.0)[1])
    nt = torch.nested.nested_tensor([torch.arange(6.0).reshape(2, 3), torch.arange(9.0).reshape(3, 3)], layout=jagged, requires_grad=True)
    out = F.softmax((nt.sin() * 2 + nt).relu() @ (torch.arange(12.0).reshape(3, 4) / 10), dim=-1)
    print(out.unbind()[0])
    torch.nested.to_padded_tensor(out, 0.0).pow(2).sum().backward()
    print(nt.grad.unbind()[1])
    print(nt.view(nt.size(0), -1, 3, 1).unbind()[0].shape, nt.sum(dim=1), nt.mean(-1).unbind())
    strided = torch.nested.nested_tensor([torch.arange(6.0).reshape(2, 3), torch.arange(9.0).reshape(3, 3)])
    print(torch.bmm(strided, strided.transpose(1, 2)))
    print(F.linear(strided, torch.ones(2, 3)))
    mask = torch.tensor([[True, False, True], [False, False, True]])
    print(torch.nested.masked_select(torch.arange(6.0).reshape(2, 3), mask).unbind())
    try:
        nt.size()
        strided.size(1)
    except RuntimeError as error:
        print(f"RuntimeError {'irregular' in str(error)}")


def prints(torch, jagged):
    """Prints of the layouts' corner cases: dtypes, empty components, graphs, a transposed and a narrowed tensor."""
    print(torch.nested.nested_tensor([torch.arange(3.0), torch.arange(2.0)], dtype=torch.float64))
    print(torch.nested.nested_tensor([torch.arange(3), torch.zeros(0, dtype=torch.int64)]))
    print(torch.nested.nested_tensor([torch.zeros(0, 2), torch.ones(1, 2)], requires_grad=True))
    print(torch.nested.nested_tensor([torch.ones(2, 2)], requires_grad=True).sin())
    print(torch.nested.nested_tensor([torch.arange(3.0), torch.arange(2.0)], dtype=torch.float64, layout=jagged))
    print(torch.nested.nested_tensor([torch.arange(3), torch.arange(2)], layout=jagged))
    nt = torch.nested.nested_tensor([torch.ones(2, 2), torch.ones(1, 2)], layout=jagged)
    print(nt.transpose(1, 2), nt.transpose(1, 2).shape, nt.transpose(1, 2).unbind(), nt.transpose(1, 2).contiguous())
    print(len(nt), nt.numel(), nt.ndim, nt.device, nt.is_cuda, nt.requires_grad, nt.is_leaf)
    print(torch.nested.narrow(torch.arange(12.0).reshape(3, 4), 1, 1, 2, layout=jagged))


def normalized(text):
    text = re.sub(r"grad_fn=<[^>]+>", "grad_fn=<node>", text.replace("torch.", "chainrule."))
    return re.sub(r"\bj\d+", "jN", re.sub(r",\s+grad_fn", ", grad_fn", text))


@pytest.mark.parametrize("code", [tutorial, prints])
def test_prints_are_pytorchs(code, capsys):
    code(torch, torch.jagged)
    theirs = capsys.readouterr().out
    code(chainrule, chainrule.nested.jagged)
    ours = capsys.readouterr().out
    assert normalized(ours).splitlines() == normalized(theirs).splitlines()
