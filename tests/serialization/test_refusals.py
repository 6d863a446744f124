"""Every file load can't read raises one ValueError naming it, before any large allocation, never unpickling."""
import io
import json
import pickle
import struct
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

import chainrule

UNPICKLED = []


def _record_unpickling():
    """Called only if something unpickles the booby-trapped payload below."""
    UNPICKLED.append(True)


class Trap:
    def __reduce__(self):
        return (_record_unpickling, ())


def write_bytes(tmp_path, content, name="file.pt"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def assert_refused(path, reason):
    with pytest.raises(ValueError, match=f"(?s){path.name} is not a checkpoint chainrule can read: .*{reason}.*Nothing was loaded"):
        chainrule.load(path)


def small_checkpoint():
    buffer = io.BytesIO()
    chainrule.save({"w": chainrule.arange(6.0).reshape(2, 3), "step": 3, "ids": chainrule.tensor([1, 2])}, buffer)
    return buffer.getvalue()


def test_every_truncation_is_refused(tmp_path):
    content = small_checkpoint()
    for keep in range(len(content)):
        assert_refused(write_bytes(tmp_path, content[:keep]), "")


def test_bit_flips_load_or_raise_value_error(tmp_path):
    content = small_checkpoint()
    rng = np.random.default_rng(0)
    for position in rng.integers(0, len(content), 300):
        damaged = bytearray(content)
        damaged[position] ^= 1 << int(rng.integers(0, 8))
        try:
            chainrule.load(io.BytesIO(bytes(damaged)))
        except ValueError as error:
            assert "is not a checkpoint chainrule can read" in str(error)


def test_refuses_random_bytes_empty_files_and_npy(tmp_path):
    assert_refused(write_bytes(tmp_path, np.random.default_rng(0).bytes(300)), "neither a safetensors header")
    assert_refused(write_bytes(tmp_path, b""), "it is empty")
    buffer = io.BytesIO()
    np.save(buffer, np.ones(3))
    assert_refused(write_bytes(tmp_path, buffer.getvalue()), "single .npy array")


def test_refuses_code_in_torch_save_files_without_unpickling_it(tmp_path):
    torch.save({"weight": torch.ones(2), "trap": Trap()}, tmp_path / "model.pt")
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed\\. .*model.pt is a PyTorch file whose pickle imports .*_record_unpickling"):
        chainrule.load(tmp_path / "model.pt")
    torch.save({"trap": Trap()}, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed\\. .*legacy.pt is a PyTorch file"):
        chainrule.load(tmp_path / "legacy.pt")
    assert_refused(write_bytes(tmp_path, pickle.dumps(Trap()), "plain.pkl"), "pickle")
    assert UNPICKLED == []


def safetensors_bytes(header, data=b""):
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def peak_bytes_while_refusing(path):
    tracemalloc.start()
    try:
        with pytest.raises(ValueError):
            chainrule.load(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_lying_safetensors_header_is_refused_before_allocating(tmp_path):
    liar = write_bytes(tmp_path, safetensors_bytes({"w": {"dtype": "F32", "shape": [2**40], "data_offsets": [0, 2**42]}}, bytes(16)))
    assert peak_bytes_while_refusing(liar) < 4 * 2**20
    assert_refused(liar, "offsets .* do not hold it")
    huge_length = write_bytes(tmp_path, struct.pack("<Q", 2**62) + b"{}", "length.pt")
    assert peak_bytes_while_refusing(huge_length) < 4 * 2**20
    assert_refused(huge_length, "header declares 4611686018427387904 bytes")


@pytest.mark.parametrize(
    "entry, reason",
    [
        ({"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}, "offsets"),
        ({"dtype": "F32", "shape": [-1], "data_offsets": [0, 8]}, "not a list of sizes"),
        ({"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}, "offsets"),
        ({"dtype": "C128", "shape": [1], "data_offsets": [0, 8]}, "dtype 'C128'"),
        ({"dtype": "BF16", "shape": [4], "data_offsets": [0, 8]}, "dtype 'BF16'"),
        ({"dtype": "F32", "shape": [2]}, "data_offsets 'None'"),
        ("not an object", "not an object"),
    ],
)
def test_refuses_bad_safetensors_entries(tmp_path, entry, reason):
    assert_refused(write_bytes(tmp_path, safetensors_bytes({"w": entry}, bytes(8))), reason)


def test_refuses_dtypes_that_are_not_numbers_or_bools(tmp_path):
    safetensors.torch.save_file({"w": torch.ones(2, dtype=torch.bfloat16)}, tmp_path / "bf16.safetensors")
    assert_refused(tmp_path / "bf16.safetensors", "dtype 'BF16'.*numbers and booleans only")
    safetensors.torch.save_file({"w": torch.ones(2, dtype=torch.float8_e4m3fn)}, tmp_path / "f8.safetensors")
    assert_refused(tmp_path / "f8.safetensors", "dtype 'F8_E4M3'")


def ours(metadata, arrays=None):
    return safetensors.numpy.save(arrays or {"t": np.ones(2, dtype=np.float32)}, metadata=metadata)


@pytest.mark.parametrize(
    "metadata, reason",
    [
        ({"format": "chainrule.checkpoint", "version": "99", "object": "1"}, "format version '99'"),
        ({"format": "chainrule.checkpoint", "version": "2", "object": "{not json"}, "JSONDecodeError"),
        ({"format": "chainrule.checkpoint", "version": "2", "object": '{"tensor": "t7"}'}, "missing entry 't7'"),
        ({"format": "chainrule.checkpoint", "version": "2", "object": '{"function": "os.system"}'}, "unknown node kind"),
        ({"format": "chainrule.checkpoint", "version": "2", "object": '{"dict": [[[1], 2]]}'}, "dict key of type list"),
        ({"format": "chainrule.checkpoint", "version": "2", "object": '{"dict": [1, 2]}'}, "not a \\[key, value\\] pair"),
        ({"format": "chainrule.checkpoint", "version": "2", "object": "[" * 100000 + "]" * 100000}, "RecursionError"),
        ({"format": "chainrule.checkpoint", "version": "2", "pickle": "%%%"}, "damaged"),
        ({"format": "chainrule.checkpoint", "version": "2"}, "neither 'object' nor 'pickle'"),
    ],
)
def test_refuses_bad_metadata(tmp_path, metadata, reason):
    assert_refused(write_bytes(tmp_path, ours(metadata)), reason)


def test_a_safetensors_file_from_elsewhere_loads_as_its_tensors(tmp_path):
    safetensors.numpy.save_file({"b": np.arange(3, dtype=np.int64), "a": np.ones((2, 2), dtype=np.float32)}, tmp_path / "x.safetensors")
    loaded = chainrule.load(tmp_path / "x.safetensors")
    assert set(loaded) == {"a", "b"} and loaded["b"].tolist() == [0, 1, 2]


# ----------------------------------------------------------------- chainrule 0.1 .npz checkpoints
def old_checkpoint(structure, compress=False, **arrays):
    """An .npz checkpoint as chainrule 0.1 wrote it (header entry + stored .npy entries)."""
    header = json.dumps({"format": "chainrule.checkpoint", "version": 1, "object": structure}).encode()
    buffer = io.BytesIO()
    saver = np.savez_compressed if compress else np.savez
    saver(buffer, __chainrule__=np.frombuffer(header, dtype=np.uint8), **arrays)
    return buffer.getvalue()


def test_an_old_npz_checkpoint_loads_once_more_with_a_warning_to_resave(tmp_path):
    path = write_bytes(tmp_path, old_checkpoint({"dict": [["w", {"tensor": "t0", "requires_grad": False}], [3, "x"]]}, t0=np.ones(2, np.float32)), "old.npz")
    with pytest.warns(FutureWarning, match=r"re-save it now, chainrule.save\(chainrule.load\(path\), path\)"):
        loaded = chainrule.load(path)
    assert loaded["w"].tolist() == [1.0, 1.0] and loaded[3] == "x"
    chainrule.save(loaded, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert chainrule.load(path)[3] == "x", "a re-saved checkpoint loads without a warning"


def test_an_old_npz_with_strings_or_pickles_is_refused(tmp_path):
    assert_refused(write_bytes(tmp_path, old_checkpoint({"ndarray": "t0"}, t0=np.array(["cat"]))), "<U3 values")
    assert_refused(write_bytes(tmp_path, old_checkpoint({"ndarray": "t0"}, t0=np.array([Trap()], dtype=object))), "object values")
    np.savez(tmp_path / "plain.npz", weight=np.ones(3))
    assert_refused(tmp_path / "plain.npz", "no '__chainrule__' header entry .*weight")
    assert UNPICKLED == []


def test_a_zip_bomb_is_refused_before_allocating(tmp_path):
    path = tmp_path / "bomb.npz"
    header = json.dumps({"format": "chainrule.checkpoint", "version": 1, "object": {"ndarray": "t0"}}).encode()
    count = 2**24  # 128 MiB of float64 zeros, about 128 KiB compressed
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("__chainrule__.npy", _npy(np.frombuffer(header, np.uint8)))
        with archive.open("t0.npy", "w", force_zip64=True) as member:
            member.write(_npy_header(np.float64, (count,)))
            for _ in range(count * 8 // 2**20):
                member.write(bytes(2**20))
    assert path.stat().st_size < 2**20
    assert peak_bytes_while_refusing(path) < 4 * 2**20
    assert_refused(path, "compressed.*zip bomb")


def test_a_lying_npy_header_is_refused_before_allocating(tmp_path):
    header = json.dumps({"format": "chainrule.checkpoint", "version": 1, "object": {"ndarray": "t0"}}).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("__chainrule__.npy", _npy(np.frombuffer(header, np.uint8)))
        archive.writestr("t0.npy", _npy_header(np.float32, (2**40,)) + bytes(16))
    path = write_bytes(tmp_path, buffer.getvalue())
    assert peak_bytes_while_refusing(path) < 4 * 2**20
    assert_refused(path, r"declares shape \(1099511627776,\)")


def _npy_header(dtype, shape):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()
