"""chainrule.jit: decorated and traced code runs eagerly, unchanged."""
import io
import warnings

import pytest
import torch

import chainrule


def test_a_scripted_function_is_the_function_and_a_traced_one_is_run_as_pytorch_runs_it():
    calls = []

    def double(x):
        calls.append(x.shape)
        return x * 2

    with pytest.warns(DeprecationWarning, match="torch.jit.script` is deprecated"):
        assert chainrule.jit.script(double) is double
    with pytest.warns(DeprecationWarning, match="torch.jit.trace` is deprecated"):
        assert chainrule.jit.trace(double, chainrule.ones(2)) is double
    assert len(calls) == 3  # as PyTorch: the trace, the second trace, the Python function
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        chainrule.jit.trace(double, example_kwarg_inputs={"x": chainrule.ones(3)}, check_trace=False)
        assert calls[-1] == (3,) and len(calls) == 4
        for lib in (torch, chainrule):
            with pytest.raises(RuntimeError, match="must match the size"):
                lib.jit.trace(lambda a, b: a + b, (lib.ones(2), lib.ones(3)))
            with pytest.raises(TypeError, match="'NoneType' object is not iterable"):
                lib.jit.trace(lambda a: a)
            with pytest.raises(RuntimeError, match="example_kwarg_inputs should be a dict"):
                lib.jit.trace(lib.nn.Linear(1, 1))
            with pytest.raises(RuntimeError, match="cannot be multiplied"):
                lib.jit.trace(lib.nn.Linear(3, 2), lib.ones(4, 5))


class _Net(torch.nn.Module):
    """A module with a helper method, a plain attribute and a branch on the training flag."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 2)
        self.bn = torch.nn.BatchNorm1d(2)
        self.scale = 2.0

    def forward(self, x):
        return self.helper(self.bn(self.fc(x))) * (1.0 if self.training else 0.5)

    def helper(self, y):
        return y * self.scale


def _as(lib, module_class):
    """``module_class`` (written with torch) built in ``lib``: the same class with lib's modules."""
    return type(module_class.__name__, (lib.nn.Module,), {"__init__": _net_init(lib), "forward": module_class.forward, "helper": module_class.helper})


def _net_init(lib):
    def __init__(self):
        lib.nn.Module.__init__(self)
        self.fc = lib.nn.Linear(3, 2)
        self.bn = lib.nn.BatchNorm1d(2)
        self.scale = 2.0
    return __init__


@pytest.mark.parametrize("kind", ["script", "trace"])
def test_scripted_and_traced_modules_share_parameters_not_structure_as_in_pytorch(kind):
    outcomes = []
    for lib in (torch, chainrule):
        lib.manual_seed(0)
        model = _as(lib, _Net)()
        x = lib.randn(4, 3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            copy = lib.jit.script(model) if kind == "script" else lib.jit.trace(model, x)
            assert lib.jit.script(copy) is copy
        expected = {"script": ("RecursiveScriptModule", "RecursiveScriptModule"), "trace": ("TopLevelTracedModule", "TracedModule")}[kind]
        assert (type(copy).__name__, type(copy.fc).__name__) == expected
        assert isinstance(copy, (lib.jit.ScriptModule, lib.nn.Module)) and isinstance(copy, lib.jit.ScriptModule)
        assert copy.fc.weight is model.fc.weight and copy.bn.running_mean is model.bn.running_mean
        copy.eval()
        assert model.training and model.bn.training and not copy.bn.training
        copy.fc.bias = lib.nn.Parameter(lib.zeros(2))
        assert model.fc.bias is not copy.fc.bias
        outcomes.append((
            repr(copy), copy.original_name, [name for name, _ in copy.named_parameters()], list(copy.state_dict()),
            model.bn.num_batches_tracked.item(),
            # a trace freezes the branches of its example run (here training mode); chainrule's runs forward anew
            [[round(value, 5) for value in row] for row in copy(x).tolist()] if kind == "script" else None,
        ))
    assert outcomes[0] == outcomes[1]


def test_trace_runs_a_module_as_often_as_pytorch_so_its_statistics_and_random_stream_agree():
    outcomes = []
    for lib in (torch, chainrule):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            counts = []
            for options in ({}, {"check_trace": False}, {"check_inputs": [(lib.randn(4, 2),), (lib.randn(4, 2),)]}):
                model = lib.nn.BatchNorm1d(2)
                lib.jit.trace(model, lib.randn(4, 2), **options)
                counts.append(model.num_batches_tracked.item())
            lib.manual_seed(0)
            with pytest.warns(lib.jit.TracerWarning, match="Output nr 1. of the traced function does not match"):
                lib.jit.trace(lib.nn.Dropout(0.5), lib.ones(4))
        outcomes.append((counts, lib.rand(1).item()))
    assert outcomes[0] == outcomes[1] and outcomes[0][0] == [5, 1, 9]


def test_the_deployment_recipe_script_save_load_runs_as_in_pytorch(tmp_path):
    """The tutorial's "Export/Load Model in TorchScript Format": script, ``save``, ``jit.load``, eval."""
    outcomes = []
    for lib in (torch, chainrule):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Dropout(0.2), lib.nn.Linear(4, 2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            path = str(tmp_path / f"{lib.__name__}_scripted.pt")
            lib.jit.script(model).save(path)
            loaded = lib.jit.load(path)
            traced = lib.jit.trace(model.eval(), lib.ones(1, 3))
            buffer = io.BytesIO()
            lib.jit.save(traced, buffer)
            buffer.seek(0)
            traced_loaded = lib.jit.load(buffer)
            with pytest.raises(AttributeError, match="'Linear' object has no attribute 'save'"):
                lib.jit.save(lib.nn.Linear(1, 1), path)
        loaded.eval()
        x = lib.randn(5, 3)
        outcomes.append((
            type(loaded).__name__, type(traced_loaded).__name__, repr(traced_loaded), loaded.original_name,
            loaded(x).tolist() == model(x).tolist(), traced_loaded(x).tolist() == model(x).tolist(), sorted(loaded.state_dict()),
        ))
    assert outcomes[0] == outcomes[1]


def test_a_scripted_modules_code_is_the_forward_it_runs():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = chainrule.jit.script(_as(chainrule, _Net)())
        linear = chainrule.jit.script(chainrule.nn.Linear(1, 1))
    assert scripted.code.startswith("def forward(self, x):") and "self.helper(" in scripted.code
    assert "def forward(self, input" in linear.code


def test_annotations_work_bare_and_with_options():
    def helper(x):
        return x

    for decorator in (chainrule.jit.ignore, chainrule.jit.unused, chainrule.jit.export):
        assert decorator(helper) is helper
    assert chainrule.jit.ignore(drop=True)(helper) is helper
    assert chainrule.jit.is_scripting() is False and chainrule.jit.is_tracing() is False


def test_onednn_fusion_is_a_setting_read_back_as_in_pytorch():
    import torch

    for lib in (chainrule, torch):
        assert lib.jit.onednn_fusion_enabled() is False
        lib.jit.enable_onednn_fusion(True)
        assert lib.jit.onednn_fusion_enabled() is True
        lib.jit.enable_onednn_fusion(False)
        assert lib.jit.onednn_fusion_enabled() is False


def test_final_is_typing_final_as_in_pytorch():
    import typing

    class Attention(chainrule.nn.Module):  # timm's layers annotate their constants so
        fused_attn: chainrule.jit.Final[bool]

    assert chainrule.jit.Final is typing.Final and Attention.__annotations__["fused_attn"] == typing.Final[bool]


def test_script_module_is_a_module_whose_script_methods_run_as_python():
    class Doubler(chainrule.jit.ScriptModule):  # RWKV_in_150_lines' form
        def __init__(self):
            super().__init__()
            self.scale = chainrule.nn.Parameter(chainrule.tensor(2.0))

        with pytest.warns(DeprecationWarning, match="`torch.jit.script_method` is deprecated"):
            @chainrule.jit.script_method
            def forward(self, x):
                return x * self.scale

    model = Doubler()
    assert isinstance(model, chainrule.nn.Module) and [name for name, _ in model.named_parameters()] == ["scale"]
    assert model(chainrule.tensor([1.0, 3.0])).tolist() == [2.0, 6.0]


def test_save_load_fork_and_futures_as_pytorchs(tmp_path):
    """jit.save/load round-trip a (scripted) module with its extra files; fork runs its function
    into a Future that wait reads; torch.futures chains and collects."""
    outcomes = []
    for lib in (torch, chainrule):
        lib.manual_seed(0)
        model = lib.nn.Linear(2, 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            lib.jit.save(lib.jit.script(model), str(tmp_path / f"{lib.__name__}.pt"), _extra_files={"meta.txt": "hello"})
        extra = {"meta.txt": ""}
        loaded = lib.jit.load(str(tmp_path / f"{lib.__name__}.pt"), _extra_files=extra)
        forked = lib.jit.fork(lambda x: x * 2, lib.ones(2))
        first = lib.futures.Future()
        chained = first.then(lambda done: done.value() * 3)
        first.set_result(2)
        with pytest.raises(RuntimeError, match="can only be marked completed once"):
            first.set_result(5)
        outcomes.append((
            loaded(lib.ones(1, 2)).tolist() == model(lib.ones(1, 2)).tolist(), extra, lib.jit.wait(forked).tolist(), forked.done(),
            chained.wait(), lib.futures.wait_all([first, chained]), [each.value() for each in lib.futures.collect_all([first, chained]).wait()],
        ))
    assert outcomes[0] == outcomes[1]


def test_jit_isinstance_reads_contained_types_as_pytorchs():
    from typing import Dict, List, Optional, Tuple, Union

    cases = [("window", str), ([1, 2], list[int]), ([1, "a"], list[int]), ({"a": 1.0}, Dict[str, float]), ((1, 2), Tuple[int, int]),
             ((1, 2, 3), tuple[int, int]), (None, Optional[int]), ("s", Optional[int]), (1.0, Union[int, float]), ([[1]], List[List[int]])]
    for lib in (torch, chainrule):
        assert [lib.jit.isinstance(value, kind) for value, kind in cases] == [True, True, False, True, True, False, True, False, True, True]
        assert lib.jit.isinstance(lib.ones(1), lib.Tensor)
        with pytest.raises(RuntimeError, match="Attempted to use list without a contained type"):
            lib.jit.isinstance([1], list)
        assert lib._C._log_api_usage_once("torchaudio.transforms.Spectrogram") is None


def test_is_tracing_is_true_while_a_trace_runs_the_function_as_in_pytorch():
    for lib in (torch, chainrule):
        seen = []

        def shifted(x):
            seen.append(lib.jit.is_tracing())
            return x + 1

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            lib.jit.trace(shifted, lib.ones(2))
        assert seen == [True, True, False] and lib.jit.is_tracing() is False  # the trace, the second trace, the check


def test_a_trace_warns_of_tensors_turned_into_python_values_as_pytorchs():
    cases = {
        "boolean": lambda x: x * 2 if bool(x.sum() > 0) else x, "number": lambda x: x * x.sum().item(),
        "float": lambda x: x * float(x.sum()), "integer": lambda x: x * int(x.sum()), "list": lambda x: x * x.tolist()[0],
        "NumPy array": lambda x: x * x.numpy()[0], "Iterating": lambda x: sum(v for v in x), "len": lambda x: x * len(x),
        None: lambda x: x[: x.sum().long()].reshape(x.shape[0], 1),
    }
    for lib in (torch, chainrule):
        for kind, function in cases.items():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                lib.jit.trace(function, lib.ones(3), check_trace=False)
            traced = [str(each.message) for each in caught if each.category is lib.jit.TracerWarning]
            assert len(traced) == (kind is not None) and all(kind in message for message in traced), (lib.__name__, kind, traced)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert bool(lib.ones(1)) and lib.ones(1).item() == 1.0 and len(lib.ones(2)) == 2  # outside a trace: silent


def test_the_inference_and_fusion_names_behave_as_pytorchs():
    import torch

    for lib in (chainrule, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lib.jit.strict_fusion():
                pass
        assert any("Only works in script mode" in str(warning.message) for warning in caught)
        with pytest.raises(RuntimeError, match="optimize_for_inference expects a ScriptModule"):
            lib.jit.optimize_for_inference(lib.nn.Linear(2, 2))
        assert lib.jit.set_fusion_strategy([("DYNAMIC", 3)]) == [("STATIC", 2), ("DYNAMIC", 10)]
        assert lib.jit.set_fusion_strategy([("STATIC", 2), ("DYNAMIC", 10)]) == [("DYNAMIC", 3)]
        with pytest.raises(ValueError, match="FusionBehavior only supported 'STATIC' or 'DYNAMIC', got: X"):
            lib.jit.set_fusion_strategy([("X", 1)])
        assert tuple(lib.jit.Attribute([], list)) == ([], list) and lib.jit.Attribute(3, int).value == 3
        assert issubclass(lib.jit.Error, Exception)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = chainrule.nn.Sequential(chainrule.nn.Linear(3, 2), chainrule.nn.Dropout(0.5))
        optimized = chainrule.jit.optimize_for_inference(chainrule.jit.script(model))
    x = chainrule.randn(4, 3)
    assert not optimized.training and chainrule.equal(optimized(x), optimized(x))
