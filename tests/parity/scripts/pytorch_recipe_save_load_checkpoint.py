# Source: PyTorch tutorials, "Learn the Basics: Save and Load the Model" and the recipe "Saving and
# Loading a General Checkpoint in PyTorch"
#   https://pytorch.org/tutorials/beginner/basics/saveloadrun_tutorial.html
#   https://pytorch.org/tutorials/recipes/recipes/saving_and_loading_a_general_checkpoint.html
# Shrunk: the recipe's own small CNN (Net) for both (the first tutorial loads torchvision's VGG16);
# files written in a fresh temporary folder; 3 steps of training on random images around each save.
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

os.chdir(tempfile.mkdtemp())


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
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


net = Net()
print(net)

optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
criterion = nn.CrossEntropyLoss()
images, labels = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))


def train_steps(model, optimizer, steps=3):
    for _ in range(steps):
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
    return loss


loss = train_steps(net, optimizer)
print('loss after 3 steps: %.4f' % loss.item())

# Saving and Loading Model Weights
torch.save(net.state_dict(), 'model_weights.pth')
model = Net()  # we do not specify ``weights``, i.e. create untrained model
model.load_state_dict(torch.load('model_weights.pth', weights_only=True))
model.eval()
print('same outputs:', torch.equal(model(images), net.eval()(images)))

# Saving and Loading Models with Shapes
torch.save(net, 'model.pth')
model = torch.load('model.pth', weights_only=False)
print(type(model).__name__, 'same outputs:', torch.allclose(model(images), net(images)))

# Print model's state_dict
print("Model's state_dict:")
for param_tensor in net.state_dict():
    print(param_tensor, "\t", net.state_dict()[param_tensor].size())

# Print optimizer's state_dict
print("Optimizer's state_dict:")
for var_name in optimizer.state_dict():
    print(var_name, "\t", optimizer.state_dict()[var_name])

# Save the general checkpoint
EPOCH = 5
PATH = "model.pt"
LOSS = 0.4

torch.save({
            'epoch': EPOCH,
            'model_state_dict': net.state_dict(),
            'optimizer_state_dict': optimizer.state_dict(),
            'loss': LOSS,
            }, PATH)

# Load the general checkpoint
model = Net()
optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

checkpoint = torch.load(PATH, weights_only=True)
model.load_state_dict(checkpoint['model_state_dict'])
optimizer.load_state_dict(checkpoint['optimizer_state_dict'])
epoch = checkpoint['epoch']
loss = checkpoint['loss']
print('epoch', epoch, 'loss', loss)

model.train()
# - or -
# model.eval()

# training goes on from where it stopped: the same as the original model trained further
resumed = train_steps(model, optimizer)
net.train()
original_optimizer_state = optimizer.state_dict()['state'][0]['momentum_buffer'].sum()
print('resumed loss: %.4f' % resumed.item())
print('momentum buffer sum after resuming: %.4f' % original_optimizer_state.item())
