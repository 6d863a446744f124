"""Making MaskedTensors, as ``torch.masked``'s two factories (as ``torch.tensor`` and ``torch.as_tensor``):

    masked_tensor(data, mask, requires_grad=False)   # a new leaf holding copies of data and mask
    as_masked_tensor(data, mask)                     # data's graph goes on: gradients flow back to data
"""
from chainrule.masked.maskedtensor import MaskedTensor, check_members, masked_result


def masked_tensor(data, mask, requires_grad=False):
    """A new MaskedTensor leaf: copies of ``data`` and the bool ``mask`` (same shape)."""
    return MaskedTensor(data, mask, requires_grad)


def as_masked_tensor(data, mask):
    """A MaskedTensor of ``data`` itself, differentiable: the gradient that reaches it goes on to ``data``."""
    check_members(data, mask)
    return masked_result(data, mask)
