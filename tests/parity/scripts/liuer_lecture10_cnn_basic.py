# Source: 刘二大人 (Liu Er), 《PyTorch深度学习实践》 lecture 10, basic CNN on MNIST, as a learner typed it:
#   https://github.com/OpenUpDaze/ML_bilibili  Pytorch_lesson10.py
# Shrunk: 256 synthetic 28x28 "digits" (noise around ten class templates) in a TensorDataset instead
# of torchvision's MNIST, normalized as the lecture's transform does; 2 epochs, a report every
# 2 batches. The device lines are the lecture's own (the CPU here).
import torch
from torch.utils.data import DataLoader, TensorDataset
import torch.nn.functional as F
import torch.optim as optim

batch_size = 64

templates = torch.rand(10, 1, 28, 28)
train_labels = torch.randint(0, 10, (256,))
train_images = (templates[train_labels] + 0.5 * torch.rand(256, 1, 28, 28) - 0.1307) / 0.3081
test_labels = torch.randint(0, 10, (128,))
test_images = (templates[test_labels] + 0.5 * torch.rand(128, 1, 28, 28) - 0.1307) / 0.3081

train_loader = DataLoader(TensorDataset(train_images, train_labels), shuffle=True, batch_size=batch_size)
test_loader = DataLoader(TensorDataset(test_images, test_labels), shuffle=False, batch_size=batch_size)


class Net(torch.nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = torch.nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = torch.nn.Conv2d(10, 20, kernel_size=5)
        self.pooling = torch.nn.MaxPool2d(2)
        self.fc = torch.nn.Linear(320, 10)

    def forward(self, x):
        # flatten data from (n, 1, 28, 28) to (n, 784)
        batch_size = x.size(0)
        x = F.relu(self.pooling(self.conv1(x)))
        x = F.relu(self.pooling(self.conv2(x)))
        x = x.view(batch_size, -1)  # -1: 320, worked out from the other sizes
        x = self.fc(x)
        return x


model = Net()
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
model.to(device)
print(model)

criterion = torch.nn.CrossEntropyLoss()
optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.5)


def train(epoch):
    running_loss = 0.0
    for batch_idx, data in enumerate(train_loader, 0):
        inputs, target = data
        inputs, target = inputs.to(device), target.to(device)
        optimizer.zero_grad()

        outputs = model(inputs)
        loss = criterion(outputs, target)
        loss.backward()
        optimizer.step()

        running_loss += loss.item()
        if batch_idx % 2 == 1:
            print('[%d, %5d] loss: %.3f' % (epoch + 1, batch_idx + 1, running_loss / 2))
            running_loss = 0.0


def test():
    correct = 0
    total = 0
    with torch.no_grad():
        for data in test_loader:
            images, labels = data
            images, labels = images.to(device), labels.to(device)
            outputs = model(images)
            _, predicted = torch.max(outputs.data, dim=1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    print('accuracy on test set: %d %% [%d/%d]' % (100 * correct / total, correct, total))


if __name__ == '__main__':
    for epoch in range(2):
        train(epoch)
        test()
