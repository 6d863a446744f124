# Source: Jeff Heaton, "Applications of Deep Neural Networks" (T81-558), module 13: 13.1 an autoencoder
# with a 2-D bottleneck, 13.4 magnitude pruning (prune.l1_unstructured on deep copies, sparsity vs
# accuracy, fine-tuning through the masks), 13.5 contrastive self-supervised pretraining (two noisy
# masked views, F.normalize, an InfoNCE loss with fill_diagonal_) judged by linear probes.
#   https://github.com/jeffheaton/app_deep_learning  t81_558_class_13_1_auto_encode.ipynb,
#   t81_558_class_13_4_pruning.ipynb, t81_558_class_13_5_self_supervised.ipynb
# Shrunk: sklearn's load_digits replaced by 300 synthetic 8x8 "digits" (ten random templates plus noise,
# torch.rand/randn), its MinMaxScaler and train_test_split(stratify=...) by the few lines they amount to
# (a seeded permutation split); 150 autoencoder epochs instead of 3000, 60 training and 60 fine-tuning
# epochs for the pruned nets instead of 300 and 500, 40 contrastive steps on batches of 128 instead of
# 300 on 256, 60-epoch probes instead of 300; plots dropped, the latent codes and reconstructions they show printed.
try:
    import google.colab
    COLAB = True
    print("Note: using Google CoLab")
except:
    print("Note: not using Google CoLab")
    COLAB = False

# Make use of a GPU or MPS (Apple) if one is available.  (see module 2.5)
import torch
has_mps = torch.backends.mps.is_built()
device = "mps" if has_mps else "cuda" if torch.cuda.is_available() else "cpu"
print(f"Using device: {device}")

import numpy as np


class Digits:
    """Stands in for sklearn.datasets.load_digits(): 8x8 images with pixel values 0..16."""

    def __init__(self, n=300):
        generator = torch.Generator().manual_seed(7)
        templates = (torch.rand(10, 64, generator=generator) > 0.6).double() * 14
        self.target = torch.arange(n) % 10
        noisy = templates[self.target] + 8 * torch.randn(n, 64, generator=generator, dtype=torch.float64)
        self.data = noisy.clamp(0, 16).round().numpy()
        self.target = self.target.numpy()


def load_digits():
    return Digits()


class MinMaxScaler:
    def fit_transform(self, x):
        low, high = x.min(axis=0), x.max(axis=0)
        return (x - low) / np.where(high > low, high - low, 1.0)


def train_test_split(X, y, test_size, random_state, stratify=None):
    order = np.random.RandomState(random_state).permutation(len(X))
    n_test = int(round(test_size * len(X)))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


# ---------------------------------------------------------------- 13.1 autoencoders
import torch
import torch.nn as nn

torch.manual_seed(42)
np.random.seed(42)

# Load 8x8 handwritten digit images (64 pixels each) and scale to [0, 1].
digits = load_digits()
X = MinMaxScaler().fit_transform(digits.data).astype(np.float32)
y = digits.target
X_t = torch.tensor(X)
print("data shape:", X.shape, "  (samples, pixels)")


class Autoencoder(nn.Module):
    def __init__(self, n_inputs=64, latent=2):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(n_inputs, 32), nn.ReLU(),
            nn.Linear(32, 16), nn.ReLU(),
            nn.Linear(16, latent),           # the bottleneck
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent, 16), nn.ReLU(),
            nn.Linear(16, 32), nn.ReLU(),
            nn.Linear(32, n_inputs), nn.Sigmoid(),
        )

    def forward(self, x):
        code = self.encoder(x)
        return self.decoder(code), code


model = Autoencoder(latent=2)
print(model)

model = Autoencoder(latent=2)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.MSELoss()

for epoch in range(150):
    optimizer.zero_grad()
    reconstruction, _ = model(X_t)
    loss = loss_fn(reconstruction, X_t)     # target is the input itself
    loss.backward()
    optimizer.step()
    if epoch % 50 == 0 or epoch == 149:
        print(f"epoch {epoch:4d}   reconstruction MSE {loss.item():.4f}")

with torch.no_grad():
    _, codes = model(X_t)
codes = codes.numpy()
# The notebook scatters the codes coloured by digit; here the mean code of each digit.
for digit in range(3):
    print(f"digit {digit}: mean latent code {np.round(codes[y == digit].mean(axis=0), 3)}")

with torch.no_grad():
    reconstructed, _ = model(X_t)
reconstructed = reconstructed.numpy()
print("first image, original:     ", np.round(X[0][:8], 2))
print("first image, reconstructed:", np.round(reconstructed[0][:8], 2))

# ---------------------------------------------------------------- 13.4 pruning
import torch
import torch.nn as nn
import torch.nn.utils.prune as prune
import numpy as np

torch.manual_seed(42)
np.random.seed(42)

digits = load_digits()
X = MinMaxScaler().fit_transform(digits.data).astype(np.float32)
y = digits.target.astype(np.int64)
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=42, stratify=y)
X_tr_t, y_tr_t = torch.tensor(X_tr), torch.tensor(y_tr)
X_te_t, y_te_t = torch.tensor(X_te), torch.tensor(y_te)


class DigitNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, 64)
        self.out = nn.Linear(64, 10)
        self.act = nn.ReLU()

    def forward(self, x):
        x = self.act(self.fc1(x))
        x = self.act(self.fc2(x))
        return self.out(x)


def train(model, epochs=60):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        opt.zero_grad()
        loss_fn(model(X_tr_t), y_tr_t).backward()
        opt.step()
    return model


def accuracy(model):
    with torch.no_grad():
        return (model(X_te_t).argmax(1) == y_te_t).float().mean().item()


model = train(DigitNet())
print(f"Baseline test accuracy: {accuracy(model):.4f}")
total = sum(p.numel() for n, p in model.named_parameters() if "weight" in n)
print(f"Total weight parameters: {total}")

import copy

def prune_model(base, amount):
    m = copy.deepcopy(base)
    for layer in [m.fc1, m.fc2, m.out]:
        prune.l1_unstructured(layer, name="weight", amount=amount)
    return m


def sparsity(model):
    # Count zeros in the effective (masked) weights of the pruned layers.
    zeros = total = 0
    for layer in [model.fc1, model.fc2, model.out]:
        w = layer.weight
        zeros += int((w == 0).sum())
        total += w.numel()
    return zeros / total


amounts = [0.0, 0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]
results = []
for a in amounts:
    pruned = prune_model(model, a)
    results.append((sparsity(pruned), accuracy(pruned)))
    print(f"prune {a:4.0%}  ->  sparsity {results[-1][0]:5.1%}   accuracy {results[-1][1]:.4f}")

pruned = prune_model(model, 0.90)
print(f"before fine-tuning:  sparsity {sparsity(pruned):.1%}   accuracy {accuracy(pruned):.4f}")
print("parameters of the pruned fc1:", [name for name, _ in pruned.fc1.named_parameters()],
      " buffers:", [name for name, _ in pruned.fc1.named_buffers()])

# Fine-tune the surviving weights. The pruning masks keep pruned weights at zero.
opt = torch.optim.Adam(pruned.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
for _ in range(60):
    opt.zero_grad()
    loss_fn(pruned(X_tr_t), y_tr_t).backward()
    opt.step()

print(f"after  fine-tuning:  sparsity {sparsity(pruned):.1%}   accuracy {accuracy(pruned):.4f}")

# ---------------------------------------------------------------- 13.5 self-supervised learning
import torch
import torch.nn as nn
import torch.nn.functional as F
import numpy as np

torch.manual_seed(42)
np.random.seed(42)

digits = load_digits()
X = MinMaxScaler().fit_transform(digits.data).astype(np.float32)
y = digits.target.astype(np.int64)
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=42, stratify=y)
X_tr_t = torch.tensor(X_tr)
X_te_t = torch.tensor(X_te)


def augment(x):
    """Create a randomly corrupted view: additive noise plus random pixel masking."""
    noisy = x + 0.25 * torch.randn_like(x)
    mask = (torch.rand_like(x) > 0.2).float()      # drop about 20% of pixels
    return (noisy * mask).clamp(0.0, 1.0)


print(f"unlabeled training images: {len(X_tr)}  (digit labels withheld during pretraining)")


class Encoder(nn.Module):
    def __init__(self, embed_dim=32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(64, 128), nn.ReLU(),
            nn.Linear(128, embed_dim),            # no activation on the output
        )

    def forward(self, x):
        return self.net(x)


encoder = Encoder()
projection = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 32))

params = list(encoder.parameters()) + list(projection.parameters())
optimizer = torch.optim.Adam(params, lr=1e-3)
TEMPERATURE = 0.5

for epoch in range(40):
    batch = X_tr_t[torch.randperm(len(X_tr_t))[:128]]

    # Two augmented views, encoded and projected onto a unit sphere.
    z1 = F.normalize(projection(encoder(augment(batch))), dim=1)
    z2 = F.normalize(projection(encoder(augment(batch))), dim=1)

    # InfoNCE: each view's positive is its counterpart; all others are negatives.
    z = torch.cat([z1, z2], dim=0)
    similarity = z @ z.t() / TEMPERATURE
    b = batch.shape[0]
    targets = torch.cat([torch.arange(b) + b, torch.arange(b)])
    similarity.fill_diagonal_(-9e15)              # a view is never its own positive
    loss = F.cross_entropy(similarity, targets)

    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 10 == 0 or epoch == 39:
        print(f"epoch {epoch:3d}   contrastive (InfoNCE) loss {loss.item():.3f}")


def linear_probe(features_tr, labels_tr, features_te, labels_te, epochs=60):
    clf = nn.Linear(features_tr.shape[1], 10)
    opt = torch.optim.Adam(clf.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    Xtr, ytr = torch.tensor(features_tr), torch.tensor(labels_tr)
    for _ in range(epochs):
        opt.zero_grad()
        loss_fn(clf(Xtr), ytr).backward()
        opt.step()
    with torch.no_grad():
        pred = clf(torch.tensor(features_te)).argmax(1).numpy()
    return (pred == labels_te).mean()


# Use only a small labeled subset for the downstream task.
N_LABELS = 50
idx = np.random.RandomState(0).permutation(len(X_tr))[:N_LABELS]
X_lab, y_lab = X_tr[idx], y_tr[idx]

# Encode the data with the pretrained encoder and with a random one.
random_encoder = Encoder()                        # same architecture, never trained
with torch.no_grad():
    f_ssl_tr = encoder(torch.tensor(X_lab)).numpy()
    f_ssl_te = encoder(X_te_t).numpy()
    f_rnd_tr = random_encoder(torch.tensor(X_lab)).numpy()
    f_rnd_te = random_encoder(X_te_t).numpy()

acc_ssl = linear_probe(f_ssl_tr, y_lab, f_ssl_te, y_te)
acc_raw = linear_probe(X_lab,    y_lab, X_te,    y_te)
acc_rnd = linear_probe(f_rnd_tr, y_lab, f_rnd_te, y_te)

print(f"With only {N_LABELS} labeled examples, digit-classification test accuracy:")
print(f"  contrastive self-supervised features: {acc_ssl:.3f}")
print(f"  raw pixels (no encoder):              {acc_raw:.3f}")
print(f"  random untrained encoder (control):   {acc_rnd:.3f}")
