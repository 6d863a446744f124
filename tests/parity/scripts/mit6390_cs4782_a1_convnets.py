# Source: Cornell CS 4782 (Intro to Deep Learning), Assignment 1 submission.py as a student filled
# it in: train/val loops, ConvNet / ConvNetMaxPooling with nn.LazyLinear, a hand-written
# BatchNormalization (register_buffer, var(unbiased=False), in-place running-stat updates under
# no_grad), CustomDropout with rand_like, ConvNetBN / ConvNetDropout, ResidualBlock and a ResNet
# built from nn.LazyConv2d / nn.LazyBatchNorm2d / AdaptiveAvgPool2d / Flatten / LazyLinear.
#   https://github.com/loganprosser/cs4782  a1_release/submission.py
# Shrunk: synthetic 3x64x64 images (16 train, 8 val, 4 classes) in TensorDatasets instead of the
# course's image folders; batch 8, 2 epochs per model; fc1 1024 -> 64 wide; CPU device; the
# notebook's driver (which model, which optimizer) written here with prints of shapes, buffers
# and parameter counts.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import TensorDataset, DataLoader


def val(model, val_data_loader, criterion, device):
    val_running_loss = 0
    model.eval()
    with torch.no_grad():
        for i, (inputs, labels) in enumerate(val_data_loader, 0):
            inputs, labels = inputs.to(device), labels.to(device)
            outputs = model(inputs)
            loss = criterion(outputs, labels)
            val_running_loss += loss.item()

    model.train()
    return val_running_loss/len(val_data_loader)


def train(model, data_loader, val_data_loader, criterion, optimizer, epochs, device):
    train_loss_arr = []
    val_loss_arr = []
    running_loss = 0.0

    for epoch in range(epochs):
        model.train()

        for inputs, labels in data_loader:
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()

            outputs = model(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()

        epoch_loss = running_loss / len(data_loader)
        train_loss_arr.append(epoch_loss)

        val_loss = val(model, val_data_loader, criterion, device)
        val_loss_arr.append(val_loss)

        print(f"Epoch {epoch+1}/{epochs}, Training Loss: {epoch_loss:.4f}, Validation Loss: {val_loss:.4f}")

    print("Training finished.")
    return train_loss_arr, val_loss_arr


FC = 64  # the assignment's fc1 has 1024 outputs


class ConvNet(nn.Module):
    def __init__(self, num_classes=4):
        super(ConvNet, self).__init__()
        self.conv1 = nn.Conv2d(in_channels=3, out_channels=4, kernel_size=3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(in_channels=4, out_channels=16, kernel_size=3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(in_channels=16, out_channels=32, kernel_size=3, stride=2, padding=1)
        self.fc1 = nn.LazyLinear(out_features=FC)
        self.fc2 = nn.Linear(in_features=FC, out_features=num_classes)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.relu(self.conv3(x))
        x = torch.flatten(x, start_dim=1)
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return x


class ConvNetMaxPooling(nn.Module):
    def __init__(self, num_classes=4):
        super(ConvNetMaxPooling, self).__init__()
        self.conv1 = nn.Conv2d(in_channels=3, out_channels=4, kernel_size=3, stride=2, padding=1)
        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.conv2 = nn.Conv2d(in_channels=4, out_channels=16, kernel_size=3, stride=2, padding=1)
        self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.conv3 = nn.Conv2d(in_channels=16, out_channels=32, kernel_size=3, stride=2, padding=1)
        self.pool3 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.fc1 = nn.LazyLinear(out_features=FC)
        self.fc2 = nn.Linear(in_features=FC, out_features=num_classes)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = self.pool1(x)
        x = F.relu(self.conv2(x))
        x = self.pool2(x)
        x = F.relu(self.conv3(x))
        x = self.pool3(x)
        x = torch.flatten(x, start_dim=1)
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return x


class BatchNormalization(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super(BatchNormalization, self).__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.weights = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        if self.training:
            mu = x.mean(dim=[0,2,3], keepdim=True)
            var = x.var(dim=[0,2,3], keepdim=True, unbiased=False)
            x_hat = (x - mu) / torch.sqrt(var + self.eps)
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mu.squeeze())
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var.squeeze())
            x = self.weights.view(1, self.num_features, 1, 1) * x_hat + self.bias.view(1, self.num_features, 1, 1)
        else:
            mu = self.running_mean.view(1, self.num_features, 1, 1)
            var = self.running_var.view(1, self.num_features, 1, 1)
            x_hat = (x - mu) / torch.sqrt(var + self.eps)
            x = self.weights.view(1, self.num_features, 1, 1) * x_hat + self.bias.view(1, self.num_features, 1, 1)
        return x


class ConvNetBN(nn.Module):
    def __init__(self, num_classes=4):
        super(ConvNetBN, self).__init__()
        self.conv1 = nn.Conv2d(in_channels=3, out_channels=4, kernel_size=3, stride=2, padding=1)
        self.bn1 = BatchNormalization(num_features=4)
        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.conv2 = nn.Conv2d(in_channels=4, out_channels=16, kernel_size=3, stride=2, padding=1)
        self.bn2 = BatchNormalization(num_features=16)
        self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.conv3 = nn.Conv2d(in_channels=16, out_channels=32, kernel_size=3, stride=2, padding=1)
        self.bn3 = BatchNormalization(num_features=32)
        self.pool3 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.fc1 = nn.LazyLinear(out_features=FC)
        self.fc2 = nn.Linear(in_features=FC, out_features=num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.pool1(x)
        x = F.relu(self.bn2(self.conv2(x)))
        x = self.pool2(x)
        x = F.relu(self.bn3(self.conv3(x)))
        x = self.pool3(x)
        x = torch.flatten(x, start_dim=1)
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return x


class CustomDropout(nn.Module):
    def __init__(self, p=0.5):
        super(CustomDropout, self).__init__()
        self.p = p

    def forward(self, x):
        if self.training:
            mask = (torch.rand_like(x) > self.p).float()
            x = (x * mask) / (1 - self.p)
            pass
        else:
            pass
        return x


class ConvNetDropout(nn.Module):
    def __init__(self, num_classes=4):
        super(ConvNetDropout, self).__init__()
        self.conv1 = nn.Conv2d(in_channels=3, out_channels=4, kernel_size=3, stride=2, padding=1)
        self.bn1 = BatchNormalization(num_features=4)
        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.drop1 = CustomDropout(p=0.5)
        self.conv2 = nn.Conv2d(in_channels=4, out_channels=16, kernel_size=3, stride=2, padding=1)
        self.bn2 = BatchNormalization(num_features=16)
        self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.drop2 = CustomDropout(p=0.5)
        self.conv3 = nn.Conv2d(in_channels=16, out_channels=32, kernel_size=3, stride=2, padding=1)
        self.bn3 = BatchNormalization(num_features=32)
        self.pool3 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.drop3 = CustomDropout(p=0.5)
        self.fc1 = nn.LazyLinear(out_features=FC)
        self.drop4 = CustomDropout(p=0.5)
        self.fc2 = nn.Linear(in_features=FC, out_features=num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.pool1(x)
        x = self.drop1(x)
        x = F.relu(self.bn2(self.conv2(x)))
        x = self.pool2(x)
        x = self.drop2(x)
        x = F.relu(self.bn3(self.conv3(x)))
        x = self.pool3(x)
        x = self.drop3(x)
        x = torch.flatten(x, start_dim=1)
        x = F.relu(self.fc1(x))
        x = self.drop4(x)
        x = self.fc2(x)
        return x


class ResidualBlock(nn.Module):
    def __init__(self, in_channel, interm_channel, out_channel, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels=in_channel, out_channels=interm_channel, kernel_size=3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(num_features=interm_channel)
        self.conv2 = nn.Conv2d(in_channels=interm_channel, out_channels=out_channel, kernel_size=3, stride=1, padding=1)
        self.bn2 = nn.BatchNorm2d(num_features=out_channel)
        self.conv3 = nn.Conv2d(in_channels=in_channel, out_channels=out_channel, kernel_size=1, stride=stride, padding=0)

    def forward(self, x):
        elementwise = self.conv3(x)  # skip connection
        x = F.relu(self.bn1(self.conv1(x)))
        x = (self.bn2(self.conv2(x)))
        x = elementwise + x
        x = F.relu(x)
        return x


class ResNet(nn.Module):
    def __init__(self, num_blocks, layer1_channel, layer2_channel, out_channel, num_classes=4):
        super(ResNet, self).__init__()
        self.first = nn.Sequential(
            nn.LazyConv2d(layer1_channel, kernel_size=7, stride=2, padding=3),
            nn.LazyBatchNorm2d(),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )
        self.last = nn.Sequential(
            nn.AdaptiveAvgPool2d(
                (1, 1)), nn.Flatten(), nn.LazyLinear(num_classes)
        )
        self.layer1 = self.block_layer(num_blocks, layer1_channel, layer2_channel)
        self.layer2 = self.block_layer(num_blocks, layer2_channel, out_channel)

    def block_layer(self, num_blocks, in_channel, out_channel):
        layers = []
        layers.append(ResidualBlock(in_channel, out_channel, out_channel))
        for _ in range(num_blocks - 1):
            layers.append(ResidualBlock(out_channel, out_channel, out_channel, stride=2))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.first(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.last(x)
        return x


# ---- driver (the notebook's cells) ----
device = torch.device("cpu")
X = torch.randn(24, 3, 64, 64)
y = torch.randint(0, 4, (24,))
X[y == 1, 0] += 0.5
X[y == 2, 1] -= 0.5
train_set = TensorDataset(X[:16], y[:16])
val_set = TensorDataset(X[16:], y[16:])
train_loader = DataLoader(train_set, batch_size=8, shuffle=True)
val_loader = DataLoader(val_set, batch_size=8, shuffle=False)
print(len(train_set), len(val_set), len(train_loader), len(val_loader))
criterion = nn.CrossEntropyLoss()

for cls in (ConvNet, ConvNetMaxPooling, ConvNetBN, ConvNetDropout):
    torch.manual_seed(0)
    model = cls().to(device)
    print(cls.__name__, model.fc1)
    out = model(X[:2])
    print(cls.__name__, "out", out.shape, model.fc1)
    print("params", sum(p.numel() for p in model.parameters()))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    tl, vl = train(model, train_loader, val_loader, criterion, optimizer, 2, device)
    print([round(v, 4) for v in tl], [round(v, 4) for v in vl])

# checking the hand-written batch norm against nn.BatchNorm2d
torch.manual_seed(0)
bn = BatchNormalization(3)
ref = nn.BatchNorm2d(3)
x = torch.randn(4, 3, 5, 5) * 2 + 1
print(torch.allclose(bn(x), ref(x), atol=1e-5))
print(bn.running_mean, ref.running_mean)
print(bn.running_var)
print(ref.running_var)
bn.eval(); ref.eval()
print(torch.allclose(bn(x), ref(x), atol=1e-4))
print(list(dict(bn.named_buffers()).keys()), list(bn.state_dict().keys()))

drop = CustomDropout(0.5)
t = torch.ones(2, 6)
print(drop(t))
drop.eval()
print(drop(t))

block = ResidualBlock(4, 8, 8, stride=2)
print(block(torch.randn(2, 4, 8, 8)).shape)

torch.manual_seed(0)
resnet = ResNet(2, 8, 16, 32)
print(resnet.first)
out = resnet(X[:4])
print(out.shape)
print(resnet.first, resnet.last)
print("params", sum(p.numel() for p in resnet.parameters()))
print(resnet.first[1].running_mean)
optimizer = torch.optim.Adam(resnet.parameters(), lr=1e-3)
tl, vl = train(resnet, train_loader, val_loader, criterion, optimizer, 2, device)
resnet.eval()
with torch.no_grad():
    preds = resnet(X[16:]).argmax(dim=1)
print(preds, y[16:], (preds == y[16:]).float().mean())
# (running_mean after the Adam steps is left unprinted: Adam's first steps turn last-bit
# gradient differences of near-zero entries into lr-sized moves, and the near-zero means drift)
print(resnet.first[1].num_batches_tracked)
