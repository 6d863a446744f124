# Source: Vahid Kazemi, "Effective PyTorch", Part I sections "PyTorch basics", "Encapsulate your model
# with Modules", "Broadcasting the good and the ugly", "Take advantage of the overloaded operators" and
# the plain-Python and vectorized parts of "Optimizing runtime with TorchScript":
#   https://github.com/vahidk/EffectivePyTorch  README.md
# Shrunk: the README's snippets run in order as one script; the curve fit runs 300 Adam steps instead
# of 1000, the Module fit 500 SGD steps instead of 10000; the slicing-overhead loop sums 50 rows of a
# [50, 10] matrix instead of 500 and prints the sums instead of the time taken; the table of
# overloaded operators runs on small int and float tensors (the bitwise ones on ints) and prints each
# result; the @torch.jit.script copy of batch_gather is left out (TorchScript), batch_gather_vec runs
# on the CPU (its .cuda() dropped) and is compared with the loop version. Values the README only
# computes are printed.
import numpy as np
import torch

a = torch.tensor(3)
print(a)  # tensor(3)

b = torch.tensor([1, 2])
print(b)  # tensor([1, 2])

c = torch.zeros([2, 2])
print(c)  # tensor([[0., 0.], [0., 0.]])

d = torch.rand([2, 2, 2])
print(d)

x = torch.randn([3, 5])
y = torch.randn([5, 4])
z = x @ y

print(z)

z = x + x
print(z.numpy())

x = torch.tensor(np.random.normal([3, 5]))
print(x)

# Automatic differentiation
x = torch.tensor(1.0, requires_grad=True)

def u(x):
  return x * x

def g(u):
  return -u

dgdx = torch.autograd.grad(g(u(x)), x)[0]
print(dgdx)  # tensor(-2.)

# Curve fitting
# Assuming we know that the desired function is a polynomial of 2nd degree, we
# allocate a vector of size 3 to hold the coefficients and initialize it with
# random noise.
w = torch.tensor(torch.randn([3, 1]), requires_grad=True)

# We use the Adam optimizer with learning rate set to 0.1 to minimize the loss.
opt = torch.optim.Adam([w], 0.1)

def model(x):
    # We define yhat to be our estimate of y.
    f = torch.stack([x * x, x, torch.ones_like(x)], 1)
    yhat = torch.squeeze(f @ w, 1)
    return yhat

def compute_loss(y, yhat):
    # The loss is defined to be the mean squared error distance between our
    # estimate of y and its true value.
    loss = torch.nn.functional.mse_loss(yhat, y)
    return loss

def generate_data():
    # Generate some training data based on the true function
    x = torch.rand(100) * 20 - 10
    y = 5 * x * x + 3
    return x, y

def train_step():
    x, y = generate_data()

    yhat = model(x)
    loss = compute_loss(y, yhat)

    opt.zero_grad()
    loss.backward()
    opt.step()

for _ in range(300):
    train_step()

print(w.detach().numpy())

# Encapsulate your model with Modules
class Net(torch.nn.Module):

  def __init__(self):
    super().__init__()
    self.a = torch.nn.Parameter(torch.rand(1))
    self.b = torch.nn.Parameter(torch.rand(1))

  def forward(self, x):
    yhat = self.a * x + self.b
    return yhat

x = torch.arange(100, dtype=torch.float32)

net = Net()
y = net(x)
print(y[:5])

for p in net.parameters():
    print(p)

x = torch.arange(100, dtype=torch.float32) / 100
y = 5 * x + 3 + torch.rand(100) * 0.3

criterion = torch.nn.MSELoss()
optimizer = torch.optim.SGD(net.parameters(), lr=0.01)

for i in range(500):
  net.zero_grad()
  yhat = net(x)
  loss = criterion(yhat, y)
  loss.backward()
  optimizer.step()

print(net.a, net.b) # Should be close to 5 and 3

class Net(torch.nn.Module):

  def __init__(self):
    super().__init__()
    self.linear = torch.nn.Linear(1, 1)

  def forward(self, x):
    yhat = self.linear(x.unsqueeze(1)).squeeze(1)
    return yhat

net = Net()
for p in net.parameters():
    print(p)
print(net(x)[:3])

model = torch.nn.Sequential(
    torch.nn.Linear(64, 32),
    torch.nn.ReLU(),
    torch.nn.Linear(32, 10),
)
print(model)

# Broadcasting the good and the ugly
a = torch.tensor([[1., 2.], [3., 4.]])
b = torch.tensor([[1.], [2.]])
# c = a + b.repeat([1, 2])
c = a + b

print(c)

a = torch.rand([5, 3, 5])
b = torch.rand([5, 1, 6])

linear = torch.nn.Linear(11, 10)

# concat a and b and apply nonlinearity
tiled_b = b.repeat([1, 3, 1])
c = torch.cat([a, tiled_b], 2)
d = torch.nn.functional.relu(linear(c))

print(d.shape)  # torch.Size([5, 3, 10])

a = torch.rand([5, 3, 5])
b = torch.rand([5, 1, 6])

linear1 = torch.nn.Linear(5, 10)
linear2 = torch.nn.Linear(6, 10)

pa = linear1(a)
pb = linear2(b)
d = torch.nn.functional.relu(pa + pb)

print(d.shape)  # torch.Size([5, 3, 10])

class Merge(torch.nn.Module):
    def __init__(self, in_features1, in_features2, out_features, activation=None):
        super().__init__()
        self.linear1 = torch.nn.Linear(in_features1, out_features)
        self.linear2 = torch.nn.Linear(in_features2, out_features)
        self.activation = activation

    def forward(self, a, b):
        pa = self.linear1(a)
        pb = self.linear2(b)
        c = pa + pb
        if self.activation is not None:
            c = self.activation(c)
        return c

merge = Merge(5, 6, 10, activation=torch.nn.functional.relu)
print(merge(a, b).shape, merge(a, b).sum(), merge(a[0], b[0, 0]).shape)

a = torch.tensor([[1.], [2.]])
b = torch.tensor([1., 2.])
c = torch.sum(a + b)

print(c)

a = torch.tensor([[1.], [2.]])
b = torch.tensor([1., 2.])
c = torch.sum(a + b, 0)

print(c)

# Take advantage of the overloaded operators
x = torch.rand([50, 10])
begin, end = 3, 7
z = x[begin:end]  # z = torch.narrow(x, 0, begin, end-begin)
print(torch.equal(z, torch.narrow(x, 0, begin, end-begin)))

z = torch.zeros([10])

for i in range(50):
    z += x[i]
print(z)

z = torch.zeros([10])
for x_i in torch.unbind(x):
    z += x_i
print(z)

z = torch.sum(x, dim=0)
print(z)

x = torch.tensor([[7., -3.5], [2., 9.]])
y = torch.tensor([[2., 1.5], [-4., 3.]])
for name, z in [
    ("neg", -x),      # z = torch.neg(x)
    ("add", x + y),   # z = torch.add(x, y)
    ("sub", x - y),   # z = torch.sub(x, y)
    ("mul", x * y),   # z = torch.mul(x, y)
    ("div", x / y),   # z = torch.div(x, y)
    ("floor_divide", x // y),  # z = torch.floor_divide(x, y)
    ("remainder", x % y),   # z = torch.remainder(x, y)
    ("pow", x ** y),  # z = torch.pow(x, y)
    ("matmul", x @ y),   # z = torch.matmul(x, y)
    ("gt", x > y),   # z = torch.gt(x, y)
    ("ge", x >= y),  # z = torch.ge(x, y)
    ("lt", x < y),   # z = torch.lt(x, y)
    ("le", x <= y),  # z = torch.le(x, y)
    ("abs", abs(x)),  # z = torch.abs(x)
    ("eq", x == y),  # z = torch.eq(x, y)
    ("ne", x != y),  # z = torch.ne(x, y)
]:
    print(name, z)
print(torch.equal(x // y, torch.floor_divide(x, y)), torch.equal(x % y, torch.remainder(x, y)),
      torch.equal(x ** y, torch.pow(x, y)))

x = torch.tensor([[12, -5], [7, 0]])
y = torch.tensor([[10, 3], [-2, 6]])
for name, z in [
    ("floor_divide", x // y),  # z = torch.floor_divide(x, y)
    ("remainder", x % y),   # z = torch.remainder(x, y)
    ("and", x & y),   # z = torch.bitwise_and(x, y)
    ("or", x | y),   # z = torch.bitwise_or(x, y)
    ("xor", x ^ y),   # z = torch.bitwise_xor(x, y)
    ("not", ~x),      # z = torch.bitwise_not(x)
]:
    print(name, z)
print(torch.equal(x & y, torch.bitwise_and(x, y)), torch.equal(~x, torch.bitwise_not(x)))

x = torch.tensor([1., 2., 3.])
y = torch.tensor([0.5, 0.5, 2.])
x += y
x **= 2
print(x)
m = torch.tensor([True, False, True])
m &= torch.tensor([True, True, False])
m |= torch.tensor([False, False, True])
print(m, ~m)

# Optimizing runtime with TorchScript (the Python and vectorized versions)
def batch_gather(tensor, indices):
    output = []
    for i in range(tensor.size(0)):
        output += [tensor[i][indices[i]]]
    return torch.stack(output)

def batch_gather_vec(tensor, indices):
    shape = list(tensor.shape)
    flat_first = torch.reshape(
        tensor, [shape[0] * shape[1]] + shape[2:])
    offset = torch.reshape(
        torch.arange(shape[0]) * shape[1],
        [shape[0]] + [1] * (len(indices.shape) - 1))
    output = flat_first[indices + offset]
    return output

tensor = torch.randn(4, 5, 3)
indices = torch.randint(0, 5, (4, 2))
print(batch_gather(tensor, indices))
print(torch.equal(batch_gather(tensor, indices), batch_gather_vec(tensor, indices)))
