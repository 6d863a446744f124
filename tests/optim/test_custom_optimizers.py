"""Optimizers written the old way (``torch.optim.optimizer.required``, ``p.grad.data``), and
the text ``print(optimizer)`` shows, against PyTorch."""
import copy
import importlib

import numpy as np
import pytest
import torch

import chainrule


def old_style_sgd(lib):
    """SGD as course code and old repositories write it (PyTorch 0.4's own SGD, trimmed)."""
    required = importlib.import_module(lib.__name__ + ".optim.optimizer").required
    Optimizer = lib.optim.Optimizer

    class OldSGD(Optimizer):
        def __init__(self, params, lr=required, momentum=0, weight_decay=0):
            if lr is not required and lr < 0.0:
                raise ValueError("Invalid learning rate: {}".format(lr))
            defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay)
            super(OldSGD, self).__init__(params, defaults)

        def __setstate__(self, state):
            super(OldSGD, self).__setstate__(state)

        def step(self, closure=None):
            loss = None
            if closure is not None:
                loss = closure()
            for group in self.param_groups:
                weight_decay = group["weight_decay"]
                momentum = group["momentum"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    d_p = p.grad.data
                    if weight_decay != 0:
                        d_p = d_p.add(p.data, alpha=weight_decay)
                    if momentum != 0:
                        param_state = self.state[p]
                        if "momentum_buffer" not in param_state:
                            buf = param_state["momentum_buffer"] = lib.clone(d_p).detach()
                        else:
                            buf = param_state["momentum_buffer"]
                            buf.mul_(momentum).add_(d_p)
                        d_p = buf
                    p.data.add_(d_p, alpha=-group["lr"])
            return loss

    return OldSGD


def train_old_style(lib, steps=5, **options):
    weight = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    frozen = lib.tensor([0.5], requires_grad=True)  # never gets a gradient: skipped
    optimizer = old_style_sgd(lib)([weight, frozen], **options)
    for _ in range(steps):
        optimizer.zero_grad()
        (weight * weight).sum().backward()
        optimizer.step()
    return weight.detach().numpy(), frozen.detach().numpy(), optimizer


@pytest.mark.parametrize("options", [dict(lr=0.1), dict(lr=0.1, momentum=0.9, weight_decay=0.01)], ids=str)
def test_an_old_style_optimizer_trains_like_torch(options):
    (our_weight, our_frozen, ours), (their_weight, their_frozen, theirs) = (
        train_old_style(lib, **options) for lib in (chainrule, torch)
    )
    # Tensor.add(alpha=) rounds twice here and once in PyTorch (a fused multiply-add): a float32 ulp
    np.testing.assert_allclose(our_weight, their_weight, rtol=2e-6)
    assert our_frozen == their_frozen == 0.5
    assert sorted(ours.state_dict()["state"]) == sorted(theirs.state_dict()["state"])


def test_required_is_torch_s_sentinel():
    from chainrule.optim.optimizer import required
    from torch.optim.optimizer import required as torch_required

    assert repr(required) == repr(torch_required) == "<required parameter>"
    assert chainrule.optim.optimizer.required is required


def test_a_group_without_a_required_option_raises_like_torch():
    def attempt(lib, groups):
        try:
            old_style_sgd(lib)(groups(lib))
        except ValueError as error:
            return str(error)
        return None

    without = lambda lib: [lib.zeros(2, requires_grad=True)]  # noqa: E731
    assert attempt(chainrule, without) == attempt(torch, without) == (
        "parameter group didn't specify a value of required optimization parameter lr"
    )
    with_lr = lambda lib: [{"params": [lib.zeros(2, requires_grad=True)], "lr": 0.5}]  # noqa: E731
    assert attempt(chainrule, with_lr) is attempt(torch, with_lr) is None


def test_an_old_style_optimizer_is_restored_through_its_setstate():
    """What unpickling does (the class here is local, so pickle itself can't name it)."""
    weight, _, optimizer = train_old_style(chainrule, lr=0.1, momentum=0.9)
    unpickled = object.__new__(type(optimizer))
    unpickled.__setstate__(dict(optimizer.__getstate__()))
    for restored in (unpickled, copy.deepcopy(optimizer)):
        assert restored.param_groups[0]["lr"] == 0.1
        restored.zero_grad()
        parameter = restored.param_groups[0]["params"][0]
        (parameter * parameter).sum().backward()
        restored.step()


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, a, b: lib.optim.SGD([a, b], lr=0.1),
        lambda lib, a, b: lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5, "momentum": 0.9}], lr=0.1),
        lambda lib, a, b: lib.optim.Adam([{"params": [a]}, {"params": [b], "weight_decay": 0.1}, ], lr=lib.tensor(0.01)),
        lambda lib, a, b: lib.optim.AdamW(
            [{"params": [a], "betas": (0.8, 0.9)}, {"params": [b]}], betas=(lib.tensor(0.9), lib.tensor(0.99))
        ),
    ],
    ids=["one-group", "two-groups", "tensor-lr", "tensor-betas"],
)
def test_repr_is_torch_s_text(make):
    def text(lib):
        optimizer = make(lib, lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True))
        if len(optimizer.param_groups) > 1:
            optimizer.add_param_group({"params": [lib.zeros(1, requires_grad=True)], "lr": 0.25})
        return repr(optimizer)

    assert text(chainrule) == text(torch)


def test_repr_separates_groups_by_a_blank_line():
    a, b = chainrule.zeros(1, requires_grad=True), chainrule.zeros(1, requires_grad=True)
    text = repr(chainrule.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1))
    assert "    weight_decay: 0\n\nParameter Group 1\n" in text and text.endswith("    weight_decay: 0\n)")
