# Source: Patrick Loeber (Python Engineer), "PyTorch Tutorial" course, lessons 6-8 combined: the
# training pipeline (model, loss and optimizer), linear regression, logistic regression.
#   https://github.com/patrickloeber/pytorchTutorial  "06_2_model_loss_and_ optimizer.py",
#   07_linear_regression.py, 08_logistic_regression.py
# Shrunk/changed: no scikit-learn or matplotlib (not test dependencies): sklearn's
# make_regression(n_samples=100, n_features=1, noise=20, random_state=4) is written as its NumPy
# lines (X ~ N(0,1), coef = 100*U(0,1), y = X coef + 20*N(0,1)); load_breast_cancer is replaced by
# 150 synthetic two-class samples of 30 features, train_test_split(test_size=0.2, random_state=1234)
# by a seeded NumPy permutation and StandardScaler by its mean/std lines; lesson 7's plot is replaced
# by printing the first predictions. Epoch counts are the lessons' own (100 each).
import torch
import torch.nn as nn
import numpy as np

print('--- 06_2_model_loss_and_optimizer')
# Linear regression
# f = w * x

# here : f = 2 * x

# 0) Training samples, watch the shape!
X = torch.tensor([[1], [2], [3], [4]], dtype=torch.float32)
Y = torch.tensor([[2], [4], [6], [8]], dtype=torch.float32)

n_samples, n_features = X.shape
print(f'#samples: {n_samples}, #features: {n_features}')
# 0) create a test sample
X_test = torch.tensor([5], dtype=torch.float32)

# 1) Design Model, the model has to implement the forward pass!
# Here we can use a built-in model from PyTorch
input_size = n_features
output_size = n_features

# we can call this model with samples X
model = nn.Linear(input_size, output_size)

print(f'Prediction before training: f(5) = {model(X_test).item():.3f}')

# 2) Define loss and optimizer
learning_rate = 0.01
n_iters = 100

loss = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)

# 3) Training loop
for epoch in range(n_iters):
    # predict = forward pass with our model
    y_predicted = model(X)

    # loss
    l = loss(Y, y_predicted)

    # calculate gradients = backward pass
    l.backward()

    # update weights
    optimizer.step()

    # zero the gradients after updating
    optimizer.zero_grad()

    if epoch % 10 == 0:
        [w, b] = model.parameters() # unpack parameters
        print('epoch ', epoch+1, ': w = ', w[0][0].item(), ' loss = ', l)

print(f'Prediction after training: f(5) = {model(X_test).item():.3f}')

print('--- 07_linear_regression')
# 0) Prepare data
# (sklearn.datasets.make_regression(n_samples=100, n_features=1, noise=20, random_state=4), in NumPy)
rng = np.random.RandomState(4)
X_numpy = rng.standard_normal((100, 1))
coef = 100 * rng.uniform(size=(1,))
y_numpy = X_numpy @ coef + rng.normal(scale=20, size=100)

# cast to float Tensor
X = torch.from_numpy(X_numpy.astype(np.float32))
y = torch.from_numpy(y_numpy.astype(np.float32))
y = y.view(y.shape[0], 1)

n_samples, n_features = X.shape

# 1) Model
# Linear model f = wx + b
input_size = n_features
output_size = 1
model = nn.Linear(input_size, output_size)

# 2) Loss and optimizer
learning_rate = 0.01

criterion = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)

# 3) Training loop
num_epochs = 100
for epoch in range(num_epochs):
    # Forward pass and loss
    y_predicted = model(X)
    loss = criterion(y_predicted, y)

    # Backward pass and update
    loss.backward()
    optimizer.step()

    # zero grad before new step
    optimizer.zero_grad()

    if (epoch+1) % 10 == 0:
        print(f'epoch: {epoch+1}, loss = {loss.item():.4f}')

# Plot
predicted = model(X).detach().numpy()
print(predicted.dtype, predicted.shape, np.round(predicted[:5, 0], 3))  # (instead of the plot)

print('--- 08_logistic_regression')
# 0) Prepare data
# (instead of sklearn's load_breast_cancer: 150 samples, 30 features, two classes)
rng = np.random.RandomState(0)
y = rng.randint(0, 2, size=150)
X = rng.normal(size=(150, 30)) * rng.uniform(1, 5, size=30) + np.outer(y, rng.normal(size=30)) + 10

n_samples, n_features = X.shape

# (train_test_split(X, y, test_size=0.2, random_state=1234), in NumPy)
perm = np.random.RandomState(1234).permutation(n_samples)
n_test = int(np.ceil(0.2 * n_samples))
X_train, X_test, y_train, y_test = X[perm[n_test:]], X[perm[:n_test]], y[perm[n_test:]], y[perm[:n_test]]

# scale
# (StandardScaler: sc.fit_transform(X_train), sc.transform(X_test))
mean, scale = X_train.mean(axis=0), X_train.std(axis=0)
X_train = (X_train - mean) / scale
X_test = (X_test - mean) / scale

X_train = torch.from_numpy(X_train.astype(np.float32))
X_test = torch.from_numpy(X_test.astype(np.float32))
y_train = torch.from_numpy(y_train.astype(np.float32))
y_test = torch.from_numpy(y_test.astype(np.float32))

y_train = y_train.view(y_train.shape[0], 1)
y_test = y_test.view(y_test.shape[0], 1)

# 1) Model
# Linear model f = wx + b , sigmoid at the end
class Model(nn.Module):
    def __init__(self, n_input_features):
        super(Model, self).__init__()
        self.linear = nn.Linear(n_input_features, 1)

    def forward(self, x):
        y_pred = torch.sigmoid(self.linear(x))
        return y_pred

model = Model(n_features)

# 2) Loss and optimizer
num_epochs = 100
learning_rate = 0.01
criterion = nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)

# 3) Training loop
for epoch in range(num_epochs):
    # Forward pass and loss
    y_pred = model(X_train)
    loss = criterion(y_pred, y_train)

    # Backward pass and update
    loss.backward()
    optimizer.step()

    # zero grad before new step
    optimizer.zero_grad()

    if (epoch+1) % 10 == 0:
        print(f'epoch: {epoch+1}, loss = {loss.item():.4f}')


with torch.no_grad():
    y_predicted = model(X_test)
    y_predicted_cls = y_predicted.round()
    acc = y_predicted_cls.eq(y_test).sum() / float(y_test.shape[0])
    print(f'accuracy: {acc.item():.4f}')
