"""backends.quantized: the engine setting, checked as PyTorch's."""
import pytest
import torch

import chainrule


def test_engine_reads_sets_and_refuses_as_pytorchs():
    quantized = chainrule.backends.quantized
    assert quantized.supported_engines == torch.backends.quantized.supported_engines
    assert quantized.engine == torch.backends.quantized.engine
    try:
        quantized.engine = "qnnpack"
        assert quantized.engine == "qnnpack"
        for bad, message in [("foo", "foo is not a valid value for quantized engine"), ("none", "quantized engine NoQEngine")]:
            with pytest.raises(RuntimeError, match=message):
                quantized.engine = bad
    finally:
        quantized.engine = "x86"
