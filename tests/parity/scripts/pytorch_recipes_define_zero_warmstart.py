# Source: PyTorch recipes "Defining a Neural Network in PyTorch", "Zeroing out gradients in PyTorch"
# and "Warmstarting model using parameters from a different model in PyTorch"
#   https://github.com/pytorch/tutorials  recipes_source/recipes/defining_a_neural_network.py,
#   recipes_source/recipes/zeroing_out_gradients.py,
#   recipes_source/recipes/warmstarting_model_using_parameters_from_a_different_model.py
# Shrunk: the first net put in eval mode before its one forward pass (PyTorch draws Dropout2d's masks
# in its kernel, out of reach of the random stream the two runs share); 64 random 3x32x32 "CIFAR-10 images" in a TensorDataset (batches of 4, as the recipe) instead
# of torchvision's CIFAR10, 1 epoch printing every 4 mini-batches instead of every 2000; the
# warmstart's file in a temporary folder, and its partial loads (renamed and extra layers, the
# recipe's "Partially loading a model" advice) printed with the keys load_state_dict reports; of a
# strict load's error, the lines after the first (chainrule's first line adds that nothing was loaded:
# its load is all or nothing, where PyTorch's copies the matching entries before it raises).
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

# Defining a Neural Network
class Net(nn.Module):
    def __init__(self):
      super(Net, self).__init__()

      # First 2D convolutional layer, taking in 1 input channel (image),
      # outputting 32 convolutional features, with a square kernel size of 3
      self.conv1 = nn.Conv2d(1, 32, 3, 1)
      # Second 2D convolutional layer, taking in the 32 input layers,
      # outputting 64 convolutional features, with a square kernel size of 3
      self.conv2 = nn.Conv2d(32, 64, 3, 1)

      # Designed to ensure that adjacent pixels are either all 0s or all active
      # with an input probability
      self.dropout1 = nn.Dropout2d(0.25)
      self.dropout2 = nn.Dropout2d(0.5)

      # First fully connected layer
      self.fc1 = nn.Linear(9216, 128)
      # Second fully connected layer that outputs our 10 labels
      self.fc2 = nn.Linear(128, 10)

    # x represents our data
    def forward(self, x):
      # Pass data through conv1
      x = self.conv1(x)
      # Use the rectified-linear activation function over x
      x = F.relu(x)

      x = self.conv2(x)
      x = F.relu(x)

      # Run max pooling over x
      x = F.max_pool2d(x, 2)
      # Pass data through dropout1
      x = self.dropout1(x)
      # Flatten x with start_dim=1
      x = torch.flatten(x, 1)
      # Pass data through ``fc1``
      x = self.fc1(x)
      x = F.relu(x)
      x = self.dropout2(x)
      x = self.fc2(x)

      # Apply softmax to x
      output = F.log_softmax(x, dim=1)
      return output


my_nn = Net()
print(my_nn)

# Equates to one random 28x28 image
random_data = torch.rand((1, 1, 28, 28))

my_nn.eval()
result = my_nn(random_data)
print(result)

# Zeroing out gradients
trainloader = DataLoader(TensorDataset(torch.rand(64, 3, 32, 32), torch.randint(0, 10, (64,))),
                         batch_size=4, shuffle=True)


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
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

for epoch in range(1):  # loop over the dataset multiple times

    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        # get the inputs; data is a list of [inputs, labels]
        inputs, labels = data

        # zero the parameter gradients
        optimizer.zero_grad()

        # forward + backward + optimize
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()

        # print statistics
        running_loss += loss.item()
        if i % 4 == 3:    # print every 4 mini-batches
            print('[%d, %5d] loss: %.3f' %
                  (epoch + 1, i + 1, running_loss / 4))
            running_loss = 0.0

print('Finished Training')
print(net.conv1.bias.grad)
net.zero_grad()
print(net.conv1.bias.grad)
optimizer.zero_grad(set_to_none=False)
print(net.conv1.bias.grad)


# Warmstarting model using parameters from a different model
class NetA(nn.Module):
    def __init__(self):
        super(NetA, self).__init__()
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

netA = NetA()

class NetB(nn.Module):
    def __init__(self):
        super(NetB, self).__init__()
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

netB = NetB()

# Specify a path to save to
PATH = os.path.join(tempfile.mkdtemp(), "model.pt")

torch.save(netA.state_dict(), PATH)

print(netB.load_state_dict(torch.load(PATH, weights_only=True), strict=False))
print(torch.equal(netA.fc3.weight, netB.fc3.weight))


# Partially loading: a model with a renamed layer and an extra one
class NetC(nn.Module):
    def __init__(self):
        super(NetC, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.classifier = nn.Linear(84, 10)
        self.extra = nn.BatchNorm1d(84)


netC = NetC()
result = netC.load_state_dict(torch.load(PATH, weights_only=True), strict=False)
print(result)
print(result.missing_keys)
print(result.unexpected_keys)
missing_keys, unexpected_keys = result
print(len(missing_keys), len(unexpected_keys))
try:
    netC.load_state_dict(torch.load(PATH, weights_only=True))
except RuntimeError as error:
    print(type(error).__name__, str(error).splitlines()[1:])
state = torch.load(PATH, weights_only=True)
state['classifier.weight'] = state.pop('fc3.weight')
state['classifier.bias'] = state.pop('fc3.bias')
print(netC.load_state_dict(state, strict=False))
print(torch.equal(netA.fc3.weight, netC.classifier.weight))
