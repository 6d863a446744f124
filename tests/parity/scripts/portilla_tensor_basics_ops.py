# Source: Jose Portilla / Pierian Data, "PyTorch for Deep Learning with Python Bootcamp",
#   01-PyTorch-Basics/00-Tensor-Basics.ipynb and 01-PyTorch-Basics/01-Tensor-Operations.ipynb
#   (as kept in https://github.com/apsinghAnalytics/PyTorchForDeepLearningBootCamp)
# Shrunk: the two notebooks' cells run one after another as a script, notebook cell results
# printed; torch.empty's uninitialized values and torch.__version__ are not printed; the
# RuntimeError the notebook shows for torch.mm on a 3-D tensor is caught and printed.
import torch
import numpy as np

# ---------------- 00-Tensor-Basics ----------------
arr = np.array([1, 2, 3, 4, 5])
print(arr)
print(arr.dtype)
print(type(arr))

x = torch.from_numpy(arr)
print(x)
print(x.dtype)
print(type(x).__name__)
print(x.type())
print(torch.as_tensor(arr))

arr2 = np.arange(0., 12.).reshape(4, 3)
print(arr2)
x2 = torch.from_numpy(arr2)
print(x2)
print(x2.type())

# Copying vs. sharing
arr = np.arange(0, 5)
t = torch.from_numpy(arr)
print(t)
arr[2] = 77
print(t)

arr = np.arange(0, 5)
t = torch.tensor(arr)
print(t)
arr[2] = 77
print(t)

arr = np.arange(0, 5)
t = torch.as_tensor(arr)
arr[0] = -1
print(t)

# Class constructors
data = np.array([1, 2, 3])
a = torch.Tensor(data)
print(a, a.type())
b = torch.tensor(data)
print(b, b.type())
c = torch.tensor(data, dtype=torch.long)
print(c, c.type())

x = torch.empty(4, 3)
print(x.shape, x.dtype)

x = torch.zeros(4, 3, dtype=torch.int64)
print(x)

x = torch.arange(0, 18, 2).reshape(3, 3)
print(x)
x = torch.linspace(0, 18, 12).reshape(3, 4)
print(x)

x = torch.tensor([1, 2, 3, 4])
print(x)
print(x.dtype)
print(x.type())

x = torch.FloatTensor([5, 6, 7])
print(x)
print(x.dtype)
print(x.type())

x = torch.tensor([8, 9, -3], dtype=torch.int32)
print(x)
print(x.dtype)
print(x.type())

print('Old:', x.type())
x = x.type(torch.int64)
print('New:', x.type())
print(x.type(torch.FloatTensor))
print(x.type('torch.DoubleTensor'))

x = torch.rand(4, 3)
print(x)
x = torch.randn(4, 3)
print(x)
x = torch.randint(0, 5, (4, 3))
print(x)

x = torch.zeros(2, 5)
print(x)
x2 = torch.randint_like(x, low=0, high=11)
print(x2)
print(torch.rand_like(x))
print(torch.randn_like(x))
x3 = torch.ones_like(x2)
print(x3)
print(torch.zeros_like(x2, dtype=torch.int32))

torch.manual_seed(42)
x = torch.rand(2, 3)
print(x)
torch.manual_seed(42)
x = torch.rand(2, 3)
print(x)

print(x.shape)
print(x.size())
print(x.device)
print(x.layout)

# ---------------- 01-Tensor-Operations ----------------
x = torch.arange(9).reshape(3, 3)
print(x)
print(x[:, 1])
print(x[:, 1:])

x = torch.arange(10)
print(x)
print(x.view(2, 5))
print(x.view(5, 2))
print(x)

z = x.view(2, 5)
x[0] = 234
print(z)

print(x.view(2, -1))
print(x.view(-1, 5))
print(x.view_as(z))

a = torch.tensor([1, 2, 3], dtype=torch.float)
b = torch.tensor([4, 5, 6], dtype=torch.float)
print(a + b)
print(torch.add(a, b))

result = torch.empty(3)
torch.add(a, b, out=result)
print(result)

a.add_(b)
print(a)

# the notebook's tables of arithmetic, monomial, trigonometric and summary operations
a = torch.tensor([1, 2, 3], dtype=torch.float)
b = torch.tensor([4, 5, 6], dtype=torch.float)
print(a.sub(b), a.mul(b), a.div(b), b.fmod(a), a.pow(b), b % a)
c = torch.tensor([-12.34, 0.5, 7.25])
print(torch.abs(c), torch.reciprocal(c), torch.sqrt(torch.abs(c)))
print(torch.log(a), torch.exp(a), torch.trunc(c), torch.frac(c))
print(torch.sin(a), torch.cos(a), torch.tan(a))
d = torch.tensor([-0.5, 0.0, 0.75])
print(torch.asin(d), torch.acos(d), torch.atan(d))
print(torch.sinh(a), torch.cosh(a), torch.tanh(a))
print(torch.sum(a), torch.mean(a), torch.max(a), torch.min(a))
print(torch.max(a, b - 2.5))
ia = torch.tensor([7, -7, 9])
ib = torch.tensor([2, 2, -4])
print(torch.div(ia, ib), torch.div(ia, ib, rounding_mode='floor'), torch.div(ia, ib, rounding_mode='trunc'))
print(ia // ib, ia % ib, torch.fmod(ia, ib), torch.remainder(ia, ib))

print(torch.add(a, b).sum())
print(a.mul(b))

print(a.mul(b))
print()
print(a.dot(b))
print(torch.dot(a, b), b.dot(a))

a = torch.tensor([[0, 2, 4], [1, 3, 5]], dtype=torch.float)
b = torch.tensor([[6, 7], [8, 9], [10, 11]], dtype=torch.float)
print('a: ', a.size())
print('b: ', b.size())
print('a x b: ', torch.mm(a, b).size())
print(torch.mm(a, b))
print(a.mm(b))
print(a @ b)

t1 = torch.randn(2, 3, 4)
print(t1)
t2 = torch.randn(4, 5)
print(torch.matmul(t1, t2))
print(torch.matmul(t1, t2).shape)
print(t1.matmul(t2).sum(), (t1 @ t2).mean())

try:
    print(torch.mm(t1, t2).size())
except RuntimeError as e:
    print('RuntimeError:', e)

x = torch.tensor([2., 5., 8., 14.])
print(x.norm())
print(torch.norm(torch.arange(6.).reshape(2, 3)))

x = torch.ones(3, 7)
print(x.numel())
print(torch.numel(x))
print(len(x))


def mse(t1, t2):
    diff = t1 - t2
    return torch.sum(diff * diff) / diff.numel()


print(mse(torch.tensor([1., 2., 3.]), torch.tensor([1.5, 2., 2.])))
