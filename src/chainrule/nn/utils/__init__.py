"""Helpers around modules and training loops, as ``torch.nn.utils``: gradient clipping, flat
parameter vectors, padded and packed sequences (``rnn``), weight and spectral normalization,
parametrizations, and folding batch norm into the layer before it."""
from chainrule.nn.utils import rnn
from chainrule.nn.utils.clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from chainrule.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
