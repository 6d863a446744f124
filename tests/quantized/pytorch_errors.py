"""One check for the bad-input tests of quantization: chainrule raises what PyTorch raises."""
import pytest


def assert_raises_as_pytorch(our_call, their_call, words=25):
    """``our_call()`` raises PyTorch's exception type for ``their_call()``, its message starting with
    PyTorch's first ``words`` characters (PyTorch's TypeErrors list overloads: only the type counts)."""
    with pytest.raises(Exception) as theirs:
        their_call()
    with pytest.raises(type(theirs.value)) as ours:
        our_call()
    if type(theirs.value) is not TypeError:
        first_words = str(theirs.value).split("\n")[0][:words]
        assert str(ours.value).startswith(first_words), (str(ours.value), str(theirs.value))
