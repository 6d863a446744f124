"""The layer view of a network: neurons in columns, weights as edges, and backprop in the notation of
the course notes (the delta rule).

For an ``nn.Sequential`` of ``Linear`` layers, each followed by an elementwise activation (or none),
on one example ``x`` with target ``t`` and the error ``E = ½ Σ_k (O_k - t_k)²``:

- forward, layer by layer: the net input of neuron j is ``x_j = Σ_i O_i w[i, j] + b_j`` and its
  output ``O_j = f(x_j)``; the inputs are the first layer's outputs,
- backward, from the output: ``δ_k = (O_k - t_k) f'(x_k)`` at the output layer and
  ``δ_j = f'(x_j) Σ_k δ_k w[j, k]`` in a hidden layer (for the sigmoid f'(x_j) = O_j (1 - O_j)),
  each weight's gradient ``dE/dw[j, k] = O_j δ_k`` and each bias's ``dE/db_k = δ_k``,
- the update ``w ← w - lr · dE/dw``.

Weights are named as in the notes: ``wn[i, j]`` goes from neuron i of layer n to neuron j of layer
n + 1, layers counted from 1 at the input; in PyTorch's layout that is ``weight[j, i]`` of the n-th
Linear. ``network_data`` computes every number with chainrule's autograd (δ is the gradient of E with
respect to a layer's net input, read with ``retain_grad``), so the page shows what backward computed.
"""
from chainrule import nn
from chainrule.autograd import grad_mode
from chainrule.backend import to_numpy
from chainrule.creation import tensor as make_tensor
from chainrule.viz.network_page import PAGE
from chainrule.viz.page import write_page

ACTIVATIONS = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ReLU: "relu", nn.Identity: "identity"}
DERIVATIVES = {
    "sigmoid": "O (1 - O)",
    "tanh": "1 - O²",
    "relu": "1 where x > 0, else 0",
    "identity": "1",
}


def network_layers(model):
    """``[(Linear, activation name), ...]`` for an ``nn.Sequential`` of Linear layers each followed
    by at most one elementwise activation; raises TypeError for anything else."""
    modules = list(model) if isinstance(model, nn.Sequential) else None
    if not modules:
        raise TypeError(f"the layer view needs an nn.Sequential of Linear layers and activations, got {type(model).__name__}")
    layers = []
    for module in modules:
        if isinstance(module, nn.Linear):
            layers.append([module, "identity"])
        elif type(module) in ACTIVATIONS and layers and layers[-1][1] == "identity":
            layers[-1][1] = ACTIVATIONS[type(module)]
        else:
            supported = ", ".join(kind.__name__ for kind in ACTIVATIONS)
            raise TypeError(
                f"the layer view cannot show {type(module).__name__} here: it draws Linear layers, each "
                f"followed by at most one of {supported}"
            )
    return [tuple(layer) for layer in layers]


def network_data(model, x, target, lr=0.5):
    """Everything the layer view shows, as plain data, computed with chainrule's autograd.

    ``x`` (in_features,) and ``target`` (out_features,) are one example (sequences or tensors).
    Returns the layers' sizes, activations, weights (PyTorch's ``(out, in)`` layout) and biases,
    the example, ``lr``, and under ``"autograd"`` the net inputs, outputs, deltas, weight and bias
    gradients, the error before and after one step ``w ← w - lr · dE/dw``.
    """
    layers = network_layers(model)
    x = make_tensor(to_numpy(x._array if hasattr(x, "_array") else x), dtype=layers[0][0].weight.dtype).reshape(-1)
    target = make_tensor(to_numpy(target._array if hasattr(target, "_array") else target), dtype=x.dtype).reshape(-1)
    if x.shape[0] != layers[0][0].in_features or target.shape[0] != layers[-1][0].out_features:
        raise ValueError(
            f"the layer view needs one example: x of shape ({layers[0][0].in_features},) and target of shape "
            f"({layers[-1][0].out_features},), got {tuple(x.shape)} and {tuple(target.shape)}"
        )
    parameters = [(linear.weight.detach().clone().requires_grad_(True), linear.bias.detach().clone().requires_grad_(True)) for linear, _ in layers]
    error, nets, outputs = _forward(layers, parameters, x, target)
    for net in nets:
        net.retain_grad()
    error.backward()
    with grad_mode.no_grad():
        stepped = [(weight - lr * weight.grad, bias - lr * bias.grad) for weight, bias in parameters]
        error_after, _, _ = _forward(layers, stepped, x, target)
    return {
        "layers": [
            {
                "size": linear.out_features,
                "activation": activation,
                "derivative": DERIVATIVES[activation],
                "weight": _plain(weight),
                "bias": _plain(bias),
            }
            for (linear, activation), (weight, bias) in zip(layers, parameters)
        ],
        "x": _plain(x),
        "t": _plain(target),
        "lr": float(lr),
        "autograd": {
            "nets": [_plain(net) for net in nets],
            "outputs": [_plain(output) for output in outputs],
            "deltas": [_plain(net.grad) for net in nets],
            "weight_grads": [_plain(weight.grad) for weight, _ in parameters],
            "bias_grads": [_plain(bias.grad) for _, bias in parameters],
            "error": float(error.item()),
            "error_after_step": float(error_after.item()),
        },
    }


def _forward(layers, parameters, x, target):
    """``(E, net inputs, outputs)`` of the network with ``parameters`` on one example."""
    nets, outputs = [], []
    output = x
    for (_, activation), (weight, bias) in zip(layers, parameters):
        net = weight @ output + bias
        output = _activate(net, activation)
        nets.append(net)
        outputs.append(output)
    error = 0.5 * ((output - target) ** 2).sum()
    return error, nets, outputs


def _activate(net, activation):
    if activation == "sigmoid":
        return net.sigmoid()
    if activation == "tanh":
        return net.tanh()
    if activation == "relu":
        return net.relu()
    return net


def _plain(tensor):
    return to_numpy(tensor.detach()._array if hasattr(tensor, "_array") else tensor).astype(float).tolist()


def course_network():
    """The 2-2-2 sigmoid network of the classic worked example, as an ``nn.Sequential``, with its
    example: x = (0.05, 0.10), t = (0.01, 0.99); E = 0.2984 before training."""
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2), nn.Sigmoid())
    with grad_mode.no_grad():
        model[0].weight.copy_(make_tensor([[0.15, 0.20], [0.25, 0.30]]))
        model[0].bias.copy_(make_tensor([0.35, 0.35]))
        model[2].weight.copy_(make_tensor([[0.40, 0.45], [0.50, 0.55]]))
        model[2].bias.copy_(make_tensor([0.60, 0.60]))
    return model, make_tensor([0.05, 0.10]), make_tensor([0.01, 0.99])


def explore_network(model, x, target, path="network.html", lr=0.5, title=None, graph_page=None):
    """Write the layer view of ``model`` (an ``nn.Sequential`` of Linear layers and elementwise
    activations) on the example ``x`` with ``target``, and return the page's path.

    The page steps through forward (net input and output of each neuron), the error, backward (each
    neuron's δ and each weight's gradient, from the output layer back) and one update with ``lr``;
    the student can edit ``x``, ``target`` and ``lr`` and train step by step in the page.
    ``graph_page``: the file name of the operation graph's page (``explore``), linked from this one.
    """
    data = network_data(model, x, target, lr)
    data["graph_page"] = graph_page  # a page with the same network's operation graph, linked if given
    shape = " → ".join(str(size) for size in [len(data["x"])] + [layer["size"] for layer in data["layers"]])
    return write_page(PAGE, title or f"Backprop through a {shape} network, layer by layer", data, path)
