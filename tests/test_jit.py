"""chainrule.jit: decorated and traced code runs eagerly, unchanged."""
import pytest

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
