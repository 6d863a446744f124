"""ChannelShuffle and F.channel_shuffle against PyTorch: values, gradients, gradcheck, repr and errors."""
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from tests.nn.pairs import error_of
from tests.ops.oracle import library_case, sizes, table_test


def grouped(groups):
    """(N, C · groups, *) with 1 or 2 trailing dimensions (PyTorch wants more than 2 dimensions)."""
    return st.tuples(st.integers(0, 3), st.integers(1, 3), sizes(1, 2)).map(
        lambda drawn: ((drawn[0], drawn[1] * groups, *drawn[2]),)
    )


TABLE = [
    library_case("channel_shuffle_2", lambda lib, x: lib.nn.functional.channel_shuffle(x, 2), grouped(2)),
    library_case("channel_shuffle_3", lambda lib, x: lib.nn.ChannelShuffle(3)(x), grouped(3)),
    library_case("channel_shuffle_1", lambda lib, x: lib.nn.ChannelShuffle(1)(x), grouped(1)),
]

test_op = table_test(TABLE, max_examples=5)


def test_repr_matches_torch():
    assert repr(chainrule.nn.ChannelShuffle(4)) == repr(torch.nn.ChannelShuffle(4))


@pytest.mark.parametrize("groups, shape", [(4, (1, 6, 2)), (3, (6,)), (2, (6, 2)), (0, (1, 6, 2))])
def test_errors_match_torch(groups, shape):
    ours = error_of(lambda: chainrule.nn.ChannelShuffle(groups)(chainrule.ones(*shape)))
    assert ours is not None and ours == error_of(lambda: torch.nn.ChannelShuffle(groups)(torch.ones(*shape)))
