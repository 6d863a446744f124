# Source: Adrian Tam, "Loss Functions in PyTorch Models", Machine Learning Mastery (Deep Learning with
#   PyTorch series), https://machinelearningmastery.com/loss-functions-in-pytorch-models/
#   (every listing of the page: MAE/MSE, cross entropy with probability and index targets, argmax,
#   LogSoftmax + NLLLoss, BCELoss, and the full custom MAPE-loss regression example)
# Shrunk: the MAPE example trains on 300 synthetic California-housing-like rows (8 positive features,
# a positive price from a fixed random rule plus noise) instead of scikit-learn's
# fetch_california_housing; train_test_split(train_size=0.7, shuffle=True) is a torch.randperm split
# and StandardScaler a few NumPy lines (mean and population std of the training rows, as scikit-learn
# computes them); 8 epochs instead of 100. No matplotlib or tqdm (imported but unused by the page).
import torch
import torch.nn as nn

mae = nn.L1Loss()
mse = nn.MSELoss()

predict = torch.tensor([0., 3.])
target = torch.tensor([1., 0.])

print("MAE: %.3f" % mae(predict, target))
print("MSE: %.3f" % mse(predict, target))

ce = nn.CrossEntropyLoss()

logits = torch.tensor([[-1.90, -0.29, -2.30], [-0.29, -1.90, -2.30]])
target = torch.tensor([[0., 1., 0.], [1., 0., 0.]])
print("Cross entropy: %.3f" % ce(logits, target))

probs = torch.tensor([[0.15, 0.75, 0.1], [0.75, 0.15, 0.1]])
print(logits.softmax(dim=1), probs)

ce = nn.CrossEntropyLoss()

logits = torch.tensor([[-1.90, -0.29, -2.30], [-0.29, -1.90, -2.30]])
indices = torch.tensor([1, 0])
print("Cross entropy: %.3f" % ce(logits, indices))

target = torch.tensor([[0., 1., 0.], [1., 0., 0.]])
indices = torch.argmax(target, dim=1)
print(indices)

ce = nn.NLLLoss()

# softmax to apply on dimension 1, i.e. per row
logsoftmax = nn.LogSoftmax(dim=1)

logits = torch.tensor([[-1.90, -0.29, -2.30], [-0.29, -1.90, -2.30]])
pred = logsoftmax(logits)
indices = torch.tensor([1, 0])
print("Cross entropy: %.3f" % ce(pred, indices))

bce = nn.BCELoss()

pred = torch.tensor([0.75, 0.25])
target = torch.tensor([1., 0.])
print("Binary cross entropy: %.3f" % bce(pred, target))

# ---- the full custom-loss example ----
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

# Read data
features = torch.rand(300, 8) * torch.tensor([10., 50., 8., 2., 3000., 5., 10., 10.])
price = 0.5 + features @ torch.rand(8) / torch.tensor(600.) + 0.1 * torch.rand(300)
X, y = features.double().numpy(), price.double().numpy()

# train-test split for model evaluation
perm = torch.randperm(len(X)).numpy()
n_train = int(0.7 * len(X))
X_train_raw, X_test_raw, y_train, y_test = X[perm[:n_train]], X[perm[n_train:]], y[perm[:n_train]], y[perm[n_train:]]

# Standardizing data
mean, scale = X_train_raw.mean(axis=0), X_train_raw.std(axis=0)
X_train = (X_train_raw - mean) / scale
X_test = (X_test_raw - mean) / scale

# Convert to 2D PyTorch tensors
X_train = torch.tensor(X_train, dtype=torch.float32)
y_train = torch.tensor(y_train, dtype=torch.float32).reshape(-1, 1)
X_test = torch.tensor(X_test, dtype=torch.float32)
y_test = torch.tensor(y_test, dtype=torch.float32).reshape(-1, 1)

# Define the model
model = nn.Sequential(
    nn.Linear(8, 24),
    nn.ReLU(),
    nn.Linear(24, 12),
    nn.ReLU(),
    nn.Linear(12, 6),
    nn.ReLU(),
    nn.Linear(6, 1)
)

# loss function and optimizer
def loss_fn(output, target):
    # MAPE loss
    return torch.mean(torch.abs((target - output) / target))
optimizer = optim.Adam(model.parameters(), lr=0.0001)

n_epochs = 8   # number of epochs to run
batch_size = 10  # size of each batch
batch_start = torch.arange(0, len(X_train), batch_size)

# Hold the best model
best_mape = np.inf   # init to infinity
best_weights = None

for epoch in range(n_epochs):
    model.train()
    for start in batch_start:
        # take a batch
        X_batch = X_train[start:start+batch_size]
        y_batch = y_train[start:start+batch_size]
        # forward pass
        y_pred = model(X_batch)
        loss = loss_fn(y_pred, y_batch)
        # backward pass
        optimizer.zero_grad()
        loss.backward()
        # update weights
        optimizer.step()
    # evaluate accuracy at end of each epoch
    model.eval()
    y_pred = model(X_test)
    mape = float(loss_fn(y_pred, y_test))
    print("epoch %d: test MAPE %.4f" % (epoch, mape))
    if mape < best_mape:
        best_mape = mape
        best_weights = copy.deepcopy(model.state_dict())

# restore model and return best accuracy
model.load_state_dict(best_weights)
print("MAPE: %.2f" % best_mape)

model.eval()
with torch.no_grad():
    # Test out inference with 5 samples
    for i in range(5):
        X_sample = X_test_raw[i: i+1]
        X_sample = (X_sample - mean) / scale
        X_sample = torch.tensor(X_sample, dtype=torch.float32)
        y_pred = model(X_sample)
        print(f"{X_test_raw[i]} -> {y_pred[0].numpy()} (expected {y_test[i].numpy()})")
