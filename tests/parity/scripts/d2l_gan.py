# Source: Dive into Deep Learning (PyTorch tab), 20.1 "Generative Adversarial Networks": the
# Gaussian data X A + b, the one-layer generator net_G, the Tanh MLP discriminator net_D,
# update_D / update_G with nn.BCEWithLogitsLoss(reduction='sum'), and train with two Adam optimizers
# and nn.init.normal_ over every parameter; with the d2l helpers it calls (load_array, Accumulator)
# copied in as the book defines them.
#   https://github.com/d2l-ai/d2l-en  chapter_generative-adversarial-networks/gan.md, d2l/torch.py
# Shrunk: 200 data points instead of 1000, 4 epochs instead of 20; the Animator replaced by a print
# per epoch (the two losses, and the mean and first rows of the generated points the book scatters),
# the timer and the examples/sec figure left out.
import sys

import torch
from torch import nn

d2l = sys.modules[__name__]
normal = torch.normal
tensor = torch.tensor
matmul = torch.matmul
numpy = lambda x, *args, **kwargs: x.detach().numpy(*args, **kwargs)


def load_array(data_arrays, batch_size, is_train=True):
    """Construct a PyTorch data iterator."""
    dataset = torch.utils.data.TensorDataset(*data_arrays)
    return torch.utils.data.DataLoader(dataset, batch_size, shuffle=is_train)


class Accumulator:
    """For accumulating sums over `n` variables."""
    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


X = d2l.normal(0.0, 1, (200, 2))
A = d2l.tensor([[1, 2], [-0.1, 0.5]])
b = d2l.tensor([1, 2])
data = d2l.matmul(X, A) + b

print(data[:5])
print(f'The covariance matrix is\n{d2l.matmul(A.T, A)}')

batch_size = 8
data_iter = d2l.load_array((data,), batch_size)

net_G = nn.Sequential(nn.Linear(2, 2))

net_D = nn.Sequential(
    nn.Linear(2, 5), nn.Tanh(),
    nn.Linear(5, 3), nn.Tanh(),
    nn.Linear(3, 1))


def update_D(X, Z, net_D, net_G, loss, trainer_D):
    """Update discriminator."""
    batch_size = X.shape[0]
    ones = torch.ones((batch_size,), device=X.device)
    zeros = torch.zeros((batch_size,), device=X.device)
    trainer_D.zero_grad()
    real_Y = net_D(X)
    fake_X = net_G(Z)
    # Do not need to compute gradient for `net_G`, detach it from
    # computing gradients.
    fake_Y = net_D(fake_X.detach())
    loss_D = (loss(real_Y, ones.reshape(real_Y.shape)) +
              loss(fake_Y, zeros.reshape(fake_Y.shape))) / 2
    loss_D.backward()
    trainer_D.step()
    return loss_D


def update_G(Z, net_D, net_G, loss, trainer_G):
    """Update generator."""
    batch_size = Z.shape[0]
    ones = torch.ones((batch_size,), device=Z.device)
    trainer_G.zero_grad()
    # We could reuse `fake_X` from `update_D` to save computation
    fake_X = net_G(Z)
    # Recomputing `fake_Y` is needed since `net_D` is changed
    fake_Y = net_D(fake_X)
    loss_G = loss(fake_Y, ones.reshape(fake_Y.shape))
    loss_G.backward()
    trainer_G.step()
    return loss_G


def train(net_D, net_G, data_iter, num_epochs, lr_D, lr_G, latent_dim, data):
    loss = nn.BCEWithLogitsLoss(reduction='sum')
    for w in net_D.parameters():
        nn.init.normal_(w, 0, 0.02)
    for w in net_G.parameters():
        nn.init.normal_(w, 0, 0.02)
    trainer_D = torch.optim.Adam(net_D.parameters(), lr=lr_D)
    trainer_G = torch.optim.Adam(net_G.parameters(), lr=lr_G)
    for epoch in range(num_epochs):
        # Train one epoch
        metric = d2l.Accumulator(3)  # loss_D, loss_G, num_examples
        for (X,) in data_iter:
            batch_size = X.shape[0]
            Z = torch.normal(0, 1, size=(batch_size, latent_dim))
            metric.add(update_D(X, Z, net_D, net_G, loss, trainer_D),
                       update_G(Z, net_D, net_G, loss, trainer_G),
                       batch_size)
        # Visualize generated examples
        Z = torch.normal(0, 1, size=(100, latent_dim))
        fake_X = net_G(Z).detach().numpy()
        print('generated mean', fake_X.mean(axis=0).round(4), 'first rows', fake_X[:2].round(4))
        # Show the losses
        loss_D, loss_G = metric[0]/metric[2], metric[1]/metric[2]
        print(f'epoch {epoch + 1}: loss_D {loss_D:.4f}, loss_G {loss_G:.4f}')
    print(f'loss_D {loss_D:.3f}, loss_G {loss_G:.3f}')


lr_D, lr_G, latent_dim, num_epochs = 0.05, 0.005, 2, 4
train(net_D, net_G, data_iter, num_epochs, lr_D, lr_G,
      latent_dim, d2l.numpy(data[:100]))
print(net_G[0].weight.data, net_G[0].bias.data)
print(net_D[0].weight.grad)
