"""Dynamically quantized recurrent cells, one step each: ``input (N, input_size)`` float and the
state ``(N, hidden_size)`` (zeros when not given; LSTMCell's a pair (h, c)) -> the next state, as
PyTorch's ``DynamicQuantizedRNNCell``, ``DynamicQuantizedLSTMCell`` and ``DynamicQuantizedGRUCell``.

The two products ``W_ih x + b_ih`` and ``W_hh h + b_hh`` are dynamically quantized
(``recurrent_weights``); the gates follow ``recurrent_steps``.
"""
import chainrule
from chainrule.ao.nn.quantized.dynamic import recurrent_steps, recurrent_weights
from chainrule.nn.module import Module


class RNNCellBase(Module):
    """What the dynamically quantized cells share: the products, saved in the state dict as
    ``_packed_weight_ih`` and ``_packed_weight_hh`` (each ``(weight, bias)``), the checks and the step."""

    def __init__(self, input_size, hidden_size, bias=True, num_chunks=4, dtype=chainrule.qint8):
        super().__init__()
        self.input_size, self.hidden_size, self.bias, self.weight_dtype = input_size, hidden_size, bias, dtype
        gate_size = num_chunks * hidden_size  # random weights, drawn in PyTorch's order (the random stream moves as there)
        bias_ih, bias_hh = (chainrule.randn(gate_size), chainrule.randn(gate_size)) if bias else (None, None)
        weight_ih, weight_hh = chainrule.randn(gate_size, input_size), chainrule.randn(gate_size, hidden_size)
        self.set_products(recurrent_weights.initial_products(weight_ih, weight_hh, bias_ih, bias_hh, dtype, weight_scale=1.0))

    def set_products(self, products):
        # kept out of the submodules, as PyTorch's packed weights: one state-dict entry each, none in the repr
        self.__dict__.update(_packed_weight_ih=products.input, _packed_weight_hh=products.hidden)

    def _get_name(self):
        return f"DynamicQuantized{type(self).__name__}"

    extra_repr = chainrule.nn.RNNCellBase.extra_repr

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "_packed_weight_ih"] = self._packed_weight_ih.packed()
        destination[prefix + "_packed_weight_hh"] = self._packed_weight_hh.packed()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        entries = [state_dict.pop(prefix + f"_packed_weight_{kind}") for kind in ("ih", "hh")]
        self.set_products(recurrent_weights.loaded(entries))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys, error_msgs)

    def _check_input(self, input):
        if input.dim() < 2:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [-1, 0], but got 1) ({self._get_name()} takes "
                "batches (N, input_size): add one, e.g. input.unsqueeze(0))"
            )
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]}, expected {self.input_size}")

    def _start(self, input, hx, label=""):
        """``hx`` checked against the input (``label`` names LSTMCell's parts), or zeros (N, hidden_size)."""
        if hx is None:
            return chainrule.zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
        if hx.shape[0] != input.shape[0]:
            raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{label} batch size {hx.shape[0]}")
        if hx.shape[1] != self.hidden_size:
            raise RuntimeError(f"hidden{label} has inconsistent hidden_size: got {hx.shape[1]}, expected {self.hidden_size}")
        return hx

    def _step(self, mode, input, state):
        """The next state (a tuple) of the cell ``mode`` from the (checked) input and state."""
        input_gates = self._packed_weight_ih.linear_dynamic(input)
        hidden_gates = self._packed_weight_hh.linear_dynamic(state[0])
        return recurrent_steps.step(mode, input_gates, hidden_gates, state)

    def forward(self, input, hx=None):
        """The next hidden state (RNNCell and GRUCell; LSTMCell's state is a pair)."""
        self._check_input(input)
        (hidden,) = self._step(self._mode, input, (self._start(input, hx),))
        return hidden

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamically quantized cell of a float ``nn.RNNCell``, ``nn.LSTMCell`` or ``nn.GRUCell``
        (with biases): its weights quantized by its qconfig's weight observer (int8 per tensor by
        default), or kept as float16 with ``float16_dynamic_qconfig``."""
        quantized_classes = {chainrule.nn.RNNCell: RNNCell, chainrule.nn.LSTMCell: LSTMCell, chainrule.nn.GRUCell: GRUCell}
        if type(mod) not in quantized_classes:
            raise AssertionError(
                "nn.quantized.dynamic.RNNCellBase.from_float only works for nn.LSTMCell, nn.GRUCell and nn.RNNCell, "
                f"got {type(mod).__name__}"
            )
        dtype = recurrent_weights.weight_dtype(mod, type(mod).__name__)
        quantized = quantized_classes[type(mod)](mod.input_size, mod.hidden_size, bias=mod.bias, dtype=dtype)
        if isinstance(quantized, RNNCell):
            quantized.nonlinearity = mod.nonlinearity
        quantized.set_products(recurrent_weights.quantized_products(mod))
        return quantized


class RNNCell(RNNCellBase):
    """``torch.ao.nn.quantized.dynamic.RNNCell``: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=chainrule.qint8):
        super().__init__(input_size, hidden_size, bias, num_chunks=recurrent_steps.GATES["RNN_TANH"], dtype=dtype)
        self.nonlinearity = nonlinearity

    _mode = chainrule.nn.RNNCell._mode  # 'RNN_TANH' or 'RNN_RELU', checked when the cell runs


class GRUCell(RNNCellBase):
    """``torch.ao.nn.quantized.dynamic.GRUCell``: one GRU step (see ``recurrent_steps``)."""

    _mode = "GRU"

    def __init__(self, input_size, hidden_size, bias=True, dtype=chainrule.qint8):
        super().__init__(input_size, hidden_size, bias, num_chunks=recurrent_steps.GATES[self._mode], dtype=dtype)


class LSTMCell(RNNCellBase):
    """``torch.ao.nn.quantized.dynamic.LSTMCell``: one LSTM step, ``cell(input, (h, c)=None)`` returns (h', c')."""

    _mode = "LSTM"

    def __init__(self, input_size, hidden_size, bias=True, dtype=chainrule.qint8):
        super().__init__(input_size, hidden_size, bias, num_chunks=recurrent_steps.GATES[self._mode], dtype=dtype)

    def forward(self, input, hx=None):
        self._check_input(input)
        hx = (None, None) if hx is None else hx
        return self._step(self._mode, input, (self._start(input, hx[0], "[0]"), self._start(input, hx[1], "[1]")))
