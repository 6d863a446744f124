# Source: Ian Pointer, "Programming PyTorch for Deep Learning" (O'Reilly), chapters 2 and 3,
#   https://github.com/falloutdurham/beginners-pytorch-deep-learning  chapter2/Chapter 2.ipynb (SimpleNet,
#   the book's train() loop, prediction with softmax/argmax, torch.save of the whole model and of its
#   state_dict) and chapter3/Chapter 3.ipynb (CNNNet: the AlexNet-like Conv2d/MaxPool2d stack,
#   AdaptiveAvgPool2d((6, 6)), torch.flatten, Dropout classifier).
# Shrunk: synthetic cat/fish "images" (3x32x32, the class shifting the mean of one colour channel)
#   in TensorDatasets (96 train, 64 val, batch 32) instead of ImageFolder over downloaded photos, so
#   SimpleNet's 12288 inputs are 3072; CNNNet's widths cut (64/192/384/256/256 -> 16/24/32/32/32 channels,
#   4096 -> 64 hidden units) and its first conv kernel 11 stride 4 -> 5 stride 2 for the 32x32 input;
#   3 epochs each instead of 5 and 10; files saved in a temporary folder. torch.load of the whole
#   pickled model fails under today's weights_only=True default: the script prints the error's type
#   and loads it again with weights_only=False.
import os
import tempfile

import torch
import torch.nn as nn
import torch.optim as optim
import torch.utils.data
import torch.nn.functional as F


def make_data(n):
    targets = torch.randint(0, 2, (n,))
    images = torch.randn(n, 3, 32, 32) * 0.5
    images[:, 2] += targets.view(-1, 1, 1).float() * 0.6  # fish are bluer
    return torch.utils.data.TensorDataset(images, targets)


train_data = make_data(96)
val_data = make_data(64)
test_data = make_data(32)
batch_size = 32
train_data_loader = torch.utils.data.DataLoader(train_data, batch_size=batch_size)
val_data_loader = torch.utils.data.DataLoader(val_data, batch_size=batch_size)
test_data_loader = torch.utils.data.DataLoader(test_data, batch_size=batch_size)


class SimpleNet(nn.Module):

    def __init__(self):
        super(SimpleNet, self).__init__()
        self.fc1 = nn.Linear(3072, 84)
        self.fc2 = nn.Linear(84, 50)
        self.fc3 = nn.Linear(50, 2)

    def forward(self, x):
        x = x.view(-1, 3072)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


simplenet = SimpleNet()
optimizer = optim.Adam(simplenet.parameters(), lr=0.001)

if torch.cuda.is_available():
    device = torch.device("cuda")
else:
    device = torch.device("cpu")

simplenet.to(device)
print(simplenet)
print(device)


def train(model, optimizer, loss_fn, train_loader, val_loader, epochs=20, device="cpu"):
    for epoch in range(1, epochs+1):
        training_loss = 0.0
        valid_loss = 0.0
        model.train()
        for batch in train_loader:
            optimizer.zero_grad()
            inputs, targets = batch
            inputs = inputs.to(device)
            targets = targets.to(device)
            output = model(inputs)
            loss = loss_fn(output, targets)
            loss.backward()
            optimizer.step()
            training_loss += loss.data.item() * inputs.size(0)
        training_loss /= len(train_loader.dataset)

        model.eval()
        num_correct = 0
        num_examples = 0
        for batch in val_loader:
            inputs, targets = batch
            inputs = inputs.to(device)
            output = model(inputs)
            targets = targets.to(device)
            loss = loss_fn(output, targets)
            valid_loss += loss.data.item() * inputs.size(0)
            correct = torch.eq(torch.max(F.softmax(output, dim=1), dim=1)[1], targets)
            num_correct += torch.sum(correct).item()
            num_examples += correct.shape[0]
        valid_loss /= len(val_loader.dataset)

        print('Epoch: {}, Training Loss: {:.2f}, Validation Loss: {:.2f}, accuracy = {:.2f}'.format(epoch, training_loss,
        valid_loss, num_correct / num_examples))


train(simplenet, optimizer, torch.nn.CrossEntropyLoss(), train_data_loader, val_data_loader, epochs=3, device=device)

labels = ['cat', 'fish']

img = test_data[0][0]
img = img.to(device)
img = torch.unsqueeze(img, 0)

simplenet.eval()
prediction = F.softmax(simplenet(img), dim=1)
print(prediction)
prediction = prediction.argmax()
print(prediction)
print(labels[prediction])

folder = tempfile.mkdtemp()
path = os.path.join(folder, "simplenet")
torch.save(simplenet, path)
try:
    simplenet = torch.load(path)
except Exception as error:  # PyTorch >= 2.6 loads weights only by default
    print("torch.load:", type(error).__name__)
    simplenet = torch.load(path, weights_only=False)
print(type(simplenet).__name__, simplenet(img))

torch.save(simplenet.state_dict(), path)
simplenet = SimpleNet()
simplenet_state_dict = torch.load(path)
print(list(simplenet_state_dict.keys()), simplenet_state_dict['fc3.bias'])
print(simplenet.load_state_dict(simplenet_state_dict))
print(simplenet(img))


# ---------------------------------------------------------------- chapter 3
class CNNNet(nn.Module):

    def __init__(self, num_classes=2):
        super(CNNNet, self).__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=5, stride=2, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(16, 24, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(24, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(),
            nn.Linear(32 * 6 * 6, 64),
            nn.ReLU(),
            nn.Dropout(),
            nn.Linear(64, 64),
            nn.ReLU(),
            nn.Linear(64, num_classes)
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x


cnnnet = CNNNet()
print(cnnnet)
print(cnnnet.features(torch.zeros(1, 3, 32, 32)).shape, cnnnet.avgpool(cnnnet.features(img)).shape)
train_data_loader = torch.utils.data.DataLoader(train_data, batch_size=batch_size, shuffle=True)
val_data_loader = torch.utils.data.DataLoader(val_data, batch_size=batch_size, shuffle=True)
cnnnet.to(device)
optimizer = optim.Adam(cnnnet.parameters(), lr=0.001)
train(cnnnet, optimizer, torch.nn.CrossEntropyLoss(), train_data_loader, val_data_loader, epochs=3, device=device)
print(sum(p.numel() for p in cnnnet.parameters()), cnnnet.classifier[1].weight.grad.norm())
