"""Operations written into the program in place of calls: the statements of ``forward`` and
``backward`` on the program's arrays, simplified by what the recording knows, giving the eager
results bit for bit; what cannot be written in stays a call."""
import sys

import numpy as np
import pytest

import chainrule
from chainrule.backend import xp
from chainrule.ops.op import Op

inline = sys.modules["chainrule.compile.inline"]

SCALES = {"first": 2.0}  # a module global holding state: read where it is, never copied into a program


class Shifted(Op):
    """Two returns, one inside a ``with`` block: both paths end in the targets."""

    formula = "x + shift"
    derivatives = ("1", None)

    @staticmethod
    def forward(ctx, x, shift):
        if shift is None:
            return x.copy()
        with np.errstate(all="ignore"):
            return x + shift

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


class Scaled(Op):
    """Reads a dict kept in its module: it must stay a call."""

    formula = "s x"
    derivatives = ("s", )

    @staticmethod
    def forward(ctx, x):
        return x * SCALES["first"]

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * SCALES["first"]


class Squares(Op):
    """A comprehension (its own scope): it must stay a call."""

    formula = "x²"
    derivatives = ("2 x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.stack([row * row for row in x])

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output


class Mangled(Op):
    """A name its class mangles (``ctx.__scale`` is ``ctx._Mangled__scale``): written in elsewhere,
    it would be another name."""

    formula = "2 x"
    derivatives = ("2",)

    @staticmethod
    def forward(ctx, x):
        ctx.__scale = 2.0
        return x * ctx.__scale

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.__scale


def compiled_and_eager(step, *inputs):
    compiled = chainrule.compile(step)
    for _ in range(3):
        copies = [tensor.detach().clone().requires_grad_(tensor.requires_grad) for tensor in inputs]
        expected = step(*copies)
        got = compiled(*[tensor.detach().clone().requires_grad_(tensor.requires_grad) for tensor in inputs])
        assert np.array_equal(got.detach().numpy(), expected.detach().numpy())
    return compiled


def test_an_operation_is_written_in_with_its_tests_decided():
    weight = chainrule.randn(3, 2, requires_grad=True)

    def step(x):
        loss = (x @ weight).clamp(max=1.0).sum()  # clamp's missing min: its test decided, not written
        loss.backward()
        return weight.grad

    code = compiled_and_eager(step, chainrule.randn(4, 3)).code
    statements = "\n".join(line.split("  #")[0] for line in code.splitlines())
    assert ".forward(" not in statements and ".backward(" not in statements
    assert "< None" not in statements and "maximum(" not in statements  # only the max bound's lines
    assert "# Clamp: min(max(" in code and "ClampBackward1" in code


def test_only_the_gradients_needed_are_computed():
    weight = chainrule.randn(3, requires_grad=True)

    def step(x):
        (x * weight).sum().backward()
        return weight.grad

    code = compiled_and_eager(step, chainrule.randn(4, 3)).code
    backward = code.split("with plain_backward")[1]
    assert backward.count(" * ") == 1  # d/dweight only: x needs none
    assert "* x0" in backward and "saved_tensors" not in code  # weight's gradient reads x itself: nothing is kept


def test_returns_on_every_path_are_the_targets():
    def step(x, y):
        return Shifted.apply(x, y) + Shifted.apply(x, None)

    compiled = compiled_and_eager(step, chainrule.randn(5), chainrule.randn(5))
    assert "Shifted.forward" not in compiled.code and "with np.errstate" in compiled.code.replace("np_", "np.")


@pytest.mark.parametrize(
    "operation, calls", [(Scaled, ("forward", "backward")), (Squares, ("forward",)), (Mangled, ("forward", "backward"))]
)
def test_what_cannot_be_written_in_stays_a_call(operation, calls):
    def step(x):
        y = operation.apply(x)
        y.sum().backward()
        return x.grad

    compiled = compiled_and_eager(step, chainrule.randn(3, 2, requires_grad=True))
    for name in ("forward", "backward"):
        assert (f"{operation.__name__}.{name}(ctx" in compiled.code) == (name in calls)


def test_a_global_read_by_a_call_is_read_on_each_call():
    def step(x):
        return Scaled.apply(x)

    compiled = chainrule.compile(step)
    x = chainrule.ones(2)
    compiled(x)
    SCALES["first"] = 3.0
    try:
        assert compiled(x).tolist() == [3.0, 3.0]
    finally:
        SCALES["first"] = 2.0


def test_templates_are_made_once_per_way_of_calling():
    def step(x):
        y = x
        for _ in range(50):
            y = y * 0.5 + 0.25
        return y

    inline._templates.clear()
    compiled_and_eager(step, chainrule.randn(2))
    made = [key for key in inline._templates if key[0].__qualname__ in ("Mul.forward", "Add.forward")]
    assert 0 < len(made) <= 4


def test_a_gradient_cleared_within_the_step_is_handed_on_as_an_array_and_adds_to_a_given_grad():
    def make():
        chainrule.manual_seed(0)
        model = chainrule.nn.Linear(3, 2)
        return model, chainrule.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    (eager_model, eager_optimizer), (model, optimizer) = make(), make()

    def step_of(model, optimizer):
        def step(x):
            loss = model(x).square().mean()
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            return loss

        return step

    eager, compiled = step_of(eager_model, eager_optimizer), chainrule.compile(step_of(model, optimizer))
    for call in range(4):
        x = chainrule.randn(5, 3)
        if call == 2:  # a gradient set by hand before the step: backward adds to it, as in eager
            for parameter in (*eager_model.parameters(), *model.parameters()):
                parameter.grad = chainrule.ones_like(parameter)
        assert eager(x).item() == compiled(x).item()
        for expected, got in zip(eager_model.parameters(), model.parameters()):
            assert np.array_equal(expected.detach().numpy(), got.detach().numpy()) and got.grad is None
    assert "gradient_to_apply(" in compiled.code and "._grad._array" not in compiled.code


def test_a_step_replayed_as_one_call_still_finds_the_gradients():
    """optimizer.step() is replayed whole when a parameter got no gradient from the program (here
    one that is never used): it looks for .grad itself, so every .grad must exist when it runs."""
    def make():
        chainrule.manual_seed(0)
        used, unused = chainrule.nn.Linear(3, 2), chainrule.nn.Linear(3, 2)
        return used, chainrule.optim.SGD([*used.parameters(), *unused.parameters()], lr=0.1)

    (eager_model, eager_optimizer), (model, optimizer) = make(), make()

    def step_of(model, optimizer):
        def step(x):
            model(x).sum().backward()
            optimizer.step()
            optimizer.zero_grad()

        return step

    eager, compiled = step_of(eager_model, eager_optimizer), chainrule.compile(step_of(model, optimizer))
    for _ in range(3):
        x = chainrule.randn(4, 3)
        eager(x), compiled(x)
        for expected, got in zip(eager_model.parameters(), model.parameters()):
            assert np.array_equal(expected.detach().numpy(), got.detach().numpy())
    assert "gradient_to_apply(" not in compiled.code and "Optimizer_step(" in compiled.code


def test_cross_entropy_is_written_in_its_and_or_tests_folded():
    """A body with ``and`` / ``or`` settles after folding (cross-entropy has both)."""
    chainrule.manual_seed(0)
    model = chainrule.nn.Linear(4, 3)

    def step(x, y):
        loss = chainrule.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        return loss

    compiled = compiled_and_eager(step, chainrule.randn(6, 4), chainrule.tensor([0, 1, 2, 2, 1, 0]))
    assert "CrossEntropy.forward(" not in compiled.code and "CrossEntropy.backward(" not in compiled.code
    assert "# CrossEntropy:" in compiled.code and "NllLossBackward0" in compiled.code
