# Source: 刘二大人 (Liu Er), 《PyTorch深度学习实践》 lecture 9, softmax classifier on MNIST, as a learner typed it:
#   https://github.com/OpenUpDaze/ML_bilibili  Pytorch_lesson9.py
# Shrunk: 640 synthetic 28x28 "digits" (noise around ten class templates) in a TensorDataset instead
# of torchvision's MNIST, normalized as the lecture's transform does; narrower layers; 2 epochs,
# a report every 3 batches.
import torch
from torch.utils.data import DataLoader, TensorDataset
import torch.nn.functional as F
import torch.optim as optim

batch_size = 64

templates = torch.rand(10, 1, 28, 28)
train_labels = torch.randint(0, 10, (640,))
train_images = (templates[train_labels] + 0.5 * torch.rand(640, 1, 28, 28) - 0.1307) / 0.3081
test_labels = torch.randint(0, 10, (128,))
test_images = (templates[test_labels] + 0.5 * torch.rand(128, 1, 28, 28) - 0.1307) / 0.3081

train_dataset = TensorDataset(train_images, train_labels)
train_loader = DataLoader(train_dataset,
                          shuffle=True,
                          batch_size=batch_size)
test_dataset = TensorDataset(test_images, test_labels)
test_loader = DataLoader(test_dataset,
                         shuffle=False,
                         batch_size=batch_size)


class Net(torch.nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.l1 = torch.nn.Linear(784, 128)
        self.l2 = torch.nn.Linear(128, 64)
        self.l3 = torch.nn.Linear(64, 10)

    def forward(self, x):
        x = x.view(-1, 784)
        x = F.relu(self.l1(x))
        x = F.relu(self.l2(x))
        return self.l3(x)


model = Net()

criterion = torch.nn.CrossEntropyLoss()
optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.5)


def train(epoch):
    running_loss = 0.0
    for batch_idx, data in enumerate(train_loader, 0):
        inputs, target = data
        optimizer.zero_grad()

        ouputs = model(inputs)
        loss = criterion(ouputs, target)
        loss.backward()
        optimizer.step()

        running_loss += loss.item()
        if batch_idx % 3 == 2:
            print('[%d, %5d] loss: %.3f' % (epoch + 1, batch_idx + 1, running_loss / 3))
            running_loss = 0.0


def test():
    correct = 0
    total = 0
    with torch.no_grad():
        for data in test_loader:
            images, labels = data
            outputs = model(images)
            _, predicted = torch.max(outputs.data, dim=1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    print('Accuracy on test set: %d %%' % (100 * correct / total))


if __name__ == '__main__':
    for epoch in range(2):
        train(epoch)
        test()
