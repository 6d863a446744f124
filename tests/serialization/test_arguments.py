"""The keywords torch.save and torch.load take, with PyTorch's behaviour where chainrule has it:
a missing folder, pickle_module and pickle_protocol, map_location, encoding for Python 2 files, mmap."""
import collections
import io
import os
import pickle
import pickletools
import warnings

import pytest
import torch

import chainrule


@pytest.mark.parametrize("relative", ["nodir/x.pt", "a/b/c/x.pt", "file.pt/x.pt"])
def test_saving_into_a_missing_folder_raises_pytorchs_runtime_error(tmp_path, monkeypatch, relative):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.pt").write_bytes(b"")
    messages = []
    for lib in (torch, chainrule):
        with pytest.raises(RuntimeError) as error:
            lib.save({"a": 1}, relative)
        messages.append(str(error.value))
    assert messages[0] == messages[1] == f"Parent directory {os.path.dirname(relative)} does not exist."
    with pytest.raises(RuntimeError, match=f"Parent directory {tmp_path / 'nodir'} does not exist."):
        chainrule.save({"a": 1}, tmp_path / "nodir" / "x.pt")
    assert sorted(os.listdir(tmp_path)) == ["file.pt"], "nothing written, no temporary left"


def test_a_link_into_a_missing_folder_names_the_link(tmp_path):
    (tmp_path / "link.pt").symlink_to(tmp_path / "gone" / "target.pt")
    with pytest.raises(RuntimeError, match="Parent directory .*gone \\(where the link .*link.pt points\\) does not exist"):
        chainrule.save({"a": 1}, tmp_path / "link.pt")


def test_every_save_keyword_pytorch_takes_is_accepted(tmp_path):
    obj = {"w": chainrule.ones(2), "frozen": frozenset({1})}  # pickled: the pickle keywords apply
    path = tmp_path / "x.pt"
    chainrule.save(obj, path, pickle_module=pickle, pickle_protocol=2, _use_new_zipfile_serialization=False, _disable_byteorder_record=True)
    loaded = chainrule.load(path, weights_only=False)
    assert loaded["frozen"] == frozenset({1}) and loaded["w"].tolist() == [1.0, 1.0]
    chainrule.save({"w": chainrule.ones(2)}, path, pickle_module=pickle, pickle_protocol=4, _use_new_zipfile_serialization=True)
    assert chainrule.load(path)["w"].tolist() == [1.0, 1.0]


class RecordingPickle:
    """A pickle_module like ``dill``: the standard one, counting its Picklers and Unpicklers."""

    made = collections.Counter()

    class Pickler(pickle.Pickler):
        def __init__(self, *args, **kwargs):
            RecordingPickle.made["Pickler"] += 1
            super().__init__(*args, **kwargs)

    class Unpickler(pickle.Unpickler):
        def __init__(self, *args, **kwargs):
            RecordingPickle.made["Unpickler"] += 1
            super().__init__(*args, **kwargs)


def test_pickle_module_and_protocol_are_used_for_what_is_pickled(tmp_path):
    RecordingPickle.made.clear()
    buffer = io.BytesIO()
    chainrule.save({"range": range(3)}, buffer, pickle_module=RecordingPickle, pickle_protocol=2)
    assert RecordingPickle.made["Pickler"] == 1
    loaded = chainrule.load(io.BytesIO(buffer.getvalue()), pickle_module=RecordingPickle, weights_only=False)
    assert loaded == {"range": range(3)} and RecordingPickle.made["Unpickler"] == 1
    path = tmp_path / "torch.pt"
    torch.save({"range": range(3), "w": torch.ones(1)}, path)
    assert chainrule.load(path, pickle_module=RecordingPickle, weights_only=False)["range"] == range(3)
    assert RecordingPickle.made["Unpickler"] == 2


def test_pickle_module_without_weights_only_false_raises_pytorchs_error(tmp_path):
    path = tmp_path / "x.pt"
    torch.save({"w": torch.ones(1)}, path)
    for lib in (torch, chainrule):
        with pytest.raises(RuntimeError, match="Can not safely load weights when explicit pickle_module is specified"):
            lib.load(path, pickle_module=pickle, weights_only=True)
    # torch.load turns weights_only off when given a pickle_module; chainrule runs no code unless told to
    with pytest.raises(RuntimeError, match="Can not safely load weights.*weights_only=False"):
        chainrule.load(path, pickle_module=pickle)


def test_unpickler_arguments_as_in_pytorch(tmp_path):
    path = tmp_path / "x.pt"
    torch.save({"w": torch.ones(1)}, path)
    chainrule.save({"w": chainrule.ones(1)}, tmp_path / "ours.pt")
    for target in (path, tmp_path / "ours.pt"):
        for lib in (torch, chainrule):  # read, with PyTorch's warning that other pickle arguments would not be
            with pytest.warns(UserWarning, match="pickle_load_args only works if `weights_only=False`"):
                assert lib.load(target if lib is chainrule else path, encoding="latin1")["w"].tolist() == [1.0]
        assert chainrule.load(target, weights_only=False, encoding="latin1", errors="strict", fix_imports=True)["w"].tolist() == [1.0]
    for lib in (torch, chainrule):  # with weights_only=True only encoding goes to the unpickler
        with pytest.raises(TypeError, match="errors"):
            lib.load(path, errors="strict")
        with pytest.raises(TypeError, match="bogus"):
            lib.load(path, weights_only=False, bogus=1)


@pytest.mark.parametrize("make", [lambda p: torch.save({"w": torch.ones(2)}, p), lambda p: chainrule.save({"w": chainrule.ones(2)}, p)], ids=["pytorch", "chainrule"])
def test_mmap_reads_a_path_and_refuses_a_file_object_as_pytorch_does(tmp_path, make):
    path = tmp_path / "x.pt"
    make(path)
    assert chainrule.load(path, mmap=True)["w"].tolist() == [1.0, 1.0]
    assert chainrule.load(str(path), mmap=False)["w"].tolist() == [1.0, 1.0]
    with open(path, "rb") as file, pytest.raises(ValueError, match="f must be a file path in order to use the mmap argument"):
        chainrule.load(file, mmap=True)


def test_mmap_of_a_pytorch_stream_file_raises_pytorchs_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.save({"w": torch.ones(2)}, "old.pt", _use_new_zipfile_serialization=False)
    messages = []
    for lib in (torch, chainrule):
        with pytest.raises(RuntimeError) as error:
            lib.load("old.pt", mmap=True)
        messages.append(str(error.value))
    assert messages[0] == messages[1]


def files(tmp_path):
    """The same tensor in the three formats: PyTorch's zip and stream, and chainrule's."""
    torch.save({"w": torch.arange(3.0)}, tmp_path / "zip.pt")
    torch.save({"w": torch.arange(3.0)}, tmp_path / "stream.pt", _use_new_zipfile_serialization=False)
    chainrule.save({"w": chainrule.arange(3.0)}, tmp_path / "ours.pt")
    return [tmp_path / "zip.pt", tmp_path / "stream.pt", tmp_path / "ours.pt"]


@pytest.mark.parametrize(
    "map_location",
    ["cpu", b"cpu", chainrule.device("cpu"), torch.device("cpu"), {"cuda:0": "cpu"}, {"cpu": "cpu"}, lambda storage, location: storage, lambda storage, location: None],
    ids=["str", "bytes", "device", "torch-device", "dict-other", "dict-cpu", "identity", "none"],
)
def test_map_location_to_the_cpu_loads_every_format(tmp_path, map_location):
    for path in files(tmp_path):
        assert chainrule.load(path, map_location=map_location)["w"].tolist() == [0.0, 1.0, 2.0], path.name


def test_a_map_location_function_sees_each_storage_and_its_location(tmp_path):
    for path in files(tmp_path)[::2]:  # the formats whose storages hold their values when restored
        seen = []

        def doubled(storage, location):
            seen.append((storage.tolist(), location))
            return storage * 2

        assert chainrule.load(path, map_location=doubled)["w"].tolist() == [0.0, 2.0, 4.0]
        assert seen == [([0.0, 1.0, 2.0], "cpu")]


@pytest.mark.parametrize("map_location", ["cuda", "cuda:1", torch.device("cuda", 0), {"cpu": "cuda:0"}], ids=["cuda", "cuda-1", "torch-device", "dict"])
def test_map_location_to_a_gpu_raises_pytorchs_error_on_a_machine_without_one(tmp_path, map_location):
    for path in files(tmp_path):
        with pytest.raises(RuntimeError, match=r"Attempting to deserialize object on a CUDA device but torch.cuda.is_available\(\) is False"):
            chainrule.load(path, map_location=map_location)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match=r"Attempting to deserialize object on a CUDA device"):
            torch.load(files(tmp_path)[0], map_location=map_location)


def test_other_map_locations_are_refused_saying_why(tmp_path):
    path = files(tmp_path)[2]
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        chainrule.load(path, map_location="bogus")
    with pytest.raises(RuntimeError, match="tagged with meta.*map_location='cpu'"):
        chainrule.load(path, map_location="meta")
    with pytest.raises(TypeError, match="map_location returned a int"):
        chainrule.load(path, map_location=lambda storage, location: 5)
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        chainrule.load(path, map_location=lambda storage, location: storage.cuda())


def as_python2(stream_bytes):
    """A stream torch.save wrote, with its text as Python 2 writes a ``str``: SHORT_BINSTRING of latin-1 bytes."""
    source, output = io.BytesIO(stream_bytes), bytearray()
    for _ in range(5):  # magic number, version, machine sizes, the object, the storage keys
        start = source.tell()
        operations = list(pickletools.genops(source))
        chunk = bytearray(stream_bytes[start : source.tell()])
        for opcode, argument, position in reversed(operations):
            if opcode.name == "BINUNICODE":
                at, size, text = position - start, 5 + len(argument.encode("utf-8")), argument.encode("latin1")
                chunk[at : at + size] = b"U" + bytes([len(text)]) + text
        output += chunk
    return bytes(output) + stream_bytes[source.tell() :]


@pytest.mark.parametrize("weights_only", [True, False])
def test_encoding_reads_a_file_python_2_wrote_as_pytorch_does(tmp_path, weights_only):
    torch.save({"name": "café", "w": torch.arange(3.0), "state": collections.OrderedDict(a=torch.ones(2))}, tmp_path / "s.pt", _use_new_zipfile_serialization=False)
    path = tmp_path / "python2.pt"
    path.write_bytes(as_python2((tmp_path / "s.pt").read_bytes()))
    for encoding in ("latin1", "bytes"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = torch.load(path, encoding=encoding, weights_only=weights_only)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (pickle_load_args only works if weights_only=False: encoding does)
            ours = chainrule.load(path, encoding=encoding, weights_only=weights_only)
        assert list(ours) == list(theirs) and type(ours["state" if encoding == "latin1" else b"state"]) is collections.OrderedDict
        name = ours["name" if encoding == "latin1" else b"name"]
        assert name == theirs["name" if encoding == "latin1" else b"name"] == ("café" if encoding == "latin1" else "café".encode("latin1"))
        assert ours["w" if encoding == "latin1" else b"w"].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(UnicodeDecodeError):
        torch.load(path, weights_only=weights_only)
    with pytest.raises(ValueError, match="python2.pt is a PyTorch file chainrule can't read: .*not utf-8.*encoding='latin1'"):
        chainrule.load(path, weights_only=weights_only)
