# Source: sentdex (Harrison Kinsley), "Deep Learning and Neural Networks with Python and Pytorch", parts 5-6
# (Convolutional Neural Networks / Training Convnet: the Kaggle cats-vs-dogs convnet):
#   https://pythonprogramming.net/convnet-model-deep-learning-neural-network-pytorch/ and
#   https://pythonprogramming.net/training-deep-learning-neural-network-pytorch/ ; the code as learners
#   typed it, e.g. GitHub files with `class DogsVSCats()`, `self._to_linear = x[0].shape[0]*x[0].shape[1]*
#   x[0].shape[2]`, `batch_X = train_X[i:i+BATCH_SIZE].view(-1,1,50,50)`, `print("Accuracy:", round(correct/total,3))`
# Shrunk: instead of the PetImages jpgs read with cv2 (IMREAD_GRAYSCALE, resized to 50x50) and saved with
# np.save, 240 random 50x50 uint8 "photos" (a cat and a dog template plus noise, 3:1) collected in the same
# [np.array(img), np.eye(2)[label]] list and shuffled with np.random.shuffle; the convs have 8/16/32
# channels instead of 32/64/128 and fc1 has 64 units instead of 512 (NumPy CPU time); BATCH_SIZE 20
# instead of 100, EPOCHS 2 instead of 3 (and 1 for the in-sample-accuracy rerun); tqdm left out.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

REBUILD_DATA = True


class DogsVSCats():
    IMG_SIZE = 50
    CATS = "PetImages/Cat"
    DOGS = "PetImages/Dog"
    LABELS = {CATS: 0, DOGS: 1}
    training_data = []
    catcount = 0
    dogcount = 0

    templates = {CATS: np.random.randint(0, 256, (50, 50)), DOGS: np.random.randint(0, 256, (50, 50))}

    def make_training_data(self):
        for label in self.LABELS:
            print(label)
            for f in range(120):  # os.listdir(label)
                try:
                    noise = np.random.randint(0, 256, (self.IMG_SIZE, self.IMG_SIZE))
                    img = ((3 * self.templates[label] + noise) // 4).astype(np.uint8)  # cv2.imread + cv2.resize
                    self.training_data.append([np.array(img), np.eye(2)[self.LABELS[label]]])

                    if label == self.CATS:
                        self.catcount += 1
                    elif label == self.DOGS:
                        self.dogcount += 1
                except Exception as e:
                    pass

        np.random.shuffle(self.training_data)
        print('Cats:', self.catcount)
        print('Dogs:', self.dogcount)


if REBUILD_DATA:
    dogsvcats = DogsVSCats()
    dogsvcats.make_training_data()

training_data = dogsvcats.training_data  # np.load("training_data.npy", allow_pickle=True)
print(len(training_data))
print(training_data[1][1], training_data[1][0].dtype, training_data[1][0].shape)


class Net(nn.Module):
    def __init__(self):
        super().__init__()  # just run the init of parent class (nn.Module)
        self.conv1 = nn.Conv2d(1, 8, 5)  # input is 1 image, 8 output channels, 5x5 kernel / window
        self.conv2 = nn.Conv2d(8, 16, 5)  # input is 8, bc the first layer output 8. Then we say the output will be 16 channels, 5x5 kernel / window
        self.conv3 = nn.Conv2d(16, 32, 5)

        x = torch.randn(50, 50).view(-1, 1, 50, 50)
        self._to_linear = None
        self.convs(x)

        self.fc1 = nn.Linear(self._to_linear, 64)  # flattening.
        self.fc2 = nn.Linear(64, 2)  # 64 in, 2 out bc we're doing 2 classes (dog vs cat).

    def convs(self, x):
        # max pooling over 2x2
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv3(x)), (2, 2))

        print(x[0].shape)
        if self._to_linear is None:
            self._to_linear = x[0].shape[0] * x[0].shape[1] * x[0].shape[2]
        return x

    def forward(self, x):
        x = self.convs(x)
        x = x.view(-1, self._to_linear)  # .view is reshape ... this flattens X before
        x = F.relu(self.fc1(x))
        x = self.fc2(x)  # bc this is our output layer. No activation here.
        return F.softmax(x, dim=1)


net = Net()
print(net)
print(net._to_linear)

optimizer = optim.Adam(net.parameters(), lr=0.001)
loss_function = nn.MSELoss()

X = torch.Tensor(np.array([i[0] for i in training_data])).view(-1, 50, 50)
X = X / 255.0
y = torch.Tensor(np.array([i[1] for i in training_data]))
print(X.shape, X.dtype, y.shape, y[:4])

VAL_PCT = 0.1  # lets reserve 10% of our data for validation
val_size = int(len(X) * VAL_PCT)
print(val_size)

train_X = X[:-val_size]
train_y = y[:-val_size]

test_X = X[-val_size:]
test_y = y[-val_size:]

print(len(train_X), len(test_X))

BATCH_SIZE = 20
EPOCHS = 2


def train(net):
    for epoch in range(EPOCHS):
        for i in range(0, len(train_X), BATCH_SIZE):  # from 0, to the len of x, stepping BATCH_SIZE at a time. [:50] ..for now just to dev
            # print(f"{i}:{i+BATCH_SIZE}")
            batch_X = train_X[i:i + BATCH_SIZE].view(-1, 1, 50, 50)
            batch_y = train_y[i:i + BATCH_SIZE]

            net.zero_grad()

            outputs = net(batch_X)
            loss = loss_function(outputs, batch_y)
            loss.backward()
            optimizer.step()  # Does the update

        print(f"Epoch: {epoch}. Loss: {loss}")


train(net)


def test(net):
    correct = 0
    total = 0
    with torch.no_grad():
        for i in range(len(test_X)):
            real_class = torch.argmax(test_y[i])
            net_out = net(test_X[i].view(-1, 1, 50, 50))[0]  # returns a list,
            predicted_class = torch.argmax(net_out)

            if predicted_class == real_class:
                correct += 1
            total += 1
    print("Accuracy: ", round(correct / total, 3))


test(net)

# --- part 7's version of the loop: in-sample accuracy, and a batched test
if torch.cuda.is_available():
    device = torch.device("cuda:0")  # you can continue going on here, like cuda:1 cuda:2....etc.
    print("Running on the GPU")
else:
    device = torch.device("cpu")
    print("Running on the CPU")

net = net.to(device)
EPOCHS = 1


def train(net):
    for epoch in range(EPOCHS):
        for i in range(0, len(train_X), BATCH_SIZE):
            batch_X = train_X[i:i + BATCH_SIZE].view(-1, 1, 50, 50)
            batch_y = train_y[i:i + BATCH_SIZE]

            batch_X, batch_y = batch_X.to(device), batch_y.to(device)

            net.zero_grad()
            outputs = net(batch_X)

            matches = [torch.argmax(i) == torch.argmax(j) for i, j in zip(outputs, batch_y)]
            in_sample_acc = matches.count(True) / len(matches)

            loss = loss_function(outputs, batch_y)
            loss.backward()
            optimizer.step()
        print(loss)
        print("In-sample acc:", round(in_sample_acc, 2))
        print(matches[:3])


train(net)


def batch_test(net):
    BATCH_SIZE = 100
    correct = 0
    total = 0
    with torch.no_grad():
        batch_X = test_X[:BATCH_SIZE].view(-1, 1, 50, 50)
        batch_y = test_y[:BATCH_SIZE]

        batch_X, batch_y = batch_X.to(device), batch_y.to(device)

        net.zero_grad()
        outputs = net(batch_X)

        matches = [torch.argmax(i) == torch.argmax(j) for i, j in zip(outputs, batch_y)]
        acc = matches.count(True) / len(matches)

        print("Test Accuracy:", round(acc, 3))
        print(outputs[:3])


batch_test(net)
print(net.conv1.weight.grad, net.fc2.bias.grad)  # None: zero_grad() sets them to None
print(net.conv1.weight[0, 0, :2], net.fc2.bias)
