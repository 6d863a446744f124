"""autograd.Variable and only_inputs: the names of pre-0.4 PyTorch code, kept as PyTorch keeps them."""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule.autograd import Variable

OLD_TUTORIAL = """
from {lib}.autograd import Variable

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = Variable(torch.Tensor([1.0]), requires_grad=True)

def forward(x):
    return x * w

def loss(x, y):
    y_pred = forward(x)
    return (y_pred - y) * (y_pred - y)

for epoch in range(10):
    for x_val, y_val in zip(x_data, y_data):
        l = loss(x_val, y_val)
        l.backward()
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()

x = Variable(torch.Tensor([[1.0], [2.0], [3.0]]))
y = Variable(torch.Tensor([[2.0], [4.0], [6.0]]))
model = torch.nn.Linear(1, 1)
with torch.no_grad():
    model.weight.fill_(0.5)
    model.bias.fill_(0.0)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for epoch in range(50):
    pred = model(x)
    fit = torch.nn.functional.mse_loss(pred, y, reduction="sum")
    optimizer.zero_grad()
    fit.backward()
    optimizer.step()
result = (w.data.numpy().copy(), model(Variable(torch.Tensor([[4.0]]))).data.numpy().copy())
"""


def run_tutorial(lib_name, lib):
    namespace = {"torch": lib}
    exec(OLD_TUTORIAL.format(lib=lib_name), namespace)
    return namespace["result"]


def test_an_old_variable_tutorial_runs_unchanged_and_matches_pytorch():
    ours = run_tutorial("chainrule", chainrule)
    theirs = run_tutorial("torch", torch)
    for mine, their in zip(ours, theirs):
        np.testing.assert_allclose(mine, their, rtol=1e-5)


def test_variable_returns_a_tensor_sharing_memory_as_pytorch():
    data = chainrule.ones(2)
    variable = Variable(data, requires_grad=True)
    assert type(variable) is chainrule.Tensor and variable.requires_grad and variable.is_leaf
    assert variable is not data and not data.requires_grad
    variable.data._array[0] = 5.0
    assert data[0].item() == 5.0, "shares memory, as torch's does"
    assert isinstance(chainrule.zeros(1), Variable) and isinstance(torch.zeros(1), torch.autograd.Variable)
    assert Variable().shape == (0,) and tuple(torch.autograd.Variable().shape) == (0,)


@pytest.mark.filterwarnings("ignore:volatile was removed:UserWarning")  # both warn before refusing volatile + requires_grad
def test_volatile_warns_and_gives_no_grad_as_pytorch():
    for lib in (chainrule, torch):
        with pytest.warns(UserWarning, match="volatile was removed and now has no effect"):
            assert not lib.autograd.Variable(lib.ones(2), volatile=True).requires_grad
        with pytest.raises(ValueError, match="can't be volatile and require_grad"):
            lib.autograd.Variable(lib.ones(2), requires_grad=True, volatile=True)
        with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
            lib.autograd.Variable([1.0])


def test_only_inputs_is_accepted_as_pytorch():
    for lib in (chainrule, torch):
        a = lib.ones(2, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            (gradient,) = lib.autograd.grad((a * 2).sum(), a, only_inputs=True)
        assert gradient.tolist() == [2.0, 2.0]
        with pytest.warns(FutureWarning, match="only_inputs argument is deprecated and is ignored now"):
            lib.autograd.grad((a * 3).sum(), a, only_inputs=False)
