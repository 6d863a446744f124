"""``model = chainrule.compile(model)`` with ``loss.backward()`` outside the compiled call, as
PyTorch 2 code does: the forward is a program, its backward one recorded node
(CompiledFunctionBackward), and every result is eager's, bit for bit."""
import gc
import warnings
import weakref

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F


def data(count=4, rows=6, features=3, seed=0):
    generator = np.random.default_rng(seed)
    return [chainrule.tensor(generator.standard_normal((rows, features)).astype(np.float32)) for _ in range(count)]


def train(make_model, compiled, steps, make_optimizer=lambda parameters: optim.SGD(parameters, lr=0.1, momentum=0.9)):
    """Train eagerly or compiled from seed 0; returns the model, the losses and the outputs' nodes."""
    chainrule.manual_seed(0)
    model = make_model()
    run = chainrule.compile(model) if compiled else model
    optimizer = make_optimizer(run.parameters())
    losses, nodes = [], []
    for inputs in steps:
        optimizer.zero_grad()
        outputs = run(inputs)
        nodes.append(type(outputs.grad_fn).__name__)
        loss = outputs.pow(2).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses, nodes


def assert_same_parameters(first, second):
    for ours, eager in zip(first.parameters(), second.parameters()):
        np.testing.assert_array_equal(ours.detach().numpy(), eager.detach().numpy())


def tanh_net():
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))


@pytest.mark.parametrize(
    "make_model",
    [
        tanh_net,
        lambda: nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2)),
        lambda: nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Sigmoid(), nn.Linear(8, 2)),
    ],
    ids=["tanh", "dropout", "batch_norm"],
)
def test_training_matches_eager_bit_for_bit_without_a_warning(make_model):
    eager, eager_losses, eager_nodes = train(make_model, False, data())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing runs eagerly
        compiled, losses, nodes = train(make_model, True, data())
    assert losses == eager_losses
    assert_same_parameters(compiled, eager)
    for ours, theirs in zip(compiled.buffers(), eager.buffers()):  # batch norm's running statistics
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert nodes == ["CompiledFunctionBackward"] * 4 and eager_nodes[0] != nodes[0]


def test_adam_and_a_changed_learning_rate_match_eager():
    def adam(parameters):
        return optim.Adam(parameters, lr=0.01)

    eager, eager_losses, _ = train(tanh_net, False, data(6), adam)
    compiled, losses, _ = train(tanh_net, True, data(6), adam)
    assert losses == eager_losses
    assert_same_parameters(compiled, eager)


def test_the_program_shows_the_backward_that_loss_backward_runs_later():
    model = chainrule.compile(tanh_net())
    model(data(1)[0]).sum().backward()
    code = model.code
    assert "def backward_of_call(" in code and "with_backward_of_call(" in code
    assert "TanhBackward0: d/dv" in code  # the derivative beside the line that computes it
    assert model.eager_reason is None


def test_two_calls_before_one_backward_run_the_second_eagerly_and_give_eager_gradients():
    """A siamese pair: the second call must not overwrite what the first call's backward reads."""
    results = []
    for compiled in (False, True):
        chainrule.manual_seed(0)
        model = tanh_net()
        run = chainrule.compile(model) if compiled else model
        for first, second in zip(data(3), data(3, seed=1)):
            model.zero_grad()
            (run(first) - run(second)).pow(2).sum().backward()
        run(data(1)[0]).sum().backward()  # and a call after that records or replays as usual
        results.append([parameter.grad.numpy().copy() for parameter in model.parameters()])
    for ours, eager in zip(*results):
        np.testing.assert_array_equal(ours, eager)


def test_an_input_that_requires_grad_gets_its_gradient_as_eagerly():
    results = []
    for compiled in (False, True):
        chainrule.manual_seed(0)
        model = tanh_net()
        run = chainrule.compile(model) if compiled else model
        grads = []
        for inputs in data(3):
            inputs.requires_grad_()
            run(inputs).sum().backward()
            grads.append(inputs.grad.numpy().copy())
        results.append(grads + [model[0].weight.grad.numpy().copy()])
    for ours, eager in zip(*results):
        np.testing.assert_array_equal(ours, eager)


def test_an_input_with_history_runs_eagerly_with_a_warning_and_eager_results():
    chainrule.manual_seed(0)
    first, second = nn.Linear(3, 3), tanh_net()
    compiled = chainrule.compile(second)
    with pytest.warns(UserWarning, match="made before the call"):
        compiled(first(data(1)[0])).sum().backward()
    assert first.weight.grad is not None and second[0].weight.grad is not None


def test_hooks_on_parameters_see_each_real_gradient_once():
    seen = {False: [], True: []}
    for compiled in (False, True):
        chainrule.manual_seed(0)
        model = tanh_net()
        model[0].weight.register_hook(lambda grad, compiled=compiled: seen[compiled].append(grad.numpy().copy()))
        run = chainrule.compile(model) if compiled else model
        for inputs in data(3):
            run(inputs).sum().backward()
    assert len(seen[True]) == len(seen[False]) == 3
    for ours, eager in zip(seen[True], seen[False]):
        np.testing.assert_array_equal(ours, eager)


def test_retain_graph_allows_a_second_backward_and_without_it_the_graph_is_freed():
    model = chainrule.compile(tanh_net())
    for inputs in data(2):  # the first call (recorded) and the second (replayed)
        model.zero_grad()
        loss = model(inputs).sum()
        loss.backward(retain_graph=True)
        once = model._orig_mod[0].weight.grad.numpy().copy()
        loss.backward()
        np.testing.assert_allclose(model._orig_mod[0].weight.grad.numpy(), 2 * once, rtol=1e-6)
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            loss.backward()


def test_double_backward_through_a_compiled_call_raises_as_pytorchs():
    model = chainrule.compile(tanh_net())
    for inputs in data(2):
        inputs.requires_grad_()
        (grad,) = chainrule.autograd.grad(model(inputs).sum(), inputs, create_graph=False)
        assert grad.shape == inputs.shape
        with pytest.raises(RuntimeError, match="double backward"):
            chainrule.autograd.grad(model(inputs).sum(), inputs, create_graph=True)


def test_autograd_grad_through_a_compiled_call_leaves_grad_untouched():
    chainrule.manual_seed(0)
    model = tanh_net()
    compiled = chainrule.compile(model)
    for inputs in data(3):
        expected = chainrule.autograd.grad(model(inputs).sum(), list(model.parameters()))
        got = chainrule.autograd.grad(compiled(inputs).sum(), list(model.parameters()))
        for ours, eager in zip(got, expected):
            np.testing.assert_array_equal(ours.numpy(), eager.numpy())
    assert all(parameter.grad is None for parameter in model.parameters())


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(3, 5)
        self.left = nn.Linear(5, 2)
        self.right = nn.Linear(5, 1)

    def forward(self, x):
        hidden = self.body(x).relu()
        return {"left": self.left(hidden), "pair": (self.right(hidden), hidden.argmax(dim=1))}


def test_several_outputs_some_unused_by_the_loss_get_eager_gradients():
    results = []
    for compiled in (False, True):
        chainrule.manual_seed(0)
        model = TwoHeads()
        run = chainrule.compile(model) if compiled else model
        for step, inputs in enumerate(data(4)):
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # argmax too is recorded
                out = run(inputs)
            assert out["pair"][1].dtype == chainrule.int64 and not out["pair"][1].requires_grad
            loss = out["left"].sum() if step % 2 else out["pair"][0].mean()
            loss.backward()
        results.append([parameter.grad.numpy().copy() for parameter in model.parameters()])
    for ours, eager in zip(*results):
        np.testing.assert_array_equal(ours, eager)


def test_a_backward_never_run_frees_the_call_when_its_outputs_go():
    model = chainrule.compile(tanh_net())
    for inputs in data(3):
        model(inputs).sum()  # a validation loss computed with grad mode on, never backpropagated
    node = model(data(1)[0]).grad_fn
    reference = weakref.ref(node)
    del node
    gc.collect()
    assert reference() is None
    model(data(1)[0]).sum().backward()  # replayed, not run eagerly
    assert model.eager_reason is None and len(model.recordings) == 1


def test_memory_stays_flat_over_many_compiled_steps():
    model = chainrule.compile(tanh_net())
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    inputs = data(1)[0]

    def step():
        optimizer.zero_grad()
        F.mse_loss(model(inputs), chainrule.zeros(6, 1)).backward()
        optimizer.step()

    for _ in range(20):
        step()
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(500):
        step()
    gc.collect()
    assert len(gc.get_objects()) - before < 50


def test_eval_under_no_grad_and_train_steps_each_keep_their_recording():
    chainrule.manual_seed(0)
    model = chainrule.compile(nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.2), nn.Linear(4, 1)))
    inputs = data(1)[0]
    for _ in range(2):
        model.train()
        model(inputs).sum().backward()
        model.eval()
        with chainrule.no_grad():
            model(inputs)
    assert model.eager_reason is None and sum(map(len, model.recordings.values())) == 2
