"""The same nested tensor made by PyTorch and by chainrule, and their comparison (for the nested tests)."""
import numpy as np
import torch

import chainrule
import chainrule.nested


def layouts(layout):
    """(PyTorch's, chainrule's) layout named ``layout``: "strided" or "jagged"."""
    return getattr(torch, layout), (chainrule.strided if layout == "strided" else chainrule.nested.jagged)


def random_arrays(rng, shapes):
    return [rng.standard_normal(shape) for shape in shapes]


def both_nested(arrays, layout="strided", requires_grad=False, dtype="float64"):
    """(torch's, chainrule's) ``nested_tensor`` of the NumPy ``arrays``."""
    theirs_layout, ours_layout = layouts(layout)
    theirs = torch.nested.nested_tensor([torch.tensor(each) for each in arrays], layout=theirs_layout,
                                        dtype=getattr(torch, dtype), requires_grad=requires_grad)
    ours = chainrule.nested.nested_tensor([chainrule.tensor(each) for each in arrays], layout=ours_layout,
                                          dtype=getattr(chainrule, dtype), requires_grad=requires_grad)
    return theirs, ours


def assert_same(ours, theirs, atol=1e-6):
    """Nested or dense, the same layout, shapes and values (component by component where nested)."""
    assert ours.is_nested == theirs.is_nested
    if theirs.is_nested:
        assert ours.layout._name == str(theirs.layout).removeprefix("torch.")
        ours_pieces, theirs_pieces = ours.unbind(), theirs.unbind()
        assert len(ours_pieces) == len(theirs_pieces)
        for mine, expected in zip(ours_pieces, theirs_pieces):
            assert_same(mine, expected, atol)
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=atol, rtol=1e-5)
