"""``signal.windows`` against ``torch.signal.windows``: every window, symmetric and periodic, of
lengths 0, 1, 2 and more, in float32 and float64, and PyTorch's refusals."""
import numpy as np
import pytest
import torch

import chainrule

WINDOWS = [("hann", {}), ("hamming", {}), ("blackman", {}), ("bartlett", {}), ("nuttall", {}), ("cosine", {}),
           ("gaussian", {"std": 1.5}), ("exponential", {"tau": 2.0}), ("kaiser", {"beta": 5.0}),
           ("general_hamming", {"alpha": 0.6}), ("general_cosine", {"a": [0.5, 0.3, 0.2]})]


@pytest.mark.parametrize("name, options", WINDOWS, ids=[name for name, _ in WINDOWS])
def test_windows_are_pytorchs(name, options):
    for length in (0, 1, 2, 7, 8):
        for sym in (True, False):
            for dtype in ("float32", "float64"):
                ours = getattr(chainrule.signal.windows, name)(length, sym=sym, dtype=getattr(chainrule, dtype), **options)
                theirs = getattr(torch.signal.windows, name)(length, sym=sym, dtype=getattr(torch, dtype), **options)
                assert ours.dtype == getattr(chainrule, dtype)
                np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=2e-6 if dtype == "float32" else 1e-12, atol=1e-7)


@pytest.mark.parametrize("call", [
    lambda w, lib: w.hann(-1), lambda w, lib: w.hann(3, dtype=lib.int64), lambda w, lib: w.gaussian(3, std=0),
    lambda w, lib: w.exponential(3, center=1.0), lambda w, lib: w.kaiser(3, beta=-1), lambda w, lib: w.general_cosine(3, a=[]),
], ids=["negative_length", "integer_dtype", "zero_std", "symmetric_center", "negative_beta", "no_coefficients"])
def test_refusals_are_pytorchs(call):
    messages = []
    for lib in (torch, chainrule):
        with pytest.raises(ValueError) as raised:
            call(lib.signal.windows, lib)
        messages.append(str(raised.value).replace("chainrule", "torch"))
    assert messages[0] == messages[1]
