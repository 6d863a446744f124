"""CIFAR-10 and CIFAR-100: 32x32 colour images in 10 or 100 classes, 50,000 to train on and 10,000
to test, in the "python version" batches of Krizhevsky's site, as torchvision reads them: the
folder ``root/cifar-10-batches-py`` (``root/cifar-100-python``), every file checked against its
MD5. The batches are pickles; they are read with an unpickler that builds plain data only."""
import os

import numpy

from chainrule.vision.datasets.plain_pickle import load_plain_pickle
from chainrule.vision.datasets.utils import check_integrity, download_and_extract_archive
from chainrule.vision.datasets.vision import VisionDataset
from chainrule.vision.pillow import image_or_array


class CIFAR10(VisionDataset):
    """CIFAR-10: ``data`` a uint8 array (N, 32, 32, 3), ``targets`` a list of ints, ``classes``
    the 10 names; an item is (PIL image "RGB", or the uint8 array (32, 32, 3) without Pillow; int)."""

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        batches = []
        self.targets = []
        for file_name, _ in self.train_list if self.train else self.test_list:
            with open(os.path.join(self.root, self.base_folder, file_name), "rb") as file:
                entry = load_plain_pickle(file, encoding="latin1")
            batches.append(entry["data"])
            self.targets.extend(entry["labels"] if "labels" in entry else entry["fine_labels"])
        # each row is 1024 red, 1024 green, 1024 blue bytes: (N, C, H, W), turned to (N, H, W, C)
        self.data = numpy.vstack(batches).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))
        self._load_meta()

    def _load_meta(self):
        path = os.path.join(self.root, self.base_folder, self.meta["filename"])
        if not check_integrity(path, self.meta["md5"]):
            raise RuntimeError("Dataset metadata file not found or corrupted. You can use download=True to download it")
        with open(path, "rb") as file:
            self.classes = load_plain_pickle(file, encoding="latin1")[self.meta["key"]]
        self.class_to_idx = {name: index for index, name in enumerate(self.classes)}

    def __getitem__(self, index):
        img, target = image_or_array(self.data[index]), self.targets[index]
        img, target = self._transformed(img, target)
        return img, target

    def __len__(self):
        return len(self.data)

    def _check_integrity(self):
        return all(
            check_integrity(os.path.join(self.root, self.base_folder, name), md5)
            for name, md5 in self.train_list + self.test_list
        )

    def download(self):
        """Downloads and unpacks the archive, unless every batch is already there and whole."""
        if self._check_integrity():
            return
        download_and_extract_archive(self.url, self.root, filename=self.filename, md5=self.tgz_md5)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100: as CIFAR-10, with the 100 fine classes as ``targets`` (``root/cifar-100-python``)."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names", "md5": "7973b15100ade9c7d40fb424638fde48"}
