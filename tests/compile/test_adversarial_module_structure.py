"""chainrule.compile against eager execution where the MODEL'S STRUCTURE or parametrization changes
between calls or inside the step: containers appended to, replaced into, inserted into and deleted
from; submodules swapped; parametrizations registered; weight norm and spectral norm (its power
iteration buffers) trained; ``apply``/``nn.init`` re-initializations; ``requires_grad_(False)``;
dtype conversions of a submodule; forward pre-hooks; conv/bn fusion; a forward reading
``self.training`` and a global mode.

Each test runs the same calls twice from the same seed, once eagerly and once compiled, and compares
bit for bit. A compiled run may record anew or fall back to eager with at most one warning.
"""
import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.test_adversarial_tensor_state import Case, assert_same_as_eager, mse_step


def lin(i=3, o=2):
    return nn.Linear(i, o).double()


def sgd(params):
    return optim.SGD(params, lr=0.1)


def all_params_step(net):
    """zero_grad/loss/backward then a by-hand SGD over whatever parameters ``net`` has *now*."""

    def step(x, y):
        for p in net.parameters():
            p.grad = None
        loss = F.mse_loss(net(x), y)
        loss.backward()
        with chainrule.no_grad():
            for p in net.parameters():
                if p.grad is not None:
                    p -= 0.1 * p.grad
        return loss

    return step


# ----------------------------------------------------------------------------- containers
def test_modulelist_append_between_calls():
    """A layer appended to a ModuleList a forward loops over records anew (it was silently left out)."""

    def setup():
        layers = nn.ModuleList([lin(3, 2)])
        holder = nn.Module()
        holder.layers = layers

        def forward(x):
            out = layers[0](x)
            for extra in list(layers)[1:]:
                out = out + extra(x)
            return out

        net = holder
        net.forward = forward

        def before(i):
            if i in (2, 4):
                layers.append(lin(3, 2))

        return Case(all_params_step(net), lambda: [net], before)

    assert_same_as_eager(setup)


def test_moduledict_item_replaced_between_calls():
    def setup():
        blocks = nn.ModuleDict({"a": lin(3, 4), "act": nn.Tanh(), "b": lin(4, 2)})

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = blocks

            def forward(self, x):
                return self.blocks["b"](self.blocks["act"](self.blocks["a"](x)))

        net = Net()

        def before(i):
            if i == 2:
                blocks["act"] = nn.ReLU()
            if i == 4:
                blocks["b"] = lin(4, 2)

        return Case(all_params_step(net), lambda: [net], before)

    assert_same_as_eager(setup)


def test_sequential_insert_between_calls():
    def setup():
        net = nn.Sequential(lin(3, 4), lin(4, 2))

        def before(i):
            if i == 2:
                net.insert(1, nn.Tanh())
            if i == 4:
                net.insert(1, lin(4, 4))

        return Case(all_params_step(net), lambda: [net], before)

    assert_same_as_eager(setup)


def test_sequential_del_between_calls():
    def setup():
        net = nn.Sequential(lin(3, 4), nn.Tanh(), lin(4, 4), nn.Sigmoid(), lin(4, 2))

        def before(i):
            if i == 2:
                del net[3]
            if i == 4:
                del net[1:3]

        return Case(all_params_step(net), lambda: [net], before)

    assert_same_as_eager(setup)


def test_activation_submodule_swapped_between_calls():
    def setup():
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = lin(3, 4)
                self.act = nn.Tanh()
                self.fc2 = lin(4, 2)

            def forward(self, x):
                return self.fc2(self.act(self.fc1(x)))

        net = Net()
        opt = sgd(net.parameters())

        def before(i):
            net.act = [nn.Tanh(), nn.ReLU(), nn.Sigmoid()][i % 3]

        return Case(mse_step(net, opt), lambda: [net, opt], before)

    assert_same_as_eager(setup)


def test_activation_swapped_inside_the_step():
    def setup():
        net = nn.Sequential(lin(3, 4), nn.Tanh(), lin(4, 2))
        opt = sgd(net.parameters())

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            net[1] = nn.ReLU() if isinstance(net[1], nn.Tanh) else nn.Tanh()
            return loss

        return Case(step, lambda: [net, opt])

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- parametrizations
class Symmetric(nn.Module):
    def forward(self, w):
        return w.triu() + w.triu(1).transpose(0, 1)


def test_register_parametrization_between_calls():
    def setup():
        net = lin(3, 3)
        opt = sgd(net.parameters())

        def before(i):
            if i == 3:
                nn.utils.parametrize.register_parametrization(net, "weight", Symmetric())

        def inputs(i):
            from tests.compile.test_adversarial_replay import normal
            return (normal((4, 3), 10 + i), normal((4, 3), 20 + i))

        return Case(all_params_step(net), lambda: [net, opt], before, inputs=inputs)

    assert_same_as_eager(setup)


def test_weight_norm_trained():
    def setup():
        net = nn.utils.weight_norm(lin(3, 2))
        opt = sgd(net.parameters())
        return Case(mse_step(net, opt), lambda: [net, opt])

    assert_same_as_eager(setup)


def test_parametrizations_weight_norm_trained():
    def setup():
        net = nn.utils.parametrizations.weight_norm(lin(3, 2))
        opt = sgd(net.parameters())
        return Case(mse_step(net, opt), lambda: [net, opt])

    assert_same_as_eager(setup)


def test_spectral_norm_trained_power_iteration_buffers():
    def setup():
        net = nn.utils.spectral_norm(lin(3, 4))
        opt = sgd(net.parameters())
        return Case(mse_step(net, opt, lambda n, loss: None), lambda: [net, opt],
                    inputs=lambda i: _io(i, 3, 4))

    assert_same_as_eager(setup)


def test_parametrizations_spectral_norm_trained():
    def setup():
        net = nn.utils.parametrizations.spectral_norm(lin(3, 4))
        opt = sgd(net.parameters())
        return Case(mse_step(net, opt), lambda: [net, opt], inputs=lambda i: _io(i, 3, 4))

    assert_same_as_eager(setup)


def test_spectral_norm_toggled_eval_between_calls():
    def setup():
        net = nn.utils.spectral_norm(lin(3, 4))
        opt = sgd(net.parameters())
        return Case(mse_step(net, opt), lambda: [net, opt], lambda i: net.train(i % 2 == 0),
                    inputs=lambda i: _io(i, 3, 4))

    assert_same_as_eager(setup)


def _io(i, a, b):
    from tests.compile.test_adversarial_replay import normal
    return (normal((4, a), 10 + i), normal((4, b), 20 + i))


# ----------------------------------------------------------------------------- re-initialization
def test_apply_init_fn_between_calls():
    def setup():
        net = nn.Sequential(lin(3, 4), nn.Tanh(), lin(4, 2))
        opt = sgd(net.parameters())

        def init_fn(m):
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

        return Case(mse_step(net, opt), lambda: [net, opt], lambda i: i == 3 and net.apply(init_fn))

    assert_same_as_eager(setup)


def test_init_normal_of_a_weight_inside_the_step():
    def setup():
        net = nn.Sequential(lin(3, 4), nn.Tanh(), lin(4, 2))
        opt = sgd(net.parameters())

        def after_update(n, loss):
            nn.init.normal_(n[2].weight, 0.0, 0.1)

        return Case(mse_step(net, opt, after_update), lambda: [net, opt])

    assert_same_as_eager(setup)


def test_requires_grad_false_on_a_submodule_between_calls():
    def setup():
        net = nn.Sequential(lin(3, 4), nn.Tanh(), lin(4, 2))
        opt = sgd(net.parameters())

        def before(i):
            if i == 2:
                net[0].requires_grad_(False)
            if i == 4:
                net[0].requires_grad_(True)

        return Case(mse_step(net, opt), lambda: [net, opt], before)

    assert_same_as_eager(setup)


def test_submodule_converted_to_double_between_calls():
    def setup():
        net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        opt = sgd(net.parameters())

        def step(x, y):
            opt.zero_grad()
            h = net[0](x.to(net[0].weight.dtype))
            out = net[2](net[1](h).to(net[2].weight.dtype))
            loss = F.mse_loss(out, y.to(out.dtype))
            loss.backward()
            opt.step()
            return loss

        def before(i):
            if i == 3:
                net[0].double()

        return Case(step, lambda: [net, opt], before)

    assert_same_as_eager(setup)


def test_forward_pre_hook_changing_the_input_added_between_calls():
    def setup():
        net = nn.Sequential(lin(3, 4), nn.Tanh(), lin(4, 2))
        opt = sgd(net.parameters())
        handles = []

        def before(i):
            if i == 2:
                handles.append(net[2].register_forward_pre_hook(lambda m, args: (args[0] * 2.0,)))
            if i == 4:
                handles.pop().remove()

        return Case(mse_step(net, opt), lambda: [net, opt], before)

    assert_same_as_eager(setup)


def test_fuse_conv_bn_eval_between_calls():
    def setup():
        conv = nn.Conv2d(2, 3, 3).double()
        bn = nn.BatchNorm2d(3).double()
        holder = {"net": nn.Sequential(conv, bn).eval()}

        def step(x, y):
            net = holder["net"]
            for p in net.parameters():
                p.grad = None
            loss = F.mse_loss(net(x).sum(dim=(2, 3)), y)
            loss.backward()
            with chainrule.no_grad():
                for p in net.parameters():
                    p -= 0.1 * p.grad
            return loss

        def before(i):
            if i == 3:
                c, b = holder["net"][0], holder["net"][1]
                holder["net"] = nn.Sequential(nn.utils.fuse_conv_bn_eval(c, b)).eval()

        def inputs(i):
            from tests.compile.test_adversarial_replay import normal
            return (normal((2, 2, 5, 5), 10 + i), normal((2, 3), 20 + i))

        return Case(step, lambda: [holder["net"]], before, inputs=inputs)

    assert_same_as_eager(setup)


MODE = {"scale": 1.0}


def test_forward_reading_self_training_and_a_global_mode():
    def setup():
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = lin(3, 2)

            def forward(self, x):
                out = self.fc(x)
                if self.training:
                    out = out * 0.5
                return out * MODE["scale"]

        net = Net()
        opt = sgd(net.parameters())

        def before(i):
            net.train(i % 2 == 0)
            MODE["scale"] = [1.0, 2.0, 3.0][i % 3]

        return Case(mse_step(net, opt), lambda: [net, opt], before,
                    cleanup=lambda: MODE.update(scale=1.0))

    assert_same_as_eager(setup)


def test_forward_reading_self_training_toggled_inside_the_step():
    def setup():
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = lin(3, 2)
                self.drop = nn.Dropout(0.5)

            def forward(self, x):
                return self.drop(self.fc(x)) if self.training else self.fc(x) * 2.0

        net = Net()
        opt = sgd(net.parameters())
        return Case(mse_step(net, opt, lambda n, loss: n.train(not n.training) and None),
                    lambda: [net, opt])

    assert_same_as_eager(setup)


class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([lin(3, 3)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def _stack_case(before):
    def setup():
        net = Stack()
        opt = sgd(net.parameters())
        return Case(mse_step(net, opt), lambda: [net, opt], before, inputs=lambda i: _io(i, 3, 3))

    return setup


def test_modulelist_iterated_in_forward_parameter_free_layer_appended():
    holder = {}

    def before(i):
        if i == 2:
            holder["net"].layers.append(nn.Tanh())

    def setup():
        case = _stack_case(before)()
        holder["net"] = case.observe()[0]
        return case

    assert_same_as_eager(setup)


def test_modulelist_attribute_replaced_by_a_longer_sequential():
    holder = {}

    def before(i):
        if i == 2:
            net = holder["net"]
            net.layers = nn.Sequential(*net.layers, nn.Tanh())

    def setup():
        case = _stack_case(before)()
        holder["net"] = case.observe()[0]
        return case

    assert_same_as_eager(setup)
