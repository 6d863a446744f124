# Source: University of Tübingen, Deep Learning (winter 2025/26), assignment 6 question 2
# "Classification on Synthetic High-Dimensional Data" (torch.set_default_dtype(torch.double), TensorDataset,
# DataLoader with shuffle, 2- and 3-layer tanh MLPs, SGD with momentum, then a BatchNorm1d + Dropout net),
# as a student solved it: https://github.com/ahmetalperengungor/Tubingen_University_Homeworks
#   Deep_Learning_Winter25/HW6/Synthetic_classification.ipynb
# Shrunk: sklearn's make_classification / StandardScaler / train_test_split replaced by a few NumPy lines
# that do the same (Gaussian clusters on hypercube vertices, redundant and noise features, label flips,
# standardizing, a shuffled 80/20 split); 320 samples instead of 2000; 11-16 epochs instead of 200-300,
# testing every 5 instead of every 20, SGD's learning rate 0.01 instead of 0.001 to learn in so few epochs;
# the 100-hidden 2-layer run and the t-SNE plots left out; the default dtype reset at the end.
import numpy as np
import torch
import random

# Fix Seeds for Reproducibility
# NOTE: do not modify the seed value.
SEED = 42
random.seed(SEED)
np.random.seed(SEED)
torch.manual_seed(SEED)
torch.set_default_dtype(torch.double)


def make_classification(n_samples, n_features, n_informative, n_redundant, n_classes, n_clusters_per_class,
                        class_sep, flip_y, weights=None, random_state=0):
    rng = np.random.RandomState(random_state)
    n_clusters = n_classes * n_clusters_per_class
    centroids = (2 * rng.randint(2, size=(n_clusters, n_informative)) - 1) * class_sep
    weights = np.ones(n_classes) / n_classes if weights is None else np.asarray(weights)
    y = rng.choice(n_classes, size=n_samples, p=weights)
    cluster = y * n_clusters_per_class + rng.randint(n_clusters_per_class, size=n_samples)
    informative = centroids[cluster] + rng.randn(n_samples, n_informative)
    redundant = informative @ rng.uniform(-1, 1, size=(n_informative, n_redundant))
    noise = rng.randn(n_samples, n_features - n_informative - n_redundant)
    X = np.hstack([informative, redundant, noise])
    flip = rng.rand(n_samples) < flip_y
    y[flip] = rng.randint(n_classes, size=flip.sum())
    return X, y


def standardize_and_split(X, y, test_size, random_state):
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    order = np.random.RandomState(random_state).permutation(len(X))
    n_test = int(len(X) * test_size)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


# Generate Synthetic Data
X, y = make_classification(n_samples=320, n_features=20, n_informative=5, n_redundant=2, n_classes=3,
                           n_clusters_per_class=1, class_sep=2.0, flip_y=0.01, random_state=SEED)

# Preprocessing: Standardize Features and Split Data
X_train, X_test, y_train, y_test = standardize_and_split(X, y, test_size=0.2, random_state=SEED)

print(f"Training Data Shape: {X_train.shape}")
print(f"Test Data Shape: {X_test.shape}")

import torch.nn as nn


class TwoLayersNet(nn.Module):
    def __init__(self, num_hid):
        super(TwoLayersNet, self).__init__()
        self.fc_layer_1 = nn.Linear(20, num_hid)
        self.fc_layer_2 = nn.Linear(num_hid, 3)

    def forward(self, x):
        hidden_s1 = self.fc_layer_1(x)
        # Use a tanh a activation function
        layer_1 = torch.tanh(hidden_s1)
        # Output raw logits
        output = self.fc_layer_2(layer_1)
        return output


def train_loop(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    train_loss, accuracy = 0, 0

    model.train()  # Set model to train mode
    for batch, (X, y) in enumerate(dataloader):
        pred = model(X)
        loss = loss_fn(pred, y)

        train_loss += loss.item()
        # Multi-class accuracy: argmax(1)
        accuracy += (pred.argmax(1) == y).sum().item()

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    train_loss /= num_batches
    accuracy /= size
    print(f"Training: Accuracy: {(100*accuracy):>0.1f}%, Avg loss: {train_loss:>8f}")
    return train_loss, accuracy


def test_loop(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    test_loss, accuracy = 0, 0

    model.eval()  # Set model to eval mode
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            accuracy += (pred.argmax(1) == y).sum().item()

    test_loss /= num_batches
    accuracy /= size
    print(f"Testing: Accuracy: {(100*accuracy):>0.1f}%, Avg loss: {test_loss:>8f}")
    return test_loss, accuracy


from torch.utils.data import TensorDataset, DataLoader


def make_loaders():
    # Convert to tensors
    tensor_x_train = torch.from_numpy(X_train)
    tensor_y_train = torch.from_numpy(y_train).long()  # Labels must be Long for CrossEntropy
    tensor_x_test = torch.from_numpy(X_test)
    tensor_y_test = torch.from_numpy(y_test).long()
    print(tensor_x_train.dtype, tensor_y_train.dtype, tensor_x_train.shape, tensor_y_test[:10])

    # Create Datasets and DataLoaders
    BATCH_SIZE = 64
    dataset_train = TensorDataset(tensor_x_train, tensor_y_train)
    dataloader_train = DataLoader(dataset_train, batch_size=BATCH_SIZE, shuffle=True)
    dataset_test = TensorDataset(tensor_x_test, tensor_y_test)
    dataloader_test = DataLoader(dataset_test, batch_size=BATCH_SIZE, shuffle=False)
    return tensor_x_test, tensor_y_test, dataloader_train, dataloader_test


def fit(net, optimizer, epochs, name):
    criterion = nn.CrossEntropyLoss()
    print("Start Training...")
    for t in range(epochs):
        train_loss, train_acc = train_loop(dataloader_train, net, criterion, optimizer)
        if t % 5 == 0 and t != 0:
            print(f"===============================================\nEpoch {t+1}:")
            test_loss, test_acc = test_loop(dataloader_test, net, criterion)
            print(f"===============================================")
    print(f"\nFinal Evaluation ({name}): Test Accuracy: {test_acc*100:.1f}% | Test Loss: {test_loss:.4f}")


tensor_x_test, tensor_y_test, dataloader_train, dataloader_test = make_loaders()

import torch.optim as optim

net = TwoLayersNet(num_hid=10)
print(net.fc_layer_1.weight.dtype)
learning_rate = 0.01
optimizer = optim.SGD(net.parameters(), lr=learning_rate, momentum=0.9)
fit(net, optimizer, 16, "2-Layer Net")

# Predictions on the test set, one sample at a time
y_pred = []
net.eval()
with torch.no_grad():
    for Xt, yt in zip(tensor_x_test, tensor_y_test):
        pred = net(Xt.unsqueeze(0))  # Add batch dimension
        y_pred.append(pred.argmax(1).item())

y_pred = np.array(y_pred)
print("predictions:", y_pred[:20], "agree with labels:", (y_pred == tensor_y_test.numpy()).mean())

# Harder Dataset
X, y = make_classification(n_samples=320, n_features=20, n_informative=10, n_redundant=10, n_classes=3,
                           n_clusters_per_class=2, class_sep=0.9, flip_y=0.10, weights=[0.3, 0.2, 0.5],
                           random_state=SEED)
X_train, X_test, y_train, y_test = standardize_and_split(X, y, test_size=0.2, random_state=SEED)
print(f"Training Data Shape: {X_train.shape}")
print(f"Test Data Shape: {X_test.shape}")
print("class counts:", np.bincount(y_train))
tensor_x_test, tensor_y_test, dataloader_train, dataloader_test = make_loaders()


class ThreeLayersNet(nn.Module):
    def __init__(self, num_hid):
        super(ThreeLayersNet, self).__init__()
        self.fc_layer_1 = nn.Linear(20, num_hid)
        self.fc_layer_2 = nn.Linear(num_hid, num_hid)
        self.fc_layer_3 = nn.Linear(num_hid, 3)

    def forward(self, x):
        hidden_s1 = self.fc_layer_1(x)
        layer_1 = torch.tanh(hidden_s1)
        hidden_s2 = self.fc_layer_2(layer_1)
        layer_2 = torch.tanh(hidden_s2)
        output = self.fc_layer_3(layer_2)
        return output


net = ThreeLayersNet(num_hid=100)
optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
fit(net, optimizer, 11, "3-Layer Net")

import torch.nn.functional as F


class CustomNet(nn.Module):
    def __init__(self, num_hid=100):
        super(CustomNet, self).__init__()
        self.fc_layer_1 = nn.Linear(20, num_hid)
        self.bn1 = nn.BatchNorm1d(num_hid)
        self.fc_layer_2 = nn.Linear(num_hid, num_hid)
        self.bn2 = nn.BatchNorm1d(num_hid)
        self.fc_layer_3 = nn.Linear(num_hid, 3)
        self.dropout = nn.Dropout(0.25)

    def forward(self, x):
        hidden_s1 = self.fc_layer_1(x)
        layer_1 = torch.relu(self.bn1(hidden_s1))
        layer_1 = self.dropout(layer_1)

        hidden_s2 = self.fc_layer_2(layer_1)
        layer_2 = torch.relu(self.bn2(hidden_s2))
        layer_2 = self.dropout(layer_2)

        output = self.fc_layer_3(layer_2)
        return output


net = CustomNet(num_hid=100)
print(f"Total number of learnable parameters: {sum(p.numel() for p in net.parameters() if p.requires_grad)}")
optimizer = optim.Adam(net.parameters(), lr=0.001)
fit(net, optimizer, 11, "Custom Net")
print(net.bn1.running_mean[:5], net.bn1.running_var.dtype, net.bn1.num_batches_tracked)

torch.set_default_dtype(torch.float)  # the scripts after this one expect float32 again
