# Source: Ben Moseley, "So, what is a physics-informed neural network?" (blog post workshop notebook),
#   https://github.com/benmoseley/harmonic-oscillator-pinn  Harmonic oscillator PINN.ipynb
#   (a plain network fitted to 10 points of the underdamped oscillator, then a PINN whose physics loss
#   d2y/dx2 + mu dy/dx + k y is built with two torch.autograd.grad(..., torch.ones_like(...),
#   create_graph=True) calls on x_physics.requires_grad_(True)).
# Shrunk: 40 Adam steps instead of 1000 for the plain network, 30 instead of 20000 for the PINN;
#   the matplotlib plots and PIL GIF frames (plot_result, save_gif_PIL) are dropped: in their place a
#   print every 10 steps of the loss terms and of the prediction at a few x, and of the
#   derivatives dx, dx2 at a few physics points.
import numpy as np
import torch
import torch.nn as nn


def oscillator(d, w0, x):
    """Defines the analytical solution to the 1D underdamped harmonic oscillator problem.
    Equations taken from: https://beltoforion.de/en/harmonic_oscillator/"""
    assert d < w0
    w = np.sqrt(w0**2-d**2)
    phi = np.arctan(-d/w)
    A = 1/(2*np.cos(phi))
    cos = torch.cos(phi+w*x)
    sin = torch.sin(phi+w*x)
    exp = torch.exp(-d*x)
    y  = exp*2*A*cos
    return y

class FCN(nn.Module):
    "Defines a connected network"

    def __init__(self, N_INPUT, N_OUTPUT, N_HIDDEN, N_LAYERS):
        super().__init__()
        activation = nn.Tanh
        self.fcs = nn.Sequential(*[
                        nn.Linear(N_INPUT, N_HIDDEN),
                        activation()])
        self.fch = nn.Sequential(*[
                        nn.Sequential(*[
                            nn.Linear(N_HIDDEN, N_HIDDEN),
                            activation()]) for _ in range(N_LAYERS-1)])
        self.fce = nn.Linear(N_HIDDEN, N_OUTPUT)

    def forward(self, x):
        x = self.fcs(x)
        x = self.fch(x)
        x = self.fce(x)
        return x


d, w0 = 2, 20

# get the analytical solution over the full domain
x = torch.linspace(0,1,500).view(-1,1)
y = oscillator(d, w0, x).view(-1,1)
print(x.shape, y.shape)
print(y.dtype, y[::100].flatten())

# slice out a small number of points from the LHS of the domain
x_data = x[0:200:20]
y_data = y[0:200:20]
print(x_data.shape, y_data.shape)
print(x_data.flatten())

# train standard neural network to fit training data
torch.manual_seed(123)
model = FCN(1,1,32,3)
print(model)
optimizer = torch.optim.Adam(model.parameters(),lr=1e-3)
for i in range(40):
    optimizer.zero_grad()
    yh = model(x_data)
    loss = torch.mean((yh-y_data)**2)# use mean squared error
    loss.backward()
    optimizer.step()

    # in place of the plot: the result as training progresses
    if (i+1) % 10 == 0:
        yh = model(x).detach()
        print("Training step: %i" % (i+1), "loss: %.6f" % loss.item(), yh[::100].flatten())

x_physics = torch.linspace(0,1,30).view(-1,1).requires_grad_(True)# sample locations over the problem domain
mu, k = 2*d, w0**2

torch.manual_seed(123)
model = FCN(1,1,32,3)
optimizer = torch.optim.Adam(model.parameters(),lr=1e-4)
for i in range(30):
    optimizer.zero_grad()

    # compute the "data loss"
    yh = model(x_data)
    loss1 = torch.mean((yh-y_data)**2)# use mean squared error

    # compute the "physics loss"
    yhp = model(x_physics)
    dx  = torch.autograd.grad(yhp, x_physics, torch.ones_like(yhp), create_graph=True)[0]# computes dy/dx
    dx2 = torch.autograd.grad(dx,  x_physics, torch.ones_like(dx),  create_graph=True)[0]# computes d^2y/dx^2
    physics = dx2 + mu*dx + k*yhp# computes the residual of the 1D harmonic oscillator differential equation
    loss2 = (1e-4)*torch.mean(physics**2)

    # backpropagate joint loss
    loss = loss1 + loss2# add two loss terms together
    loss.backward()
    optimizer.step()

    # in place of the plot: the result as training progresses
    if (i+1) % 10 == 0:
        yh = model(x).detach()
        xp = x_physics.detach()
        print("Training step: %i" % (i+1), "loss1: %.6f loss2: %.6f" % (loss1.item(), loss2.item()))
        print("  yh:", yh[::100].flatten())
        print("  dx:", dx[::10].detach().flatten(), "dx2:", dx2[::10].detach().flatten())

print(loss, loss2.grad_fn.name(), dx.requires_grad, dx2.grad_fn is not None)
print(x_physics.grad is None, xp.requires_grad, -0*torch.ones_like(xp)[:3].flatten())
