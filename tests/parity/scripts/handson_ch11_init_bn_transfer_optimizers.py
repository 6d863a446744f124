# Source: Aurélien Géron, "Hands-On Machine Learning with Scikit-Learn and PyTorch" (2025), chapter 11
# "Training Deep Neural Networks": initializers (manual Kaiming scaling, nn.init.kaiming_uniform_ with
# LeakyReLU/ELU/SELU, model.apply), BatchNorm1d parameters/buffers, LayerNorm by hand, transfer learning
# by freezing reused layers (copy.deepcopy of a Sequential slice), and the optimizer comparison
# (SGD, momentum, Nesterov, Adagrad, RMSprop, Adam, Adamax, NAdam, AdamW):
#   https://github.com/ageron/handson-mlp  11_training_deep_neural_networks.ipynb
# Shrunk: Fashion-MNIST (sklearn's fetch_openml) replaced by 448 synthetic 1x28x28 images (sparse class
# templates times noise), split into tasks A and B as the notebook does (B: 20 training images); the
# optimizer comparison trains on 128 of them (RMSprop/Adam at lr=0.05 blow up in the first epoch: more
# steps would make the printed losses depend on float32 rounding); 2-3 epochs
# instead of 10-20; LayerNorm check on 4x3x10x20 instead of 32x3x100x200. torchmetrics is not a test
# dependency: a stand-in package beside the scripts (torchmetrics/) gives its Accuracy. The notebook's
# cell outputs (parameter/buffer names, evaluations) are printed; matplotlib figures left out; device
# is the CPU.
import copy

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import TensorDataset, DataLoader

import torchmetrics  # a stand-in beside these scripts (torchmetrics/): not a test dependency


layer = nn.Linear(40, 10)
layer.weight.data *= 6 ** 0.5  # Kaiming init (or 3 ** 0.5 for LeCun init)
torch.zero_(layer.bias.data)
print("scaled weight std:", round(layer.weight.std().item(), 4), "bias:", layer.bias.abs().sum().item())

layer = nn.Linear(40, 10)
nn.init.kaiming_uniform_(layer.weight)
nn.init.zeros_(layer.bias)
print("kaiming weight std:", round(layer.weight.std().item(), 4))


def use_he_init(module):
    if isinstance(module, nn.Linear):
        nn.init.kaiming_uniform_(module.weight)
        nn.init.zeros_(module.bias)


model = nn.Sequential(nn.Linear(50, 40), nn.ReLU(), nn.Linear(40, 1), nn.ReLU())
print(model.apply(use_he_init))

model = nn.Sequential(nn.Linear(50, 40), nn.LeakyReLU(negative_slope=0.2))
print(model.apply(use_he_init))

torch.manual_seed(42)
alpha = 0.2
model = nn.Sequential(nn.Linear(50, 40), nn.LeakyReLU(negative_slope=alpha))
print(nn.init.kaiming_uniform_(model[0].weight, alpha, nonlinearity="leaky_relu")[0, :4])

torch.manual_seed(42)
model = nn.Sequential(nn.Linear(50, 40), nn.ELU())
nn.init.kaiming_uniform_(model[0].weight)
print(model(torch.randn(2, 50))[:, :4])

torch.manual_seed(42)
model = nn.Sequential(nn.Linear(50, 40), nn.SELU())
nn.init.kaiming_uniform_(model[0].weight)
print(model(torch.randn(2, 50))[:, :4])

torch.manual_seed(42)

model = nn.Sequential(
    nn.Flatten(),
    nn.BatchNorm1d(1 * 28 * 28),
    nn.Linear(1 * 28 * 28, 300),
    nn.ReLU(),
    nn.BatchNorm1d(300),
    nn.Linear(300, 100),
    nn.ReLU(),
    nn.BatchNorm1d(100),
    nn.Linear(100, 10)
)
print(dict(model[1].named_parameters()).keys())
print(dict(model[1].named_buffers()).keys())

torch.manual_seed(42)

model = nn.Sequential(
    nn.Flatten(),
    nn.Linear(1 * 28 * 28, 300, bias=False),
    nn.BatchNorm1d(300),
    nn.ReLU(),
    nn.Linear(300, 100, bias=False),
    nn.BatchNorm1d(100),
    nn.ReLU(),
    nn.Linear(100, 10)
)
print(model(torch.rand(4, 1, 28, 28))[:, :3])
print(model[2].running_mean[:3], model[2].num_batches_tracked)

torch.manual_seed(42)

inputs = torch.randn(4, 3, 10, 20)  # a batch of random RGB images
layer_norm = nn.LayerNorm([10, 20])
result = layer_norm(inputs)  # normalizes over the last two dimensions

means = inputs.mean(dim=[2, 3], keepdim=True)
vars_ = inputs.var(dim=[2, 3], keepdim=True, unbiased=False)
stds = torch.sqrt(vars_ + layer_norm.eps)
result2 = layer_norm.weight * (inputs - means) / stds + layer_norm.bias
assert torch.allclose(result, result2)
print("LayerNorm matches:", torch.allclose(result, result2), result[0, 0, 0, :3])

layer_norm = nn.LayerNorm([3, 10, 20])
result = layer_norm(inputs)  # normalizes over the last three dimensions
print(layer_norm.weight.shape, result[1, 2, 3, :3])

# Synthetic stand-in for Fashion-MNIST
templates = torch.rand(10, 1, 28, 28) * (torch.rand(10, 1, 28, 28) > 0.5)  # dark backgrounds
y = torch.randint(0, 10, (448,))
X = templates[y] * torch.rand(448, 1, 28, 28)
in_B = (y == 0) | (y == 2)  # Pullover or T-shirt/top
X_A, y_A = X[~in_B], y[~in_B]
y_A = torch.maximum(y_A - 2, torch.tensor(0))  # [1,3,4,5,6,7,8,9] => [0,..,7]
X_B, y_B = X[in_B], (y[in_B] == 2).to(dtype=torch.float32).view(-1, 1)
print("task A:", X_A.shape, y_A[:10], "task B:", X_B.shape, y_B[:5, 0])

train_set_A = TensorDataset(X_A[:-100], y_A[:-100])
valid_set_A = TensorDataset(X_A[-100:-50], y_A[-100:-50])
test_set_A = TensorDataset(X_A[-50:], y_A[-50:])
train_set_B = TensorDataset(X_B[:20], y_B[:20])
valid_set_B = TensorDataset(X_B[20:60], y_B[20:60])
test_set_B = TensorDataset(X_B[60:], y_B[60:])

train_loader_A = DataLoader(train_set_A, batch_size=32, shuffle=True)
valid_loader_A = DataLoader(valid_set_A, batch_size=32)
test_loader_A = DataLoader(test_set_A, batch_size=32)
train_loader_B = DataLoader(train_set_B, batch_size=32, shuffle=True)
valid_loader_B = DataLoader(valid_set_B, batch_size=32)
test_loader_B = DataLoader(test_set_B, batch_size=32)


def evaluate_tm(model, data_loader, metric):
    model.eval()
    metric.reset()
    with torch.no_grad():
        for X_batch, y_batch in data_loader:
            X_batch, y_batch = X_batch.to(device), y_batch.to(device)
            y_pred = model(X_batch)
            metric.update(y_pred, y_batch)
    return metric.compute()


def train(model, optimizer, loss_fn, metric, train_loader, valid_loader,
          n_epochs):
    history = {"train_losses": [], "train_metrics": [], "valid_metrics": []}
    for epoch in range(n_epochs):
        total_loss = 0.0
        metric.reset()
        model.train()
        for X_batch, y_batch in train_loader:
            X_batch, y_batch = X_batch.to(device), y_batch.to(device)
            y_pred = model(X_batch)
            loss = loss_fn(y_pred, y_batch)
            total_loss += loss.item()
            loss.backward()
            # Uncomment to activate gradient clipping:
            #nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            optimizer.zero_grad()
            metric.update(y_pred, y_batch)
        history["train_losses"].append(total_loss / len(train_loader))
        history["train_metrics"].append(metric.compute().item())
        history["valid_metrics"].append(
            evaluate_tm(model, valid_loader, metric).item())
        print(f"Epoch {epoch + 1}/{n_epochs}, "
              f"train loss: {history['train_losses'][-1]:.4f}, "
              f"train metric: {history['train_metrics'][-1]:.4f}, "
              f"valid metric: {history['valid_metrics'][-1]:.4f}")
    return history


if torch.cuda.is_available():
    device = "cuda"
elif torch.backends.mps.is_available():
    device = "mps"
else:
    device = "cpu"

print(device)

torch.manual_seed(42)

model_A = nn.Sequential(
    nn.Flatten(),
    nn.Linear(28 * 28, 100),
    nn.ReLU(),
    nn.Linear(100, 100),
    nn.ReLU(),
    nn.Linear(100, 100),
    nn.ReLU(),
    nn.Linear(100, 8)
)
model_A = model_A.to(device)
model_A.apply(use_he_init)

n_epochs = 3
optimizer = torch.optim.SGD(model_A.parameters(), lr=0.005)
xentropy = nn.CrossEntropyLoss()
accuracy = torchmetrics.Accuracy(task="multiclass", num_classes=8).to(device)
history_A = train(model_A, optimizer, xentropy, accuracy,
                  train_loader_A, valid_loader_A, n_epochs)

torch.manual_seed(9)

model_B = nn.Sequential(
    nn.Flatten(),
    nn.Linear(28 * 28, 100),
    nn.ReLU(),
    nn.Linear(100, 100),
    nn.ReLU(),
    nn.Linear(100, 100),
    nn.ReLU(),
    nn.Linear(100, 1)
).to(device)
model_B.apply(use_he_init)
n_epochs = 3
optimizer = torch.optim.SGD(model_B.parameters(), lr=0.005)
xentropy = nn.BCEWithLogitsLoss()
accuracy = torchmetrics.Accuracy(task="binary").to(device)
history_B = train(model_B, optimizer, xentropy, accuracy,
                  train_loader_B, valid_loader_B, n_epochs)
print(evaluate_tm(model_B, test_loader_B, accuracy))

torch.manual_seed(43)
reused_layers = copy.deepcopy(model_A[:-1])
model_B_on_A = nn.Sequential(
    *reused_layers,
    nn.Linear(100, 1)  # new output layer for task B
).to(device)

for layer in model_B_on_A[:-1]:
    for param in layer.parameters():
        param.requires_grad = False

n_epochs = 2
optimizer = torch.optim.SGD(model_B_on_A.parameters(), lr=0.005)
xentropy = nn.BCEWithLogitsLoss()
accuracy = torchmetrics.Accuracy(task="binary").to(device)
history_B = train(model_B_on_A, optimizer, xentropy, accuracy,
                  train_loader_B, valid_loader_B, n_epochs)
print("model_A's first layer unchanged:", torch.equal(model_A[1].weight, model_B_on_A[1].weight),
      "grad:", model_B_on_A[1].weight.grad)

for layer in model_B_on_A[2:]:
    for param in layer.parameters():
        param.requires_grad = True

n_epochs = 3
optimizer = torch.optim.SGD(model_B_on_A.parameters(), lr=0.005)
xentropy = nn.BCEWithLogitsLoss()
accuracy = torchmetrics.Accuracy(task="binary").to(device)
history_B = train(model_B_on_A, optimizer, xentropy, accuracy,
                  train_loader_B, valid_loader_B, n_epochs)
print(evaluate_tm(model_B_on_A, test_loader_B, accuracy))
print("trainable:", [name for name, p in model_B_on_A.named_parameters() if p.requires_grad])

# extra code – a little function to test an optimizer on Fashion MNIST

train_set = TensorDataset(X[:128], y[:128])
valid_set = TensorDataset(X[320:384], y[320:384])
test_set = TensorDataset(X[384:], y[384:])


def build_model(seed=42):
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(28 * 28, 100),
        nn.ReLU(),
        nn.Linear(100, 100),
        nn.ReLU(),
        nn.Linear(100, 100),
        nn.ReLU(),
        nn.Linear(100, 10)
    ).to(device)
    model.apply(use_he_init)
    return model


def test_optimizer(model, optimizer, n_epochs=2, batch_size=32):
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
    valid_loader = DataLoader(valid_set, batch_size=32)
    test_loader = DataLoader(test_set, batch_size=32)
    xentropy = nn.CrossEntropyLoss()
    accuracy = torchmetrics.Accuracy(task="multiclass", num_classes=10)
    history = train(model, optimizer, xentropy, accuracy.to(device),
                    train_loader, valid_loader, n_epochs)
    return history, evaluate_tm(model, test_loader, accuracy)


model = build_model()  # extra code
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
history_sgd, acc_sgd = test_optimizer(model, optimizer)  # extra code
model = build_model()  # extra code
optimizer = torch.optim.SGD(model.parameters(), momentum=0.9, lr=0.05)
history_momentum, acc_momentum = test_optimizer(model, optimizer)  # extra code
model = build_model()  # extra code
optimizer = torch.optim.SGD(model.parameters(),
                            momentum=0.9, nesterov=True, lr=0.05)
history_nesterov, acc_nesterov = test_optimizer(model, optimizer)  # extra code
model = build_model()  # extra code
optimizer = torch.optim.Adagrad(model.parameters(), lr=0.05)
history_adagrad, acc_adagrad = test_optimizer(model, optimizer)  # extra code
model = build_model()  # extra code
optimizer = torch.optim.RMSprop(model.parameters(), alpha=0.9, lr=0.05)
history_rmsprop, acc_rmsprop = test_optimizer(model, optimizer)  # extra code
model = build_model()  # extra code
optimizer = torch.optim.Adam(model.parameters(), betas=(0.9, 0.999), lr=0.05)
history_adam, acc_adam = test_optimizer(model, optimizer)  # extra code
model = build_model()  # extra code
optimizer = torch.optim.Adamax(model.parameters(), betas=(0.9, 0.999), lr=0.05)
history_adamax, acc_adamax = test_optimizer(model, optimizer)  # extra code
model = build_model()  # extra code
optimizer = torch.optim.NAdam(model.parameters(), betas=(0.9, 0.999), lr=0.05)
history_nadam, acc_nadam = test_optimizer(model, optimizer)  # extra code
model = build_model()  # extra code
optimizer = torch.optim.AdamW(model.parameters(), betas=(0.9, 0.999),
                              weight_decay=1e-5, lr=0.05)
history_adamw, acc_adamw = test_optimizer(model, optimizer)  # extra code

# extra code – the learning curves the notebook plots, printed
opt_names = "SGD Momentum Nesterov AdaGrad RMSProp Adam Adamax Nadam AdamW"
for history, acc, opt_name in zip(
    (history_sgd, history_momentum, history_nesterov, history_adagrad,
     history_rmsprop, history_adam, history_adamax, history_nadam,
     history_adamw),
    (acc_sgd, acc_momentum, acc_nesterov, acc_adagrad, acc_rmsprop, acc_adam,
     acc_adamax, acc_nadam, acc_adamw), opt_names.split()):
    print(f"{opt_name}: train losses {np.round(history['train_losses'], 4)}, test accuracy {acc.item():.4f}")
