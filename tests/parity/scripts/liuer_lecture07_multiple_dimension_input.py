# Source: 刘二大人 (Liu Er), 《PyTorch深度学习实践》 lecture 7, multiple-dimension input (the diabetes
# classifier: three Linear layers with Sigmoid, BCELoss, SGD), as a learner typed it:
#   https://github.com/OpenUpDaze/ML_bilibili  Pytorch_lesson7.py
# Shrunk: a synthetic 200-row diabetes-like table (8 features in [-1, 1] and a 0/1 label) written to
# diabetes.csv.gz in a temporary folder and read back with np.loadtxt as the lecture does; 100 epochs
# instead of 100000; the lecture's exercise (the same net with ReLU hidden layers) added at the end.
import os
import tempfile

import numpy as np
import torch

folder = tempfile.mkdtemp()
features = np.random.uniform(-1, 1, (200, 8))
labels = (features @ np.linspace(-1, 1, 8) + 0.3 * np.random.randn(200) > 0).astype(np.float64)
np.savetxt(os.path.join(folder, 'diabetes.csv.gz'), np.column_stack([features, labels]), delimiter=',', fmt='%.6f')

xy = np.loadtxt(os.path.join(folder, 'diabetes.csv.gz'), delimiter=',', dtype=np.float32)
x_data = torch.from_numpy(xy[:, :-1])
y_data = torch.from_numpy(xy[:, [-1]])
print(x_data.shape, y_data.shape, x_data.dtype)


class Model(torch.nn.Module):
    def __init__(self):
        super(Model, self).__init__()
        self.linear1 = torch.nn.Linear(8, 6)
        self.linear2 = torch.nn.Linear(6, 4)
        self.linear3 = torch.nn.Linear(4, 1)
        self.sigmoid = torch.nn.Sigmoid()

    def forward(self, x):
        x = self.sigmoid(self.linear1(x))
        x = self.sigmoid(self.linear2(x))
        x = self.sigmoid(self.linear3(x))
        return x


model = Model()
print(model)

criterion = torch.nn.BCELoss(size_average=True)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for epoch in range(100):
    # Forward
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    print(epoch, loss.item())

    # Backward
    optimizer.zero_grad()
    loss.backward()

    # Update
    optimizer.step()

y_pred_label = torch.where(y_pred >= 0.5, torch.tensor([1.0]), torch.tensor([0.0]))
acc = torch.eq(y_pred_label, y_data).sum().item() / y_data.size(0)
print("loss = ", loss.item(), "acc = ", acc)
print(model.linear1.weight.data)
print(model.linear3.bias.grad)


# 练习: 换成 ReLU 激活
class ReluModel(torch.nn.Module):
    def __init__(self):
        super(ReluModel, self).__init__()
        self.linear1 = torch.nn.Linear(8, 6)
        self.linear2 = torch.nn.Linear(6, 4)
        self.linear3 = torch.nn.Linear(4, 1)
        self.activate = torch.nn.ReLU()
        self.sigmoid = torch.nn.Sigmoid()

    def forward(self, x):
        x = self.activate(self.linear1(x))
        x = self.activate(self.linear2(x))
        x = self.sigmoid(self.linear3(x))
        return x


model = ReluModel()
criterion = torch.nn.BCELoss(reduction='mean')
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(100):
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    if epoch % 10 == 0:
        print(epoch, loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
