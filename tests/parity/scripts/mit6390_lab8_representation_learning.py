# Source: MIT 6.390 (Introduction to Machine Learning), Lab 8 "Representation Learning", Part 1
# notebooks: the image SimpleCNN (Conv2d/MaxPool2d, an `embeddings` attribute saved with
# x.detach().cpu().numpy() as a hook, Subset of a randperm, Adam, extract_embeddings per epoch
# with np.vstack) and the text TextClassifier MLP trained full-batch on TF-IDF features with
# per-epoch embedding copies.
#   https://github.com/KellisLab/MIT-6.390-Lab-8-Representation-Learning
#   notebooks/part1_image_classification.ipynb, notebooks/part1_text_classification.ipynb
# Shrunk: a synthetic 40-image 3x32x32 "CIFAR" TensorDataset (normalised to [-1, 1] as the
# notebook's Normalize((0.5,), (0.5,)) does) with a 24-image Subset, batch 8, 2 epochs; 60
# synthetic TF-IDF rows of 100 "words" (row-L2-normalised counts) over 6 topics instead of the
# Wikipedia download + sklearn TfidfVectorizer, vocab 100, 6 epochs; the pandas CSV export and
# the UMAP/bokeh plots replaced by prints of the embedding arrays' shapes and statistics.
import torch
import torch.nn as nn
import torch.optim as optim
import numpy as np

# ---------------- Part 1a: images ----------------
images = torch.rand(40, 3, 32, 32)
targets = torch.randint(0, 10, (40,))
images[:, 0] += targets.view(-1, 1, 1).float() / 20
images = (images.clamp(0, 1) - 0.5) / 0.5
trainset = torch.utils.data.TensorDataset(images, targets)
# Subset for speed during lab
subset_indices = torch.randperm(len(trainset))[:24]
print(subset_indices)
trainset = torch.utils.data.Subset(trainset, subset_indices)

trainloader = torch.utils.data.DataLoader(trainset, batch_size=8, shuffle=False)
classes = ('plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck')
print(f"Loaded {len(trainset)} images")


class SimpleCNN(nn.Module):
    def __init__(self):
        super(SimpleCNN, self).__init__()
        self.conv1 = nn.Conv2d(3, 16, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(16, 32, 5)
        self.fc1 = nn.Linear(32 * 5 * 5, 128)
        self.fc2 = nn.Linear(128, 10)
        self.embeddings = None # This will act as our 'hook' to save the latent features

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = torch.relu(self.fc1(x))
        self.embeddings = x.detach().cpu().numpy()
        x = self.fc2(x)
        return x


model = SimpleCNN()
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=0.003)
print(model)

epochs = 2
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
model.to(device)

embeddings_per_epoch = []
labels_list = []


def extract_embeddings():
    model.eval()
    all_embs = []
    all_lbls = []
    with torch.no_grad():
        for data in trainloader:
            inputs, labels = data[0].to(device), data[1]
            outputs = model(inputs)
            all_embs.append(model.embeddings)
            all_lbls.extend(labels.numpy())
    model.train()
    return np.vstack(all_embs), all_lbls


# Epoch 0 (Initialization)
embs, lbls = extract_embeddings()
embeddings_per_epoch.append(embs)
labels_list = lbls
print(embs.shape, embs.dtype, type(lbls[0]).__name__, lbls[:8])

print("Training...")
for epoch in range(epochs):
    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        inputs, labels = data[0].to(device), data[1].to(device)
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()

    print(f"Epoch [{(epoch + 1):2d}/{epochs}] loss: {running_loss / len(trainloader):.3f}")

    embs, _ = extract_embeddings()
    embeddings_per_epoch.append(embs)

label_names = [classes[lbl] for lbl in labels_list]
print(label_names[:6])
for i, embs in enumerate(embeddings_per_epoch):
    print(i, embs.shape, round(float(embs.mean()), 4), round(float((embs > 0).mean()), 4), len(embs.tolist()[0]))

# ---------------- Part 1b: text ----------------
topics = ["Machine learning", "Molecular biology", "Renaissance art", "Quantum physics", "Basketball", "Pure mathematics"]
rng = np.random.default_rng(6390)
counts = rng.poisson(0.3, size=(60, 100)).astype(np.float64)
y = np.arange(60) % len(topics)
for row, topic in enumerate(y):
    counts[row, topic * 10:(topic + 1) * 10] += rng.poisson(1.5, size=10)
X = counts / np.maximum(np.linalg.norm(counts, axis=1, keepdims=True), 1e-12)
print(X.shape, X.dtype, y[:8])

X_tensor = torch.tensor(X, dtype=torch.float32)
y_tensor = torch.tensor(y, dtype=torch.long)
print(X_tensor.dtype, y_tensor.dtype, X_tensor[0, :6])


class TextClassifier(nn.Module):
    def __init__(self, vocab_size, hidden_dim, num_classes):
        super(TextClassifier, self).__init__()
        self.fc1 = nn.Linear(vocab_size, 256)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(256, hidden_dim) # Bottleneck representation
        self.classifier = nn.Linear(hidden_dim, num_classes)
        self.embeddings = None # This will act as our 'hook' to save the latent features

    def forward(self, x):
        out = self.relu(self.fc1(x))
        out = self.fc2(out)
        self.embeddings = out.detach().cpu().numpy() # Save point
        out = self.relu(out)
        out = self.classifier(out)
        return out


model = TextClassifier(vocab_size=100, hidden_dim=64, num_classes=len(topics))
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=0.002)

epochs = 6
embeddings_per_epoch = []

model.eval()
with torch.no_grad():
    model(X_tensor)
    embeddings_per_epoch.append(model.embeddings.copy())
model.train()

print("Training...")
for epoch in range(epochs):
    optimizer.zero_grad()
    outputs = model(X_tensor)
    loss = criterion(outputs, y_tensor)
    loss.backward()
    optimizer.step()

    acc = (outputs.argmax(dim=1) == y_tensor).float().mean()
    if (epoch + 1) % 2 == 0 or epoch == 0:
        print(f"Epoch [{(epoch+1):2d}/{epochs}], Loss: {loss.item():.4f}, Accuracy: {acc.item():.4f}")

    model.eval()
    with torch.no_grad():
        model(X_tensor)
        embeddings_per_epoch.append(model.embeddings.copy())
    model.train()

print(f"\nCaptured embeddings spanning {len(embeddings_per_epoch)} states.")
print(np.round(embeddings_per_epoch[-1][0, :5], 4))
print(np.round(np.abs(embeddings_per_epoch[-1] - embeddings_per_epoch[0]).mean(), 5))
