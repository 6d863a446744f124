# Source: Aakash N S (Jovian), "Deep Learning with PyTorch: Zero to GANs", lesson 5b,
#   "Classifying CIFAR10 images using ResNets, Regularization and Data Augmentation in PyTorch",
#   notebook 05b-cifar10-resnet.ipynb, as a learner exported it:
#   https://github.com/sravanneeli/PyTorch-for-Deep-Learning  05b-cifar10-resnet.ipynb
# Shrunk: no download, no torchvision: 32 training and 32 test 3x32x32 "photos" (noise around ten
# class templates, in [0, 1]) instead of CIFAR10's ImageFolder; the few torchvision pieces the
# notebook uses (ImageFolder, tt.Compose, tt.RandomCrop(padding_mode='reflect'),
# tt.RandomHorizontalFlip, tt.ToTensor, tt.Normalize) are written below in a few torch lines that
# draw their random numbers as torchvision's do (torch.randint for the crop's corner, torch.rand(1)
# for the flip). ResNet9's widths divided by 8 (64..512 -> 8..64), batch_size 256 -> 32, 2 epochs
# of one batch instead of 8 epochs (the one-cycle schedule squeezed into more Adam steps than that
# makes the train loss chaotic: PyTorch's own moves by 3e-3 when its weights are perturbed by 1e-6),
# num_workers=3 -> 0 and pin_memory dropped (CPU; worker start-up would dominate the run time).
# The plots (accuracies, losses, learning rates) are printed instead. The device lines are the
# notebook's own (the CPU here).
import os
import torch
import tarfile
import torch.nn as nn
import numpy as np
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from torch.utils.data import random_split

torch.manual_seed(0)


# --- stand-ins for the torchvision pieces the notebook uses (not part of the original) ---
class tt:
    class Compose:
        def __init__(self, transforms):
            self.transforms = transforms

        def __call__(self, img):
            for t in self.transforms:
                img = t(img)
            return img

    class RandomCrop:
        def __init__(self, size, padding=None, padding_mode='constant'):
            self.size, self.padding, self.padding_mode = size, padding, padding_mode

        def __call__(self, img):
            img = F.pad(img, [self.padding] * 4, mode=self.padding_mode)
            h, w = img.shape[-2:]
            i = torch.randint(0, h - self.size + 1, size=(1,)).item()
            j = torch.randint(0, w - self.size + 1, size=(1,)).item()
            return img[..., i:i + self.size, j:j + self.size]

    class RandomHorizontalFlip:
        def __call__(self, img):
            if torch.rand(1) < 0.5:
                return img.flip(-1)
            return img

    class ToTensor:
        def __call__(self, img):
            return img.clone()

    class Normalize:
        def __init__(self, mean, std, inplace=False):
            self.mean, self.std, self.inplace = mean, std, inplace

        def __call__(self, tensor):
            if not self.inplace:
                tensor = tensor.clone()
            mean = torch.as_tensor(self.mean, dtype=tensor.dtype).view(-1, 1, 1)
            std = torch.as_tensor(self.std, dtype=tensor.dtype).view(-1, 1, 1)
            return tensor.sub_(mean).div_(std)


class ImageFolder(Dataset):
    def __init__(self, images, targets, transform, classes):
        self.images, self.targets, self.transform, self.classes = images, targets, transform, classes

    def __getitem__(self, index):
        return self.transform(self.images[index]), int(self.targets[index])

    def __len__(self):
        return len(self.images)


classes = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']
templates = torch.rand(10, 3, 32, 32)
train_labels = torch.randint(0, 10, (32,))
train_images = (0.6 * templates[train_labels] + 0.4 * torch.rand(32, 3, 32, 32))
test_labels = torch.randint(0, 10, (32,))
test_images = (0.6 * templates[test_labels] + 0.4 * torch.rand(32, 3, 32, 32))
# --- end of the stand-ins ---

print(classes)

# Data transforms (normalization & data augmentation)
stats = ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010))  # calculate mean, standard deviation per channel link: https://forums.fast.ai/t/image-normalization-in-pytorch/7534

train_tfms = tt.Compose([tt.RandomCrop(32, padding=4, padding_mode='reflect'),
                         tt.RandomHorizontalFlip(),
                         # tt.RandomRotate
                         # tt.RandomResizedCrop(256, scale=(0.5,0.9), ratio=(1, 1)),
                         # tt.ColorJitter(brightness=0.1, contrast=0.1, saturation=0.1, hue=0.1),
                         tt.ToTensor(),
                         tt.Normalize(*stats, inplace=True)])

valid_tfms = tt.Compose([tt.ToTensor(), tt.Normalize(*stats)])

# PyTorch datasets
train_ds = ImageFolder(train_images, train_labels, train_tfms, classes)
valid_ds = ImageFolder(test_images, test_labels, valid_tfms, classes)

batch_size = 32

# PyTorch data loaders
train_dl = DataLoader(train_ds, batch_size, shuffle=True)
valid_dl = DataLoader(valid_ds, batch_size*2)


def denormalize(images, means, stds):
    means = torch.tensor(means).reshape(1, 3, 1, 1)
    stds = torch.tensor(stds).reshape(1, 3, 1, 1)
    return images * stds + means


def show_batch(dl):
    for images, labels in dl:
        denorm_images = denormalize(images, *stats)
        # (the notebook shows make_grid(denorm_images[:64], nrow=8).permute(1, 2, 0).clamp(0,1))
        print(images.shape, labels[:8])
        print(denorm_images.clamp(0, 1).mean(dim=(0, 2, 3)))
        break


show_batch(train_dl)


def get_default_device():
    if torch.cuda.is_available():
        return torch.device('cuda')
    else:
        return torch.device('cpu')


def to_device(data, device):
    if isinstance(data, (list, tuple)):
        return [to_device(x, device) for x in data]
    return data.to(device, non_blocking=True)


class DeviceDataLoader():
    def __init__(self, dl, device):
        self.dl = dl
        self.device = device

    def __iter__(self):
        for b in self.dl:
            yield to_device(b, self.device)

    def __len__(self):
        return len(self.dl)


device = get_default_device()
print(device)

train_dl = DeviceDataLoader(train_dl, device)
valid_dl = DeviceDataLoader(valid_dl, device)


def accuracy(outputs, labels):
    _, preds = torch.max(outputs, dim=1)
    return torch.tensor(torch.sum(preds == labels).item() / len(preds))


class ImageClassificationBase(nn.Module):
    def training_step(self, batch):
        images, labels = batch
        out = self(images)
        loss = F.cross_entropy(out, labels)
        return loss

    def validation_step(self, batch):
        images, labels = batch
        out = self(images)
        loss = F.cross_entropy(out, labels)
        acc = accuracy(out, labels)
        return {'val_loss': loss, 'val_acc': acc}

    def validation_epoch_end(self, outputs):
        batch_losses = [x['val_loss'] for x in outputs]
        epoch_loss = torch.stack(batch_losses).mean()
        batch_accs = [ x['val_acc'] for x in outputs]
        epoch_acc = torch.stack(batch_accs).mean()
        return {'val_loss': epoch_loss, 'val_acc': epoch_acc}

    def epoch_end(self, epoch, result):
        print(f"Epoch [{epoch}], train_loss: {result['train_loss']:.4f}, val_loss: {result['val_loss']:.4f}, val_acc: {result['val_acc']:.4f}")


def conv_block(in_channels, out_channels, pool=False):
    layers = [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
              nn.BatchNorm2d(out_channels),
              nn.ReLU(inplace=True)]
    if pool: layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class ResNet9(ImageClassificationBase):
    def __init__(self, in_channels, num_classes):
        super().__init__()

        self.conv1 = conv_block(in_channels, 8)
        self.conv2 = conv_block(8, 16, pool=True)
        self.res1 = nn.Sequential(conv_block(16, 16), conv_block(16, 16))

        self.conv3 = conv_block(16, 32, pool=True)
        self.conv4 = conv_block(32, 64, pool=True)
        self.res2 = nn.Sequential(conv_block(64, 64), conv_block(64, 64))

        self.classifier = nn.Sequential(nn.MaxPool2d(4),
                                        nn.Flatten(),
                                        nn.Dropout(0.2),
                                        nn.Linear(64, num_classes))

    def forward(self, xb):
        out = self.conv1(xb)
        out = self.conv2(out)
        out = self.res1(out) + out
        out = self.conv3(out)
        out = self.conv4(out)
        out = self.res2(out) + out
        out = self.classifier(out)
        return out


model = to_device(ResNet9(3, 10), device)
print(model)


@torch.no_grad()
def evaluate(model, val_loader):
    model.eval()
    outputs = [model.validation_step(batch) for batch in val_loader]
    return model.validation_epoch_end(outputs)


def get_lr(optimizer):
    for param_group in optimizer.param_groups:
        return param_group['lr']


def fit_one_cycle(epochs, max_lr, model, train_loader, val_loader,
                    weight_decay=0, grad_clip=None, opt_func=torch.optim.SGD):
    torch.cuda.empty_cache()
    history = []

    # Set up custom optimizer with weight decay
    optimizer = opt_func(model.parameters(), max_lr, weight_decay=weight_decay)
    # Set up one-cycle learning rate scheduler
    sched = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr, epochs=epochs,
                                                steps_per_epoch=len(train_loader))

    for epoch in range(epochs):
        # Training Phase
        model.train()
        train_losses = []
        lrs = []
        for batch in train_loader:
            loss = model.training_step(batch)
            train_losses.append(loss)
            loss.backward()

            # Gradient clipping
            if grad_clip:
                nn.utils.clip_grad_value_(model.parameters(), grad_clip)

            optimizer.step()
            optimizer.zero_grad()

            # Record & Update Learning Rate
            lrs.append(get_lr(optimizer))
            sched.step()

        # Validation phase
        result = evaluate(model, val_loader)
        result['train_loss'] = torch.stack(train_losses).mean().item()
        result['lrs'] = lrs
        model.epoch_end(epoch, result)
        history.append(result)
    return history


history = [evaluate(model, valid_dl)]
print(history)

epochs = 2
max_lr = 0.01
grad_clip = 0.1
weight_decay = 1e-4
opt_func = torch.optim.Adam

history += fit_one_cycle(epochs, max_lr, model, train_dl, valid_dl,
                             grad_clip=grad_clip,
                             weight_decay=weight_decay,
                             opt_func=opt_func)


def plot_accuracies(history):
    accuracies = [x['val_acc'] for x in history]
    print('accuracies', accuracies)  # (the notebook plots them)


plot_accuracies(history)


def plot_losses(history):
    train_losses = [x.get('train_loss') for x in history]
    val_losses = [x['val_loss'] for x in history]
    print('train_losses', train_losses)  # (the notebook plots them)
    print('val_losses', val_losses)


plot_losses(history)


def plot_lrs(history):
    lrs = np.concatenate([x.get('lrs', []) for x in history])
    print('lrs', np.round(lrs, 6).tolist())  # (the notebook plots them)


plot_lrs(history)


def predict_image(img, model):
    # Convert to a batch of 1
    xb = to_device(img.unsqueeze(0), device)
    # Get predictions from model
    yb = model(xb)
    # Pick index with highest probability
    _, preds  = torch.max(yb, dim=1)
    # Retrieve the class label
    return train_ds.classes[preds[0].item()]


img, label = valid_ds[0]
print(img.permute(1, 2, 0).clamp(0, 1).shape)
print('Label:', train_ds.classes[label], ', Predicted:', predict_image(img, model))

img, label = valid_ds[10]
print('Label:', valid_ds.classes[label], ', Predicted:', predict_image(img, model))

img, label = valid_ds[31]
print('Label:', train_ds.classes[label], ', Predicted:', predict_image(img, model))
