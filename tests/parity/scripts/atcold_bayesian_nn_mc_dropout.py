# Source: Alfredo Canziani, NYU Deep Learning (DS-GA 1008, spring 2020) notebook "13 - Bayesian neural
# networks" (a dropout MLP regresses x sin(x) from 20 points; kept in train mode at test time, 100
# stochastic forward passes give a mean and a standard deviation: Monte Carlo dropout):
#   https://github.com/Atcold/NYU-DLSP20  13-bayesian_nn.ipynb
# Shrunk: 300 training epochs instead of 1000, the denser input 100 points instead of 1000, 20
# stochastic passes instead of 100. The plots are printed as a few of the values they would show.
# No matplotlib.
import torch
from torch import nn, optim

# Training set
m = 20  # nb of training pairs
x = (torch.rand(m) - 0.5) * 12  # inputs, sampled from -5 to +5
y = x * torch.sin(x)  # targets

# View training points
print(x.numpy()[:5], y.numpy()[:5])

# Define network architecture (try different non-linearities)

non_linear = nn.Tanh
non_linear = nn.ReLU

net = nn.Sequential(
    nn.Dropout(p=0.05),
    nn.Linear(1, 20),
    non_linear(),
    nn.Dropout(p=0.05),
    nn.Linear(20, 20),
    non_linear(),
    nn.Linear(20, 1)
)
print(net)

# Training objective and optimiser
criterion = nn.MSELoss()
optimiser = optim.SGD(net.parameters(), lr=0.01, weight_decay=0.00001)

# Training loop
for epoch in range(300):
    y_hat = net(x.view(-1, 1))
    loss = criterion(y_hat, y.view(-1, 1))
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    if epoch % 50 == 0:
        print(loss.item())

# Define a denser input range
xx = torch.linspace(-15, 15, 100)

# Evaluate net over denser input (try both eval() and train() modes)

net.eval()
# net.train()

with torch.no_grad():
    print(net(xx.view(-1, 1)).squeeze().numpy()[::10])

# Multiple (100) runs for denser input
net.train()
y_hat = list()
with torch.no_grad():
    for t in range(20):
        y_hat.append(net(xx.view(-1, 1)).squeeze())

# Evaluate mean and std over denser input
y_hat = torch.stack(y_hat)
mean = y_hat.mean(0)
std = y_hat.std(0)

# Visualise mean and mean ± std -> confidence range
print(y_hat.shape)
print(mean[::10])
print(std[::10])
print((mean + std).numpy()[::25], (mean - std).numpy()[::25])
