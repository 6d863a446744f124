"""``torch.ao.nn.quantized.dynamic``: layers that quantize their input as it arrives."""
from chainrule.ao.nn.quantized.dynamic.linear import Linear
from chainrule.ao.nn.quantized.dynamic.rnn import GRU, LSTM, RNNBase
from chainrule.ao.nn.quantized.dynamic.rnn_cells import GRUCell, LSTMCell, RNNCell, RNNCellBase

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "Linear", "RNNBase", "RNNCell", "RNNCellBase"]
