# Source: IBM / Coursera "Deep Neural Networks with PyTorch" (Joseph Santarcangelo), weeks 5-6 labs:
# "Dropout in Classification", "Neural Networks with Momentum", "Initialization ... Uniform, He,
# Xavier, Same, Default", "Batch Normalization with the MNIST Dataset", "What's Convolution",
# "Multiple Input and Output Channels", "CNN with Batch Normalization vs. without", as a learner
# typed them: https://github.com/AyadiGithub/Deep-Neural-Networks-with-PyTorch
#   Week 5/Dropout in Classification.py, Week 5/Neural Networks with Momentum.py,
#   Week 5/Weights Experiment_Uniform_He_Xavier_Identical_Default.py,
#   Week 5/Batch Normalization with MNIST Dataset.py, Week 6/Convolution.py,
#   Week 6/Convolution Multiple Inputs and Outputs.py, Week 6/MNIST CNN BatchNorm vs Normal.py
# Shrunk: plots dropped (the values they show printed instead); dropout: 200 samples instead of 1000,
# hidden 50 instead of 300, 30 epochs instead of 500; momentum: 100 points per class instead of 500,
# 4 epochs instead of 100, momentum 0, 0.1 and 0.5 only; MNIST (torchvision is not installed)
# replaced by synthetic images, torch.rand plus a label-dependent stripe (200 training and 100
# validation 28x28 images for the MLP labs, 16x16 ones for the CNN lab, as its Resize((16, 16))
# gives), 2 epochs instead of 5-10, the CNN trained on 100 images for 1 epoch; Network_Same (a copy
# of Network in the lab) written as a subclass of it, its losses not printed (float noise, see there).
# Chaos: a bias feeding a BatchNorm (directly, or through a ReLU active on the whole batch) has a
# gradient that is 0 in exact arithmetic, ~1e-9 in float32, and Adam(lr=0.1) turns that noise into
# +-0.1 steps whose sign is the noise's: the batch-norm MLP lab uses SGD(lr=0.1) for both of its
# models instead of Adam(lr=0.1), and the CNN lab (kept on Adam, 2 steps) prints the BatchNorm
# running variances, which a shift of the bias does not change, instead of its running means.
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import Dataset, DataLoader

# ---------------------------------------------------------------- Dropout in classification


class Data(Dataset):

    # Constructor
    def __init__(self, N_SAMPLES=200, noise_std=0.15, train=True):
        a = np.matrix([-1, 1, 2, 1, 1, -3, 1]).T
        self.x = np.matrix(np.random.rand(N_SAMPLES, 2))
        self.f = np.array(a[0] + (self.x) * a[1:3] + np.multiply(self.x[:, 0], self.x[:, 1]) * a[4] + np.multiply(self.x, self.x) * a[5:7]).flatten()
        self.a = a

        self.y = np.zeros(N_SAMPLES)
        self.y[self.f > 0] = 1
        self.y = torch.from_numpy(self.y).type(torch.LongTensor)
        self.x = torch.from_numpy(self.x).type(torch.FloatTensor)
        self.x = self.x + noise_std * torch.randn(self.x.size())
        self.f = torch.from_numpy(self.f)
        self.a = a
        if train == True:
            torch.manual_seed(1)
            self.x = self.x + noise_std * torch.randn(self.x.size())
            torch.manual_seed(0)

    # Getter
    def __getitem__(self, index):
        return self.x[index], self.y[index]

    # Get Length
    def __len__(self):
        return self.len


class Network(nn.Module):

    # Constructor
    def __init__(self, D_in, H1, H2, D_out, p=0):  # dropout disabled by default p=0
        super().__init__()
        self.drop = nn.Dropout(p=p)  # Dropout with p
        self.linear1 = nn.Linear(D_in, H1)
        self.linear2 = nn.Linear(H1, H2)
        self.linear3 = nn.Linear(H2, D_out)

    # Prediction
    def forward(self, x):
        x = self.linear1(x)
        x = self.drop(x)
        x = torch.relu(x)
        x = self.linear2(x)
        x = self.drop(x)
        x = torch.relu(x)
        x = self.linear3(x)
        return x


def train_model(epochs):

    for epoch in range(epochs):
        # all the samples are used for training
        yhat = model(data_set.x)
        yhat_dropout = model_dropout(data_set.x)
        loss = criterion(yhat, data_set.y)
        loss_dropout = criterion(yhat_dropout, data_set.y)

        # store the loss for both the training and validation data for both models
        LOSS['training data no dropout'].append(loss.item())
        LOSS['validation data no dropout'].append(criterion(model(validation_set.x), validation_set.y).item())
        LOSS['training data dropout'].append(loss_dropout.item())
        model_dropout.eval()
        LOSS['validation data dropout'].append(criterion(model_dropout(validation_set.x), validation_set.y).item())
        model_dropout.train()

        optimizer.zero_grad()
        optimizer_dropout.zero_grad()
        loss.backward()
        loss_dropout.backward()
        optimizer.step()
        optimizer_dropout.step()


def accuracy(model, data_set):
    _, yhat = torch.max(model(data_set.x), 1)
    return (yhat == data_set.y).numpy().mean()


data_set = Data(noise_std=0.2)
print(data_set.x[:3], data_set.y[:10], data_set.f[:3])
validation_set = Data(train=False)
print(validation_set.x[:3], validation_set.y.sum())

model = Network(2, 50, 50, 2)
model_dropout = Network(2, 50, 50, 2, p=0.2)
model_dropout.train()
print(model_dropout)

optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
optimizer_dropout = torch.optim.Adam(model_dropout.parameters(), lr=0.01)
criterion = torch.nn.CrossEntropyLoss()

LOSS = {}
LOSS['training data no dropout'] = []
LOSS['validation data no dropout'] = []
LOSS['training data dropout'] = []
LOSS['validation data dropout'] = []

train_model(30)
model_dropout.eval()
print("The accuracy of the model without dropout: ", accuracy(model, validation_set))
print("The accuracy of the model with dropout: ", accuracy(model_dropout, validation_set))
for key, value in LOSS.items():
    print(key, np.log(np.array(value))[::6])

# ---------------------------------------------------------------- Momentum
torch.manual_seed(0)
np.random.seed(0)


class Data(Dataset):

    # Constructor
    def __init__(self, K=3, N=100):
        D = 2
        X = np.zeros((N * K, D))  # data matrix (each row = single example)
        y = np.zeros(N * K, dtype='uint8')  # class labels
        for j in range(K):
            ix = range(N * j, N * (j + 1))
            r = np.linspace(0.0, 1, N)  # radius
            t = np.linspace(j * 4, (j + 1) * 4, N) + np.random.randn(N) * 0.2  # theta
            X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
            y[ix] = j

        self.y = torch.from_numpy(y).type(torch.LongTensor)
        self.x = torch.from_numpy(X).type(torch.FloatTensor)
        self.len = y.shape[0]

    # Getter
    def __getitem__(self, index):
        return self.x[index], self.y[index]

    # Get Length
    def __len__(self):
        return self.len


class Network(nn.Module):

    # Constructor
    def __init__(self, Layers):
        super().__init__()
        self.hidden = nn.ModuleList()
        for input_size, output_size in zip(Layers, Layers[1:]):
            self.hidden.append(nn.Linear(input_size, output_size))

    # Prediction
    def forward(self, activation):
        L = len(self.hidden)
        for (l, linear_transform) in zip(range(L), self.hidden):
            if l < L - 1:
                activation = torch.relu(linear_transform(activation))
            else:
                activation = linear_transform(activation)
        return activation


def train(data_set, model, criterion, train_loader, optimizer, epochs=100):
    LOSS = []
    ACC = []
    for epoch in range(epochs):
        for x, y in train_loader:
            optimizer.zero_grad()
            yhat = model(x)
            loss = criterion(yhat, y)
            loss.backward()
            optimizer.step()
        LOSS.append(loss.item())
        ACC.append(accuracy(model, data_set))

    results = {"Loss": LOSS, "Accuracy": ACC}
    return results


data_set = Data()
data_set.y = data_set.y.view(-1)
print(data_set.x[[0, 150, 299]], data_set.y[[0, 150, 299]], data_set.x[data_set.y[:] == 2, 0][:3])

Results = {"momentum 0": {"Loss": 0, "Accuracy:": 0}, "momentum 0.1": {"Loss": 0, "Accuracy:": 0}}

Layers = [2, 50, 3]
model = Network(Layers)
print(model)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
train_loader = DataLoader(dataset=data_set, batch_size=20)
criterion = nn.CrossEntropyLoss()
Results["momentum 0"] = train(data_set, model, criterion, train_loader, optimizer, epochs=4)

Layers = [2, 50, 3]
model = Network(Layers)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.1)
train_loader = DataLoader(dataset=data_set, batch_size=20)
criterion = nn.CrossEntropyLoss()
Results["momentum 0.1"] = train(data_set, model, criterion, train_loader, optimizer, epochs=4)

Layers = [2, 50, 3]
model = Network(Layers)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
train_loader = DataLoader(dataset=data_set, batch_size=20)
criterion = nn.CrossEntropyLoss()
Results["momentum 0.5"] = train(data_set, model, criterion, train_loader, optimizer, epochs=4)
print(optimizer)

for key, value in Results.items():
    print(key, value['Loss'], value['Accuracy'])

# ---------------------------------------------------------------- Initialization
torch.manual_seed(0)


class SyntheticMNIST(Dataset):
    # stands in for dsets.MNIST(root='./data', train=..., transform=transforms.ToTensor())
    def __init__(self, n, size=28):
        self.targets = torch.randint(0, 10, (n,))
        self.data = torch.rand(n, 1, size, size)
        for i in range(n):
            self.data[i, 0, self.targets[i] * size // 10, :] = 1.0

    def __getitem__(self, index):
        return self.data[index], int(self.targets[index])

    def __len__(self):
        return len(self.targets)


train_dataset = SyntheticMNIST(200)
validation_dataset = SyntheticMNIST(100)
train_loader = torch.utils.data.DataLoader(dataset=train_dataset, batch_size=100, shuffle=True)
validation_loader = torch.utils.data.DataLoader(dataset=validation_dataset, batch_size=5000, shuffle=False)


# Network with relu activation and He_initialization with relu
class Network_He(nn.Module):

    # Constructor
    def __init__(self, Layers):
        super().__init__()
        self.hidden = nn.ModuleList()

        for input_size, output_size in zip(Layers, Layers[1:]):
            linear = nn.Linear(input_size, output_size)
            torch.nn.init.kaiming_uniform_(linear.weight, nonlinearity='relu')
            self.hidden.append(linear)

    # Prediction
    def forward(self, x):
        L = len(self.hidden)
        for (l, linear_transform) in zip(range(L), self.hidden):
            if l < L - 1:
                x = torch.relu(linear_transform(x))
            else:
                x = linear_transform(x)
        return x


# Network with relu activation and uniform initialization
class Network_Uniform(nn.Module):

    # Constructor
    def __init__(self, Layers):
        super().__init__()
        self.hidden = nn.ModuleList()

        for input_size, output_size in zip(Layers, Layers[1:]):
            linear = nn.Linear(input_size, output_size)
            linear.weight.data.uniform_(0, 1)
            self.hidden.append(linear)

    # Prediction
    def forward(self, x):
        L = len(self.hidden)
        for (l, linear_transform) in zip(range(L), self.hidden):
            if l < L - 1:
                x = torch.relu(linear_transform(x))
            else:
                x = linear_transform(x)

        return x


# Network with relu and Default Initilization
class Network(nn.Module):

    # Constructor
    def __init__(self, Layers):
        super().__init__()
        self.hidden = nn.ModuleList()

        for input_size, output_size in zip(Layers, Layers[1:]):
            linear = nn.Linear(input_size, output_size)
            self.hidden.append(linear)

    def forward(self, x):
        L = len(self.hidden)
        for (l, linear_transform) in zip(range(L), self.hidden):
            if l < L - 1:
                x = torch.relu(linear_transform(x))
            else:
                x = linear_transform(x)

        return x


# Network with relu and Same Initilization
class Network_Same(Network):
    pass


# Network with tanh activation and Xavier Initialization for Tanh
class Network_Xavier(nn.Module):

    # Constructor
    def __init__(self, Layers):
        super().__init__()
        self.hidden = nn.ModuleList()

        for input_size, output_size in zip(Layers, Layers[1:]):
            linear = nn.Linear(input_size, output_size)
            torch.nn.init.xavier_uniform_(linear.weight)
            self.hidden.append(linear)

    # Prediction
    def forward(self, x):
        L = len(self.hidden)
        for (l, linear_transform) in zip(range(L), self.hidden):
            if l < L - 1:
                x = torch.tanh(linear_transform(x))
            else:
                x = linear_transform(x)
        return x


def train(model, criterion, train_loader, validation_loader, optimizer, epochs=100):
    i = 0
    loss_accuracy = {'training_loss': [], 'validation_accuracy': []}

    for epoch in range(epochs):
        for i, (x, y) in enumerate(train_loader):
            optimizer.zero_grad()
            z = model(x.view(-1, 28 * 28))
            loss = criterion(z, y)
            loss.backward()
            optimizer.step()
            loss_accuracy['training_loss'].append(loss.data.item())

        correct = 0
        for x, y in validation_loader:
            yhat = model(x.view(-1, 28 * 28))
            _, label = torch.max(yhat, 1)
            correct += (label == y).sum().item()
        accuracy = 100 * (correct / len(validation_dataset))
        loss_accuracy['validation_accuracy'].append(accuracy)

    return loss_accuracy


input_dim = 28 * 28
output_dim = 10
layers = [input_dim, 100, 10, 100, 10, 100, output_dim]
epochs = 2

criterion = nn.CrossEntropyLoss()

model = Network(layers)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
training_results = train(model, criterion, train_loader, validation_loader, optimizer, epochs=epochs)

model_Uniform = Network_Uniform(layers)
print(model_Uniform.hidden[1].weight.min(), model_Uniform.hidden[1].weight.max())
optimizer = torch.optim.SGD(model_Uniform.parameters(), lr=0.01)
training_results_Uniform = train(model_Uniform, criterion, train_loader, validation_loader, optimizer, epochs=epochs)

model_Xavier = Network_Xavier(layers)
print(model_Xavier.hidden[1].weight[0, :5])
optimizer = torch.optim.SGD(model_Xavier.parameters(), lr=0.01)
training_results_Xavier = train(model_Xavier, criterion, train_loader, validation_loader, optimizer, epochs=epochs)

model_He = Network_He(layers)
print(model_He.hidden[1].weight[0, :5])
optimizer = torch.optim.SGD(model_He.parameters(), lr=0.01)
training_results_He = train(model_He, criterion, train_loader, validation_loader, optimizer, epochs=epochs)

model_Same = Network_Same(layers)
model_Same.state_dict()['hidden.0.weight'][:] = 1.0
model_Same.state_dict()['hidden.1.weight'][:] = 1.0
model_Same.state_dict()['hidden.2.weight'][:] = 1.0
model_Same.state_dict()['hidden.3.weight'][:] = 1.0
model_Same.state_dict()['hidden.4.weight'][:] = 1.0
model_Same.state_dict()['hidden.5.weight'][:] = 1.0
model_Same.state_dict()['hidden.0.bias'][:] = 0.0
model_Same.state_dict()['hidden.1.bias'][:] = 0.0
model_Same.state_dict()['hidden.2.bias'][:] = 0.0
model_Same.state_dict()['hidden.3.bias'][:] = 0.0
model_Same.state_dict()['hidden.4.bias'][:] = 0.0
model_Same.state_dict()['hidden.5.bias'][:] = 0.0
print(list(model_Same.state_dict().keys()), model_Same.state_dict()['hidden.5.weight'][:2, :3])
optimizer = torch.optim.SGD(model_Same.parameters(), lr=0.01)
training_results_Same = train(model_Same, criterion, train_loader, validation_loader, optimizer, epochs=epochs)

# (the Same model is trained but not printed: with every weight 1.0 its logits reach ~1e9, where the
# order BLAS sums a row in decides which equal-looking logit wins: its loss is float noise)
for name, results in [('Xavier', training_results_Xavier), ('He', training_results_He), ('Default', training_results),
                      ('Uniform', training_results_Uniform)]:
    print(name, results['training_loss'], results['validation_accuracy'])

# ---------------------------------------------------------------- Batch normalization (MLP)
torch.manual_seed(0)


class NetworkBatchNorm(nn.Module):

    # Constructor
    def __init__(self, in_size, H1, H2, out_size):
        super().__init__()
        self.linear1 = nn.Linear(in_size, H1)
        self.linear2 = nn.Linear(H1, H2)
        self.linear3 = nn.Linear(H2, out_size)
        self.bn1 = nn.BatchNorm1d(H1)
        self.bn2 = nn.BatchNorm1d(H2)

    # Prediction
    def forward(self, x):
        x = self.linear1(x)
        x = torch.relu(x)
        x = self.bn1(x)
        x = self.linear2(x)
        x = torch.relu(x)
        x = self.bn2(x)
        x = self.linear3(x)
        return x

    # Activations to analyze the results
    def activation(self, x):
        out = []
        z1 = self.bn1(self.linear1(x))
        out.append(z1.detach().numpy().reshape(-1))
        a1 = torch.relu(z1)
        out.append(a1.detach().numpy().reshape(-1))
        z2 = self.bn2(self.linear2(a1))
        out.append(z2.detach().numpy().reshape(-1))
        a2 = torch.relu(z2)
        out.append(a2.detach().numpy().reshape(-1))
        return out


class Network(nn.Module):

    # Constructor
    def __init__(self, in_size, H1, H2, out_size):
        super().__init__()
        self.linear1 = nn.Linear(in_size, H1)
        self.linear2 = nn.Linear(H1, H2)
        self.linear3 = nn.Linear(H2, out_size)

    # Prediction
    def forward(self, x):
        x = self.linear1(x)
        x = torch.relu(x)
        x = self.linear2(x)
        x = torch.relu(x)
        x = self.linear3(x)
        return x

    # Activations to analyze the results
    def activation(self, x):
        out = []
        z1 = self.linear1(x)
        out.append(z1.detach().numpy().reshape(-1))
        a1 = torch.relu(z1)
        out.append(a1.detach().numpy().reshape(-1))
        z2 = self.linear2(a1)
        out.append(z2.detach().numpy().reshape(-1))
        a2 = torch.relu(z2)
        out.append(a2.detach().numpy().reshape(-1))
        return out


def train(model, criterion, train_loader, validation_loader, optimizer, epochs=100):
    i = 0
    useful_stuff = {'training_loss': [], 'validation_accuracy': []}

    for epoch in range(epochs):
        for i, (x, y) in enumerate(train_loader):
            model.train()
            optimizer.zero_grad()
            z = model(x.view(-1, 28 * 28))
            loss = criterion(z, y)
            loss.backward()
            optimizer.step()
            useful_stuff['training_loss'].append(loss.data.item())

        correct = 0
        for x, y in validation_loader:
            model.eval()
            yhat = model(x.view(-1, 28 * 28))
            _, label = torch.max(yhat, 1)
            correct += (label == y).sum().item()

        accuracy = 100 * (correct / len(validation_dataset))
        useful_stuff['validation_accuracy'].append(accuracy)

    return useful_stuff


criterion = nn.CrossEntropyLoss()
model_batchnorm = NetworkBatchNorm(28 * 28, 100, 100, 10)
model = Network(28 * 28, 100, 100, 10)
print(model_batchnorm)

# SGD instead of the lab's Adam(lr=0.1): see the header
optimizer = torch.optim.SGD(model_batchnorm.parameters(), lr=0.1)
training_results_Norm = train(model_batchnorm, criterion, train_loader, validation_loader, optimizer, epochs=2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
training_results = train(model, criterion, train_loader, validation_loader, optimizer, epochs=2)

model.eval()
model_batchnorm.eval()
print(model_batchnorm.bn1.running_mean[:4], model_batchnorm.bn1.running_var[:4], model_batchnorm.bn1.num_batches_tracked)
out = model.activation(validation_dataset[0][0].reshape(-1, 28 * 28))
print('model with no batch normalization', np.histogram(out[2])[0], out[2].mean(), out[2].std())
out_batchnorm = model_batchnorm.activation(validation_dataset[0][0].reshape(-1, 28 * 28))
print('model with normalization', np.histogram(out_batchnorm[2])[0], out_batchnorm[2].mean(), out_batchnorm[2].std())
print('No Batch Normalization', training_results['training_loss'], training_results['validation_accuracy'])
print('Batch Normalization', training_results_Norm['training_loss'], training_results_Norm['validation_accuracy'])

# ---------------------------------------------------------------- What's convolution
conv = nn.Conv2d(in_channels=1, out_channels=1, kernel_size=3)
print(conv)
Gx = torch.tensor([[1.0, 0, -1.0], [2.0, 0, -2.0], [1.0, 0, -1.0]])
conv.state_dict()['weight'][0][0] = Gx
conv.state_dict()['bias'][0] = 0.0
print(conv.state_dict())

image = torch.zeros(1, 1, 5, 5)
image[0, 0, :, 2] = 1
print(image)
relu = nn.ReLU()
Z = conv(image)
print(Z)
Z = relu(Z)
print(Z)

image1 = torch.zeros(1, 1, 4, 4)
image1[0, 0, 0, :] = torch.tensor([1.0, 2.0, 3.0, -4.0])
image1[0, 0, 1, :] = torch.tensor([0.0, 2.0, -3.0, 0.0])
image1[0, 0, 2, :] = torch.tensor([0.0, 2.0, 3.0, 1.0])
print(image1)
max1 = torch.nn.MaxPool2d(2, stride=1)
print(max1(image1))
max2 = torch.nn.MaxPool2d(2)
print(max2(image1))

# ---------------------------------------------------------------- Multiple input and output channels
conv1 = nn.Conv2d(in_channels=1, out_channels=3, kernel_size=3)
print(conv1)
Gx = torch.tensor([[1.0, 0, -1.0], [2.0, 0, -2.0], [1.0, 0.0, -1.0]])
Gy = torch.tensor([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])
Gz = torch.ones(3, 3)
conv1.state_dict()['weight'][0][0] = Gx
conv1.state_dict()['weight'][1][0] = Gy
conv1.state_dict()['weight'][2][0] = Gz
print(conv1.state_dict()['weight'])
conv1.state_dict()['bias'][:] = torch.tensor([0.0, 0.0, 0.0])
print(conv1.state_dict()['bias'])
for x in conv1.state_dict()['weight']:
    print(x)
for x in conv1.state_dict()['bias']:
    print(x)

image = torch.zeros(1, 1, 5, 5)  # Vertical white block in the middle
image[0, 0, :, 2] = 1
image1 = torch.zeros(1, 1, 5, 5)  # Horizontal white block in the middle
image1[0, 0, 2, :] = 1
out = conv1(image)
out1 = conv1(image1)
print(out.shape, out1.shape)
for channel, image in enumerate(out[0]):
    print("channel {}".format(channel))
    print(image)
for channel, image1 in enumerate(out1[0]):
    print("channel {}".format(channel))
    print(image1)

image2 = torch.zeros(1, 2, 5, 5)
image2[0, 0, 2, :] = -2
image2[0, 1, 2, :] = 1
print(image2.shape)
for channel, image in enumerate(image2[0]):
    print("channel {}".format(channel))
    print(image)

conv3 = nn.Conv2d(in_channels=2, out_channels=1, kernel_size=3)
Gx1 = torch.tensor([[0.0, 0.0, 0.0], [0, 1.0, 0], [0.0, 0.0, 0.0]])
conv3.state_dict()['weight'][0][0] = 1 * Gx1
conv3.state_dict()['weight'][0][1] = -2 * Gx1
conv3.state_dict()['bias'][:] = torch.tensor([0.0])
print(conv3.state_dict())
out3 = conv3(image2)
for channel, image in enumerate(out3[0]):
    print("channel {}".format(channel))
    print(image)

conv4 = nn.Conv2d(in_channels=2, out_channels=3, kernel_size=3)
conv4.state_dict()['weight'][0][0] = torch.tensor([[0.0, 0.0, 0.0], [0, 0.5, 0], [0.0, 0.0, 0.0]])
conv4.state_dict()['weight'][0][1] = torch.tensor([[0.0, 0.0, 0.0], [0, 0.5, 0], [0.0, 0.0, 0.0]])
conv4.state_dict()['weight'][1][0] = torch.tensor([[0.0, 0.0, 0.0], [0, 1, 0], [0.0, 0.0, 0.0]])
conv4.state_dict()['weight'][1][1] = torch.tensor([[0.0, 0.0, 0.0], [0, -1, 0], [0.0, 0.0, 0.0]])
conv4.state_dict()['weight'][2][0] = torch.tensor([[1.0, 0, -1.0], [2.0, 0, -2.0], [1.0, 0.0, -1.0]])
conv4.state_dict()['weight'][2][1] = torch.tensor([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])
conv4.state_dict()['bias'][:] = torch.tensor([0.0, 0.0, 0.0])
image4 = torch.zeros(1, 2, 5, 5)
image4[0][0] = torch.ones(5, 5)
image4[0][1][2][2] = 1
for channel, image in enumerate(image4[0]):
    print("channel {}".format(channel))
    print(image)
z = conv4(image4)
print(z)

# ---------------------------------------------------------------- CNN with and without batch norm
torch.manual_seed(0)
IMAGE_SIZE = 16
train_dataset = SyntheticMNIST(100, IMAGE_SIZE)
validation_dataset = SyntheticMNIST(50, IMAGE_SIZE)
print(train_dataset[0][1], train_dataset[0][0].size(), train_dataset[0][0].type())
print(train_dataset[1][0].squeeze().numpy().shape, train_dataset[5][0].reshape(16, 16)[0, :4])


class CNN(nn.Module):

    # Constructor
    def __init__(self, out_1=16, out_2=32):
        super().__init__()
        self.cnn1 = nn.Conv2d(in_channels=1, out_channels=out_1, kernel_size=5, padding=2)
        self.maxpool1 = nn.MaxPool2d(kernel_size=2)
        self.ELU = nn.ELU()
        self.cnn2 = nn.Conv2d(in_channels=out_1, out_channels=out_2, kernel_size=5, padding=2)
        self.maxpool2 = nn.MaxPool2d(kernel_size=2)
        self.fc1 = nn.Linear(out_2 * 4 * 4, 10)

    # Prediction
    def forward(self, x):
        x = self.cnn1(x)
        x = self.ELU(x)
        x = self.maxpool1(x)
        x = self.cnn2(x)
        x = self.ELU(x)
        x = self.maxpool2(x)
        x = x.view(x.size(0), -1)
        x = self.fc1(x)
        return x

    # Outputs in each step
    def activations(self, x):
        # This part is for visualization purposes
        z1 = self.cnn1(x)
        a1 = self.ELU(z1)
        out = self.maxpool1(a1)
        z2 = self.cnn2(out)
        a2 = self.ELU(z2)
        out1 = self.maxpool2(a2)
        out2 = out1.view(out1.size(0), -1)
        return z1, a1, out, z2, a2, out1, out2


def train_model(model, train_loader, validation_loader, optimizer, n_epochs=4):

    # Global variable
    N_test = len(validation_dataset)
    accuracy_list = []
    loss_list = []
    for epoch in range(n_epochs):
        for x, y in train_loader:
            model.train()
            optimizer.zero_grad()
            z = model(x)
            loss = criterion(z, y)
            loss.backward()
            optimizer.step()
            loss_list.append(loss.data)

        correct = 0
        # Perform a prediction on the validation data
        for x_test, y_test in validation_loader:
            model.eval()
            z = model(x_test)
            _, yhat = torch.max(z.data, 1)
            correct += (yhat == y_test).sum().item()
        accuracy = correct / N_test
        accuracy_list.append(accuracy)

    return accuracy_list, loss_list


class CNN_BatchNorm(nn.Module):
    # Constructor
    def __init__(self, out_1=16, out_2=32):
        super().__init__()
        self.cnn1 = nn.Conv2d(in_channels=1, out_channels=out_1, kernel_size=5, padding=2)
        self.conv1_bn = nn.BatchNorm2d(out_1)  # To normalize conv2D, we need BatchNorm2D
        self.maxpool1 = nn.MaxPool2d(kernel_size=2)
        self.ELU = nn.ELU()
        self.cnn2 = nn.Conv2d(in_channels=out_1, out_channels=out_2, kernel_size=5, padding=2)
        self.conv2_bn = nn.BatchNorm2d(out_2)
        self.maxpool2 = nn.MaxPool2d(kernel_size=2)
        self.fc1 = nn.Linear(out_2 * 4 * 4, 10)
        self.bn_fc1 = nn.BatchNorm1d(10)  # To normalize linear layer, BatchNorm1D must be used

    # Prediction
    def forward(self, x):
        x = self.cnn1(x)
        x = self.conv1_bn(x)
        x = self.ELU(x)
        x = self.maxpool1(x)
        x = self.cnn2(x)
        x = self.conv2_bn(x)
        x = self.ELU(x)
        x = self.maxpool2(x)
        x = x.view(x.size(0), -1)
        x = self.fc1(x)
        x = self.bn_fc1(x)
        return x


model = CNN(16, 32)
print(model)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
criterion = nn.CrossEntropyLoss()
train_loader = DataLoader(dataset=train_dataset, batch_size=50)
validation_loader = DataLoader(dataset=validation_dataset, batch_size=5000)
accuracy_list_normal, loss_list_normal = train_model(model=model, n_epochs=1, train_loader=train_loader,
                                                     validation_loader=validation_loader, optimizer=optimizer)
z1, a1, out, z2, a2, out1, out2 = model.activations(train_dataset[0][0].view(1, 1, IMAGE_SIZE, IMAGE_SIZE))
print([t.shape for t in (z1, a1, out, z2, a2, out1, out2)], out2[0, :4])

model_BatchNorm = CNN_BatchNorm(16, 32)
print(model_BatchNorm)
optimizer_BatchNorm = torch.optim.Adam(model_BatchNorm.parameters(), lr=0.01)
accuracy_list_batch, loss_list_batch = train_model(model=model_BatchNorm, n_epochs=1, train_loader=train_loader,
                                                   validation_loader=validation_loader, optimizer=optimizer_BatchNorm)
print('loss normal cnn', loss_list_normal, accuracy_list_normal)
print('loss batch cnn', loss_list_batch, accuracy_list_batch)
print(model_BatchNorm.bn_fc1.running_var, model_BatchNorm.conv1_bn.running_var[:4])
