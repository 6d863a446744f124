"""``chainrule.testing``, as ``torch.testing``: ``assert_close`` (and its deprecated older form
``assert_allclose``) to compare results, ``make_tensor`` to draw test inputs."""
from chainrule.testing.comparison import assert_allclose, assert_close
from chainrule.testing.creation import make_tensor

__all__ = ["assert_allclose", "assert_close", "make_tensor"]
