"""chainrule.jit: decorated and traced code runs eagerly, unchanged."""
import warnings

import pytest
import torch

import chainrule


def test_script_and_trace_return_what_they_are_given():
    model = chainrule.nn.Linear(2, 1)

    def double(x):
        return x * 2

    with pytest.warns(DeprecationWarning, match="torch.jit.script` is deprecated"):
        assert chainrule.jit.script(double) is double
    assert chainrule.jit.trace(model, chainrule.randn(1, 2)) is model


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
