# Source: deeplizard, "Neural Network Programming - Deep Learning with PyTorch" (deeplizard.com), part 3
# (hyperparameter experiments): RunBuilder (OrderedDict, itertools.product, namedtuple) and
# RunManager, dataset normalization (mean/std through a DataLoader), and the batch-norm lesson's
# Sequential networks made by a NetworkFactory with torch.manual_seed; as learners typed it:
#   https://github.com/LengYuuu/PyTorchStudy_DeepLizard  Episode4_5_test2.py (RunBuilder),
#     Episode4_8_test1.py (normalized train set, Sequential network)
#   deeplizard's RunManager (begin_run/begin_epoch/track_loss/track_num_correct/end_epoch/save), as in
#   https://github.com/derekhanbaliq/DeepLizard-PyTorch-Tutorial  L31_hyperparam_tuning.py and its copies
# Shrunk: a synthetic FashionMNIST-shaped dataset (200 1x28x28 images from one noisy random template per class)
# instead of the download; transforms.Normalize(mean, std) written as the same function; 2 epochs per
# run instead of 5-20; no TensorBoard (SummaryWriter calls dropped), no pandas/IPython display: each
# epoch's results OrderedDict is printed instead (without the wall-clock durations), and save()
# prints the JSON rather than writing files; device 'cpu' instead of 'cuda'.
import json
import time
from collections import OrderedDict
from collections import namedtuple
from itertools import product

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader

torch.set_printoptions(linewidth=120)
torch.set_grad_enabled(True)


class FakeFashionMNIST(torch.utils.data.Dataset):
    """(1x28x28 image, int label) as FashionMNIST with transform=Compose([ToTensor(), ...])."""

    def __init__(self, n=200, transform=None):
        g = torch.Generator().manual_seed(1)  # the same images for both the plain and the normalized set
        templates = torch.rand(10, 28, 28, generator=g)
        self.targets = torch.randint(0, 10, (n,), generator=g)
        images = 0.7 * templates[self.targets] + 0.3 * torch.rand(n, 28, 28, generator=g)
        self.data = (images * 255).to(torch.uint8)
        self.transform = transform

    def __getitem__(self, index):
        img = self.data[index].unsqueeze(0).float() / 255  # ToTensor
        if self.transform is not None:
            img = self.transform(img)
        return img, int(self.targets[index])

    def __len__(self):
        return len(self.targets)


class Network(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5)
        self.conv2 = nn.Conv2d(in_channels=6, out_channels=12, kernel_size=5)
        self.fc1 = nn.Linear(in_features=12 * 4 * 4, out_features=120)
        self.fc2 = nn.Linear(in_features=120, out_features=60)
        self.out = nn.Linear(in_features=60, out_features=10)

    def forward(self, t):
        t = F.relu(self.conv1(t))
        t = F.max_pool2d(t, kernel_size=2, stride=2)
        t = F.relu(self.conv2(t))
        t = F.max_pool2d(t, kernel_size=2, stride=2)
        t = t.reshape(-1, 12 * 4 * 4)
        t = F.relu(self.fc1(t))
        t = F.relu(self.fc2(t))
        t = self.out(t)
        return t


class RunBuilder:
    @staticmethod
    def get_runs(params):
        Run = namedtuple('Run', params.keys())
        runs = []
        for v in product(*params.values()):
            runs.append(Run(*v))
        return runs


class RunManager:
    def __init__(self, histograms=True):
        self.histograms = histograms
        self.epoch_count = 0
        self.epoch_loss = 0
        self.epoch_num_correct = 0
        self.epoch_start_time = None

        self.run_params = None
        self.run_count = 0
        self.run_data = []
        self.run_start_time = None

        self.network = None
        self.loader = None

    def begin_run(self, run, network, loader):
        self.run_start_time = time.time()
        self.run_params = run
        self.run_count += 1
        self.network = network
        self.loader = loader

        images, labels = next(iter(self.loader))
        print(f'begin run {self.run_count} -{run}', images.shape, labels[:10])

    def end_run(self):
        self.epoch_count = 0

    def begin_epoch(self):
        self.epoch_start_time = time.time()
        self.epoch_count += 1
        self.epoch_loss = 0
        self.epoch_num_correct = 0

    def end_epoch(self):
        epoch_duration = time.time() - self.epoch_start_time
        run_duration = time.time() - self.run_start_time

        loss = self.epoch_loss / len(self.loader.dataset)
        accuracy = self.epoch_num_correct / len(self.loader.dataset)

        # (tb.add_histogram of every parameter and its gradient, summarized instead)
        for name, param in self.network.named_parameters() if self.histograms else ():
            print(f'  {name:12s} {tuple(param.shape)} mean {param.mean().item():.5f} '
                  f'grad norm {param.grad.norm().item():.5f}')

        results = OrderedDict()
        results["run"] = self.run_count
        results["epoch"] = self.epoch_count
        results['loss'] = loss
        results["accuracy"] = accuracy
        results['epoch duration'] = epoch_duration
        results['run duration'] = run_duration
        for k, v in self.run_params._asdict().items():
            results[k] = v
        self.run_data.append(results)
        print({k: v for k, v in results.items() if 'duration' not in k})

    def track_loss(self, loss, batch):
        self.epoch_loss += loss.item() * batch[0].shape[0]

    def track_num_correct(self, preds, labels):
        self.epoch_num_correct += self._get_num_correct(preds, labels)

    @torch.no_grad()
    def _get_num_correct(self, preds, labels):
        return preds.argmax(dim=1).eq(labels).sum().item()

    def save(self, fileName):
        data = [{k: v for k, v in r.items() if 'duration' not in k} for r in self.run_data]
        print(fileName + '.json')
        print(json.dumps(data, ensure_ascii=False, indent=4))


# --- RunBuilder by itself
params = OrderedDict(
    lr=[.01, .001],
    batch_size=[1000, 10000]
)
runs = RunBuilder.get_runs(params)
print(runs)
run = runs[0]
print(run)
print(run.lr, run.batch_size)
for run in runs:
    print(run, run.lr, run.batch_size)
for lr, batch_size in product(*params.values()):
    print(lr, batch_size)
for run in RunBuilder.get_runs(params):
    comment = f'-{run}'
    print(comment)

# --- dataset normalization
train_set = FakeFashionMNIST()

loader = DataLoader(train_set, batch_size=len(train_set), num_workers=0)
data = next(iter(loader))
print(data[0].shape)
print(data[0].mean(), data[0].std())

# the easy way won't fit in memory for big sets: sum over batches
loader = DataLoader(train_set, batch_size=64, num_workers=0)
num_of_pixels = len(train_set) * 28 * 28

total_sum = 0
for batch in loader:
    total_sum += batch[0].sum()
mean = total_sum / num_of_pixels

sum_of_squared_error = 0
for batch in loader:
    sum_of_squared_error += ((batch[0] - mean).pow(2)).sum()
std = torch.sqrt(sum_of_squared_error / num_of_pixels)
print(mean, std)

mean_value, std_value = data[0].mean().item(), data[0].std().item()


def normalize(img):  # transforms.Normalize((mean,), (std,))
    return (img - mean_value) / std_value


train_set_normal = FakeFashionMNIST(transform=normalize)
loader = DataLoader(train_set_normal, batch_size=len(train_set_normal), num_workers=0)
data = next(iter(loader))
print(data[0].mean(), data[0].std())

# --- the hyperparameter sweep with the Network class
params = OrderedDict(
    lr=[.01, .001],
    batch_size=[100, 200],
    shuffle=[True],
)
m = RunManager()
for run in RunBuilder.get_runs(params):
    network = Network()
    loader = DataLoader(train_set, batch_size=run.batch_size, shuffle=run.shuffle)
    optimizer = optim.Adam(network.parameters(), lr=run.lr)

    m.begin_run(run, network, loader)
    for epoch in range(1):
        m.begin_epoch()
        for batch in loader:
            images, labels = batch
            preds = network(images)  # Pass Batch
            loss = F.cross_entropy(preds, labels)  # Calculate Loss
            optimizer.zero_grad()  # Zero Gradients
            loss.backward()  # Calculate Gradients
            optimizer.step()  # Update Weights

            m.track_loss(loss, batch)
            m.track_num_correct(preds, labels)
        m.end_epoch()
    m.end_run()

best = sorted(m.run_data, key=lambda r: r['accuracy'], reverse=True)
for r in best[:3]:
    print(r['run'], r['lr'], r['batch_size'], r['shuffle'], round(r['accuracy'], 4))


# --- batch norm lesson: networks from a factory, trainsets by name
class NetworkFactory():
    @staticmethod
    def get_network(name):
        if name == 'no_batch_norm':
            torch.manual_seed(50)
            return nn.Sequential(
                nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5)
                , nn.ReLU()
                , nn.MaxPool2d(kernel_size=2, stride=2)
                , nn.Conv2d(in_channels=6, out_channels=12, kernel_size=5)
                , nn.ReLU()
                , nn.MaxPool2d(kernel_size=2, stride=2)
                , nn.Flatten(start_dim=1)
                , nn.Linear(in_features=12 * 4 * 4, out_features=120)
                , nn.ReLU()
                , nn.Linear(in_features=120, out_features=60)
                , nn.ReLU()
                , nn.Linear(in_features=60, out_features=10)
            )
        elif name == 'batch_norm':
            torch.manual_seed(50)
            return nn.Sequential(
                nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5)
                , nn.ReLU()
                , nn.MaxPool2d(kernel_size=2, stride=2)
                , nn.BatchNorm2d(6)
                , nn.Conv2d(in_channels=6, out_channels=12, kernel_size=5)
                , nn.ReLU()
                , nn.MaxPool2d(kernel_size=2, stride=2)
                , nn.Flatten(start_dim=1)
                , nn.Linear(in_features=12 * 4 * 4, out_features=120)
                , nn.ReLU()
                , nn.BatchNorm1d(120)
                , nn.Linear(in_features=120, out_features=60)
                , nn.ReLU()
                , nn.Linear(in_features=60, out_features=10)
            )
        else:
            return None


trainsets = {
    'not_normal': train_set
    , 'normal': train_set_normal
}

print(NetworkFactory.get_network('batch_norm'))

params = OrderedDict(
    lr=[.01]
    , batch_size=[100]
    , num_workers=[0]
    , device=['cpu']
    , trainset=['normal']
    , network=['no_batch_norm', 'batch_norm']
)
# No parameter summaries here: a conv/linear bias right before batch norm gets a gradient that is
# float32 rounding noise (~1e-7, its exact value is 0), which Adam's first step turns into +-lr, so
# those biases (and the statistics after them) differ from PyTorch's by ~0.02 and are not printed.
m = RunManager(histograms=False)
for run in RunBuilder.get_runs(params):
    device = torch.device(run.device)
    network = NetworkFactory.get_network(run.network).to(device)
    loader = DataLoader(
        trainsets[run.trainset]
        , batch_size=run.batch_size
        , num_workers=run.num_workers
    )
    optimizer = optim.Adam(network.parameters(), lr=run.lr)

    m.begin_run(run, network, loader)
    for epoch in range(2):
        m.begin_epoch()
        for batch in loader:
            images = batch[0].to(device)
            labels = batch[1].to(device)
            preds = network(images)  # Pass Batch
            loss = F.cross_entropy(preds, labels)  # Calculate Loss
            optimizer.zero_grad()  # Zero Gradients
            loss.backward()  # Calculate Gradients
            optimizer.step()  # Update Weights

            m.track_loss(loss, batch)
            m.track_num_correct(preds, labels)
        m.end_epoch()
    m.end_run()
    if run.network == 'batch_norm':
        print(network[3].running_mean.shape, network[10].running_var.shape, network[3].num_batches_tracked)
        print(network[3].momentum, network[3].eps, network[10].weight.shape)
m.save('results')

for r in sorted(m.run_data, key=lambda r: r['accuracy'], reverse=True):
    print(r['run'], r['epoch'], r['trainset'], r['network'], f"{r['loss']:.4f}", r['accuracy'])
