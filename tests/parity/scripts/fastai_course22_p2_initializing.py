# Source: Jeremy Howard, fast.ai "Practical Deep Learning for Coders" 2022 part 2, lesson 17 notebook
# "Initialization": the exploding/vanishing matmul chains, variance/covariance, Xavier and Kaiming scales,
# model.apply(init_weights) with init.kaiming_normal_, input normalization as a BatchTransformCB,
# GeneralRelu (leaky_relu, -=, clamp_max_), LSUV with a forward hook, LayerNorm and BatchNorm by hand
# (register_buffer, lerp_), then nn.BatchNorm2d.   https://github.com/fastai/course22p2
# nbs/11_initializing.ipynb (the miniai library code it imports, from tests/parity/scripts/miniai/:
# learner.py, activations.py, conv.py/datasets.py; conv() of the then miniai/conv.py is written below).
# Shrunk: Fashion-MNIST (HF datasets) is replaced by 32 training and 32 test 1x16x16 images (noise around
# ten random templates) in TensorDatasets, bs 16 not 1024 (256 in the last section: 8), num_workers 0;
# every fit(3)/fit(2) is fit(1); the sampling loops run 20 and 200 times, not 100 and 10000; the few
# fastcore helpers, torcheval's MulticlassAccuracy/Mean and fastprogress are minimal versions (miniai/_standins.py; the
# progress table printed as text); the IPython memory helpers (clean_ipython_hist/clean_tb/clean_mem) are
# left out; where the notebook plots, the plotted values are printed instead.
from __future__ import annotations
import math,random,torch,numpy as np
from functools import partial

import torch.nn.functional as F
from torch import tensor,nn,optim
from torch.utils.data import DataLoader,TensorDataset,default_collate
from torch.nn import init

from miniai.conv import *
from miniai.learner import *
from miniai.activations import *
from miniai._standins import fc, MulticlassAccuracy

# miniai's LRFinderCB plots losses against lrs in cleanup_fit, and ActivationStats plots its stats (both
# plots dropped in the miniai/ package): printed here, and lr_find made to use this LRFinderCB
class LRFinderCB(LRFinderCB):
    def cleanup_fit(self, learn):
        print('lr finder:', ' '.join(f'{lr:.2e}:{l:.3f}' for lr,l in zip(self.lrs, self.losses)))

@fc.patch
def lr_find(self:Learner, gamma=1.3, max_mult=3, start_lr=1e-5, max_epochs=10):
    self.fit(max_epochs, lr=start_lr, cbs=LRFinderCB(gamma=gamma, max_mult=max_mult))

class ActivationStats(ActivationStats):
    def color_dim(self, figsize=(11,5)):
        for h in self: print(get_hist(h).sum(1))

    def dead_chart(self, figsize=(11,5)):
        for h in self: print(get_min(h))

    def plot_stats(self, figsize=(10,4)):
        for h in self:
            for i in 0,1: print(['Means','Stdevs'][i], torch.stack(h.stats[i]))

# --- conv of miniai/conv.py as it was then (the package has the later one, of miniai/init.py)
def conv(ni, nf, ks=3, stride=2, act=True):
    res = nn.Conv2d(ni, nf, stride=stride, kernel_size=ks, padding=ks//2)
    if act: res = nn.Sequential(res, nn.ReLU())
    return res

torch.set_printoptions(precision=2, linewidth=140, sci_mode=False)
torch.manual_seed(1)

set_seed(42)

# --- stand-in for load_dataset("fashion_mnist") with TF.to_tensor (pixels in [0,1])
templates = torch.rand(10, 1, 16, 16)
def fake_fashion(n):
    y = torch.randint(0, 10, (n,))
    return (0.7*templates[y] + 0.3*torch.rand(n, 1, 16, 16)) * (torch.rand(n, 1, 16, 16) > 0.5), y
dsd = {'train': fake_fashion(32), 'test': fake_fashion(32)}

bs = 16
tds = {k: TensorDataset(x, y) for k,(x,y) in dsd.items()}

dls = DataLoaders.from_dd(tds, bs, num_workers=0)
dt = dls.train
xb,yb = next(iter(dt))
print((xb.shape,yb[:10]))

def get_model():
    return nn.Sequential(conv(1 ,8), conv(8 ,16), conv(16,32), conv(32,64),
                         conv(64,10, act=False), nn.Flatten()).to(def_device)

MomentumLearner(get_model(), dls, F.cross_entropy, cbs=[DeviceCB()]).lr_find(gamma=1.1, start_lr=1e-2)

metrics = MetricsCB(accuracy=MulticlassAccuracy())
astats = ActivationStats(fc.risinstance(nn.ReLU))
cbs = [DeviceCB(), metrics, ProgressCB(plot=True), astats]
learn = MomentumLearner(get_model(), dls, F.cross_entropy, lr=0.2, cbs=cbs)
learn.fit(1)
astats.color_dim()
astats.plot_stats()

## Glorot/Xavier init
x = torch.randn(200, 100)
for i in range(50): x = x @ torch.randn(100,100)
print(x[0:5,0:5])

x = torch.randn(200, 100)
for i in range(50): x = x @ (torch.randn(100,100) * 0.01)
print(x[0:5,0:5])

x = torch.randn(200, 100)
for i in range(50): x = x @ (torch.randn(100,100) * 0.1)
print(x[0:5,0:5])

### Variance and standard deviation
t = torch.tensor([1.,2.,4.,18])
m = t.mean(); print(m)
print((t-m).mean())
print((t-m).pow(2).mean())
print((t-m).abs().mean())
print((t-m).pow(2).mean().sqrt())
print(((t-m).pow(2).mean(), (t*t).mean() - (m*m)))

### Covariance
print(t)
# `u` is twice `t`, plus a bit of randomness
u = t*2
u *= torch.randn_like(t)/10+0.95
print(u)

prod = (t-t.mean())*(u-u.mean()); print(prod)
print(prod.mean())

v = torch.randn_like(t)
print(v)
print(((t-t.mean())*(v-v.mean())).mean())

cov = (t*v).mean() - t.mean()*v.mean(); print(cov)
print(cov / (t.std() * v.std()))
print(x.std())

### Xavier init derivation
x = torch.randn(100)
print((x.mean(), x.std()))

mean,sqr = 0.,0.
for i in range(20):
    x = torch.randn(100)
    a = torch.randn(512, 100)
    y = a @ x
    mean += y.mean().item()
    sqr  += y.pow(2).mean().item()
print((mean/20,sqr/20))

mean,sqr = 0.,0.
for i in range(200):
    x = torch.randn(1)
    a = torch.randn(1)
    y = a*x
    mean += y.item()
    sqr  += y.pow(2).item()
print((mean/200,sqr/200))

## Kaiming/He init
### Background
x = torch.randn(200, 100)
y = torch.randn(200)

from math import sqrt

w1 = torch.randn(100,50) / sqrt(100)
b1 = torch.zeros(50)
w2 = torch.randn(50,1) / sqrt(50)
b2 = torch.zeros(1)

def lin(x, w, b): return x @ w + b

l1 = lin(x, w1, b1)
print((l1.mean(),l1.std()))

def relu(x): return x.clamp_min(0.)

l2 = relu(l1)
print((l2.mean(),l2.std()))

x = torch.randn(200, 100)
for i in range(50): x = relu(x @ (torch.randn(100,100) * 0.1))
print(x[0:5,0:5])

x = torch.randn(200, 100)
for i in range(50): x = relu(x @ (torch.randn(100,100) * sqrt(2/100)))
print(x[0:5,0:5])

### Applying an init function
model = get_model()
model.apply(lambda m: print(type(m).__name__));

def init_weights(m):
    if isinstance(m, (nn.Conv1d,nn.Conv2d,nn.Conv3d)): init.kaiming_normal_(m.weight)

model.apply(init_weights);

MomentumLearner(model, dls, F.cross_entropy, cbs=[DeviceCB()]).lr_find()

set_seed(42)
learn = MomentumLearner(get_model().apply(init_weights), dls, F.cross_entropy, lr=0.2, cbs=cbs)
learn.fit(1)
astats.color_dim()
astats.plot_stats()

## Input normalization
xmean,xstd = xb.mean(),xb.std()
print((xmean,xstd))

from miniai.init import BatchTransformCB   # the notebook's cells as exported to miniai/init.py (also below)

def _norm(b): return (b[0]-xmean)/xstd,b[1]
norm = BatchTransformCB(_norm)

set_seed(42)
learn = MomentumLearner(get_model().apply(init_weights), dls, F.cross_entropy, lr=0.2, cbs=cbs+[norm])
learn.fit(1)
astats.color_dim()
astats.plot_stats()

tds = {k: TensorDataset((x-xmean)/xstd, y) for k,(x,y) in dsd.items()}
dls = DataLoaders.from_dd(tds, bs, num_workers=0)
xb,yb = next(iter(dls.train))
print((xb.mean(),xb.std()))

## General ReLU
from miniai.init import GeneralRelu

def plot_func(f, start=-5., end=5., steps=100):
    x = torch.linspace(start, end, steps)
    print(f(x)[::9])

plot_func(GeneralRelu(leak=0.1, sub=0.4))
plot_func(GeneralRelu(leak=0.1, sub=0.4, maxv=2.))

def conv(ni, nf, ks=3, stride=2, act=nn.ReLU):
    res = nn.Conv2d(ni, nf, stride=stride, kernel_size=ks, padding=ks//2)
    if act: res = nn.Sequential(res, act())
    return res

def get_model(act=nn.ReLU, nfs=None):
    if nfs is None: nfs = [1,8,16,32,64]
    layers = [conv(nfs[i], nfs[i+1], act=act) for i in range(len(nfs)-1)]
    return nn.Sequential(*layers, conv(nfs[-1],10, act=None), nn.Flatten()).to(def_device)

from miniai.init import init_weights

act_gr = partial(GeneralRelu, leak=0.1, sub=0.4)
astats = ActivationStats(fc.risinstance(GeneralRelu))
cbs = [DeviceCB(), metrics, ProgressCB(plot=True), astats]
iw = partial(init_weights, leaky=0.1)

model = get_model(act_gr).apply(iw)

set_seed(42)
learn = MomentumLearner(model, dls, F.cross_entropy, lr=0.2, cbs=cbs)
learn.fit(1)
astats.color_dim()
astats.plot_stats()
astats.dead_chart()

## LSUV
def _lsuv_stats(hook, mod, inp, outp):
    acts = to_cpu(outp)
    hook.mean = acts.mean()
    hook.std = acts.std()

def lsuv_init(model, m, m_in, xb):
    h = Hook(m, _lsuv_stats)
    with torch.no_grad():
        while model(xb) is not None and (abs(h.std-1)>1e-3 or abs(h.mean)>1e-3):
            m_in.bias -= h.mean
            m_in.weight.data /= h.std
    h.remove()

model = get_model(act_gr)
relus = [o for o in model.modules() if isinstance(o, GeneralRelu)]
convs = [o for o in model.modules() if isinstance(o, nn.Conv2d)]

for ms in zip(relus,convs): print(ms)
for ms in zip(relus,convs): lsuv_init(model, *ms, xb.to(def_device))
for ms in zip(relus,convs): print(ms[1].weight.std(), ms[1].bias[:4])

set_seed(42)
learn = MomentumLearner(model, dls, F.cross_entropy, lr=0.2, cbs=cbs)
learn.fit(1)
astats.plot_stats()

## Batch Normalization
### LayerNorm
class LayerNorm(nn.Module):
    def __init__(self, dummy, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.mult = nn.Parameter(tensor(1.))
        self.add  = nn.Parameter(tensor(0.))

    def forward(self, x):
        m = x.mean((1,2,3), keepdim=True)
        v = x.var ((1,2,3), keepdim=True)
        x = (x-m) / ((v+self.eps).sqrt())
        return x*self.mult + self.add

from miniai.init import conv, get_model

set_seed(42)
model = get_model(act_gr, norm=LayerNorm).apply(iw)
learn = MomentumLearner(model, dls, F.cross_entropy, lr=0.2, cbs=cbs)
learn.fit(1)

### BatchNorm
class BatchNorm(nn.Module):
    def __init__(self, nf, mom=0.1, eps=1e-5):
        super().__init__()
        # NB: pytorch bn mom is opposite of what you'd expect
        self.mom,self.eps = mom,eps
        self.mults = nn.Parameter(torch.ones (nf,1,1))
        self.adds  = nn.Parameter(torch.zeros(nf,1,1))
        self.register_buffer('vars',  torch.ones(1,nf,1,1))
        self.register_buffer('means', torch.zeros(1,nf,1,1))

    def update_stats(self, x):
        m = x.mean((0,2,3), keepdim=True)
        v = x.var ((0,2,3), keepdim=True)
        self.means.lerp_(m, self.mom)
        self.vars.lerp_ (v, self.mom)
        return m,v

    def forward(self, x):
        if self.training:
            with torch.no_grad(): m,v = self.update_stats(x)
        else: m,v = self.means,self.vars
        x = (x-m) / (v+self.eps).sqrt()
        return x*self.mults + self.adds

model = get_model(act_gr, norm=BatchNorm).apply(iw)
set_seed(42)
learn = MomentumLearner(model, dls, F.cross_entropy, lr=0.4, cbs=cbs)
learn.fit(1)
print(model[0][1].means.flatten(), model[0][1].vars.flatten())

## Towards 90%...
dls = DataLoaders.from_dd(tds, 8, num_workers=0)

set_seed(42)
model = get_model(act_gr, norm=nn.BatchNorm2d).apply(iw)
learn = MomentumLearner(model, dls, F.cross_entropy, lr=0.2, cbs=cbs)
learn.fit(1)

learn = MomentumLearner(model, dls, F.cross_entropy, lr=0.05, cbs=cbs)
learn.fit(1)
print(model[0][1].running_mean, model[0][1].num_batches_tracked)
