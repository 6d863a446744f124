# Source: Ricky T. Q. Chen, torchdiffeq, "ODE demo" (fitting a spiral ODE with a neural ODE):
#   https://github.com/rtqichen/torchdiffeq  examples/ode_demo.py (commit 657943ac)
# torchdiffeq itself (pure PyTorch) is vendored beside this script in torchdiffeq/ (MIT license kept;
# dopri5 and the fixed-grid solvers only). Shrunk: --data_size 1000 -> 40 points on t in [0, 25],
# --batch_time 10 -> 5, --batch_size 20 -> 8, --niters 2000 -> 6, --test_freq 20 -> 3; the training
# solves use the fixed-grid 'rk4' method (the demo's default dopri5 with rtol=1e-7 in float32 takes
# thousands of steps) and the true trajectory is solved with dopri5 as in the demo but with
# rtol=1e-6, atol=1e-8 instead of the defaults 1e-7, 1e-9 (fewer steps, and still accurate enough that
# float32 rounding-order differences in its error estimates stay far below the printed digits). The
# matplotlib visualisation (--viz, makedirs, the plotting in visualize) is left out; instead a few values of the learned vector field on the demo's 21x21
# np.mgrid are printed. time.time() (the time meter) is kept but not printed. --adjoint is on by
# default (the demo's option; the scripts take no command line), so the solves go through
# torchdiffeq's odeint_adjoint (the adjoint ODE solved backwards with torch.autograd.grad).
# Each batch loss is printed (the demo prints only the test loss).
import os
import argparse
import time
import numpy as np

import torch
import torch.nn as nn
import torch.optim as optim

parser = argparse.ArgumentParser('ODE demo')
parser.add_argument('--method', type=str, choices=['dopri5', 'adams'], default='dopri5')
parser.add_argument('--data_size', type=int, default=40)
parser.add_argument('--batch_time', type=int, default=5)
parser.add_argument('--batch_size', type=int, default=8)
parser.add_argument('--niters', type=int, default=6)
parser.add_argument('--test_freq', type=int, default=3)
parser.add_argument('--viz', action='store_true')
parser.add_argument('--gpu', type=int, default=0)
parser.add_argument('--adjoint', action='store_true', default=True)
args = parser.parse_args()

if args.adjoint:
    from torchdiffeq import odeint_adjoint as odeint
else:
    from torchdiffeq import odeint

device = torch.device('cuda:' + str(args.gpu) if torch.cuda.is_available() else 'cpu')

true_y0 = torch.tensor([[2., 0.]]).to(device)
t = torch.linspace(0., 25., args.data_size).to(device)
true_A = torch.tensor([[-0.1, 2.0], [-2.0, -0.1]]).to(device)


class Lambda(nn.Module):

    def forward(self, t, y):
        return torch.mm(y**3, true_A)


with torch.no_grad():
    true_y = odeint(Lambda(), true_y0, t, method='dopri5', rtol=1e-6, atol=1e-8)
print('true_y', tuple(true_y.shape))
print(true_y[::8, 0])


def get_batch():
    s = torch.from_numpy(np.random.choice(np.arange(args.data_size - args.batch_time, dtype=np.int64), args.batch_size, replace=False))
    batch_y0 = true_y[s]  # (M, D)
    batch_t = t[:args.batch_time]  # (T)
    batch_y = torch.stack([true_y[s + i] for i in range(args.batch_time)], dim=0)  # (T, M, D)
    return batch_y0.to(device), batch_t.to(device), batch_y.to(device)


def visualize(true_y, pred_y, odefunc, itr):
    # the demo plots here; print the vector field it would draw, on its own grid
    y, x = np.mgrid[-2:2:21j, -2:2:21j]
    dydt = odefunc(0, torch.Tensor(np.stack([x, y], -1).reshape(21 * 21, 2)).to(device)).cpu().detach().numpy()
    mag = np.sqrt(dydt[:, 0]**2 + dydt[:, 1]**2).reshape(-1, 1)
    print('vector field', itr, dydt.shape, np.round(dydt[::110], 5).tolist(), 'mean |f|', round(float(mag.mean()), 5))


class ODEFunc(nn.Module):

    def __init__(self):
        super(ODEFunc, self).__init__()

        self.net = nn.Sequential(
            nn.Linear(2, 50),
            nn.Tanh(),
            nn.Linear(50, 2),
        )

        for m in self.net.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0, std=0.1)
                nn.init.constant_(m.bias, val=0)

    def forward(self, t, y):
        return self.net(y**3)


class RunningAverageMeter(object):
    """Computes and stores the average and current value"""

    def __init__(self, momentum=0.99):
        self.momentum = momentum
        self.reset()

    def reset(self):
        self.val = None
        self.avg = 0

    def update(self, val):
        if self.val is None:
            self.avg = val
        else:
            self.avg = self.avg * self.momentum + val * (1 - self.momentum)
        self.val = val


if __name__ == '__main__':

    ii = 0

    func = ODEFunc().to(device)

    optimizer = optim.RMSprop(func.parameters(), lr=1e-3)
    end = time.time()

    time_meter = RunningAverageMeter(0.97)

    loss_meter = RunningAverageMeter(0.97)

    for itr in range(1, args.niters + 1):
        optimizer.zero_grad()
        batch_y0, batch_t, batch_y = get_batch()
        pred_y = odeint(func, batch_y0, batch_t, method='rk4').to(device)
        loss = torch.mean(torch.abs(pred_y - batch_y))
        loss.backward()
        optimizer.step()

        time_meter.update(time.time() - end)
        loss_meter.update(loss.item())
        print('itr {} | batch loss {:.6f} | running {:.6f}'.format(itr, loss.item(), loss_meter.avg))

        if itr % args.test_freq == 0:
            with torch.no_grad():
                pred_y = odeint(func, true_y0, t, method='rk4')
                loss = torch.mean(torch.abs(pred_y - true_y))
                print('Iter {:04d} | Total Loss {:.6f}'.format(itr, loss.item()))
                visualize(true_y, pred_y, func, ii)
                ii += 1

        end = time.time()
