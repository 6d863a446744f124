# Source: sentdex (Harrison Kinsley), "Deep Learning and Neural Networks with Python and Pytorch", parts 1-4
# (Introduction, Data, Building our Neural Network, Training our Neural Network):
#   https://pythonprogramming.net/introduction-deep-learning-neural-network-pytorch/ (and the three pages after
#   it; the code as learners typed it, e.g. GitHub files with `counter_dict = {0:0, 1:0, ...}`, `F.nll_loss`,
#   `net(X.view(-1, 28*28))`, `print("Accuracy: ", round(correct/total, 3))`)
# Shrunk: instead of torchvision's MNIST (download), 600 training and 200 test 28x28 "digits" made from ten
# random templates plus noise, wrapped in a TensorDataset of (1, 28, 28) float images and int64 labels
# (what transforms.ToTensor() gives); DataLoader(batch_size=10, shuffle=True) as in the course;
# 3 epochs over 600 images instead of 60000; the plt.imshow cells print the tensor instead.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

# --- part 1: introduction
x = torch.Tensor([5, 3])
y = torch.Tensor([2, 1])
print(x * y)

x = torch.zeros([2, 5])
print(x)
print(x.shape)

y = torch.rand([2, 5])
print(y)

print(y.view([1, 10]))
y = y.view([1, 10])
print(y)
print(y.shape, y.dtype)

# --- part 2: data (a stand-in for datasets.MNIST + transforms.ToTensor())
templates = torch.rand(10, 28, 28)


def make_mnist(n):
    labels = torch.randint(0, 10, (n,))
    images = (templates[labels] + 0.5 * torch.rand(n, 28, 28)) / 1.5
    images = (images * 255).to(torch.uint8)  # the png bytes
    return TensorDataset(images.unsqueeze(1).float() / 255.0, labels)


train = make_mnist(600)
test = make_mnist(200)
print(len(train), len(test))

trainset = torch.utils.data.DataLoader(train, batch_size=10, shuffle=True)
testset = torch.utils.data.DataLoader(test, batch_size=10, shuffle=False)

for data in trainset:
    print(data)
    break

x, y = data[0][0], data[1][0]
print(y)
print(data[0][0].shape)
print(data[0][0].view(28, 28)[10:14, 10:16])  # plt.imshow(data[0][0].view(28,28))

total = 0
counter_dict = {0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0, 9: 0}

for data in trainset:
    Xs, ys = data
    for y in ys:
        counter_dict[int(y)] += 1
        total += 1

print(counter_dict)

for i in counter_dict:
    print(f"{i}: {counter_dict[i]/total*100.0}%")


# --- part 3: building our neural network
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, 64)
        self.fc2 = nn.Linear(64, 64)
        self.fc3 = nn.Linear(64, 64)
        self.fc4 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = F.relu(self.fc3(x))
        x = self.fc4(x)
        return F.log_softmax(x, dim=1)


net = Net()
print(net)

X = torch.randn((28, 28))
X = X.view(-1, 28 * 28)
output = net(X)
print(output)
print(output.exp().sum())

# --- part 4: training our neural network
loss_function = nn.CrossEntropyLoss()
optimizer = optim.Adam(net.parameters(), lr=0.001)
print(optimizer)

for epoch in range(3):  # 3 full passes over the data
    for data in trainset:  # `data` is a batch of data
        X, y = data  # X is the batch of features, y is the batch of targets.
        net.zero_grad()  # sets gradients to 0 before loss calc. You will do this likely every step.
        output = net(X.view(-1, 784))  # pass in the reshaped batch (recall they are 28x28 atm)
        loss = F.nll_loss(output, y)  # calc and grab the loss value
        loss.backward()  # apply this loss backwards thru the network's parameters
        optimizer.step()  # attempt to optimize weights to account for loss/gradients
    print(loss)  # print loss. We hope loss (a measure of wrong-ness) declines!
    print(loss_function(net.fc4(F.relu(net.fc3(F.relu(net.fc2(F.relu(net.fc1(X.view(-1, 784)))))))), y))

correct = 0
total = 0

with torch.no_grad():
    for data in testset:
        X, y = data
        output = net(X.view(-1, 784))
        for idx, i in enumerate(output):
            if torch.argmax(i) == y[idx]:
                correct += 1
            total += 1

print("Accuracy: ", round(correct / total, 3))

print(X[0].view(28, 28)[12, :8])  # plt.imshow(X[0].view(28,28))
print(torch.argmax(net(X[0].view(-1, 784))[0]))
a_featureset = X[0]
reshaped_for_network = a_featureset.view(-1, 784)  # 784 b/c 28*28 image resolution.
output = net(reshaped_for_network)  # output will be a list of network predictions.
first_pred = output[0]
print(first_pred)
biggest_index = torch.argmax(first_pred)
print(biggest_index)
print(net.fc1.weight.grad.shape, net.fc4.bias.grad)
