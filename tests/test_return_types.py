"""``return_types``: the named tuples operations return are made as PyTorch's (CPython struct
sequences): from one sequence of their fields, which is what code rebuilding results does
(``type(result)(new_values)`` in a tree map), and they pickle and copy as such."""
import copy
import pickle

import pytest
import torch

import chainrule


@pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])
def test_made_from_one_sequence_with_its_field_counts(lib):
    result = lib.tensor([[1.0, 5.0], [3.0, 2.0]]).max(dim=1)
    rebuilt = type(result)([value * 2 for value in result])
    assert type(rebuilt) is type(result) and rebuilt.values.tolist() == [10.0, 6.0] and rebuilt.indices.tolist() == [2, 0]
    assert (type(result).n_fields, type(result).n_sequence_fields, type(result).n_unnamed_fields) == (2, 2, 0)
    assert lib.return_types.sort((lib.tensor(1.0), lib.tensor(0))).values.item() == 1.0
    for copied in (pickle.loads(pickle.dumps(result)), copy.deepcopy(result), copy.copy(result)):
        assert type(copied) is type(result) and copied.values.tolist() == result.values.tolist()


def test_wrong_forms_are_pytorchs_type_errors():
    for lib in (chainrule, torch):
        for arguments, words in [((1, 2), "dict"), ((5,), "requires a sequence"), (([1],), "takes a 2-sequence (1-sequence given)")]:
            with pytest.raises(TypeError) as raised:
                lib.return_types.max(*arguments)
            if lib is chainrule and words != "dict":
                assert words in str(raised.value)
