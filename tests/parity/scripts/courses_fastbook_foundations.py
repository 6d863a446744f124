# Source: Jeremy Howard & Sylvain Gugger, "Deep Learning for Coders with fastai and PyTorch", chapter 17
# "A Neural Net from the Foundations": matmul by loops, elementwise, broadcasting and einsum; init scales;
# relu/lin/mse forward and hand-written backward; the Relu/Lin/Mse classes, LayerFunction, MyRelu
# (autograd.Function), LinearLayer and Model as nn.Module.
#   https://github.com/fastai/fastbook  17_foundations.ipynb
# Shrunk: the loop matmul multiplies 5x28 by 28x10 (not 5x784 by 784x10); the %time/%timeit cells print
# the products instead of timings; the cells that raise print their error; fastai's own Module variant is
# left out (not PyTorch). Added (the book only says so in prose): the hand-written gradients are compared
# with autograd's, as the fastai course (part 2, 03_backprop) does. The two broadcast errors print
# PyTorch's words only: chainrule's message starts with them and then names the operation and shapes.
import torch
from torch import tensor

def matmul(a,b):
    ar,ac = a.shape # n_rows * n_cols
    br,bc = b.shape
    assert ac==br
    c = torch.zeros(ar, bc)
    for i in range(ar):
        for j in range(bc):
            for k in range(ac): c[i,j] += a[i,k] * b[k,j]
    return c

m1 = torch.randn(5,28)
m2 = torch.randn(28,10)

t1=matmul(m1, m2)
print(t1)
t2=m1@m2
print(t2)

a = tensor([10., 6, -4])
b = tensor([2., 8, 7])
print(a + b)
print(a < b)
print((a < b).all(), (a==b).all())
print((a + b).mean().item())

m = tensor([[1., 2, 3], [4,5,6], [7,8,9]])
print(m*m)

n = tensor([[1., 2, 3], [4,5,6]])
try:
    m*n
except RuntimeError as e:
    print("RuntimeError:", str(e).split(" (")[0])

def matmul(a,b):
    ar,ac = a.shape
    br,bc = b.shape
    assert ac==br
    c = torch.zeros(ar, bc)
    for i in range(ar):
        for j in range(bc): c[i,j] = (a[i] * b[:,j]).sum()
    return c

t3 = matmul(m1,m2)
print(t3)

a = tensor([10., 6, -4])
print(a > 0)

m = tensor([[1., 2, 3], [4,5,6], [7,8,9]])
print((m - 5) / 2.73)

c = tensor([10.,20,30])
m = tensor([[1., 2, 3], [4,5,6], [7,8,9]])
print(m.shape,c.shape)
print(m + c)
print(c.expand_as(m))

t = c.expand_as(m)
print(t.storage())
print(t.stride(), t.shape)
print(c + m)

c = tensor([10.,20,30])
m = tensor([[1., 2, 3], [4,5,6]])
print(c+m)

c = tensor([10.,20])
m = tensor([[1., 2, 3], [4,5,6]])
try:
    c+m
except RuntimeError as e:
    print("RuntimeError:", str(e).split(" (")[0])

c = tensor([10.,20,30])
m = tensor([[1., 2, 3], [4,5,6], [7,8,9]])
c = c.unsqueeze(1)
print(m.shape,c.shape)
print(c+m)
t = c.expand_as(m)
print(t.storage())
print(t.stride(), t.shape)

c = tensor([10.,20,30])
print(c.shape, c.unsqueeze(0).shape,c.unsqueeze(1).shape)
print(c.shape, c[None,:].shape,c[:,None].shape)
print(c[None].shape,c[...,None].shape)

def matmul(a,b):
    ar,ac = a.shape
    br,bc = b.shape
    assert ac==br
    c = torch.zeros(ar, bc)
    for i in range(ar):
#       c[i,j] = (a[i,:]          * b[:,j]).sum() # previous
        c[i]   = (a[i  ].unsqueeze(-1) * b).sum(dim=0)
    return c

t4 = matmul(m1,m2)
print(t4)

def matmul(a,b): return torch.einsum('ik,kj->ij', a, b)

t5 = matmul(m1,m2)
print(t5)
print(torch.einsum('ij->ji', m1[:2, :3]))
print(torch.einsum('bi,ij,bj->b', m1, m2, t5))

def lin(x, w, b): return x @ w + b

x = torch.randn(200, 100)
y = torch.randn(200)

w1 = torch.randn(100,50)
b1 = torch.zeros(50)
w2 = torch.randn(50,1)
b2 = torch.zeros(1)

l1 = lin(x, w1, b1)
print(l1.shape)
print(l1.mean(), l1.std())

x = torch.randn(200, 100)
for i in range(50): x = x @ torch.randn(100,100)
print(x[0:5,0:5])

x = torch.randn(200, 100)
for i in range(50): x = x @ (torch.randn(100,100) * 0.01)
print(x[0:5,0:5])

x = torch.randn(200, 100)
for i in range(50): x = x @ (torch.randn(100,100) * 0.1)
print(x[0:5,0:5])
print(x.std())

x = torch.randn(200, 100)
y = torch.randn(200)

from math import sqrt
w1 = torch.randn(100,50) / sqrt(100)
b1 = torch.zeros(50)
w2 = torch.randn(50,1) / sqrt(50)
b2 = torch.zeros(1)

l1 = lin(x, w1, b1)
print(l1.mean(),l1.std())

def relu(x): return x.clamp_min(0.)

l2 = relu(l1)
print(l2.mean(),l2.std())

x = torch.randn(200, 100)
for i in range(50): x = relu(x @ (torch.randn(100,100) * 0.1))
print(x[0:5,0:5])

x = torch.randn(200, 100)
for i in range(50): x = relu(x @ (torch.randn(100,100) * sqrt(2/100)))
print(x[0:5,0:5])

x = torch.randn(200, 100)
y = torch.randn(200)

w1 = torch.randn(100,50) * sqrt(2 / 100)
b1 = torch.zeros(50)
w2 = torch.randn(50,1) * sqrt(2 / 50)
b2 = torch.zeros(1)

l1 = lin(x, w1, b1)
l2 = relu(l1)
print(l2.mean(), l2.std())

def model(x):
    l1 = lin(x, w1, b1)
    l2 = relu(l1)
    l3 = lin(l2, w2, b2)
    return l3

out = model(x)
print(out.shape)

def mse(output, targ): return (output.squeeze(-1) - targ).pow(2).mean()

loss = mse(out, y)
print(loss)

def mse_grad(inp, targ):
    # grad of loss with respect to output of previous layer
    inp.g = 2. * (inp.squeeze() - targ).unsqueeze(-1) / inp.shape[0]

def relu_grad(inp, out):
    # grad of relu with respect to input activations
    inp.g = (inp>0).float() * out.g

def lin_grad(inp, out, w, b):
    # grad of matmul with respect to input
    inp.g = out.g @ w.t()
    w.g = inp.t() @ out.g
    b.g = out.g.sum(0)

def forward_and_backward(inp, targ):
    # forward pass:
    l1 = inp @ w1 + b1
    l2 = relu(l1)
    out = l2 @ w2 + b2
    # we don't actually need the loss in backward!
    loss = mse(out, targ)

    # backward pass:
    mse_grad(out, targ)
    lin_grad(l2, out, w2, b2)
    relu_grad(l1, l2)
    lin_grad(inp, l1, w1, b1)

forward_and_backward(x, y)
print(w1.g.shape, w1.g[:2, :4])
print(b1.g[:6])
print(w2.g[:6].squeeze(), b2.g)

# (added) the same gradients from autograd
xt2 = x.clone().requires_grad_(True)
w12, b12, w22, b22 = [p.clone().requires_grad_(True) for p in (w1, b1, w2, b2)]
def lin2(x, w, b): return x @ w + b
loss2 = mse(lin2(relu(lin2(xt2, w12, b12)), w22, b22), y)
loss2.backward()
for g, p in zip([w1.g, b1.g, w2.g, b2.g, x.g], [w12, b12, w22, b22, xt2]):
    print(torch.allclose(g, p.grad, atol=1e-6), (g - p.grad).abs().max().item() < 1e-5)

class Relu():
    def __call__(self, inp):
        self.inp = inp
        self.out = inp.clamp_min(0.)
        return self.out

    def backward(self): self.inp.g = (self.inp>0).float() * self.out.g

class Lin():
    def __init__(self, w, b): self.w,self.b = w,b

    def __call__(self, inp):
        self.inp = inp
        self.out = inp@self.w + self.b
        return self.out

    def backward(self):
        self.inp.g = self.out.g @ self.w.t()
        self.w.g = self.inp.t() @ self.out.g
        self.b.g = self.out.g.sum(0)

class Mse():
    def __call__(self, inp, targ):
        self.inp = inp
        self.targ = targ
        self.out = (inp.squeeze() - targ).pow(2).mean()
        return self.out

    def backward(self):
        x = (self.inp.squeeze()-self.targ).unsqueeze(-1)
        self.inp.g = 2.*x/self.targ.shape[0]

class Model():
    def __init__(self, w1, b1, w2, b2):
        self.layers = [Lin(w1,b1), Relu(), Lin(w2,b2)]
        self.loss = Mse()

    def __call__(self, x, targ):
        for l in self.layers: x = l(x)
        return self.loss(x, targ)

    def backward(self):
        self.loss.backward()
        for l in reversed(self.layers): l.backward()

model = Model(w1, b1, w2, b2)
loss = model(x, y)
print(loss)
model.backward()
print(torch.allclose(w1.g, w12.grad, atol=1e-6), w2.g[:4].squeeze(), b2.g)

class LayerFunction():
    def __call__(self, *args):
        self.args = args
        self.out = self.forward(*args)
        return self.out

    def forward(self):  raise Exception('not implemented')
    def bwd(self):      raise Exception('not implemented')
    def backward(self): self.bwd(self.out, *self.args)

class Relu(LayerFunction):
    def forward(self, inp): return inp.clamp_min(0.)
    def bwd(self, out, inp): inp.g = (inp>0).float() * out.g

class Lin(LayerFunction):
    def __init__(self, w, b): self.w,self.b = w,b

    def forward(self, inp): return inp@self.w + self.b

    def bwd(self, out, inp):
        inp.g = out.g @ self.w.t()
        self.w.g = inp.t() @ self.out.g
        self.b.g = out.g.sum(0)

class Mse(LayerFunction):
    def forward (self, inp, targ): return (inp.squeeze() - targ).pow(2).mean()
    def bwd(self, out, inp, targ):
        inp.g = 2*(inp.squeeze()-targ).unsqueeze(-1) / targ.shape[0]

model = Model(w1, b1, w2, b2)
loss = model(x, y)
print(loss)
model.backward()
print(torch.allclose(w1.g, w12.grad, atol=1e-6), b1.g[:4], b2.g)

from torch.autograd import Function

class MyRelu(Function):
    @staticmethod
    def forward(ctx, i):
        result = i.clamp_min(0.)
        ctx.save_for_backward(i)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        i, = ctx.saved_tensors
        return grad_output * (i>0).float()

# (added) MyRelu used as the book's exercise asks
xr = tensor([-1., 0.5, 2., -3.]).requires_grad_()
yr = MyRelu.apply(xr)
print(yr)
(yr * tensor([1., 2., 3., 4.])).sum().backward()
print(xr.grad)

import torch.nn as nn

class LinearLayer(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in) * sqrt(2/n_in))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x): return x @ self.weight.t() + self.bias

lin = LinearLayer(10,2)
p1,p2 = lin.parameters()
print(p1.shape,p2.shape)
print(lin(torch.ones(3, 10)))

class Model(nn.Module):
    def __init__(self, n_in, nh, n_out):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_in,nh), nn.ReLU(), nn.Linear(nh,n_out))
        self.loss = mse

    def forward(self, x, targ): return self.loss(self.layers(x).squeeze(), targ)

model = Model(100, 50, 1)
loss = model(x, y)
print(model)
print(loss)
loss.backward()
print(model.layers[0].weight.grad.shape, model.layers[2].bias.grad)
