"""Dynamically quantized LSTM: ``input (T, N, input_size) float -> output (T, N, D·hidden_size),
(h_n, c_n)``, as PyTorch's ``DynamicQuantizedLSTM``.

Each layer's two products are dynamically quantized linear layers (int8 weights, the input
quantized as it arrives: ``dynamic.Linear``): ``W_ih x`` once for the whole sequence (one scale for
all its steps, as PyTorch computes it), ``W_hh h`` at each step. The gates then follow the float
LSTM: ``i, f, o = σ(·)``, ``g = tanh(·)``, ``c' = f c + i g``, ``h' = o tanh(c')``.
"""
import chainrule
from chainrule.ao.nn.quantized.dynamic.linear import Linear
from chainrule.nn.module import Module


class LSTM(Module):
    """``torch.ao.nn.quantized.dynamic.LSTM`` (no projections; dropout between layers only in training)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, dtype=chainrule.qint8):
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), bidirectional
        self.proj_size, self.dtype = 0, dtype
        directions = 2 if bidirectional else 1
        self._all_weight_values = chainrule.nn.ModuleList()
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for _ in range(directions):
                self._all_weight_values.append(Linear(layer_input, 4 * hidden_size, bias))
                self._all_weight_values.append(Linear(hidden_size, 4 * hidden_size, bias))

    def _get_name(self):
        return "DynamicQuantizedLSTM"

    extra_repr = chainrule.nn.LSTM.extra_repr

    def __repr__(self):  # the quantized weights are not shown, as in PyTorch
        return f"{self._get_name()}({self.extra_repr()})"

    def forward(self, input, hx=None):
        if input.dim() != 3:
            raise RuntimeError(
                f"input must have 3 dimensions, got {input.dim()} ({self._get_name()} takes batches: add one, e.g. "
                "input.unsqueeze(1))"
            )
        x = input.transpose(0, 1) if self.batch_first else input
        directions = 2 if self.bidirectional else 1
        if hx is None:
            zeros = chainrule.zeros(self.num_layers * directions, x.shape[1], self.hidden_size, dtype=x.dtype)
            hx = (zeros, zeros)
        final_h, final_c = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                input_linear, hidden_linear = self._all_weight_values[2 * index], self._all_weight_values[2 * index + 1]
                sequence, h, c = self.run_direction(x, hx[0][index], hx[1][index], input_linear, hidden_linear, reverse=direction == 1)
                outputs.append(sequence)
                final_h.append(h)
                final_c.append(c)
            x = chainrule.cat(outputs, dim=2) if directions == 2 else outputs[0]
            if self.training and self.dropout and layer < self.num_layers - 1:
                x = chainrule.nn.functional.dropout(x, self.dropout)
        return x.transpose(0, 1) if self.batch_first else x, (chainrule.stack(final_h), chainrule.stack(final_c))

    def run_direction(self, x, h, c, input_linear, hidden_linear, reverse):
        """The LSTM over ``x (T, N, in)`` one way: ``(outputs (T, N, hidden), h_T, c_T)``."""
        steps = x.shape[0]
        input_gates = input_linear(x.reshape(steps * x.shape[1], x.shape[2])).reshape(steps, x.shape[1], -1)
        outputs = [None] * steps
        for t in (reversed(range(steps)) if reverse else range(steps)):
            gates = input_gates[t] + hidden_linear(h)
            i, f, g, o = gates.chunk(4, dim=1)
            c = chainrule.sigmoid(f) * c + chainrule.sigmoid(i) * chainrule.tanh(g)
            h = chainrule.sigmoid(o) * chainrule.tanh(c)
            outputs[t] = h
        return chainrule.stack(outputs), h, c

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamically quantized LSTM of a float ``nn.LSTM`` (weights observed by the qconfig's
        weight observer, int8 per tensor by default)."""
        if not mod.bias:
            raise AssertionError("mod.bias must be True (a dynamically quantized LSTM has biases, as PyTorch's)")
        if getattr(mod, "proj_size", 0):
            raise NotImplementedError("dynamic quantization of an LSTM with proj_size is not supported here: keep it float")
        quantized = cls(mod.input_size, mod.hidden_size, mod.num_layers, mod.bias, mod.batch_first, mod.dropout, mod.bidirectional)
        qconfig = getattr(mod, "qconfig", None)
        directions = 2 if mod.bidirectional else 1
        for layer in range(mod.num_layers):
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                index = 2 * (layer * directions + direction)
                for offset, kind in enumerate(("ih", "hh")):
                    weight = getattr(mod, f"weight_{kind}{suffix}")
                    float_linear = chainrule.nn.Linear(weight.shape[1], weight.shape[0], bias=mod.bias)
                    float_linear.weight = weight
                    if mod.bias:
                        float_linear.bias = getattr(mod, f"bias_{kind}{suffix}")
                    float_linear.qconfig = qconfig
                    quantized._all_weight_values[index + offset] = Linear.from_float(float_linear)
        return quantized
