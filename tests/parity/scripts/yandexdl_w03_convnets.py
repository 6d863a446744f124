# Source: Yandex School of Data Analysis, Practical_DL course, week 3 seminar "convnets" in PyTorch (CIFAR10: a
#   Flatten module and a dense nn.Sequential built with add_module, F.cross_entropy, a NumPy minibatch iterator,
#   SGD epochs with train(True)/train(False) and logits.max(1)[1] accuracies, then "Task I: small convolution
#   net" - 3x3 conv with 10 filters, 2x2 pooling, dense 100, 10% dropout - and the homework's batch-norm advice,
#   and a DataLoader for the test set):
#   https://github.com/yandexdataschool/Practical_DL  week03_convnets/seminar_pytorch.ipynb
# Shrunk: no download: load_cifar10 is replaced by class-dependent synthetic 3x32x32 images (240 train, 80
#   val, 80 test); 2 epochs instead of 100, batch_size 40; the epoch timing ("took {:.3f}s") is not printed
#   (it differs by nature); plots dropped; the torchvision transforms/CIFAR10 cells are replaced by the same
#   normalisation done with torch ops and a TensorDataset in torch.utils.data.DataLoader. The blanks (Task I's
#   network, the batch-norm variant, test_loader) are filled in as a student would.
import numpy as np


def load_cifar10(n_train=240, n_val=80, n_test=80):
    templates = np.random.uniform(0, 1, size=(10, 3, 32, 32)).astype('float32')

    def make(n):
        y = np.random.randint(0, 10, size=n)
        X = 0.5 * templates[y] + 0.5 * np.random.uniform(0, 1, size=(n, 3, 32, 32)).astype('float32')
        return X, y
    return make(n_train) + make(n_val) + make(n_test)


X_train, y_train, X_val, y_val, X_test, y_test = load_cifar10()

class_names = np.array(['airplane', 'automobile', 'bird', 'cat', 'deer',
                        'dog', 'frog', 'horse', 'ship', 'truck'])

print(X_train.shape,y_train.shape)
print(class_names[y_train[:12]])

import torch, torch.nn as nn
import torch.nn.functional as F

class Flatten(nn.Module):
    def forward(self, input):
        return input.view(input.size(0), -1)

model = nn.Sequential()

model.add_module('flatten', Flatten())

model.add_module('dense1', nn.Linear(3 * 32 * 32, 64))
model.add_module('dense1_relu', nn.ReLU())
model.add_module('dense2_logits', nn.Linear(64, 10)) # logits for 10 classes
print(model)

def compute_loss(X_batch, y_batch):
    X_batch = torch.as_tensor(X_batch, dtype=torch.float32)
    y_batch = torch.as_tensor(y_batch, dtype=torch.int64)
    logits = model(X_batch)
    return F.cross_entropy(logits, y_batch).mean()

print(compute_loss(X_train[:5], y_train[:5]))

def iterate_minibatches(X, y, batchsize):
    indices = np.random.permutation(np.arange(len(X)))
    for start in range(0, len(indices), batchsize):
        ix = indices[start: start + batchsize]
        yield X[ix], y[ix]


def train_and_test(num_epochs=2, batch_size=40):
    train_loss = []
    val_accuracy = []
    for epoch in range(num_epochs):
        # In each epoch, we do a full pass over the training data:
        model.train(True) # enable dropout / batch_norm training behavior
        for X_batch, y_batch in iterate_minibatches(X_train, y_train, batch_size):
            # train on batch
            loss = compute_loss(X_batch, y_batch)
            loss.backward()
            opt.step()
            opt.zero_grad()
            train_loss.append(loss.data.numpy())

        # And a full pass over the validation data:
        model.train(False) # disable dropout / use averages for batch_norm
        for X_batch, y_batch in iterate_minibatches(X_val, y_val, batch_size):
            logits = model(torch.as_tensor(X_batch, dtype=torch.float32))
            y_pred = logits.max(1)[1].data.numpy()
            val_accuracy.append(np.mean(y_batch == y_pred))


        # Then we print the results for this epoch:
        print("Epoch {} of {}".format(
            epoch + 1, num_epochs))
        print("  training loss (in-iteration): \t{:.6f}".format(
            np.mean(train_loss[-len(X_train) // batch_size :])))
        print("  validation accuracy: \t\t\t{:.2f} %".format(
            np.mean(val_accuracy[-len(X_val) // batch_size :]) * 100))

    model.train(False) # disable dropout / use averages for batch_norm
    test_batch_acc = []
    for X_batch, y_batch in iterate_minibatches(X_test, y_test, 500):
        logits = model(torch.as_tensor(X_batch, dtype=torch.float32))
        y_pred = logits.max(1)[1].data.numpy()
        test_batch_acc.append(np.mean(y_batch == y_pred))

    test_accuracy = np.mean(test_batch_acc)

    print("Final results:")
    print("  test accuracy:\t\t{:.2f} %".format(
        test_accuracy * 100))

    if test_accuracy * 100 > 95:
        print("Double-check, than consider applying for NIPS'17. SRSly.")
    elif test_accuracy * 100 > 90:
        print("U'r freakin' amazin'!")
    elif test_accuracy * 100 > 80:
        print("Achievement unlocked: 110lvl Warlock!")
    elif test_accuracy * 100 > 70:
        print("Achievement unlocked: 80lvl Warlock!")
    elif test_accuracy * 100 > 60:
        print("Achievement unlocked: 70lvl Warlock!")
    elif test_accuracy * 100 > 50:
        print("Achievement unlocked: 60lvl Warlock!")
    else:
        print("We need more magic! Follow instructons below")


opt = torch.optim.SGD(model.parameters(), lr=0.01)
train_and_test()

# Task I: small convolution net
model = nn.Sequential()
model.add_module('conv1', nn.Conv2d(in_channels=3, out_channels=10, kernel_size=3))
model.add_module('conv1_relu', nn.ReLU())
model.add_module('pool1', nn.MaxPool2d(2))
model.add_module('flatten', Flatten())
model.add_module('dense1', nn.Linear(10 * 15 * 15, 100))
model.add_module('dense1_relu', nn.ReLU())
model.add_module('dropout', nn.Dropout(0.1))
model.add_module('dense2_logits', nn.Linear(100, 10))
print(model)
print("conv output:", model[:3](torch.as_tensor(X_train[:2])).shape)
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
train_and_test()

# ... with batch normalization after the convolution (no bias before a batch norm: its exact gradient is zero,
# and Adam would turn the float32 rounding noise it gets instead into steps of ~lr that differ run to run)
model = nn.Sequential(
    nn.Conv2d(3, 10, kernel_size=3, padding=1, bias=False),
    nn.BatchNorm2d(10),
    nn.ReLU(),
    nn.MaxPool2d(2),
    Flatten(),
    nn.Linear(10 * 16 * 16, 100, bias=False),
    nn.BatchNorm1d(100),
    nn.ReLU(),
    nn.Dropout(0.1),
    nn.Linear(100, 10),
)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
train_and_test()
print("running mean/var:", model[1].running_mean[:4], model[1].running_var[:4], model[1].num_batches_tracked)
print("BatchNorm1d:", model[6], model[6].running_mean[:4], model[6].weight.grad)

# the augmentation cells, torchvision-free: normalise with the CIFAR statistics
means = np.array((0.4914, 0.4822, 0.4465))
stds = np.array((0.2023, 0.1994, 0.2010))

def transform_test(x):
    return (x - torch.as_tensor(means, dtype=torch.float32)[:, None, None]) / torch.as_tensor(stds, dtype=torch.float32)[:, None, None]

test_dataset = torch.utils.data.TensorDataset(transform_test(torch.as_tensor(X_test)), torch.as_tensor(y_test))
test_loader = torch.utils.data.DataLoader(test_dataset, batch_size=32, shuffle=False, num_workers=0)

for (x_batch, y_batch) in test_loader:
    print('X:', type(x_batch), x_batch.shape, x_batch.dtype)
    print('y:', type(y_batch), y_batch.shape, y_batch.dtype)
    print(x_batch.mean(dim=(0, 2, 3)), x_batch.std(dim=(0, 2, 3)))
    break
print(len(test_loader), len(test_dataset))
