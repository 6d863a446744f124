# Source: Yandex School of Data Analysis, Practical_DL course, seminar "Normalizing flows" (week 9, generative
#   models), https://github.com/yandexdataschool/Practical_DL
#   resources/_under_construction/week09_generative/normalizing_flows.ipynb (the same notebook, as a student ran
#   it: https://github.com/tadejsv/Practical_DL seminar08-generative/normalizing_flows.ipynb)
# Shrunk: 200 samples a step instead of 1000, 60 Adam steps instead of an endless `while True` loop, a report
# every 20 steps instead of 500; the matplotlib scatter plots (and clear_output) are replaced by prints of the
# losses and of the mean/std of the samples the plots would show.
import torch
from torch import distributions as dist

# base distribution with known density
base = dist.Normal(torch.zeros(2), torch.ones(2))

# target distribution with "unknown" denisity
target = dist.Uniform(low=torch.tensor([4., 0.]), high=torch.tensor([6., 5.]))

y = base.sample([1000])
print("base sample:", y.shape, y.mean(0), y.std(0))

y = target.sample([1000])
print("target sample:", y.shape, y.mean(0), y.std(0))
print("target log_prob:", target.log_prob(y[:3]))

import torch.nn.functional as F
from torch import nn, optim

# abstract flow class
class Flow(nn.Module):
    def __init__(self, size, base):
        super().__init__()

        self.size = size
        self.base = base

    def forward(self, x):
        raise NotImplementedError

    def inverse(self, y):
        raise NotImplementedError

    def sample(self, shape):
        x = self.base.sample(shape)
        return self(x)

    def log_prob(self, y):
        x, ldij = self.inverse(y)
        return self.base.log_prob(x) + ldij

# basically an affine flow
class LinearFlow(Flow):
    def __init__(self, size, base):
        super(self.__class__, self).__init__(size, base)

        self.linear = nn.Linear(size, size)

    def forward(self, x):
        return self.linear(x)

    def inverse(self, y):
        batch = y.shape[0]
        inverse_weight = torch.inverse(self.linear.weight)
        x = F.linear(y - self.linear.bias, inverse_weight)
        ldij = torch.log(1 / self.linear.weight.det().abs()).view(1, 1)
        return x, ldij


class LeakyReLUFlow(Flow):
    def __init__(self, size, base, negative_slope=0.01):
        super(self.__class__, self).__init__(size, base)

        self.negative_slope = negative_slope

    def forward(self, x):
        return torch.where(x >= 0, x, x * self.negative_slope)

    def inverse(self, y):
        i = torch.ones_like(y)
        j_inv = torch.where(y >= 0, i, 1.0 / self.negative_slope * i)

        return torch.where(y >= 0, y, 1. / self.negative_slope * y),\
               torch.log(j_inv.abs()).sum(1, keepdim=True)

flow = base
for i in range(2):
  flow = LinearFlow(2, flow)
  flow = LeakyReLUFlow(2, flow)
flow = LinearFlow(2, flow)

optimizer = optim.Adam(flow.parameters(), lr=1e-3)
print(flow)
print("parameters:", [tuple(p.shape) for p in flow.parameters()])

epoch = 0
loss_history = list()

while epoch < 60:
    optimizer.zero_grad()

    y = target.sample([200])
    # minimize -log p(data)
    loss = -flow.log_prob(y).mean()
    loss.backward()

    optimizer.step()

    epoch += 1
    loss_history.append(loss.item())
    if epoch % 20 == 0:
        print("epoch %d loss %.4f" % (epoch, loss_history[-1]))

        y = flow.sample([200])
        print("  learnt sample mean", y.data.numpy().mean(0).round(3), "std", y.data.numpy().std(0).round(3))

print("last layer weight det:", flow.linear.weight.det().item())
print("inverse:", torch.inverse(flow.linear.weight))
