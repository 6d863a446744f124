# Source: PyTorch tutorials, "Jacobians, Hessians, hvp, vhp, and more: composing function transforms"
#   https://github.com/pytorch/tutorials  intermediate_source/jacobians_hessians.py
# Shrunk: D = 8 instead of 16, the timing comparisons (torch.utils.benchmark) left out; the values
# printed where the tutorial asserts on them.
import torch
import torch.nn.functional as F
from functools import partial
from torch.func import hessian, jacfwd, jacrev, jvp, vjp, vmap

torch.manual_seed(0)
torch.set_printoptions(precision=4)


def predict(weight, bias, x):
    return F.linear(x, weight, bias).tanh()


D = 8
weight = torch.randn(D, D)
bias = torch.randn(D)
x = torch.randn(D)  # feature vector


def compute_jac(xp):
    jacobian_rows = [torch.autograd.grad(predict(weight, bias, xp), xp, vec)[0]
                     for vec in unit_vectors]
    return torch.stack(jacobian_rows)


xp = x.clone().requires_grad_()
unit_vectors = torch.eye(D)

jacobian = compute_jac(xp)

print(jacobian.shape)
print(jacobian[0])  # show first row

jacobian = jacrev(predict, argnums=2)(weight, bias, x)
print(jacobian.shape)
print(jacobian[0])

ft_jacobian, ft_bias = jacrev(predict, argnums=(0, 1))(weight, bias, x)
# Note that the weight and bias use all the inputs x for their gradient
print(ft_jacobian.shape, ft_bias.shape)

# compute the jacobian with respect to the bias vector
ref_jacobian = compute_jac(xp)
print(torch.allclose(jacobian, ref_jacobian))

jacfwd_jacobian = jacfwd(predict, argnums=2)(weight, bias, x)
print(torch.allclose(jacfwd_jacobian, jacobian, atol=1e-6))

# Hessian computation with functorch.hessian
hess_api = hessian(predict, argnums=2)(weight, bias, x)
hess_fwdfwd = jacfwd(jacfwd(predict, argnums=2), argnums=2)(weight, bias, x)
hess_revrev = jacrev(jacrev(predict, argnums=2), argnums=2)(weight, bias, x)
print(hess_api.shape, torch.allclose(hess_api, hess_fwdfwd, atol=1e-6), torch.allclose(hess_api, hess_revrev, atol=1e-6))
print(hess_api[0, 0])

# Batch Jacobian and Batch Hessian
batch_size = 4
Din = 6
Dout = 5

weight = torch.randn(Dout, Din)
bias = torch.randn(Dout)
x = torch.randn(batch_size, Din)

compute_batch_jacobian = vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))
batch_jacobian0 = compute_batch_jacobian(weight, bias, x)
print(batch_jacobian0.shape)


def predict_with_output_summed(weight, bias, x):
    return predict(weight, bias, x).sum(0)


batch_jacobian1 = jacrev(predict_with_output_summed, argnums=2)(weight, bias, x).movedim(1, 0)
print(torch.allclose(batch_jacobian0, batch_jacobian1, atol=1e-6))

compute_batch_hessian = vmap(hessian(predict, argnums=2), in_dims=(None, None, 0))
batch_hess = compute_batch_hessian(weight, bias, x)
print(batch_hess.shape)


# Computing Hessian-vector products
def hvp(f, primals, tangents):
    return jvp(grad_of(f), primals, tangents)[1]


def grad_of(f):
    return torch.func.grad(f)


def f(x):
    return x.sin().sum()


x = torch.randn(2048)
tangent = torch.randn(2048)

result = hvp(f, (x,), (tangent,))
print(torch.allclose(result, -x.sin() * tangent, atol=1e-6), result[:4])


def hvp_revrev(f, primals, tangents):
    _, vjp_fn = vjp(torch.func.grad(f), *primals)
    return vjp_fn(*tangents)


result_hvp_revrev = hvp_revrev(f, (x,), (tangent,))
print(torch.allclose(result, result_hvp_revrev[0], atol=1e-6))
