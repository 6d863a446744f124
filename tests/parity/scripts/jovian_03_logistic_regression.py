# Source: Aakash N S (Jovian), "Deep Learning with PyTorch: Zero to GANs", lesson 3,
#   "Working with Images & Logistic Regression in PyTorch", notebook 03-logistic-regression.ipynb
#   (its earlier edition: split_indices + SubsetRandomSampler, loss_batch/evaluate/fit), as a learner
#   exported it: https://github.com/sravanneeli/PyTorch-for-Deep-Learning  03-logistic-regression.ipynb
# Shrunk: no download, no torchvision: 200 training and 40 test 1x28x28 "digits" in [0, 1] (noise
# around ten class templates, what transforms.ToTensor() would give) in a TensorDataset instead of
# MNIST (so a label prints as a tensor); the test images the notebook picks (0, 1, 5, 1839) become
# 0, 1, 5, 39. plt.imshow/plt.show are left out (the notebook only looks at the images); the
# checkpoint goes to a temporary folder instead of the working directory.
import os
import tempfile

import torch
from torch.utils.data import TensorDataset

# --- stand-in for MNIST(root='data/', train=..., transform=transforms.ToTensor()) ---
templates = torch.rand(10, 1, 28, 28)
train_targets = torch.randint(0, 10, (200,))
test_targets = torch.randint(0, 10, (40,))
dataset = TensorDataset((0.5 * templates[train_targets] + 0.5 * torch.rand(200, 1, 28, 28)), train_targets)
test_dataset = TensorDataset((0.5 * templates[test_targets] + 0.5 * torch.rand(40, 1, 28, 28)), test_targets)
# --- end of the stand-in ---

img_tensor, label = dataset[0]
print(img_tensor.shape, label)

print(img_tensor[:, 10:15, 10:15])
print(torch.max(img_tensor), torch.min(img_tensor))

import numpy as np

def split_indicies(n, val_pct):
    n_val = int(val_pct*n)
    idxs = np.random.permutation(n)
    return idxs[n_val:], idxs[:n_val]

train_indicies, val_indicies = split_indicies(len(dataset), val_pct=0.2)
print(len(train_indicies), len(val_indicies))
print('Sample val indices: ', val_indicies[:20])

from torch.utils.data.sampler import SubsetRandomSampler
from torch.utils.data.dataloader import DataLoader

batch_size = 100

train_sampler = SubsetRandomSampler(train_indicies)
train_loader = DataLoader(dataset,
                          batch_size,
                          sampler=train_sampler)

val_sampler = SubsetRandomSampler(val_indicies)
val_loader = DataLoader(dataset,
                        batch_size,
                        sampler=val_sampler)

import torch.nn as nn

input_size = 28*28
num_classes = 10

model = nn.Linear(input_size, num_classes)

print(model.weight.shape)
print(model.weight)

print(model.bias.shape)
print(model.bias)

class MnistModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(input_size, num_classes)

    def forward(self, xb):
        xb = xb.reshape(-1, 784)
        out = self.linear(xb)
        return out

model = MnistModel()

for images, labels in val_loader:
    outputs = model(images)
    break

print(f'outputs.shape: {outputs.shape}')
print(f"Sample outputs: {outputs[:2].data}")

import torch.nn.functional as F

# Apply softmax for each output row
probs = F.softmax(outputs, dim=1)

# Look at sample probabilities
print("Sample probabilities:\n", probs[:2].data)

# Add up the probabilities of an output row
print("Sum: ", torch.sum(probs[0]).item())

max_probs, preds = torch.max(probs, dim=1)
print(preds)
print(max_probs)

print(labels)

print(torch.sum(preds == labels))

def accuracy(outputs, labels):
    _, preds = torch.max(outputs, dim=1)
    return torch.tensor(torch.sum(preds == labels).item() / len(preds))

print(accuracy(outputs, labels))

loss_fn = F.cross_entropy

# Loss for current batch of data
loss = loss_fn(outputs, labels)
print(loss)

learning_rate = 0.001
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)

def loss_batch(model, loss_func, xb, yb, opt=None, metric=None):
    preds = model(xb)
    loss = loss_fn(preds, yb)

    if opt is not None:
        # Computer Gradients
        loss.backward()
        # Update Parameters
        opt.step()
        # Reset gradients
        opt.zero_grad()

    metric_result = None
    if metric is not None:
        metric_result = metric(preds, yb)

    return loss.item(), len(xb), metric_result

def evaluate(model, loss_fn, valid_dl, metric=None):
    with torch.no_grad():
        # pass each batch through the model
        results = [loss_batch(model, loss_fn, xb, yb, metric=metric)
                      for xb, yb in valid_dl]
        # Separate losses, counts, and metrics
        losses, nums, metrics = zip(*results)
        # Total size of the dataset
        total = np.sum(nums)
        # Avg. loss across batches
        avg_loss = np.sum(np.multiply(losses, nums)) / total
        avg_metric = None
        if metric is not None:
            avg_metric = np.sum(np.multiply(metrics, nums)) / total
    return avg_loss, total, avg_metric

val_loss, total, val_acc = evaluate(model, loss_fn, val_loader, metric=accuracy)
print(f"Loss: {val_loss:.4f}, Accuracy: {val_acc:.4f}")

def fit(epochs, model, loss_fn, opt, train_dl, valid_dl, metric=None):
    for epoch in range(epochs):
        # Training
        for xb, yb in train_dl:
            loss, _, _ = loss_batch(model, loss_fn, xb, yb, opt=opt)

        # Evaluation
        for xb, yb in valid_dl:
            result = evaluate(model, loss_fn, valid_dl, metric)
            val_loss, total, val_metric = result

        if metric is None:
            print(f"Epoch {epoch+1}/{epochs}, Loss: {val_loss:.4f}")
        else:
            print(f"Epoch {epoch+1}/{epochs}, Loss: {val_loss:.4f} {metric.__name__}: {val_metric:.4f}")

model = MnistModel()
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)

fit(5, model, F.cross_entropy, opt=optimizer, train_dl=train_loader, valid_dl=val_loader, metric=accuracy)

fit(5, model, F.cross_entropy, opt=optimizer, train_dl=train_loader, valid_dl=val_loader, metric=accuracy)

img, label = test_dataset[0]
print(label)

print(img.unsqueeze(0).shape)

def predict_image(img, model):
    xb = img.unsqueeze(0)
    yb = model(xb)
    _, preds = torch.max(yb, dim=1)
    return preds[0].item()

img, label = test_dataset[0]
print(f'Label: {label}, Predicted: {predict_image(img, model)}')

img, label = test_dataset[1]
print(f'Label: {label}, Predicted: {predict_image(img, model)}')

img, label = test_dataset[5]
print(f'Label: {label}, Predicted: {predict_image(img, model)}')

img, label = test_dataset[39]
print(f'Label: {label}, Predicted: {predict_image(img, model)}')

test_loader = DataLoader(test_dataset, batch_size=200)

val_loss, total, val_acc = evaluate(model, loss_fn, test_loader, metric=accuracy)
print(f"Loss: {val_loss:.4f}, Accuracy: {val_acc:.4f}")

with tempfile.TemporaryDirectory() as folder:
    torch.save(model.state_dict(), os.path.join(folder, 'mnist-logistic.pth'))

    print(model.state_dict())

    model2 = MnistModel()
    model2.load_state_dict(torch.load(os.path.join(folder, 'mnist-logistic.pth')))
    print(model2.state_dict())

test_loader = DataLoader(test_dataset, batch_size=200)

val_loss, total, val_acc = evaluate(model2, loss_fn, test_loader, metric=accuracy)
print(f"Loss: {val_loss:.4f}, Accuracy: {val_acc:.4f}")
