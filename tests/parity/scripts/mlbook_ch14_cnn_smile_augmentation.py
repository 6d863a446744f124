# Source: Sebastian Raschka, Yuxi (Hayden) Liu, Vahid Mirjalili, "Machine Learning with PyTorch and
# Scikit-Learn", chapter 14 ("Classifying Images with Deep Convolutional Neural Networks"):
#   https://github.com/rasbt/machine-learning-book  ch14/ch14_part1.py (reading an image, L2 penalty,
#   the loss functions) and ch14/ch14_part2.py (data augmentation, the CelebA smile classifier)
# Shrunk: torchvision is not installed: the transforms the book uses are written out below from
# torchvision's tensor code paths (torchvision/transforms/_functional_tensor.py, functional.py,
# transforms.py: crop, hflip, adjust_contrast/brightness with _blend, center_crop, resize through
# interpolate(antialias=True), RandomCrop.get_params, RandomHorizontalFlip, ConvertImageDtype), working on
# uint8 CHW tensors as torchvision.io.read_image returns them, so ToTensor (PIL only) becomes
# ConvertImageDtype(torch.float) at the same place in the pipeline; CelebA is a Dataset of 128 synthetic
# 3x60x50 uint8 faces (not 218x178) with 40 attributes, a brighter "mouth" where attribute 18 (smiling)
# is set; crops 50x50 (not 178), resizes to 32x32 (not 64); the CNN has 8/16/32/64 channels (not
# 32/64/128/256) and AvgPool2d(kernel_size=4) (not 8, for the smaller input); 64/32/32 images for
# train/valid/test, 3 epochs (not 30); device "cpu" (not "cuda:0"); the plots are printed as numbers;
# part 1's NumPy-only conv1d/conv2d and its MNIST CNN are left out.
import numbers
import types

import torch
import torch.nn as nn
import numpy as np
from torch.nn.functional import interpolate
from torch.utils.data import Dataset
from torch.utils.data import DataLoader
from torch.utils.data import Subset


# ---- torchvision.transforms, tensor code paths (torchvision/transforms/_functional_tensor.py)
def get_dimensions(img):
    channels = 1 if img.ndim == 2 else img.shape[-3]
    height, width = img.shape[-2:]
    return [channels, height, width]


def _max_value(dtype):
    if dtype == torch.uint8:
        return 255
    else:
        return 1


def convert_image_dtype(image, dtype=torch.float):
    if image.dtype == dtype:
        return image
    # int to float
    input_max = float(_max_value(image.dtype))
    image = image.to(dtype)
    return image / input_max


def hflip(img):
    return img.flip(-1)


def crop(img, top, left, height, width):
    _, h, w = get_dimensions(img)
    right = left + width
    bottom = top + height
    return img[..., top:bottom, left:right]


def rgb_to_grayscale(img, num_output_channels=1):
    r, g, b = img.unbind(dim=-3)
    # This implementation closely follows the TF one:
    l_img = (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype)
    l_img = l_img.unsqueeze(dim=-3)
    return l_img


def _blend(img1, img2, ratio):
    ratio = float(ratio)
    bound = _max_value(img1.dtype)
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0, bound).to(img1.dtype)


def adjust_brightness(img, brightness_factor):
    return _blend(img, torch.zeros_like(img), brightness_factor)


def adjust_contrast(img, contrast_factor):
    c = get_dimensions(img)[0]
    dtype = img.dtype if torch.is_floating_point(img) else torch.float32
    if c == 3:
        mean = torch.mean(rgb_to_grayscale(img).to(dtype), dim=(-3, -2, -1), keepdim=True)
    else:
        mean = torch.mean(img.to(dtype), dim=(-3, -2, -1), keepdim=True)

    return _blend(img, mean, contrast_factor)


def _cast_squeeze_in(img, req_dtypes):
    need_squeeze = False
    # make image NCHW
    if img.ndim < 4:
        img = img.unsqueeze(dim=0)
        need_squeeze = True

    out_dtype = img.dtype
    need_cast = False
    if out_dtype not in req_dtypes:
        need_cast = True
        req_dtype = req_dtypes[0]
        img = img.to(req_dtype)
    return img, need_cast, need_squeeze, out_dtype


def _cast_squeeze_out(img, need_cast, need_squeeze, out_dtype):
    if need_squeeze:
        img = img.squeeze(dim=0)

    if need_cast:
        if out_dtype in (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64):
            # it is better to round before cast
            img = torch.round(img)
        img = img.to(out_dtype)

    return img


def resize(img, size, interpolation="bilinear", antialias=True):
    if isinstance(size, tuple):
        size = list(size)

    img, need_cast, need_squeeze, out_dtype = _cast_squeeze_in(img, [torch.float32, torch.float64])

    # Define align_corners to avoid warnings
    align_corners = False if interpolation in ["bilinear", "bicubic"] else None

    img = interpolate(img, size=size, mode=interpolation, align_corners=align_corners, antialias=antialias)

    img = _cast_squeeze_out(img, need_cast=need_cast, need_squeeze=need_squeeze, out_dtype=out_dtype)

    return img


# (torchvision/transforms/functional.py)
def center_crop(img, output_size):
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])

    _, image_height, image_width = get_dimensions(img)
    crop_height, crop_width = output_size

    if crop_width == image_width and crop_height == image_height:
        return img

    crop_top = int(round((image_height - crop_height) / 2.0))
    crop_left = int(round((image_width - crop_width) / 2.0))
    return crop(img, crop_top, crop_left, crop_height, crop_width)


# (torchvision/transforms/transforms.py)
class Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img


class ConvertImageDtype(torch.nn.Module):
    def __init__(self, dtype):
        super().__init__()
        self.dtype = dtype

    def forward(self, image):
        return convert_image_dtype(image, self.dtype)


class Resize(torch.nn.Module):
    def __init__(self, size, antialias=True):
        super().__init__()
        self.size = size
        self.antialias = antialias

    def forward(self, img):
        return resize(img, self.size, "bilinear", self.antialias)


class CenterCrop(torch.nn.Module):
    def __init__(self, size):
        super().__init__()
        self.size = tuple(size)

    def forward(self, img):
        return center_crop(img, self.size)


class RandomCrop(torch.nn.Module):
    @staticmethod
    def get_params(img, output_size):
        _, h, w = get_dimensions(img)
        th, tw = output_size

        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")

        if w == tw and h == th:
            return 0, 0, h, w

        i = torch.randint(0, h - th + 1, size=(1,)).item()
        j = torch.randint(0, w - tw + 1, size=(1,)).item()
        return i, j, th, tw

    def __init__(self, size):
        super().__init__()
        self.size = tuple(size)

    def forward(self, img):
        i, j, h, w = self.get_params(img, self.size)

        return crop(img, i, j, h, w)


class RandomHorizontalFlip(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, img):
        if torch.rand(1) < self.p:
            return hflip(img)
        return img


transforms = types.SimpleNamespace(
    Compose=Compose, ConvertImageDtype=ConvertImageDtype, Resize=Resize, CenterCrop=CenterCrop,
    RandomCrop=RandomCrop, RandomHorizontalFlip=RandomHorizontalFlip,
    functional=types.SimpleNamespace(crop=crop, hflip=hflip, adjust_contrast=adjust_contrast,
                                     adjust_brightness=adjust_brightness, center_crop=center_crop,
                                     resize=resize))


# ---- torchvision.datasets.CelebA stand-in: synthetic uint8 faces, 40 binary attributes
class CelebA(Dataset):
    def __init__(self, n, transform=None, target_transform=None):
        self.attr = torch.randint(0, 2, (n, 40))
        self.images = torch.randint(0, 200, (n, 3, 60, 50), dtype=torch.uint8)
        self.images[self.attr[:, 18] == 1, :, 40:48, 15:35] += 50
        self.transform = transform
        self.target_transform = target_transform

    def __getitem__(self, index):
        X = self.images[index]
        target = self.attr[index, :]
        if self.transform is not None:
            X = self.transform(X)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return X, target

    def __len__(self):
        return len(self.attr)


# ---- part 1: reading an image file (torchvision.io.read_image returns a uint8 CHW tensor)
img = torch.randint(0, 256, (3, 120, 110), dtype=torch.uint8)

print('Image shape:', img.shape)
print('Number of channels:', img.shape[0])
print('Image data type:', img.dtype)
print(img[:, 100:102, 100:102])

# ---- regularizing an NN with L2 regularization and dropout
loss_func = nn.BCELoss()
loss = loss_func(torch.tensor([0.9]), torch.tensor([1.0]))
l2_lambda = 0.001

conv_layer = nn.Conv2d(in_channels=3,
                       out_channels=5,
                       kernel_size=5)

l2_penalty = l2_lambda * sum([(p**2).sum() for p in conv_layer.parameters()])
loss_with_penalty = loss + l2_penalty
print(loss_with_penalty)

linear_layer = nn.Linear(10, 16)
l2_penalty = l2_lambda * sum([(p**2).sum() for p in linear_layer.parameters()])
loss_with_penalty = loss + l2_penalty
print(loss_with_penalty)

# ---- loss functions for classification
####### Binary Cross-entropy
logits = torch.tensor([0.8])
probas = torch.sigmoid(logits)
target = torch.tensor([1.0])

bce_loss_fn = nn.BCELoss()
bce_logits_loss_fn = nn.BCEWithLogitsLoss()

print(f'BCE (w Probas): {bce_loss_fn(probas, target):.4f}')
print(f'BCE (w Logits): {bce_logits_loss_fn(logits, target):.4f}')

####### Categorical Cross-entropy
logits = torch.tensor([[1.5, 0.8, 2.1]])
probas = torch.softmax(logits, dim=1)
target = torch.tensor([2])

cce_loss_fn = nn.NLLLoss()
cce_logits_loss_fn = nn.CrossEntropyLoss()

print(f'CCE (w Logits): {cce_logits_loss_fn(logits, target):.4f}')
print(f'CCE (w Probas): {cce_loss_fn(torch.log(probas), target):.4f}')

# ---- part 2: loading the CelebA dataset
torch.manual_seed(1)
celeba_train_dataset = CelebA(64)
celeba_valid_dataset = CelebA(32)
celeba_test_dataset = CelebA(32)

print('Train set:', len(celeba_train_dataset))
print('Validation set:', len(celeba_valid_dataset))
print('Test set:', len(celeba_test_dataset))


def show(title, img):  # the notebook draws each image: its shape, dtype and a few numbers instead
    print(title, tuple(img.shape), img.dtype, img.float().mean().item(), img[0, -1, :6].tolist())


## 1. Crop to a bounding-box
img, attr = celeba_train_dataset[0]
show('Crop to a bounding-box', img)
img_cropped = transforms.functional.crop(img, 12, 5, 32, 32)
show('', img_cropped)

## 2. Flipping (horizontally)
img, attr = celeba_train_dataset[1]
show('Flip (horizontal)', img)
img_flipped = transforms.functional.hflip(img)
show('', img_flipped)

## 3. Adjust contrast
img, attr = celeba_train_dataset[2]
show('Adjust constrast', img)
img_adj_contrast = transforms.functional.adjust_contrast(img, contrast_factor=2)
show('', img_adj_contrast)

## 4. Adjust brightness
img, attr = celeba_train_dataset[3]
show('Adjust brightness', img)
img_adj_brightness = transforms.functional.adjust_brightness(img, brightness_factor=1.3)
show('', img_adj_brightness)

## 5. Center crop and resize
img, attr = celeba_train_dataset[4]
show('Center crop\nand resize', img)
img_center_crop = transforms.functional.center_crop(img, [round(0.7*60), round(0.7*50)])
img_resized = transforms.functional.resize(img_center_crop, size=(60, 50))
show('', img_center_crop)
show('', img_resized)

torch.manual_seed(1)

for i, (img, attr) in enumerate(celeba_train_dataset):
    show('Orig.', img)

    img_transform = transforms.Compose([transforms.RandomCrop([50, 50])])
    img_cropped = img_transform(img)
    show('Step 1: Random crop', img_cropped)

    img_transform = transforms.Compose([transforms.RandomHorizontalFlip()])
    img_flip = img_transform(img_cropped)
    show('Step 2: Random flip', img_flip)

    img_resized = transforms.functional.resize(img_flip, size=(32, 32))
    show('Step 3: Resize', img_resized)

    if i == 2:
        break

get_smile = lambda attr: attr[18]

transform_train = transforms.Compose([
    transforms.RandomCrop([50, 50]),
    transforms.RandomHorizontalFlip(),
    transforms.Resize([32, 32]),
    transforms.ConvertImageDtype(torch.float),
])

transform = transforms.Compose([
    transforms.CenterCrop([50, 50]),
    transforms.Resize([32, 32]),
    transforms.ConvertImageDtype(torch.float),
])

celeba_train_dataset.transform = transform_train
celeba_train_dataset.target_transform = get_smile

torch.manual_seed(1)
data_loader = DataLoader(celeba_train_dataset, batch_size=2)

num_epochs = 5
for j in range(num_epochs):
    img_batch, label_batch = next(iter(data_loader))
    img = img_batch[0]
    print(f'Epoch {j}:', img.permute(1, 2, 0)[0, :3], label_batch)
    img = img_batch[1]
    print(img.permute(1, 2, 0).sum(dim=(0, 1)))

celeba_valid_dataset.transform = transform
celeba_valid_dataset.target_transform = get_smile
celeba_test_dataset.transform = transform
celeba_test_dataset.target_transform = get_smile

celeba_train_dataset = Subset(celeba_train_dataset, torch.arange(64))
celeba_valid_dataset = Subset(celeba_valid_dataset, torch.arange(32))

print('Train set:', len(celeba_train_dataset))
print('Validation set:', len(celeba_valid_dataset))

batch_size = 32

torch.manual_seed(1)
train_dl = DataLoader(celeba_train_dataset, batch_size, shuffle=True)
valid_dl = DataLoader(celeba_valid_dataset, batch_size, shuffle=False)
test_dl = DataLoader(celeba_test_dataset, batch_size, shuffle=False)

# ---- training a CNN smile classifier
model = nn.Sequential()

model.add_module('conv1', nn.Conv2d(in_channels=3, out_channels=8, kernel_size=3, padding=1))
model.add_module('relu1', nn.ReLU())
model.add_module('pool1', nn.MaxPool2d(kernel_size=2))
model.add_module('dropout1', nn.Dropout(p=0.5))

model.add_module('conv2', nn.Conv2d(in_channels=8, out_channels=16, kernel_size=3, padding=1))
model.add_module('relu2', nn.ReLU())
model.add_module('pool2', nn.MaxPool2d(kernel_size=2))
model.add_module('dropout2', nn.Dropout(p=0.5))

model.add_module('conv3', nn.Conv2d(in_channels=16, out_channels=32, kernel_size=3, padding=1))
model.add_module('relu3', nn.ReLU())
model.add_module('pool3', nn.MaxPool2d(kernel_size=2))

model.add_module('conv4', nn.Conv2d(in_channels=32, out_channels=64, kernel_size=3, padding=1))
model.add_module('relu4', nn.ReLU())

x = torch.ones((4, 3, 32, 32))
print(model(x).shape)

model.add_module('pool4', nn.AvgPool2d(kernel_size=4))
model.add_module('flatten', nn.Flatten())

x = torch.ones((4, 3, 32, 32))
print(model(x).shape)

model.add_module('fc', nn.Linear(64, 1))
model.add_module('sigmoid', nn.Sigmoid())

x = torch.ones((4, 3, 32, 32))
print(model(x).shape)

print(model)

device = torch.device("cpu")
model = model.to(device)

loss_fn = nn.BCELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)


def train(model, num_epochs, train_dl, valid_dl):
    loss_hist_train = [0] * num_epochs
    accuracy_hist_train = [0] * num_epochs
    loss_hist_valid = [0] * num_epochs
    accuracy_hist_valid = [0] * num_epochs
    for epoch in range(num_epochs):
        model.train()
        for x_batch, y_batch in train_dl:
            x_batch = x_batch.to(device)
            y_batch = y_batch.to(device)
            pred = model(x_batch)[:, 0]
            loss = loss_fn(pred, y_batch.float())
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            loss_hist_train[epoch] += loss.item()*y_batch.size(0)
            is_correct = ((pred>=0.5).float() == y_batch).float()
            accuracy_hist_train[epoch] += is_correct.sum().cpu()

        loss_hist_train[epoch] /= len(train_dl.dataset)
        accuracy_hist_train[epoch] /= len(train_dl.dataset)

        model.eval()
        with torch.no_grad():
            for x_batch, y_batch in valid_dl:
                x_batch = x_batch.to(device)
                y_batch = y_batch.to(device)
                pred = model(x_batch)[:, 0]
                loss = loss_fn(pred, y_batch.float())
                loss_hist_valid[epoch] += loss.item()*y_batch.size(0)
                is_correct = ((pred>=0.5).float() == y_batch).float()
                accuracy_hist_valid[epoch] += is_correct.sum().cpu()

        loss_hist_valid[epoch] /= len(valid_dl.dataset)
        accuracy_hist_valid[epoch] /= len(valid_dl.dataset)

        print(f'Epoch {epoch+1} accuracy: {accuracy_hist_train[epoch]:.4f} val_accuracy: {accuracy_hist_valid[epoch]:.4f}')
    return loss_hist_train, loss_hist_valid, accuracy_hist_train, accuracy_hist_valid


torch.manual_seed(1)
num_epochs = 3
hist = train(model, num_epochs, train_dl, valid_dl)
print(hist[0], hist[1])  # the notebook plots the loss curves

accuracy_test = 0

model.eval()
with torch.no_grad():
    for x_batch, y_batch in test_dl:
        x_batch = x_batch.to(device)
        y_batch = y_batch.to(device)
        pred = model(x_batch)[:, 0]
        is_correct = ((pred>=0.5).float() == y_batch).float()
        accuracy_test += is_correct.sum().cpu()

accuracy_test /= len(test_dl.dataset)

print(f'Test accuracy: {accuracy_test:.4f}')

pred = model(x_batch)[:, 0] * 100

for j in range(10, 20):
    if y_batch[j] == 1:
        label = 'Smile'
    else:
        label = 'Not Smile'
    print(f'GT: {label:s}\nPr(Smile)={pred[j]:.0f}%')
