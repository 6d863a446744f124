"""One registration makes an operation public three ways: ``chainrule.NAME``, ``Tensor.NAME`` and
(for in-place forms) ``Tensor.NAME_``; the function and the method never drift apart."""
import torch

import chainrule
from chainrule.ops import registry


def test_every_function_pytorch_also_has_as_a_method_is_a_method():
    missing = [
        name
        for name in vars(registry.functions)
        if hasattr(torch.Tensor, name) and not name.startswith("_") and not hasattr(chainrule.Tensor, name)
    ]
    assert not missing, f"public functions that PyTorch also offers as Tensor methods, missing here: {missing}"


def test_every_registered_function_is_exported_at_the_top_level():
    """As itself, in the wrapper that hands calls with an overriding argument to it (overrides.py)."""
    for name, function in vars(registry.functions).items():
        exported = getattr(chainrule, name)
        assert exported.__wrapped__ is function and exported._overridable, name


def test_the_method_and_the_function_compute_the_same():
    x = chainrule.tensor([0.25, -1.5, 2.0])
    for name in ("exp", "atan", "sinh", "erf", "abs", "square", "reciprocal"):
        method_result = getattr(x, name)()
        function_result = getattr(chainrule, name)(x)
        assert chainrule.equal(method_result, function_result), name


def test_in_place_forms_write_into_the_tensor():
    x = chainrule.tensor([0.25, -1.5, 2.0])
    expected = chainrule.atan(x)
    assert x.atan_() is x
    assert chainrule.equal(x, expected)


def test_out_writes_into_the_given_tensor():
    out = chainrule.empty(3)
    result = chainrule.exp(chainrule.tensor([0.0, 1.0, 2.0]), out=out)
    assert result is out
    assert chainrule.allclose(out, chainrule.tensor([1.0, 2.7182817, 7.389056]))
