"""All parameters as one flat vector and back, as ``torch.nn.utils.convert_parameters``."""
from chainrule.autograd.grad_mode import no_grad
from chainrule.ops import join
from chainrule.tensor import Tensor


def parameters_to_vector(parameters):
    """All parameters flattened and joined into one vector (differentiable)."""
    return join.cat([parameter.reshape(-1) for parameter in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive pieces of the vector ``vec`` into the parameters (in place, unrecorded)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected chainrule.Tensor, but got: {type(vec).__name__}")
    position = 0
    with no_grad():
        for parameter in parameters:
            count = parameter.numel()
            parameter.copy_(vec[position : position + count].reshape(tuple(parameter.shape)))
            position += count
