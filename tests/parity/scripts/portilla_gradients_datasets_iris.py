# Source: Jose Portilla / Pierian Data, "PyTorch for Deep Learning with Python Bootcamp",
#   02-ANN-Artificial-Neural-Networks/00-PyTorch-Gradients.ipynb (autograd one and multiple steps,
#   turning tracking off), 02-DataSets-with-Pytorch.ipynb (train/test tensors, unique(return_counts),
#   TensorDataset, DataLoader) and 03-Basic-PyTorch-NN.ipynb (iris classifier: Linear/ReLU model,
#   CrossEntropyLoss, Adam, evaluation loop, a new "mystery iris", state_dict save and reload)
#   (as kept in https://github.com/qalmaqihir/qalmaqihir.github.io
#    docs/bootcampsnotes/pytorchDLbootcamp/02-ANN-Artificial-Neural-Networks/)
# Shrunk: instead of ../Data/iris.csv, the first 10 rows of each species printed in the
# notebook are inline (30 rows); sklearn's train_test_split(test_size=0.2) replaced by a
# torch.randperm split; 60 epochs instead of 100; the model is saved to an in-memory buffer.
import io

import torch
import torch.nn as nn
import torch.nn.functional as F
import numpy as np
from torch.utils.data import TensorDataset, DataLoader

# ---------------- 00-PyTorch-Gradients ----------------
x = torch.tensor(2.0, requires_grad=True)
y = 2 * x**4 + x**3 + 3 * x**2 + 5 * x + 1
print(y)
print(type(y.grad_fn).__name__)
y.backward()
print(x.grad)

x = torch.tensor([[1., 2, 3], [3, 2, 1]], requires_grad=True)
print(x)
y = 3 * x + 2
print(y)
z = 2 * y**2
print(z)
out = z.mean()
print(out)
out.backward()
print(x.grad)

# torch.autograd.grad, listed among the notebook's tools
x = torch.tensor([[1., 2, 3], [3, 2, 1]], requires_grad=True)
out = (2 * (3 * x + 2) ** 2).mean()
(g,) = torch.autograd.grad(out, x)
print(g)

# Turn off tracking
print(x.requires_grad)
x.requires_grad_(False)
print(x.requires_grad, (x * 2).requires_grad)
x.requires_grad_(True)
with torch.no_grad():
    w = x * 3
print(w.requires_grad, w.grad_fn)
d = (x * 3).detach()
print(d.requires_grad, d)
c = x.detach().clone()
c[0, 0] = 100.
print(x, c)

# ---------------- 02-DataSets-with-Pytorch ----------------
rows = [
    [5.1, 3.5, 1.4, 0.2, 0], [4.9, 3.0, 1.4, 0.2, 0], [4.7, 3.2, 1.3, 0.2, 0], [4.6, 3.1, 1.5, 0.2, 0],
    [5.0, 3.6, 1.4, 0.2, 0], [5.4, 3.9, 1.7, 0.4, 0], [4.6, 3.4, 1.4, 0.3, 0], [5.0, 3.4, 1.5, 0.2, 0],
    [4.4, 2.9, 1.4, 0.2, 0], [4.9, 3.1, 1.5, 0.1, 0],
    [7.0, 3.2, 4.7, 1.4, 1], [6.4, 3.2, 4.5, 1.5, 1], [6.9, 3.1, 4.9, 1.5, 1], [5.5, 2.3, 4.0, 1.3, 1],
    [6.5, 2.8, 4.6, 1.5, 1], [5.7, 2.8, 4.5, 1.3, 1], [6.3, 3.3, 4.7, 1.6, 1], [4.9, 2.4, 3.3, 1.0, 1],
    [6.6, 2.9, 4.6, 1.3, 1], [5.2, 2.7, 3.9, 1.4, 1],
    [6.3, 3.3, 6.0, 2.5, 2], [5.8, 2.7, 5.1, 1.9, 2], [7.1, 3.0, 5.9, 2.1, 2], [6.3, 2.9, 5.6, 1.8, 2],
    [6.5, 3.0, 5.8, 2.2, 2], [7.6, 3.0, 6.6, 2.1, 2], [4.9, 2.5, 4.5, 1.7, 2], [7.3, 2.9, 6.3, 1.8, 2],
    [6.7, 2.5, 5.8, 1.8, 2], [7.2, 3.6, 6.1, 2.5, 2],
]
values = np.array(rows)
data = values[:, :4]
labels = values[:, 4]
print(values.shape)

# The classic method for building train/test split tensors
torch.manual_seed(33)
perm = torch.randperm(len(values))
test_idx, train_idx = perm[:6].numpy(), perm[6:].numpy()
train_X, test_X, train_y, test_y = data[train_idx], data[test_idx], labels[train_idx], labels[test_idx]

X_train = torch.FloatTensor(train_X)
X_test = torch.FloatTensor(test_X)
y_train = torch.LongTensor(train_y).reshape(-1, 1)
y_test = torch.LongTensor(test_y).reshape(-1, 1)

print(f'Training size: {len(y_train)}')
labels_, counts = y_train.unique(return_counts=True)
print(f'Labels: {labels_}\nCounts: {counts}')
print(X_train.size())
print(y_train.size())

iris = TensorDataset(torch.FloatTensor(data), torch.LongTensor(labels))
print(len(iris))
print(type(iris).__name__)
for i in iris:
    print(i)

iris_loader = DataLoader(iris, batch_size=21, shuffle=True)
for i_batch, sample_batched in enumerate(iris_loader):
    print(i_batch, sample_batched)
print(list(iris_loader)[0][1].bincount())
print(next(iter(iris_loader)))

# ---------------- 03-Basic-PyTorch-NN ----------------


class Model(nn.Module):
    def __init__(self, in_features=4, h1=8, h2=9, out_features=3):
        super().__init__()
        self.fc1 = nn.Linear(in_features, h1)    # input layer
        self.fc2 = nn.Linear(h1, h2)            # hidden layer
        self.out = nn.Linear(h2, out_features)  # output layer

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.out(x)
        return x


torch.manual_seed(32)
model = Model()
print(model)

X_train = torch.FloatTensor(train_X)
X_test = torch.FloatTensor(test_X)
y_train = torch.LongTensor(train_y)
y_test = torch.LongTensor(test_y)

criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
print(model.parameters)

epochs = 60
losses = []

for i in range(epochs):
    i += 1
    y_pred = model.forward(X_train)
    loss = criterion(y_pred, y_train)
    losses.append(loss)

    # a neat trick to save screen space:
    if i % 10 == 1:
        print(f'epoch: {i:2}  loss: {loss.item():10.8f}')

    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

with torch.no_grad():
    y_val = model.forward(X_test)
    loss = criterion(y_val, y_test)
print(f'{loss:.8f}')

correct = 0
with torch.no_grad():
    for i, data in enumerate(X_test):
        y_val = model.forward(data)
        print(f'{i+1:2}. {str(y_val):38}  {y_test[i]}')
        if y_val.argmax().item() == y_test[i]:
            correct += 1
print(f'\n{correct} out of {len(y_test)} = {100*correct/len(y_test):.2f}% correct')

buffer = io.BytesIO()
torch.save(model.state_dict(), buffer)
buffer.seek(0)
new_model = Model()
new_model.load_state_dict(torch.load(buffer))
print(new_model.eval())

with torch.no_grad():
    y_val = new_model.forward(X_test)
    loss = criterion(y_val, y_test)
print(f'{loss:.8f}')

mystery_iris = torch.tensor([5.6, 3.7, 2.2, 0.5])
labels = ['Iris setosa', 'Iris virginica', 'Iris versicolor', 'Mystery iris']
with torch.no_grad():
    print(new_model(mystery_iris))
    print()
    print(labels[new_model(mystery_iris).argmax()])
