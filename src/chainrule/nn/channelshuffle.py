"""ChannelShuffle: interleave the channels of ``groups`` groups (ShuffleNet)."""
from chainrule.nn import functional as F
from chainrule.nn.module import Module


class ChannelShuffle(Module):
    """(N, C, *) -> (N, C, *): the channels, in ``groups`` groups, interleaved (``F.channel_shuffle``)."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
