"""torch.sparse.check_sparse_tensor_invariants and PyTorch's warning when a constructor is not told
whether to check (torchmetrics' contingency matrices build sparse tensors so)."""
import warnings

import pytest
import torch

import chainrule


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_a_constructor_not_told_whether_to_check_warns_as_pytorchs(lib):
    indices, values = lib.tensor([[0, 1], [1, 0]]), lib.tensor([1.0, 2.0])
    lib.set_warn_always(True)  # PyTorch's once-a-process warning, every time
    try:
        for make, warns in ((lambda: lib.sparse_coo_tensor(indices, values, (2, 2)), True),
                            (lambda: lib.sparse_coo_tensor((2, 2)), True),
                            (lambda: lib.sparse_coo_tensor(indices, values, (2, 2), check_invariants=False), False),
                            (lambda: lib.sparse_coo_tensor(indices, values, (2, 2), check_invariants=True), False),
                            (lambda: lib.ones(2, 2).to_sparse(), False)):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                make()
            messages = [str(each.message) for each in caught if "invariant checks are implicitly disabled" in str(each.message)]
            assert bool(messages) == warns
        with lib.sparse.check_sparse_tensor_invariants(), warnings.catch_warnings():
            warnings.simplefilter("error")
            assert lib.sparse.check_sparse_tensor_invariants.is_enabled()
            lib.sparse_coo_tensor(indices, values, (2, 2))
        assert not lib.sparse.check_sparse_tensor_invariants.is_enabled()
    finally:
        lib.set_warn_always(False)


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_the_switch_is_a_setting_a_context_and_a_decorator(lib):
    switch = lib.sparse.check_sparse_tensor_invariants
    switch.enable()
    assert switch.is_enabled()
    switch.disable()
    checking = switch(False)
    with checking:
        with pytest.raises(RuntimeError, match="already activated"):
            checking.__enter__()

    @switch()
    def inside():
        return switch.is_enabled()

    assert inside() and not switch.is_enabled()
    with pytest.raises(RuntimeError, match="size is inconsistent with indices|out of bounds|index"):
        with switch():
            lib.sparse_coo_tensor(lib.tensor([[0, 3]]), lib.tensor([1.0, 2.0]), (2,))
