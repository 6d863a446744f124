# Source: PyTorch tutorials, "Saving and Loading Models" (Matthew Inkawhich) and the recipe "Changing
# default device"
#   https://github.com/pytorch/tutorials  beginner_source/saving_loading_models.py,
#   recipes_source/recipes/changing_default_device.py
# Shrunk: the tutorial's TheModelClass and optimizer, its state_dict printouts, then each way it
# saves and loads (state_dict for inference, the entire model, a general checkpoint, several models
# in one file, warmstarting with strict=False, across devices on the CPU) into a temporary folder,
# with one forward pass on a random batch to show each load restored the weights; the recipe's
# default-device calls made with "cpu" (no GPU here).
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

folder = tempfile.mkdtemp()


# Define model
class TheModelClass(nn.Module):
    def __init__(self):
        super(TheModelClass, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


# Initialize model
model = TheModelClass()

# Initialize optimizer
optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

# Print model's state_dict
print("Model's state_dict:")
for param_tensor in model.state_dict():
    print(param_tensor, "\t", model.state_dict()[param_tensor].size())

# Print optimizer's state_dict
print("Optimizer's state_dict:")
for var_name in optimizer.state_dict():
    print(var_name, "\t", optimizer.state_dict()[var_name])

inputs = torch.randn(4, 3, 32, 32)
loss = F.cross_entropy(model(inputs), torch.tensor([0, 1, 2, 3]))
optimizer.zero_grad()
loss.backward()
optimizer.step()
print(optimizer.state_dict()['state'][0]['momentum_buffer'].shape, list(optimizer.state_dict()['state']))
expected = model(inputs)

# Save/Load state_dict (Recommended)
PATH = os.path.join(folder, "state_dict_model.pt")
torch.save(model.state_dict(), PATH)
model = TheModelClass()
print(model.load_state_dict(torch.load(PATH, weights_only=True)))
model.eval()
print(torch.allclose(model(inputs), expected))

# Save/Load Entire Model
PATH = os.path.join(folder, "entire_model.pt")
torch.save(model, PATH)
# Model class must be defined somewhere
model = torch.load(PATH, weights_only=False)
model.eval()
print(type(model).__name__, model.training, torch.allclose(model(inputs), expected))

# Saving & Loading a General Checkpoint for Inference and/or Resuming Training
PATH = os.path.join(folder, "model.tar")
epoch = 5
torch.save({
            'epoch': epoch,
            'model_state_dict': model.state_dict(),
            'optimizer_state_dict': optimizer.state_dict(),
            'loss': loss,
            }, PATH)

model = TheModelClass()
optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

checkpoint = torch.load(PATH, weights_only=True)
model.load_state_dict(checkpoint['model_state_dict'])
optimizer.load_state_dict(checkpoint['optimizer_state_dict'])
epoch = checkpoint['epoch']
loss = checkpoint['loss']

model.eval()
# - or -
model.train()
print(epoch, loss, optimizer.state_dict()['param_groups'])
print(optimizer.state_dict()['state'][9]['momentum_buffer'])

# Saving Multiple Models in One File
modelA, modelB = TheModelClass(), TheModelClass()
optimizerA = optim.SGD(modelA.parameters(), lr=0.001, momentum=0.9)
optimizerB = optim.Adam(modelB.parameters(), lr=0.001)
PATH = os.path.join(folder, "multiple.tar")
torch.save({
            'modelA_state_dict': modelA.state_dict(),
            'modelB_state_dict': modelB.state_dict(),
            'optimizerA_state_dict': optimizerA.state_dict(),
            'optimizerB_state_dict': optimizerB.state_dict(),
            }, PATH)

modelA = TheModelClass()
modelB = TheModelClass()
optimizerA = optim.SGD(modelA.parameters(), lr=0.001, momentum=0.9)
optimizerB = optim.Adam(modelB.parameters(), lr=0.001)

checkpoint = torch.load(PATH, weights_only=True)
modelA.load_state_dict(checkpoint['modelA_state_dict'])
modelB.load_state_dict(checkpoint['modelB_state_dict'])
optimizerA.load_state_dict(checkpoint['optimizerA_state_dict'])
optimizerB.load_state_dict(checkpoint['optimizerB_state_dict'])

modelA.eval()
modelB.eval()
print(sorted(checkpoint), checkpoint['optimizerB_state_dict']['param_groups'][0]['betas'])

# Warmstarting Model Using Parameters from a Different Model
PATH = os.path.join(folder, "modelA.pt")
torch.save(modelA.state_dict(), PATH)
modelB = TheModelClass()
print(modelB.load_state_dict(torch.load(PATH, weights_only=True), strict=False))

# Save on CPU, Load on CPU / Save on GPU, Load on CPU
device = torch.device('cpu')
model = TheModelClass()
model.load_state_dict(torch.load(PATH, map_location=device, weights_only=True))
print(next(model.parameters()).device, torch.equal(model.fc1.bias, modelA.fc1.bias))
model.to(device)

# Changing default device
print(torch.get_default_device())
torch.set_default_device('cpu')
mod = torch.nn.Linear(20, 30)
print(mod.weight.device)
print(mod(torch.randn(128, 20)).device)

with torch.device('cpu'):
    mod = torch.nn.Linear(20, 30)
    print(mod.weight.device)
    print(mod(torch.randn(128, 20)).device)
print(torch.get_default_device())
