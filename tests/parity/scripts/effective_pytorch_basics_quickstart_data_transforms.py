# Source: PyTorch tutorials, "Learn the Basics": Quickstart, Datasets & DataLoaders, Transforms:
#   https://github.com/pytorch/tutorials  beginner_source/basics/quickstart_tutorial.py,
#   beginner_source/basics/data_tutorial.py, beginner_source/basics/transforms_tutorial.py
# Shrunk: FashionMNIST (torchvision, not installed) replaced by the data tutorial's own
# CustomImageDataset over 96 training and 32 test synthetic 28x28 grayscale PNGs (noise around ten
# class templates, written with PIL into a temporary folder with a labels CSV); pandas' read_csv and
# .iloc replaced by the csv module and list indexing, torchvision.io.read_image by PIL + NumPy (a
# uint8 [1, 28, 28] tensor, as read_image gives), ToTensor by its scaling to [0, 1] (x.float() / 255)
# and torchvision's Lambda by a two-line class. Quickstart: batch 16 instead of 64, 2 epochs instead
# of 5, a loss report every 2 batches instead of 100; the matplotlib figures dropped (each sampled
# label and image mean printed). The device is the CPU.
import csv
import os
import tempfile

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset
from PIL import Image

os.chdir(tempfile.mkdtemp())


# --- synthetic stand-in for FashionMNIST's files: img_dir with PNGs and an annotations CSV -------------
def make_split(name, n):
    os.makedirs(name, exist_ok=True)
    templates = torch.Generator().manual_seed(1)
    shapes = torch.rand(10, 28, 28, generator=templates)
    labels = torch.randint(0, 10, (n,))
    with open(name + "_labels.csv", "w", newline="") as f:
        for i in range(n):
            pixels = (0.7 * shapes[labels[i]] + 0.3 * torch.rand(28, 28)) * 255
            file_name = f"{name}{i}.png"
            Image.fromarray(pixels.to(torch.uint8).numpy(), mode="L").save(os.path.join(name, file_name))
            csv.writer(f).writerow([file_name, int(labels[i])])

make_split("train", 96)
make_split("test", 32)


def read_image(path):
    """torchvision.io.read_image's result: a uint8 tensor [channels, height, width]."""
    return torch.from_numpy(np.array(Image.open(path))).unsqueeze(0)

def ToTensor():
    """torchvision's ToTensor on read_image's uint8 tensor: float scaled to [0, 1]."""
    return lambda image: image.float() / 255

class Lambda:
    def __init__(self, lambd):
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)


# Creating a Custom Dataset for your files
class CustomImageDataset(Dataset):
    def __init__(self, annotations_file, img_dir, transform=None, target_transform=None):
        self.img_labels = list(csv.reader(open(annotations_file)))
        self.img_dir = img_dir
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.img_labels)

    def __getitem__(self, idx):
        img_path = os.path.join(self.img_dir, self.img_labels[idx][0])
        image = read_image(img_path)
        label = int(self.img_labels[idx][1])
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label


training_data = CustomImageDataset("train_labels.csv", "train", transform=ToTensor())
test_data = CustomImageDataset("test_labels.csv", "test", transform=ToTensor())

# Iterating and Visualizing the Dataset
labels_map = {
    0: "T-Shirt",
    1: "Trouser",
    2: "Pullover",
    3: "Dress",
    4: "Coat",
    5: "Sandal",
    6: "Shirt",
    7: "Sneaker",
    8: "Bag",
    9: "Ankle Boot",
}
cols, rows = 3, 3
for i in range(1, cols * rows + 1):
    sample_idx = torch.randint(len(training_data), size=(1,)).item()
    img, label = training_data[sample_idx]
    print(sample_idx, labels_map[label], img.squeeze().shape, round(img.mean().item(), 4))

# Preparing your data for training with DataLoaders
from torch.utils.data import DataLoader

train_dataloader = DataLoader(training_data, batch_size=64, shuffle=True)
test_dataloader = DataLoader(test_data, batch_size=64, shuffle=True)

# Display image and label.
train_features, train_labels = next(iter(train_dataloader))
print(f"Feature batch shape: {train_features.size()}")
print(f"Labels batch shape: {train_labels.size()}")
img = train_features[0].squeeze()
label = train_labels[0]
print(img[10, 8:14])
print(f"Label: {label}")

# Transforms
ds = CustomImageDataset(
    "train_labels.csv", "train",
    transform=ToTensor(),
    target_transform=Lambda(lambda y: torch.zeros(10, dtype=torch.float).scatter_(0, torch.tensor(y), value=1))
)
print(ds[0][1], ds[5][1])

target_transform = Lambda(lambda y: torch.zeros(
    10, dtype=torch.float).scatter_(dim=0, index=torch.tensor(y), value=1))
print(target_transform(3))

# Quickstart
batch_size = 16

# Create data loaders.
train_dataloader = DataLoader(training_data, batch_size=batch_size)
test_dataloader = DataLoader(test_data, batch_size=batch_size)

for X, y in test_dataloader:
    print("Shape of X [N, C, H, W]: ", X.shape)
    print("Shape of y: ", y.shape, y.dtype)
    break

# Get cpu or gpu device for training.
device = "cuda" if torch.cuda.is_available() else "cpu"
print("Using {} device".format(device))

# Define model
class NeuralNetwork(nn.Module):
    def __init__(self):
        super(NeuralNetwork, self).__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28*28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
            nn.ReLU()
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits

model = NeuralNetwork().to(device)
print(model)

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)

def train(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)

        # Compute prediction error
        pred = model(X)
        loss = loss_fn(pred, y)

        # Backpropagation
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        if batch % 2 == 0:
            loss, current = loss.item(), batch * len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")

def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")

epochs = 2
for t in range(epochs):
    print(f"Epoch {t+1}\n-------------------------------")
    train(train_dataloader, model, loss_fn, optimizer)
    test(test_dataloader, model, loss_fn)
print("Done!")

torch.save(model.state_dict(), "model.pth")
print("Saved PyTorch Model State to model.pth")

model = NeuralNetwork()
print(model.load_state_dict(torch.load("model.pth")))

classes = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

model.eval()
x, y = test_data[0][0], test_data[0][1]
with torch.no_grad():
    pred = model(x)
    predicted, actual = classes[pred[0].argmax(0)], classes[y]
    print(f'Predicted: "{predicted}", Actual: "{actual}"')
    print(pred)
