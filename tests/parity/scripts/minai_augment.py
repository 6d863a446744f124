# Source: Jeremy Howard, fast.ai "Practical Deep Learning for Coders" 2022 part 2, lesson 17/18 notebook
# "Augmentation" (14_augment): ResNets ending in a GlobalAvgPool, the summary() table with MFLOPS, batch
# augmentation with BatchTransformCB (random crop + flip, then RandErase: init.normal_ on a slice and clamp_,
# then RandCopy), test-time augmentation with CapturePreds/capture_preds and a flipped copy, dropout written
# with distributions.binomial.Binomial, nn.Dropout2d, and test-time dropout (TTD_CB).
# https://github.com/fastai/course22p2  nbs/14_augment.ipynb (miniai helpers from tests/parity/scripts/miniai/:
# learner.py, activations.py, init.py, sgd.py, resnet.py, augment.py).
# Shrunk: Fashion-MNIST (HF datasets) is replaced by 32 training and 16 test 1x12x12 images (noise around ten
# random templates, normalised with xmean/xstd) in TensorDatasets, bs 16 not 1024, num_workers 0, the models'
# nfs (8,16,32,64) not (16,...,512), 1 epoch (2 for the dropout model) not 5-50, the model saves (torch.save) left out;
# torchvision's RandomCrop(padding)/RandomHorizontalFlip/TF.hflip are written as the few torch lines
# torchvision runs (F.pad, torch.randint for the corner, torch.rand(1) < p, flip(-1)); torcheval and
# fastprogress are minimal stand-ins (miniai/_standins.py); images shown are printed as statistics.
# AdamW runs with eps=1e-5 not 1e-8: miniai's conv keeps its bias before BatchNorm, whose gradient is float32
# rounding noise that Adam's 1e-8 eps would blow up to full-size steps, differently on every CPU.
import math,random,torch
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
from miniai.resnet import *
from miniai.augment import *
from miniai._standins import fc, MulticlassAccuracy

from torch import distributions

torch.set_printoptions(precision=2, linewidth=140, sci_mode=False)
torch.manual_seed(1)

set_seed(42)
xl,yl = 'image','label'
bs = 16
xmean,xstd = 0.28, 0.35

# stand-in for load_dataset("fashion_mnist").with_transform(transformi)
templates = torch.rand(10, 1, 12, 12)
def fake_fashion(n):
    y = torch.randint(0, 10, (n,))
    x = (0.7*templates[y] + 0.3*torch.rand(n, 1, 12, 12)) * (torch.rand(n, 1, 12, 12) > 0.2)
    return TensorDataset((x-xmean)/xstd, y)
tds = {'train': fake_fashion(32), 'test': fake_fashion(16)}
dls = DataLoaders.from_dd(tds, bs, num_workers=0)

# torchvision stand-ins (torchvision's own arithmetic and random draws)
class transforms:
    class RandomCrop(nn.Module):
        def __init__(self, size, padding=None):
            super().__init__()
            self.size,self.padding = size,padding
        def forward(self, img):
            if self.padding is not None: img = F.pad(img, [self.padding]*4, mode='constant', value=0)
            h,w = img.shape[-2:]
            i = torch.randint(0, h - self.size + 1, size=(1,)).item()
            j = torch.randint(0, w - self.size + 1, size=(1,)).item()
            return img[..., i:i+self.size, j:j+self.size]
    class RandomHorizontalFlip(nn.Module):
        def __init__(self, p=0.5):
            super().__init__()
            self.p = p
        def forward(self, img):
            if torch.rand(1) < self.p: return img.flip(-1)
            return img
class TF:
    @staticmethod
    def hflip(img): return img.flip(-1)

metrics = MetricsCB(accuracy=MulticlassAccuracy())
astats = ActivationStats(fc.risinstance(GeneralRelu))
cbs = [DeviceCB(), metrics, ProgressCB(plot=True), astats]
act_gr = partial(GeneralRelu, leak=0.1, sub=0.4)
iw = partial(init_weights, leaky=0.1)
set_seed(42)
lr,epochs = 1e-2,1
def get_model(act=nn.ReLU, nfs=(8,16,32,64), norm=nn.BatchNorm2d):
    layers = [ResBlock(1, 8, ks=5, stride=1, act=act, norm=norm)]
    layers += [ResBlock(nfs[i], nfs[i+1], act=act, norm=norm, stride=2) for i in range(len(nfs)-1)]
    layers += [nn.Flatten(), nn.Linear(nfs[-1]*4, 10, bias=False), nn.BatchNorm1d(10)]
    return nn.Sequential(*layers)
tmax = epochs * len(dls.train)
sched = partial(lr_scheduler.OneCycleLR, max_lr=lr, total_steps=tmax)
xtra = [BatchSchedCB(sched)]

class GlobalAvgPool(nn.Module):
    def forward(self, x): return x.mean((-2,-1))

def get_model3(act=nn.ReLU, nfs=(8,16,32,64), norm=nn.BatchNorm2d):
    layers = [ResBlock(1, 8, ks=5, stride=1, act=act, norm=norm)]
    layers += [ResBlock(nfs[i], nfs[i+1], act=act, norm=norm, stride=2) for i in range(len(nfs)-1)]
    layers += [GlobalAvgPool(), nn.Linear(64, 10, bias=False), nn.BatchNorm1d(10)]
    return nn.Sequential(*layers)
TrainLearner(get_model3(), dls, F.cross_entropy, lr=lr, cbs=[DeviceCB()]).summary()
print([o.shape for o in get_model3()[0].parameters()])
set_seed(42)
model = get_model3(act_gr, norm=nn.BatchNorm2d).apply(iw)
learn = TrainLearner(model, dls, F.cross_entropy, lr=lr, cbs=cbs+xtra, opt_func=partial(optim.AdamW, eps=1e-5))
learn.fit(epochs)

def get_model4(act=nn.ReLU, nfs=(8,16,32,64), norm=nn.BatchNorm2d):
    layers = [conv(1, 8, ks=5, stride=1, act=act, norm=norm)]
    layers += [ResBlock(nfs[i], nfs[i+1], act=act, norm=norm, stride=2) for i in range(len(nfs)-1)]
    layers += [GlobalAvgPool(), nn.Linear(64, 10, bias=False), nn.BatchNorm1d(10)]
    return nn.Sequential(*layers)
print([o.shape for o in get_model4()[0].parameters()])
TrainLearner(get_model4(), dls, F.cross_entropy, lr=lr, cbs=[DeviceCB()]).summary()

def tfm_batch(b, tfm_x=fc.noop, tfm_y = fc.noop): return tfm_x(b[0]),tfm_y(b[1])

tfms = nn.Sequential(transforms.RandomCrop(12, padding=1),
                     transforms.RandomHorizontalFlip())
augcb = BatchTransformCB(partial(tfm_batch, tfm_x=tfms), on_val=False)
set_seed(42)
tmax = epochs * len(dls.train)
sched = partial(lr_scheduler.OneCycleLR, max_lr=lr, total_steps=tmax)
xtra = [BatchSchedCB(sched), augcb]
model = get_model(act_gr, norm=nn.BatchNorm2d).apply(iw)
learn = TrainLearner(model, dls, F.cross_entropy, lr=lr, cbs=cbs+xtra, opt_func=partial(optim.AdamW, eps=1e-5))
learn.fit(epochs)

ap1, at = learn.capture_preds()
ttacb = BatchTransformCB(partial(tfm_batch, tfm_x=TF.hflip), on_val=True)
ap2, at = learn.capture_preds(cbs=[ttacb])
print(ap1.shape,ap2.shape,at.shape)
ap = torch.stack([ap1,ap2]).mean(0).argmax(1)
print(round((ap==at).float().mean().item(), 3))

xb,_ = next(iter(dls.train))
xbt = xb[:16]
xm,xs = xbt.mean(),xbt.std()
print(xbt.min(), xbt.max())
pct = 0.2
szx = int(pct*xbt.shape[-2])
szy = int(pct*xbt.shape[-1])
stx = int(random.random()*(1-pct)*xbt.shape[-2])
sty = int(random.random()*(1-pct)*xbt.shape[-1])
print(stx,sty,szx,szy)
init.normal_(xbt[:,:,stx:stx+szx,sty:sty+szy], mean=xm, std=xs);
print(xbt.min(), xbt.max())

xb,_ = next(iter(dls.train))
xbt = xb[:16]
rand_erase(xbt, 0.2, 4)
print(xbt.mean(),xbt.std(),xbt.min(), xbt.max())

tfms = nn.Sequential(transforms.RandomCrop(12, padding=1),
                     transforms.RandomHorizontalFlip(),
                     RandErase())
augcb = BatchTransformCB(partial(tfm_batch, tfm_x=tfms), on_val=False)
model = get_model()
learn = TrainLearner(model, dls, F.cross_entropy, lr=lr, cbs=[DeviceCB(), SingleBatchCB(), augcb])
learn.fit(1)
xb,yb = learn.batch
print(xb.shape, xb.mean(), xb.std(), (xb==0).sum(), yb)

xb,_ = next(iter(dls.train))
xbt = xb[:16]
szx = int(pct*xbt.shape[-2])
szy = int(pct*xbt.shape[-1])
stx1 = int(random.random()*(1-pct)*xbt.shape[-2])
sty1 = int(random.random()*(1-pct)*xbt.shape[-1])
stx2 = int(random.random()*(1-pct)*xbt.shape[-2])
sty2 = int(random.random()*(1-pct)*xbt.shape[-1])
print(stx1,sty1,stx2,sty2,szx,szy)
xbt[:,:,stx1:stx1+szx,sty1:sty1+szy] = xbt[:,:,stx2:stx2+szx,sty2:sty2+szy]
print(xbt[0,0,:4,:4])

tfms = nn.Sequential(transforms.RandomCrop(12, padding=1),
                     transforms.RandomHorizontalFlip(),
                     RandCopy())
augcb = BatchTransformCB(partial(tfm_batch, tfm_x=tfms), on_val=False)
set_seed(1)
tmax = epochs * len(dls.train)
sched = partial(lr_scheduler.OneCycleLR, max_lr=lr, total_steps=tmax)
xtra = [BatchSchedCB(sched), augcb]
model = get_model(act_gr, norm=nn.BatchNorm2d).apply(iw)
learn = TrainLearner(model, dls, F.cross_entropy, lr=lr, cbs=cbs+xtra, opt_func=partial(optim.AdamW, eps=1e-5))
learn.fit(epochs)
cp1 = CapturePreds()
learn.fit(1, train=False, cbs=cp1)
print(cp1.all_inps.shape, cp1.all_preds[:2])

p = 0.1
dist = distributions.binomial.Binomial(probs=1-p)
print(dist.sample((10,)))
class Dropout(nn.Module):
    def __init__(self, p=0.1):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training: return x
        dist = distributions.binomial.Binomial(tensor(1.0).to(x.device), probs=1-self.p)
        return x * dist.sample(x.size()) * 1/(1-self.p)
def get_dropmodel(act=nn.ReLU, nfs=(8,16,32,64), norm=nn.BatchNorm2d, drop=0.0):
    layers = [ResBlock(1, 8, ks=5, stride=1, act=act, norm=norm), nn.Dropout2d(drop)]
    layers += [ResBlock(nfs[i], nfs[i+1], act=act, norm=norm, stride=2) for i in range(len(nfs)-1)]
    layers += [nn.Flatten(), Dropout(drop), nn.Linear(nfs[-1]*4, 10, bias=False), nn.BatchNorm1d(10)]
    return nn.Sequential(*layers)
set_seed(42)
epochs=2
lr = 1e-2
tmax = epochs * len(dls.train)
sched = partial(lr_scheduler.OneCycleLR, max_lr=lr, total_steps=tmax)
xtra = [BatchSchedCB(sched)]
model = get_dropmodel(act_gr, norm=nn.BatchNorm2d, drop=0.1).apply(iw)
learn = TrainLearner(model, dls, F.cross_entropy, lr=lr, cbs=cbs+xtra, opt_func=partial(optim.AdamW, eps=1e-5))
learn.fit(epochs)
class TTD_CB(Callback):
    def before_epoch(self, learn):
        learn.model.apply(lambda m: m.train() if isinstance(m, (nn.Dropout,nn.Dropout2d)) else None)
preds,targs = learn.capture_preds(cbs=[TTD_CB()])
print(preds[:2], model[1].training, model[2].training)
