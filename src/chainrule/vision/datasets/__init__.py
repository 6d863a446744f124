"""torchvision's ``datasets``: MNIST, FashionMNIST, KMNIST, CIFAR10, CIFAR100, ImageFolder, DatasetFolder and
FakeData, with torchvision's arguments, folder layouts and attributes (``data``, ``targets``,
``classes``, ``class_to_idx``), so ``DataLoader(datasets.MNIST("data", transform=...))`` runs as written."""
from chainrule.vision.datasets.cifar import CIFAR10, CIFAR100
from chainrule.vision.datasets.fakedata import FakeData
from chainrule.vision.datasets.folder import DatasetFolder, ImageFolder
from chainrule.vision.datasets.mnist import KMNIST, MNIST, FashionMNIST
from chainrule.vision.datasets.vision import VisionDataset

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "CIFAR10", "CIFAR100", "ImageFolder", "DatasetFolder", "FakeData", "VisionDataset"]
