# Source: Jeremy Howard, fast.ai "Practical Deep Learning for Coders" 2022 part 2, lesson 17 notebook
# "Initialization": the exploding/vanishing matmul chains, variance/covariance, Xavier and Kaiming scales,
# model.apply(init_weights) with init.kaiming_normal_, input normalization as a BatchTransformCB,
# GeneralRelu (leaky_relu, -=, clamp_max_), LSUV with a forward hook, LayerNorm and BatchNorm by hand
# (register_buffer, lerp_), then nn.BatchNorm2d.   https://github.com/fastai/course22p2
# nbs/11_initializing.ipynb (with the miniai library code it imports: miniai/learner.py, activations.py,
# conv.py, datasets.py, written inline below as exported).
# Shrunk: Fashion-MNIST (HF datasets) is replaced by 32 training and 32 test 1x16x16 images (noise around
# ten random templates) in TensorDatasets, bs 16 not 1024 (256 in the last section: 8), num_workers 0;
# every fit(3)/fit(2) is fit(1); the sampling loops run 20 and 200 times, not 100 and 10000; the few
# fastcore helpers, torcheval's MulticlassAccuracy/Mean and fastprogress are minimal inline versions (the
# progress table printed as text); the IPython memory helpers (clean_ipython_hist/clean_tb/clean_mem) are
# left out; where the notebook plots, the plotted values are printed instead.
from __future__ import annotations
import math,random,torch,numpy as np
from collections.abc import Mapping
from operator import attrgetter,itemgetter
from functools import partial
from copy import copy

import torch.nn.functional as F
from torch import tensor,nn,optim
from torch.utils.data import DataLoader,TensorDataset,default_collate
from torch.nn import init

# --- minimal stand-ins for the fastcore helpers the notebooks use
class fc:
    @staticmethod
    def store_attr():
        import inspect
        frame = inspect.currentframe().f_back
        args = inspect.getargvalues(frame)
        for k in args.args[1:]: setattr(args.locals[args.args[0]], k, args.locals[k])
    @staticmethod
    def L(x=None): return [] if x is None else list(x) if isinstance(x, (list,tuple)) else [x]
    @staticmethod
    def noop(x=None, *args, **kwargs): return x
    @staticmethod
    def filter_ex(iterable, f=None): return [o for o in iterable if (f or fc.noop)(o)]
    @staticmethod
    def risinstance(types): return lambda o: isinstance(o, types)
    @staticmethod
    def patch(f):
        cls = next(iter(f.__annotations__.values()))
        setattr(f.__globals__[cls] if isinstance(cls, str) else cls, f.__name__, f)
        return f

# --- minimal torcheval metrics (micro MulticlassAccuracy and Mean, torcheval's arithmetic)
class MulticlassAccuracy:
    def __init__(self): self.reset()
    def reset(self): self.num_correct,self.num_total = torch.tensor(0.0),torch.tensor(0.0)
    @torch.inference_mode()
    def update(self, input, target):
        if input.ndim == 2: input = torch.argmax(input, dim=1)
        self.num_correct += (input == target).long().sum()
        self.num_total += torch.tensor(target.shape[0])
        return self
    @torch.inference_mode()
    def compute(self): return self.num_correct / self.num_total

class Mean:
    def __init__(self): self.reset()
    def reset(self):
        self.weighted_sum = torch.tensor(0.0, dtype=torch.float64)
        self.weights = torch.tensor(0.0, dtype=torch.float64)
    @torch.inference_mode()
    def update(self, input, *, weight=1.0):
        self.weighted_sum += weight * torch.sum(input)
        self.weights += torch.tensor(float(weight) * torch.numel(input))
        return self
    @torch.inference_mode()
    def compute(self):
        if not torch.is_nonzero(self.weights): return torch.tensor(0.0, dtype=torch.float64)
        return self.weighted_sum / self.weights

# --- minimal fastprogress: the table rows and the loss graph as text
class master_bar:
    def __init__(self, gen): self.gen = gen
    def __iter__(self): return iter(self.gen)
    def write(self, line, table=False): print(' '.join(str(o) for o in line))
    def update_graph(self, graphs): print('graph:', ' '.join(f'{float(v):.3f}' for v in graphs[-1][1]))
class progress_bar:
    def __init__(self, gen, leave=True, parent=None): self.gen,self.comment = gen,''
    def __iter__(self): return iter(self.gen)
    def __len__(self): return len(self.gen)

# --- miniai (conv.py, datasets.py, training.py)
def_device = 'mps' if torch.backends.mps.is_available() else 'cuda' if torch.cuda.is_available() else 'cpu'

def to_device(x, device=def_device):
    if isinstance(x, torch.Tensor): return x.to(device)
    if isinstance(x, Mapping): return {k:v.to(device) for k,v in x.items()}
    return type(x)(to_device(o, device) for o in x)

def get_dls(train_ds, valid_ds, bs, **kwargs):
    return (DataLoader(train_ds, batch_size=bs, shuffle=True, **kwargs),
            DataLoader(valid_ds, batch_size=bs*2, **kwargs))

class DataLoaders:
    def __init__(self, *dls): self.train,self.valid = dls[:2]

    @classmethod
    def from_dd(cls, dd, batch_size, as_tuple=True, **kwargs):
        return cls(*get_dls(*dd.values(), bs=batch_size, **kwargs))

# --- miniai/learner.py (the notebook 09 code, as exported)
class CancelFitException(Exception): pass
class CancelBatchException(Exception): pass
class CancelEpochException(Exception): pass

class Callback(): order = 0

def run_cbs(cbs, method_nm, learn=None):
    for cb in sorted(cbs, key=attrgetter('order')):
        method = getattr(cb, method_nm, None)
        if method is not None: method(learn)

class SingleBatchCB(Callback):
    order = 1
    def after_batch(self, learn): raise CancelFitException()

def to_cpu(x):
    if isinstance(x, Mapping): return {k:to_cpu(v) for k,v in x.items()}
    if isinstance(x, list): return [to_cpu(o) for o in x]
    if isinstance(x, tuple): return tuple(to_cpu(list(x)))
    res = x.detach().cpu()
    return res.float() if res.dtype==torch.float16 else res

class MetricsCB(Callback):
    def __init__(self, *ms, **metrics):
        for o in ms: metrics[type(o).__name__] = o
        self.metrics = metrics
        self.all_metrics = copy(metrics)
        self.all_metrics['loss'] = self.loss = Mean()

    def _log(self, d): print(d)
    def before_fit(self, learn): learn.metrics = self
    def before_epoch(self, learn): [o.reset() for o in self.all_metrics.values()]

    def after_epoch(self, learn):
        log = {k:f'{v.compute():.3f}' for k,v in self.all_metrics.items()}
        log['epoch'] = learn.epoch
        log['train'] = 'train' if learn.model.training else 'eval'
        self._log(log)

    def after_batch(self, learn):
        x,y,*_ = to_cpu(learn.batch)
        for m in self.metrics.values(): m.update(to_cpu(learn.preds), y)
        self.loss.update(to_cpu(learn.loss), weight=len(x))

class DeviceCB(Callback):
    def __init__(self, device=def_device): fc.store_attr()
    def before_fit(self, learn):
        if hasattr(learn.model, 'to'): learn.model.to(self.device)
    def before_batch(self, learn): learn.batch = to_device(learn.batch, device=self.device)

class TrainCB(Callback):
    def __init__(self, n_inp=1): self.n_inp = n_inp
    def predict(self, learn): learn.preds = learn.model(*learn.batch[:self.n_inp])
    def get_loss(self, learn): learn.loss = learn.loss_func(learn.preds, *learn.batch[self.n_inp:])
    def backward(self, learn): learn.loss.backward()
    def step(self, learn): learn.opt.step()
    def zero_grad(self, learn): learn.opt.zero_grad()

class ProgressCB(Callback):
    order = MetricsCB.order+1
    def __init__(self, plot=False): self.plot = plot
    def before_fit(self, learn):
        learn.epochs = self.mbar = master_bar(learn.epochs)
        self.first = True
        if hasattr(learn, 'metrics'): learn.metrics._log = self._log
        self.losses = []
        self.val_losses = []

    def _log(self, d):
        if self.first:
            self.mbar.write(list(d), table=True)
            self.first = False
        self.mbar.write(list(d.values()), table=True)

    def before_epoch(self, learn): learn.dl = progress_bar(learn.dl, leave=False, parent=self.mbar)
    def after_batch(self, learn):
        learn.dl.comment = f'{learn.loss:.3f}'
        if self.plot and hasattr(learn, 'metrics') and learn.training:
            self.losses.append(learn.loss.item())
            if self.val_losses: self.mbar.update_graph([[range(len(self.losses)), self.losses],[[(x+1)*len(learn.dls.train) for x in range(learn.epoch)], self.val_losses]])

    def after_epoch(self, learn):
        if not learn.training:
            if self.plot and hasattr(learn, 'metrics'):
                self.val_losses.append(learn.metrics.all_metrics['loss'].compute())
                self.mbar.update_graph([[range(len(self.losses)), self.losses],[[(x+1)*len(learn.dls.train) for x in range(learn.epoch+1)], self.val_losses]])

class with_cbs:
    def __init__(self, nm): self.nm = nm
    def __call__(self, f):
        def _f(o, *args, **kwargs):
            try:
                o.callback(f'before_{self.nm}')
                f(o, *args, **kwargs)
                o.callback(f'after_{self.nm}')
            except globals()[f'Cancel{self.nm.title()}Exception']: pass
            finally: o.callback(f'cleanup_{self.nm}')
        return _f

class Learner():
    def __init__(self, model, dls=(0,), loss_func=F.mse_loss, lr=0.1, cbs=None, opt_func=optim.SGD):
        cbs = fc.L(cbs)
        fc.store_attr()

    @with_cbs('batch')
    def _one_batch(self):
        self.predict()
        self.callback('after_predict')
        self.get_loss()
        self.callback('after_loss')
        if self.training:
            self.backward()
            self.callback('after_backward')
            self.step()
            self.callback('after_step')
            self.zero_grad()

    @with_cbs('epoch')
    def _one_epoch(self):
        for self.iter,self.batch in enumerate(self.dl): self._one_batch()

    def one_epoch(self, training):
        self.model.train(training)
        self.dl = self.dls.train if training else self.dls.valid
        self._one_epoch()

    @with_cbs('fit')
    def _fit(self, train, valid):
        for self.epoch in self.epochs:
            if train: self.one_epoch(True)
            if valid: torch.no_grad()(self.one_epoch)(False)

    def fit(self, n_epochs=1, train=True, valid=True, cbs=None, lr=None):
        cbs = fc.L(cbs)
        # `add_cb` and `rm_cb` were added in lesson 18
        for cb in cbs: self.cbs.append(cb)
        try:
            self.n_epochs = n_epochs
            self.epochs = range(n_epochs)
            if lr is None: lr = self.lr
            if self.opt_func: self.opt = self.opt_func(self.model.parameters(), lr)
            self._fit(train, valid)
        finally:
            for cb in cbs: self.cbs.remove(cb)

    def __getattr__(self, name):
        if name in ('predict','get_loss','backward','step','zero_grad'): return partial(self.callback, name)
        raise AttributeError(name)

    def callback(self, method_nm): run_cbs(self.cbs, method_nm, self)

    @property
    def training(self): return self.model.training

class TrainLearner(Learner):
    def predict(self): self.preds = self.model(self.batch[0])
    def get_loss(self): self.loss = self.loss_func(self.preds, self.batch[1])
    def backward(self): self.loss.backward()
    def step(self): self.opt.step()
    def zero_grad(self): self.opt.zero_grad()

class MomentumLearner(TrainLearner):
    def __init__(self, model, dls, loss_func, lr=None, cbs=None, opt_func=optim.SGD, mom=0.85):
        self.mom = mom
        super().__init__(model, dls, loss_func, lr, cbs, opt_func)

    def zero_grad(self):
        with torch.no_grad():
            for p in self.model.parameters(): p.grad *= self.mom

from torch.optim.lr_scheduler import ExponentialLR

class LRFinderCB(Callback):
    def __init__(self, gamma=1.3, max_mult=3): fc.store_attr()

    def before_fit(self, learn):
        self.sched = ExponentialLR(learn.opt, self.gamma)
        self.lrs,self.losses = [],[]
        self.min = math.inf

    def after_batch(self, learn):
        if not learn.training: raise CancelEpochException()
        self.lrs.append(learn.opt.param_groups[0]['lr'])
        loss = to_cpu(learn.loss)
        self.losses.append(loss)
        if loss < self.min: self.min = loss
        if math.isnan(loss) or (loss > self.min*self.max_mult):
            raise CancelFitException()
        self.sched.step()

    def cleanup_fit(self, learn):
        print('lr finder:', ' '.join(f'{lr:.2e}:{l:.3f}' for lr,l in zip(self.lrs, self.losses)))

@fc.patch
def lr_find(self:Learner, gamma=1.3, max_mult=3, start_lr=1e-5, max_epochs=10):
    self.fit(max_epochs, lr=start_lr, cbs=LRFinderCB(gamma=gamma, max_mult=max_mult))

# --- miniai/activations.py (the notebook 10 code, as exported)
def set_seed(seed, deterministic=False):
    torch.use_deterministic_algorithms(deterministic)
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)

class Hook():
    def __init__(self, m, f): self.hook = m.register_forward_hook(partial(f, self))
    def remove(self): self.hook.remove()
    def __del__(self): self.remove()

class Hooks(list):
    def __init__(self, ms, f): super().__init__([Hook(m, f) for m in ms])
    def __enter__(self, *args): return self
    def __exit__ (self, *args): self.remove()
    def __del__(self): self.remove()
    def __delitem__(self, i):
        self[i].remove()
        super().__delitem__(i)
    def remove(self):
        for h in self: h.remove()

class HooksCallback(Callback):
    def __init__(self, hookfunc, mod_filter=fc.noop, on_train=True, on_valid=False, mods=None):
        fc.store_attr()
        super().__init__()

    def before_fit(self, learn):
        if self.mods: mods=self.mods
        else: mods = fc.filter_ex(learn.model.modules(), self.mod_filter)
        self.hooks = Hooks(mods, partial(self._hookfunc, learn))

    def _hookfunc(self, learn, *args, **kwargs):
        if (self.on_train and learn.training) or (self.on_valid and not learn.training): self.hookfunc(*args, **kwargs)

    def after_fit(self, learn): self.hooks.remove()
    def __iter__(self): return iter(self.hooks)
    def __len__(self): return len(self.hooks)

def append_stats(hook, mod, inp, outp):
    if not hasattr(hook,'stats'): hook.stats = ([],[],[])
    acts = to_cpu(outp)
    hook.stats[0].append(acts.mean())
    hook.stats[1].append(acts.std())
    hook.stats[2].append(acts.abs().histc(40,0,10))

# Thanks to @ste for initial version of histgram plotting code
def get_hist(h): return torch.stack(h.stats[2]).t().float().log1p()

def get_min(h):
    h1 = torch.stack(h.stats[2]).t().float()
    return h1[0]/h1.sum(0)

class ActivationStats(HooksCallback):
    def __init__(self, mod_filter=fc.noop): super().__init__(append_stats, mod_filter)

    def color_dim(self, figsize=(11,5)):
        for h in self: print(get_hist(h).sum(1))

    def dead_chart(self, figsize=(11,5)):
        for h in self: print(get_min(h))

    def plot_stats(self, figsize=(10,4)):
        for h in self:
            for i in 0,1: print(['Means','Stdevs'][i], torch.stack(h.stats[i]))


# --- miniai/conv.py
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

class BatchTransformCB(Callback):
    def __init__(self, tfm, on_train=True, on_val=True): fc.store_attr()

    def before_batch(self, learn):
        if (self.on_train and learn.training) or (self.on_val and not learn.training):
            learn.batch = self.tfm(learn.batch)

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
class GeneralRelu(nn.Module):
    def __init__(self, leak=None, sub=None, maxv=None):
        super().__init__()
        self.leak,self.sub,self.maxv = leak,sub,maxv

    def forward(self, x):
        x = F.leaky_relu(x,self.leak) if self.leak is not None else F.relu(x)
        if self.sub is not None: x -= self.sub
        if self.maxv is not None: x.clamp_max_(self.maxv)
        return x

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

def init_weights(m, leaky=0.):
    if isinstance(m, (nn.Conv1d,nn.Conv2d,nn.Conv3d)): init.kaiming_normal_(m.weight, a=leaky)

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

def conv(ni, nf, ks=3, stride=2, act=nn.ReLU, norm=None, bias=None):
    if bias is None: bias = not isinstance(norm, (nn.BatchNorm1d,nn.BatchNorm2d,nn.BatchNorm3d))
    layers = [nn.Conv2d(ni, nf, stride=stride, kernel_size=ks, padding=ks//2, bias=bias)]
    if norm: layers.append(norm(nf))
    if act: layers.append(act())
    return nn.Sequential(*layers)

def get_model(act=nn.ReLU, nfs=None, norm=None):
    if nfs is None: nfs = [1,8,16,32,64]
    layers = [conv(nfs[i], nfs[i+1], act=act, norm=norm) for i in range(len(nfs)-1)]
    return nn.Sequential(*layers, conv(nfs[-1],10, act=None, norm=False, bias=True),
                         nn.Flatten()).to(def_device)

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
