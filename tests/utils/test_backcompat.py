"""chainrule.utils.backcompat: the broadcasting notes' switches, kept as PyTorch keeps them."""
import warnings

import torch

import chainrule


def test_backcompat_switches_are_there_off_and_warn_of_nothing_as_pytorchs():
    results = []
    for lib in (torch, chainrule):
        backcompat = lib.utils.backcompat  # (reachable without importing it, as PyTorch's)
        facts = [backcompat.broadcast_warning.enabled, backcompat.keepdim_warning.get_enabled()]
        backcompat.broadcast_warning.enabled = True
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                shape = tuple(lib.add(lib.ones(4, 1), lib.ones(4)).shape)
            facts += [backcompat.broadcast_warning.get_enabled(), shape, [str(each.message) for each in caught]]
        finally:
            backcompat.broadcast_warning.set_enabled(False)
        results.append(facts)
    assert results[1] == results[0] == [False, False, True, (4, 4), []]
