"""Datasets of files sorted into one folder per class, as torchvision's ``folder``:
``root/dog/xxx.png``, ``root/cat/123.png`` -> classes ["cat", "dog"] (sorted), targets their indices.
``DatasetFolder`` reads each file with the ``loader`` you give; ``ImageFolder`` reads images with
Pillow, as RGB."""
import os

from chainrule.vision.datasets.vision import VisionDataset
from chainrule.vision.pillow import load_pillow

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename, extensions):
    """Whether ``filename`` ends with one of ``extensions`` (case ignored)."""
    return filename.lower().endswith(extensions if isinstance(extensions, str) else tuple(extensions))


def is_image_file(filename):
    """Whether ``filename`` has one of the image extensions ImageFolder reads."""
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


def find_classes(directory):
    """(classes, class_to_idx): the sorted names of the folders in ``directory`` and their indices."""
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: index for index, name in enumerate(classes)}


def make_dataset(directory, class_to_idx=None, extensions=None, is_valid_file=None, allow_empty=False):
    """[(path, class index)] for every valid file under each class folder, in sorted order. A file is
    valid if it has one of ``extensions`` or if ``is_valid_file(path)`` says so (give one of the two);
    a class with no valid file is a FileNotFoundError unless ``allow_empty``."""
    directory = os.path.expanduser(directory)
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ValueError("'class_to_index' must have at least one entry to collect any samples.")
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the same time")
    if extensions is not None:
        def is_valid_file(path):
            return has_file_allowed_extension(path, extensions)
    instances = []
    available_classes = set()
    for target_class in sorted(class_to_idx):
        class_index = class_to_idx[target_class]
        target_dir = os.path.join(directory, target_class)
        if not os.path.isdir(target_dir):
            continue
        for root, _, fnames in sorted(os.walk(target_dir, followlinks=True)):
            for fname in sorted(fnames):
                path = os.path.join(root, fname)
                if is_valid_file(path):
                    instances.append((path, class_index))
                    available_classes.add(target_class)
    empty_classes = set(class_to_idx) - available_classes
    if empty_classes and not allow_empty:
        message = f"Found no valid file for the classes {', '.join(sorted(empty_classes))}. "
        if extensions is not None:
            message += f"Supported extensions are: {extensions if isinstance(extensions, str) else ', '.join(extensions)}"
        raise FileNotFoundError(message)
    return instances


class DatasetFolder(VisionDataset):
    """Samples read by ``loader(path)`` from class folders under ``root``: ``classes``,
    ``class_to_idx``, ``samples`` [(path, index)] and ``targets`` [index]."""

    def __init__(self, root, loader, extensions=None, transform=None, target_transform=None,
                 is_valid_file=None, allow_empty=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        classes, class_to_idx = self.find_classes(self.root)
        samples = self.make_dataset(self.root, class_to_idx=class_to_idx, extensions=extensions,
                                    is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.loader = loader
        self.extensions = extensions
        self.classes = classes
        self.class_to_idx = class_to_idx
        self.samples = samples
        self.targets = [target for _, target in samples]

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None, allow_empty=False):
        """The samples (see the module's ``make_dataset``); override it to collect them another way."""
        if class_to_idx is None:
            # the module's function would call the module's find_classes, not an overriding method
            raise ValueError("The class_to_idx parameter cannot be None.")
        return make_dataset(directory, class_to_idx, extensions=extensions, is_valid_file=is_valid_file,
                            allow_empty=allow_empty)

    def find_classes(self, directory):
        """The classes (see the module's ``find_classes``); override it for another folder structure."""
        return find_classes(directory)

    def __getitem__(self, index):
        path, target = self.samples[index]
        sample = self.loader(path)
        sample, target = self._transformed(sample, target)
        return sample, target

    def __len__(self):
        return len(self.samples)


def pil_loader(path):
    """The image at ``path`` as an RGB PIL image (read whole, the file closed). Needs Pillow."""
    image_module = load_pillow("Reading an image file")
    with open(path, "rb") as file:
        return image_module.open(file).convert("RGB")


def default_loader(path):
    """ImageFolder's loader: ``pil_loader``."""
    return pil_loader(path)


class ImageFolder(DatasetFolder):
    """Images in class folders (any of ``IMG_EXTENSIONS``), read as RGB PIL images; ``imgs`` is
    ``samples``. Needs Pillow to read them."""

    def __init__(self, root, transform=None, target_transform=None, loader=default_loader,
                 is_valid_file=None, allow_empty=False):
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None, transform=transform,
                         target_transform=target_transform, is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples
