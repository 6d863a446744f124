# Source: IBM / Coursera "Deep Neural Networks with PyTorch" (Joseph Santarcangelo), labs 1.3.1 "Simple
# Dataset", 2.1 "Linear Regression 1D: Prediction", 3.3 "Linear regression: Training and Validation
# Data / the PyTorch way", 3.6 "Training and validation", 4.1 "Multiple Linear Regression
# prediction", 4.2 "Multiple Linear Regression training", 4.4 "Training multiple output linear
# regression", as mirrored in https://github.com/AngelFelipeMP/Deep-Neural-Networks-with-Pytorch
#   Week1/1.3.1_simple_data_set_v2.ipynb, Week2/2.1Prediction1Dregression_v3.ipynb,
#   Week2/3.3_PyTorchway_v3.ipynb, Week2/3.6_training_and_validation_v3.ipynb,
#   Week3/4.1..._v2.ipynb, Week3/4.2..._v2.ipynb, Week3/4.4.training_multiple_output_linear_regression.ipynb
# Shrunk: plots dropped (the error-surface class of 3.3 keeps only the parameter/loss bookkeeping it
# does per step); torchvision is not installed, so 1.3.1's transforms.Compose cells are left out;
# epochs: 3.3 trains 3 epochs instead of 10, 3.6 trains 3 instead of 10, 4.2 20 instead of 100,
# 4.4 20 instead of 100; the loss lists are printed (the notebook plots them).
import torch
from torch.utils.data import Dataset, DataLoader
from torch import nn, optim

# ---- 1.3.1 Simple dataset
torch.manual_seed(1)


class toy_set(Dataset):

    # Constructor with defult values
    def __init__(self, length=100, transform=None):
        self.len = length
        self.x = 2 * torch.ones(length, 2)
        self.y = torch.ones(length, 1)
        self.transform = transform

    # Getter
    def __getitem__(self, index):
        sample = self.x[index], self.y[index]
        if self.transform:
            sample = self.transform(sample)
        return sample

    # Get Length
    def __len__(self):
        return self.len


our_dataset = toy_set()
print("Our toy_set object: ", our_dataset)
print("Value on index 0 of our toy_set object: ", our_dataset[0])
print("Our toy_set length: ", len(our_dataset))

for i in range(3):
    x, y = our_dataset[i]
    print("index: ", i, '; x:', x, '; y:', y)

# iterating a Dataset without __iter__: Python indexes it until IndexError
count = 0
for x, y in our_dataset:
    count += 1
    if count <= 2:
        print(' x:', x, 'y:', y)
print("iterated over", count, "samples")

my_dataset = toy_set(length=50)
print("My toy_set length: ", len(my_dataset))


class add_mult(object):

    # Constructor
    def __init__(self, addx=1, muly=2):
        self.addx = addx
        self.muly = muly

    # Executor
    def __call__(self, sample):
        x = sample[0]
        y = sample[1]
        x = x + self.addx
        y = y * self.muly
        sample = x, y
        return sample


a_m = add_mult()
data_set = toy_set()
for i in range(3):
    x, y = data_set[i]
    print('Index: ', i, 'Original x: ', x, 'Original y: ', y)
    x_, y_ = a_m(data_set[i])
    print('Index: ', i, 'Transformed x_:', x_, 'Transformed y_:', y_)

cust_data_set = toy_set(transform=a_m)
for i in range(3):
    x, y = data_set[i]
    print('Index: ', i, 'Original x: ', x, 'Original y: ', y)
    x_, y_ = cust_data_set[i]
    print('Index: ', i, 'Transformed x_:', x_, 'Transformed y_:', y_)

# ---- 2.1 Prediction 1D regression
w = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(-1.0, requires_grad=True)


def forward(x):
    yhat = w * x + b
    return yhat


x = torch.tensor([[1.0]])
yhat = forward(x)
print("The prediction: ", yhat)
x = torch.tensor([[1.0], [2.0]])
print("The shape of x: ", x.shape)
yhat = forward(x)
print("The prediction: ", yhat)
x = torch.tensor([[1.0], [2.0], [3.0]])
print("The prediction: ", forward(x))

from torch.nn import Linear

torch.manual_seed(1)
lr = Linear(in_features=1, out_features=1, bias=True)
print("Parameters w and b: ", list(lr.parameters()))
print("Python dictionary: ", lr.state_dict())
print("keys: ", lr.state_dict().keys())
print("values: ", lr.state_dict().values())
print("weight:", lr.weight)
print("bias:", lr.bias)
x = torch.tensor([[1.0]])
yhat = lr(x)
print("The prediction: ", yhat)
x = torch.tensor([[1.0], [2.0]])
yhat = lr(x)
print("The prediction: ", yhat)
x = torch.tensor([[1.0], [2.0], [3.0]])
print("The prediction: ", lr(x))


class LR(nn.Module):

    # Constructor
    def __init__(self, input_size, output_size):
        # Inherit from parent
        super(LR, self).__init__()
        self.linear = nn.Linear(input_size, output_size)

    # Prediction function
    def forward(self, x):
        out = self.linear(x)
        return out


lr = LR(1, 1)
print("The parameters: ", list(lr.parameters()))
print("Linear model: ", lr.linear)
x = torch.tensor([[1.0]])
yhat = lr(x)
print("The prediction: ", yhat)
x = torch.tensor([[1.0], [2.0]])
yhat = lr(x)
print("The prediction: ", yhat)
print("Python dictionary: ", lr.state_dict())
print("keys: ", lr.state_dict().keys())
print("values: ", lr.state_dict().values())
print(lr)

# ---- 3.3 The PyTorch way
torch.manual_seed(1)


class plot_error_surfaces(object):
    # (the plotting is left out: what it records per step stays)
    def __init__(self):
        self.W = []
        self.B = []
        self.LOSS = []
        self.n = 0

    # Setter
    def set_para_loss(self, model, loss):
        self.n = self.n + 1
        self.LOSS.append(loss)
        self.W.append(list(model.parameters())[0].item())
        self.B.append(list(model.parameters())[1].item())


class Data(Dataset):

    # Constructor
    def __init__(self):
        self.x = torch.arange(-3, 3, 0.1).view(-1, 1)
        self.f = 1 * self.x - 1
        self.y = self.f + 0.1 * torch.randn(self.x.size())
        self.len = self.x.shape[0]

    # Getter
    def __getitem__(self, index):
        return self.x[index], self.y[index]

    # Get Length
    def __len__(self):
        return self.len


dataset = Data()
print(dataset.x.shape, dataset.y[:5])


class linear_regression(nn.Module):

    # Constructor
    def __init__(self, input_size, output_size):
        super(linear_regression, self).__init__()
        self.linear = nn.Linear(input_size, output_size)

    # Prediction
    def forward(self, x):
        yhat = self.linear(x)
        return yhat


criterion = nn.MSELoss()
model = linear_regression(1, 1)
optimizer = optim.SGD(model.parameters(), lr=0.01)
print(list(model.parameters()))
print(optimizer.state_dict())
trainloader = DataLoader(dataset=dataset, batch_size=1)

# Customize the weight and bias
model.state_dict()['linear.weight'][0] = -15
model.state_dict()['linear.bias'][0] = -10
print(model.state_dict())
get_surface = plot_error_surfaces()


def train_model_BGD(iter):
    for epoch in range(iter):
        for x, y in trainloader:
            yhat = model(x)
            loss = criterion(yhat, y)
            get_surface.set_para_loss(model, loss.tolist())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print("epoch", epoch, "loss", get_surface.LOSS[-1], "w", get_surface.W[-1], "b", get_surface.B[-1])


train_model_BGD(3)
print(model.state_dict())
print(optimizer.state_dict())
print(len(get_surface.LOSS), get_surface.LOSS[:5])

# ---- 3.6 Training and validation
torch.manual_seed(1)


class Data(Dataset):

    # Constructor
    def __init__(self, train=True):
        self.x = torch.arange(-3, 3, 0.1).view(-1, 1)
        self.f = -3 * self.x + 1
        self.y = self.f + 0.1 * torch.randn(self.x.size())
        self.len = self.x.shape[0]

        # outliers
        if train == True:
            self.y[0] = 0
            self.y[50:55] = 20
        else:
            pass

    # Getter
    def __getitem__(self, index):
        return self.x[index], self.y[index]

    # Get Length
    def __len__(self):
        return self.len


train_data = Data()
val_data = Data(train=False)
print(train_data.y[48:56].view(-1))

criterion = nn.MSELoss()
trainloader = DataLoader(dataset=train_data, batch_size=1)

learning_rates = [0.0001, 0.001, 0.01, 0.1]
train_error = torch.zeros(len(learning_rates))
validation_error = torch.zeros(len(learning_rates))
MODELS = []


def train_model_with_lr(iter, lr_list):

    # iterate through different learning rates
    for i, lr in enumerate(lr_list):
        model = linear_regression(1, 1)
        optimizer = optim.SGD(model.parameters(), lr=lr)
        for epoch in range(iter):
            for x, y in trainloader:
                yhat = model(x)
                loss = criterion(yhat, y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

        # train data
        Yhat = model(train_data.x)
        train_loss = criterion(Yhat, train_data.y)
        train_error[i] = train_loss.item()

        # validation data
        Yhat = model(val_data.x)
        val_loss = criterion(Yhat, val_data.y)
        validation_error[i] = val_loss.item()
        MODELS.append(model)


train_model_with_lr(3, learning_rates)
print("train_error", train_error)
print("validation_error", validation_error)
print(train_error.numpy(), validation_error.numpy())

i = 0
for model, learning_rate in zip(MODELS, learning_rates):
    yhat = model(val_data.x)
    print('i', yhat.detach().numpy()[0:3])
good_model = MODELS[int(torch.argmin(validation_error))]
print("best lr", learning_rates[int(torch.argmin(validation_error))], good_model.state_dict())

# ---- 4.1 Multiple linear regression prediction
torch.manual_seed(1)
w = torch.tensor([[2.0], [3.0]], requires_grad=True)
b = torch.tensor([[1.0]], requires_grad=True)


def forward(x):
    yhat = torch.mm(x, w) + b
    return yhat


x = torch.tensor([[1.0, 2.0]])
yhat = forward(x)
print("The result: ", yhat)
X = torch.tensor([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
yhat = forward(X)
print("The result: ", yhat)
model = nn.Linear(2, 1)
yhat = model(x)
print("The result: ", yhat)
yhat = model(X)
print("The result: ", yhat)

model = linear_regression(2, 1)
print("The parameters: ", list(model.parameters()))
print("The parameters: ", model.state_dict())
yhat = model(x)
print("The result: ", yhat)
yhat = model(X)
print("The result: ", yhat)
X = torch.tensor([[11.0, 12.0, 13, 14], [11, 12, 13, 14]])
model = linear_regression(4, 1)
print("The result: ", model(X))

# ---- 4.2 Multiple linear regression training
torch.manual_seed(1)


class Data2D(Dataset):

    # Constructor
    def __init__(self):
        self.x = torch.zeros(20, 2)
        self.x[:, 0] = torch.arange(-1, 1, 0.1)
        self.x[:, 1] = torch.arange(-1, 1, 0.1)
        self.w = torch.tensor([[1.0], [1.0]])
        self.b = 1
        self.f = torch.mm(self.x, self.w) + self.b
        self.y = self.f + 0.1 * torch.randn((self.x.shape[0], 1))
        self.len = self.x.shape[0]

    # Getter
    def __getitem__(self, index):
        return self.x[index], self.y[index]

    # Get Length
    def __len__(self):
        return self.len


data_set = Data2D()
model = linear_regression(2, 1)
print("The parameters: ", list(model.parameters()))
optimizer = optim.SGD(model.parameters(), lr=0.1)
criterion = nn.MSELoss()
train_loader = DataLoader(dataset=data_set, batch_size=2)

LOSS = []
print("Before Training: ")
print(model.state_dict()['linear.weight'].numpy()[0][0], model.state_dict()['linear.weight'].numpy()[0][1],
      model.state_dict()['linear.bias'].numpy())
epochs = 20


def train_model(epochs):
    for epoch in range(epochs):
        for x, y in train_loader:
            yhat = model(x)
            loss = criterion(yhat, y)
            LOSS.append(loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


train_model(epochs)
print("After Training: ")
print(model.state_dict()['linear.weight'].numpy()[0][0], model.state_dict()['linear.weight'].numpy()[0][1],
      model.state_dict()['linear.bias'].numpy())
print(LOSS[::20])

# Practice: model1, batch size 30, lr 0.1
data_set = Data2D()
model1 = linear_regression(2, 1)
optimizer = optim.SGD(model1.parameters(), lr=0.1)
train_loader = DataLoader(dataset=data_set, batch_size=30)
LOSS1 = []
for epoch in range(epochs):
    for x, y in train_loader:
        yhat = model1(x)
        loss = criterion(yhat, y)
        LOSS1.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
print(LOSS1[::5])

torch.manual_seed(2)
validation_data = Data2D()
Y = validation_data.y
X = validation_data.x
print("total loss or cost for model: ", criterion(model(X), Y))
print("total loss or cost for model: ", criterion(model1(X), Y))

# ---- 4.4 Training multiple output linear regression
torch.manual_seed(1)


class Data(Dataset):
    def __init__(self):
        self.x = torch.zeros(20, 2)
        self.x[:, 0] = torch.arange(-1, 1, 0.1)
        self.x[:, 1] = torch.arange(-1, 1, 0.1)
        self.w = torch.tensor([[1.0, -1.0], [1.0, 3.0]])
        self.b = torch.tensor([[1.0, -1.0]])
        self.f = torch.mm(self.x, self.w) + self.b

        self.y = self.f + 0.001 * torch.randn((self.x.shape[0], 1))
        self.len = self.x.shape[0]

    def __getitem__(self, index):
        return self.x[index], self.y[index]

    def __len__(self):
        return self.len


data_set = Data()
model = linear_regression(2, 2)
optimizer = optim.SGD(model.parameters(), lr=0.1)
criterion = nn.MSELoss()
train_loader = DataLoader(dataset=data_set, batch_size=5)

LOSS = []
epochs = 20
for epoch in range(epochs):
    for x, y in train_loader:
        # make a prediction
        yhat = model(x)
        # calculate the loss
        loss = criterion(yhat, y)
        # store loss/cost
        LOSS.append(loss.item())
        # clear gradient
        optimizer.zero_grad()
        # Backward pass: compute gradient of the loss with respect to all the learnable parameters
        loss.backward()
        # the step function on an Optimizer makes an update to its parameters
        optimizer.step()
print(LOSS[::8])
print(model.state_dict())
