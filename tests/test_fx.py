"""chainrule.fx: the ``wrap`` that model code (timm) calls on import, as torch.fx's."""
import pytest
import torch

import chainrule

MODULE = '''
import {lib}.fx

@{lib}.fx.wrap
def scaled(x):
    return x * 2

{lib}.fx.wrap("len")
'''


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_wrap_returns_the_function_and_is_called_at_a_module_top_level(lib):
    namespace = {}
    exec(compile(MODULE.format(lib=lib.__name__), "model_code.py", "exec"), namespace)
    assert namespace["scaled"](lib.ones(2)).tolist() == [2.0, 2.0]

    def inside_a_function():
        lib.fx.wrap(len)

    with pytest.raises(NotImplementedError, match="wrap must be called at the top level of a module"):
        inside_a_function()
    with pytest.raises(RuntimeError, match="Must be either a callable or string name"):
        exec("import {0}.fx; {0}.fx.wrap(3)".format(lib.__name__), {})
