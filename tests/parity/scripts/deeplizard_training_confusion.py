# Source: deeplizard, "Neural Network Programming - Deep Learning with PyTorch" (deeplizard.com), part 2
# (training): one training step by hand (loss, gradients, optimizer step), the training loop with
# get_num_correct, and the confusion matrix built from torch.cat/torch.stack/argmax; as a learner typed it:
#   https://github.com/derekhanbaliq/DeepLizard-PyTorch-Tutorial  L26_train_CNN.py, L27_training_loop.py,
#     L28_confusion_matrix.py (and the lesson's resources/plotcm.py for the normalized matrix)
# Shrunk: a synthetic FashionMNIST-shaped dataset (400 1x28x28 images made from one noisy template per
# class, so the network can learn; .targets as torchvision's) instead of the download; 3 epochs
# instead of 5; prediction loader of 200 instead of 10000; sklearn's confusion_matrix replaced by
# the same count done with numpy (np.add.at), and the matplotlib plot dropped (plotcm's printed
# matrices kept).
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.set_printoptions(linewidth=120)  # display options for output
torch.set_grad_enabled(True)  # already on by default


class FakeFashionMNIST(torch.utils.data.Dataset):
    """(1x28x28 float image in [0, 1], int label), as FashionMNIST with transforms.ToTensor()."""

    def __init__(self, n=400):
        templates = (torch.rand(10, 28, 28) > 0.5).float()
        self.targets = torch.randint(0, 10, (n,))
        images = 0.7 * templates[self.targets] + 0.3 * torch.rand(n, 28, 28)
        self.data = (images * 255).to(torch.uint8)

    def __getitem__(self, index):
        return self.data[index].unsqueeze(0).float() / 255, int(self.targets[index])

    def __len__(self):
        return len(self.targets)


def get_num_correct(preds, labels):
    return preds.argmax(dim=1).eq(labels).sum().item()


class Network(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5)
        self.conv2 = nn.Conv2d(in_channels=6, out_channels=12, kernel_size=5)

        self.fc1 = nn.Linear(in_features=12 * 4 * 4, out_features=120)
        self.fc2 = nn.Linear(in_features=120, out_features=60)
        self.out = nn.Linear(in_features=60, out_features=10)

    def forward(self, t0):
        # input layer
        t = t0

        # hidden conv layer
        t = F.relu(self.conv1(t))
        t = F.max_pool2d(t, kernel_size=2, stride=2)

        # hidden conv layer
        t = F.relu(self.conv2(t))
        t = F.max_pool2d(t, kernel_size=2, stride=2)

        # hidden linear layer
        t = F.relu(self.fc1(t.reshape(-1, 12 * 4 * 4)))

        # hidden linear layer
        t = F.relu(self.fc2(t))

        # output layer
        t = self.out(t)
        # t = F.softmax(t, dim=1)

        return t


train_set = FakeFashionMNIST()

# --- L26: one step by hand
network = Network()

train_loader = torch.utils.data.DataLoader(train_set, batch_size=100)
batch = next(iter(train_loader))
images, labels = batch

preds = network(images)
print("get_num_correct = ", get_num_correct(preds, labels))

# calculating the loss
print("calculating the loss: ")
loss = F.cross_entropy(preds, labels)
print("loss = ", loss.item())
print(loss)

# calculating the gradients
print("-" * 50)
print("calculating the gradients: ")
print(network.conv1.weight.grad)
loss.backward()
print(network.conv1.weight.grad.shape)
print(network.conv1.weight.grad[0])
print(network.out.bias.grad)

# updating the weights
print("-" * 50)
print("updating the weights: ")

print("get_num_correct = ", get_num_correct(preds, labels))
print("old loss = ", loss.item())

optimizer = optim.Adam(network.parameters(), lr=0.01)  # lr is a hyperparameter
optimizer.step()  # updating the weights

preds = network(images)
loss = F.cross_entropy(preds, labels)
print("optimized loss = ", loss.item())
print("get_num_correct = ", get_num_correct(preds, labels))

# --- L27/L28: the training loop
network = Network()

# step 1: get batch from the training set
train_loader = torch.utils.data.DataLoader(train_set, batch_size=100)
optimizer = optim.Adam(network.parameters(), lr=0.01)  # input the weights

for epoch in range(3):  # step 7: do many epochs

    total_loss = 0
    total_correct = 0

    for batch in train_loader:
        images, labels = batch

        preds = network(images)  # step 2: pass batch
        loss = F.cross_entropy(preds, labels)  # step 3: calculate loss

        optimizer.zero_grad()  # zero out the existing grads instead of accumulating them
        loss.backward()  # step 4: calculate gradients of the loss function
        optimizer.step()  # step 5: update weights using the gradients to reduce the loss

        total_loss += loss.item()
        total_correct += get_num_correct(preds, labels)

    # step 6: do these for every batch in 1 epoch
    print("epoch = ", epoch, ", total_correct = ", total_correct, ", loss = ", total_loss)
    print("accuracy = ", total_correct / len(train_set))

print(train_set.targets)
print(len(train_set))
print(len(train_set.targets))

print("-" * 50)


@torch.no_grad()
def get_all_preds(model, loader):
    all_preds = torch.tensor([])
    for batch in loader:
        images, labels = batch

        preds = model(images)
        all_preds = torch.cat((all_preds, preds), dim=0)

    return all_preds


prediction_loader = torch.utils.data.DataLoader(train_set, batch_size=200)
train_preds = get_all_preds(network, prediction_loader)
print(train_preds.shape)

print(train_preds.requires_grad)
print(train_preds.grad)
print(train_preds.grad_fn)

with torch.no_grad():
    prediction_loader = torch.utils.data.DataLoader(train_set, batch_size=200)
    train_preds2 = get_all_preds(network, prediction_loader)
print(torch.equal(train_preds, train_preds2))

# without no_grad the predictions carry the graph
with_grad = torch.cat((torch.tensor([]), network(train_set[0][0].unsqueeze(0))), dim=0)
print(with_grad.requires_grad, type(with_grad.grad_fn).__name__)

print("-" * 50)

preds_correct = get_num_correct(train_preds, train_set.targets)
print("total correct: ", preds_correct)
print("accuracy: ", preds_correct / len(train_set))

print("-" * 50)

print(train_set.targets)
print(train_preds.argmax(dim=1))

stacked = torch.stack((train_set.targets, train_preds.argmax(dim=1)), dim=1)
print(stacked.shape)  # torch.Size([400, 2])
print(stacked)  # true label & predicted label
print(stacked[0].tolist())

print("-" * 50)

cmt = torch.zeros(10, 10, dtype=torch.int32)
print(cmt)

for p in stacked:
    true_label, predicted_label = p.tolist()
    cmt[true_label, predicted_label] = cmt[true_label, predicted_label] + 1

print(cmt)
print(cmt.sum(), cmt.diag().sum(), cmt.dtype)

print("-" * 50)

# sklearn.metrics.confusion_matrix(train_set.targets, train_preds.argmax(dim=1)), in numpy
cm = np.zeros((10, 10), dtype=np.int64)
np.add.at(cm, (train_set.targets.numpy(), train_preds.argmax(dim=1).numpy()), 1)
print(type(cm))
print(cm)
print((cm == cmt.numpy()).all())

print("-" * 50)

names = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot')
# plotcm.plot_confusion_matrix(cm, names, normalize=True) prints before it plots:
normalized = cm.astype('float') / cm.sum(axis=1)[:, np.newaxis]
print("Normalized confusion matrix")
print(np.round(normalized, 3))
for i, name in enumerate(names):
    print(f'{name:12s} recall {normalized[i, i]:.3f}')
