"""chainrule.random: the global stream's seeds and states, and fork_rng."""
import pytest

import chainrule


def _draws_after(block):
    chainrule.manual_seed(0)
    first = chainrule.rand(3).tolist()
    block()
    return first, chainrule.rand(3).tolist()


def test_fork_rng_puts_the_stream_back_as_it_was():
    def forked():
        with chainrule.random.fork_rng():
            inside.append(chainrule.rand(3).tolist())

    inside = []
    assert _draws_after(forked) == _draws_after(lambda: None)
    assert inside[0] == _draws_after(lambda: None)[1]  # the block drew what would have come next


def test_fork_rng_puts_the_stream_back_after_an_exception_and_can_be_disabled():
    def failing():
        with pytest.raises(ValueError), chainrule.random.fork_rng(devices=[]):
            chainrule.rand(10)
            raise ValueError

    assert _draws_after(failing) == _draws_after(lambda: None)

    def disabled():
        with chainrule.random.fork_rng(enabled=False):
            chainrule.rand(3)

    assert _draws_after(disabled) == _draws_after(lambda: chainrule.rand(3))
