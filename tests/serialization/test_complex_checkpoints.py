"""Complex tensors in checkpoints: complex64 as safetensors' C64, complex128 as its float64 pairs
named in the metadata; both come back exactly, from chainrule's files and from PyTorch's
(ComplexFloatStorage, ComplexDoubleStorage), without unpickling anything."""
import io
import json
import struct

import numpy as np
import pytest
import safetensors.numpy
import torch

import chainrule


def saved(obj, library=chainrule):
    buffer = io.BytesIO()
    library.save(obj, buffer)
    return buffer.getvalue()


def test_complex_tensors_and_parameters_come_back_exactly():
    generator = np.random.default_rng(0)
    values = generator.standard_normal((2, 3)) + 1j * generator.standard_normal((2, 3))
    single = chainrule.tensor(values.astype(np.complex64))
    double = chainrule.tensor(values)
    parameter = chainrule.nn.Parameter(chainrule.tensor([1j, 2 - 1j]))
    loaded = chainrule.load(io.BytesIO(saved({"single": single, "double": double, "parameter": parameter})))
    assert loaded["single"].dtype == chainrule.complex64 and loaded["double"].dtype == chainrule.complex128
    np.testing.assert_array_equal(loaded["single"].numpy(), single.numpy())
    np.testing.assert_array_equal(loaded["double"].numpy(), double.numpy())
    assert isinstance(loaded["parameter"], chainrule.nn.Parameter) and loaded["parameter"].requires_grad
    np.testing.assert_array_equal(loaded["parameter"].detach().numpy(), parameter.detach().numpy())


def test_the_file_is_plain_safetensors_complex128_as_pairs():
    data = saved({"z": chainrule.tensor([1 + 2j], dtype=chainrule.complex128), "w": chainrule.tensor([1 + 2j])})
    stored = safetensors.numpy.load(data)
    assert stored["z"].dtype == np.float64 and stored["z"].tolist() == [[1.0, 2.0]]
    assert stored["w"].dtype == np.complex64


def test_pytorch_files_with_complex_tensors_load():
    theirs = {"a": torch.tensor([1 + 2j, 3 - 1j]), "b": torch.randn(2, 2, dtype=torch.complex128)}
    ours = chainrule.load(io.BytesIO(saved(theirs, torch)))
    for name, tensor in theirs.items():
        assert str(ours[name].dtype).split(".")[-1] == str(tensor.dtype).split(".")[-1]
        np.testing.assert_array_equal(ours[name].numpy(), tensor.numpy())


def test_a_false_complex128_listing_is_refused():
    data = saved({"z": chainrule.tensor([1 + 2j], dtype=chainrule.complex128)})
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + length])
    header["__metadata__"]["chainrule.complex128"] = json.dumps(["missing"])
    text = json.dumps(header).encode()
    tampered = struct.pack("<Q", len(text)) + text + data[8 + length :]
    with pytest.raises(ValueError, match="listed as complex128"):
        chainrule.load(io.BytesIO(tampered))
