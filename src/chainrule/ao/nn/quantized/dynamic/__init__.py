"""``torch.ao.nn.quantized.dynamic``: layers that quantize their input as it arrives."""
from chainrule.ao.nn.quantized.dynamic.linear import Linear
from chainrule.ao.nn.quantized.dynamic.rnn import LSTM
