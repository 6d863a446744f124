# Source: stand-ins for torchvision.transforms.v2's Compose and Normalize, as far as Daniel Voigt Godoy's
#   "Deep Learning with PyTorch Step-by-Step" (https://github.com/dvgodoy/PyTorchStepByStep) uses them
#   (torchvision is not installed here): its chapters and stepbystep/v4.py import them from this module.
import torch


class Compose:
    # torchvision.transforms.v2.Compose, as far as the book uses it
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x


class Normalize:
    # torchvision.transforms.v2.Normalize on a C, H, W tensor: (x - mean) / std per channel
    def __init__(self, mean, std):
        self.mean, self.std = mean, std

    def __call__(self, x):
        mean = torch.as_tensor(self.mean, dtype=x.dtype).view(-1, 1, 1)
        std = torch.as_tensor(self.std, dtype=x.dtype).view(-1, 1, 1)
        return x.sub(mean).div(std)
