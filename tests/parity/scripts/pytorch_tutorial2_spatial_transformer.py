# Source: Ghassen Hamrouni, "Spatial Transformer Networks Tutorial" (PyTorch tutorials):
#   https://github.com/pytorch/tutorials  intermediate_source/spatial_transformer_tutorial.py
#   (the version at commit c53e7d4efc0e39e455c531d21ec7db28ba220214)
# Shrunk: 128 training and 64 test synthetic 28x28 "digits" (noise around ten class templates) in
# TensorDatasets instead of torchvision's MNIST, normalized as the tutorial's transform does, no
# worker processes; 2 epochs instead of 20, a report every batch instead of every 500. The urllib
# opener (for the download) and matplotlib are dropped; visualize_stn prints the statistics of the
# input and transformed batches and of the learned theta instead of plotting torchvision grids.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import TensorDataset
import numpy as np

######################################################################
# Loading the data
# ----------------

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

templates = torch.rand(10, 1, 28, 28)
train_labels = torch.randint(0, 10, (128,))
train_images = (templates[train_labels] + 0.5 * torch.rand(128, 1, 28, 28) - 0.1307) / 0.3081
test_labels = torch.randint(0, 10, (64,))
test_images = (templates[test_labels] + 0.5 * torch.rand(64, 1, 28, 28) - 0.1307) / 0.3081

# Training dataset
train_loader = torch.utils.data.DataLoader(
    TensorDataset(train_images, train_labels), batch_size=64, shuffle=True, num_workers=0)
# Test dataset
test_loader = torch.utils.data.DataLoader(
    TensorDataset(test_images, test_labels), batch_size=64, shuffle=True, num_workers=0)

######################################################################
# Depicting spatial transformer networks
# --------------------------------------


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

        # Spatial transformer localization-network
        self.localization = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=7),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
            nn.Conv2d(8, 10, kernel_size=5),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True)
        )

        # Regressor for the 3 * 2 affine matrix
        self.fc_loc = nn.Sequential(
            nn.Linear(10 * 3 * 3, 32),
            nn.ReLU(True),
            nn.Linear(32, 3 * 2)
        )

        # Initialize the weights/bias with identity transformation
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    # Spatial transformer network forward function
    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 10 * 3 * 3)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)

        grid = F.affine_grid(theta, x.size())
        x = F.grid_sample(x, grid)

        return x

    def forward(self, x):
        # transform the input
        x = self.stn(x)

        # Perform the usual forward pass
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


model = Net().to(device)

######################################################################
# Training the model
# ------------------

optimizer = optim.SGD(model.parameters(), lr=0.01)


def train(epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)

        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % 1 == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))
#
# A simple test procedure to measure the STN performances on MNIST.
#


def test():
    with torch.no_grad():
        model.eval()
        test_loss = 0
        correct = 0
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)

            # sum up batch loss
            test_loss += F.nll_loss(output, target, size_average=False).item()
            # get the index of the max log-probability
            pred = output.max(1, keepdim=True)[1]
            correct += pred.eq(target.view_as(pred)).sum().item()

        test_loss /= len(test_loader.dataset)
        print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'
              .format(test_loss, correct, len(test_loader.dataset),
                      100. * correct / len(test_loader.dataset)))

######################################################################
# Visualizing the STN results
# ---------------------------


def convert_image_np(inp):
    """Convert a Tensor to numpy image."""
    inp = inp.numpy().transpose((1, 2, 0))
    mean = np.array([0.485, 0.456, 0.406])
    std = np.array([0.229, 0.224, 0.225])
    inp = std * inp + mean
    inp = np.clip(inp, 0, 1)
    return inp


def visualize_stn():
    with torch.no_grad():
        # Get a batch of training data
        data = next(iter(test_loader))[0].to(device)

        input_tensor = data.cpu()
        transformed_input_tensor = model.stn(data).cpu()

        # (instead of torchvision.utils.make_grid and the plots)
        in_grid = convert_image_np(input_tensor[0].expand(3, 28, 28))
        out_grid = convert_image_np(transformed_input_tensor[0].expand(3, 28, 28))
        print('Dataset Images', input_tensor.shape, round(float(in_grid.mean()), 4))
        print('Transformed Images', transformed_input_tensor.shape, round(float(out_grid.mean()), 4))
        print(transformed_input_tensor[0, 0, 10:14, 10:14])
        theta = model.fc_loc(model.localization(data).view(-1, 10 * 3 * 3)).view(-1, 2, 3)
        print(theta[:2])
        print(F.affine_grid(theta[:1], (1, 1, 2, 3), align_corners=False))

for epoch in range(1, 2 + 1):
    train(epoch)
    test()

# Visualize the STN transformation on some input batch
visualize_stn()
