# Source: Ben Trevett, "PyTorch Image Classification", notebook 3 (AlexNet): hand-made Sobel filters applied
# with F.conv2d (torch.FloatTensor, repeat), max/average subsampling with F.max_pool2d/F.avg_pool2d, the
# AlexNet model initialized with model.apply (kaiming_normal_, xavier_normal_ with calculate_gain,
# constant_), its training loop with calculate_accuracy, the "imagined" most-frog-like noise image, and the
# first layer's filters applied to test images; normalize_image rescales views in place (clamp_, add_, div_).
#   https://github.com/bentrevett/pytorch-image-classification  3_alexnet.ipynb
# Shrunk: CIFAR10 replaced by 96+32 synthetic 32x32 images (a colour per class plus noise) in a Dataset with
# the same .data/.targets/.classes/.transform; torchvision's transforms by the few of them used here written
# on tensors (RandomRotation dropped); the channels divided by 8 and the classifier's 4096 units by 32;
# batches of 16, 2 epochs instead of 25 at the notebook's FOUND_LR (its LR finder is the one of
# heaton_trevett_vgg_lr_finder.py), 3 imagining batches of 64 instead of 10,000 of 256; tqdm.notebook as
# plain tqdm (it writes to stderr); the epoch time left out of the epoch line (a timing); sklearn's
# confusion matrix, PCA and t-SNE, torchvision's pretrained AlexNet and the plots dropped, what the plots
# show printed. Files go to a temporary directory.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import torch.utils.data as data

from tqdm import tqdm, trange
import numpy as np

import copy
import os
import random
import tempfile
import time

os.chdir(tempfile.mkdtemp())


class transforms:
    """The torchvision.transforms used here, on CHW uint8 tensors standing in for PIL images."""

    class Compose:
        def __init__(self, transforms):
            self.transforms = transforms

        def __call__(self, img):
            for t in self.transforms:
                img = t(img)
            return img

    class RandomHorizontalFlip:
        def __init__(self, p=0.5):
            self.p = p

        def __call__(self, img):
            if torch.rand(1) < self.p:
                return img.flip(-1)
            return img

    class RandomCrop:
        def __init__(self, size, padding):
            self.size, self.padding = size, padding

        def __call__(self, img):
            img = F.pad(img, [self.padding] * 4)
            i = torch.randint(0, img.shape[1] - self.size + 1, size=(1,)).item()
            j = torch.randint(0, img.shape[2] - self.size + 1, size=(1,)).item()
            return img[:, i:i + self.size, j:j + self.size]

    class ToTensor:
        def __call__(self, img):
            return img.float().div(255)

    class Normalize:
        def __init__(self, mean, std):
            self.mean = torch.as_tensor(mean, dtype=torch.float32)[:, None, None]
            self.std = torch.as_tensor(std, dtype=torch.float32)[:, None, None]

        def __call__(self, tensor):
            return (tensor - self.mean) / self.std


class datasets:
    class CIFAR10(data.Dataset):
        """Stands in for torchvision.datasets.CIFAR10: .data is N x 32 x 32 x 3 uint8."""
        classes = ['airplane', 'automobile', 'bird', 'cat', 'deer',
                   'dog', 'frog', 'horse', 'ship', 'truck']

        def __init__(self, root, train=True, download=False, transform=None):
            n = 96 if train else 32
            generator = torch.Generator().manual_seed(1)  # the same class templates for both splits
            templates = torch.rand(10, 1, 1, 3, generator=generator) * 255  # a colour per class
            targets = torch.randint(0, 10, (n,), generator=generator if train else None)
            noise = torch.rand(n, 32, 32, 3, generator=generator if train else None) * 255
            self.data = (0.7 * templates[targets] + 0.3 * noise).to(torch.uint8).numpy()
            self.targets = targets.tolist()
            self.transform = transform

        def __len__(self):
            return len(self.data)

        def __getitem__(self, index):
            image = torch.from_numpy(self.data[index]).permute(2, 0, 1)
            if self.transform is not None:
                image = self.transform(image)
            return image, self.targets[index]


SEED = 1234

random.seed(SEED)
np.random.seed(SEED)
torch.manual_seed(SEED)
torch.cuda.manual_seed(SEED)
torch.backends.cudnn.deterministic = True

ROOT = '.data'

train_data = datasets.CIFAR10(root=ROOT,
                              train=True,
                              download=True)

means = train_data.data.mean(axis=(0, 1, 2)) / 255
stds = train_data.data.std(axis=(0, 1, 2)) / 255

print(f'Calculated means: {means}')
print(f'Calculated stds: {stds}')

train_transforms = transforms.Compose([
                           transforms.RandomHorizontalFlip(0.5),
                           transforms.RandomCrop(32, padding=2),
                           transforms.ToTensor(),
                           transforms.Normalize(mean=means,
                                                std=stds)
                       ])

test_transforms = transforms.Compose([
                           transforms.ToTensor(),
                           transforms.Normalize(mean=means,
                                                std=stds)
                       ])

train_data = datasets.CIFAR10(ROOT,
                              train=True,
                              download=True,
                              transform=train_transforms)

test_data = datasets.CIFAR10(ROOT,
                             train=False,
                             download=True,
                             transform=test_transforms)

VALID_RATIO = 0.9

n_train_examples = int(len(train_data) * VALID_RATIO)
n_valid_examples = len(train_data) - n_train_examples

train_data, valid_data = data.random_split(train_data,
                                           [n_train_examples, n_valid_examples])

valid_data = copy.deepcopy(valid_data)
valid_data.dataset.transform = test_transforms

print(f'Number of training examples: {len(train_data)}')
print(f'Number of validation examples: {len(valid_data)}')
print(f'Number of testing examples: {len(test_data)}')


def normalize_image(image):
    image_min = image.min()
    image_max = image.max()
    image.clamp_(min=image_min, max=image_max)
    image.add_(-image_min).div_(image_max - image_min + 1e-5)
    return image


def plot_filter(images, filter, normalize=True):

    images = torch.cat([i.unsqueeze(0) for i in images], dim=0).cpu()
    filter = torch.FloatTensor(filter).unsqueeze(0).unsqueeze(0).cpu()
    filter = filter.repeat(3, 3, 1, 1)

    n_images = images.shape[0]

    filtered_images = F.conv2d(images, filter)

    images = images.permute(0, 2, 3, 1)
    filtered_images = filtered_images.permute(0, 2, 3, 1)

    # fig = plt.figure(figsize=(25, 5)): the images it shows, summed up.
    for i in range(n_images):

        image = images[i]

        if normalize:
            image = normalize_image(image)

        image = filtered_images[i]

        if normalize:
            image = normalize_image(image)

    print('filter', tuple(filter.shape), '-> filtered', tuple(filtered_images.shape))
    print('  original[0] mean %.4f  filtered[0] mean %.4f  filtered[1] [0, :4, 0]'
          % (images[0].mean(), filtered_images[0].mean()), filtered_images[1][0, :4, 0])


N_IMAGES = 10

images = [image for image, label in [train_data[i] for i in range(N_IMAGES)]]

horizontal_filter = [[-1, -2, -1],
                     [ 0,  0,  0],
                     [ 1,  2,  1]]

plot_filter(images, horizontal_filter)

vertical_filter = [[-1, 0, 1],
                   [-2, 0, 2],
                   [-1, 0, 1]]

plot_filter(images, vertical_filter)


def plot_subsample(images, pool_type, pool_size, normalize=True):

    images = torch.cat([i.unsqueeze(0) for i in images], dim=0).cpu()

    if pool_type.lower() == 'max':
        pool = F.max_pool2d
    elif pool_type.lower() in ['mean', 'avg']:
        pool = F.avg_pool2d
    else:
        raise ValueError(f'pool_type must be either max or mean, got: {pool_type}')

    n_images = images.shape[0]

    pooled_images = pool(images, kernel_size=pool_size)

    images = images.permute(0, 2, 3, 1)
    pooled_images = pooled_images.permute(0, 2, 3, 1)

    for i in range(n_images):

        image = images[i]

        if normalize:
            image = normalize_image(image)

        image = pooled_images[i]

        if normalize:
            image = normalize_image(image)

    print(pool_type, pool_size, '->', tuple(pooled_images.shape), pooled_images[2][0, :3, 1])


plot_subsample(images, 'max', 2)
plot_subsample(images, 'max', 3)
plot_subsample(images, 'avg', 2)
plot_subsample(images, 'avg', 3)
try:
    plot_subsample(images, 'median', 2)
except ValueError as e:
    print(e)

BATCH_SIZE = 16

train_iterator = data.DataLoader(train_data,
                                 shuffle=True,
                                 batch_size=BATCH_SIZE)

valid_iterator = data.DataLoader(valid_data,
                                 batch_size=BATCH_SIZE)

test_iterator = data.DataLoader(test_data,
                                batch_size=BATCH_SIZE)


class AlexNet(nn.Module):
    def __init__(self, output_dim):
        super().__init__()

        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1),  # in_channels, out_channels, kernel_size, stride, padding
            nn.MaxPool2d(2),  # kernel_size
            nn.ReLU(inplace=True),
            nn.Conv2d(8, 24, 3, padding=1),
            nn.MaxPool2d(2),
            nn.ReLU(inplace=True),
            nn.Conv2d(24, 48, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(48, 32, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.MaxPool2d(2),
            nn.ReLU(inplace=True)
        )

        self.classifier = nn.Sequential(
            nn.Dropout(0.5),
            nn.Linear(32 * 2 * 2, 128),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(128, 128),
            nn.ReLU(inplace=True),
            nn.Linear(128, output_dim),
        )

    def forward(self, x):
        x = self.features(x)
        h = x.view(x.shape[0], -1)
        x = self.classifier(h)
        return x, h


OUTPUT_DIM = 10

model = AlexNet(OUTPUT_DIM)


def count_parameters(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


print(f'The model has {count_parameters(model):,} trainable parameters')


def initialize_parameters(m):
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight.data, nonlinearity='relu')
        nn.init.constant_(m.bias.data, 0)
    elif isinstance(m, nn.Linear):
        nn.init.xavier_normal_(m.weight.data, gain=nn.init.calculate_gain('relu'))
        nn.init.constant_(m.bias.data, 0)


print(model.apply(initialize_parameters))
print('weight std after init: conv1 %.4f  fc1 %.4f' % (model.features[0].weight.std(), model.classifier[1].weight.std()))

device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

criterion = nn.CrossEntropyLoss()

model = model.to(device)
criterion = criterion.to(device)

FOUND_LR = 1e-3

optimizer = optim.Adam(model.parameters(), lr=FOUND_LR)


def calculate_accuracy(y_pred, y):
    top_pred = y_pred.argmax(1, keepdim=True)
    correct = top_pred.eq(y.view_as(top_pred)).sum()
    acc = correct.float() / y.shape[0]
    return acc


def train(model, iterator, optimizer, criterion, device):

    epoch_loss = 0
    epoch_acc = 0

    model.train()

    for (x, y) in tqdm(iterator, desc="Training", leave=False):

        x = x.to(device)
        y = y.to(device)

        optimizer.zero_grad()

        y_pred, _ = model(x)

        loss = criterion(y_pred, y)

        acc = calculate_accuracy(y_pred, y)

        loss.backward()

        optimizer.step()

        epoch_loss += loss.item()
        epoch_acc += acc.item()

    return epoch_loss / len(iterator), epoch_acc / len(iterator)


def evaluate(model, iterator, criterion, device):

    epoch_loss = 0
    epoch_acc = 0

    model.eval()

    with torch.no_grad():

        for (x, y) in tqdm(iterator, desc="Evaluating", leave=False):

            x = x.to(device)
            y = y.to(device)

            y_pred, _ = model(x)

            loss = criterion(y_pred, y)

            acc = calculate_accuracy(y_pred, y)

            epoch_loss += loss.item()
            epoch_acc += acc.item()

    return epoch_loss / len(iterator), epoch_acc / len(iterator)


def epoch_time(start_time, end_time):
    elapsed_time = end_time - start_time
    elapsed_mins = int(elapsed_time / 60)
    elapsed_secs = int(elapsed_time - (elapsed_mins * 60))
    return elapsed_mins, elapsed_secs


EPOCHS = 2

best_valid_loss = float('inf')

for epoch in trange(EPOCHS, desc="Epochs"):

    start_time = time.monotonic()

    train_loss, train_acc = train(model, train_iterator, optimizer, criterion, device)
    valid_loss, valid_acc = evaluate(model, valid_iterator, criterion, device)

    if valid_loss < best_valid_loss:
        best_valid_loss = valid_loss
        torch.save(model.state_dict(), 'tut3-model.pt')

    end_time = time.monotonic()

    epoch_mins, epoch_secs = epoch_time(start_time, end_time)

    print(f'Epoch: {epoch+1:02}')
    print(f'\tTrain Loss: {train_loss:.3f} | Train Acc: {train_acc*100:.2f}%')
    print(f'\t Val. Loss: {valid_loss:.3f} |  Val. Acc: {valid_acc*100:.2f}%')

model.load_state_dict(torch.load('tut3-model.pt'))

test_loss, test_acc = evaluate(model, test_iterator, criterion, device)

print(f'Test Loss: {test_loss:.3f} | Test Acc: {test_acc*100:.2f}%')

classes = test_data.classes


def imagine_image(model, classes, image, device, n_iterations=10_000):

    model.eval()

    label = classes.index(image)

    best_prob = 0
    best_image = None

    with torch.no_grad():

        for _ in trange(n_iterations):

            x = torch.randn(64, 3, 32, 32).to(device)

            y_pred, _ = model(x)

            preds = F.softmax(y_pred, dim=-1)

            _best_prob, index = torch.max(preds[:, label], dim=0)

            if _best_prob > best_prob:
                best_prob = _best_prob
                best_image = x[index]

    return best_image, best_prob


IMAGE = 'frog'

best_image, best_prob = imagine_image(model, classes, IMAGE, device, n_iterations=3)

print(f'Best image probability: {best_prob.item()*100:.2f}%')

best_image = normalize_image(best_image)

print('imagined image:', tuple(best_image.permute(1, 2, 0).shape), best_image[0, 0, :4])


def plot_filtered_images(images, filters, n_filters=None, normalize=True):

    images = torch.cat([i.unsqueeze(0) for i in images], dim=0).cpu()
    filters = filters.cpu()

    if n_filters is not None:
        filters = filters[:n_filters]

    n_images = images.shape[0]
    n_filters = filters.shape[0]

    filtered_images = F.conv2d(images, filters)

    for i in range(n_images):

        image = images[i]

        if normalize:
            image = normalize_image(image)

        for j in range(n_filters):
            image = filtered_images[i][j]

            if normalize:
                image = normalize_image(image)

    print('filtered by the first layer:', tuple(filtered_images.shape))
    print(filtered_images[0][1][0, :5])


N_IMAGES = 5
N_FILTERS = 7

images = [image for image, label in [test_data[i] for i in range(N_IMAGES)]]
filters = model.features[0].weight.data

plot_filtered_images(images, filters, N_FILTERS)


def plot_filters(filters, normalize=True):

    filters = filters.cpu()

    n_filters = filters.shape[0]

    rows = int(np.sqrt(n_filters))
    cols = int(np.sqrt(n_filters))

    for i in range(rows*cols):

        image = filters[i]

        if normalize:
            image = normalize_image(image)

    print('filters shown:', rows * cols, ' filter 0 (H, W, C):', filters[0].permute(1, 2, 0)[0])


plot_filters(filters)
# filters.cpu() is the model's weight itself on the CPU: normalize_image rescaled the model's first filters.
print('conv1 filter 0 now spans %.4f .. %.4f' % (model.features[0].weight[0].min(), model.features[0].weight[0].max()))
