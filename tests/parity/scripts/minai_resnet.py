# Source: Jeremy Howard, fast.ai "Practical Deep Learning for Coders" 2022 part 2, lesson 17 notebook
# "ResNets" (13_resnet): a conv/BatchNorm/GeneralRelu baseline trained with AdamW under OneCycleLR
# (BatchSchedCB), the ResBlock (two convs, 1x1 idconv, AvgPool2d(ceil_mode=True) shortcut), a ResNet of
# ResBlocks ending in Flatten/Linear/BatchNorm1d, shapes printed by forward hooks, the summary() table,
# and lr_find with the MomentumLearner.   https://github.com/fastai/course22p2  nbs/13_resnet.ipynb
# (miniai helpers from tests/parity/scripts/miniai/: learner.py, activations.py, init.py, sgd.py, resnet.py).
# Shrunk: Fashion-MNIST (HF datasets) is replaced by 32 training and 16 test 1x8x8 images (noise around ten
# random templates, normalised with the notebook's xmean/xstd) in TensorDatasets, bs 16 not 1024, the ResNet's nfs (8,16,32,64) not (8,...,256),
# num_workers 0 not 4, 2 epochs not 5, lr_find for at most 1 epoch; torcheval's MulticlassAccuracy and
# fastprogress are minimal stand-ins (miniai/_standins.py); the activation plots are printed as numbers;
# the timm resnet18d comparison at the end is left out (timm is not a test dependency). AdamW runs with
# eps=1e-5 (as the later notebooks' Adam does) not 1e-8: miniai's conv keeps its bias before BatchNorm
# (isinstance of the class nn.BatchNorm2d is False), whose gradient is float32 rounding noise that Adam's
# 1e-8 eps would blow up to full-size steps, differently on every CPU.
import math,torch
from functools import partial
import torch.nn.functional as F
from torch import tensor,nn,optim
from torch.utils.data import DataLoader,default_collate,TensorDataset
from torch.nn import init
from torch.optim import lr_scheduler

from miniai.conv import *
from miniai.learner import *
from miniai.activations import *
from miniai.init import *
from miniai.sgd import *
from miniai._standins import fc, MulticlassAccuracy

torch.set_printoptions(precision=2, linewidth=140, sci_mode=False)
torch.manual_seed(1)

set_seed(42)
xl,yl = 'image','label'
bs = 16
xmean,xstd = 0.28, 0.35

# stand-in for load_dataset("fashion_mnist").with_transform(transformi)
templates = torch.rand(10, 1, 8, 8)
def fake_fashion(n):
    y = torch.randint(0, 10, (n,))
    x = (0.7*templates[y] + 0.3*torch.rand(n, 1, 8, 8)) * (torch.rand(n, 1, 8, 8) > 0.2)
    return TensorDataset((x-xmean)/xstd, y)
tds = {'train': fake_fashion(32), 'test': fake_fashion(16)}
dls = DataLoaders.from_dd(tds, bs, num_workers=0)

act_gr = partial(GeneralRelu, leak=0.1, sub=0.4)
metrics = MetricsCB(accuracy=MulticlassAccuracy())
astats = ActivationStats(fc.risinstance(GeneralRelu))
cbs = [DeviceCB(), metrics, ProgressCB(plot=True), astats]
iw = partial(init_weights, leaky=0.1)

def get_model(act=nn.ReLU, nfs=(8,16,32,64,128), norm=nn.BatchNorm2d):
    layers = [conv(1, 8, stride=1, act=act, norm=norm)]
    layers += [conv(nfs[i], nfs[i+1], act=act, norm=norm) for i in range(len(nfs)-1)]
    return nn.Sequential(*layers, conv(nfs[-1], 10, act=None, norm=norm, bias=True), nn.Flatten()).to(def_device)

set_seed(42)
lr,epochs = 6e-2,2
model = get_model(act_gr, norm=nn.BatchNorm2d).apply(iw)
tmax = epochs * len(dls.train)
sched = partial(lr_scheduler.OneCycleLR, max_lr=lr, total_steps=tmax)
xtra = [BatchSchedCB(sched)]
learn = TrainLearner(model, dls, F.cross_entropy, lr=lr, cbs=cbs+xtra, opt_func=partial(optim.AdamW, eps=1e-5))
learn.fit(epochs)
print('lr after fit:', f"{learn.opt.param_groups[0]['lr']:.6f}", 'betas:', learn.opt.param_groups[0]['betas'])
# (the notebook plots the activation stats: printed instead)
for h in astats: print('means', [round(float(o), 3) for o in h.stats[0]][:4], 'stds', [round(float(o), 3) for o in h.stats[1]][:4])
print('min (dead) fraction', [round(float(get_min(h)[-1]), 3) for h in astats])

def _conv_block(ni, nf, stride, act=act_gr, norm=None, ks=3):
    return nn.Sequential(conv(ni, nf, stride=1, act=act, norm=norm, ks=ks),
                         conv(nf, nf, stride=stride, act=None, norm=norm, ks=ks))

class ResBlock(nn.Module):
    def __init__(self, ni, nf, stride=1, ks=3, act=act_gr, norm=None):
        super().__init__()
        self.convs = _conv_block(ni, nf, stride, act=act, ks=ks, norm=norm)
        self.idconv = fc.noop if ni==nf else conv(ni, nf, ks=1, stride=1, act=None)
        self.pool = fc.noop if stride==1 else nn.AvgPool2d(2, ceil_mode=True)
        self.act = act()

    def forward(self, x): return self.act(self.convs(x) + self.idconv(self.pool(x)))

def get_model(act=nn.ReLU, nfs=(8,16,32,64), norm=nn.BatchNorm2d):
    layers = [ResBlock(1, 8, stride=1, act=act, norm=norm)]
    layers += [ResBlock(nfs[i], nfs[i+1], act=act, norm=norm, stride=2) for i in range(len(nfs)-1)]
    layers += [nn.Flatten(), nn.Linear(nfs[-1], 10, bias=False), nn.BatchNorm1d(10)]
    return nn.Sequential(*layers).to(def_device)

def _print_shape(hook, mod, inp, outp): print(type(mod).__name__, inp[0].shape, outp.shape)
model = get_model()
learn = TrainLearner(model, dls, F.cross_entropy, cbs=[DeviceCB(), SingleBatchCB()])
with Hooks(model, _print_shape) as hooks: learn.fit(1, train=False)

@fc.patch
def summary(self:Learner):
    res = '|Module|Input|Output|Num params|\n|--|--|--|--|\n'
    tot = 0
    def _f(hook, mod, inp, outp):
        nonlocal res,tot
        nparms = sum(o.numel() for o in mod.parameters())
        tot += nparms
        res += f'|{type(mod).__name__}|{tuple(inp[0].shape)}|{tuple(outp.shape)}|{nparms}|\n'
    with Hooks(self.model, _f) as hooks: self.fit(1, lr=1, train=False, cbs=SingleBatchCB())
    print("Tot params: ", tot)
    if fc.IN_NOTEBOOK:
        from IPython.display import Markdown
        return Markdown(res)
    else: print(res)
TrainLearner(get_model(), dls, F.cross_entropy, cbs=DeviceCB()).summary()

model = get_model(act_gr, norm=nn.BatchNorm2d).apply(iw)
lrf = LRFinderCB()
MomentumLearner(model, dls, F.cross_entropy, cbs=DeviceCB()).fit(1, lr=1e-5, cbs=lrf)   # lr_find(max_epochs=1)
print('lr_find lrs', [f'{o:.3g}' for o in lrf.lrs], 'losses', [round(float(o), 3) for o in lrf.losses])

lr = 2e-2
tmax = epochs * len(dls.train)
sched = partial(lr_scheduler.OneCycleLR, max_lr=lr, total_steps=tmax)
xtra = [BatchSchedCB(sched)]
model = get_model(act_gr, norm=nn.BatchNorm2d).apply(iw)
metrics = MetricsCB(accuracy=MulticlassAccuracy())
astats = ActivationStats(fc.risinstance(GeneralRelu))
cbs = [DeviceCB(), metrics, ProgressCB(plot=True), astats]
learn = TrainLearner(model, dls, F.cross_entropy, lr=lr, cbs=cbs+xtra, opt_func=partial(optim.AdamW, eps=1e-5))
learn.fit(epochs)
print(model[-1].running_mean, model[-1].running_var)
