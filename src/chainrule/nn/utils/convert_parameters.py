"""All parameters as one flat vector and back, as ``torch.nn.utils.convert_parameters``."""
from chainrule.ops import join
from chainrule.tensor import Tensor


def parameters_to_vector(parameters):
    """All parameters flattened (``view(-1)``: each must be viewable so) and joined into one vector
    (differentiable)."""
    return join.cat([parameter.view(-1) for parameter in parameters])


def vector_to_parameters(vec, parameters):
    """Make consecutive pieces of the vector ``vec`` the parameters' data, as PyTorch's: each
    parameter then views ``vec``'s memory (a later change of ``vec`` shows in it) and takes its
    dtype; unrecorded."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected chainrule.Tensor, but got: {type(vec).__name__}")
    position = 0
    for parameter in parameters:
        count = parameter.numel()
        parameter.data = vec[position : position + count].view_as(parameter).data
        position += count
