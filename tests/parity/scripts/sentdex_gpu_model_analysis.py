# Source: sentdex (Harrison Kinsley), "Deep Learning and Neural Networks with Python and Pytorch", parts 7-8
# (Running on the GPU / Model Analysis): the device-agnostic code, fwd_pass with in-sample accuracy,
# test(size=32) on a random slice of the validation data under torch.no_grad(), the model.log lines and
# create_acc_loss_graph's parsing of them:
#   https://pythonprogramming.net/gpu-deep-learning-neural-network-pytorch/ and
#   https://pythonprogramming.net/analysis-visualization-deep-learning-neural-network-pytorch/ ; the code as
#   learners typed it (GitHub files with `def fwd_pass(X, y, train=False):`, `matches  = [torch.argmax(i)==
#   torch.argmax(j) for i, j in zip(outputs, y)]`, `f.write(f"{MODEL_NAME},{round(time.time(),3)},...")`)
# Shrunk: the cats-vs-dogs training_data.npy is 400 random 50x50 uint8 images (a cat and a dog template plus
# noise) with np.eye(2) one-hot labels, saved and loaded with np.save/np.load(allow_pickle=True) in a
# temporary folder, as is model.log; the convs have 8/16/32 channels instead of 32/64/128 and fc1 64 units
# instead of 512; BATCH_SIZE 20 instead of 100, EPOCHS 2 instead of 30, validation every 100 samples instead
# of 50 batches; MODEL_NAME is fixed and time.time() is a step counter (the log is printed); the matplotlib
# plot prints the lists it would draw; tqdm left out.
import os
import shutil
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

# --- part 7: running on the GPU (here: the CPU)
print(torch.cuda.is_available())
print(torch.device("cuda:0"))
if torch.cuda.is_available():
    device = torch.device("cuda:0")  # you can continue going on here, like cuda:1 cuda:2....etc.
    print("Running on the GPU")
else:
    device = torch.device("cpu")
    print("Running on the CPU")
print(device, repr(device), device.type, device.index)
print(torch.cuda.device_count())

cwd = os.getcwd()
workdir = tempfile.mkdtemp()
os.chdir(workdir)

# --- the data, as make_training_data saved it
cat, dog = np.random.randint(0, 256, (50, 50)), np.random.randint(0, 256, (50, 50))
training_data = []
for label, template in ((0, cat), (1, dog)):
    for f in range(200):
        img = ((3 * template + np.random.randint(0, 256, (50, 50))) // 4).astype(np.uint8)
        training_data.append([np.array(img), np.eye(2)[label]])
np.random.shuffle(training_data)
np.save("training_data.npy", np.array(training_data, dtype=object))

training_data = np.load("training_data.npy", allow_pickle=True)
print(len(training_data), training_data.shape, training_data.dtype)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5)
        self.conv2 = nn.Conv2d(8, 16, 5)
        self.conv3 = nn.Conv2d(16, 32, 5)

        x = torch.randn(50, 50).view(-1, 1, 50, 50)
        self._to_linear = None
        self.convs(x)

        self.fc1 = nn.Linear(self._to_linear, 64)
        self.fc2 = nn.Linear(64, 2)

    def convs(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv3(x)), (2, 2))

        if self._to_linear is None:
            self._to_linear = x[0].shape[0] * x[0].shape[1] * x[0].shape[2]
        return x

    def forward(self, x):
        x = self.convs(x)
        x = x.view(-1, self._to_linear)
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return F.softmax(x, dim=1)


net = Net().to(device)
print(net)
print(next(net.parameters()).device, next(net.parameters()).is_cuda)

X = torch.Tensor(np.array([i[0] for i in training_data])).view(-1, 50, 50)
X = X / 255.0
y = torch.Tensor(np.array([i[1] for i in training_data]))

VAL_PCT = 0.1
val_size = int(len(X) * VAL_PCT)

train_X = X[:-val_size]
train_y = y[:-val_size]

test_X = X[-val_size:]
test_y = y[-val_size:]
print(len(train_X), len(test_X), test_X.device)

# --- part 8: model analysis
optimizer = optim.Adam(net.parameters(), lr=0.001)
loss_function = nn.MSELoss()


def fwd_pass(X, y, train=False):
    if train:
        net.zero_grad()
    outputs = net(X)
    matches = [torch.argmax(i) == torch.argmax(j) for i, j in zip(outputs, y)]
    acc = matches.count(True) / len(matches)
    loss = loss_function(outputs, y)

    if train:
        loss.backward()
        optimizer.step()

    return acc, loss


def test(size=32):
    random_start = np.random.randint(len(test_X) - size)
    X, y = test_X[random_start:random_start + size], test_y[random_start:random_start + size]
    with torch.no_grad():
        val_acc, val_loss = fwd_pass(X.view(-1, 1, 50, 50).to(device), y.to(device))
    return val_acc, val_loss


val_acc, val_loss = test(size=32)
print(val_acc, val_loss)

MODEL_NAME = "model-1570499915"  # f"model-{int(time.time())}"
print(MODEL_NAME)

clock = iter(range(1570499915, 1570499915 + 1000))


def train(net):
    BATCH_SIZE = 20
    EPOCHS = 2

    with open("model.log", "a") as f:
        for epoch in range(EPOCHS):
            for i in range(0, len(train_X), BATCH_SIZE):
                batch_X = train_X[i:i + BATCH_SIZE].view(-1, 1, 50, 50)
                batch_y = train_y[i:i + BATCH_SIZE]

                batch_X, batch_y = batch_X.to(device), batch_y.to(device)

                acc, loss = fwd_pass(batch_X, batch_y, train=True)

                # print(f"Acc: {round(float(acc),2)}  Loss: {round(float(loss),4)}")
                if i % 100 == 0:
                    val_acc, val_loss = test(size=32)
                    f.write(f"{MODEL_NAME},{round(next(clock), 3)},{round(float(acc), 2)},{round(float(loss), 4)},{round(float(val_acc), 2)},{round(float(val_loss), 4)},{epoch}\n")
            print(f"Epoch: {epoch}. Loss: {loss}. Acc: {acc}")


train(net)
print(open("model.log").read())

model_name = MODEL_NAME


def create_acc_loss_graph(model_name):
    contents = open("model.log", "r").read().split("\n")

    times = []
    accuracies = []
    losses = []

    val_accs = []
    val_losses = []

    for c in contents:
        if model_name in c:
            name, timestamp, acc, loss, val_acc, val_loss, epoch = c.split(",")

            times.append(float(timestamp))
            accuracies.append(float(acc))
            losses.append(float(loss))

            val_accs.append(float(val_acc))
            val_losses.append(float(val_loss))

    # fig = plt.figure(); ax1 = plt.subplot2grid((2,1), (0,0)); ax2 = plt.subplot2grid((2,1), (1,0), sharex=ax1)
    print("acc", accuracies)
    print("val_acc", val_accs)
    print("loss", losses)
    print("val_loss", val_losses)
    print(len(times), times[-1] - times[0])


create_acc_loss_graph(model_name)

# the out-of-sample check on the whole validation set, and one prediction moved back to the CPU
with torch.no_grad():
    val_acc, val_loss = fwd_pass(test_X.view(-1, 1, 50, 50).to(device), test_y.to(device))
print("Validation:", val_acc, val_loss.item())
pred = net(test_X[:3].view(-1, 1, 50, 50).to(device)).cpu().detach()
print(pred, pred.device, pred.requires_grad)
print(torch.argmax(pred, dim=1), torch.argmax(test_y[:3], dim=1))
print(net.fc2.weight.grad)
os.chdir(cwd)
shutil.rmtree(workdir)
