# Source: Andrej Karpathy, pytorch-normalizing-flows, nflib1.ipynb: the notebook's own model (the Glow-style
# stack ActNorm -> Invertible1x1Conv -> neural spline coupling NSF_CL, three times) over a logistic prior
# built as TransformedDistribution(Uniform, SigmoidTransform().inv), trained on 2-D half-moons with Adam
# (weight decay), then x -> z, prior samples, model.sample and the coordinate-warp grid through
# model.backward; the flows come from the repository's nflib package (the folder beside this script).
#   https://github.com/karpathy/pytorch-normalizing-flows  nflib1.ipynb, nflib/flows.py, nflib/spline_flows.py
# Shrunk: 6 training steps (not 1000) printing every 2 (not 100), then 2 steps of the "train and render"
# cell (not 500); sklearn's datasets.make_moons is written as a few NumPy lines (same half circles and
# noise, not shuffled); the plots print what they show (means, standard deviations, ranges); the
# notebook's %matplotlib and %autoreload lines and the SIGGRAPH pickle dataset are left out.
import itertools

import numpy as np

import torch
import torch.optim as optim
import torch.nn.functional as F
import torch.nn.init as init
from torch import nn
from torch import distributions
from torch.distributions import MultivariateNormal, Uniform, TransformedDistribution, SigmoidTransform
from torch.nn.parameter import Parameter

from nflib.flows import (
    AffineConstantFlow, ActNorm, AffineHalfFlow,
    SlowMAF, MAF, IAF, Invertible1x1Conv,
    NormalizingFlow, NormalizingFlowModel,
)
from nflib.spline_flows import NSF_AR, NSF_CL


def make_moons(n_samples, noise):
    # sklearn.datasets.make_moons (without its shuffle), in NumPy
    n_out = n_samples // 2
    n_in = n_samples - n_out
    outer = np.stack([np.cos(np.linspace(0, np.pi, n_out)), np.sin(np.linspace(0, np.pi, n_out))], axis=1)
    inner = np.stack([1 - np.cos(np.linspace(0, np.pi, n_in)), 1 - np.sin(np.linspace(0, np.pi, n_in)) - .5], axis=1)
    X = np.concatenate([outer, inner], axis=0)
    X += np.random.normal(scale=noise, size=X.shape)
    return X, np.concatenate([np.zeros(n_out), np.ones(n_in)])


class DatasetMoons:
    """ two half-moons """
    def sample(self, n):
        moons = make_moons(n_samples=n, noise=0.05)[0].astype(np.float32)
        return torch.from_numpy(moons)

class DatasetMixture:
    """ 4 mixture of gaussians """
    def sample(self, n):
        assert n%4 == 0
        r = np.r_[np.random.randn(n // 4, 2)*0.5 + np.array([0, -2]),
                  np.random.randn(n // 4, 2)*0.5 + np.array([0, 0]),
                  np.random.randn(n // 4, 2)*0.5 + np.array([2, 2]),
                  np.random.randn(n // 4, 2)*0.5 + np.array([-2, 2])]
        return torch.from_numpy(r.astype(np.float32))

d = DatasetMoons()
#d = DatasetMixture()

x = d.sample(128)
print("data", x.shape, x.mean(0), x.std(0))

# construct a model
#prior = MultivariateNormal(torch.zeros(2), torch.eye(2))
prior = TransformedDistribution(Uniform(torch.zeros(2), torch.ones(2)), SigmoidTransform().inv) # Logistic distribution

# Neural splines, coupling
nfs_flow = NSF_CL if True else NSF_AR
flows = [nfs_flow(dim=2, K=8, B=3, hidden_dim=16) for _ in range(3)]
convs = [Invertible1x1Conv(dim=2) for _ in flows]
norms = [ActNorm(dim=2) for _ in flows]
flows = list(itertools.chain(*zip(norms, convs, flows)))

# construct the model
model = NormalizingFlowModel(prior, flows)
print([type(f).__name__ for f in model.flow.flows])
print("P, L, S of the first 1x1 conv:", convs[0].P, convs[0].L.data, convs[0].S.data, sep="\n")

# optimizer
optimizer = optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-5) # todo tune WD
print("number of params: ", sum(p.numel() for p in model.parameters()))

model.train()
for k in range(6):
    x = d.sample(128)

    zs, prior_logprob, log_det = model(x)
    logprob = prior_logprob + log_det
    loss = -torch.sum(logprob) # NLL

    model.zero_grad()
    loss.backward()
    optimizer.step()

    if k % 2 == 0:
        print(loss.item())

print("ActNorm s, t after training:", norms[0].s.data, norms[0].t.data)

model.eval()

x = d.sample(128)
zs, prior_logprob, log_det = model(x)
z = zs[-1]
print("x -> z: %d stages, prior logprob %.4f, log det %.4f" % (len(zs), prior_logprob.mean().item(), log_det.mean().item()))

x = x.detach().numpy()
z = z.detach().numpy()
print("z mean", np.round(z.mean(0), 3), "std", np.round(z.std(0), 3))
p = model.prior.sample([128, 2]).squeeze()
print("prior sample", p.shape, "median", np.round(np.median(p.numpy(), axis=0), 3))

zs = model.sample(128*8)
z = zs[-1]
z = z.detach().numpy()
print("z -> x: %d stages" % len(zs), z.shape, "median", np.round(np.median(z, axis=0), 3))

# Visualize the step-wise flow in the full net: the coordinate warp
ng = 20
xx, yy = np.linspace(-3, 3, ng), np.linspace(-3, 3, ng)
xv, yv = np.meshgrid(xx, yy)
xy = np.stack([xv, yv], axis=-1)
in_circle = np.sqrt((xy**2).sum(axis=2)) <= 3 # seems appropriate since we use radial distributions as priors
xy = xy.reshape((ng*ng, 2))
xy = torch.from_numpy(xy.astype(np.float32))

zs, log_det = model.backward(xy)

backward_flow_names = [type(f).__name__ for f in model.flow.flows[::-1]]
nz = len(zs)
for i in range(nz - 1):
    z0 = zs[i].detach().numpy()
    z1 = zs[i+1].detach().numpy()
    q = z1.reshape((ng, ng, 2))
    print("layer %d -> %d (%s)" % (i, i+1, backward_flow_names[i]),
          "moved %.4f" % np.abs(z1 - z0).mean(), "grid in circle mean", np.round(q[in_circle].mean(0), 4))
print("log det of the warp", log_det.mean().item())

# train and render (2 steps of the notebook's 500)
xval = d.sample(128*5)

model.train()
for k in range(2):

    # sample
    x = d.sample(128)

    # train a bit
    zs, prior_logprob, log_det = model(x)
    logprob = prior_logprob + log_det
    loss = -torch.sum(logprob) # NLL
    model.zero_grad()
    loss.backward()
    optimizer.step()

    if k % 10 == 0:
        # vis
        zs, log_det = model.backward(xy)
        backward_flow_names = [type(f).__name__ for f in model.flow.flows[::-1]]
        nz = len(zs)
        for i in range(min(nz-1, 9)):
            z0 = zs[i].detach().numpy()
            z1 = zs[i+1].detach().numpy()
            print(i, backward_flow_names[i], np.round(z1.mean(0), 4))
print("final loss", loss.item())
