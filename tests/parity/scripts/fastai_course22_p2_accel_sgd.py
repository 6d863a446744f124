# Source: Jeremy Howard, fast.ai "Practical Deep Learning for Coders" 2022 part 2, lesson 18 notebook
# "Accelerated SGD": SGD (with its reg_step for weight decay), Momentum, RMSProp and Adam written as optimizer classes (state
# kept as attributes of the parameters), the optimizer's dir/repr/state/param_groups, torch.optim
# lr_scheduler (the scheduler names, CosineAnnealingLR's base_lrs/get_last_lr over 110 steps), the
# BatchSchedCB/EpochSchedCB/RecorderCB callbacks with CosineAnnealingLR and OneCycleLR under AdamW.
#   https://github.com/fastai/course22p2  nbs/12_accel_sgd.ipynb (the miniai library code it imports, from
#   tests/parity/scripts/miniai/: learner.py, activations.py, init.py, conv.py/datasets.py, sgd.py).
# Shrunk: Fashion-MNIST (HF datasets) is replaced by 32 training and 32 test 1x16x16 images (noise around
# ten random templates, normalized with the notebook's xmean/xstd) in TensorDatasets, bs 16 not 1024,
# num_workers 0; the four optimizer fits run 1 epoch, not 3 (the scheduler fits keep their 3 and 5); the
# few fastcore helpers, torcheval's MulticlassAccuracy/Mean and fastprogress are minimal versions
# (miniai/_standins.py; the progress table printed as text); where the notebook plots (momentum curves, color_dim, the
# recorded lrs), the plotted values are printed instead. The three AdamW fits skip validation
# (valid=False): the notebook's conv layers keep a bias before nn.BatchNorm2d (isinstance of the class
# is False), whose gradient is zero up to rounding (~1e-9, either sign); AdamW's eps=1e-8 turns that noise
# into +-lr steps of arbitrary sign, which BatchNorm's running_mean follows, so the eval losses depend on
# float summation order, not on the code.
from __future__ import annotations
import math,random,torch,numpy as np
from functools import partial

import torch.nn.functional as F
from torch import tensor,nn,optim
from torch.utils.data import DataLoader,TensorDataset,default_collate
from torch.nn import init
from torch.optim import lr_scheduler

from miniai.conv import *
from miniai.learner import *
from miniai.activations import *
from miniai.init import *
from miniai._standins import fc, MulticlassAccuracy

# miniai's ActivationStats.color_dim plots the histograms (the plot is dropped in miniai/activations.py): printed here
class ActivationStats(ActivationStats):
    def color_dim(self, figsize=(11,5)):
        for h in self: print(get_hist(h).sum(1))


torch.set_printoptions(precision=2, linewidth=140, sci_mode=False)
torch.manual_seed(1)

set_seed(42)

bs = 16
xmean,xstd = 0.28, 0.35

# --- stand-in for load_dataset("fashion_mnist") with (TF.to_tensor(o)-xmean)/xstd
templates = torch.rand(10, 1, 16, 16)
def fake_fashion(n):
    y = torch.randint(0, 10, (n,))
    return (0.7*templates[y] + 0.3*torch.rand(n, 1, 16, 16)) * (torch.rand(n, 1, 16, 16) > 0.5), y
tds = {k: TensorDataset((x-xmean)/xstd, y) for k,(x,y) in {'train': fake_fashion(32), 'test': fake_fashion(32)}.items()}
dls = DataLoaders.from_dd(tds, bs, num_workers=0)

metrics = MetricsCB(accuracy=MulticlassAccuracy())
astats = ActivationStats(fc.risinstance(GeneralRelu))
cbs = [DeviceCB(), metrics, ProgressCB(plot=True), astats]
act_gr = partial(GeneralRelu, leak=0.1, sub=0.4)
iw = partial(init_weights, leaky=0.1)
lrf_cbs = [DeviceCB(), LRFinderCB()]

## Optimizers
### SGD
class SGD:
    def __init__(self, params, lr, wd=0.):
        params = list(params)
        fc.store_attr()
        self.i = 0

    def step(self):
        with torch.no_grad():
            for p in self.params:
                self.reg_step(p)
                self.opt_step(p)
        self.i +=1

    def opt_step(self, p): p -= p.grad * self.lr
    def reg_step(self, p):
        if self.wd != 0: p *= 1 - self.lr*self.wd

    def zero_grad(self):
        for p in self.params: p.grad.data.zero_()

set_seed(42)
model = get_model(act_gr, norm=nn.BatchNorm2d).apply(iw)
learn = TrainLearner(model, dls, F.cross_entropy, lr=0.4, cbs=cbs, opt_func=SGD)
learn.fit(1)

### Momentum
xs = torch.linspace(-4, 4, 100)
ys = 1 - (xs/3) ** 2 + torch.randn(100) * 0.1

betas = [0.5,0.7,0.9,0.99]
for beta in betas:
    avg,res = 0,[]
    for yi in ys:
        avg = beta*avg + (1-beta)*yi
        res.append(avg)
    print(f'beta={beta}', torch.stack(res)[::11])

class Momentum(SGD):
    def __init__(self, params, lr, wd=0., mom=0.9):
        super().__init__(params, lr=lr, wd=wd)
        self.mom=mom

    def opt_step(self, p):
        if not hasattr(p, 'grad_avg'): p.grad_avg = torch.zeros_like(p.grad)
        p.grad_avg = p.grad_avg*self.mom + p.grad*(1-self.mom)
        p -= self.lr * p.grad_avg

set_seed(42)
model = get_model(act_gr, norm=nn.BatchNorm2d).apply(iw)
learn = TrainLearner(model, dls, F.cross_entropy, lr=1.5, cbs=cbs, opt_func=Momentum)
learn.fit(1)
astats.color_dim()

### RMSProp
class RMSProp(SGD):
    def __init__(self, params, lr, wd=0., sqr_mom=0.99, eps=1e-5):
        super().__init__(params, lr=lr, wd=wd)
        self.sqr_mom,self.eps = sqr_mom,eps

    def opt_step(self, p):
        if not hasattr(p, 'sqr_avg'): p.sqr_avg = p.grad**2
        p.sqr_avg = p.sqr_avg*self.sqr_mom + p.grad**2*(1-self.sqr_mom)
        p -= self.lr * p.grad/(p.sqr_avg.sqrt() + self.eps)

set_seed(42)
model = get_model(act_gr, norm=nn.BatchNorm2d).apply(iw)
learn = TrainLearner(model, dls, F.cross_entropy, lr=3e-3, cbs=cbs, opt_func=RMSProp)
learn.fit(1)
astats.color_dim()

### Adam
class Adam(SGD):
    def __init__(self, params, lr, wd=0., beta1=0.9, beta2=0.99, eps=1e-5):
        super().__init__(params, lr=lr, wd=wd)
        self.beta1,self.beta2,self.eps = beta1,beta2,eps

    def opt_step(self, p):
        if not hasattr(p, 'avg'): p.avg = torch.zeros_like(p.grad.data)
        if not hasattr(p, 'sqr_avg'): p.sqr_avg = torch.zeros_like(p.grad.data)
        p.avg = self.beta1*p.avg + (1-self.beta1)*p.grad
        unbias_avg = p.avg / (1 - (self.beta1**(self.i+1)))
        p.sqr_avg = self.beta2*p.sqr_avg + (1-self.beta2)*(p.grad**2)
        unbias_sqr_avg = p.sqr_avg / (1 - (self.beta2**(self.i+1)))
        p -= self.lr * unbias_avg / (unbias_sqr_avg + self.eps).sqrt()

set_seed(42)
model = get_model(act_gr, norm=nn.BatchNorm2d).apply(iw)
learn = TrainLearner(model, dls, F.cross_entropy, lr=6e-3, cbs=cbs, opt_func=Adam)
learn.fit(1)

## Schedulers
print(' '.join(o for o in dir(lr_scheduler) if o[0].isupper() and o[1].islower()))
print(' '.join(filter(lambda x: x[0].isupper() and x[1].islower(), dir(lr_scheduler))))

learn = TrainLearner(get_model(), dls, F.cross_entropy, lr=6e-3, cbs=[DeviceCB(), SingleBatchCB()])
learn.fit(1)

opt = learn.opt
print(' '.join(o for o in dir(opt) if o[0]!='_'))
print(opt)

param = next(iter(learn.model.parameters()))
st = opt.state[param]
print(st)
print(len(opt.param_groups))
pg = opt.param_groups[0]
print(list(pg))

sched = lr_scheduler.CosineAnnealingLR(opt, 100)
print(sched.base_lrs)
print(sched.get_last_lr())

def sched_lrs(sched, steps):
    lrs = [sched.get_last_lr()]
    for i in range(steps):
        sched.optimizer.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    print(' '.join(f'{lr[0]:.6f}' for lr in lrs[::5]))

sched_lrs(sched, 110)

### Scheduler callbacks
from miniai.sgd import BaseSchedCB, BatchSchedCB   # the notebook's cells, as exported to miniai/sgd.py

class HasLearnCB(Callback):
    def before_fit(self, learn): self.learn = learn
    def after_fit(self, learn): self.learn = None

class RecorderCB(Callback):
    def __init__(self, **d): self.d = d
    def before_fit(self, learn):
        self.recs = {k:[] for k in self.d}
        self.pg = learn.opt.param_groups[0]

    def after_batch(self, learn):
        if not learn.training: return
        for k,v in self.d.items():
            self.recs[k].append(v(self))

    def plot(self):
        for k,v in self.recs.items():
            print(k, ' '.join(f'{o:.6f}' for o in v))

def _lr(cb): return cb.pg['lr']

print(len(dls.train))

tmax = 3 * len(dls.train)
sched = partial(lr_scheduler.CosineAnnealingLR, T_max=tmax)

set_seed(42)
model = get_model(act_gr, norm=nn.BatchNorm2d).apply(iw)
rec = RecorderCB(lr=_lr)
xtra = [BatchSchedCB(sched),rec]
learn = TrainLearner(model, dls, F.cross_entropy, lr=2e-2, cbs=cbs+xtra, opt_func=optim.AdamW)
learn.fit(3, valid=False)
rec.plot()

from miniai.sgd import EpochSchedCB

sched = partial(lr_scheduler.CosineAnnealingLR, T_max=3)
set_seed(42)
xtra = [EpochSchedCB(sched),rec]
model = get_model(act_gr, norm=nn.BatchNorm2d).apply(iw)
learn = TrainLearner(model, dls, F.cross_entropy, lr=2e-2, cbs=cbs+xtra, opt_func=optim.AdamW)
learn.fit(3, valid=False)
rec.plot()

### 1cycle training
def _beta1(cb): return cb.pg['betas'][0]
rec = RecorderCB(lr=_lr, mom=_beta1)

set_seed(42)
lr,epochs = 6e-2,5
model = get_model(act_gr, norm=nn.BatchNorm2d).apply(iw)
tmax = epochs * len(dls.train)
sched = partial(lr_scheduler.OneCycleLR, max_lr=lr, total_steps=tmax)
xtra = [BatchSchedCB(sched), rec]
learn = TrainLearner(model, dls, F.cross_entropy, lr=lr, cbs=cbs+xtra, opt_func=optim.AdamW)
learn.fit(epochs, valid=False)
rec.plot()
st = learn.opt.state[next(iter(model.parameters()))]
print(list(st), st['step'], st['exp_avg'].flatten()[:4])
