# Source: Ben Trevett, "PyTorch Image Classification", notebook 4 (VGG): a VGG11-BN built from its config
# list, the "pretrained" model's head swapped (Sequential item assignment) and its state_dict loaded, the
# LR finder (an _LRScheduler subclass, initial weights saved and restored with torch.save/torch.load),
# discriminative learning rates (parameter groups), the training loop with calculate_accuracy, the
# most-confident mistakes, the representations and the first layer's filters applied with F.conv2d.
#   https://github.com/bentrevett/pytorch-image-classification  4_vgg.ipynb
# Shrunk: CIFAR10 replaced by 96+32 synthetic 32x32 images (a colour per class plus noise) in a Dataset with
# the same .data/.targets/.classes/.transform; torchvision's transforms by the few of them used here written
# on tensors (RandomRotation and the resize to 224 dropped); torchvision's pretrained vgg11_bn by the
# notebook's own VGG with 1000 outputs (untrained; so the load_state_dict is the notebook's); the configs'
# channels divided by 16 and the classifier's 4096 units by 32; batches of 16, 6 LR-finder steps, 2 epochs;
# tqdm.notebook as plain tqdm (it writes to stderr); the epoch time left out of the epoch line (a timing);
# sklearn's confusion matrix, PCA and t-SNE and the plots dropped, what they show printed. Files go to a
# temporary directory.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import _LRScheduler
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


class VGG(nn.Module):
    def __init__(self, features, output_dim):
        super().__init__()

        self.features = features

        self.avgpool = nn.AdaptiveAvgPool2d(7)

        self.classifier = nn.Sequential(
            nn.Linear(32 * 7 * 7, 128),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(128, 128),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(128, output_dim),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        h = x.view(x.shape[0], -1)
        x = self.classifier(h)
        return x, h


vgg11_config = [4, 'M', 8, 'M', 16, 16, 'M', 32, 32, 'M', 32, 32, 'M']

vgg13_config = [4, 4, 'M', 8, 8, 'M', 16, 16, 'M', 32, 32, 'M', 32,
                32, 'M']

vgg16_config = [4, 4, 'M', 8, 8, 'M', 16, 16, 16, 'M', 32, 32, 32,
                'M', 32, 32, 32, 'M']

vgg19_config = [4, 4, 'M', 8, 8, 'M', 16, 16, 16, 16, 'M', 32, 32,
                32, 32, 'M', 32, 32, 32, 32, 'M']


def get_vgg_layers(config, batch_norm):

    layers = []
    in_channels = 3

    for c in config:
        assert c == 'M' or isinstance(c, int)
        if c == 'M':
            layers += [nn.MaxPool2d(kernel_size=2)]
        else:
            conv2d = nn.Conv2d(in_channels, c, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = c

    return nn.Sequential(*layers)


vgg11_layers = get_vgg_layers(vgg11_config, batch_norm=True)

print(vgg11_layers)

OUTPUT_DIM = 10

model = VGG(vgg11_layers, OUTPUT_DIM)

print(model)

# pretrained_model = models.vgg11_bn(pretrained=True): the same architecture, 1000 ImageNet classes.
pretrained_model = VGG(get_vgg_layers(vgg11_config, batch_norm=True), 1000)

print(pretrained_model.classifier[-1])

IN_FEATURES = pretrained_model.classifier[-1].in_features

final_fc = nn.Linear(IN_FEATURES, OUTPUT_DIM)

pretrained_model.classifier[-1] = final_fc

print(pretrained_model.classifier)

print(model.load_state_dict(pretrained_model.state_dict()))


def count_parameters(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


print(f'The model has {count_parameters(model):,} trainable parameters')

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
print('first validation indices:', valid_data.indices[:8])


def normalize_image(image):
    image_min = image.min()
    image_max = image.max()
    image.clamp_(min=image_min, max=image_max)
    image.add_(-image_min).div_(image_max - image_min + 1e-5)
    return image


N_IMAGES = 25

images, labels = zip(*[(image, label) for image, label in
                       [train_data[i] for i in range(N_IMAGES)]])

classes = test_data.classes

# plot_images(images, labels, classes): the titles, and the range the images are shown in.
print([classes[label] for label in labels[:8]])
image = normalize_image(images[0].clone())
print(f'normalized image range: {image.min().item():.4f} .. {image.max().item():.4f}')

BATCH_SIZE = 16

train_iterator = data.DataLoader(train_data,
                                 shuffle=True,
                                 batch_size=BATCH_SIZE)

valid_iterator = data.DataLoader(valid_data,
                                 batch_size=BATCH_SIZE)

test_iterator = data.DataLoader(test_data,
                                batch_size=BATCH_SIZE)

START_LR = 1e-7

optimizer = optim.Adam(model.parameters(), lr=START_LR)

device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

criterion = nn.CrossEntropyLoss()

model = model.to(device)
criterion = criterion.to(device)


class LRFinder:
    def __init__(self, model, optimizer, criterion, device):

        self.optimizer = optimizer
        self.model = model
        self.criterion = criterion
        self.device = device

        torch.save(model.state_dict(), 'init_params.pt')

    def range_test(self, iterator, end_lr=10, num_iter=100,
                   smooth_f=0.05, diverge_th=5):

        lrs = []
        losses = []
        best_loss = float('inf')

        lr_scheduler = ExponentialLR(self.optimizer, end_lr, num_iter)

        iterator = IteratorWrapper(iterator)

        for iteration in range(num_iter):

            loss = self._train_batch(iterator)

            lrs.append(lr_scheduler.get_last_lr()[0])

            # update lr
            lr_scheduler.step()

            if iteration > 0:
                loss = smooth_f * loss + (1 - smooth_f) * losses[-1]

            if loss < best_loss:
                best_loss = loss

            losses.append(loss)

            if loss > diverge_th * best_loss:
                print("Stopping early, the loss has diverged")
                break

        # reset model to initial parameters
        model.load_state_dict(torch.load('init_params.pt'))

        return lrs, losses

    def _train_batch(self, iterator):

        self.model.train()

        self.optimizer.zero_grad()

        x, y = iterator.get_batch()

        x = x.to(self.device)
        y = y.to(self.device)

        y_pred, _ = self.model(x)

        loss = self.criterion(y_pred, y)

        loss.backward()

        self.optimizer.step()

        return loss.item()


class ExponentialLR(_LRScheduler):
    def __init__(self, optimizer, end_lr, num_iter, last_epoch=-1):
        self.end_lr = end_lr
        self.num_iter = num_iter
        super(ExponentialLR, self).__init__(optimizer, last_epoch)

    def get_lr(self):
        curr_iter = self.last_epoch
        r = curr_iter / self.num_iter
        return [base_lr * (self.end_lr / base_lr) ** r for base_lr in
                self.base_lrs]


class IteratorWrapper:
    def __init__(self, iterator):
        self.iterator = iterator
        self._iterator = iter(iterator)

    def __next__(self):
        try:
            inputs, labels = next(self._iterator)
        except StopIteration:
            self._iterator = iter(self.iterator)
            inputs, labels, *_ = next(self._iterator)

        return inputs, labels

    def get_batch(self):
        return next(self)


END_LR = 10
NUM_ITER = 6

lr_finder = LRFinder(model, optimizer, criterion, device)
lrs, losses = lr_finder.range_test(train_iterator, END_LR, NUM_ITER)

# plot_lr_finder(lrs, losses, skip_start=10, skip_end=20) plots these.
print('lrs:   ', [f'{lr:.1e}' for lr in lrs])
print('losses:', [f'{loss:.3f}' for loss in losses[:5]])
print('restored weights equal the initial ones:',
      torch.equal(model.features[0].weight, torch.load('init_params.pt')['features.0.weight']))

FOUND_LR = 5e-4

params = [
          {'params': model.features.parameters(), 'lr': FOUND_LR / 10},
          {'params': model.classifier.parameters()}
         ]

optimizer = optim.Adam(params, lr=FOUND_LR)
print('group learning rates:', [group['lr'] for group in optimizer.param_groups],
      ' sizes:', [len(group['params']) for group in optimizer.param_groups])


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
        torch.save(model.state_dict(), 'tut4-model.pt')

    end_time = time.monotonic()

    epoch_mins, epoch_secs = epoch_time(start_time, end_time)

    print(f'Epoch: {epoch+1:02}')
    print(f'\tTrain Loss: {train_loss:.3f} | Train Acc: {train_acc*100:.2f}%')
    print(f'\t Val. Loss: {valid_loss:.3f} |  Val. Acc: {valid_acc*100:.2f}%')

model.load_state_dict(torch.load('tut4-model.pt'))

test_loss, test_acc = evaluate(model, test_iterator, criterion, device)

print(f'Test Loss: {test_loss:.3f} | Test Acc: {test_acc*100:.2f}%')


def get_predictions(model, iterator):

    model.eval()

    images = []
    labels = []
    probs = []

    with torch.no_grad():

        for (x, y) in tqdm(iterator):

            x = x.to(device)

            y_pred, _ = model(x)

            y_prob = F.softmax(y_pred, dim=-1)

            images.append(x.cpu())
            labels.append(y.cpu())
            probs.append(y_prob.cpu())

    images = torch.cat(images, dim=0)
    labels = torch.cat(labels, dim=0)
    probs = torch.cat(probs, dim=0)

    return images, labels, probs


images, labels, probs = get_predictions(model, test_iterator)

pred_labels = torch.argmax(probs, 1)

corrects = torch.eq(labels, pred_labels)
print(f'correct test predictions: {corrects.sum().item()} of {len(corrects)}')

incorrect_examples = []

for image, label, prob, correct in zip(images, labels, probs, corrects):
    if not correct:
        incorrect_examples.append((image, label, prob))

incorrect_examples.sort(reverse=True,
                        key=lambda x: torch.max(x[2], dim=0).values)

# plot_most_incorrect(incorrect_examples, classes, N_IMAGES): the title of the most confident mistake (the next
# ones are as confident to 1e-5 after these few steps: their order is left to rounding).
for i in range(1):
    image, true_label, probs = incorrect_examples[i]
    image = image.permute(1, 2, 0)
    true_prob = probs[true_label]
    incorrect_prob, incorrect_label = torch.max(probs, dim=0)
    true_class = classes[true_label]
    incorrect_class = classes[incorrect_label]
    image = normalize_image(image)
    print(f'true label: {true_class} ({true_prob:.3f}) | '
          f'pred label: {incorrect_class} ({incorrect_prob:.3f})')


def get_representations(model, iterator):

    model.eval()

    outputs = []
    labels = []

    with torch.no_grad():

        for (x, y) in tqdm(iterator):

            x = x.to(device)

            y_pred, _ = model(x)

            outputs.append(y_pred.cpu())
            labels.append(y)

    outputs = torch.cat(outputs, dim=0)
    labels = torch.cat(labels, dim=0)

    return outputs, labels


outputs, labels = get_representations(model, valid_iterator)
print('representations:', tuple(outputs.shape), tuple(labels.shape))

N_IMAGES = 5
N_FILTERS = 7

images = [image for image, label in [test_data[i] for i in range(N_IMAGES)]]
filters = model.features[0].weight.data

# plot_filtered_images(images, filters, N_FILTERS): the filtered images it shows.
images = torch.cat([i.unsqueeze(0) for i in images], dim=0).cpu()
filters = filters.cpu()[:N_FILTERS]
filtered_images = F.conv2d(images, filters)
print('filtered images:', tuple(filtered_images.shape))
print(normalize_image(filtered_images[0][0])[0, :6])
# plot_filters(filters)
print(normalize_image(filters[0].clone()).permute(1, 2, 0)[0])
