"""chainrule.export.save / load: a program round-trips as data, and loading runs no code from the file."""
import io
import json
import zipfile

import numpy as np
import pytest

import chainrule
import chainrule.export
from tests.export.test_export import as_lib, build, inputs, leaves


def round_trip(program, **save_options):
    buffer = io.BytesIO()
    chainrule.export.save(program, buffer, **save_options)
    buffer.seek(0)
    return chainrule.export.load(buffer)


@pytest.mark.parametrize("kind", ["mlp", "cnn", "nested", "branch"])
def test_a_loaded_program_computes_what_the_saved_one_did(kind):
    chainrule.manual_seed(0)
    model = build(chainrule, kind).eval()
    args, kwargs = inputs(kind)
    program = chainrule.export.export(model, as_lib(chainrule, args), as_lib(chainrule, kwargs))
    loaded = round_trip(program)
    assert str(loaded) == str(program)
    assert [spec.kind for spec in loaded.graph_signature.input_specs] == [spec.kind for spec in program.graph_signature.input_specs]
    for name, tensor in program.state_dict.items():
        np.testing.assert_array_equal(loaded.state_dict[name].detach().numpy(), tensor.detach().numpy())
    for seed in (3, 4):
        args, kwargs = inputs(kind, seed=seed)
        for expected, got in zip(leaves(program.module()(*as_lib(chainrule, args), **as_lib(chainrule, kwargs))),
                                 leaves(loaded.module()(*as_lib(chainrule, args), **as_lib(chainrule, kwargs))), strict=True):
            np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_dynamic_ranges_and_checks_survive_a_file_on_disk(tmp_path):
    model = build(chainrule, "mlp")
    batch = chainrule.export.Dim("batch", min=2, max=16)
    program = chainrule.export.export(model, (chainrule.randn(4, 3),), dynamic_shapes={"x": {0: batch}})
    path = tmp_path / "mlp.pt2"
    chainrule.export.save(program, path, extra_files={"note.txt": "trained on moons"})
    extra = {"note.txt": ""}
    loaded = chainrule.export.load(str(path), extra_files=extra)
    assert extra["note.txt"] == "trained on moons"
    assert repr(loaded.range_constraints["batch"]) == "VR[2, 16]"
    x = chainrule.randn(9, 3)
    np.testing.assert_allclose(loaded.module()(x).detach().numpy(), model(x).detach().numpy(), rtol=1e-6)
    with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[0\] <= 16"):
        loaded.module()(chainrule.randn(17, 3))
    assert all(isinstance(parameter, chainrule.nn.Parameter) for parameter in loaded.module().parameters())


def test_files_that_are_no_program_are_refused(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(zipfile.BadZipFile):
        chainrule.export.load(text)
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("readme.md", "not a program")
    with pytest.raises(RuntimeError, match="is not a saved chainrule.export program"):
        chainrule.export.load(other_zip)


def tampered(program, change):
    """The saved bytes of ``program`` with its program.json changed by ``change``."""
    buffer = io.BytesIO()
    chainrule.export.save(program, buffer)
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    record = json.loads(entries["chainrule_export/program.json"])
    change(record)
    entries["chainrule_export/program.json"] = json.dumps(record).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    out.seek(0)
    return out


def test_loading_calls_only_allowed_functions(monkeypatch):
    program = chainrule.export.export(build(chainrule, "mlp"), (chainrule.randn(2, 3),))
    calls = []
    monkeypatch.setattr("os.system", lambda command: calls.append(command))

    def call_os_system(record):
        node = next(node for node in record["graph"]["nodes"] if node["op"] == "call_function")
        node["target"] = "os.system"

    def call_private_method(record):
        node = next(node for node in record["graph"]["nodes"] if node["op"] == "call_method")
        node["target"] = "__reduce_ex__"

    def structure_of_an_imported_type(record):
        record["in_spec"] = json.dumps([1, {"type": "collections.namedtuple", "context": "{}", "children_spec": []}])

    for change, message in ((call_os_system, "os.system"), (call_private_method, "__reduce_ex__"), (structure_of_an_imported_type, "namedtuple")):
        with pytest.raises(RuntimeError, match=f"not a well-formed chainrule.export program.*{message}"):
            chainrule.export.load(tampered(program, change))
    assert calls == []
