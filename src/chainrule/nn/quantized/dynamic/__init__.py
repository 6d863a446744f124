"""``torch.nn.quantized.dynamic``: PyTorch's older name of ``torch.ao.nn.quantized.dynamic``."""
from chainrule.ao.nn.quantized.dynamic import GRU, GRUCell, LSTM, LSTMCell, Linear, RNNCell  # noqa: F401
