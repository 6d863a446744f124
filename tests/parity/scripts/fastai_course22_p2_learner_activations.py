# Source: Jeremy Howard, fast.ai "Practical Deep Learning for Coders" 2022 part 2, lessons 15/16 notebooks
# "Learner" (the basic Learner, callbacks run by order, Cancel*Exception, Metric/Accuracy, MetricsCB,
# DeviceCB, TrainCB, ProgressCB, the with_cbs Learner, TrainLearner, MomentumLearner, LRFinderCB by hand
# and with ExponentialLR, lr_find) and "Activation stats" (set_seed, a SequentialModel recording means and
# stds, register_forward_hook, the Hook/Hooks classes with remove, HooksCallback, histc histograms,
# get_hist/get_min, ActivationStats).   https://github.com/fastai/course22p2  nbs/09_learner.ipynb and
# nbs/10_activations.ipynb (the miniai helpers they use, and their cells as exported to miniai/learner.py and
# activations.py, are imported from tests/parity/scripts/miniai/).
# Shrunk: Fashion-MNIST (HF datasets) is replaced by 64 training and 32 test 1x28x28 images (noise around
# ten random templates) in TensorDatasets, bs 32 not 1024, num_workers 0 not 4; the few fastcore helpers
# (store_attr, L, noop, filter_ex, risinstance, patch), torcheval's MulticlassAccuracy/Mean and
# fastprogress's master_bar/progress_bar are minimal versions (miniai/_standins.py; the progress table is
# printed as text, the loss graph is printed as numbers); where the notebooks plot (stats, histograms,
# dead charts, LR finder), the plotted values are printed instead.
from __future__ import annotations
import math,random,torch,numpy as np
from functools import partial
from contextlib import contextmanager

from torch import optim,nn,tensor
import torch.nn.functional as F
from torch.utils.data import DataLoader,TensorDataset

from miniai.conv import to_device, get_dls, DataLoaders, def_device
from miniai._standins import fc, MulticlassAccuracy, Mean, master_bar, progress_bar

torch.set_printoptions(precision=2, linewidth=140, sci_mode=False)
torch.manual_seed(1)

## Learner
# --- stand-in for load_dataset("fashion_mnist") with TF.to_tensor (pixels in [0,1])
templates = torch.rand(10, 1, 28, 28)
def fake_fashion(n):
    y = torch.randint(0, 10, (n,))
    return (0.7*templates[y] + 0.3*torch.rand(n, 1, 28, 28)) * (torch.rand(n, 1, 28, 28) > 0.2), y
dsd = {'train': fake_fashion(64), 'test': fake_fashion(32)}

bs = 32
tds = {k: TensorDataset(torch.flatten(x, 1), y) for k,(x,y) in dsd.items()}

dls = DataLoaders.from_dd(tds, bs, num_workers=0)
dt = dls.train
xb,yb = next(iter(dt))
print((xb.shape,yb[:10]))

class Learner:
    def __init__(self, model, dls, loss_func, lr, opt_func=optim.SGD): fc.store_attr()

    def one_batch(self):
        self.xb,self.yb = to_device(self.batch)
        self.preds = self.model(self.xb)
        self.loss = self.loss_func(self.preds, self.yb)
        if self.model.training:
            self.loss.backward()
            self.opt.step()
            self.opt.zero_grad()
        with torch.no_grad(): self.calc_stats()

    def calc_stats(self):
        acc = (self.preds.argmax(dim=1)==self.yb).float().sum()
        self.accs.append(acc)
        n = len(self.xb)
        self.losses.append(self.loss*n)
        self.ns.append(n)

    def one_epoch(self, train):
        self.model.training = train
        dl = self.dls.train if train else self.dls.valid
        for self.num,self.batch in enumerate(dl): self.one_batch()
        n = sum(self.ns)
        print(self.epoch, self.model.training, sum(self.losses).item()/n, sum(self.accs).item()/n)

    def fit(self, n_epochs):
        self.accs,self.losses,self.ns = [],[],[]
        self.model.to(def_device)
        self.opt = self.opt_func(self.model.parameters(), self.lr)
        self.n_epochs = n_epochs
        for self.epoch in range(n_epochs):
            self.one_epoch(True)
            with torch.no_grad(): self.one_epoch(False)

m,nh = 28*28,50
model = nn.Sequential(nn.Linear(m,nh), nn.ReLU(), nn.Linear(nh,10))

learn = Learner(model, dls, F.cross_entropy, lr=0.2)
learn.fit(1)

## Basic Callbacks Learner
# the notebook's cells below that miniai exports unchanged are imported from the miniai/ package
from miniai.learner import CancelFitException, CancelBatchException, CancelEpochException, Callback, run_cbs

class CompletionCB(Callback):
    def before_fit(self, learn): self.count = 0
    def after_batch(self, learn): self.count += 1
    def after_fit(self, learn): print(f'Completed {self.count} batches')

cbs = [CompletionCB()]
run_cbs(cbs, 'before_fit')
run_cbs(cbs, 'after_batch')
run_cbs(cbs, 'after_fit')

class Learner():
    def __init__(self, model, dls, loss_func, lr, cbs, opt_func=optim.SGD): fc.store_attr()

    def one_batch(self):
        self.preds = self.model(self.batch[0])
        self.loss = self.loss_func(self.preds, self.batch[1])
        if self.model.training:
            self.loss.backward()
            self.opt.step()
            self.opt.zero_grad()

    def one_epoch(self, train):
        self.model.train(train)
        self.dl = self.dls.train if train else self.dls.valid
        try:
            self.callback('before_epoch')
            for self.iter,self.batch in enumerate(self.dl):
                try:
                    self.callback('before_batch')
                    self.one_batch()
                    self.callback('after_batch')
                except CancelBatchException: pass
            self.callback('after_epoch')
        except CancelEpochException: pass

    def fit(self, n_epochs):
        self.n_epochs = n_epochs
        self.epochs = range(n_epochs)
        self.opt = self.opt_func(self.model.parameters(), self.lr)
        try:
            self.callback('before_fit')
            for self.epoch in self.epochs:
                self.one_epoch(True)
                self.one_epoch(False)
            self.callback('after_fit')
        except CancelFitException: pass

    def callback(self, method_nm): run_cbs(self.cbs, method_nm, self)

m,nh = 28*28,50
def get_model(): return nn.Sequential(nn.Linear(m,nh), nn.ReLU(), nn.Linear(nh,10))

model = get_model()
learn = Learner(model, dls, F.cross_entropy, lr=0.2, cbs=[CompletionCB()])
learn.fit(1)

from miniai.learner import SingleBatchCB

learn = Learner(get_model(), dls, F.cross_entropy, lr=0.2, cbs=[SingleBatchCB(), CompletionCB()])
learn.fit(1)

## Metrics
class Metric:
    def __init__(self): self.reset()
    def reset(self): self.vals,self.ns = [],[]
    def add(self, inp, targ=None, n=1):
        self.last = self.calc(inp, targ)
        self.vals.append(self.last)
        self.ns.append(n)
    @property
    def value(self):
        ns = tensor(self.ns)
        return (tensor(self.vals)*ns).sum()/ns.sum()
    def calc(self, inps, targs): return inps

class Accuracy(Metric):
    def calc(self, inps, targs): return (inps==targs).float().mean()

acc = Accuracy()
acc.add(tensor([0, 1, 2, 0, 1, 2]), tensor([0, 1, 1, 2, 1, 0]))
acc.add(tensor([1, 1, 2, 0, 1]), tensor([0, 1, 1, 2, 1]))
print(acc.value)

loss = Metric()
loss.add(0.6, n=32)
loss.add(0.9, n=2)
print((loss.value, round((0.6*32+0.9*2)/(32+2), 2)))

## Some callbacks
metric = MulticlassAccuracy()
metric.update(tensor([0, 2, 1, 3]), tensor([0, 1, 2, 3]))
print(metric.compute())
metric.reset()
print(metric.compute())

from miniai.learner import to_cpu, MetricsCB, DeviceCB

model = get_model()
metrics = MetricsCB(accuracy=MulticlassAccuracy())
learn = Learner(model, dls, F.cross_entropy, lr=0.2, cbs=[DeviceCB(), metrics])
learn.fit(1)

## Flexible learner
# (the lesson's cb_ctx Learner, which miniai's with_cbs Learner below replaced: kept inline)
class Learner():
    def __init__(self, model, dls=(0,), loss_func=F.mse_loss, lr=0.1, cbs=None, opt_func=optim.SGD):
        cbs = fc.L(cbs)
        fc.store_attr()

    @contextmanager
    def cb_ctx(self, nm):
        try:
            self.callback(f'before_{nm}')
            yield
            self.callback(f'after_{nm}')
        except globals()[f'Cancel{nm.title()}Exception']: pass
        finally: self.callback(f'cleanup_{nm}')

    def one_epoch(self, train):
        self.model.train(train)
        self.dl = self.dls.train if train else self.dls.valid
        with self.cb_ctx('epoch'):
            for self.iter,self.batch in enumerate(self.dl):
                with self.cb_ctx('batch'):
                    self.predict()
                    self.get_loss()
                    if self.training:
                        self.backward()
                        self.step()
                        self.zero_grad()

    def fit(self, n_epochs=1, train=True, valid=True, cbs=None, lr=None):
        cbs = fc.L(cbs)
        # `add_cb` and `rm_cb` were added in lesson 18
        for cb in cbs: self.cbs.append(cb)
        try:
            self.n_epochs = n_epochs
            self.epochs = range(n_epochs)
            self.opt = self.opt_func(self.model.parameters(), self.lr if lr is None else lr)
            with self.cb_ctx('fit'):
                for self.epoch in self.epochs:
                    if train: self.one_epoch(True)
                    if valid: torch.no_grad()(self.one_epoch)(False)
        finally:
            for cb in cbs: self.cbs.remove(cb)

    def __getattr__(self, name):
        if name in ('predict','get_loss','backward','step','zero_grad'): return partial(self.callback, name)
        raise AttributeError(name)

    def callback(self, method_nm): run_cbs(self.cbs, method_nm, self)

    @property
    def training(self): return self.model.training

from miniai.learner import TrainCB, ProgressCB

model = get_model()
metrics = MetricsCB(accuracy=MulticlassAccuracy())
cbs = [TrainCB(), DeviceCB(), metrics, ProgressCB(plot=True)]
learn = Learner(model, dls, F.cross_entropy, lr=0.2, cbs=cbs)
learn.fit(2)

## Updated versions since the lesson
from miniai.learner import with_cbs, Learner

model = get_model()

metrics = MetricsCB(accuracy=MulticlassAccuracy())
cbs = [TrainCB(), DeviceCB(), metrics, ProgressCB(plot=True)]
learn = Learner(model, dls, F.cross_entropy, lr=0.2, cbs=cbs)
learn.fit(1)

## TrainLearner and MomentumLearner
from miniai.learner import TrainLearner, MomentumLearner

# NB: No TrainCB
metrics = MetricsCB(accuracy=MulticlassAccuracy())
cbs = [DeviceCB(), metrics, ProgressCB(plot=True)]
learn = MomentumLearner(get_model(), dls, F.cross_entropy, lr=0.1, cbs=cbs)
learn.fit(1)

## LRFinderCB
class LRFinderCB(Callback):
    def __init__(self, lr_mult=1.3): fc.store_attr()

    def before_fit(self, learn):
        self.lrs,self.losses = [],[]
        self.min = math.inf

    def after_batch(self, learn):
        if not learn.training: raise CancelEpochException()
        self.lrs.append(learn.opt.param_groups[0]['lr'])
        loss = to_cpu(learn.loss)
        self.losses.append(loss)
        if loss < self.min: self.min = loss
        if loss > self.min*3: raise CancelFitException()
        for g in learn.opt.param_groups: g['lr'] *= self.lr_mult

lrfind = LRFinderCB()
cbs = [DeviceCB(), lrfind]
learn = MomentumLearner(get_model(), dls, F.cross_entropy, lr=1e-4, cbs=cbs)
learn.fit(1)
print(lrfind.lrs, torch.stack(lrfind.losses))

from torch.optim.lr_scheduler import ExponentialLR

from miniai.learner import LRFinderCB
# miniai's LRFinderCB plots losses against lrs in cleanup_fit (the plot is dropped in miniai/learner.py): printed here
class LRFinderCB(LRFinderCB):
    def cleanup_fit(self, learn):
        print('lr finder:', ' '.join(f'{lr:.2e}:{l:.3f}' for lr,l in zip(self.lrs, self.losses)))

cbs = [DeviceCB()]
learn = MomentumLearner(get_model(), dls, F.cross_entropy, lr=1e-5, cbs=cbs)
learn.fit(3, cbs=LRFinderCB())

@fc.patch
def lr_find(self:Learner, gamma=1.3, max_mult=3, start_lr=1e-5, max_epochs=10):
    self.fit(max_epochs, lr=start_lr, cbs=LRFinderCB(gamma=gamma, max_mult=max_mult))

MomentumLearner(get_model(), dls, F.cross_entropy, cbs=cbs).lr_find()

## Activation stats
from miniai.activations import set_seed

tds = {k: TensorDataset(x, y) for k,(x,y) in dsd.items()}
dls = DataLoaders.from_dd(tds, bs, num_workers=0)
dt = dls.train

### Baseline
def conv(ni, nf, ks=3, act=True):
    res = nn.Conv2d(ni, nf, stride=2, kernel_size=ks, padding=ks//2)
    if act: res = nn.Sequential(res, nn.ReLU())
    return res

def cnn_layers():
    return [
        conv(1 ,8, ks=5),        #14x14
        conv(8 ,16),             #7x7
        conv(16,32),             #4x4
        conv(32,64),             #2x2
        conv(64,10, act=False),  #1x1
        nn.Flatten()]

metrics = MetricsCB(accuracy=MulticlassAccuracy())
cbs = [TrainCB(), DeviceCB(), metrics, ProgressCB(plot=True)]

def fit(model, epochs=1, xtra_cbs=None):
    learn = Learner(model, dls, loss_func=F.cross_entropy, lr=0.6, cbs=cbs+fc.L(xtra_cbs))
    learn.fit(epochs)
    return learn

set_seed(1)
learn = fit(nn.Sequential(*cnn_layers()))

## Hooks
### Manual insertion
class SequentialModel(nn.Module):
    def __init__(self, *layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.act_means = [[] for _ in layers]
        self.act_stds  = [[] for _ in layers]

    def __call__(self, x):
        for i,l in enumerate(self.layers):
            x = l(x)
            self.act_means[i].append(to_cpu(x).mean())
            self.act_stds [i].append(to_cpu(x).std ())
        return x

    def __iter__(self): return iter(self.layers)

set_seed(1)
model = SequentialModel(*cnn_layers())
learn = fit(model)

for l in model.act_means: print(torch.stack(l))
for l in model.act_stds: print(torch.stack(l))

### Pytorch hooks
set_seed(1)
model = nn.Sequential(*cnn_layers())

act_means = [[] for _ in model]
act_stds  = [[] for _ in model]

def append_stats(i, mod, inp, outp):
    act_means[i].append(to_cpu(outp).mean())
    act_stds [i].append(to_cpu(outp).std())

for i,m in enumerate(model): m.register_forward_hook(partial(append_stats, i))

fit(model)

for o in act_means: print(torch.stack(o))

### Hook class
from miniai.activations import Hook

def append_stats(hook, mod, inp, outp):
    if not hasattr(hook,'stats'): hook.stats = ([],[])
    acts = to_cpu(outp)
    hook.stats[0].append(acts.mean())
    hook.stats[1].append(acts.std())

set_seed(1)
model = nn.Sequential(*cnn_layers())

hooks = [Hook(l, append_stats) for l in model[:5].children()]

learn = fit(model)

for h in hooks:
    print(torch.stack(h.stats[0]))
    h.remove()

### A Hooks class
class DummyCtxMgr:
    def __enter__(self, *args):
        print("let's go!")
        return self
    def __exit__ (self, *args): print("all done!")
    def hello(self): print("hello.")

with DummyCtxMgr() as dcm: dcm.hello()

class DummyList(list):
    def __delitem__(self, i):
        print(f"Say bye to item {i}")
        super().__delitem__(i)

dml = DummyList([1,3,2])
print(dml)
del(dml[2])
print(dml)

from miniai.activations import Hooks

set_seed(1)
model = nn.Sequential(*cnn_layers())

with Hooks(model, append_stats) as hooks:
    fit(model)
    for h in hooks:
        for i in 0,1: print(torch.stack(h.stats[i]))

### HooksCallback
from miniai.activations import HooksCallback

hc = HooksCallback(append_stats, mod_filter=fc.risinstance(nn.Conv2d))

set_seed(1)
model = nn.Sequential(*cnn_layers())
fit(model, xtra_cbs=[hc]);

for h in hc:
    for i in 0,1: print(torch.stack(h.stats[i]))

## Histograms
from miniai.activations import append_stats

set_seed(1)
model = nn.Sequential(*cnn_layers())
hc = HooksCallback(append_stats, mod_filter=fc.risinstance(nn.Conv2d))
fit(model, xtra_cbs=[hc]);

# Thanks to @ste for initial version of histgram plotting code
from miniai.activations import get_hist

for h in hc: print(get_hist(h).shape, get_hist(h)[:6])

from miniai.activations import get_min

for h in hc: print(get_min(h))

## ActivationStats
from miniai.activations import ActivationStats
# miniai's ActivationStats plots its stats (the plots are dropped in miniai/activations.py): printed here
class ActivationStats(ActivationStats):
    def color_dim(self, figsize=(11,5)):
        for h in self: print(get_hist(h).sum(1))

    def dead_chart(self, figsize=(11,5)):
        for h in self: print(get_min(h))

    def plot_stats(self, figsize=(10,4)):
        for h in self:
            for i in 0,1: print(['Means','Stdevs'][i], torch.stack(h.stats[i]))

astats = ActivationStats(fc.risinstance(nn.Conv2d))

set_seed(1)
model = nn.Sequential(*cnn_layers())
fit(model, xtra_cbs=[astats]);

astats.color_dim()
astats.dead_chart()
astats.plot_stats()
