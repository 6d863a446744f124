# Source: Mikhail Surtsukov, "Neural ODEs" notebook, the continuous-depth MNIST classifier (code cells
# 63-71: ConvODEF with time as an extra channel, BatchNorm inside the dynamics, trained through the
# notebook's hand-written adjoint):
#   https://github.com/msurtsukov/neural-ode  "Neural ODEs.ipynb" (commit 661050ef)
# The shared cells (ode_solve, ODEF, ODEAdjoint, NeuralODE) are in neural_ode/ beside this script.
# Shrunk: 64 channels -> 12; 48 synthetic 28x28 "digits" (noise around ten class templates),
# normalized with the notebook's img_mean/img_std, in TensorDatasets instead of torchvision's MNIST
# (batch_size 32 -> 16, test batch 128 -> 24); n_epochs 5 -> 1. tqdm's progress bar is left out
# (the loops are the notebook's without the tqdm(...) wrapper); the pandas/matplotlib loss plot is
# replaced by printing the per-batch losses.
import math
import numpy as np

import torch
from torch import Tensor
from torch import nn
from torch.nn import functional as F
from torch.autograd import Variable

from neural_ode import ODEF, NeuralODE

use_cuda = torch.cuda.is_available()


def norm(dim):
    return nn.BatchNorm2d(dim)

def conv3x3(in_feats, out_feats, stride=1):
    return nn.Conv2d(in_feats, out_feats, kernel_size=3, stride=stride, padding=1, bias=False)

def add_time(in_tensor, t):
    bs, c, w, h = in_tensor.shape
    return torch.cat((in_tensor, t.expand(bs, 1, w, h)), dim=1)


class ConvODEF(ODEF):
    def __init__(self, dim):
        super(ConvODEF, self).__init__()
        self.conv1 = conv3x3(dim + 1, dim)
        self.norm1 = norm(dim)
        self.conv2 = conv3x3(dim + 1, dim)
        self.norm2 = norm(dim)

    def forward(self, x, t):
        xt = add_time(x, t)
        h = self.norm1(torch.relu(self.conv1(xt)))
        ht = add_time(h, t)
        dxdt = self.norm2(torch.relu(self.conv2(ht)))
        return dxdt


class ContinuousNeuralMNISTClassifier(nn.Module):
    def __init__(self, ode):
        super(ContinuousNeuralMNISTClassifier, self).__init__()
        self.downsampling = nn.Sequential(
            nn.Conv2d(1, 12, 3, 1),
            norm(12),
            nn.ReLU(inplace=True),
            nn.Conv2d(12, 12, 4, 2, 1),
            norm(12),
            nn.ReLU(inplace=True),
            nn.Conv2d(12, 12, 4, 2, 1),
        )
        self.feature = ode
        self.norm = norm(12)
        self.avg_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(12, 10)

    def forward(self, x):
        x = self.downsampling(x)
        x = self.feature(x)
        x = self.norm(x)
        x = self.avg_pool(x)
        shape = torch.prod(torch.tensor(x.shape[1:])).item()
        x = x.view(-1, shape)
        out = self.fc(x)
        return out


func = ConvODEF(12)
ode = NeuralODE(func)
model = ContinuousNeuralMNISTClassifier(ode)
if use_cuda:
    model = model.cuda()

img_std = 0.3081
img_mean = 0.1307

templates = torch.rand(10, 1, 28, 28)
train_labels = torch.randint(0, 10, (48,))
train_images = (templates[train_labels] + 0.5 * torch.rand(48, 1, 28, 28) - img_mean) / img_std
test_labels = torch.randint(0, 10, (24,))
test_images = (templates[test_labels] + 0.5 * torch.rand(24, 1, 28, 28) - img_mean) / img_std

batch_size = 16
train_loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(train_images, train_labels),
    batch_size=batch_size, shuffle=True
)

test_loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(test_images, test_labels),
    batch_size=24, shuffle=True
)

optimizer = torch.optim.Adam(model.parameters())


def train(epoch):
    num_items = 0
    train_losses = []

    model.train()
    criterion = nn.CrossEntropyLoss()
    print(f"Training Epoch {epoch}...")
    for batch_idx, (data, target) in enumerate(train_loader):
        if use_cuda:
            data = data.cuda()
            target = target.cuda()
        optimizer.zero_grad()
        output = model(data)
        loss = criterion(output, target)
        loss.backward()
        optimizer.step()

        train_losses += [loss.item()]
        num_items += data.shape[0]
    print('Train loss: {:.5f}'.format(np.mean(train_losses)))
    return train_losses


def test():
    accuracy = 0.0
    num_items = 0

    model.eval()
    criterion = nn.CrossEntropyLoss()
    print(f"Testing...")
    with torch.no_grad():
        for batch_idx, (data, target) in enumerate(test_loader):
            if use_cuda:
                data = data.cuda()
                target = target.cuda()
            output = model(data)
            accuracy += torch.sum(torch.argmax(output, dim=1) == target).item()
            num_items += data.shape[0]
    accuracy = accuracy * 100 / num_items
    print("Test Accuracy: {:.3f}%".format(accuracy))


n_epochs = 1
test()
train_losses = []
for epoch in range(1, n_epochs + 1):
    train_losses += train(epoch)
    test()

print('train losses', [round(l, 5) for l in train_losses])
print('ode norm1 running_mean[:4]', func.norm1.running_mean[:4])
print('num_batches_tracked', func.norm1.num_batches_tracked.item(), model.norm.num_batches_tracked.item())
print('fc.weight.grad[0, :4]', model.fc.weight.grad[0, :4])
print('conv1.weight.grad norm', func.conv1.weight.grad.norm().item())
