# Source: Mikhail Surtsukov, "Neural ODEs" notebook (a walk-through of Chen et al. 2018 with a
# hand-written adjoint method), the spiral experiments (code cells 53-58):
#   https://github.com/msurtsukov/neural-ode  "Neural ODEs.ipynb" (commit 661050ef)
# The notebook's shared cells (Euler ode_solve, ODEF.forward_with_grad with torch.autograd.grad,
# ODEAdjoint as a torch.autograd.Function, NeuralODE, LinearODEF, TestODEF, NNODEF) are in neural_ode/
# beside this script. Shrunk: t_max 6.29*5 -> 6.29*0.5 and n_points 200 -> 16, max_delta_time
# 5.0 -> 2.0, min_delta_time 1.0 -> 0.5, 500 and 3000 training steps -> 4 and 3, NNODEF hidden 16 -> 8.
# plot_trajectories (matplotlib) prints a summary of what it would draw instead; np.int (removed
# from NumPy) is np.int64.
import math
import numpy as np

import torch
from torch import Tensor
from torch import nn
from torch.nn import functional as F
from torch.autograd import Variable

from neural_ode import NeuralODE, ODEF, LinearODEF, SpiralFunctionExample, RandomLinearODEF, TestODEF, NNODEF, to_np

use_cuda = torch.cuda.is_available()


def plot_trajectories(obs=None, times=None, trajs=None, save=None, figsize=(16, 8)):
    # the notebook scatters obs coloured by time and plots trajs; print them instead
    if obs is not None:
        for o, t in zip(obs, times):
            o, t = to_np(o), to_np(t)
            print('  obs', o.shape, 'times', t.shape, 'obs[::5, 0]', np.round(o[::5, 0], 4).tolist())
    if trajs is not None:
        for z in trajs:
            z = to_np(z)
            print('  traj', z.shape, 'z[::5, 0]', np.round(z[::5, 0], 4).tolist(), '->', save)


def conduct_experiment(ode_true, ode_trained, n_steps, name, plot_freq=10):
    # Create data
    z0 = Variable(torch.Tensor([[0.6, 0.3]]))

    t_max = 6.29*0.5
    n_points = 16

    index_np = np.arange(0, n_points, 1, dtype=np.int64)
    index_np = np.hstack([index_np[:, None]])
    times_np = np.linspace(0, t_max, num=n_points)
    times_np = np.hstack([times_np[:, None]])

    times = torch.from_numpy(times_np[:, :, None]).to(z0)
    obs = ode_true(z0, times, return_whole_sequence=True).detach()
    obs = obs + torch.randn_like(obs) * 0.01

    # Get trajectory of random timespan
    min_delta_time = 0.5
    max_delta_time = 2.0
    max_points_num = 32
    def create_batch():
        t0 = np.random.uniform(0, t_max - max_delta_time)
        t1 = t0 + np.random.uniform(min_delta_time, max_delta_time)

        idx = sorted(np.random.permutation(index_np[(times_np > t0) & (times_np < t1)])[:max_points_num])

        obs_ = obs[idx]
        ts_ = times[idx]
        return obs_, ts_

    # Train Neural ODE
    optimizer = torch.optim.Adam(ode_trained.parameters(), lr=0.01)
    for i in range(n_steps):
        obs_, ts_ = create_batch()

        z_ = ode_trained(obs_[0], ts_, return_whole_sequence=True)
        loss = F.mse_loss(z_, obs_.detach())

        optimizer.zero_grad()
        loss.backward(retain_graph=True)
        optimizer.step()
        print(f"{name} step {i}: {len(ts_)} points, loss {loss.item():.6f}")

        if i % plot_freq == 0:
            z_p = ode_trained(z0, times, return_whole_sequence=True)

            plot_trajectories(obs=[obs], times=[times], trajs=[z_p], save=f"assets/imgs/{name}/{i}.png")
    for n, p in ode_trained.named_parameters():
        print(' ', n, tuple(p.shape), 'grad norm', round(p.grad.norm().item(), 5), 'value[:4]', np.round(to_np(p).ravel()[:4], 4).tolist())


ode_true = NeuralODE(SpiralFunctionExample())
ode_trained = NeuralODE(RandomLinearODEF())

conduct_experiment(ode_true, ode_trained, 4, "linear", plot_freq=2)

func = TestODEF(Tensor([[-0.1, -0.5], [0.5, -0.1]]), Tensor([[0.2, 1.], [-1, 0.2]]), Tensor([[-1., 0.]]))
ode_true = NeuralODE(func)

func = NNODEF(2, 8, time_invariant=True)
ode_trained = NeuralODE(func)

conduct_experiment(ode_true, ode_trained, 3, "comp", plot_freq=3)
