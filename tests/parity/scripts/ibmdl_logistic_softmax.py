# Source: IBM / Coursera "Deep Neural Networks with PyTorch" (Joseph Santarcangelo), labs 5.1 "Logistic
# Regression prediction", 5.3 "Logistic regression training with cross entropy", 5.4 "Softmax
# classifier 1D", 6.2 "Predicting MNIST using Softmax", 7.1 "Simple one hidden layer neural network",
# as mirrored in https://github.com/AngelFelipeMP/Deep-Neural-Networks-with-Pytorch
#   Week3/5.1logistic_regression_prediction_v2.ipynb, Week3/5.3_cross_entropy_logistic_regression_v2.ipynb,
#   Week4/5.4softmax_in_one_dimension_v2.ipynb, Week4/6.2lab_predicting _MNIST_using_Softmax_v2.ipynb,
#   Week4/7.1_simple1hiddenlayer.ipynb
# Shrunk: plots dropped (plot_error_surfaces keeps only its per-step bookkeeping); 5.3 trains 20
# epochs instead of 100, 5.4 60 instead of 300, 7.1 10 epochs instead of 1000 (per-sample SGD);
# 6.2's MNIST replaced by synthetic "images" (torch.rand 28x28 with a label-dependent stripe of ones:
# 300 training, 100 validation samples) and 3 epochs instead of 10; torchvision is not installed.
import torch
import torch.nn as nn
from torch import sigmoid
from torch.utils.data import Dataset, DataLoader

# ---- 5.1 Logistic regression prediction
torch.manual_seed(2)
z = torch.arange(-100, 100, 0.1).view(-1, 1)
print("The tensor: ", z)
sig = nn.Sigmoid()
yhat = sig(z)
print(yhat[::250].view(-1))
yhat = torch.sigmoid(z)
print(yhat[995:1005].view(-1))

x = torch.tensor([[1.0]])
X = torch.tensor([[1.0], [100]])
print('x = ', x)
print('X = ', X)
model = nn.Sequential(nn.Linear(1, 1), nn.Sigmoid())
print("list(model.parameters()):\n ", list(model.parameters()))
print("\nmodel.state_dict():\n ", model.state_dict())
yhat = model(x)
print("The prediction: ", yhat)
yhat = model(X)
print(yhat)

x = torch.tensor([[1.0, 1.0]])
X = torch.tensor([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
print('x = ', x)
print('X = ', X)
model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
print("list(model.parameters()):\n ", list(model.parameters()))
print("\nmodel.state_dict():\n ", model.state_dict())
yhat = model(x)
print("The prediction: ", yhat)
yhat = model(X)
print("The prediction: ", yhat)


class logistic_regression(nn.Module):

    # Constructor
    def __init__(self, n_inputs):
        super(logistic_regression, self).__init__()
        self.linear = nn.Linear(n_inputs, 1)

    # Prediction
    def forward(self, x):
        yhat = torch.sigmoid(self.linear(x))
        return yhat


x = torch.tensor([[1.0]])
X = torch.tensor([[-100], [0], [100.0]])
print('x = ', x)
print('X = ', X)
model = logistic_regression(1)
print("list(model.parameters()):\n ", list(model.parameters()))
print("\nmodel.state_dict():\n ", model.state_dict())
yhat = model(x)
print("The prediction result: \n", yhat)
yhat = model(X)
print("The prediction result: \n", yhat)

model = logistic_regression(2)
x = torch.tensor([[1.0, 2.0]])
X = torch.tensor([[100, -100], [0.0, 0.0], [-100, 100]])
print('x = ', x)
print('X = ', X)
yhat = model(x)
print("The prediction result: \n", yhat)
yhat = model(X)
print("The prediction result: \n", yhat)

model = nn.Sequential(nn.Linear(1, 1), nn.Sigmoid())
X = torch.tensor([-10.0])
yhat = model(X)
print('Output:', yhat)

# ---- 5.3 Cross entropy logistic regression
torch.manual_seed(0)


class plot_error_surfaces(object):
    # (the plotting is left out: what it records per step stays)
    def __init__(self):
        self.W = []
        self.B = []
        self.LOSS = []
        self.n = 0

    def set_para_loss(self, model, loss):
        self.n = self.n + 1
        self.W.append(list(model.parameters())[0].item())
        self.B.append(list(model.parameters())[1].item())
        self.LOSS.append(loss)


class Data(Dataset):

    # Constructor
    def __init__(self):
        self.x = torch.arange(-1, 1, 0.1).view(-1, 1)
        self.y = torch.zeros(self.x.shape[0], 1)
        self.y[self.x[:, 0] > 0.2] = 1
        self.len = self.x.shape[0]

    # Getter
    def __getitem__(self, index):
        return self.x[index], self.y[index]

    # Get length
    def __len__(self):
        return self.len


data_set = Data()
print(data_set[:][0].shape, data_set[:][1].view(-1))
model = logistic_regression(1)
# Set the weight and bias
model.state_dict()['linear.weight'].data[0] = torch.tensor([[-5]])
model.state_dict()['linear.bias'].data[0] = torch.tensor([[-10]])
print("The parameters: ", model.state_dict())
get_surface = plot_error_surfaces()


def criterion(yhat, y):
    out = -1 * torch.mean(y * torch.log(yhat) + (1 - y) * torch.log(1 - yhat))
    return out


trainloader = DataLoader(dataset=data_set, batch_size=3)
learning_rate = 2
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)


def train_model(epochs):
    for epoch in range(epochs):
        for x, y in trainloader:
            yhat = model(x)
            loss = criterion(yhat, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            get_surface.set_para_loss(model, loss.tolist())
        if epoch % 5 == 0:
            print("epoch", epoch, "W", get_surface.W[-1], "B", get_surface.B[-1], "loss", get_surface.LOSS[-1])


train_model(20)
yhat = model(data_set.x)
label = yhat > 0.5
print("The accuracy: ", torch.mean((label == data_set.y.type(torch.ByteTensor)).type(torch.float)))
print(nn.BCELoss()(yhat, data_set.y), criterion(yhat, data_set.y))

# ---- 5.4 Softmax in one dimension
torch.manual_seed(0)


class Data(Dataset):

    # Constructor
    def __init__(self):
        self.x = torch.arange(-2, 2, 0.1).view(-1, 1)
        self.y = torch.zeros(self.x.shape[0])
        self.y[(self.x > -1.0)[:, 0] * (self.x < 1.0)[:, 0]] = 1
        self.y[(self.x >= 1.0)[:, 0]] = 2
        self.y = self.y.type(torch.LongTensor)
        self.len = self.x.shape[0]

    # Getter
    def __getitem__(self, index):
        return self.x[index], self.y[index]

    # Get Length
    def __len__(self):
        return self.len


data_set = Data()
print(data_set.y)
X = data_set[:][0]
Y = data_set[:][1]
print(X[Y == 0, 0], X[Y == 2, 0])

model = nn.Sequential(nn.Linear(1, 3))
print(model.state_dict())
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
trainloader = DataLoader(dataset=data_set, batch_size=5)

LOSS = []


def train_model(epochs):
    for epoch in range(epochs):
        if epoch % 20 == 0:
            w = list(model.parameters())[0][0].detach()
            b = list(model.parameters())[1][0].detach()
            print("epoch", epoch, w, b)
            for w, b in zip(model.state_dict()['0.weight'], model.state_dict()['0.bias']):
                print((w * X + b)[::10].view(-1))
        for x, y in trainloader:
            optimizer.zero_grad()
            yhat = model(x)
            loss = criterion(yhat, y)
            LOSS.append(loss)
            loss.backward()
            optimizer.step()


train_model(60)
print(LOSS[0], LOSS[-1], len(LOSS))
z = model(data_set.x)
_, yhat = z.max(1)
print("The prediction:", yhat)
correct = (data_set.y == yhat).sum().item()
accuracy = correct / len(data_set)
print("The accuracy: ", accuracy)
Softmax_fn = nn.Softmax(dim=-1)
Probability = Softmax_fn(z)
for i in range(3):
    print("probability of class {} isg given by  {}".format(i, Probability[0, i]))

# ---- 6.2 Softmax classifier on (synthetic) MNIST
torch.manual_seed(0)


class SyntheticMNIST(Dataset):
    # stands in for dsets.MNIST(root='./data', train=..., transform=transforms.ToTensor()):
    # (1, 28, 28) float images in [0, 1] and int labels
    def __init__(self, n):
        self.targets = torch.randint(0, 10, (n,))
        self.data = torch.rand(n, 1, 28, 28)
        for i in range(n):
            self.data[i, 0, 2 + 2 * self.targets[i], :] = 1.0

    def __getitem__(self, index):
        return self.data[index], int(self.targets[index])

    def __len__(self):
        return len(self.targets)


train_dataset = SyntheticMNIST(300)
validation_dataset = SyntheticMNIST(100)
print("Type of data element: ", type(train_dataset[0][1]))
print("The label: ", train_dataset[3][1])


class SoftMax(nn.Module):

    # Constructor
    def __init__(self, input_size, output_size):
        super(SoftMax, self).__init__()
        self.linear = nn.Linear(input_size, output_size)

    # Prediction
    def forward(self, x):
        z = self.linear(x)
        return z


print(train_dataset[0][0].shape)
input_dim = 28 * 28
output_dim = 10
model = SoftMax(input_dim, output_dim)
print("Print the model:\n ", model)
print('W: ', list(model.parameters())[0].size())
print('b: ', list(model.parameters())[1].size())
W = model.state_dict()['linear.weight'].data
print(W.min().item(), W.max().item(), W[0, :].view(28, 28)[0, :4])

learning_rate = 0.1
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
criterion = nn.CrossEntropyLoss()
train_loader = torch.utils.data.DataLoader(dataset=train_dataset, batch_size=100)
validation_loader = torch.utils.data.DataLoader(dataset=validation_dataset, batch_size=5000)

n_epochs = 3
loss_list = []
accuracy_list = []
N_test = len(validation_dataset)


def train_model(n_epochs):
    for epoch in range(n_epochs):
        for x, y in train_loader:
            optimizer.zero_grad()
            z = model(x.view(-1, 28 * 28))
            loss = criterion(z, y)
            loss.backward()
            optimizer.step()

        correct = 0
        # perform a prediction on the validationdata
        for x_test, y_test in validation_loader:
            z = model(x_test.view(-1, 28 * 28))
            _, yhat = torch.max(z.data, 1)
            correct += (yhat == y_test).sum().item()
        accuracy = correct / N_test
        loss_list.append(loss.data)
        accuracy_list.append(accuracy)


train_model(n_epochs)
print(loss_list)
print(accuracy_list)

Softmax_fn = nn.Softmax(dim=-1)
count = 0
for x, y in validation_dataset:
    z = model(x.reshape(-1, 28 * 28))
    _, yhat = torch.max(z, 1)
    if yhat != y:
        print("y:", y, "yhat:", yhat)
        print("probability of class ", torch.max(Softmax_fn(z)).item())
        count += 1
    if count >= 3:
        break
count = 0
for x, y in validation_dataset:
    z = model(x.reshape(-1, 28 * 28))
    _, yhat = torch.max(z, 1)
    if yhat == y:
        print("y:", y, "yhat:", yhat)
        print("probability of class ", torch.max(Softmax_fn(z)).item())
        count += 1
    if count >= 3:
        break

# ---- 7.1 Simple one hidden layer
torch.manual_seed(0)


class Net(nn.Module):

    # Constructor
    def __init__(self, D_in, H, D_out):
        super(Net, self).__init__()
        # hidden layer
        self.linear1 = nn.Linear(D_in, H)
        self.linear2 = nn.Linear(H, D_out)
        # Define the first linear layer as an attribute, this is not good practice
        self.a1 = None
        self.l1 = None
        self.l2 = None

    # Prediction
    def forward(self, x):
        self.l1 = self.linear1(x)
        self.a1 = sigmoid(self.l1)
        self.l2 = self.linear2(self.a1)
        yhat = sigmoid(self.linear2(self.a1))
        return yhat


def train(Y, X, model, optimizer, criterion, epochs=1000):
    cost = []
    total = 0
    for epoch in range(epochs):
        total = 0
        for y, x in zip(Y, X):
            yhat = model(x)
            loss = criterion(yhat, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            # cumulative loss
            total += loss.item()
        cost.append(total)
        if epoch % 5 == 0:
            model(X)
            print("epoch", epoch, "a1", model.a1[18:22].detach().view(-1), "l2", model.l2[18:22].detach().view(-1))
    return cost


X = torch.arange(-20, 20, 1).view(-1, 1).type(torch.FloatTensor)
Y = torch.zeros(X.shape[0])
Y[(X[:, 0] > -4) & (X[:, 0] < 4)] = 1.0


def criterion_cross(outputs, labels):
    out = -1 * torch.mean(labels * torch.log(outputs) + (1 - labels) * torch.log(1 - outputs))
    return out


D_in = 1
H = 2
D_out = 1
learning_rate = 0.1
model = Net(D_in, H, D_out)
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
cost_cross = train(Y, X, model, optimizer, criterion_cross, epochs=10)
print(cost_cross)

x = torch.tensor([0.0])
yhat = model(x)
print(yhat)
X_ = torch.tensor([[0.0], [2.0], [3.0]])
Yhat = model(X_)
print(Yhat)
Yhat = Yhat > 0.5
print(Yhat)


def criterion_msr(outputs, labels):
    out = torch.mean((outputs - labels) ** 2)
    return out


model = Net(D_in, H, D_out)
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
cost_mse = train(Y, X, model, optimizer, criterion_msr, epochs=10)
print(cost_mse)
