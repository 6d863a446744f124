# Source: PyTorch tutorials, "Custom Python Operators" (Richard Zou),
#   https://pytorch.org/tutorials/advanced/python_custom_ops.html : torch.library.custom_op wrapping code
#   PyTorch cannot see into, register_fake, register_autograd with
#   setup_context, mutable ops (mutates_args), torch.library.opcheck, and a custom op called under
#   torch.func.vmap. Shrunk: NumPy sin instead of the tutorial's PIL crop; small arrays.
import numpy as np
import torch
from torch import Tensor

@torch.library.custom_op("mylib::numpy_sin", mutates_args=())
def numpy_sin(x: Tensor) -> Tensor:
    x_np = x.cpu().numpy()
    y_np = np.sin(x_np)
    return torch.from_numpy(y_np).to(device=x.device)

@numpy_sin.register_fake
def _(x):
    return torch.empty_like(x)

def setup_context(ctx, inputs, output):
    x, = inputs
    ctx.save_for_backward(x)

def backward(ctx, grad):
    x, = ctx.saved_tensors
    return grad * x.cos()

numpy_sin.register_autograd(backward, setup_context=setup_context)

x = torch.randn(5, requires_grad=True)
y = numpy_sin(x)
print(torch.allclose(y, x.sin()))
y.sum().backward()
print(torch.allclose(x.grad, x.cos()))
print(torch.ops.mylib.numpy_sin(torch.tensor([0.0, 1.0])))

@torch.library.custom_op("mylib::numpy_sin_out", mutates_args={"out"})
def numpy_sin_out(x: Tensor, out: Tensor) -> None:
    assert x.device == out.device
    out.copy_(torch.from_numpy(np.sin(x.numpy())))

x = torch.randn(3)
out = torch.empty(3)
numpy_sin_out(x, out)
print(torch.allclose(out, x.sin()))

examples = [[torch.randn(3)], [torch.randn(2, 3, requires_grad=True)]]
for example in examples:
    torch.library.opcheck(numpy_sin, example)
print("opcheck ok")

@torch.library.custom_op("mylib::mymul", mutates_args=())
def mymul(a: Tensor, b: float) -> Tensor:
    return a * b

@mymul.register_fake
def _(a, b):
    return torch.empty_like(a)

def mul_backward(ctx, grad):
    return grad * ctx.b, None
def mul_setup(ctx, inputs, output):
    ctx.b = inputs[1]
mymul.register_autograd(mul_backward, setup_context=mul_setup)
a = torch.randn(4, requires_grad=True)
mymul(a, 3.0).sum().backward()
print(a.grad)

@torch.library.custom_op("mylib::add_one", mutates_args=())
def add_one(x: Tensor) -> Tensor:
    return x + 1
print(torch.func.vmap(lambda t: add_one(t) * 2)(torch.ones(2, 3)))
