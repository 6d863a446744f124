"""Recurrent layers: RNN, LSTM and GRU, and their one-step cells RNNCell, LSTMCell and GRUCell.

A recurrent layer reads a sequence one step at a time and carries a hidden state h from step to
step. Each cell is the formula of one step, written with ``linear``, ``sigmoid`` and ``tanh``, so
the gradient through time (backpropagation through time) is just the autograd of these steps:

    RNN    h' = tanh(W_ih x + b_ih + W_hh h + b_hh)                     (or relu)
    LSTM   i, f, g, o = σ, σ, tanh, σ of the four quarters of W_ih x + b_ih + W_hh h + b_hh
           c' = f · c + i · g,   h' = o · tanh(c')                      (h' = W_hr h' with proj_size)
    GRU    r, z = σ of the first two thirds of W_ih x + b_ih + W_hh h + b_hh
           n = tanh(W_in x + b_in + r · (W_hn h + b_hn)),   h' = (1 - z) · n + z · h

The layers stack ``num_layers`` of these (each layer reading the previous layer's outputs, with
dropout in between in training) and, with ``bidirectional``, run a second cell from the last step
to the first and concatenate both directions' outputs. Where PyTorch's CPU runs an LSTM layer as
one oneDNN operation (a padded float32 sequence, no projections: ``MkldnnRnnLayerBackward0`` in
its graph), so does chainrule, ``ops/lstm_layer.py``, with the same formulas and the same graph;
elsewhere (GRU, RNN, float64, packed sequences, projections) the cells run step by step, as
PyTorch's own loop runs them. Parameters are named and shaped as
PyTorch's (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ``..._reverse``), so
state dicts load either way.
"""
import math
import numbers
import warnings

from chainrule import dtypes
from chainrule.backend import as_array
from chainrule.backends import mkldnn
from chainrule.caller_warnings import warn_once
from chainrule.creation import empty, zeros
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.nn.utils.rnn import PackedSequence
from chainrule.ops.join import cat, stack
from chainrule.ops.lstm_layer import LstmLayer
from chainrule.ops.shape import Transpose
from chainrule.tensor import Tensor, tensor_from_array

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ----------------------------------------------------------------------------- one step of each cell
def rnn_step(input_part, hidden, weight_hh, bias_hh, nonlinearity):
    """h' = tanh(W_hh h + b_hh + input_part), input_part = W_ih x + b_ih (or relu for 'relu')."""
    pre_activation = F.linear(hidden, weight_hh, bias_hh) + input_part
    return F.relu(pre_activation) if nonlinearity == "relu" else F.tanh(pre_activation)


def lstm_step(input_part, state, weight_hh, bias_hh, weight_hr=None):
    """(h, c) -> (h', c'): input, forget, cell and output gates from W_hh h + b_hh + input_part."""
    hidden, cell = state
    gates = F.linear(hidden, weight_hh, bias_hh) + input_part
    input_gate, forget_gate, cell_gate, output_gate = gates.unsafe_chunk(4, 1)
    cell = F.sigmoid(forget_gate) * cell + F.sigmoid(input_gate) * F.tanh(cell_gate)
    hidden = F.sigmoid(output_gate) * F.tanh(cell)
    if weight_hr is not None:
        hidden = hidden @ weight_hr.t()  # as PyTorch's step: an MmBackward0 of the transposed weight
    return hidden, cell


def gru_step(input_part, hidden, weight_hh, bias_hh):
    """h -> h': reset gate r and update gate z, candidate n = tanh(x_n + (W_hn h + b_hn) · r), and
    h' = (h - n) · z + n, which is (1 - z) · n + z · h written as PyTorch's step computes it."""
    input_reset, input_update, input_new = input_part.unsafe_chunk(3, 1)
    hidden_reset, hidden_update, hidden_new = F.linear(hidden, weight_hh, bias_hh).unsafe_chunk(3, 1)
    reset = F.sigmoid(hidden_reset + input_reset)
    update = F.sigmoid(hidden_update + input_update)
    candidate = F.tanh(input_new + hidden_new * reset)
    return (hidden - candidate) * update + candidate


def step(mode, input_part, state, weight_hh, bias_hh, weight_hr=None):
    """One step of the cell ``mode`` ('RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU'). ``state`` is a tuple,
    (h,) or LSTM's (h, c), and so is the next state returned."""
    if mode == "LSTM":
        return lstm_step(input_part, state, weight_hh, bias_hh, weight_hr)
    if mode == "GRU":
        return (gru_step(input_part, state[0], weight_hh, bias_hh),)
    return (rnn_step(input_part, state[0], weight_hh, bias_hh, "relu" if mode == "RNN_RELU" else "tanh"),)


def _check_dropout(dropout, num_layers):
    if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
        raise ValueError(
            "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
        )
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
            f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
            stacklevel=3,
        )


def _check_sizes(input_size, hidden_size, num_layers, bias, batch_first, proj_size):
    for name, value in (("bias", bias), ("batch_first", batch_first)):
        if not isinstance(value, bool):
            raise TypeError(f"{name} should be of type bool, got: {type(value).__name__}")
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, int):
            raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
        if value <= 0:
            raise ValueError(f"{name} must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")


def _uniform_all_(module, hidden_size):
    """PyTorch's start for every recurrent weight and bias: U(-1/√hidden_size, 1/√hidden_size)
    (U(0, 0) for a hidden size of 0, whose weights are empty)."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    for parameter in module.parameters():
        init.uniform_(parameter, -bound, bound)


# ----------------------------------------------------------------------------- a stack of layers over a sequence
def run_direction(mode, steps_input, batch_sizes, state, weights, reverse):
    """Run one cell from ``state`` over the steps, from the last to the first if ``reverse``.

    ``steps_input`` (L, N, features) holds a padded batch's steps; for a packed one, (sum of
    batch_sizes, features), the steps one after the other, step t being its next ``batch_sizes[t]``
    rows: the sequences still running at t (longest sequences first). A sequence's state changes
    only at its own steps, so each row of the last state is taken at its sequence's end (its
    last step, or its first when running in reverse). ``weights`` are (W_ih, W_hh, b_ih, b_hh,
    W_hr), None where absent. Returns the outputs h_t, one (batch_sizes[t], H_out) tensor per
    step, and the last state.
    """
    weight_ih, weight_hh, bias_ih, bias_hh, weight_hr = weights
    input_parts = F.linear(steps_input, weight_ih, bias_ih)  # W_ih x + b_ih, all steps at once
    input_parts = input_parts.unbind(0) if input_parts.ndim == 3 else input_parts.split(batch_sizes)
    order = range(len(input_parts) - 1, -1, -1) if reverse else range(len(input_parts))
    outputs = [None] * len(input_parts)
    batch = state[0].shape[0]
    for time in order:
        running = batch_sizes[time]
        if running == batch:
            state = step(mode, input_parts[time], state, weight_hh, bias_hh, weight_hr)
            outputs[time] = state[0]
        else:
            running_state = tuple(part[:running] for part in state)
            new_state = step(mode, input_parts[time], running_state, weight_hh, bias_hh, weight_hr)
            outputs[time] = new_state[0]
            state = tuple(cat([new, part[running:]]) for new, part in zip(new_state, state))
    return outputs, state


def _runs_as_one_operation(mode, layer_input, weights, initial, packed):
    """Whether a layer runs as one ``LstmLayer`` operation, as PyTorch hands it to oneDNN: an
    LSTM over a padded float32 sequence on the CPU (not 'meta'), not empty, without projections,
    while ``backends.mkldnn.enabled`` (else the cells run step by step, as PyTorch's own loop). A
    state of another dtype than the input steps too, and the first step's product raises PyTorch's
    error."""
    if mode != "LSTM" or packed or layer_input.dtype != dtypes.float32 or not mkldnn.enabled:
        return False
    if layer_input.is_meta or layer_input.numel() == 0:
        return False
    if any(part.dtype != layer_input.dtype for part in initial):
        return False
    if weights[4] is not None:
        warn_once("lstm projections without oneDNN", "LSTM with projections is not supported with oneDNN. Using default implementation.")
        return False
    return True


def run_layers(mode, layer_input, batch_sizes, initial, weights, num_layers, dropout, train, packed):
    """A stack of ``num_layers`` recurrent layers over a sequence (what ``torch.lstm`` computes).

    ``layer_input`` is (L, N, input_size), or when ``packed`` (sum of batch_sizes, input_size) with
    the steps one after the other (see ``run_direction``); ``initial`` is the state, a tuple of
    (num_layers · D, N, size) tensors; ``weights`` one (W_ih, W_hh, b_ih, b_hh, W_hr) per layer and
    direction, each layer's forward direction first (D = 2 for a bidirectional network, else 1).
    Each layer reads the previous one's outputs (both directions concatenated), through dropout
    with probability ``dropout`` between layers when ``train``. Returns the last layer's outputs,
    (sum of batch_sizes, D · H_out) when ``packed``, else (L, N, D · H_out), and the last states,
    stacked as ``initial``.
    """
    directions = len(weights) // num_layers
    last_states = []
    for layer in range(num_layers):
        direction_outputs = []
        one_operation = _runs_as_one_operation(mode, layer_input, weights[layer * directions], initial, packed)
        if one_operation:
            layer_input = layer_input.contiguous()  # as PyTorch's oneDNN path (a CloneBackward0 of a batch-first input)
        for direction in range(directions):
            row = layer * directions + direction
            state = tuple(part[row] for part in initial)
            if one_operation:
                weight_ih, weight_hh, bias_ih, bias_hh, _ = weights[row]
                output, *last = LstmLayer.apply(layer_input, weight_ih, weight_hh, bias_ih, bias_hh, *state, direction == 1)
                direction_outputs.append(output)
                last_states.append(last)
                continue
            outputs, last = run_direction(mode, layer_input, batch_sizes, state, weights[row], direction == 1)
            # a padded batch's steps are stacked to (L, N, H_out), as PyTorch's (its output is a StackBackward0)
            direction_outputs.append(cat(outputs) if packed else stack(outputs))
            last_states.append(last)
        layer_input = cat(direction_outputs, -1) if directions > 1 else direction_outputs[0]
        if dropout and train and layer < num_layers - 1:
            layer_input = F.dropout(layer_input, dropout, training=True)
    return layer_input, tuple(stack(parts) for parts in zip(*last_states))


# ----------------------------------------------------------------------------- whole sequences
class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, the checks, and
    running the cells over the sequence.

    input (L, N, input_size), or (N, L, input_size) with ``batch_first``, or unbatched
    (L, input_size), or a PackedSequence (see ``nn.utils.rnn``) -> output (L, N, D · H_out) (batch first, or unbatched, as the input), and the
    last hidden state h_n (num_layers · D, N, H_out); D = 2 if ``bidirectional`` else 1, H_out =
    ``proj_size`` or ``hidden_size``. LSTM's state is the pair (h, c), c of size ``hidden_size``.
    """

    def __init__(
        self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
        bidirectional=False, proj_size=0, device=None, dtype=None,
    ):
        super().__init__()
        _check_dropout(dropout, num_layers)
        _check_sizes(input_size, hidden_size, num_layers, bias, batch_first, proj_size)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        if mode not in GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        gate_size = GATES[mode] * hidden_size
        output_size = proj_size or hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for suffix in self._direction_suffixes():
                layer_input_size = input_size if layer == 0 else output_size * len(self._direction_suffixes())
                shapes = {"weight_ih": (gate_size, layer_input_size), "weight_hh": (gate_size, output_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                for kind, shape in shapes.items():
                    name = f"{kind}_l{layer}{suffix}"
                    self.register_parameter(name, Parameter(empty(shape, device=device, dtype=dtype)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    def _direction_suffixes(self):
        return ("", "_reverse") if self.bidirectional else ("",)

    def reset_parameters(self):
        """Draw fresh starting values: every parameter U(-1/√hidden_size, 1/√hidden_size)."""
        _uniform_all_(self, self.hidden_size)

    def flatten_parameters(self):
        """Nothing to do: PyTorch packs the weights into one block for cuDNN here; chainrule reads
        each parameter where it is, so code that calls this runs unchanged."""

    @property
    def _flat_weights(self):
        """The parameters in ``_flat_weights_names`` order (PyTorch's list, read by code that walks
        an RNN's weights); always the current parameters, as they may be replaced."""
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters, one list per layer and direction (as PyTorch's ``all_weights``)."""
        per_direction = len(self._flat_weights_names) // (self.num_layers * len(self._direction_suffixes()))
        names = self._flat_weights_names
        return [[getattr(self, name) for name in names[start : start + per_direction]] for start in range(0, len(names), per_direction)]

    def _weights(self, layer, suffix):
        """(weight_ih, weight_hh, bias_ih, bias_hh, weight_hr) of one layer and direction, None where absent."""
        kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        return [getattr(self, f"{kind}_l{layer}{suffix}", None) for kind in kinds]

    def _state_sizes(self):
        """The size of each part of the state: (H_out,) for RNN and GRU, (H_out, hidden_size) for LSTM's (h, c)."""
        output_size = self.proj_size or self.hidden_size
        return (output_size, self.hidden_size) if self.mode == "LSTM" else (output_size,)

    def _check_input(self, input, packed):
        name = type(self).__name__
        if packed and input.ndim != 2:
            raise RuntimeError(f"input must have 2 dimensions, got {input.ndim}")
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D{' tensor' * (self.mode.startswith('RNN'))} instead")
        weight = getattr(self, self._flat_weights_names[0])
        if input.dtype != weight.dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). "
                f"Convert input: input.to({weight.dtype}), or convert model: model.to({input.dtype})"
            )
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.shape[-1]}"
            )

    def _initial_states(self, hx, batch, like, batched):
        """The initial state as a tuple of (num_layers · D, N, size) tensors (zeros of ``like``'s
        dtype and device where ``hx`` is None)."""
        sizes = self._state_sizes()
        layers = self.num_layers * len(self._direction_suffixes())
        if hx is None:
            return tuple(zeros(layers, batch, size, dtype=like.dtype, device=like.device) for size in sizes)
        parts = hx if self.mode == "LSTM" else (hx,)
        if len(parts) != len(sizes):  # PyTorch indexes the pair: a tensor, or a tuple of one, lacks the second
            advice = f"(LSTM: pass the pair of states (h_0, c_0), got {'a tensor' if isinstance(hx, Tensor) else len(parts)})"
            if isinstance(hx, Tensor):
                raise IndexError(f"index 1 is out of bounds for dimension 0 with size {hx.shape[0]} {advice}")
            if len(parts) < len(sizes):
                raise IndexError(f"tuple index out of range {advice}")
            raise RuntimeError(f"lstm expects two hidden states {advice}")
        wanted_ndim = 3 if batched else 2
        kind = "batched 3-D" if batched else "unbatched 2-D"
        if any(part.ndim != wanted_ndim for part in parts):
            if self.mode == "LSTM":
                dims = ", ".join(f"{part.ndim}-D" for part in parts)
                raise RuntimeError(f"For {kind} input, hx and cx should also be {wanted_ndim}-D but got ({dims}) tensors")
            raise RuntimeError(f"For {kind} input, hx should also be {wanted_ndim}-D but got {parts[0].ndim}-D tensor")
        parts = tuple(part if batched else part.unsqueeze(1) for part in parts)
        for position, (part, size) in enumerate(zip(parts, sizes)):
            expected = (layers, batch, size)
            if tuple(part.shape) != expected:
                which = f"hidden[{position}]" if self.mode == "LSTM" else "hidden"
                raise RuntimeError(f"Expected {which} size {expected}, got {list(part.shape)}")
        return parts

    def forward(self, input, hx=None):
        """``input`` a padded tensor (see the class docstring) or a PackedSequence; a packed input
        gives a PackedSequence output, and h_n holds each sequence's state at its true length."""
        packed = isinstance(input, PackedSequence)
        if packed:
            input, batch_sizes, sorted_indices, unsorted_indices = input
            batch_sizes = batch_sizes.tolist()
            batched = True
        else:
            batched = input.ndim == 3
        self._check_input(input, packed)
        if packed:
            initial = self._initial_states(hx, batch_sizes[0], input, batched)
            if sorted_indices is not None:  # the state of sequence b goes where b went in the sorting
                initial = tuple(part.index_select(1, sorted_indices) for part in initial)
        else:
            if not batched:
                input = input.unsqueeze(0 if self.batch_first else 1)
            if self.batch_first:
                input = input.transpose(0, 1)
            length, batch = input.shape[:2]
            initial = self._initial_states(hx, batch, input, batched)
            if length == 0:
                raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
            batch_sizes = [batch] * length
        weights = [self._weights(layer, suffix) for layer in range(self.num_layers) for suffix in self._direction_suffixes()]
        output, final = run_layers(self.mode, input, batch_sizes, initial, weights, self.num_layers, self.dropout, self.training, packed)
        if packed:
            if unsorted_indices is not None:
                final = tuple(part.index_select(1, unsorted_indices) for part in final)
            output = PackedSequence(output, tensor_from_array(as_array(batch_sizes, dtypes.int64)), sorted_indices, unsorted_indices)
        else:
            if self.batch_first:  # ATen's RNN and GRU transpose in place (TransposeBackward1), its fused LSTM does not
                transposing = Transpose if self.mode == "LSTM" else Transpose.shown_as(Transpose.in_place_node_name)
                output = transposing.apply(output, (1, 0, 2))
        if not batched:
            output = output.squeeze(0 if self.batch_first else 1)
            final = tuple(part.squeeze(1) for part in final)
        return output, (final if self.mode == "LSTM" else final[0])

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text


class RNN(RNNBase):
    """Elman RNN, h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (``nonlinearity='relu'`` for
    relu): ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``; ``rnn(input, h0=None)`` returns
    (output, h_n), shapes as in RNNBase."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, num_layers, *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory: a cell state c carried beside h, written and read through gates (see
    the module docstring). ``lstm(input, (h0, c0)=None)`` returns (output, (h_n, c_n)); c has
    ``hidden_size`` features, h has ``proj_size`` if given (then ``weight_hr_l{k}`` projects it)."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit: a reset gate and an update gate mix the old state with a candidate (see
    the module docstring). ``gru(input, h0=None)`` returns (output, h_n)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# ----------------------------------------------------------------------------- single steps
class RNNCellBase(Module):
    """One step of a recurrent cell: ``weight_ih`` (gates · hidden_size, input_size), ``weight_hh``
    (gates · hidden_size, hidden_size), ``bias_ih`` and ``bias_hh`` (gates · hidden_size,).

    input (N, input_size) or unbatched (input_size,), state (N, hidden_size) or (hidden_size,)
    (zeros when not given) -> the next state, batched as the input.
    """

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gate_size = num_chunks * hidden_size
        self.weight_ih = Parameter(empty(gate_size, input_size, device=device, dtype=dtype))
        self.weight_hh = Parameter(empty(gate_size, hidden_size, device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(gate_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(empty(gate_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw fresh starting values: every parameter U(-1/√hidden_size, 1/√hidden_size)."""
        _uniform_all_(self, self.hidden_size)

    def _check(self, input, states):
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        for index, state in enumerate(states):
            if state is not None and state.ndim not in (1, 2):
                what = f"hx[{index}]" if len(states) == 2 else "hidden"  # (PyTorch's LSTMCell names each of (h, c))
                raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {state.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} expected {self.input_size}")

    def _step(self, input, state):
        """Check the state, a tuple (h,) or (h, c), against the (batched) input, then take one step."""
        for position, part in enumerate(state):
            if part.shape[0] != input.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{position} batch size {part.shape[0]}")
            if part.shape[1] != self.hidden_size:
                raise RuntimeError(
                    f"hidden{position} has inconsistent hidden_size: got {part.shape[1]}, expected {self.hidden_size}"
                )
        input_part = F.linear(input, self.weight_ih, self.bias_ih)
        return step(self._mode, input_part, state, self.weight_hh, self.bias_hh)

    def _start(self, input, hx):
        """``hx`` batched as the input, or zeros (N, hidden_size) when None."""
        if hx is None:
            return zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
        return hx.unsqueeze(0) if hx.ndim == 1 else hx

    def forward(self, input, hx=None):
        """The next hidden state (RNNCell and GRUCell; LSTMCell's state is a pair)."""
        self._check(input, (hx,))
        batched = input.ndim == 2
        input = input if batched else input.unsqueeze(0)
        (hidden,) = self._step(input, (self._start(input, hx),))
        return hidden if batched else hidden.squeeze(0)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu): ``cell(input, hx=None)`` returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, GATES["RNN_TANH"], device, dtype)
        self.nonlinearity = nonlinearity  # checked when the cell runs, as PyTorch does

    @property
    def _mode(self):
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return f"RNN_{self.nonlinearity.upper()}"


class GRUCell(RNNCellBase):
    """One GRU step (see the module docstring): ``cell(input, hx=None)`` returns h'."""

    _mode = "GRU"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, GATES[self._mode], device, dtype)


class LSTMCell(RNNCellBase):
    """One LSTM step (see the module docstring): ``cell(input, (h, c)=None)`` returns (h', c')."""

    _mode = "LSTM"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, GATES[self._mode], device, dtype)

    def forward(self, input, hx=None):
        if hx is not None and not isinstance(hx, (tuple, list)):
            raise TypeError(
                f"lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, not {type(hx).__name__}"
            )
        if hx is not None and len(hx) != 2:
            raise RuntimeError("lstm_cell expects two hidden states")
        self._check(input, hx if hx is not None else ())
        batched = input.ndim == 2
        input = input if batched else input.unsqueeze(0)
        state = (self._start(input, None),) * 2 if hx is None else tuple(self._start(input, part) for part in hx)
        hidden, cell = self._step(input, state)
        return (hidden, cell) if batched else (hidden.squeeze(0), cell.squeeze(0))
