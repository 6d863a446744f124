# Source: Adrian Tam, "Using Learning Rate Schedule in PyTorch Training", Machine Learning Mastery
#   (Deep Learning with PyTorch series), https://machinelearningmastery.com/using-learning-rate-schedule-in-pytorch-training/
#   (its three full listings: constant lr, LinearLR, ExponentialLR swapped in, and the custom LambdaLR)
# Shrunk: 120 synthetic ionosphere-like rows (34 features in [-1, 1], a label from a fixed random
# linear rule) instead of reading ionosphere.csv with pandas; LabelEncoder is not needed (the labels
# are 0/1 already); scikit-learn's train_test_split(train_size=0.7, shuffle=True) is a torch.randperm
# split; 20 epochs instead of 50 (LinearLR's total_iters=30 kept, so it is still decaying at the end),
# the same model, batch size and learning rates. The model is rebuilt for each schedule.
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
import torch.optim.lr_scheduler as lr_scheduler

# load dataset, split into input (X) and output (y) variables
dataset_X = torch.rand(120, 34) * 2 - 1
rule = torch.randn(34)
X = dataset_X.numpy().astype(float)
y = (dataset_X @ rule > 0).numpy().astype(int)

# convert into PyTorch tensors
X = torch.tensor(X, dtype=torch.float32)
y = torch.tensor(y, dtype=torch.float32).reshape(-1, 1)

# train-test split for evaluation of the model
perm = torch.randperm(len(X))
n_train = int(0.7 * len(X))
X_train, X_test, y_train, y_test = X[perm[:n_train]], X[perm[n_train:]], y[perm[:n_train]], y[perm[n_train:]]
print(X_train.shape, X_test.shape, float(y_train.mean()))


def make_model():
    # create model
    model = nn.Sequential(
        nn.Linear(34, 34),
        nn.ReLU(),
        nn.Linear(34, 1),
        nn.Sigmoid()
    )
    return model


# Train the model
n_epochs = 20
batch_size = 24
batch_start = torch.arange(0, len(X_train), batch_size)
lr = 0.1
loss_fn = nn.BCELoss()

# --- constant learning rate ---
model = make_model()
optimizer = optim.SGD(model.parameters(), lr=lr)
model.train()
for epoch in range(n_epochs):
    for start in batch_start:
        X_batch = X_train[start:start+batch_size]
        y_batch = y_train[start:start+batch_size]
        y_pred = model(X_batch)
        loss = loss_fn(y_pred, y_batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print("Epoch %d: SGD lr=%.4f" % (epoch, optimizer.param_groups[0]["lr"]))

# evaluate accuracy after training
model.eval()
y_pred = model(X_test)
acc = (y_pred.round() == y_test).float().mean()
acc = float(acc)
print("Model accuracy: %.2f%%" % (acc*100))


def lr_lambda(epoch):
    # LR to be 0.1 * (1/1+0.01*epoch)
    base_lr = 0.1
    factor = 0.01
    return base_lr/(1+factor*epoch)


schedulers = {
    "LinearLR": lambda optimizer: lr_scheduler.LinearLR(optimizer, start_factor=1.0, end_factor=0.5, total_iters=30),
    "ExponentialLR": lambda optimizer: lr_scheduler.ExponentialLR(optimizer, gamma=0.99),
    "LambdaLR": lambda optimizer: lr_scheduler.LambdaLR(optimizer, lr_lambda),
}
for name, make_scheduler in schedulers.items():
    print(name)
    model = make_model()
    optimizer = optim.SGD(model.parameters(), lr=lr)
    scheduler = make_scheduler(optimizer)
    model.train()
    for epoch in range(n_epochs):
        for start in batch_start:
            X_batch = X_train[start:start+batch_size]
            y_batch = y_train[start:start+batch_size]
            y_pred = model(X_batch)
            loss = loss_fn(y_pred, y_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        before_lr = optimizer.param_groups[0]["lr"]
        scheduler.step()
        after_lr = optimizer.param_groups[0]["lr"]
        print("Epoch %d: SGD lr %.4f -> %.4f" % (epoch, before_lr, after_lr))
    print("last loss %.4f, get_last_lr %s" % (loss.item(), scheduler.get_last_lr()))
    print(sorted(scheduler.state_dict().keys()))

    # evaluate accuracy after training
    model.eval()
    y_pred = model(X_test)
    acc = (y_pred.round() == y_test).float().mean()
    acc = float(acc)
    print("Model accuracy: %.2f%%" % (acc*100))
