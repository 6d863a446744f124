# Source: Aakash N S (Jovian), "Deep Learning with PyTorch: Zero to GANs", lesson 6b,
#   "Generative Adverserial Networks in PyTorch" (anime faces DCGAN), notebook 06b-anime-dcgan.ipynb,
#   as a learner exported it: https://github.com/aash07/PyTorch  06b-anime-dcgan.ipynb
# Shrunk: no Kaggle download, no torchvision, no jovian/tqdm/cv2: 8 synthetic 3x64x64 "faces" in
# [0, 1] (noise around two templates), normalized with the notebook's stats by the one line that
# T.Normalize computes, in a TensorDataset instead of ImageFolder (T.Resize(64)/T.CenterCrop(64)
# are no-ops on 64x64 images); both networks' widths divided by 8 (64..512 -> 8..64), latent_size
# 128 -> 16, batch_size 128 -> 8, 2 epochs of 1 batch instead of 25 epochs (Adam's first step is
# about lr * sign(grad), so float32 rounding that flips the sign of a near-zero gradient moves a
# weight by 2 * lr: more steps let such flips move the losses past the tolerance, in PyTorch itself
# when its weights are perturbed by 1e-6), num_workers=3 -> 0 and pin_memory dropped (CPU). save_image/make_grid and the plots are replaced by prints of the
# images' shapes and means (no files are written; the checkpoints are not saved). The device lines
# are the notebook's own (the CPU here).
import os

project_name = '06b-anime-dcgan'

from torch.utils.data import DataLoader, TensorDataset

image_size = 64
batch_size = 8
stats = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)

import torch

torch.manual_seed(0)
# --- stand-in for ImageFolder(DATA_DIR, transform=T.Compose([..., T.ToTensor(), T.Normalize(*stats)])) ---
templates = torch.rand(2, 3, image_size, image_size)
pixels = 0.7 * templates[torch.randint(0, 2, (8,))] + 0.3 * torch.rand(8, 3, image_size, image_size)
mean, std = torch.tensor(stats[0]).view(-1, 1, 1), torch.tensor(stats[1]).view(-1, 1, 1)
train_ds = TensorDataset((pixels - mean) / std, torch.zeros(8, dtype=torch.long))
# --- end of the stand-in ---
train_dl = DataLoader(train_ds, batch_size, shuffle=True)


def denorm(img_tensors):
    return img_tensors * stats[1][0] + stats[0][0]


def show_images(images, nmax=64):
    # (the notebook shows make_grid(denorm(images.detach()[:nmax]), nrow=8).permute(1, 2, 0))
    print(images.shape, denorm(images.detach()[:nmax]).mean().item())


def show_batch(dl, nmax=64):
    for images, _ in dl:
        show_images(images, nmax)
        break


show_batch(train_dl)


def get_default_device():
    """Pick GPU if available, else CPU"""
    if torch.cuda.is_available():
        return torch.device('cuda')
    else:
        return torch.device('cpu')

def to_device(data, device):
    """Move tensor(s) to chosen device"""
    if isinstance(data, (list,tuple)):
        return [to_device(x, device) for x in data]
    return data.to(device, non_blocking=True)


class DeviceDataLoader():
    """Wrap a dataloader to move data to a device"""
    def __init__(self, dl, device):
        self.dl = dl
        self.device = device

    def __iter__(self):
        """Yield a batch of data after moving it to device"""
        for b in self.dl:
            yield to_device(b, self.device)

    def __len__(self):
        """Number of batches"""
        return len(self.dl)


device = get_default_device()
print(device)

train_dl = DeviceDataLoader(train_dl, device)

import torch.nn as nn

discriminator = nn.Sequential(
    # in: 3 x 64 x 64

    nn.Conv2d(3, 8, kernel_size=4, stride=2, padding=1, bias=False),
    nn.BatchNorm2d(8),
    nn.LeakyReLU(0.2, inplace=True),
    # out: 8 x 32 x 32

    nn.Conv2d(8, 16, kernel_size=4, stride=2, padding=1, bias=False),
    nn.BatchNorm2d(16),
    nn.LeakyReLU(0.2, inplace=True),
    # out: 16 x 16 x 16

    nn.Conv2d(16, 32, kernel_size=4, stride=2, padding=1, bias=False),
    nn.BatchNorm2d(32),
    nn.LeakyReLU(0.2, inplace=True),
    # out: 32 x 8 x 8

    nn.Conv2d(32, 64, kernel_size=4, stride=2, padding=1, bias=False),
    nn.BatchNorm2d(64),
    nn.LeakyReLU(0.2, inplace=True),
    # out: 64 x 4 x 4

    nn.Conv2d(64, 1, kernel_size=4, stride=1, padding=0, bias=False),
    # out: 1 x 1 x 1

    nn.Flatten(),
    nn.Sigmoid())

discriminator = to_device(discriminator, device)

latent_size = 16

generator = nn.Sequential(
    # in: latent_size x 1 x 1

    nn.ConvTranspose2d(latent_size, 64, kernel_size=4, stride=1, padding=0, bias=False),
    nn.BatchNorm2d(64),
    nn.ReLU(True),
    # out: 64 x 4 x 4

    nn.ConvTranspose2d(64, 32, kernel_size=4, stride=2, padding=1, bias=False),
    nn.BatchNorm2d(32),
    nn.ReLU(True),
    # out: 32 x 8 x 8

    nn.ConvTranspose2d(32, 16, kernel_size=4, stride=2, padding=1, bias=False),
    nn.BatchNorm2d(16),
    nn.ReLU(True),
    # out: 16 x 16 x 16

    nn.ConvTranspose2d(16, 8, kernel_size=4, stride=2, padding=1, bias=False),
    nn.BatchNorm2d(8),
    nn.ReLU(True),
    # out: 8 x 32 x 32

    nn.ConvTranspose2d(8, 3, kernel_size=4, stride=2, padding=1, bias=False),
    nn.Tanh()
    # out: 3 x 64 x 64
)

xb = torch.randn(batch_size, latent_size, 1, 1) # random latent tensors
fake_images = generator(xb)
print(fake_images.shape)
show_images(fake_images)

generator = to_device(generator, device)


def train_discriminator(real_images, opt_d):
    # Clear discriminator gradients
    opt_d.zero_grad()

    # Pass real images through discriminator
    real_preds = discriminator(real_images)
    real_targets = torch.ones(real_images.size(0), 1, device=device)
    real_loss = F.binary_cross_entropy(real_preds, real_targets)
    real_score = torch.mean(real_preds).item()

    # Generate fake images
    latent = torch.randn(batch_size, latent_size, 1, 1, device=device)
    fake_images = generator(latent)

    # Pass fake images through discriminator
    fake_targets = torch.zeros(fake_images.size(0), 1, device=device)
    fake_preds = discriminator(fake_images)
    fake_loss = F.binary_cross_entropy(fake_preds, fake_targets)
    fake_score = torch.mean(fake_preds).item()

    # Update discriminator weights
    loss = real_loss + fake_loss
    loss.backward()
    opt_d.step()
    return loss.item(), real_score, fake_score


def train_generator(opt_g):
    # Clear generator gradients
    opt_g.zero_grad()

    # Generate fake images
    latent = torch.randn(batch_size, latent_size, 1, 1, device=device)
    fake_images = generator(latent)

    # Try to fool the discriminator
    preds = discriminator(fake_images)
    targets = torch.ones(batch_size, 1, device=device)
    loss = F.binary_cross_entropy(preds, targets)

    # Update generator weights
    loss.backward()
    opt_g.step()

    return loss.item()


sample_dir = 'generated'


def save_samples(index, latent_tensors, show=True):
    fake_images = generator(latent_tensors)
    fake_fname = 'generated-images-{0:0=4d}.png'.format(index)
    # (the notebook writes save_image(denorm(fake_images), os.path.join(sample_dir, fake_fname), nrow=8))
    print(os.path.join(sample_dir, fake_fname), denorm(fake_images).mean().item())
    print('Saving', fake_fname)
    if show:
        print(fake_images.cpu().detach().shape)


fixed_latent = torch.randn(8, latent_size, 1, 1, device=device)
save_samples(0, fixed_latent)

import torch.nn.functional as F


def fit(epochs, lr, start_idx=1):
    torch.cuda.empty_cache()

    # Losses & scores
    losses_g = []
    losses_d = []
    real_scores = []
    fake_scores = []

    # Create optimizers
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=(0.5, 0.999))

    for epoch in range(epochs):
        for real_images, _ in train_dl:
            # Train discriminator
            loss_d, real_score, fake_score = train_discriminator(real_images, opt_d)
            # Train generator
            loss_g = train_generator(opt_g)

        # Record losses & scores
        losses_g.append(loss_g)
        losses_d.append(loss_d)
        real_scores.append(real_score)
        fake_scores.append(fake_score)

        # Log losses & scores (last batch)
        print("Epoch [{}/{}], loss_g: {:.4f}, loss_d: {:.4f}, real_score: {:.4f}, fake_score: {:.4f}".format(
            epoch+1, epochs, loss_g, loss_d, real_score, fake_score))

        # Save generated images
        save_samples(epoch+start_idx, fixed_latent, show=False)

    return losses_g, losses_d, real_scores, fake_scores


lr = 0.0002
epochs = 2

history = fit(epochs, lr)

losses_g, losses_d, real_scores, fake_scores = history
# (the notebook logs the last values to jovian and plots the lists)
print(dict(loss_g=round(losses_g[-1], 4),
           loss_d=round(losses_d[-1], 4),
           real_score=round(real_scores[-1], 4),
           fake_score=round(fake_scores[-1], 4)))
