"""One layer of an LSTM over a whole sequence, as one operation: what PyTorch's CPU runs for a
float32 ``nn.LSTM`` (oneDNN's ``mkldnn_rnn_layer``, whose node is ``MkldnnRnnLayerBackward0``).

Per step t (from the first to the last, or from the last to the first when ``reverse``), from the
state (h, c) that the previous step left (hx, cx before the first):

    gates = (x_t W_ihᵀ + b_ih) + (h W_hhᵀ + b_hh)                   (N, 4H)
    i, f, g, o = σ, σ, tanh, σ of the four quarters of gates      input, forget, cell, output gates
    c_t = f · c + i · g,    h_t = o · tanh(c_t)

The output is every h_t, (T, N, H), and the last state (h, c). The steps' input parts x_t W_ihᵀ +
b_ih are one matrix product for the whole sequence, done before the steps.

Backpropagation through time runs the steps the other way, carrying δh and δc from each step to
the one before it (δh_t also gets the output's own gradient at t):

    δo = δh · tanh(c_t),    δc ← δc + δh · o · (1 - tanh²(c_t))
    δi = δc · g,   δg = δc · i,   δf = δc · c_(t-1),   then δc ← δc · f    (to step t - 1)
    δgates_t = (δi · i(1 - i), δf · f(1 - f), δg · (1 - g²), δo · o(1 - o))
    δh ← δgates_t W_hh                                                      (to step t - 1)

after which the weights' gradients are one matrix product each over all the steps: δW_ih =
Σ_t δgates_tᵀ x_t, δW_hh = Σ_t δgates_tᵀ h_(t-1), δb_ih = δb_hh = Σ_t,n δgates_t, and δx_t =
δgates_t W_ih. One node per layer (per direction) instead of some fifteen per step: a sequence of
50 steps trains about ten times faster than as separate operations (``benchmarks``), and the
graph shows PyTorch's nodes. A recorded backward (``create_graph``) runs the steps again on the
saved inputs with chainrule's own functions, so the gradients it gives can be differentiated
again, as PyTorch's can.
"""
from chainrule.backend import ignoring_float_errors, xp
from chainrule.ops.op import Op, OpNode
from chainrule.ops.registry import functions


def _gates_of_arrays(gates, size):
    """i, f, g, o from the gates' pre-activations (N, 4H), a fresh array that this overwrites: σ
    of the whole at once, in place, which is several times faster than four activations of
    quarters on the small arrays of a step (a plain forward's way; ``_gates_of_tensors`` is the
    recorded backward's)."""
    cell_gate = xp.tanh(gates[:, 2 * size : 3 * size])
    xp.negative(gates, out=gates)
    xp.exp(gates, out=gates)
    gates += 1.0
    xp.reciprocal(gates, out=gates)  # σ(z) = 1 / (1 + e^-z)
    return gates[:, :size], gates[:, size : 2 * size], cell_gate, gates[:, 3 * size :]


def _gates_of_tensors(gates, size):
    """i, f, g, o from the gates' pre-activations (N, 4H), as recorded operations."""
    input_gate, forget_gate, cell_gate, output_gate = gates.chunk(4, 1)
    return functions.sigmoid(input_gate), functions.sigmoid(forget_gate), functions.tanh(cell_gate), functions.sigmoid(output_gate)


def _run_steps(activated_gates, tanh, input, weight_ih, weight_hh, bias_ih, bias_hh, hx, cx, reverse):
    """The layer's steps (see the module docstring), on arrays or on tensors alike (``activated_gates``
    and ``tanh`` for either). Returns the outputs h_t, (T, N, H), what backpropagation through time
    needs at each step t, in time order (the gates i, f, g, o, the state before, h_(t-1) and
    c_(t-1), and tanh(c_t)), and the last state (h, c)."""
    steps, batch = input.shape[0], input.shape[1]
    size = hx.shape[-1]
    input_parts = input.reshape(steps * batch, input.shape[2]) @ weight_ih.T
    if bias_ih is not None:
        input_parts = input_parts + bias_ih
    input_parts = input_parts.reshape(steps, batch, 4 * size)
    records = [None] * steps
    outputs = [None] * steps
    hidden, cell = hx, cx
    for time in range(steps - 1, -1, -1) if reverse else range(steps):
        hidden_part = hidden @ weight_hh.T
        if bias_hh is not None:
            hidden_part = hidden_part + bias_hh
        input_gate, forget_gate, cell_gate, output_gate = activated_gates(input_parts[time] + hidden_part, size)
        before = (hidden, cell)
        cell = forget_gate * cell + input_gate * cell_gate
        tanh_cell = tanh(cell)
        hidden = output_gate * tanh_cell
        records[time] = (input_gate, forget_gate, cell_gate, output_gate, *before, tanh_cell)
        outputs[time] = hidden
    return outputs, records, (hidden, cell)


def _through_time(library, records, grad_output, grad_hy, grad_cy, weight_hh, reverse):
    """Backpropagation through the steps (see the module docstring), from the gradients of the
    outputs (T, N, H) and of the last state: δgates (T, N, 4H) and the gradients of the first
    state (hx, cx). ``library``: the functions the backward computes with (``ctx.xp``: the array
    library's in a plain backward, chainrule's when it is recorded)."""
    grad_hidden, grad_cell = grad_hy, grad_cy
    grad_gates = [None] * len(records)
    for time in range(len(records)) if reverse else range(len(records) - 1, -1, -1):
        input_gate, forget_gate, cell_gate, output_gate, _, cell_before, tanh_cell = records[time]
        grad_hidden = grad_output[time] + grad_hidden
        grad_output_gate = grad_hidden * tanh_cell
        grad_cell = grad_cell + grad_hidden * output_gate * library.one_minus_square(tanh_cell)
        grad_input_gate, grad_cell_gate, grad_forget_gate = grad_cell * cell_gate, grad_cell * input_gate, grad_cell * cell_before
        grad_cell = grad_cell * forget_gate
        grad_gates[time] = library.concatenate(
            [
                grad_input_gate * (1.0 - input_gate) * input_gate,
                grad_forget_gate * (1.0 - forget_gate) * forget_gate,
                grad_cell_gate * library.one_minus_square(cell_gate),
                grad_output_gate * (1.0 - output_gate) * output_gate,
            ],
            axis=1,
        )
        grad_hidden = grad_gates[time] @ weight_hh
    return library.stack(grad_gates), grad_hidden, grad_cell


class LstmLayerNode(OpNode):
    """The layer's node: ``next_functions`` lists input, the four weights, hx and cx, an absent
    bias as ``(None, 0)``, as PyTorch's ``MkldnnRnnLayerBackward0`` does."""

    def tensor_input_positions(self):
        return tuple(range(7))

    def release(self):
        self.__dict__.pop("records", None)  # a list of each step's arrays: not among those released by default
        super().release()


class LstmLayer(Op):
    """An LSTM layer over a sequence: input (T, N, I), weight_ih (4H, I), weight_hh (4H, H),
    bias_ih and bias_hh (4H,) or None, hx and cx (N, H) -> output (T, N, H), hy (N, H), cy (N, H).

    Its node is named as PyTorch's (``MkldnnRnnLayerBackward0``) and lists the same inputs in the
    same order: input, the four weights, hx, cx."""

    node_name = "MkldnnRnnLayerBackward0"
    _node_base = LstmLayerNode
    formula = "h_t = o_t · tanh(c_t), c_t = f_t · c_(t-1) + i_t · g_t; i, f, g, o = σ, σ, tanh, σ of x_t W_ihᵀ + b_ih + h_(t-1) W_hhᵀ + b_hh"
    derivatives = (
        "δgates_t W_ih",
        "Σ_t δgates_tᵀ x_t",
        "Σ_t δgates_tᵀ h_(t-1)",
        "Σ_t δgates_t",
        "Σ_t δgates_t",
        "δgates_first W_hh",
        "δc_first · f_first",
        None,
    )

    @staticmethod
    def forward(ctx, input, weight_ih, weight_hh, bias_ih, bias_hh, hx, cx, reverse):
        ctx.save_for_backward(input, weight_ih, weight_hh, bias_ih, bias_hh, hx, cx)
        ctx.reverse = reverse
        with ignoring_float_errors():  # inf and nan pass silently, as in PyTorch
            outputs, records, (hidden, cell) = _run_steps(_gates_of_arrays, xp.tanh, input, weight_ih, weight_hh, bias_ih, bias_hh, hx, cx, reverse)
        ctx.records = records
        return xp.stack(outputs), hidden, cell

    @staticmethod
    def backward(ctx, grad_output, grad_hy, grad_cy):
        input, weight_ih, weight_hh, bias_ih, bias_hh, hx, cx = ctx.saved_tensors
        if ctx.xp is functions:  # a recorded backward: the steps again, as tensors, so that their own gradients flow
            _, records, _ = _run_steps(_gates_of_tensors, functions.tanh, input, weight_ih, weight_hh, bias_ih, bias_hh, hx, cx, ctx.reverse)
        else:
            records = ctx.records
        with ignoring_float_errors():
            grad_gates, grad_hx, grad_cx = _through_time(ctx.xp, records, grad_output, grad_hy, grad_cy, weight_hh, ctx.reverse)
            steps, batch, gate_size = grad_gates.shape
            grad_gates = grad_gates.reshape(steps * batch, gate_size)
            needs = ctx.needs_input_grad
            grad_input = (grad_gates @ weight_ih).reshape(input.shape) if needs[0] else None
            grad_weight_ih = grad_gates.T @ input.reshape(steps * batch, input.shape[2]) if needs[1] else None
            if needs[2]:
                hidden_before = ctx.xp.stack([record[4] for record in records])
                grad_weight_hh = grad_gates.T @ hidden_before.reshape(steps * batch, hidden_before.shape[2])
            else:
                grad_weight_hh = None
            grad_bias = grad_gates.sum(0) if needs[3] or needs[4] else None
        return (
            grad_input, grad_weight_ih, grad_weight_hh, grad_bias if needs[3] else None, grad_bias if needs[4] else None,
            grad_hx if needs[5] else None, grad_cx if needs[6] else None, None,
        )
