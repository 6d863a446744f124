# Source: Stevens, Antiga & Viehmann, "Deep Learning with PyTorch", chapter 7 ("Telling birds from
# airplanes"): the per-channel mean/std of the stacked images, softmax by hand and nn.Softmax (and its
# overflow at 104 vs nn.LogSoftmax), one-hot truth by scatter_, MSE vs likelihood vs NLL of the
# predicted probabilities (gather), the fully connected models with LogSoftmax + NLLLoss trained one
# sample at a time and by DataLoader, then CrossEntropyLoss, accuracies, and the parameter counts
# (numel, requires_grad) of the fully connected and convolutional models, with the shape error of the
# Sequential that forgets to flatten.
#   https://github.com/deep-learning-with-pytorch/dlwpt-code  p1ch7/1_datasets.ipynb,
#   p1ch7/2_birds_airplanes.ipynb
# Shrunk: no torchvision: 60 training and 40 validation synthetic 10-class 3x32x32 "images" (a noisy
# template per class) as (img, label) pairs standing in for CIFAR10 with ToTensor (normalized with the
# notebook's transforms.Normalize numbers), of which cifar2 keeps the airplanes and birds; batches of
# 8 instead of 64; 2 epochs instead of 100, the per-sample loop on the first 6 images; the 3072-1024-
# 512-128 network trained for 1 epoch; the plots (plt.imshow) print shapes and statistics instead;
# left out for time (initializing millions of weights): the first 3072-512-n_out model, which the
# notebook only defines, and the parameter counts of a fresh nn.Linear(3072, 512) and (3072, 1024).
import numpy as np
import torch

torch.set_printoptions(edgeitems=2)
torch.manual_seed(123)

class_names = ['airplane','automobile','bird','cat','deer',
               'dog','frog','horse','ship','truck']

templates = torch.rand(10, 3, 32, 32)


def synthetic_cifar10(n):  # stands in for datasets.CIFAR10(..., transform=transforms.ToTensor())
    labels = torch.randint(0, 10, (n,)).tolist()
    return [(0.5 * templates[label] + 0.5 * torch.rand(3, 32, 32), label) for label in labels]


tensor_cifar10 = synthetic_cifar10(60)
tensor_cifar10_val = synthetic_cifar10(40)

# p1ch7/1_datasets.ipynb
print(len(tensor_cifar10))
img_t, _ = tensor_cifar10[9]
print(type(img_t))
print(img_t.shape, img_t.dtype)
print(img_t.min(), img_t.max())
print(img_t.permute(1, 2, 0).shape)  # plt.imshow(img_t.permute(1, 2, 0))
imgs = torch.stack([img_t for img_t, _ in tensor_cifar10], dim=3)
print(imgs.shape)
print(imgs.view(3, -1).mean(dim=1))  # <1>
print(imgs.view(3, -1).std(dim=1))

mean = torch.tensor((0.4915, 0.4823, 0.4468)).view(3, 1, 1)  # transforms.Normalize((0.4915, ...), (0.2470, ...))
std = torch.tensor((0.2470, 0.2435, 0.2616)).view(3, 1, 1)
cifar10 = [((img - mean) / std, label) for img, label in tensor_cifar10]
cifar10_val = [((img - mean) / std, label) for img, label in tensor_cifar10_val]

# p1ch7/2_birds_airplanes.ipynb
label_map = {0: 0, 2: 1}
class_names = ['airplane', 'bird']
cifar2 = [(img, label_map[label])
          for img, label in cifar10
          if label in [0, 2]]
cifar2_val = [(img, label_map[label])
              for img, label in cifar10_val
              if label in [0, 2]]
print(len(cifar2), len(cifar2_val))

import torch.nn as nn

n_out = 2


def softmax(x):
    return torch.exp(x) / torch.exp(x).sum()


x = torch.tensor([1.0, 2.0, 3.0])

print(softmax(x))
print(softmax(x).sum())
softmax = nn.Softmax(dim=1)

x = torch.tensor([[1.0, 2.0, 3.0],
                  [1.0, 2.0, 3.0]])

print(softmax(x))
model = nn.Sequential(
            nn.Linear(3072, 512),
            nn.Tanh(),
            nn.Linear(512, 2),
            nn.Softmax(dim=1))
img, _ = cifar2[0]

print(img.permute(1, 2, 0).shape)  # plt.imshow(img.permute(1, 2, 0))
img_batch = img.view(-1).unsqueeze(0)
out = model(img_batch)
print(out)
_, index = torch.max(out, dim=1)
print(index)

out = torch.tensor([
    [0.6, 0.4],
    [0.9, 0.1],
    [0.3, 0.7],
    [0.2, 0.8],
])
class_index = torch.tensor([0, 0, 1, 1]).unsqueeze(1)

truth = torch.zeros((4,2))
truth.scatter_(dim=1, index=class_index, value=1.0)
print(truth)


def mse(out):
    return ((out - truth) ** 2).sum(dim=1).mean()


print(mse(out))
print(out.gather(dim=1, index=class_index))


def likelihood(out):
    prod = 1.0
    for x in out.gather(dim=1, index=class_index):
        prod *= x
    return prod


print(likelihood(out))


def neg_log_likelihood(out):
    return -likelihood(out).log()


print(neg_log_likelihood(out))
out0 = out.clone().detach()
out0[0] = torch.tensor([0.9, 0.1]) # more right

out2 = out.clone().detach()
out2[0] = torch.tensor([0.4, 0.6]) # slightly wrong

out3 = out.clone().detach()
out3[0] = torch.tensor([0.1, 0.9]) # very wrong

mse_comparison = torch.tensor([mse(o) for o in [out0, out, out2, out3]])
print(mse_comparison)
print(((mse_comparison / mse_comparison[1]) - 1) * 100)
nll_comparison = torch.tensor([neg_log_likelihood(o)
                               for o in [out0, out, out2, out3]])
print(nll_comparison)
print(((nll_comparison / nll_comparison[1]) - 1) * 100)

softmax = nn.Softmax(dim=1)

log_softmax = nn.LogSoftmax(dim=1)

x = torch.tensor([[0.0, 104.0]])

print(softmax(x))
print(torch.log(softmax(x)))
print(log_softmax(x))
print(torch.exp(log_softmax(x)))

model = nn.Sequential(
            nn.Linear(3072, 512),
            nn.Tanh(),
            nn.Linear(512, 2),
            nn.LogSoftmax(dim=1))
loss = nn.NLLLoss()
img, label = cifar2[0]

out = model(img.view(-1).unsqueeze(0))

print(loss(out, torch.tensor([label])))

import torch
import torch.nn as nn
import torch.optim as optim

model = nn.Sequential(
            nn.Linear(3072, 512),
            nn.Tanh(),
            nn.Linear(512, 2),
            nn.LogSoftmax(dim=1))

learning_rate = 1e-2

optimizer = optim.SGD(model.parameters(), lr=learning_rate)

loss_fn = nn.NLLLoss()

n_epochs = 2

for epoch in range(n_epochs):
    for img, label in cifar2[:6]:
        out = model(img.view(-1).unsqueeze(0))
        loss = loss_fn(out, torch.tensor([label]))

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    print("Epoch: %d, Loss: %f" % (epoch, float(loss)))

train_loader = torch.utils.data.DataLoader(cifar2, batch_size=8,
                                           shuffle=True)

model = nn.Sequential(
            nn.Linear(3072, 128),
            nn.Tanh(),
            nn.Linear(128, 2),
            nn.LogSoftmax(dim=1))

learning_rate = 1e-2

optimizer = optim.SGD(model.parameters(), lr=learning_rate)

loss_fn = nn.NLLLoss()

n_epochs = 2

for epoch in range(n_epochs):
    for imgs, labels in train_loader:
        outputs = model(imgs.view(imgs.shape[0], -1))
        loss = loss_fn(outputs, labels)

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    print("Epoch: %d, Loss: %f" % (epoch, float(loss)))

train_loader = torch.utils.data.DataLoader(cifar2, batch_size=8,
                                           shuffle=False)

correct = 0
total = 0

with torch.no_grad():
    for imgs, labels in train_loader:
        outputs = model(imgs.view(imgs.shape[0], -1))
        _, predicted = torch.max(outputs, dim=1)
        total += labels.shape[0]
        correct += int((predicted == labels).sum())

print("Accuracy: %f" % (correct / total))
val_loader = torch.utils.data.DataLoader(cifar2_val, batch_size=8,
                                         shuffle=False)

correct = 0
total = 0

with torch.no_grad():
    for imgs, labels in val_loader:
        outputs = model(imgs.view(imgs.shape[0], -1))
        _, predicted = torch.max(outputs, dim=1)
        total += labels.shape[0]
        correct += int((predicted == labels).sum())

print("Accuracy: %f" % (correct / total))

train_loader = torch.utils.data.DataLoader(cifar2, batch_size=8,
                                           shuffle=True)

model = nn.Sequential(
            nn.Linear(3072, 1024),
            nn.Tanh(),
            nn.Linear(1024, 512),
            nn.Tanh(),
            nn.Linear(512, 128),
            nn.Tanh(),
            nn.Linear(128, 2))

learning_rate = 1e-2

optimizer = optim.SGD(model.parameters(), lr=learning_rate)

loss_fn = nn.CrossEntropyLoss()

n_epochs = 1

for epoch in range(n_epochs):
    for imgs, labels in train_loader:
        outputs = model(imgs.view(imgs.shape[0], -1))
        loss = loss_fn(outputs, labels)

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    print("Epoch: %d, Loss: %f" % (epoch, float(loss)))

val_loader = torch.utils.data.DataLoader(cifar2_val, batch_size=8,
                                         shuffle=False)

correct = 0
total = 0

with torch.no_grad():
    for imgs, labels in val_loader:
        outputs = model(imgs.view(imgs.shape[0], -1))
        _, predicted = torch.max(outputs, dim=1)
        total += labels.shape[0]
        correct += int((predicted == labels).sum())

print("Accuracy: %f" % (correct / total))

print(sum([p.numel() for p in model.parameters()]))
print(sum([p.numel() for p in model.parameters() if p.requires_grad == True]))
first_model = nn.Sequential(
                nn.Linear(3072, 512),
                nn.Tanh(),
                nn.Linear(512, 2),
                nn.LogSoftmax(dim=1))

print(sum([p.numel() for p in first_model.parameters()]))
linear = nn.Linear(3072, 1024)

print(linear.weight.shape, linear.bias.shape)
conv = nn.Conv2d(3, 16, kernel_size=3)
print(conv.weight.shape)
print(conv.bias.shape)
img, _ = cifar2[0]
output = conv(img.unsqueeze(0))
print(img.unsqueeze(0).shape, output.shape)

model = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=3, padding=1),
            nn.Tanh(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 8, kernel_size=3, padding=1),
            nn.Tanh(),
            nn.MaxPool2d(2),
            # WARNING: something missing here
            nn.Linear(512, 32),
            nn.Tanh(),
            nn.Linear(32, 2))
print(sum([p.numel() for p in model.parameters()]))
try:
    model(img.unsqueeze(0))
except RuntimeError as e:
    print(e)
