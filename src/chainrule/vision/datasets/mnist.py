"""MNIST, Fashion-MNIST and Kuzushiji-MNIST: 28x28 grayscale images of digits, clothes or
characters, 60,000 to train on and 10,000 to test, in the IDX files of LeCun's site under
``root/<ClassName>/raw``, as torchvision keeps them (``download=True`` fetches the ``.gz`` files
from torchvision's mirrors, checks their MD5s and unpacks them there).

The IDX format: a big-endian header, ``0x00 0x00 <type> <dimensions>`` then one 4-byte size per
dimension, then the values (type 0x08 is unsigned bytes).
"""
import os
import urllib.error
import warnings

import numpy

import chainrule
from chainrule.vision.datasets.utils import check_integrity, download_and_extract_archive
from chainrule.vision.datasets.vision import VisionDataset
from chainrule.vision.pillow import image_or_array

#: IDX type byte -> the NumPy dtype of its big-endian values
IDX_TYPES = {8: numpy.dtype(numpy.uint8), 9: numpy.dtype(numpy.int8), 11: numpy.dtype(">i2"),
             12: numpy.dtype(">i4"), 13: numpy.dtype(">f4"), 14: numpy.dtype(">f8")}


def read_sn3_pascalvincent_tensor(path, strict=True):
    """The array an IDX file holds, as a tensor of its shape and (native-order) dtype."""
    with open(path, "rb") as file:
        data = file.read()
    magic = int.from_bytes(data[0:4], "big")
    dimensions, type_code = magic % 256, magic // 256
    if not (1 <= dimensions <= 3 and type_code in IDX_TYPES):
        raise ValueError(f"{path} is not an IDX file: its header 0x{magic:08x} names no known type and 1 to 3 dimensions")
    shape = [int.from_bytes(data[4 * (i + 1): 4 * (i + 2)], "big") for i in range(dimensions)]
    dtype = IDX_TYPES[type_code]
    values = numpy.frombuffer(data, dtype=dtype, offset=4 * (dimensions + 1))
    if strict and values.size != numpy.prod(shape):
        raise ValueError(f"{path} holds {values.size} values, but its header says {shape}")
    return chainrule.from_numpy(values.astype(dtype.newbyteorder("="))[: int(numpy.prod(shape))].reshape(shape))


def read_label_file(path):
    """The labels of an IDX label file: an int64 tensor (N,)."""
    labels = read_sn3_pascalvincent_tensor(path, strict=False)
    if labels.dtype != chainrule.uint8:
        raise TypeError(f"x should be of dtype torch.uint8 instead of {labels.dtype}")
    if labels.ndim != 1:
        raise ValueError(f"x should have 1 dimension instead of {labels.ndim}")
    return labels.long()


def read_image_file(path):
    """The images of an IDX image file: a uint8 tensor (N, H, W)."""
    images = read_sn3_pascalvincent_tensor(path, strict=False)
    if images.dtype != chainrule.uint8:
        raise TypeError(f"x should be of dtype torch.uint8 instead of {images.dtype}")
    if images.ndim != 3:
        raise ValueError(f"x should have 3 dimension instead of {images.ndim}")
    return images


class MNIST(VisionDataset):
    """The MNIST digits: ``data`` uint8 (N, 28, 28), ``targets`` int64 (N,); an item is
    (PIL image "L", or the uint8 array (28, 28) without Pillow; the digit as an int).

    ``root/MNIST/raw/`` holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte`` and the
    ``t10k-`` pair; ``train`` picks the split.
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    training_file = "training.pt"
    test_file = "test.pt"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if self._check_legacy_exist():
            self.data, self.targets = self._load_legacy_data()
            return
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        self.data, self.targets = self._load_data()

    @property
    def train_labels(self):
        warnings.warn("train_labels has been renamed targets", stacklevel=2)
        return self.targets

    @property
    def test_labels(self):
        warnings.warn("test_labels has been renamed targets", stacklevel=2)
        return self.targets

    @property
    def train_data(self):
        warnings.warn("train_data has been renamed data", stacklevel=2)
        return self.data

    @property
    def test_data(self):
        warnings.warn("test_data has been renamed data", stacklevel=2)
        return self.data

    def _check_legacy_exist(self):
        # torchvision before 0.10 kept (data, targets) as PyTorch files in processed/
        if not os.path.exists(self.processed_folder):
            return False
        return all(check_integrity(os.path.join(self.processed_folder, name)) for name in (self.training_file, self.test_file))

    def _load_legacy_data(self):
        data_file = self.training_file if self.train else self.test_file
        return chainrule.load(os.path.join(self.processed_folder, data_file))

    def _load_data(self):
        split = "train" if self.train else "t10k"
        data = read_image_file(os.path.join(self.raw_folder, f"{split}-images-idx3-ubyte"))
        targets = read_label_file(os.path.join(self.raw_folder, f"{split}-labels-idx1-ubyte"))
        return data, targets

    def __getitem__(self, index):
        img, target = self.data[index], int(self.targets[index])
        img = image_or_array(img.numpy(), mode="L")
        img, target = self._transformed(img, target)
        return img, target

    def __len__(self):
        return len(self.data)

    @property
    def raw_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def processed_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "processed")

    @property
    def class_to_idx(self):
        return {name: index for index, name in enumerate(self.classes)}

    def _check_exists(self):
        return all(
            check_integrity(os.path.join(self.raw_folder, os.path.splitext(os.path.basename(url))[0]))
            for url, _ in self.resources
        )

    def download(self):
        """Downloads the four files from the first mirror that answers, unless they are there."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            errors = []
            for mirror in self.mirrors:
                url = f"{mirror}{filename}"
                try:
                    print(f"Downloading {url}")
                    download_and_extract_archive(url, download_root=self.raw_folder, filename=filename, md5=md5)
                except urllib.error.URLError as error:
                    errors.append(f"Tried {mirror}, got:\n{error}")
                    continue
                break
            else:
                raise RuntimeError(f"Error downloading {filename}:\n" + "\n".join(errors))

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class FashionMNIST(MNIST):
    """Fashion-MNIST: Zalando's 28x28 grayscale clothes in 10 classes, MNIST's format and layout
    (``root/FashionMNIST/raw/``)."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST: 28x28 grayscale cursive Japanese characters, one per row of the hiragana
    table, MNIST's format and layout (``root/KMNIST/raw/``)."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
