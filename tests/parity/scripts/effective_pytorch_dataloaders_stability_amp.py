# Source: Vahid Kazemi, "Effective PyTorch", Part I sections "Building efficient custom data loaders",
# "Numerical stability in PyTorch" and "Faster training with automatic mixed precision":
#   https://github.com/vahidk/EffectivePyTorch  README.md
# Shrunk/adapted: the tar-archive IterableDataset reads two small tar files written here (each member a
# 2x3 uint8 array's bytes, decoded with np.frombuffer instead of cv2.imdecode; the README's
# tar_image_iterator opens `self.path` inside a plain function, read as its `path` argument); the
# DataLoader runs with num_workers=0 first (get_worker_info() is None: the README's ValueError,
# printed) and then with the README's num_workers=2. The mixed-precision example runs on the CPU with
# the README's own torch.amp.autocast("cuda") and torch.amp.GradScaler() calls, which PyTorch disables
# (with a warning) where CUDA is absent, so everything stays float32 (no float16/bfloat16 matmuls on
# the CPU); the .cuda() calls are dropped. The checkerboard is 16x16 (freq 4) instead of 512x512,
# the Net is a torch.nn.Module (the README's torch.jit.ScriptModule/@script_method left out) with 16
# channels instead of 256, and each training runs 40 steps instead of 500; the timings and plots
# are dropped (the loss and a few outputs printed). The outputs after 40 Adam steps through three
# BatchNorms on one image drift ~1e-3 apart between float32 implementations (run in float64, PyTorch
# and chainrule print the same digits): they are printed rounded to 2 decimals.
import os
import tarfile
import tempfile
import numpy as np
import torch

# Building efficient custom data loaders
folder = tempfile.mkdtemp()
paths = []
for part in range(2):
    path = os.path.join(folder, "imagenet_part%d.tar" % (part + 1))
    with tarfile.open(path, "w") as tar:
        for k in range(3):
            content = (np.arange(6, dtype=np.uint8) + 10 * (3 * part + k)).tobytes()
            info = tarfile.TarInfo("image%d.raw" % k)
            info.size = len(content)
            import io
            tar.addfile(info, io.BytesIO(content))
    paths.append(path)


def tar_image_iterator(path):
    tar = tarfile.open(path, "r")
    for tar_info in tar:
        file = tar.extractfile(tar_info)
        content = file.read()
        yield np.frombuffer(content, dtype=np.uint8).reshape(2, 3)
        file.close()
        tar.members = []
    tar.close()

class TarImageDataset(torch.utils.data.IterableDataset):
    def __init__(self, path):
        super().__init__()
        self.path = path

    def __iter__(self):
        yield from tar_image_iterator(self.path)

dataloader = torch.utils.data.DataLoader(TarImageDataset(paths[0]), num_workers=0)
for data in dataloader:
    print(data)

class TarImageDataset(torch.utils.data.IterableDataset):
    def __init__(self, paths):
        super().__init__()
        self.paths = paths

    def __iter__(self):
        worker_info = torch.utils.data.get_worker_info()
        # For simplicity we assume num_workers is equal to number of tar files
        if worker_info is None or worker_info.num_workers != len(self.paths):
            raise ValueError("Number of workers doesn't match number of files.")
        yield from tar_image_iterator(self.paths[worker_info.id])

try:
    for data in torch.utils.data.DataLoader(TarImageDataset(paths), num_workers=0):
        print(data)
except ValueError as e:
    print("ValueError:", e)

if __name__ == "__main__":
    dataloader = torch.utils.data.DataLoader(
        TarImageDataset(paths), num_workers=2)
    for data in dataloader:
        # do something with data
        print(data.shape, data.dtype, data.flatten().tolist())

# Numerical stability in PyTorch
x = np.float32(1)

y = np.float32(1e-50)  # y would be stored as zero
with np.errstate(all="ignore"):
    z = x * y / y

print(z)  # prints nan

y = np.float32(1e39)  # y would be stored as inf
with np.errstate(all="ignore"):
    z = x * y / y

print(z)  # prints nan

print(np.nextafter(np.float32(0), np.float32(1)))  # prints 1.4013e-45
print(np.finfo(np.float32).max)  # print 3.40282e+38

# (the same in PyTorch)
print(torch.tensor(1.) * torch.tensor(1e-50) / torch.tensor(1e-50), torch.tensor(1e39))
print(torch.finfo(torch.float32).tiny, torch.finfo(torch.float32).max, torch.finfo(torch.float32).eps)

def unstable_softmax(logits):
    exp = torch.exp(logits)
    return exp / torch.sum(exp)

print(unstable_softmax(torch.tensor([1000., 0.])).numpy())  # prints [ nan, 0.]

def softmax(logits):
    exp = torch.exp(logits - torch.max(logits))
    return exp / torch.sum(exp)

print(softmax(torch.tensor([1000., 0.])).numpy())  # prints [ 1., 0.]

def unstable_softmax_cross_entropy(labels, logits):
    logits = torch.log(softmax(logits))
    return -torch.sum(labels * logits)

labels = torch.tensor([0.5, 0.5])
logits = torch.tensor([1000., 0.])

xe = unstable_softmax_cross_entropy(labels, logits)

print(xe.numpy())  # prints inf

def softmax_cross_entropy(labels, logits, dim=-1):
    scaled_logits = logits - torch.max(logits)
    normalized_logits = scaled_logits - torch.logsumexp(scaled_logits, dim)
    return -torch.sum(labels * normalized_logits)

labels = torch.tensor([0.5, 0.5])
logits = torch.tensor([1000., 0.])

xe = softmax_cross_entropy(labels, logits)

print(xe.numpy())  # prints 500.0

logits.requires_grad_(True)
xe = softmax_cross_entropy(labels, logits)
g = torch.autograd.grad(xe, logits)[0]
print(g.numpy())  # prints [0.5, -0.5]

# (the library's own: soft-label cross_entropy and log_softmax agree)
print(torch.nn.functional.cross_entropy(logits.detach()[None], labels[None]), torch.log_softmax(logits.detach(), 0))

# Faster training with automatic mixed precision (CPU: autocast("cuda") and GradScaler() disabled)
x = torch.rand([32, 32])
y = torch.rand([32, 32])

with torch.amp.autocast("cuda"):
  a = x + y
  b = x @ y
print(a.dtype)  # prints torch.float32
print(b.dtype)  # prints torch.float16 (on a GPU)

x = torch.rand([32, 32])
y = torch.rand([32, 32]).half()

with torch.amp.autocast("cuda"):
  a = x + y
  try:
    b = x @ y
  except RuntimeError as e:
    print("RuntimeError:", e)
print(a.dtype)  # prints torch.float32

def grid(width, height):
  hrange = torch.arange(width).unsqueeze(0).repeat([height, 1]).div(width)
  vrange = torch.arange(height).unsqueeze(1).repeat([1, width]).div(height)
  output = torch.stack([hrange, vrange], 0)
  return output


def checker(width, height, freq):
  hrange = torch.arange(width).reshape([1, width]).mul(freq / width / 2.0).fmod(1.0).gt(0.5)
  vrange = torch.arange(height).reshape([height, 1]).mul(freq / height / 2.0).fmod(1.0).gt(0.5)
  output = hrange.logical_xor(vrange).float()
  return output

# Note the inputs are grid coordinates and the target is a checkerboard
inputs = grid(16, 16).unsqueeze(0)
targets = checker(16, 16, 4).unsqueeze(0).unsqueeze(1)
print(inputs.shape, inputs.dtype, inputs[:, :, 3, 5])
print(targets.squeeze())

class Net(torch.nn.Module):
  def __init__(self):
    super().__init__()
    self.net = torch.nn.Sequential(
      torch.nn.Conv2d(2, 16, 1),
      torch.nn.BatchNorm2d(16),
      torch.nn.ReLU(),
      torch.nn.Conv2d(16, 16, 1),
      torch.nn.BatchNorm2d(16),
      torch.nn.ReLU(),
      torch.nn.Conv2d(16, 16, 1),
      torch.nn.BatchNorm2d(16),
      torch.nn.ReLU(),
      torch.nn.Conv2d(16, 1, 1))

  def forward(self, x):
    return self.net(x)

# Single precision training
net = Net()
loss_fn = torch.nn.MSELoss()
opt = torch.optim.Adam(net.parameters(), 0.001)

for i in range(40):
  opt.zero_grad()
  outputs = net(inputs)
  loss = loss_fn(outputs, targets)
  loss.backward()
  opt.step()
print(loss)
print(outputs.squeeze().detach()[:2, :8].round(decimals=2))

# Mixed precision training
net = Net()
loss_fn = torch.nn.MSELoss()
opt = torch.optim.Adam(net.parameters(), 0.001)

scaler = torch.amp.GradScaler()

for i in range(40):
  opt.zero_grad()
  with torch.amp.autocast("cuda"):
    outputs = net(inputs)
    loss = loss_fn(outputs, targets)
  scaler.scale(loss).backward()
  scaler.step(opt)
  scaler.update()
print(loss)
print(outputs.squeeze().detach().float()[:2, :8].round(decimals=2), outputs.dtype)
print(scaler.is_enabled(), scaler.get_scale())
