"""One step of each recurrent cell, given its two dynamically quantized products: the input's
``gi = W_ih x + b_ih`` and the hidden state's ``gh = W_hh h + b_hh`` (each split into its gates),
in the order of PyTorch's CPU cells (``aten/src/ATen/native/RNN.cpp``), so the floats round alike:

    RNN    h' = tanh(gh + gi)                                      (or relu)
    LSTM   i, f, g, o = σ, σ, tanh, σ of the quarters of gh + gi
           c' = f · c + i · g,   h' = o · tanh(c')
    GRU    r = σ(gh_r + gi_r),  z = σ(gh_z + gi_z),  n = tanh(gi_n + gh_n · r)
           h' = (h - n) · z + n

The state is a tuple: (h,) or LSTM's (h, c); so is the next state returned.
"""
import chainrule

#: How many gates each cell computes from one product (its weights have gates · hidden_size rows).
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def step(mode, input_gates, hidden_gates, state):
    """The next state of the cell ``mode`` ('RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU')."""
    if mode == "LSTM":
        input_gate, forget_gate, cell_gate, output_gate = (hidden_gates + input_gates).chunk(4, dim=1)
        cell = chainrule.sigmoid(forget_gate) * state[1] + chainrule.sigmoid(input_gate) * chainrule.tanh(cell_gate)
        return chainrule.sigmoid(output_gate) * chainrule.tanh(cell), cell
    if mode == "GRU":
        input_reset, input_update, input_new = input_gates.chunk(3, dim=1)
        hidden_reset, hidden_update, hidden_new = hidden_gates.chunk(3, dim=1)
        reset = chainrule.sigmoid(hidden_reset + input_reset)
        update = chainrule.sigmoid(hidden_update + input_update)
        candidate = chainrule.tanh(input_new + hidden_new * reset)
        return ((state[0] - candidate) * update + candidate,)
    pre_activation = hidden_gates + input_gates
    return (chainrule.relu(pre_activation) if mode == "RNN_RELU" else chainrule.tanh(pre_activation),)
