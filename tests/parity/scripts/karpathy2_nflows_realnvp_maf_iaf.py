# Source: Andrej Karpathy, pytorch-normalizing-flows, nflib1.ipynb: the notebook's "construct a model" cell
# lists the flows of the repository one commented-out line each (RealNVP, NICE, SlowMAF, MAF with a MADE
# net, IAF, ActNorms inserted, the Glow stack, the autoregressive neural spline NSF_AR); here each of them is
# built in turn over the commented-out MultivariateNormal prior and trained by the notebook's training cell
# on its 4-Gaussian DatasetMixture, then model.sample and model.backward are run as in its plotting cells.
# The flows come from the repository's nflib package (the folder beside this script).
#   https://github.com/karpathy/pytorch-normalizing-flows  nflib1.ipynb, nflib/flows.py, nflib/nets.py,
#   nflib/made.py, nflib/spline_flows.py
# Shrunk: 3 training steps per model (not 1000) on batches of 64 (not 128), fewer/smaller flows where the
# notebook has 9 RealNVP layers (4 here); the plots print what they show (means of the samples and of the
# data mapped to z); the notebook's %matplotlib and %autoreload lines are left out.
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


class DatasetMixture:
    """ 4 mixture of gaussians """
    def sample(self, n):
        assert n%4 == 0
        r = np.r_[np.random.randn(n // 4, 2)*0.5 + np.array([0, -2]),
                  np.random.randn(n // 4, 2)*0.5 + np.array([0, 0]),
                  np.random.randn(n // 4, 2)*0.5 + np.array([2, 2]),
                  np.random.randn(n // 4, 2)*0.5 + np.array([-2, 2])]
        return torch.from_numpy(r.astype(np.float32))

d = DatasetMixture()


def build(name):
    # RealNVP
    if name == 'RealNVP':
        flows = [AffineHalfFlow(dim=2, parity=i%2) for i in range(4)]

    # NICE
    if name == 'NICE':
        flows = [AffineHalfFlow(dim=2, parity=i%2, scale=False) for i in range(4)]
        flows.append(AffineConstantFlow(dim=2, shift=False))

    # SlowMAF (MAF, but without any parameter sharing for each dimension's scale/shift)
    if name == 'SlowMAF':
        flows = [SlowMAF(dim=2, parity=i%2) for i in range(4)]

    # MAF (with MADE net, so we get very fast density estimation)
    if name in ('MAF', 'MAF+ActNorm'):
        flows = [MAF(dim=2, parity=i%2) for i in range(4)]

    # IAF (with MADE net, so we get very fast sampling)
    if name == 'IAF':
        flows = [IAF(dim=2, parity=i%2) for i in range(3)]

    # insert ActNorms to any of the flows above
    if name == 'MAF+ActNorm':
        norms = [ActNorm(dim=2) for _ in flows]
        flows = list(itertools.chain(*zip(norms, flows)))

    # Glow paper
    if name == 'Glow':
        flows = [Invertible1x1Conv(dim=2) for i in range(3)]
        norms = [ActNorm(dim=2) for _ in flows]
        couplings = [AffineHalfFlow(dim=2, parity=i%2, nh=32) for i in range(len(flows))]
        flows = list(itertools.chain(*zip(norms, flows, couplings))) # append a coupling layer after each 1x1

    # Neural splines, autoregressive
    if name == 'NSF_AR':
        nfs_flow = NSF_CL if False else NSF_AR
        flows = [nfs_flow(dim=2, K=8, B=3, hidden_dim=16) for _ in range(3)]
        convs = [Invertible1x1Conv(dim=2) for _ in flows]
        norms = [ActNorm(dim=2) for _ in flows]
        flows = list(itertools.chain(*zip(norms, convs, flows)))
    return flows


for name in ['RealNVP', 'NICE', 'SlowMAF', 'MAF', 'IAF', 'MAF+ActNorm', 'Glow', 'NSF_AR']:
    print("----", name)
    prior = MultivariateNormal(torch.zeros(2), torch.eye(2))
    flows = build(name)

    # construct the model
    model = NormalizingFlowModel(prior, flows)

    # optimizer
    optimizer = optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-5) # todo tune WD
    print("number of params: ", sum(p.numel() for p in model.parameters()))

    model.train()
    for k in range(3):
        x = d.sample(64)

        zs, prior_logprob, log_det = model(x)
        logprob = prior_logprob + log_det
        loss = -torch.sum(logprob) # NLL

        model.zero_grad()
        loss.backward()
        optimizer.step()

        if k % 2 == 0:
            print(loss.item())

    model.eval()

    x = d.sample(64)
    zs, prior_logprob, log_det = model(x)
    z = zs[-1]

    x = x.detach().numpy()
    z = z.detach().numpy()
    print("x -> z", len(zs), np.round(z.mean(0), 4), "log det %.4f" % log_det.mean().item())

    zs = model.sample(64)
    z = zs[-1]
    z = z.detach().numpy()
    print("z -> x", z.shape, np.round(z.mean(0), 4))

    # invertibility: backward of forward
    xs, log_det_b = model.backward(model(torch.from_numpy(x))[0][-1])
    print("max |x - backward(forward(x))| < 1e-3:", (xs[-1] - torch.from_numpy(x)).abs().max().item() < 1e-3,
          "log dets cancel:", torch.allclose(log_det_b, -log_det, atol=1e-3))
