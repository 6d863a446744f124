# Source: Sebastian Raschka, "Build a Large Language Model (From Scratch)", appendix A ("Introduction
# to PyTorch"): tensors from lists and NumPy (torch.tensor copies, torch.from_numpy shares memory),
# dtypes, reshape/view/.T/matmul, binary_cross_entropy with torch.autograd.grad(retain_graph=True) and
# .backward(), the NeuralNetwork MLP, ToyDataset and DataLoader (shuffle, drop_last), the training loop,
# compute_accuracy, saving and loading the state dict; then part 2's device-agnostic version.
#   https://github.com/rasbt/LLMs-from-scratch  appendix-A/01_main-chapter-code/code-part1.ipynb
#   and appendix-A/01_main-chapter-code/code-part2.ipynb (cells 12 and 14-17)
# Shrunk: nothing (the appendix's own 5 + 2 toy examples); the notebooks' code cells in order, without
# part 1's cell printing torch.__version__ and part 2's cells that move tensors to "cuda" or repeat
# part 1's code; where a cell ends in a bare expression, which the notebook displays, it is printed; the
# model file is written to a temporary folder.
import os
import tempfile

os.chdir(tempfile.mkdtemp())

# ---- part 1, cell 4
import torch

print(torch.cuda.is_available())

# ---- part 1, cell 10
import torch
import numpy as np

# create a 0D tensor (scalar) from a Python integer
tensor0d = torch.tensor(1)

# create a 1D tensor (vector) from a Python list
tensor1d = torch.tensor([1, 2, 3])

# create a 2D tensor from a nested Python list
tensor2d = torch.tensor([[1, 2], 
                         [3, 4]])

# create a 3D tensor from a nested Python list
tensor3d_1 = torch.tensor([[[1, 2], [3, 4]], 
                           [[5, 6], [7, 8]]])

# create a 3D tensor from NumPy array
ary3d = np.array([[[1, 2], [3, 4]], 
                  [[5, 6], [7, 8]]])
tensor3d_2 = torch.tensor(ary3d)  # Copies NumPy array
tensor3d_3 = torch.from_numpy(ary3d)  # Shares memory with NumPy array

# ---- part 1, cell 11
ary3d[0, 0, 0] = 999
print(tensor3d_2) # remains unchanged

# ---- part 1, cell 12
print(tensor3d_3) # changes because of memory sharing

# ---- part 1, cell 14
tensor1d = torch.tensor([1, 2, 3])
print(tensor1d.dtype)

# ---- part 1, cell 15
floatvec = torch.tensor([1.0, 2.0, 3.0])
print(floatvec.dtype)

# ---- part 1, cell 16
floatvec = tensor1d.to(torch.float32)
print(floatvec.dtype)

# ---- part 1, cell 18
tensor2d = torch.tensor([[1, 2, 3], 
                         [4, 5, 6]])
print(tensor2d)

# ---- part 1, cell 19
print(tensor2d.shape)

# ---- part 1, cell 20
print(tensor2d.reshape(3, 2))

# ---- part 1, cell 21
print(tensor2d.view(3, 2))

# ---- part 1, cell 22
print(tensor2d.T)

# ---- part 1, cell 23
print(tensor2d.matmul(tensor2d.T))

# ---- part 1, cell 24
print(tensor2d @ tensor2d.T)

# ---- part 1, cell 27
import torch.nn.functional as F

y = torch.tensor([1.0])  # true label
x1 = torch.tensor([1.1]) # input feature
w1 = torch.tensor([2.2]) # weight parameter
b = torch.tensor([0.0])  # bias unit

z = x1 * w1 + b          # net input
a = torch.sigmoid(z)     # activation & output

loss = F.binary_cross_entropy(a, y)
print(loss)

# ---- part 1, cell 30
import torch.nn.functional as F
from torch.autograd import grad

y = torch.tensor([1.0])
x1 = torch.tensor([1.1])
w1 = torch.tensor([2.2], requires_grad=True)
b = torch.tensor([0.0], requires_grad=True)

z = x1 * w1 + b 
a = torch.sigmoid(z)

loss = F.binary_cross_entropy(a, y)

grad_L_w1 = grad(loss, w1, retain_graph=True)
grad_L_b = grad(loss, b, retain_graph=True)

print(grad_L_w1)
print(grad_L_b)

# ---- part 1, cell 31
loss.backward()

print(w1.grad)
print(b.grad)

# ---- part 1, cell 34
class NeuralNetwork(torch.nn.Module):
    def __init__(self, num_inputs, num_outputs):
        super().__init__()

        self.layers = torch.nn.Sequential(
                
            # 1st hidden layer
            torch.nn.Linear(num_inputs, 30),
            torch.nn.ReLU(),

            # 2nd hidden layer
            torch.nn.Linear(30, 20),
            torch.nn.ReLU(),

            # output layer
            torch.nn.Linear(20, num_outputs),
        )

    def forward(self, x):
        logits = self.layers(x)
        return logits

# ---- part 1, cell 35
model = NeuralNetwork(50, 3)

# ---- part 1, cell 36
print(model)

# ---- part 1, cell 37
num_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
print("Total number of trainable model parameters:", num_params)

# ---- part 1, cell 38
print(model.layers[0].weight)

# ---- part 1, cell 39
torch.manual_seed(123)

model = NeuralNetwork(50, 3)
print(model.layers[0].weight)

# ---- part 1, cell 40
print(model.layers[0].weight.shape)

# ---- part 1, cell 41
torch.manual_seed(123)

X = torch.rand((1, 50))
out = model(X)
print(out)

# ---- part 1, cell 42
with torch.no_grad():
    out = model(X)
print(out)

# ---- part 1, cell 43
with torch.no_grad():
    out = torch.softmax(model(X), dim=1)
print(out)

# ---- part 1, cell 46
X_train = torch.tensor([
    [-1.2, 3.1],
    [-0.9, 2.9],
    [-0.5, 2.6],
    [2.3, -1.1],
    [2.7, -1.5]
])

y_train = torch.tensor([0, 0, 0, 1, 1])

# ---- part 1, cell 47
X_test = torch.tensor([
    [-0.8, 2.8],
    [2.6, -1.6],
])

y_test = torch.tensor([0, 1])

# ---- part 1, cell 48
from torch.utils.data import Dataset


class ToyDataset(Dataset):
    def __init__(self, X, y):
        self.features = X
        self.labels = y

    def __getitem__(self, index):
        one_x = self.features[index]
        one_y = self.labels[index]        
        return one_x, one_y

    def __len__(self):
        return self.labels.shape[0]

train_ds = ToyDataset(X_train, y_train)
test_ds = ToyDataset(X_test, y_test)

# ---- part 1, cell 49
print(len(train_ds))

# ---- part 1, cell 50
from torch.utils.data import DataLoader

torch.manual_seed(123)

train_loader = DataLoader(
    dataset=train_ds,
    batch_size=2,
    shuffle=True,
    num_workers=0
)

# ---- part 1, cell 51
test_ds = ToyDataset(X_test, y_test)

test_loader = DataLoader(
    dataset=test_ds,
    batch_size=2,
    shuffle=False,
    num_workers=0
)

# ---- part 1, cell 52
for idx, (x, y) in enumerate(train_loader):
    print(f"Batch {idx+1}:", x, y)

# ---- part 1, cell 53
train_loader = DataLoader(
    dataset=train_ds,
    batch_size=2,
    shuffle=True,
    num_workers=0,
    drop_last=True
)

# ---- part 1, cell 54
for idx, (x, y) in enumerate(train_loader):
    print(f"Batch {idx+1}:", x, y)

# ---- part 1, cell 57
import torch.nn.functional as F


torch.manual_seed(123)
model = NeuralNetwork(num_inputs=2, num_outputs=2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)

num_epochs = 3

for epoch in range(num_epochs):
    
    model.train()
    for batch_idx, (features, labels) in enumerate(train_loader):

        logits = model(features)
        
        loss = F.cross_entropy(logits, labels) # Loss function
        
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    
        ### LOGGING
        print(f"Epoch: {epoch+1:03d}/{num_epochs:03d}"
              f" | Batch {batch_idx+1:03d}/{len(train_loader):03d}"
              f" | Train/Val Loss: {loss:.2f}")

    model.eval()
    # Optional model evaluation

# ---- part 1, cell 58
model.eval()

with torch.no_grad():
    outputs = model(X_train)

print(outputs)

# ---- part 1, cell 59
torch.set_printoptions(sci_mode=False)
probas = torch.softmax(outputs, dim=1)
print(probas)

predictions = torch.argmax(probas, dim=1)
print(predictions)

# ---- part 1, cell 60
predictions = torch.argmax(outputs, dim=1)
print(predictions)

# ---- part 1, cell 61
print(predictions == y_train)

# ---- part 1, cell 62
print(torch.sum(predictions == y_train))

# ---- part 1, cell 63
def compute_accuracy(model, dataloader):

    model.eval()
    correct = 0.0
    total_examples = 0
    
    for idx, (features, labels) in enumerate(dataloader):
        
        with torch.no_grad():
            logits = model(features)
        
        predictions = torch.argmax(logits, dim=1)
        compare = labels == predictions
        correct += torch.sum(compare)
        total_examples += len(compare)

    return (correct / total_examples).item()

# ---- part 1, cell 64
print(compute_accuracy(model, train_loader))

# ---- part 1, cell 65
print(compute_accuracy(model, test_loader))

# ---- part 1, cell 67
torch.save(model.state_dict(), "model.pth")

# ---- part 1, cell 68
model = NeuralNetwork(2, 2) # needs to match the original model exactly
print(model.load_state_dict(torch.load("model.pth", weights_only=True)))

# ---- part 2, cell 12
from torch.utils.data import DataLoader

torch.manual_seed(123)

train_loader = DataLoader(
    dataset=train_ds,
    batch_size=2,
    shuffle=True,
    num_workers=1,
    drop_last=True
)

test_loader = DataLoader(
    dataset=test_ds,
    batch_size=2,
    shuffle=False,
    num_workers=1
)

# ---- part 2, cell 14
import torch.nn.functional as F


torch.manual_seed(123)
model = NeuralNetwork(num_inputs=2, num_outputs=2)

device = torch.device("cuda" if torch.cuda.is_available() else "cpu") # NEW
model.to(device) # NEW

# Note that the book originally used the following line, but the "model =" is redundant
# model = model.to(device) # NEW

optimizer = torch.optim.SGD(model.parameters(), lr=0.5)

num_epochs = 3

for epoch in range(num_epochs):

    model.train()
    for batch_idx, (features, labels) in enumerate(train_loader):

        features, labels = features.to(device), labels.to(device) # NEW
        logits = model(features)
        loss = F.cross_entropy(logits, labels) # Loss function

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        ### LOGGING
        print(f"Epoch: {epoch+1:03d}/{num_epochs:03d}"
              f" | Batch {batch_idx+1:03d}/{len(train_loader):03d}"
              f" | Train/Val Loss: {loss:.2f}")

    model.eval()
    # Optional model evaluation

# ---- part 2, cell 15
def compute_accuracy(model, dataloader, device):

    model = model.eval()
    correct = 0.0
    total_examples = 0

    for idx, (features, labels) in enumerate(dataloader):

        features, labels = features.to(device), labels.to(device) # New

        with torch.no_grad():
            logits = model(features)

        predictions = torch.argmax(logits, dim=1)
        compare = labels == predictions
        correct += torch.sum(compare)
        total_examples += len(compare)

    return (correct / total_examples).item()

# ---- part 2, cell 16
print(compute_accuracy(model, train_loader, device=device))

# ---- part 2, cell 17
print(compute_accuracy(model, test_loader, device=device))
