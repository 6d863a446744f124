"""The graphs the viz tests draw, trace and explore."""
import numpy as np
import torch

import chainrule


def seed_example():
    """J = 3 (a + b c) at a = 5, b = 3, c = 2, with u = a + v and v = b c (the course notes' graph).

    Returns ``(J, params naming u, v and J, (a, b, c))``.
    """
    a, b, c = (chainrule.tensor(value, requires_grad=True, name=name) for name, value in (("a", 5.0), ("b", 3.0), ("c", 2.0)))
    v = b * c
    u = a + v
    J = 3 * u
    return J, {"u": u, "v": v, "J": J}, (a, b, c)


def torch_course_mlp(named):
    """PyTorch's gradients of the course MLP for the same inputs as chainrule's ``course_mlp``."""
    tensors = {
        name: torch.tensor(tensor._array.astype(np.float64), requires_grad=tensor.requires_grad)
        for name, tensor in named.items()
        if name in ("x", "t", "W1", "b1", "W2", "b2")
    }
    z1 = torch.nn.functional.linear(tensors["x"], tensors["W1"], tensors["b1"])
    z1.retain_grad()
    h = torch.sigmoid(z1)
    z2 = torch.nn.functional.linear(h, tensors["W2"], tensors["b2"])
    z2.retain_grad()
    output = torch.sigmoid(z2)
    error = 0.5 * ((output - tensors["t"]) ** 2).sum()
    error.backward()
    return error, tensors, {"z1": z1, "z2": z2, "h": h, "O": output}
