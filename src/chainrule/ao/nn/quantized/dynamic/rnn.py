"""Dynamically quantized LSTM and GRU: ``input (L, N, input_size)`` float (``(N, L, input_size)``
with ``batch_first``, or a PackedSequence) ``-> output (L, N, D · hidden_size)``, and the last state
``h_n (num_layers · D, N, hidden_size)`` (LSTM: ``(h_n, c_n)``), D = 2 if bidirectional else 1; as
PyTorch's ``DynamicQuantizedLSTM`` and ``DynamicQuantizedGRU``.

Each layer and direction has two dynamically quantized products (``recurrent_weights``): ``W_ih x``
once for the whole sequence (one scale for all its steps, as PyTorch computes it) and ``W_hh h`` at
each step, over the sequences still running at that step (a packed batch's shorter sequences
drop out, so they do not move its scale). The gates then follow ``recurrent_steps``.
"""
import chainrule
from chainrule.ao.nn.quantized.dynamic import recurrent_steps, recurrent_weights
from chainrule.nn.module import Module
from chainrule.nn.utils.rnn import PackedSequence


class PackedParameter(Module):
    """One layer and direction's Products, as PyTorch's ``PackedParameter``: one state-dict entry
    ``param``, ``((W_ih, b_ih), (W_hh, b_hh))``."""

    def __init__(self, param):
        super().__init__()
        self.param = param

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "param"] = recurrent_weights.saved(self.param)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        self.param = recurrent_weights.loaded(state_dict.pop(prefix + "param"))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys, error_msgs)


class RNNBase(Module):
    """What the dynamically quantized LSTM and GRU share: their weights (``_all_weight_values``,
    one PackedParameter per layer and direction, each layer's forward direction first), the
    checks, and running the layers (dropout between them in training only)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, dtype=chainrule.qint8):
        super().__init__()
        if mode not in ("LSTM", "GRU"):
            raise ValueError(f"Unrecognized RNN mode: {mode} (dynamic quantization has LSTM and GRU layers)")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), bidirectional
        self.proj_size, self.dtype, self.version = 0, dtype, 2
        gate_size = recurrent_steps.GATES[mode] * hidden_size
        self._all_weight_values = chainrule.nn.ModuleList()
        for layer in range(num_layers):
            for _ in range(self._directions()):  # random weights, drawn in PyTorch's order (the random stream moves as there)
                weight_ih = chainrule.randn(gate_size, self._layer_input_size(layer))
                weight_hh = chainrule.randn(gate_size, hidden_size)
                bias_ih, bias_hh = chainrule.randn(gate_size), chainrule.randn(gate_size)
                if not bias:
                    bias_ih = bias_hh = None
                products = recurrent_weights.initial_products(weight_ih, weight_hh, bias_ih, bias_hh, dtype, weight_scale=0.1)
                self._all_weight_values.append(PackedParameter(products))

    def _directions(self):
        return 2 if self.bidirectional else 1

    def _layer_input_size(self, layer):
        return self.input_size if layer == 0 else self.hidden_size * self._directions()

    def _get_name(self):
        return f"DynamicQuantized{self.mode}"

    extra_repr = chainrule.nn.RNNBase.extra_repr

    def __repr__(self):  # the quantized weights are not shown, as in PyTorch
        return f"{self._get_name()}({self.extra_repr()})"

    def forward(self, input, hx=None):
        """``input`` a padded tensor or a PackedSequence (see the module docstring); a packed input
        gives a PackedSequence output, and h_n holds each sequence's state at its true length."""
        packed = isinstance(input, PackedSequence)
        data, batch_sizes, sorted_indices, unsorted_indices = input if packed else (input, None, None, None)
        self._check_input(data, packed)
        if packed:
            steps_input, batch_sizes = data, batch_sizes.tolist()
        else:
            steps_input = data.transpose(0, 1) if self.batch_first else data
            batch_sizes = [steps_input.shape[1]] * steps_input.shape[0]
        batch = batch_sizes[0] if packed else steps_input.shape[1]
        state = self._initial_state(hx, batch, data, sorted_indices)
        if not batch_sizes:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        output, final = self._run_layers(steps_input, batch_sizes, state, packed)
        if packed:
            output = PackedSequence(output, input.batch_sizes, sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                final = tuple(part.index_select(1, unsorted_indices) for part in final)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, (final if self.mode == "LSTM" else final[0])

    def _check_input(self, input, packed):
        expected_dims = 2 if packed else 3
        if input.dim() != expected_dims:
            advice = "a PackedSequence's data is (steps, features)" if packed else "unbatched input is not taken: add a batch dimension"
            raise RuntimeError(f"input must have {expected_dims} dimensions, got {input.dim()} ({self._get_name()}: {advice})")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.shape[-1]}")

    def _initial_state(self, hx, batch, like, sorted_indices):
        """The initial state as a tuple, (h_0,) or LSTM's (h_0, c_0), each (num_layers · D, N,
        hidden_size): zeros where ``hx`` is None, else ``hx`` checked (and put in a packed batch's order)."""
        expected = (self.num_layers * self._directions(), batch, self.hidden_size)
        if hx is None:
            zeros = chainrule.zeros(*expected, dtype=like.dtype)
            return (zeros, zeros) if self.mode == "LSTM" else (zeros,)
        parts = tuple(hx) if self.mode == "LSTM" else (hx,)
        if sorted_indices is not None:
            parts = tuple(part.index_select(1, sorted_indices) for part in parts)
        for position, part in enumerate(parts):
            if tuple(part.shape) != expected:
                which = f"hidden[{position}]" if self.mode == "LSTM" else "hidden"
                raise RuntimeError(
                    f"Expected {which} size {expected}, got {list(part.shape)} ((num_layers · directions, batch, hidden_size))"
                )
        return parts

    def _run_layers(self, layer_input, batch_sizes, state, packed):
        """Each layer over the previous one's outputs (both directions concatenated): the last
        layer's outputs and the last states, stacked as ``state``."""
        directions = self._directions()
        last_states = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                products = self._all_weight_values[index].param
                start = tuple(part[index] for part in state)
                output, last = self._run_direction(layer_input, batch_sizes, start, products, direction == 1, packed)
                outputs.append(output)
                last_states.append(last)
            layer_input = chainrule.cat(outputs, dim=-1) if directions == 2 else outputs[0]
            if self.training and self.dropout and layer < self.num_layers - 1:
                layer_input = chainrule.nn.functional.dropout(layer_input, self.dropout)
        return layer_input, tuple(chainrule.stack(parts) for parts in zip(*last_states))

    def _run_direction(self, steps_input, batch_sizes, state, products, reverse, packed):
        """The cell over the steps one way, from ``state``: the outputs, (L, N, hidden_size), or a
        packed batch's (sum of batch_sizes, hidden_size), and the last state. Step t runs the
        first ``batch_sizes[t]`` rows (the sequences still running); the others keep their state."""
        input_gates = products.input.linear_dynamic(steps_input)
        input_gates = input_gates.split(batch_sizes) if packed else input_gates.unbind(0)
        outputs = [None] * len(batch_sizes)
        batch = state[0].shape[0]
        for time in (reversed(range(len(batch_sizes))) if reverse else range(len(batch_sizes))):
            running = batch_sizes[time]
            running_state = tuple(part[:running] for part in state)
            hidden_gates = products.hidden.linear_dynamic(running_state[0])
            new_state = recurrent_steps.step(self.mode, input_gates[time], hidden_gates, running_state)
            outputs[time] = new_state[0]
            state = new_state if running == batch else tuple(chainrule.cat([new, old[running:]]) for new, old in zip(new_state, state))
        return (chainrule.cat(outputs) if packed else chainrule.stack(outputs)), state

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamically quantized layer of a float ``nn.LSTM`` or ``nn.GRU`` (with biases):
        each weight quantized by its qconfig's weight observer (int8 per tensor by default), or
        kept as float16 with ``float16_dynamic_qconfig``."""
        if type(mod) not in (chainrule.nn.LSTM, chainrule.nn.GRU):
            raise AssertionError(
                f"nn.quantized.dynamic.RNNBase.from_float only works for nn.LSTM and nn.GRU, got {type(mod).__name__}"
            )
        dtype = recurrent_weights.weight_dtype(mod, type(mod).__name__)
        if getattr(mod, "proj_size", 0):
            raise NotImplementedError("dynamic quantization of an LSTM with proj_size is not supported here: keep it float")
        layer_class = LSTM if mod.mode == "LSTM" else GRU
        quantized = layer_class(mod.input_size, mod.hidden_size, mod.num_layers, mod.bias, mod.batch_first, mod.dropout,
                                mod.bidirectional, dtype)
        suffixes = ("", "_reverse")[: quantized._directions()]
        quantized._all_weight_values = chainrule.nn.ModuleList(
            PackedParameter(recurrent_weights.quantized_products(mod, f"_l{layer}{suffix}"))
            for layer in range(mod.num_layers) for suffix in suffixes
        )
        return quantized


class LSTM(RNNBase):
    """``torch.ao.nn.quantized.dynamic.LSTM`` (no projections): ``lstm(input, (h_0, c_0)=None)``
    returns ``(output, (h_n, c_n))``."""

    _FLOAT_MODULE = chainrule.nn.LSTM

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """``torch.ao.nn.quantized.dynamic.GRU``: ``gru(input, h_0=None)`` returns ``(output, h_n)``."""

    _FLOAT_MODULE = chainrule.nn.GRU

    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **kwargs)
