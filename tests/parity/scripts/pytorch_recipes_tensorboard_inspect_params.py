# Source: PyTorch recipes "How to use TensorBoard with PyTorch", "What is a state_dict in PyTorch"
# and "Inspecting Model Parameters" (Logan Thomas)
#   https://github.com/pytorch/tutorials  recipes_source/recipes/tensorboard_with_pytorch.py,
#   recipes_source/recipes/what_is_state_dict.py, recipes_source/inspecting_model_parameters.py
# Shrunk: nothing to shrink in the recipes' code; the SummaryWriter's default ./runs/ folder made in
# a fresh temporary folder, the losses it logs read back from the event file with TensorBoard's own
# EventAccumulator and printed (the recipe looks at them in the TensorBoard UI); torchinfo (not
# installed here) left out, the manual per-layer counts that the recipe compares with it kept.
import os
import tempfile

os.chdir(tempfile.mkdtemp())

import torch
from torch.utils.tensorboard import SummaryWriter
writer = SummaryWriter()

x = torch.arange(-5, 5, 0.1).view(-1, 1)
y = -5 * x + 0.1 * torch.randn(x.size())

model = torch.nn.Linear(1, 1)
criterion = torch.nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr = 0.1)

def train_model(iter):
    for epoch in range(iter):
        y1 = model(x)
        loss = criterion(y1, y)
        writer.add_scalar("Loss/train", loss, epoch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        
train_model(10)
writer.flush()

writer.close()

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

accumulator = EventAccumulator(writer.get_logdir())
accumulator.Reload()
print(accumulator.Tags()["scalars"])
for event in accumulator.Scalars("Loss/train"):
    print(event.step, f"{event.value:.6f}")
print(model.weight, model.bias)

######################################################################
# What is a state_dict in PyTorch

import torch
import torch.nn as nn
import torch.optim as optim

class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.flatten(start_dim=1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x

net = Net()
print(net)

optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

# Print model's state_dict
print("Model's state_dict:")
for param_tensor in net.state_dict():
    print(param_tensor, "\t", net.state_dict()[param_tensor].size())

print()

# Print optimizer's state_dict
print("Optimizer's state_dict:")
for var_name in optimizer.state_dict():
    print(var_name, "\t", optimizer.state_dict()[var_name])

######################################################################
# Inspecting Model Parameters

from torch import nn

class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28*28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits

model = NeuralNetwork()
print(model)

print([param.shape for param in model.parameters()])

for name, param in model.named_parameters():
    print(name, param.shape)

layer = nn.Linear(28*28, 512)

for name, param in layer.named_parameters():
    print(name, param.size())

for name, param in model.named_parameters():
    print(f'{name=}, {param.size()=}, {param.numel()=}')

print(f'Total model params: {sum(p.numel() for p in model.parameters()):,}')

print(f'Total model trainable params: {sum(p.numel() for p in model.parameters() if p.requires_grad):,}')

for name, param in model.named_parameters():
    if name == 'linear_relu_stack.0.weight':
        param.requires_grad = False
    print(f'{name=}, {param.size()=}, {param.numel()=}, {param.requires_grad=}')
print(f'Total model trainable params: {sum(p.numel() for p in model.parameters() if p.requires_grad):,}')

class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels=1, out_channels=32, kernel_size=3),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels=32, out_channels=64, kernel_size=3),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=(2, 2)),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * 12 * 12, 128),
            nn.ReLU(inplace=True),
            nn.Linear(128, 10),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.classifier(x)
        return x

cnn_model = CNN()
print(cnn_model)
print('-'*72)
for name, param in cnn_model.named_parameters():
    print(f'{name=}, {param.size()=}, {param.numel()=}, {param.requires_grad=}')
print('-'*72)
print(f'Total model trainable params: {sum(p.numel() for p in cnn_model.parameters() if p.requires_grad):,}')

import numpy as np

for name, param in cnn_model.named_parameters():
    print(f'{name=}, {param.size()=}, {np.prod(param.size())=} == {param.numel()=}')

print('-'*72)
print(f'Manually gathered model trainable params: {sum(p.numel() for p in model.parameters() if p.requires_grad):,}')
from collections import defaultdict
layer_params = defaultdict(int)

for name, param in model.named_parameters():
    # combine weight and bias together using layer name
    # linear_relu_stack.0 = linear_relu_stack.0.weight + linear_relu_stack.bias
    layer_params[name.rsplit('.', 1)[0]] += param.numel()

for name, total_params in layer_params.items():
    print(f'{name=} {total_params=:,}')

print('-'*72)
print(f'Manually gathered model trainable params: {sum(p.numel() for p in cnn_model.parameters() if p.requires_grad):,}')
print('-'*72)
print('Manually generated total number of parameters per layer:')
cnn_layer_params = defaultdict(int)

for name, param in cnn_model.named_parameters():
    cnn_layer_params[name.rsplit('.', 1)[0]] += param.numel()

for name, total_params in cnn_layer_params.items():
    print(f'{name=} {total_params=:,}')
