# Source: PyTorch (functorch examples), fitting a network to the Lennard-Jones potential and its
#   forces (the forces are the network's derivative, vmap(jacrev(model)), trained through)
#   https://github.com/pytorch/pytorch  functorch/examples/lennard_jones/lennard_jones.py
#   (adapted there from https://github.com/muhrin/milad, GPLv3)
# Shrunk: `from functorch import jacrev, vmap` is written `from torch.func import jacrev, vmap`
# (the same functions; functorch is PyTorch's older name for torch.func); torch.linspace's steps,
# whose default of 100 PyTorch has since removed, is passed: 25 distances instead of 100; 20 Adam
# epochs instead of 400 (the loss printed every 5 instead of 20), plus a few extra prints of the
# training data and the fitted energies and forces.
import torch
from torch import nn
from torch.nn.functional import mse_loss
from torch.func import jacrev, vmap

sigma = 0.5
epsilon = 4.

def lennard_jones(r):
    return epsilon * ((sigma / r)**12 - (sigma / r)**6)

def lennard_jones_force(r):
    """Get magnitude of LJ force"""
    return -epsilon * ((-12 * sigma**12 / r**13) + (6 * sigma**6 / r**7))

training_size = 1000
r = torch.linspace(0.5, 2 * sigma, 25, requires_grad=True)

# Create a bunch of vectors that point along positive-x
drs = torch.outer(r, torch.tensor([1.0, 0, 0]))
norms = torch.norm(drs, dim=1).reshape(-1, 1)
# Create training energies
training_energies = torch.stack(list(map(lennard_jones, norms))).reshape(-1, 1)
# Create forces with random direction vectors
training_forces = torch.stack([force * dr for force, dr in zip(map(lennard_jones_force, norms), drs)])
print(drs.shape, norms.shape, training_energies.shape, training_forces.shape)
print(training_energies[::6].flatten(), training_forces[::6, 0])

model = nn.Sequential(
    nn.Linear(1, 16),
    nn.Tanh(),
    nn.Linear(16, 16),
    nn.Tanh(),
    nn.Linear(16, 16),
    nn.Tanh(),
    nn.Linear(16, 16),
    nn.Tanh(),
    nn.Linear(16, 1)
)

def make_prediction(model, drs):
    norms = torch.norm(drs, dim=1).reshape(-1, 1)
    energies = model(norms)

    network_derivs = vmap(jacrev(model))(norms).squeeze(-1)
    forces = -network_derivs * drs / norms
    return energies, forces

def loss_fn(energies, forces, predicted_energies, predicted_forces):
    return mse_loss(energies, predicted_energies) + 0.01 * mse_loss(forces, predicted_forces) / 3

optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)

for epoch in range(20):
    optimiser.zero_grad()
    energies, forces = make_prediction(model, drs)
    loss = loss_fn(training_energies, training_forces, energies, forces)
    loss.backward(retain_graph=True)
    optimiser.step()

    if epoch % 5 == 0:
        print(loss.cpu().item())

# (extra) the fitted energies and forces at a few distances, and r's gradient from the last step
energies, forces = make_prediction(model, drs)
print(energies[::6].flatten().detach(), forces[::6, 0].detach())
print(r.grad is None or r.grad.shape, model[0].weight.grad[:3].flatten())
