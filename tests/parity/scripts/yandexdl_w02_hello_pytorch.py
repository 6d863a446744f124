# Source: Yandex School of Data Analysis, Practical_DL course, week 2 seminar "Hello, pytorch" (numpy world vs
#   pytorch world, the trigonometric knotwork warm-up, autograd linear regression on Boston house prices, then
#   nn.Sequential logistic regression on notMNIST "A" vs "B" with a hand-written crossentropy, RMSprop and Adam):
#   https://github.com/yandexdataschool/Practical_DL  week02_autodiff/seminar_pytorch.ipynb
# Shrunk: no downloads: the Boston LSTAT/MEDV columns are 506 synthetic NumPy points on the same ranges, and
# notMNIST A/B is 300 train / 100 test synthetic 784-pixel images (two class-dependent mean images plus noise);
# the `# YOUR CODE` blanks filled in as a student would; plots replaced by prints of what they would show;
# print(torch.__version__) and print(nn.Module.__doc__) dropped (they differ by design); the Adam loop runs
# 60 steps of 64 images instead of 100 of 256.
from __future__ import print_function
import numpy as np
import torch

# numpy world

x = np.arange(16).reshape(4, 4)

print("X :\n%s\n" % x)
print("X.shape : %s\n" % (x.shape,))
print("add 5 :\n%s\n" % (x + 5))
print("X*X^T  :\n%s\n" % np.dot(x, x.T))
print("mean over cols :\n%s\n" % (x.mean(axis=-1)))
print("cumsum of cols :\n%s\n" % (np.cumsum(x, axis=0)))

# pytorch world

x = np.arange(16).reshape(4, 4)

x = torch.tensor(x, dtype=torch.float32)  # or torch.arange(0,16).view(4,4)

print("X :\n%s" % x)
print("X.shape : %s\n" % (x.shape,))
print("add 5 :\n%s" % (x + 5))
print("X*X^T  :\n%s" % torch.matmul(x, x.transpose(1, 0)))  # short: x.mm(x.t())
print("mean over cols :\n%s" % torch.mean(x, dim=-1))
print("cumsum of cols :\n%s" % torch.cumsum(x, dim=0))

# the notebook's list of numpy -> pytorch renamings, tried out
print(x.view(1, 2, 8).shape, x.reshape([1, 2, 8]).shape)
print(x.sum(dim=-1), x.type(torch.LongTensor).dtype)

# Warmup: trigonometric knotwork
t = torch.linspace(-10, 10, steps=10000)

# compute x(t) and y(t) as defined above
x = t - 1.5 * torch.cos(15 * t)
y = t - 1.5 * torch.sin(16 * t)

# plt.plot(x.numpy(), y.numpy())
print("knotwork x:", x[:5], x.numpy().min(), x.numpy().max())
print("knotwork y:", y[-5:], y.numpy().mean())

# Automatic gradients: Boston LSTAT -> MEDV, synthetic
lstat = np.random.uniform(1.73, 37.97, size=506)
target = np.clip(34.55 - 0.95 * lstat + np.random.normal(0, 6.2, size=506), 5.0, 50.0)
data = np.stack([np.random.uniform(0, 1, size=506), lstat], axis=1)
print("data:", data.shape, "target:", target.shape, "target mean: %.4f" % target.mean())

w = torch.zeros(1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)

x = torch.tensor(data[:, -1] / 10, dtype=torch.float32)
y = torch.tensor(target, dtype=torch.float32)

y_pred = w * x + b
loss = torch.mean((y_pred - y)**2)

# propagete gradients
loss.backward()

print("dL/dw = \n", w.grad)
print("dL/db = \n", b.grad)

for i in range(100):

    y_pred = w * x + b
    loss = torch.mean((y_pred - y)**2)
    loss.backward()

    with torch.no_grad():
        w.data = w - 0.05 * w.grad.data
        b.data = b - 0.05 * b.grad.data

        # zero gradients
        w.grad.zero_()
        b.grad.zero_()

    # the rest of code is just bells and whistles
    if (i + 1) % 5 == 0:
        # plt.scatter(x.data.numpy(), y_pred.data.numpy(), ...)
        print("loss = ", loss.data.numpy())
        if loss.item() < 0.5:
            print("Done!")
            break

print("w =", w, "b =", b)
print("y_pred:", y_pred[:4], y_pred.requires_grad, w.grad)

# High-level pytorch: notMNIST "A" vs "B", synthetic
mean_a = np.random.uniform(0, 1, size=784)
mean_b = np.random.uniform(0, 1, size=784)


def load_notmnist(n):
    labels = np.random.randint(0, 2, size=n)
    images = np.where(labels[:, None] == 0, mean_a, mean_b) + np.random.normal(0, 0.6, size=(n, 784))
    return np.clip(images, 0, 1).astype('float32').reshape([-1, 28, 28]), labels


X_train, y_train = load_notmnist(300)
X_test, y_test = load_notmnist(100)
X_train, X_test = X_train.reshape([-1, 784]), X_test.reshape([-1, 784])

print("Train size = %i, test_size = %i" % (len(X_train), len(X_test)))

from torch import nn
import torch.nn.functional as F

# create a network that stacks layers on top of each other
model = nn.Sequential(
    nn.Linear(784, 1),   # add first "dense" layer with 784 input units and 1 output unit.
    nn.Sigmoid()         # add softmax activation for probabilities. Normalize over axis 1

)
print(model)

print("Weight shapes:", [w.shape for w in model.parameters()])

# create dummy data with 3 samples and 784 features
x = torch.tensor(X_train[:3], dtype=torch.float32)
y = torch.tensor(y_train[:3], dtype=torch.float32)

# compute outputs given inputs, both are tensors
y_predicted = model(x)[:, 0]

print(y_predicted)  # display what we've got

crossentropy = -(y * torch.log(y_predicted) + (1 - y) * torch.log(1 - y_predicted))

loss = crossentropy.mean()

assert tuple(crossentropy.size()) == (
    3,), "Crossentropy must be a vector with element per sample"
assert tuple(loss.size()) == tuple(
), "Loss must be scalar. Did you forget the mean/sum?"
assert loss.data.numpy() > 0, "Crossentropy must non-negative, zero only for perfect prediction"
assert loss.data.numpy() <= np.log(
    3), "Loss is too large even for untrained model. Please double-check it."
print("crossentropy:", crossentropy, "loss:", loss)
print("F.binary_cross_entropy:", F.binary_cross_entropy(y_predicted, y))

opt = torch.optim.RMSprop(model.parameters(), lr=0.01)

# here's how it's used:
loss.backward()      # add new gradients
opt.step()           # change weights
opt.zero_grad()      # clear gradients
print(opt)
print("bias after one RMSprop step:", model[0].bias, model[0].weight.grad)

# dispose of old tensors to avoid bugs later
del x, y, y_predicted, loss, y_pred

# create network again just in case
model = nn.Sequential()
model.add_module('first', nn.Linear(784, 1))
model.add_module('second', nn.Sigmoid())
print(model)

opt = torch.optim.Adam(model.parameters(), lr=1e-3)

history = []

for i in range(60):

    # sample 256 random images
    ix = np.random.randint(0, len(X_train), 64)
    x_batch = torch.tensor(X_train[ix], dtype=torch.float32)
    y_batch = torch.tensor(y_train[ix], dtype=torch.float32)

    # predict probabilities
    y_predicted = model(x_batch)[:, 0]

    assert y_predicted.dim(
    ) == 1, "did you forget to select first column with [:, 0]"

    # compute loss, just like before
    loss = -torch.mean(y_batch * torch.log(y_predicted) + (1 - y_batch) * torch.log(1 - y_predicted))

    # compute gradients
    loss.backward()

    # Adam step
    opt.step()

    # clear gradients
    opt.zero_grad()

    history.append(loss.data.numpy())

    if i % 10 == 0:
        print("step #%i | mean loss = %.3f" % (i, np.mean(history[-10:])))

# use your model to predict classes (0 or 1) for all test samples
predicted_y_test = (model(torch.from_numpy(X_test))[:, 0] > 0.5).long().numpy()

assert isinstance(predicted_y_test, np.ndarray), "please return np array, not %s" % type(
    predicted_y_test)
assert predicted_y_test.shape == y_test.shape, "please predict one class for each test sample"
assert np.isin(predicted_y_test, y_test).all(), "please predict class indexes"

accuracy = np.mean(predicted_y_test == y_test)

print("Test accuracy: %.5f" % accuracy)
print(predicted_y_test.dtype, predicted_y_test[:20])
print(model.state_dict()['first.bias'], list(model.state_dict().keys()))
