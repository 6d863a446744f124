"""chainrule.compile against eager execution where dtypes and devices vary: float16 models and
inputs, a float64 model fed float32 inputs, integer and uint8 inputs cast inside the step, bool
masks, no-op device moves (``.to("cpu")``, ``.cpu()``, ``non_blocking=True``, a ``chainrule.device``
argument), inputs whose dtype alternates between calls, and 0-d and empty-batch inputs.

Compared bit for bit with the harness of test_adversarial_tensor_state.py. (bfloat16 and complex
tensors are not supported by chainrule at all, so they have no cases here.)
"""
import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.test_adversarial_replay import normal
from tests.compile.test_adversarial_tensor_state import Case, assert_same_as_eager, mse_step


def sgd(net):
    return optim.SGD(net.parameters(), lr=0.1)


def test_float16_model_and_inputs():
    def setup():
        net = nn.Linear(3, 2).half()
        opt = sgd(net)
        inputs = lambda i: (normal((4, 3), 10 + i, np.float16), normal((4, 2), 20 + i, np.float16))
        return Case(mse_step(net, opt), lambda: [net, opt], inputs=inputs)

    assert_same_as_eager(setup)


def test_float64_model_with_float32_inputs_promoted():
    def setup():
        net = nn.Linear(3, 2).double()
        opt = sgd(net)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x.double()), y.double())
            loss.backward()
            opt.step()
            return loss, (x * 2.0 + net.bias.sum())  # float32 * python, then promoted by float64

        inputs = lambda i: (normal((4, 3), 10 + i, np.float32), normal((4, 2), 20 + i, np.float32))
        return Case(step, lambda: [net, opt], inputs=inputs)

    assert_same_as_eager(setup)


def test_integer_inputs_cast_inside_the_step():
    def setup():
        net = nn.Linear(3, 2)
        opt = sgd(net)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x.float()), y.float())
            loss.backward()
            opt.step()
            return loss, x.sum(), x // 2

        def inputs(i):
            rng = np.random.default_rng(i)
            return (chainrule.tensor(rng.integers(-5, 5, (4, 3))), chainrule.tensor(rng.integers(0, 3, (4, 2)).astype(np.int32)))

        return Case(step, lambda: [net, opt], inputs=inputs)

    assert_same_as_eager(setup)


def test_bool_mask_as_input():
    def setup():
        net = nn.Linear(3, 2).double()
        opt = sgd(net)

        def step(x, mask):
            opt.zero_grad()
            out = net(x)
            loss = (out * mask.double()).sum() / mask.sum().clamp(min=1) + out[mask].sum() * 0.0
            loss = loss + out.masked_fill(~mask, 0.0).pow(2).mean()
            loss.backward()
            opt.step()
            return loss, mask.any(), mask.all()

        def inputs(i):
            mask = np.random.default_rng(i).random((4, 2)) < (i / 6)  # all-False on call 0
            return normal((4, 3), 10 + i), chainrule.tensor(mask)

        return Case(step, lambda: [net, opt], inputs=inputs)

    assert_same_as_eager(setup)


@pytest.mark.parametrize("move", ["to_str", "cpu", "non_blocking", "to_device_and_dtype"])
def test_noop_device_moves_inside_the_step(move):
    def setup():
        net = nn.Linear(3, 2).double()
        opt = sgd(net)
        moves = {
            "to_str": lambda t: t.to("cpu"),
            "cpu": lambda t: t.cpu(),
            "non_blocking": lambda t: t.to("cpu", non_blocking=True),
            "to_device_and_dtype": lambda t: t.to(chainrule.device("cpu"), chainrule.float64),
        }

        def step(x, y):
            opt.zero_grad()
            x = moves[move](x)
            loss = F.mse_loss(net(x), moves[move](y))
            loss.backward()
            opt.step()
            x.add_(1.0)  # the move returned the same tensor: the caller sees this write
            return moves[move](loss)

        return Case(step, lambda: [net, opt])

    assert_same_as_eager(setup)


def test_device_passed_as_an_argument():
    def setup():
        net = nn.Linear(3, 2).double()
        opt = sgd(net)

        def step(x, y, device):
            opt.zero_grad()
            loss = F.mse_loss(net(x.to(device)), y.to(device=device)) + chainrule.zeros((), device=device, dtype=chainrule.float64)
            loss.backward()
            opt.step()
            return loss, str(device)

        inputs = lambda i: (normal((4, 3), 10 + i), normal((4, 2), 20 + i), chainrule.device("cpu") if i % 2 else "cpu")
        return Case(step, lambda: [net, opt], inputs=inputs)

    assert_same_as_eager(setup)


def test_uint8_image_normalized_by_255():
    def setup():
        net = nn.Linear(3, 2)
        opt = sgd(net)

        def step(image, y):
            opt.zero_grad()
            x = image / 255
            loss = F.mse_loss(net(x.float()), y)
            loss.backward()
            opt.step()
            return loss, x, (image.float() / 255.0 - 0.5) / 0.25

        def inputs(i):
            image = np.random.default_rng(i).integers(0, 256, (4, 3)).astype(np.uint8)
            return chainrule.tensor(image), normal((4, 2), 20 + i, np.float32)

        return Case(step, lambda: [net, opt], inputs=inputs)

    assert_same_as_eager(setup)


def test_input_dtype_alternates_between_calls():
    def setup():
        net = nn.Linear(3, 2).double()
        opt = sgd(net)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x.double()), y.double())
            loss.backward()
            opt.step()
            return loss, x * 3.0 + 1.0, x.dtype

        def inputs(i):
            dtype = np.float32 if i % 2 == 0 else np.float64
            return normal((4, 3), 10 + i, dtype), normal((4, 2), 20 + i, dtype)

        return Case(step, lambda: [net, opt], inputs=inputs)

    assert_same_as_eager(setup)


def test_zero_dim_inputs():
    def setup():
        w = chainrule.tensor(np.array(0.5), requires_grad=True)
        opt = optim.SGD([w], lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = (w * x - y) ** 2
            loss.backward()
            opt.step()
            return loss, x * 1, w.item()

        inputs = lambda i: (normal((), 10 + i), normal((), 20 + i))
        return Case(step, lambda: [w, opt], inputs=inputs)

    assert_same_as_eager(setup)


def test_empty_batch_inputs_between_full_ones():
    def setup():
        net = nn.Linear(3, 2).double()
        opt = sgd(net)

        def step(x, y):
            opt.zero_grad()
            out = net(x)
            loss = (out - y).pow(2).sum() / max(x.shape[0], 1)
            loss.backward()
            opt.step()
            return loss, out

        inputs = lambda i: (normal((0 if i in (2, 3) else 4, 3), 10 + i), normal((0 if i in (2, 3) else 4, 2), 20 + i))
        return Case(step, lambda: [net, opt], inputs=inputs)

    assert_same_as_eager(setup)
