"""chainrule.vision.datasets on tiny files written in torchvision's layouts (nothing is downloaded:
the download path is run against a ``file://`` mirror in the test's folder)."""
import gzip
import hashlib
import io
import os
import pickle
import sys
import tarfile

import numpy
import pytest
from PIL import Image

import chainrule
from chainrule.utils.data import DataLoader
from chainrule.vision import datasets, transforms
from chainrule.vision.datasets.plain_pickle import load_plain_pickle


def idx_bytes(array):
    """``array`` (uint8) in the IDX format: magic 0x0000 08 <ndim>, the sizes, the bytes."""
    header = (0x0800 + array.ndim).to_bytes(4, "big") + b"".join(size.to_bytes(4, "big") for size in array.shape)
    return header + array.astype(numpy.uint8).tobytes()


def write_mnist(root, name="MNIST", count=10, gzipped=False):
    """Fake train and test splits under root/<name>/raw; returns {split: (images, labels)}."""
    raw = root / name / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = numpy.random.default_rng(0)
    splits = {}
    for split, n in (("train", count), ("t10k", count // 2)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=numpy.uint8)
        labels = rng.integers(0, 10, n, dtype=numpy.uint8)
        for kind, array in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
            data = idx_bytes(array)
            path = raw / f"{split}-{kind}"
            if gzipped:
                path.with_name(path.name + ".gz").write_bytes(gzip.compress(data))
            else:
                path.write_bytes(data)
        splits[split] = (images, labels)
    return splits


def md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


# MNIST


def test_mnist_attributes_and_items(tmp_path):
    splits = write_mnist(tmp_path)
    train = datasets.MNIST(str(tmp_path), train=True)
    images, labels = splits["train"]
    assert len(train) == 10 and train.train is True
    assert train.data.dtype == chainrule.uint8 and tuple(train.data.shape) == (10, 28, 28)
    assert train.targets.dtype == chainrule.int64 and train.targets.tolist() == labels.tolist()
    numpy.testing.assert_array_equal(train.data.numpy(), images)
    image, target = train[3]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (28, 28)
    assert isinstance(target, int) and target == labels[3]
    numpy.testing.assert_array_equal(numpy.asarray(image), images[3])
    assert train.classes[0] == "0 - zero" and train.class_to_idx["9 - nine"] == 9
    test = datasets.MNIST(tmp_path, train=False)
    assert len(test) == 5 and test.targets.tolist() == splits["t10k"][1].tolist()
    assert repr(test).splitlines()[:4] == ["Dataset MNIST", "    Number of datapoints: 5",
                                           f"    Root location: {tmp_path}", "    Split: Test"]


def test_mnist_transforms_and_old_attribute_names(tmp_path):
    write_mnist(tmp_path)
    dataset = datasets.MNIST(tmp_path, transform=transforms.ToTensor(), target_transform=lambda y: y + 100)
    image, target = dataset[0]
    assert image.dtype == chainrule.float32 and image.shape == (1, 28, 28) and 0 <= image.min() and image.max() <= 1
    assert target == dataset.targets[0].item() + 100
    with pytest.warns(UserWarning, match="train_labels has been renamed targets"):
        assert dataset.train_labels is dataset.targets


def test_a_dataloader_over_mnist_gives_normalized_float32_batches(tmp_path):
    write_mnist(tmp_path, count=130)
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    loader = DataLoader(datasets.MNIST(tmp_path, transform=pipeline), batch_size=64, shuffle=True)
    batches = list(loader)
    images, targets = batches[0]
    assert images.dtype == chainrule.float32 and tuple(images.shape) == (64, 1, 28, 28)
    assert targets.dtype == chainrule.int64 and tuple(targets.shape) == (64,)
    assert [len(batch[1]) for batch in batches] == [64, 64, 2]
    assert images.min().item() == pytest.approx(-0.1307 / 0.3081, abs=1e-5)


def test_mnist_without_files_says_how_to_get_them(tmp_path):
    with pytest.raises(RuntimeError, match="^Dataset not found. You can use download=True to download it$"):
        datasets.MNIST(tmp_path)
    write_mnist(tmp_path, gzipped=True)  # torchvision reads the unpacked files only
    with pytest.raises(RuntimeError, match="Dataset not found"):
        datasets.MNIST(tmp_path)


def test_mnist_download_unpacks_gz_files_already_there_without_fetching(tmp_path, monkeypatch):
    write_mnist(tmp_path, gzipped=True)
    raw = tmp_path / "MNIST" / "raw"
    resources = [(name, md5(raw / name)) for name, _ in datasets.MNIST.resources]
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://localhost.invalid/"])  # never asked: the files are whole
    assert len(datasets.MNIST(tmp_path, download=True)) == 10


def test_mnist_download_fetches_from_the_first_mirror_that_answers_and_checks_md5(tmp_path, monkeypatch):
    served = tmp_path / "mirror"
    write_mnist(served, gzipped=True)
    files = served / "MNIST" / "raw"
    resources = [(name, md5(files / name)) for name, _ in datasets.FashionMNIST.resources]
    monkeypatch.setattr(datasets.FashionMNIST, "resources", resources)
    monkeypatch.setattr(datasets.FashionMNIST, "mirrors", [(tmp_path / "missing").as_uri() + "/", files.as_uri() + "/"])
    dataset = datasets.FashionMNIST(tmp_path / "data", download=True)
    assert len(dataset) == 10 and dataset.classes[9] == "Ankle boot"
    assert (tmp_path / "data" / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").is_file()
    bad = [(name, "0" * 32) for name, _ in resources]
    monkeypatch.setattr(datasets.FashionMNIST, "resources", bad)
    with pytest.raises(RuntimeError, match="File not found or corrupted."):
        datasets.FashionMNIST(tmp_path / "other", download=True)
    monkeypatch.setattr(datasets.FashionMNIST, "mirrors", [(tmp_path / "missing").as_uri() + "/"])
    with pytest.raises(RuntimeError, match="Error downloading train-images-idx3-ubyte.gz"):
        datasets.FashionMNIST(tmp_path / "third", download=True)


def test_mnist_rejects_a_file_that_is_not_idx(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x20\x01" + bytes(8))
    with pytest.raises(ValueError, match="is not an IDX file"):
        datasets.MNIST(tmp_path)


# CIFAR


def write_cifar(root, folder, train_names, test_names, meta_name, meta_key, label_key, classes):
    """Fake batches: pickled dicts of a uint8 "data" array (N, 3072) and a label list."""
    base = root / folder
    base.mkdir(parents=True)
    rng = numpy.random.default_rng(1)
    written = {}
    for name in train_names + test_names:
        data = rng.integers(0, 256, (4, 3072), dtype=numpy.uint8)
        labels = rng.integers(0, len(classes), 4).tolist()
        (base / name).write_bytes(pickle.dumps({"batch_label": name, label_key: labels, "data": data}, protocol=2))
        written[name] = (data, labels)
    (base / meta_name).write_bytes(pickle.dumps({meta_key: classes}, protocol=2))
    return written


@pytest.fixture
def tiny_cifar10(tmp_path, monkeypatch):
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    names = [name for name, _ in datasets.CIFAR10.train_list]
    written = write_cifar(tmp_path, "cifar-10-batches-py", names, ["test_batch"], "batches.meta", "label_names", "labels", classes)
    base = tmp_path / "cifar-10-batches-py"
    monkeypatch.setattr(datasets.CIFAR10, "train_list", [[name, md5(base / name)] for name in names])
    monkeypatch.setattr(datasets.CIFAR10, "test_list", [["test_batch", md5(base / "test_batch")]])
    monkeypatch.setattr(datasets.CIFAR10, "meta", {**datasets.CIFAR10.meta, "md5": md5(base / "batches.meta")})
    return tmp_path, written, classes


def test_cifar10_attributes_and_items(tiny_cifar10):
    root, written, classes = tiny_cifar10
    train = datasets.CIFAR10(root, train=True)
    assert isinstance(train.data, numpy.ndarray) and train.data.dtype == numpy.uint8 and train.data.shape == (20, 32, 32, 3)
    assert isinstance(train.targets, list) and train.targets == sum((written[f"data_batch_{i}"][1] for i in range(1, 6)), [])
    # a row is the red plane, then green, then blue
    first = written["data_batch_1"][0][0]
    numpy.testing.assert_array_equal(train.data[0], first.reshape(3, 32, 32).transpose(1, 2, 0))
    assert train.classes == classes and train.class_to_idx["truck"] == 9
    image, target = train[0]
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (32, 32)
    assert target == written["data_batch_1"][1][0]
    test = datasets.CIFAR10(root, train=False, transform=transforms.ToTensor())
    assert len(test) == 4 and test[1][0].shape == (3, 32, 32) and test[1][0].dtype == chainrule.float32


def test_cifar10_checks_every_file_against_its_md5(tiny_cifar10):
    root, _, _ = tiny_cifar10
    with open(root / "cifar-10-batches-py" / "data_batch_3", "ab") as file:
        file.write(b"x")
    with pytest.raises(RuntimeError, match="^Dataset not found or corrupted. You can use download=True to download it$"):
        datasets.CIFAR10(root)


def test_cifar10_download_unpacks_the_archive(tmp_path, monkeypatch):
    source = tmp_path / "source"
    classes = [str(i) for i in range(10)]
    names = [name for name, _ in datasets.CIFAR10.train_list]
    write_cifar(source, "cifar-10-batches-py", names, ["test_batch"], "batches.meta", "label_names", "labels", classes)
    archive = tmp_path / "served" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    base = source / "cifar-10-batches-py"
    monkeypatch.setattr(datasets.CIFAR10, "train_list", [[name, md5(base / name)] for name in names])
    monkeypatch.setattr(datasets.CIFAR10, "test_list", [["test_batch", md5(base / "test_batch")]])
    monkeypatch.setattr(datasets.CIFAR10, "meta", {**datasets.CIFAR10.meta, "md5": md5(base / "batches.meta")})
    monkeypatch.setattr(datasets.CIFAR10, "url", archive.as_uri())
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", md5(archive))
    assert len(datasets.CIFAR10(tmp_path / "data", download=True)) == 20


def test_cifar100_uses_the_fine_labels(tmp_path, monkeypatch):
    classes = [f"class{i}" for i in range(100)]
    written = write_cifar(tmp_path, "cifar-100-python", ["train"], ["test"], "meta", "fine_label_names", "fine_labels", classes)
    base = tmp_path / "cifar-100-python"
    monkeypatch.setattr(datasets.CIFAR100, "train_list", [["train", md5(base / "train")]])
    monkeypatch.setattr(datasets.CIFAR100, "test_list", [["test", md5(base / "test")]])
    monkeypatch.setattr(datasets.CIFAR100, "meta", {**datasets.CIFAR100.meta, "md5": md5(base / "meta")})
    dataset = datasets.CIFAR100(tmp_path, train=False)
    assert dataset.targets == written["test"][1] and len(dataset.classes) == 100 and dataset.data.shape == (4, 32, 32, 3)


class Payload:
    def __reduce__(self):
        return (os.system, ("echo unsafe",))


def test_cifar_batches_are_read_without_running_code():
    with pytest.raises(pickle.UnpicklingError, match="refusing to load .*system"):
        load_plain_pickle(io.BytesIO(pickle.dumps({"data": Payload()})))
    plain = {"data": numpy.arange(6, dtype=numpy.uint8).reshape(2, 3), "labels": [1, 2], "x": numpy.float64(2.5)}
    loaded = load_plain_pickle(io.BytesIO(pickle.dumps(plain, protocol=2)))
    assert loaded["labels"] == [1, 2] and loaded["x"] == 2.5
    numpy.testing.assert_array_equal(loaded["data"], plain["data"])


# ImageFolder, DatasetFolder, FakeData


def write_image_folder(root):
    for name, colour in (("dog", (200, 10, 10)), ("cat", (10, 200, 10))):
        (root / name).mkdir(parents=True)
        for index in range(2):
            Image.new("RGB", (6, 4), colour).save(root / name / f"{index}.png")
    (root / "cat" / "notes.txt").write_text("not an image")


def test_image_folder_sorts_classes_and_reads_rgb_images(tmp_path):
    write_image_folder(tmp_path)
    dataset = datasets.ImageFolder(tmp_path, transform=transforms.ToTensor())
    assert dataset.classes == ["cat", "dog"] and dataset.class_to_idx == {"cat": 0, "dog": 1}
    assert dataset.targets == [0, 0, 1, 1] and dataset.imgs is dataset.samples
    assert dataset.samples[0] == (os.path.join(str(tmp_path), "cat", "0.png"), 0)
    image, target = dataset[2]
    assert target == 1 and image.shape == (3, 4, 6) and image[0, 0, 0].item() == pytest.approx(200 / 255)


def test_dataset_folder_with_a_loader_and_its_errors(tmp_path):
    write_image_folder(tmp_path)
    dataset = datasets.DatasetFolder(tmp_path, loader=lambda path: open(path).read(), extensions=(".txt",), allow_empty=True)
    assert len(dataset) == 1 and dataset[0] == ("not an image", 0)
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes dog. Supported extensions are: .txt"):
        datasets.DatasetFolder(tmp_path, loader=open, extensions=(".txt",))
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None or not None at the same time"):
        datasets.DatasetFolder(tmp_path, loader=open)
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder in"):
        datasets.ImageFolder(tmp_path / "dog")


def test_fake_data_is_the_same_for_an_index_and_leaves_the_generator_alone():
    dataset = datasets.FakeData(size=5, image_size=(3, 8, 6), num_classes=4)
    chainrule.manual_seed(7)
    expected_next = chainrule.rand(1).item()
    chainrule.manual_seed(7)
    image, target = dataset[2]
    assert chainrule.rand(1).item() == expected_next
    assert isinstance(image, Image.Image) and image.size == (6, 8) and image.mode == "RGB"
    assert isinstance(target, int) and 0 <= target < 4
    assert numpy.array_equal(numpy.asarray(dataset[2][0]), numpy.asarray(image)) and dataset[2][1] == target
    chainrule.manual_seed(2)
    noise = chainrule.randn(3, 8, 6)
    numpy.testing.assert_array_equal(numpy.asarray(image), (noise.permute(1, 2, 0).numpy() * 255).astype(numpy.uint8))
    with pytest.raises(IndexError, match="FakeData index out of range"):
        dataset[5]


# without Pillow


@pytest.fixture
def without_pillow(monkeypatch):
    """Imports of Pillow fail, as on a machine without the vision extra."""
    for name in [name for name in sys.modules if name == "PIL" or name.startswith("PIL.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "PIL", None)


def test_without_pillow_datasets_give_uint8_arrays_that_to_tensor_takes(tmp_path, without_pillow):
    splits = write_mnist(tmp_path)
    dataset = datasets.MNIST(tmp_path)
    image, _ = dataset[0]
    assert isinstance(image, numpy.ndarray) and image.dtype == numpy.uint8 and image.shape == (28, 28)
    numpy.testing.assert_array_equal(image, splits["train"][0][0])
    augment = transforms.Compose([transforms.RandomCrop(28, padding=2), transforms.RandomHorizontalFlip(),
                                  transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    images, _ = next(iter(DataLoader(datasets.MNIST(tmp_path, transform=augment), batch_size=4)))
    assert tuple(images.shape) == (4, 1, 28, 28) and images.dtype == chainrule.float32
    fake, _ = datasets.FakeData(size=1, image_size=(3, 4, 5))[0]
    assert fake.shape == (4, 5, 3) and fake.dtype == numpy.uint8


def test_without_pillow_what_needs_it_says_how_to_install_it(tmp_path, without_pillow):
    cat_folder = tmp_path / "cat"
    cat_folder.mkdir()
    (cat_folder / "0.png").write_bytes(b"\x89PNG")
    folder = datasets.ImageFolder(tmp_path)
    with pytest.raises(ModuleNotFoundError, match=r'pip install "chainrule\[vision\]"'):
        folder[0]
    with pytest.raises(ModuleNotFoundError, match=r'ToPILImage needs Pillow.*pip install "chainrule\[vision\]"'):
        transforms.ToPILImage()(chainrule.zeros(3, 2, 2))


def test_pickles_written_by_numpy_1_name_the_old_module_and_load():
    written = pickle.dumps({"data": numpy.arange(4, dtype=numpy.uint8)}, protocol=2)
    old = written.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    assert old != written
    numpy.testing.assert_array_equal(load_plain_pickle(io.BytesIO(old))["data"], numpy.arange(4, dtype=numpy.uint8))
    codec = written.replace(b"latin1", b"zlib\x00\x00").replace(b"X\x06\x00\x00\x00zlib", b"X\x04\x00\x00\x00zlib")
    with pytest.raises(pickle.UnpicklingError):
        load_plain_pickle(io.BytesIO(codec))


def test_kmnist_reads_its_own_folder_with_torchvisions_classes_and_mirror(tmp_path):
    written = write_mnist(tmp_path, name="KMNIST")
    dataset = datasets.KMNIST(tmp_path, train=False)
    image, label = dataset[0]
    assert len(dataset) == 5 and label == int(written["t10k"][1][0])
    assert numpy.array_equal(numpy.asarray(image), written["t10k"][0][0])
    assert dataset.classes == ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
    assert datasets.KMNIST.mirrors == ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    assert [name for name, _ in datasets.KMNIST.resources] == [name for name, _ in datasets.MNIST.resources]
