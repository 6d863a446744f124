# Source: deeplizard, "Neural Network Programming - Deep Learning with PyTorch" (deeplizard.com), part 2
# (data and model): the ETL look at the training set, the Network class with Conv2d/Linear, its
# learnable parameters, Linear layers as callables, the forward pass of one image and of a batch,
# softmax and get_num_correct, and the Sequential ways to build the same network; as learners typed it:
#   https://github.com/derekhanbaliq/DeepLizard-PyTorch-Tutorial  L15_prepare_the_data_ETL.py,
#     L19_learnable_params.py, L20_callable_NN.py, L23_forward_propagation.py, L24_batch_processing.py
#   https://github.com/LengYuuu/PyTorchStudy_DeepLizard  Episode4_7_test0.py (Sequential methods)
# Shrunk: a synthetic FashionMNIST-shaped dataset (200 random 1x28x28 images, labels 0-9, with the
# .data/.targets attributes torchvision's has) instead of the download; the layer-by-layer forward
# pass shapes that the lesson walks through printed as well.
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_printoptions(linewidth=120)


class FakeFashionMNIST(torch.utils.data.Dataset):
    """What torchvision.datasets.FashionMNIST(transform=ToTensor()) gives: (1x28x28 float image, int label)."""

    classes = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
               'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']

    def __init__(self, n=200):
        self.data = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8)
        self.targets = torch.randint(0, 10, (n,))

    def __getitem__(self, index):
        img = self.data[index].unsqueeze(0).float() / 255  # ToTensor
        return img, int(self.targets[index])

    def __len__(self):
        return len(self.data)


train_set = FakeFashionMNIST()

# --- ETL: look at the data
print(len(train_set))
print(train_set.targets)
print(train_set.targets.bincount())
print(train_set.data.shape, train_set.data.dtype)

sample = next(iter(train_set))
print(len(sample))
print(type(sample))
image, label = sample
print(image.shape)
print(type(label), label)
print(image.squeeze().shape)
print('label:', label, train_set.classes[label])

display_loader = torch.utils.data.DataLoader(train_set, batch_size=10)
batch = next(iter(display_loader))
print('len:', len(batch))
images, labels = batch
print('types:', type(images), type(labels))
print('shapes:', images.shape, labels.shape)
print(images[0].shape)
print(labels[0])
print('labels:', labels)
print(images.mean(), images.std())


# --- the network class
class Network(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5)
        self.conv2 = nn.Conv2d(in_channels=6, out_channels=12, kernel_size=5)

        self.fc1 = nn.Linear(in_features=12 * 4 * 4, out_features=120)
        self.fc2 = nn.Linear(in_features=120, out_features=60)
        self.out = nn.Linear(in_features=60, out_features=10)

    def forward(self, t0):
        t = F.relu(self.conv1(t0))
        t = F.max_pool2d(t, kernel_size=2, stride=2)

        t = F.relu(self.conv2(t))
        t = F.max_pool2d(t, kernel_size=2, stride=2)

        t = F.relu(self.fc1(t.reshape(-1, 12 * 4 * 4)))
        t = F.relu(self.fc2(t))
        t = self.out(t)

        return t


network = Network()
print(network)

print("-" * 50)
print(network.conv1)
print(network.conv1.weight.shape)  # rank-4 tensor, [Number of filters, Depth, Height, Width]
print(network.conv2.weight.shape)
print(network.conv2.weight[0].shape)
print(network.fc1.weight.shape)
print(network.fc2.weight.shape)
print(network.out.weight.shape)
print(network.conv1.bias)
print(network.out.weight[0])
print(type(network.conv1.weight))
print(network.conv1.weight.requires_grad)

print("-" * 50)
for param in network.parameters():
    print(param.shape)

for name, param in network.named_parameters():
    print(name, '\t\t', param.shape)

print(sum(p.numel() for p in network.parameters()))


class LizardNetwork(Network):
    def __repr__(self):
        return "lizard_net"


print(LizardNetwork())

# --- callable Linear layers
in_features = torch.tensor([1, 2, 3, 4], dtype=torch.float32)
weight_matrix = torch.tensor([
    [1, 2, 3, 4],
    [2, 3, 4, 5],
    [3, 4, 5, 6]
], dtype=torch.float32)
print(weight_matrix.matmul(in_features))

print("-" * 50)
fc = nn.Linear(in_features=4, out_features=3, bias=False)
fc.weight = nn.Parameter(weight_matrix)
print(fc(in_features))  # object instance / callable Python objects
print(fc.weight)

print("-" * 50)
fc = nn.Linear(in_features=4, out_features=3)  # linear layer
t = torch.tensor([1, 2, 3, 4], dtype=torch.float32)
output = fc(t)
print(output)
print(fc.forward(t))

# --- forward pass of one image
torch.set_grad_enabled(False)

print(image.unsqueeze(0).shape)  # this gives us a batch with size 1
pred = network(image.unsqueeze(0))  # image shape needs to be (batch_size x in_channel x H x W)
print(pred.shape)
print(pred)
print(label)
print(pred.argmax(dim=1))

# using softmax
print(F.softmax(pred, dim=1))
print(F.softmax(pred, dim=1).sum())  # sum is 1
print(pred.requires_grad, pred.grad_fn)

# weight is random for now
net1 = Network()
print(net1(image.unsqueeze(0)))
net2 = Network()
print(net2(image.unsqueeze(0)))

# the forward pass layer by layer, as the lesson walks through it
t = image.unsqueeze(0)
print('input', t.shape, t.min(), t.max())
t = network.conv1(t)
print('conv1', t.shape, t.min(), t.max())
t = F.relu(t)
print('relu1', t.shape, t.min(), t.max())
t = F.max_pool2d(t, kernel_size=2, stride=2)
print('pool1', t.shape, t.min(), t.max())
t = F.relu(network.conv2(t))
print('conv2', t.shape, t.min(), t.max())
t = F.max_pool2d(t, kernel_size=2, stride=2)
print('pool2', t.shape, t.min(), t.max())
t = t.reshape(-1, 12 * 4 * 4)
print('flatten', t.shape)
t = F.relu(network.fc1(t))
print('fc1', t.shape, t.sum())
t = F.relu(network.fc2(t))
print('fc2', t.shape, t.sum())
t = network.out(t)
print('out', t.shape, t)

# --- batch processing
data_loader = torch.utils.data.DataLoader(
    train_set,
    batch_size=10
)

batch = next(iter(data_loader))
images, labels = batch
print(images.shape)
print(labels.shape)

preds = network(images)
print(preds.shape)
print(preds)

print(preds.argmax(dim=1))
print(labels)

print(preds.argmax(dim=1).eq(labels))
print(preds.argmax(dim=1).eq(labels).sum())


def get_num_correct(preds, labels):
    return preds.argmax(dim=1).eq(labels).sum().item()


print(get_num_correct(preds, labels))
print(F.softmax(preds, dim=1).max(dim=1))

torch.set_grad_enabled(True)

# --- the same network built four ways (Sequential lesson)
image = image.unsqueeze(0)

torch.manual_seed(50)
network = Network()

torch.manual_seed(50)
sequential1 = nn.Sequential(
    nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5),
    nn.ReLU(),
    nn.MaxPool2d(kernel_size=2, stride=2),
    nn.Conv2d(in_channels=6, out_channels=12, kernel_size=5),
    nn.ReLU(),
    nn.MaxPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.Linear(in_features=12 * 4 * 4, out_features=120),
    nn.ReLU(),
    nn.Linear(in_features=120, out_features=60),
    nn.ReLU(),
    nn.Linear(in_features=60, out_features=10)
)

torch.manual_seed(50)
layers = OrderedDict([
    ('conv1', nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5)),
    ('relu1', nn.ReLU()),
    ('maxpool1', nn.MaxPool2d(kernel_size=2, stride=2)),
    ('conv2', nn.Conv2d(in_channels=6, out_channels=12, kernel_size=5)),
    ('relu2', nn.ReLU()),
    ('maxpool2', nn.MaxPool2d(kernel_size=2, stride=2)),
    ('flatten', nn.Flatten()),
    ('fc1', nn.Linear(in_features=12 * 4 * 4, out_features=120)),
    ('relu3', nn.ReLU()),
    ('fc2', nn.Linear(in_features=120, out_features=60)),
    ('relu4', nn.ReLU()),
    ('out', nn.Linear(in_features=60, out_features=10))
])
sequential2 = nn.Sequential(layers)

torch.manual_seed(50)
sequential3 = nn.Sequential()
sequential3.add_module('conv1', nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5))
sequential3.add_module('relu1', nn.ReLU())
sequential3.add_module('maxpool1', nn.MaxPool2d(kernel_size=2, stride=2))
sequential3.add_module('conv2', nn.Conv2d(in_channels=6, out_channels=12, kernel_size=5))
sequential3.add_module('relu2', nn.ReLU())
sequential3.add_module('maxpool2', nn.MaxPool2d(kernel_size=2, stride=2))
sequential3.add_module('flatten', nn.Flatten())
sequential3.add_module('fc1', nn.Linear(in_features=12 * 4 * 4, out_features=120))
sequential3.add_module('relu3', nn.ReLU())
sequential3.add_module('fc2', nn.Linear(in_features=120, out_features=60))
sequential3.add_module('relu4', nn.ReLU())
sequential3.add_module('out', nn.Linear(in_features=60, out_features=10))

print(network)
print(sequential1)
print(sequential2)
print(sequential3)

print(network(image))
print(sequential1(image))
print(sequential2(image))
print(sequential3(image))

print(sequential1[0])
print(sequential2.conv1)
print(sequential2[0].weight.shape)
print(sequential3.out.bias)
print(sequential2[7:])
print(len(sequential1))
for name, module in sequential2.named_children():
    print(name, '->', module)
