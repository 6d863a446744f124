# Source: PyTorch recipes "Tips for Loading an nn.Module from a Checkpoint" and "Reasoning about
# Shapes in PyTorch"
#   https://github.com/pytorch/tutorials  recipes_source/recipes/module_load_state_dict_tips.py,
#   recipes_source/recipes/reasoning_about_shapes.py
# Shrunk: the checkpoint written in a fresh temporary folder; the recipes' code as it is (torch.load
# with mmap=True, modules built under torch.device('meta'), load_state_dict(assign=True), meta
# tensors through a Conv2d and through the recipe's Net with a forward hook on every layer) with
# prints of what each step gives (the recipe only prints in its second half); the timeit lines'
# "Time taken" left out (timings). SomeModule.forward calls its ModuleList (an error in PyTorch),
# so the loaded layers are applied one by one instead.
import os
import tempfile

os.chdir(tempfile.mkdtemp())

import torch
from torch import nn

class SomeModule(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linears = nn.ModuleList([nn.Linear(1, 1) for i in range(10)])

    def forward(self, x):
        return self.linears(x)


m = SomeModule()
torch.save(m.state_dict(), 'checkpoint.pth')
state_dict = torch.load('checkpoint.pth', mmap=True)
with torch.device('meta'):
  meta_m = SomeModule()
print(meta_m.linears[0].weight)
print(meta_m.linears[0].weight.device, meta_m.linears[0].weight.shape, meta_m.linears[0].weight.is_meta)
print(meta_m.load_state_dict(state_dict, assign=True))
print(meta_m.linears[0].weight)
print(meta_m.linears[9].bias, meta_m.linears[9].bias.device)
print(type(meta_m.linears[0].weight).__name__, meta_m.linears[0].weight.requires_grad)

###############################################################################
# Taking a step back, let us inspect the following more vanilla code snippet
# that does not use any of the features listed above

state_dict = torch.load('checkpoint.pth')
m = SomeModule()
print(m.load_state_dict(state_dict))
print(list(state_dict.keys())[:4], len(state_dict))

state_dict = torch.load('checkpoint.pth')

state_dict = torch.load('checkpoint.pth', mmap=True)
print(state_dict['linears.3.weight'], state_dict['linears.3.bias'])

# Next, we consider the creation of the module.

m = SomeModule()

with torch.device('meta'):
  meta_m = SomeModule()

m.load_state_dict(state_dict)

meta_m.load_state_dict(state_dict, assign=True)

x = torch.arange(4.0).view(4, 1)
for mod, mod_meta in zip(m.linears, meta_m.linears):
    print(mod(x).view(-1), torch.equal(mod(x), mod_meta(x)))

# In-place copy into a meta tensor is a no-op: without assign=True the module stays on meta.
with torch.device('meta'):
  meta_m = SomeModule()
meta_m.load_state_dict(state_dict)
print(meta_m.linears[0].weight.device, meta_m.linears[0].bias)

###############################################################################
# Reasoning about Shapes in PyTorch

import timeit

t = torch.rand(2, 3, 10, 10, device="meta")
conv = torch.nn.Conv2d(3, 5, 2, device="meta")
start = timeit.default_timer()
out = conv(t)
end = timeit.default_timer()

print(out)

t_large = torch.rand(2**10, 3, 2**16, 2**16, device="meta")
start = timeit.default_timer()
out = conv(t_large)
end = timeit.default_timer()

print(out)

import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1) # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


def fw_hook(module, input, output):
    print(f"Shape of output to {module} is {output.shape}.")


# Any tensor created within this torch.device context manager will be
# on the meta device.
with torch.device("meta"):
    net = Net()
    inp = torch.randn((1024, 3, 32, 32))

for name, layer in net.named_modules():
    layer.register_forward_hook(fw_hook)

out = net(inp)
print(out)
