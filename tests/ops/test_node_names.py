"""``print(y)`` shows ``grad_fn=<...>`` with PyTorch's node names: the last step of PyTorch's
computation, which chainrule's fused operations name as PyTorch's composition ends."""
import numpy as np
import pytest
import torch

import chainrule

EXPRESSIONS = {
    "float": lambda lib, x: x.double().float(),
    "expand": lambda lib, x: x[:1].expand(3, 4),
    "broadcast_to": lambda lib, x: lib.broadcast_to(x[:1], (3, 4)),
    "log1p": lambda lib, x: x.abs().log1p(),
    "logaddexp": lambda lib, x: lib.logaddexp(x, x * 2),
    "clamp_numbers": lambda lib, x: x.clamp(min=0),
    "clamp_both": lambda lib, x: x.clamp(-1, 1),
    "clamp_tensor": lambda lib, x: x.clamp(min=lib.zeros(4, dtype=lib.float64)),
    "masked_fill": lambda lib, x: x.masked_fill(x > 0, 0.0),
    "masked_fill_tensor": lambda lib, x: x.masked_fill(x > 0, lib.tensor(0.0, dtype=lib.float64)),
    "trace": lambda lib, x: lib.trace(x),
    "linear_2d": lambda lib, x: lib.nn.functional.linear(x, x[:2]),
    "linear_3d": lambda lib, x: lib.nn.functional.linear(x.reshape(3, 2, 2), x[:2, :2], x[0, :2]),
    "dist": lambda lib, x: lib.dist(x, x * 2),
    "norm_inf": lambda lib, x: x.norm(float("inf")),
    "cross_entropy": lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor([0, 1, 2])),
    "l1_loss": lambda lib, x: lib.nn.functional.l1_loss(x, x.detach() * 2),
    "index": lambda lib, x: x[0, :2],
    "unsqueeze_by_none": lambda lib, x: x[:, None],
    "fmod_number": lambda lib, x: lib.fmod(x, 2.0),
    "fmod_tensor": lambda lib, x: lib.fmod(x, x.detach().abs() + 1),
    "remainder_number": lambda lib, x: x % 2,
    "remainder_tensor": lambda lib, x: lib.remainder(x, x.detach().abs() + 1),
    "lerp_number": lambda lib, x: lib.lerp(x, x * 2, 0.5),
    "lerp_tensor": lambda lib, x: lib.lerp(x, x * 2, lib.full((3, 4), 0.5, dtype=lib.float64)),
    "rdiv": lambda lib, x: 3 / x,
    "rmul": lambda lib, x: 2 * x,
}


@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_nodes_are_named_as_pytorch_names_them(name):
    values = np.random.default_rng(0).standard_normal((3, 4))
    names = [EXPRESSIONS[name](lib, lib.tensor(values, requires_grad=True)).grad_fn.name() for lib in (chainrule, torch)]
    assert names[0] == names[1]
